#!/usr/bin/env bash
# make-benign.sh -- pcaps/detect/benign/: traffic on which no detector should alert. Full tap view (no host
# filter): clients -> sanctioned resolvers and the resolvers' upstream recursion.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-benign.sh
O=$PCAPS_DIR/detect/benign
mkdir -p "$O"
NEG="no detector may alert"

# ---- one workstation's ordinary lookups (~60 s)
client_plan ws1-ordinary 60 4 >"$LAB_TMP/ws1.plan"
rndc_in res1 flush >/dev/null 2>&1 || true
cap_start "$O/ordinary-workstation.pcap"
run_plan ws1 10.20.0.53 "$LAB_TMP/ws1.plan"
cap_stop
cap_record "$O/ordinary-workstation.pcap" "$S" "ws1: replay of client_plan('ws1-ordinary', 60 s, mean gap 4 s) with dig @10.20.0.53 (lib.sh client_plan/run_plan)" \
  "workstation 10.20.1.10: a few dozen common names (internal + popular outside), A+AAAA and sometimes HTTPS, in small bursts; resolver upstream included" "$NEG"

# ---- CDN-style long names at a normal rate
cdn() {
  local n
  for n in e3130.dscg.akamaiedge.net e28578.d.akamaiedge.net e6858.dsce9.akamaiedge.net a767.dspw65.akamai.net.akamaized.net \
           d1g6tzcf2qf8x3.cloudfront.net dxxxx1a2b3c4d5.cloudfront.net d2q9y8r7s6t5u4.cloudfront.net \
           prod-cdn-0f1e2d3c4b5a6978.azureedge.net az416426.vo.msecnd.net.azureedge.net \
           j.sni.global.fastly.net 151.101.1.69.fastly.net \
           www-microsoft-com.akamaized.net update-windows-com.akamaized.net; do
    nsx ws4 dig +tries=1 +time=2 "$n" A >/dev/null 2>&1 || true
    nsx ws4 dig +tries=1 +time=2 "$n" AAAA >/dev/null 2>&1 || true
    sleep 2
  done
}
cap_start "$O/cdn-long-names.pcap"
cdn
cap_stop
cap_record "$O/cdn-long-names.pcap" "$S" "ws4: dig A+AAAA for 13 CDN-style names via 10.20.0.53, 2 s apart" \
  "workstation 10.20.1.13 resolving akamaiedge/cloudfront/azureedge/fastly/akamaized names with long hex-like labels at a normal rate" "$NEG"

# ---- a busy resolver: 4 clients in parallel for ~90 s, cold cache
client_plan busy-ws1 90 3 >"$LAB_TMP/b1.plan"
client_plan busy-ws3 90 4 >"$LAB_TMP/b3.plan"
client_plan busy-ws4 90 5 >"$LAB_TMP/b4.plan"
mail_loop() {
  local d
  for d in contoso.com fabrikam.com microsoft.com github.com google.com example.com adatum.com proseware.com; do
    nsx mail dig +tries=1 +time=2 @10.20.0.53 "$d" MX >/dev/null 2>&1 || true
    nsx mail dig +tries=1 +time=2 @10.20.0.53 "$d" TXT >/dev/null 2>&1 || true
    nsx mail dig +tries=1 +time=2 @10.20.0.53 "_dmarc.$d" TXT >/dev/null 2>&1 || true
    sleep 10
  done
}
rndc_in res1 flush >/dev/null 2>&1 || true
cap_start "$O/busy-resolver.pcap"
pids=()
run_plan ws1 10.20.0.53 "$LAB_TMP/b1.plan" & pids+=($!)
run_plan ws3 10.20.0.53 "$LAB_TMP/b3.plan" & pids+=($!)
run_plan ws4 10.20.0.53 "$LAB_TMP/b4.plan" & pids+=($!)
mail_loop & pids+=($!)
wait "${pids[@]}"
cap_stop
cap_record "$O/busy-resolver.pcap" "$S" "in parallel for ~90 s: ws1/ws3/ws4 replay client_plan('busy-wsN') via 10.20.0.53; mail: MX/TXT/_dmarc for 8 domains every 10 s (cold cache)" \
  "a busy sanctioned resolver 10.20.0.53: 3 workstations + the mail server 10.20.1.25, and the resolver's iterative upstream traffic to 198.41.0.4, 198.51.100.10 and 10.20.0.10 (mostly over IPv6 from fd20::53)" \
  "$NEG (mail server needs the mail-server role for recon_sweep)"
log "benign done"
