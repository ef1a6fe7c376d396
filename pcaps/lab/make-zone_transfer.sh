#!/usr/bin/env bash
# make-zone_transfer.sh -- pcaps/detect/zone_transfer/: AXFR/IXFR attempts (positives) and the sanctioned
# secondary's transfers + single ANY queries (negatives).
# Zones on the primary 10.20.0.10: example.com (signed; transfers only to 10.20.0.54) and example.net
# (transfers open to anyone = the misconfiguration the attacker exploits; dynamic, so IXFR has a journal).
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-zone_transfer.sh
O=$PCAPS_DIR/detect/zone_transfer
mkdir -p "$O"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
soa_serial() { nsx ws1 dig +short @10.20.0.10 "$1" SOA | awk '{print $3}'; }
upd_example_net() { # one dynamic update on the primary (over loopback inside dv-auth: not on the tap)
  nsx auth nsupdate <<UPD
server 127.0.0.1
zone example.net
update add $1.example.net. 3600 IN A $2
update delete ftp.example.net. A
send
UPD
}

# make a journal so IXFR from the old serial is incremental; let the secondary catch up (outside any capture)
OLD=$(soa_serial example.net)
upd_example_net ixfr-demo 10.20.5.201
for i in $(seq 1 50); do [ "$(nsx ws1 dig +short @10.20.0.54 example.net SOA | awk '{print $3}')" = "$(soa_serial example.net)" ] && break; sleep 0.2; done
log "example.net serial $OLD -> $(soa_serial example.net)"

one() { # file cmd-description expectation contents -- command...
  local f=$1 desc=$2 exp=$3 what=$4; shift 4
  cap_start "$O/$f"
  "$@"
  cap_stop
  cap_record "$O/$f" "$S" "$desc" "$what" "$exp"
}
POS="zone_transfer MUST alert"
one pos-axfr-outside-dig.pcap "atk: dig @10.20.0.10 example.net AXFR" "$POS (high: records streamed)" \
  "outside attacker 203.0.113.66 -> primary 10.20.0.10: AXFR example.net allowed, whole zone streamed over TCP" \
  x atk dig @10.20.0.10 example.net AXFR
one pos-axfr-outside-v6.pcap "atk: dig -6 @fd20::10 example.net AXFR" "$POS (high)" \
  "outside attacker 2001:db8:66::66 -> fd20::10: AXFR example.net over IPv6, allowed" \
  x atk dig -6 @fd20::10 example.net AXFR
one pos-axfr-outside-refused.pcap "atk: dig @10.20.0.10 example.com AXFR" "$POS (medium: REFUSED)" \
  "outside attacker 203.0.113.66 -> 10.20.0.10: AXFR example.com, answered REFUSED" \
  x atk dig @10.20.0.10 example.com AXFR
one pos-axfr-outside-kdig.pcap "atk: kdig @10.20.0.10 example.net AXFR" "$POS (high)" \
  "outside attacker 203.0.113.66 -> 10.20.0.10: kdig AXFR example.net, allowed" \
  x atk kdig @10.20.0.10 example.net AXFR
one pos-ixfr-tcp.pcap "atk: dig @10.20.0.10 example.net ixfr=$OLD" "$POS (high: incremental data)" \
  "outside attacker: IXFR over TCP from serial $OLD (the primary has a journal: incremental answer)" \
  x atk dig @10.20.0.10 example.net "ixfr=$OLD"
one pos-ixfr-udp.pcap "atk: dig +notcp @10.20.0.10 example.net ixfr=$OLD" "$POS (IXFR over UDP)" \
  "outside attacker: IXFR over UDP (qtype 251 in a UDP query; BIND answers over UDP with what fits)" \
  x atk dig +notcp @10.20.0.10 example.net "ixfr=$OLD"
one pos-nslookup-axfr.pcap "atk: nslookup -type=axfr example.net 10.20.0.10; nslookup -type=axfr example.com 10.20.0.10" "$POS" \
  "nslookup zone transfer attempts (BIND 9.18 nslookup has no 'ls -d'; -type=axfr is the supported form): example.net allowed, example.com refused" \
  bash -c "nsx() { ip netns exec ${NSP}\$1 \"\${@:2}\"; }; nsx atk nslookup -type=axfr example.net 10.20.0.10 >/dev/null 2>&1; nsx atk nslookup -type=axfr example.com 10.20.0.10 >/dev/null 2>&1; true"
one pos-fierce.pcap "atk: fierce --domain example.net --dns-servers 10.20.0.10" "$POS (high)" \
  "fierce from the outside attacker: NS + SOA lookups, AXFR of example.net from the SOA MNAME (succeeds, fierce stops there)" \
  x atk fierce --domain example.net --dns-servers 10.20.0.10
one pos-dnsrecon-axfr.pcap "atk: dnsrecon -d example.net -t axfr -n 10.20.0.10" "$POS (high)" \
  "dnsrecon -t axfr: NS/SOA lookups then AXFR of example.net against each name server: 10.20.0.10 allowed, 10.20.0.54 (secondary, allow-transfer none) REFUSED" \
  x atk dnsrecon -d example.net -t axfr -n 10.20.0.10
one pos-insider-axfr.pcap "ws1: dig @10.20.0.10 example.net AXFR; dig @10.20.0.10 example.com AXFR" "$POS (insider: 10.20.1.10 is internal but not a secondary)" \
  "workstation 10.20.1.10 transfers example.net (allowed) and tries example.com (REFUSED)" \
  bash -c "ip netns exec ${NSP}ws1 dig @10.20.0.10 example.net AXFR >/dev/null; ip netns exec ${NSP}ws1 dig @10.20.0.10 example.com AXFR >/dev/null; true"

# ---- negatives
neg_secondary() {
  rndc_in res2 retransfer example.com >/dev/null
  sleep 3
  upd_example_net notify-demo 10.20.5.202
  sleep 3
  rndc_in res2 retransfer example.net >/dev/null
  sleep 2
}
one neg-secondary-xfr.pcap "res2: rndc retransfer example.com; nsupdate on the primary (NOTIFY -> SOA -> IXFR); rndc retransfer example.net" \
  "zone_transfer must NOT alert (10.20.0.54 is the configured secondary)" \
  "sanctioned secondary 10.20.0.54 (BIND) replicating from primary 10.20.0.10: AXFR of signed example.com, NOTIFY from the primary after a dynamic update, SOA refresh query, IXFR of example.net, then a forced AXFR of example.net" \
  neg_secondary
one neg-single-any.pcap "ws1: dig +notcp ANY example.com @10.20.0.10; atk: dig ANY example.com @10.20.0.10 (dig uses TCP for ANY); ws1: nslookup -type=any example.com" \
  "zone_transfer must NOT alert (one ANY per client is common)" \
  "single ANY queries from a workstation (UDP, and via nslookup through the resolver) and from the outside attacker (TCP)" \
  bash -c "ip netns exec ${NSP}ws1 dig +notcp +bufsize=4096 ANY example.com @10.20.0.10 >/dev/null; ip netns exec ${NSP}atk dig ANY example.com @10.20.0.10 >/dev/null; ip netns exec ${NSP}ws3 nslookup -type=any example.net >/dev/null; true"
log "zone_transfer done"
