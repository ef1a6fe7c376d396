#!/usr/bin/env bash
# make-pipeline.sh -- packet-path conformance captures (pcaps/pipeline/*.pcap).
# Client: workstation ws1 (10.20.1.10 / fd20::1:10). Servers: authoritative 10.20.0.10 / fd20::10 (BIND,
# recursion off), sanctioned resolver 10.20.0.53 / fd20::53 (BIND recursive). Tap: br-in (hub) unless noted.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-pipeline.sh
O=$PCAPS_DIR/pipeline
mkdir -p "$O"

q()  { nsx ws1 dig +tries=1 +time=3 "$@" >/dev/null 2>&1 || true; }   # dig from ws1, output discarded
kq() { nsx ws1 kdig +retry=0 +time=3 "$@" >/dev/null 2>&1 || true; }
A4=@10.20.0.10 A6=@fd20::10 R4=@10.20.0.53 R6=@fd20::53

# ---------------------------------------------------------------- 1. udp4-mix
cap_start "$O/udp4-mix.pcap"
q $A4 www.example.com A
q $A4 www.example.com AAAA
q $A4 example.com MX
q $A4 example.com NS
q $A4 example.com SOA
q $A4 example.com TXT
q $A4 txt-multi.example.com TXT
q $A4 txt-bin.example.com TXT
q $A4 _sip._tls.example.com SRV
q $A4 _ldap._tcp.example.com SRV
q $A4 example.com CAA
q $A4 www.example.com HTTPS
q $A4 example.com HTTPS
q $A4 svc.example.com SVCB
q $A4 sip.example.com NAPTR
q $A4 enum.example.com NAPTR
q $A4 -x 10.20.2.80
q $A4 olddept.example.com DNAME
q $A4 www.olddept.example.com A
q $A4 null.example.com NULL
q $A4 _443._tcp.www.example.com TLSA
q $A4 bastion.example.com SSHFP
q $A4 oldbox.example.com HINFO
q $A4 hq.example.com LOC
q $A4 _http._tcp.example.com URI
q $A4 example.com RP
q $A4 autodiscover.example.com A
q $A4 nonexistent-host.example.com A
q $A4 mail2.example.com AAAA
q $A4 www.google.com A
q $A4 +nocookie www.example.com A
q $A4 +cookie=0123456789abcdef www.example.com A
q $A4 +noedns www.example.com A
q $A4 +subnet=10.20.1.0/24 www.example.com A
q $A4 +subnet=0.0.0.0/0 www.example.com A
q $A4 +nsid +expire example.com SOA
q $A4 +padding=128 www.example.com A
q $A4 +ednsopt=65001:deadbeef www.example.com A
q $A4 +edns=1 www.example.com A
q $A4 +opcode=status example.com SOA
q $A4 +adflag +cdflag www.example.com A
q $A4 +dnssec example.com DNSKEY
q $A4 +dnssec secure.example.com DS
q $A4 +dnssec www.secure.example.com A
q $A4 +dnssec secure.example.com NSEC3PARAM
q $A4 +dnssec nope.example.com A
q $A4 +dnssec nope.secure.example.com A
q $A4 +notcp +bufsize=4096 example.com ANY
q $A4 -c CH version.bind TXT
q $A4 -c CH hostname.bind TXT
q $A4 WwW.ExAmPlE.cOm A
q $A4 host_underscore.example.com A
q $A4 _dmarc.example.com TXT
q $A4 'a\032b.example.com' A
q $A4 'a\.dot.example.com' A
q $A4 xn--caf-dma.example.com A
q $A4 www.example.com TYPE65534
q $R4 www.contoso.com A
q $R4 www.microsoft.com A
q $R4 nxdomain-test.github.com TXT
q $R4 +norec www.example.com A
cap_stop
cap_record "$O/udp4-mix.pcap" "$S" "dig @10.20.0.10 / @10.20.0.53 from ws1 over UDP/IPv4: ~60 queries (see script)" \
  "A AAAA MX NS SOA TXT(multi-string, non-ASCII/escaped bytes) SRV CAA HTTPS SVCB NAPTR PTR DNAME(+synthesised CNAME) NULL TLSA SSHFP HINFO LOC URI RP; NXDOMAIN, NODATA, REFUSED (recursion off), NOTIMP (opcode STATUS), BADVERS (EDNS1); EDNS cookie/no cookie/no EDNS, ECS v4, NSID, EXPIRE, padding, unknown option; +dnssec DNSKEY/DS/RRSIG/NSEC/NSEC3; ANY; CHAOS version.bind/hostname.bind; mixed-case, underscore, escaped-space and escaped-dot labels, punycode, private qtype 65534; a few recursive lookups via 10.20.0.53 (its upstream, often IPv6, is in the capture)" \
  "parser conformance (diff vs tshark); no detector expectations"

