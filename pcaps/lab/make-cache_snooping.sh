#!/usr/bin/env bash
# make-cache_snooping.sh -- pcaps/detect/cache_snooping/: DNS cache snooping, i.e. non-recursive (RD=0) queries from a
# client to a sanctioned recursive resolver. The resolver answers RD=0 from its cache only (BIND: cached answer, or a
# referral / empty answer when the name is not cached), which tells the asker what the organisation's users resolved.
# Users' ordinary recursive lookups warm the cache first, inside the capture, so the snooping finds real cache hits.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-cache_snooping.sh
O=$PCAPS_DIR/detect/cache_snooping
mkdir -p "$O"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
POS="cache_snooping MUST alert"
NEG="cache_snooping must NOT alert"
flush_all() { rndc_in res1 flush >/dev/null 2>&1 || true; }  # res2 is never flushed (see make-beaconing.sh)

# names users visit (cached by their lookups) and names an attacker probes (half of them cached)
USED="www.microsoft.com login.live.com outlook.office.com www.github.com slack.com zoom.us www.google.com"
PROBE="www.microsoft.com login.live.com outlook.office.com www.github.com slack.com zoom.us www.google.com
       www.contoso.com www.fabrikam.com stackoverflow.com www.python.org debian.org www.bbc.co.uk www.apple.com"
users() { local n; for n in $USED; do x ws1 dig @10.20.0.53 "$n" A; x ws3 dig @10.20.0.53 "$n" AAAA; done; }

# ---- positive: dig +norecurse against the sanctioned resolver 10.20.0.53 (IPv4)
flush_all
cap_start "$O/pos-dig-norecurse.pcap"
users
sleep 1
for n in $PROBE; do x ws4 dig +norecurse @10.20.0.53 "$n" A; sleep 0.3; done
cap_stop
cap_record "$O/pos-dig-norecurse.pcap" "$S" "ws1/ws3: dig @10.20.0.53 A/AAAA for 7 popular names (recursive, warms the cache); then ws4: dig +norecurse @10.20.0.53 for 14 names, 0.3 s apart" \
  "workstation 10.20.1.13 snoops the cache of sanctioned resolver 10.20.0.53 with RD=0 queries: 7 names answered from cache, 7 not cached (referral/empty answer); users' lookups and the resolver's upstream recursion included" \
  "$POS (client 10.20.1.13, resolver 10.20.0.53, 14 distinct RD=0 names, cache hits > 0)"

# ---- positive: kdig +norecurse over IPv6 against the second resolver fd20::54 (never flushed, warm it here)
cap_start "$O/pos-kdig-norecurse-ipv6.pcap"
for n in $USED; do x ws1 dig -6 @fd20::54 "$n" A; done
sleep 1
for n in $PROBE; do x ws4 kdig +norecurse @fd20::54 "$n" AAAA; sleep 0.3; done
cap_stop
cap_record "$O/pos-kdig-norecurse-ipv6.pcap" "$S" "ws1: dig -6 @fd20::54 A for 7 names; ws4: kdig +norecurse @fd20::54 AAAA for 14 names, 0.3 s apart" \
  "IPv6 client fd20::1:13 snooping sanctioned resolver fd20::54 (also secondary for example.com) with knot's kdig" \
  "$POS (IPv6, client fd20::1:13, resolver fd20::54)"

# ---- negative: the same users with ordinary recursive lookups only (RD=1), resolver upstream (RD=0) included
flush_all
cap_start "$O/neg-recursive-lookups.pcap"
users
for n in $PROBE; do x ws4 dig @10.20.0.53 "$n" A; x ws4 dig @10.20.0.54 "$n" AAAA; done
cap_stop
cap_record "$O/neg-recursive-lookups.pcap" "$S" "ws1/ws3: dig @10.20.0.53 for 7 names; ws4: dig @10.20.0.53 A + @10.20.0.54 AAAA for the 14 probe names (recursion desired)" \
  "ordinary recursive lookups of the same names from cold cache: the resolvers' own iterative queries to root, outside and internal authoritative servers have RD=0" \
  "$NEG (RD=1 from clients; RD=0 only from the resolvers themselves)"

# ---- negative: non-recursive queries to the authoritative-only server, and to a resolver for the zones it serves
cap_start "$O/neg-authoritative-norecurse.pcap"
for n in www mail intranet wiki jira confluence portal sso files teams vpn git; do
  x ws4 dig +norecurse @10.20.0.10 "$n.example.com" A; sleep 0.2
done
for n in www mail intranet wiki jira confluence portal sso files teams vpn git; do
  x ws4 dig +norecurse @10.20.0.54 "$n.example.com" A; sleep 0.2
done
cap_stop
cap_record "$O/neg-authoritative-norecurse.pcap" "$S" "ws4: dig +norecurse @10.20.0.10 for 12 example.com names; then dig +norecurse @10.20.0.54 for the same 12 names" \
  "RD=0 queries to the authoritative-only server 10.20.0.10 (BIND, recursion no), then to resolver+secondary 10.20.0.54 for names of example.com, a monitored zone it serves itself (authoritative answers, AA=1, not its cache)" \
  "$NEG (not a resolver; monitored zone served by the resolver)"

# ---- negative: an administrator's occasional check (below the threshold)
cap_start "$O/neg-admin-check.pcap"
users
for n in www.microsoft.com slack.com www.github.com; do x ws4 dig +norecurse @10.20.0.53 "$n" A; sleep 1; done
cap_stop
cap_record "$O/neg-admin-check.pcap" "$S" "ws1/ws3: dig @10.20.0.53 for 7 names; ws4: dig +norecurse @10.20.0.53 for 3 names, 1 s apart" \
  "an administrator checking whether 3 names are cached (RD=0), well below the 10 distinct names of the threshold" \
  "$NEG (3 distinct names < distinct_names 10)"
log "cache_snooping done"
