#!/usr/bin/env bash
# make-beaconing.sh [all|fg|jitter] -- pcaps/detect/beaconing/ (real time: ~4 min for fg, ~30 min for jitter).
# Beaconing client: ws2 10.20.1.11 (reserved for these captures; every other capture excludes it).
# Browsing negative: ws3 10.20.1.12. Through the sanctioned resolver 10.20.0.53 (the jitter beacon: 10.20.0.54). Captures use the filter
# "host <client>" (the client's access port), so the resolver's occasional upstream refreshes are not included.
. "$(dirname "$0")/lib.sh"
CAP_EXCLUDE=""
MODE=${1:-all}
lab_up
S=lab/make-beaconing.sh
O=$PCAPS_DIR/detect/beaconing
mkdir -p "$O"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
POS="beaconing MUST alert"
WS2="host 10.20.1.11 or host fd20::1:11"

if [ "$MODE" = all ] || [ "$MODE" = fg ]; then
  # ---- same name every 5 s, 10 times
  cap_start "$O/pos-5s-same-name.pcap" "$WS2"
  for i in $(seq 1 10); do x ws2 dig check.beacon.badexample.io A; [ "$i" = 10 ] || sleep 5; done
  cap_stop
  cap_record "$O/pos-5s-same-name.pcap" "$S" "ws2: 10 x 'dig check.beacon.badexample.io A' via 10.20.0.53, sleep 5 between" \
    "10 identical A lookups at 5.0 s intervals (~45 s)" "$POS (client 10.20.1.11, qname check.beacon.badexample.io)"

  # ---- Atomic T1071.004 test 2: nslookup every 5 s, name = COMPUTERNAME + random value under beacon.
  prng_names beacon-seed 10 alnum30 | cut -c1-8 >"$LAB_TMP/beacon.rand"
  cap_start "$O/pos-atomic-nslookup-5s.pcap" "$WS2"
  i=0
  while read -r r; do
    i=$((i+1)); x ws2 nslookup "WS02-$r.beacon.badexample.io"; [ "$i" = 10 ] || sleep 5
  done <"$LAB_TMP/beacon.rand"
  cap_stop
  cap_record "$O/pos-atomic-nslookup-5s.pcap" "$S" "ws2: 10 x 'nslookup WS02-<8 random chars, seeded>.beacon.badexample.io', sleep 5 between (system resolver 10.20.0.53)" \
    "Atomic test 2: nslookup (A then AAAA) every 5 s, each name = computer name + random value under beacon.badexample.io" \
    "$POS (per (client, registered domain badexample.io) timing)"

  # ---- negative: a person browsing: irregular lookups of many names over ~3 min (ws3)
  /usr/bin/python3 - >"$LAB_TMP/browse.plan" <<'PY'
import random
r = random.Random("browse-seed")
sites = ["www.example.com","mail.example.com","intranet.example.com","wiki.example.com","jira.example.com",
 "confluence.example.com","portal.example.com","sso.example.com","files.example.com","teams.example.com",
 "www.microsoft.com","login.live.com","outlook.office.com","www.office.com","www.google.com","www.gstatic.com",
 "fonts.googleapis.com","www.github.com","api.github.com","avatars.github.com","slack.com","app.slack.com",
 "www.wikipedia.org","en.wikipedia.org","upload.wikipedia.org","stackoverflow.com","cdn.stackoverflow.com",
 "www.python.org","docs.python.org","debian.org","www.debian.org","www.bbc.co.uk","news.bbc.co.uk",
 "www.linkedin.com","static.linkedin.com","www.youtube.com","i.youtube.com","www.amazon.com","images.amazon.com",
 "www.apple.com","zoom.us","us02web.zoom.us","www.cloudflare.com","e4518.dscx.akamaiedge.net",
 "d1a2b3c4d5e6f7.cloudfront.net","www.contoso.com","www.fabrikam.com","helpdesk.example.com","crm.example.com"]
t = 0.0
gap = 0.0
while t < 170:
    page = r.choice(sites)
    burst = [page] + r.sample(sites, r.randint(0, 4))
    for i, n in enumerate(burst):
        print(f"{gap if i == 0 else 0.05:.2f} {n}")   # seconds to sleep before this lookup
    gap = r.expovariate(1/9.0) + 0.3
    t += gap
PY
  cap_start "$O/neg-browsing.pcap" "host 10.20.1.12 or host fd20::1:12"
  while read -r w n; do
    sleep "$w"; x ws3 dig "$n" A; x ws3 dig "$n" AAAA
  done <"$LAB_TMP/browse.plan"
  cap_stop
  cap_record "$O/neg-browsing.pcap" "$S" "ws3: replay of a seeded random browsing plan (python random.Random('browse-seed')): bursts of 1-5 names (A+AAAA) separated by exponential gaps (mean 9 s) for ~170 s" \
    "workstation 10.20.1.12 browsing normally: ~50 different names, irregular timing, some names repeated at random" \
    "beaconing must NOT alert"
fi

if [ "$MODE" = all ] || [ "$MODE" = jitter ]; then
  # ---- 60 s beacon with 0-50 % jitter (Cobalt-Strike style: sleep = 60 * (1 - U(0, 0.5))), 42 beacons:
  # a jittered beacon must hold its regularity over two overlapping windows of 23 intervals
  # (36 lookups) before the rule reports it (docs/detectors.md, beaconing)
  /usr/bin/python3 -c 'import random; r=random.Random("jitter-seed"); print(" ".join("%.1f" % (60*(1-r.uniform(0,0.5))) for _ in range(41)))' >"$LAB_TMP/jitter.plan"
  # via the second sanctioned resolver 10.20.0.54, whose cache no other script flushes: after the priming query
  # (TTL 86400) the beacon causes no upstream traffic that could leak into captures running in parallel
  x ws2 dig @10.20.0.54 update.badexample.io A
  cap_start "$O/pos-60s-jitter.pcap" "$WS2"
  x ws2 dig @10.20.0.54 update.badexample.io A
  for s in $(cat "$LAB_TMP/jitter.plan"); do sleep "$s"; x ws2 dig @10.20.0.54 update.badexample.io A; done
  cap_stop
  cap_record "$O/pos-60s-jitter.pcap" "$S" "ws2: dig @10.20.0.54 update.badexample.io A, 42 times, sleeping 60*(1-U(0,0.5)) s between (seeded: $(cat "$LAB_TMP/jitter.plan"))" \
    "a 60 s C2 beacon with 0-50 % jitter: 42 identical A lookups over ~30 min" "$POS (client 10.20.1.11, qname update.badexample.io)"
fi
log "beaconing ($MODE) done"