# ---------------------------------------------------------------- 2. udp6-mix
cap_start "$O/udp6-mix.pcap"
q -6 $A6 www.example.com A
q -6 $A6 www.example.com AAAA
q -6 $A6 example.com MX
q -6 $A6 txt-bin.example.com TXT
q -6 $A6 _sip._tls.example.com SRV
q -6 $A6 www.example.com HTTPS
q -6 $A6 -x fd20::10
q -6 $A6 -x 10.20.1.25
q -6 $A6 nonexistent-host.example.com A
q -6 $A6 mail2.example.com AAAA
q -6 $A6 +subnet=fd20::/56 www.example.com AAAA
q -6 $A6 +dnssec example.com DNSKEY
q -6 $A6 +dnssec nope.secure.example.com A
q -6 $A6 -c CH version.bind TXT
q -6 $A6 WwW.ExAmPlE.cOm AAAA
q -6 $R6 www.github.com AAAA
q -6 $R6 www.contoso.co.uk A
cap_stop
cap_record "$O/udp6-mix.pcap" "$S" "dig -6 @fd20::10 / @fd20::53 from ws1 (fd20::1:10)" \
  "UDP/IPv6: A AAAA MX TXT(escaped bytes) SRV HTTPS PTR(ip6.arpa and in-addr.arpa) NXDOMAIN NODATA, ECS v6, +dnssec DNSKEY and NSEC3 denial, CHAOS, mixed case; 2 recursive lookups via fd20::53" \
  "parser conformance; no detector expectations"

# ---------------------------------------------------------------- 3. tcp-mix
cap_start "$O/tcp-mix.pcap"
q +tcp $A4 www.example.com A
q +tcp +keepopen $A4 www.example.com A mail.example.com A example.com MX example.com TXT _sip._tls.example.com SRV
kq +tcp +keepopen $A4 www.example.com A api.example.com A example.com NS nonexistent-host.example.com A
q +tcp +dnssec $A4 bigtxt.example.com TXT
q +tcp $A4 example.com ANY
q -6 +tcp $A6 www.example.com AAAA
q -6 +tcp +keepopen $A6 www.example.com AAAA vpn.example.com A example.com SOA
kq -6 +tcp +keepopen $A6 example.com DNSKEY +dnssec secure.example.com DS
q +tcp $R4 www.microsoft.com A
q -6 +tcp $R6 www.contoso.com A
cap_stop
cap_record "$O/tcp-mix.pcap" "$S" "dig +tcp [+keepopen] and kdig +tcp +keepopen with several queries, IPv4 and IPv6, from ws1" \
  "DNS over TCP/53: single-query connections, several queries on one connection (dig +keepopen, kdig +keepopen), a ~4 kB answer spanning several segments, ANY, IPv6; recursive via resolver over TCP" \
  "parser conformance (TCP reassembly, 2-byte length prefix, multiple messages per stream)"

# ---------------------------------------------------------------- 4. frag4 / frag6 (server path MTU 576 / 1280)
auth_linkmtu 576
cap_start "$O/frag4.pcap"
q +bufsize=4096 $A4 bigtxt.example.com TXT
q +bufsize=4096 +dnssec $A4 bigtxt.example.com TXT
q +bufsize=4096 +dnssec $A4 example.com DNSKEY
q +notcp +bufsize=4096 $A4 example.com ANY
q +bufsize=4096 $A4 www.example.com A
cap_stop
auth_linkmtu 1280
cap_start "$O/frag6.pcap"
q -6 +bufsize=4096 $A6 bigtxt.example.com TXT
q -6 +bufsize=4096 +dnssec $A6 bigtxt.example.com TXT
q -6 +notcp +bufsize=4096 $A6 example.com ANY
q -6 +bufsize=4096 $A6 www.example.com AAAA
cap_stop
auth_linkmtu 1500
cap_record "$O/frag4.pcap" "$S" "auth eth0 link MTU 576; dig +bufsize=4096 [+dnssec] @10.20.0.10 TXT bigtxt.example.com, DNSKEY, ANY" \
  "UDP/IPv4 responses of 2-4 kB split into IPv4 fragments (server max-udp-size 4096, path MTU 576), plus one small unfragmented answer" \
  "parser conformance (IPv4 reassembly)"
cap_record "$O/frag6.pcap" "$S" "auth eth0 link MTU 1280; dig -6 +bufsize=4096 [+dnssec] @fd20::10 TXT bigtxt.example.com, ANY" \
  "UDP/IPv6 responses of 2-4 kB carried in IPv6 Fragment extension headers (path MTU 1280)" \
  "parser conformance (IPv6 reassembly)"

