#!/usr/bin/env bash
# make-resolver_switch.sh -- pcaps/detect/resolver_switch/: a workstation that has been resolving through the sanctioned
# resolvers (here: 16 queries over ~70 s, more than the rule's history of 10 queries over 1 min) switches to another
# DNS server. The switch target for the positives is inside the network: a rogue recursive BIND started for this
# script on workstation ws4 (10.20.1.13, "compromised host offering DNS"), and the internal authoritative server over
# IPv6. A switch to a public resolver is rogue_resolver's alert, so it is a negative here (and rogue_resolver's
# positive): one switch, one alert.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-resolver_switch.sh
O=$PCAPS_DIR/detect/resolver_switch
mkdir -p "$O"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
POS="resolver_switch MUST alert"
NEG="resolver_switch must NOT alert"
flush_all() { rndc_in res1 flush >/dev/null 2>&1 || true; }  # res2 is never flushed (see make-beaconing.sh)

# rogue recursive resolver on ws4 (own directory, root hints of the lab; stopped at the end of this script)
start_rogue() {
  local D=$LAB_TMP/rogue-ws4; mkdir -p "$D/keys"
  { named_common "$D" 10.20.1.13 fd20::1:13
    cat <<EOF
  recursion yes;
  allow-recursion { any; };
};
zone "." { type hint; file "$LAB_TMP/root.hints"; };
EOF
  } >"$D/named.conf"
  bg_start named-rogue ws4 named -c "$D/named.conf" -g -n 1
  wait_dns ws3 10.20.1.13 com
  rndc_in res1 flush >/dev/null 2>&1 || true
}
start_rogue

# history: ws3 resolves 8 names (A + AAAA) through a sanctioned resolver, one name every 10 s (~75 s)
history() { # server
  local n
  for n in www.example.com mail.example.com www.microsoft.com www.github.com slack.com intranet.example.com \
           www.google.com outlook.office.com; do
    x ws3 dig @"$1" "$n" A; x ws3 dig @"$1" "$n" AAAA; sleep 10
  done
}
switched() { # server [dig options]
  local n s=$1; shift
  for n in www.example.com www.microsoft.com www.github.com slack.com vpn.example.com; do
    x ws3 dig "$@" @"$s" "$n" A; sleep 1
  done
}

# ---- positive: switch to a rogue resolver on an internal host
flush_all
cap_start "$O/pos-switch-internal-rogue.pcap"
history 10.20.0.53
switched 10.20.1.13
cap_stop
cap_record "$O/pos-switch-internal-rogue.pcap" "$S" "ws3: dig @10.20.0.53 A+AAAA for 8 names, 10 s apart; then dig @10.20.1.13 for 5 names (BIND recursive started on ws4 by the script)" \
  "workstation 10.20.1.12 resolves through sanctioned resolver 10.20.0.53 for ~75 s, then switches to a rogue resolver on internal host 10.20.1.13, whose own recursion (root, outside and internal authoritative servers) is visible too" \
  "$POS (client 10.20.1.12 -> 10.20.1.13, switched_from 10.20.0.53); 10.20.1.13's own recursion has no sanctioned history and must not alert"

# ---- positive: IPv6, switch from fd20::53 to the internal authoritative server fd20::10
cap_start "$O/pos-switch-ipv6-authoritative.pcap"
history fd20::53
switched fd20::10 -6
cap_stop
cap_record "$O/pos-switch-ipv6-authoritative.pcap" "$S" "ws3: dig @fd20::53 A+AAAA for 8 names, 10 s apart; then dig -6 @fd20::10 for 5 names" \
  "IPv6 workstation fd20::1:12 resolves through sanctioned resolver fd20::53, then sends its queries to the internal authoritative-only server fd20::10 (answers for example.com, REFUSED for the rest)" \
  "$POS (client fd20::1:12 -> fd20::10, switched_from fd20::53)"

# ---- negative: a client using only the sanctioned resolvers (both, both families), resolvers' upstream included
flush_all
cap_start "$O/neg-sanctioned-only.pcap"
history 10.20.0.53 & H=$!; history fd20::54; wait $H   # not a bare wait: tcpdump and named are jobs too
x ws3 dig @10.20.0.54 www.python.org A; x ws3 dig -6 @fd20::53 debian.org A
cap_stop
cap_record "$O/neg-sanctioned-only.pcap" "$S" "ws3: dig @10.20.0.53 and, in parallel, @fd20::54 A+AAAA for 8 names, 10 s apart; then one query each to 10.20.0.54 and fd20::53" \
  "workstation 10.20.1.12 / fd20::1:12 alternating between the four sanctioned resolver addresses for ~75 s; the resolvers' own iterative queries to the root, the outside authoritative server and the internal authoritative 10.20.0.10 / fd20::10 (an internal server that is not a resolver)" \
  "$NEG (sanctioned resolvers only; resolver upstream traffic)"

# ---- negative: switch to a public resolver: rogue_resolver's alert (with switched_from), not this rule's
flush_all
cap_start "$O/neg-switch-external.pcap"
history 10.20.0.53
switched 9.9.9.9
cap_stop
cap_record "$O/neg-switch-external.pcap" "$S" "ws3: dig @10.20.0.53 A+AAAA for 8 names, 10 s apart; then dig @9.9.9.9 for 5 names" \
  "workstation 10.20.1.12 with an established history switches to public resolver 9.9.9.9" \
  "$NEG (rogue_resolver alerts with switched_from 10.20.0.53; one switch, one alert)"

# ---- negative: no established history (3 queries) before the internal server
flush_all
cap_start "$O/neg-no-history.pcap"
for n in www.example.com www.github.com slack.com; do x ws3 dig @10.20.0.53 "$n" A; sleep 1; done
switched 10.20.1.13
cap_stop
cap_record "$O/neg-no-history.pcap" "$S" "ws3: dig @10.20.0.53 for 3 names, 1 s apart; then dig @10.20.1.13 for 5 names" \
  "workstation 10.20.1.12 uses the rogue internal resolver 10.20.1.13 after only 3 sanctioned queries in 3 s (no established history: standing use, rogue_resolver.private_servers' job)" \
  "$NEG (history below 10 queries over 1 min)"

bg_stop named-rogue
log "resolver_switch done"
