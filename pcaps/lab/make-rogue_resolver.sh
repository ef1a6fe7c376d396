#!/usr/bin/env bash
# make-rogue_resolver.sh -- pcaps/detect/rogue_resolver/: internal clients using non-sanctioned resolvers.
# 8.8.8.8, 1.1.1.1, 9.9.9.9 (+ their IPv6 addresses) are a BIND recursive server in namespace dv-pub on the
# lab's outside segment (public addresses assigned inside a private namespace). It recurses via the lab root
# 198.41.0.4; that outside<->outside traffic is not on the tap, but its queries to our authoritative 10.20.0.10
# (when a client asks it about example.com) are, exactly as on a real network.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-rogue_resolver.sh
O=$PCAPS_DIR/detect/rogue_resolver
mkdir -p "$O"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
POS="rogue_resolver MUST alert"
flush_all() { rndc_in res1 flush >/dev/null 2>&1 || true; rndc_in pub flush >/dev/null 2>&1 || true; }  # res2 is never flushed (see make-beaconing.sh)

flush_all
cap_start "$O/pos-8888.pcap"
x ws1 dig @8.8.8.8 microsoft.com
x ws1 nslookup example.com 8.8.8.8
cap_stop
cap_record "$O/pos-8888.pcap" "$S" "ws1: dig @8.8.8.8 microsoft.com; nslookup example.com 8.8.8.8" \
  "workstation 10.20.1.10 queries 8.8.8.8 directly (Atomic T1584.002 test 2); 8.8.8.8's own recursion to the internal authoritative 10.20.0.10 for example.com is also visible" \
  "$POS (client 10.20.1.10, server 8.8.8.8); 8.8.8.8 -> 10.20.0.10 must not count as rogue use (8.8.8.8 is not internal)"

flush_all
cap_start "$O/pos-multi-resolvers.pcap"
x ws1 nslookup example.com 8.8.8.8
x ws1 nslookup example.com 1.1.1.1
x ws1 nslookup example.com 9.9.9.9
cap_stop
cap_record "$O/pos-multi-resolvers.pcap" "$S" "ws1: nslookup example.com 8.8.8.8; ... 1.1.1.1; ... 9.9.9.9" \
  "workstation 10.20.1.10 asks three non-sanctioned resolvers for example.com (Atomic T1584.002 test 4)" \
  "$POS: 3 (client, server) pairs, aggregated as one client using many resolvers"

flush_all
switch() {
  local n i=0
  for n in www.example.com mail.example.com intranet.example.com www.microsoft.com www.github.com wiki.example.com \
           slack.com www.google.com jira.example.com outlook.office.com; do
    x ws1 dig @10.20.0.53 "$n" A; x ws1 dig @10.20.0.53 "$n" AAAA; sleep 1
  done
  for n in www.example.com www.microsoft.com www.github.com slack.com www.google.com vpn.example.com; do
    x ws1 dig @9.9.9.9 "$n" A; x ws1 dig @9.9.9.9 "$n" AAAA; sleep 1
  done
}
cap_start "$O/pos-switch-to-9999.pcap"
switch
cap_stop
cap_record "$O/pos-switch-to-9999.pcap" "$S" "ws1: 10 names (A+AAAA) via @10.20.0.53 one per second, then 6 names via @9.9.9.9" \
  "workstation 10.20.1.10 uses the sanctioned resolver for ~10 s, then switches to 9.9.9.9 (wire analogue of the seed's NameServer registry change); resolver upstream traffic included" \
  "$POS (client 10.20.1.10 -> 9.9.9.9, 'switched resolver' evidence)"

cap_start "$O/pos-tcp53-1111.pcap"
x ws1 dig +tcp @1.1.1.1 www.github.com
x ws1 dig +tcp @1.1.1.1 www.wikipedia.org AAAA
x ws1 kdig +tcp @1.1.1.1 slack.com
cap_stop
cap_record "$O/pos-tcp53-1111.pcap" "$S" "ws1: dig +tcp @1.1.1.1 www.github.com; dig +tcp @1.1.1.1 www.wikipedia.org AAAA; kdig +tcp @1.1.1.1 slack.com" \
  "DNS over TCP/53 from 10.20.1.10 to 1.1.1.1" "$POS (TCP transport)"

flush_all
CAP_BASE='port 53 or port 853' cap_start "$O/pos-dot853-1111.pcap"
x ws1 dig +tls @1.1.1.1 www.github.com
x ws1 dig +tls @1.1.1.1 www.example.com
cap_stop
cap_record "$O/pos-dot853-1111.pcap" "$S" "ws1: dig +tls @1.1.1.1 www.github.com; dig +tls @1.1.1.1 www.example.com (BIND 'listen-on port 853 tls ephemeral'); capture filter 'port 53 or port 853'" \
  "DNS over TLS (TCP/853) from 10.20.1.10 to 1.1.1.1: TLS 1.3 records only, DNS content is encrypted; 1.1.1.1's plain-DNS recursion to 10.20.0.10 for example.com is visible" \
  "$POS (TCP 853 to a non-sanctioned server; no qnames available)"

flush_all
cap_start "$O/pos-ipv6-google.pcap"
x ws1 dig -6 @2001:4860:4860::8888 www.google.com AAAA
x ws1 dig -6 @2606:4700:4700::1111 www.github.com AAAA
cap_stop
cap_record "$O/pos-ipv6-google.pcap" "$S" "ws1: dig -6 @2001:4860:4860::8888 www.google.com AAAA; dig -6 @2606:4700:4700::1111 www.github.com AAAA" \
  "IPv6 client fd20::1:10 querying public resolvers' IPv6 addresses" "$POS (IPv6)"

# ---- negative: sanctioned resolvers recursing to outside authoritative servers while clients use them
flush_all
busy() {
  local n c i=0
  for n in www.microsoft.com www.github.com api.github.com www.google.com slack.com zoom.us www.wikipedia.org \
           www.contoso.com www.fabrikam.com stackoverflow.com www.python.org debian.org www.bbc.co.uk \
           login.live.com outlook.office.com e9999.a.akamaiedge.net d2abc3def4gh.cloudfront.net www.apple.com; do
    i=$((i+1))
    case $((i % 3)) in 0) c=ws1;; 1) c=ws3;; 2) c=ws4;; esac
    x $c dig @10.20.0.53 "$n" A; x $c dig @10.20.0.53 "$n" AAAA
    if [ $((i % 4)) = 0 ]; then x mail dig @10.20.0.54 "$n" MX; fi
  done
}
cap_start "$O/neg-resolver-upstream.pcap"
busy
cap_stop
cap_record "$O/neg-resolver-upstream.pcap" "$S" "ws1/ws3/ws4: dig @10.20.0.53 A+AAAA for 18 outside names (cold cache); mail: a few MX via @10.20.0.54" \
  "sanctioned resolvers 10.20.0.53 / 10.20.0.54 (and their IPv6 addresses fd20::53 / fd20::54) doing real iterative resolution: root 198.41.0.4 / 2001:503:ba3e::2:30, outside authoritative 198.51.100.10 / 2001:db8:51::10 (knotd) and internal authoritative 10.20.0.10" \
  "rogue_resolver must NOT alert (resolver upstream traffic; configure fd20::53/fd20::54 as resolvers too)"
log "rogue_resolver done"
