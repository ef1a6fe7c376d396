#!/usr/bin/env bash
# make-offport.sh -- DNS on ports that are not DNS ports (capture.dns_heuristic), in pcaps/detect/rogue_resolver/.
# A second BIND in the public-resolver namespace dv-pub serves plain DNS on 8.8.8.8 port 8053 (UDP and TCP),
# 1.1.1.1 port 443 (UDP: the "secure DNS" port some anti-virus products use) and 9.9.9.9 port 5353, forwarding
# to the lab's public resolver (127.0.0.1 in that namespace). Workstation ws1 (10.20.1.10) asks it with dig.
# The negative sends multicast DNS and LLMNR queries from ws1 to 224.0.0.251:5353 and 224.0.0.252:5355.
# Each capture is filtered to ws1 and the capture's ports, so other lab scripts running at the same time
# add nothing.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-offport.sh
O=$PCAPS_DIR/detect/rogue_resolver
mkdir -p "$O"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
POS="rogue_resolver MUST alert"
WS1=10.20.1.10

D=$LAB_TMP/offport
mkdir -p "$D"
cat >"$D/named.conf" <<EOF
options {
  directory "$D";
  pid-file "$D/named.pid";
  listen-on port 8053 { 8.8.8.8; };
  listen-on port 443 { 1.1.1.1; };
  listen-on port 5353 { 9.9.9.9; };
  listen-on-v6 { none; };
  recursion yes;
  allow-recursion { any; };
  forwarders { 127.0.0.1; };
  forward only;
  dnssec-validation no;
};
EOF
bg_start named-offport pub named -c "$D/named.conf" -g -n 1
trap 'bg_stop named-offport; [ "${LAB_OWNER:-0}" = 1 ] && lab_down' EXIT
for _ in $(seq 1 50); do nsx pub dig +time=1 +tries=1 -p 8053 @8.8.8.8 . NS >/dev/null 2>&1 && break; sleep 0.2; done

CAP_BASE='port 8053' cap_start "$O/pos-offport-8053.pcap" "host $WS1"
x ws1 dig -p 8053 @8.8.8.8 www.github.com
x ws1 dig -p 8053 @8.8.8.8 www.wikipedia.org AAAA
x ws1 dig +tcp -p 8053 @8.8.8.8 slack.com
cap_stop
cap_record "$O/pos-offport-8053.pcap" "$S" "ws1: dig -p 8053 @8.8.8.8 www.github.com; dig -p 8053 @8.8.8.8 www.wikipedia.org AAAA; dig +tcp -p 8053 @8.8.8.8 slack.com" \
  "workstation 10.20.1.10 uses a resolver on port 8053 (BIND on 8.8.8.8:8053), over UDP and TCP: DNS on a port that is not a DNS port" \
  "$POS (client 10.20.1.10, server 8.8.8.8, port 8053; events marked dnsvigil.off_port)"

CAP_BASE='port 443' cap_start "$O/pos-offport-udp443.pcap" "host $WS1"
x ws1 dig -p 443 @1.1.1.1 www.microsoft.com
x ws1 dig -p 443 @1.1.1.1 update.example.org
cap_stop
cap_record "$O/pos-offport-udp443.pcap" "$S" "ws1: dig -p 443 @1.1.1.1 www.microsoft.com; dig -p 443 @1.1.1.1 update.example.org" \
  "workstation 10.20.1.10 sends plain DNS over UDP port 443 to 1.1.1.1 (the port some anti-virus 'secure DNS' products use)" \
  "$POS (client 10.20.1.10, server 1.1.1.1, port 443)"

CAP_BASE='port 5353' cap_start "$O/pos-offport-5353.pcap" "host $WS1"
x ws1 dig -p 5353 @9.9.9.9 www.example.com
x ws1 dig -p 5353 @9.9.9.9 mail.google.com
cap_stop
cap_record "$O/pos-offport-5353.pcap" "$S" "ws1: dig -p 5353 @9.9.9.9 www.example.com; dig -p 5353 @9.9.9.9 mail.google.com" \
  "workstation 10.20.1.10 asks a resolver outside the network on port 5353 (unicast, not multicast DNS)" \
  "$POS (client 10.20.1.10, server 9.9.9.9, port 5353)"

# ws1 has no multicast route of its own: the link's, for these queries only.
nsx ws1 ip route replace 224.0.0.0/4 dev eth0
CAP_BASE='port 5353 or port 5355' cap_start "$O/neg-offport-mdns-llmnr.pcap" "host $WS1 or multicast"
x ws1 dig +time=1 +tries=1 -p 5353 @224.0.0.251 printer.local
x ws1 dig +time=1 +tries=1 -p 5353 @224.0.0.251 _ipp._tcp.local PTR
x ws1 dig +time=1 +tries=1 -p 5355 @224.0.0.252 fileserver
cap_stop
nsx ws1 ip route del 224.0.0.0/4 dev eth0
cap_record "$O/neg-offport-mdns-llmnr.pcap" "$S" "ws1: dig -p 5353 @224.0.0.251 printer.local; dig -p 5353 @224.0.0.251 _ipp._tcp.local PTR; dig -p 5355 @224.0.0.252 fileserver" \
  "multicast DNS and LLMNR queries from 10.20.1.10 (local name resolution on the link, shaped like DNS)" \
  "rogue_resolver must NOT alert (multicast is no resolver)"
log "offport done"