# ---------------------------------------------------------------- 5. axfr-big (small MTU => many segments)
auth_mtu4 576
cap_start "$O/axfr-big.pcap"
q $A4 big.example.net AXFR
q $A4 example.com AXFR
cap_stop
auth_mtu4
cap_record "$O/axfr-big.pcap" "$S" "auth route MTU 576 (mtu lock); dig @10.20.0.10 AXFR big.example.net; dig @10.20.0.10 AXFR example.com (refused)" \
  "AXFR of big.example.net (3000 A + 300 AAAA + 120 TXT records, several DNS messages over hundreds of TCP segments, MSS 536) from ws1, then an AXFR of example.com refused (REFUSED) for ws1" \
  "parser conformance (long TCP stream); zone_transfer would alert (insider 10.20.1.10 not a secondary)"

# ---------------------------------------------------------------- 6. tc-retry
cap_start "$O/tc-retry.pcap"
q +bufsize=512 $A4 bigtxt.example.com TXT
q +notcp +noedns $A4 example.com ANY
q -6 +bufsize=512 $A6 bigtxt.example.com TXT
cap_stop
cap_record "$O/tc-retry.pcap" "$S" "dig +bufsize=512 / +noedns on large answers (dig retries over TCP automatically)" \
  "UDP answers with TC=1 followed by dig's automatic TCP retry of the same question (IPv4 twice, IPv6 once)" \
  "parser conformance (TC flag, UDP->TCP retry pairing)"

# ---------------------------------------------------------------- 7. any-sll / any-sll2 (tcpdump -i any on ws1)
for lt in LINUX_SLL LINUX_SLL2; do
  f=$O/any-sll.pcap; [ $lt = LINUX_SLL2 ] && f=$O/any-sll2.pcap
  cap_start "$f" "host 10.20.1.10 or host fd20::1:10 or host 127.0.0.1" ws1 any -y $lt
  q $R4 www.example.com A
  q $R4 www.example.com AAAA
  q -6 $R6 mail.example.com A
  q @127.0.0.1 www.example.com A   # nothing listens on ws1's loopback: ICMP not captured, query is
  q $A4 example.com MX
  cap_stop
  cap_record "$f" "$S" "tcpdump -i any -y $lt inside ws1's namespace; dig via 10.20.0.53 / fd20::53 / 10.20.0.10 / 127.0.0.1" \
    "a few lookups as seen by a host capture on 'any' (Linux cooked header $lt), including one query to 127.0.0.1 on lo that gets no answer" \
    "parser conformance (link type $lt)"
done

# ---------------------------------------------------------------- 8. vlan / qinq
# The lab kernel has no 802.1Q support (CONFIG_VLAN_8021Q not set, no act_vlan), so tags are added afterwards
# with tcprewrite (tcpreplay suite) to frames captured untagged on br-in.
cap_start "$LAB_TMP/untagged.pcap"
q $R4 www.example.com A
q $R4 www.github.com A
q -6 $R6 www.example.com AAAA
q $A4 example.com MX
q +tcp $A4 example.com SOA
cap_stop
tcprewrite --enet-vlan=add --enet-vlan-tag=100 --enet-vlan-pri=0 --enet-vlan-cfi=0 \
  -i "$LAB_TMP/untagged.pcap" -o "$O/vlan.pcap"
tcprewrite --enet-vlan=add --enet-vlan-proto=802.1ad --enet-vlan-tag=200 --enet-vlan-pri=0 --enet-vlan-cfi=0 \
  -i "$O/vlan.pcap" -o "$O/qinq.pcap"
cap_record "$O/vlan.pcap" "$S" "capture on br-in, then tcprewrite --enet-vlan=add --enet-vlan-tag=100" \
  "a few UDP/TCP, IPv4/IPv6 lookups with one 802.1Q tag (TPID 0x8100, VID 100)" "parser conformance (802.1Q)"
cap_record "$O/qinq.pcap" "$S" "vlan.pcap + tcprewrite --enet-vlan=add --enet-vlan-proto=802.1ad --enet-vlan-tag=200" \
  "same lookups with an outer 802.1ad tag (TPID 0x88a8, VID 200) and inner 802.1Q tag (VID 100)" "parser conformance (QinQ)"

# ---------------------------------------------------------------- 9. nslookup
cap_start "$O/nslookup.pcap"
nsx ws1 nslookup www.example.com >/dev/null 2>&1 || true
nsx ws1 nslookup -type=mx example.com >/dev/null 2>&1 || true
nsx ws1 nslookup -type=any example.com >/dev/null 2>&1 || true
nsx ws1 nslookup www.example.com 10.20.0.10 >/dev/null 2>&1 || true
nsx ws1 nslookup 10.20.1.25 >/dev/null 2>&1 || true
cap_stop
cap_record "$O/nslookup.pcap" "$S" "nslookup www.example.com; nslookup -type=mx example.com; nslookup -type=any example.com; nslookup www.example.com 10.20.0.10; nslookup 10.20.1.25 (from ws1, system resolver 10.20.0.53)" \
  "nslookup's query pattern (A then AAAA for a plain lookup, MX, ANY, PTR) via the sanctioned resolver and directly to the authoritative" \
  "parser conformance; single ANY must not trip zone_transfer"
log "pipeline done"
