#!/usr/bin/env bash
# make-snaplen.sh -- pcaps/pipeline/snaplen-cut.pcap: answers cut by a short capture snap length.
# tcpdump on the tap with -s 150 (Ethernet 14 + IP + UDP leave 108 octets of DNS over IPv4, 88 over
# IPv6): the header and question of every message are captured, the records of the long answers
# are cut. Client ws1 (10.20.1.10 / fd20::1:10); servers: the authoritative 10.20.0.10 / fd20::10.
# TCP answers are cut too (their streams cannot be read: counted, not decoded).
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-snaplen.sh
O=$PCAPS_DIR/pipeline
mkdir -p "$O"
q() { nsx ws1 dig +tries=1 +time=3 "$@" >/dev/null 2>&1 || true; }

cap_start "$O/snaplen-cut.pcap" "host 10.20.1.10 or host fd20::1:10" rtr br-in -s 150
q @10.20.0.10 www.example.com A
q @10.20.0.10 example.com MX
q @10.20.0.10 example.com TXT
q @10.20.0.10 example.com DNSKEY
q @10.20.0.10 txt-multi.example.com TXT
q @fd20::10 example.com NS
q @fd20::10 example.com DNSKEY
q +tcp @10.20.0.10 example.com DNSKEY
cap_stop
cap_record "$O/snaplen-cut.pcap" "$S" "tcpdump -s 150 on the tap; ws1: dig @10.20.0.10 www.example.com A, example.com MX, TXT, DNSKEY, txt-multi.example.com TXT; dig @fd20::10 example.com NS, DNSKEY; dig +tcp @10.20.0.10 example.com DNSKEY" \
  "DNS over IPv4 and IPv6 captured with a 150-octet snap length: short messages whole, long answers cut after their question" \
  "every UDP message becomes an event; the cut ones are marked dns.capture_truncated with the records before the cut; the cut TCP segments are counted (ip_snaplen_cut), not decoded"
log "snaplen done"
