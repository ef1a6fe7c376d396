#!/usr/bin/env bash
# make-zero_config.sh [capture...] -- pcaps/detect/zero_config/: sites and hosts that use public resolvers directly.
# Captures (default: all): only-public two-public deviation
#   neg-only-public-resolver.pcap  4 workstations whose only resolver is 8.8.8.8 (no internal resolver on the wire)
#   neg-two-public-resolvers.pcap  4 workstations with 8.8.8.8 + 1.1.1.1 (glibc rotate, or failover to the second)
#   pos-deviation.pcap             6 workstations browse through 10.20.0.53; one of them also asks 9.9.9.9 directly
# The public resolvers' own recursion runs on the outside segment (not captured). The browsing plans are lib.sh's
# client_plan without the names hosted on the internal 10.20.0.10 (a site without internal DNS has none); they are
# replayed with glibc (getent ahosts: A+AAAA from the resolv.conf servers) where resolv.conf behaviour matters.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-zero_config.sh
O=$PCAPS_DIR/detect/zero_config
mkdir -p "$O"
ONLY="$*"
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
resolv() { local n=$1; shift; mkdir -p "/etc/netns/$NSP$n"; printf '%s\n' "$@" >"/etc/netns/$NSP$n/resolv.conf"; }
public_plan() { client_plan "$@" | grep -Ev '(\.example|contoso|fabrikam)\.com ' || true; }   # names hosted on 10.20.0.10 left out
# run_glibc client plan : replays a plan with glibc's resolver (getent ahosts = getaddrinfo AF_UNSPEC: A + AAAA)
run_glibc() {
  local c=$1 w n q
  while read -r w n q; do
    [ "$q" = A ] || continue
    sleep "$w"; nsx "$c" getent ahosts "$n" >/dev/null 2>&1 || true
  done <"$2"
}
SECS=${ZC_SECS:-150}

# ---- negative: the only resolver is 8.8.8.8
if want only-public; then
  for ws in ws30 ws31 ws32 ws33; do resolv "$ws" "nameserver 8.8.8.8"; public_plan "zc-only-$ws" "$SECS" 4 >"$LAB_TMP/zc-$ws.plan"; done
  cap_start "$O/neg-only-public-resolver.pcap"
  ( run_glibc ws30 "$LAB_TMP/zc-ws30.plan" & run_glibc ws31 "$LAB_TMP/zc-ws31.plan" &
    run_plan ws32 8.8.8.8 "$LAB_TMP/zc-ws32.plan" & run_plan ws33 8.8.8.8 "$LAB_TMP/zc-ws33.plan" & wait )
  cap_stop
  for ws in ws30 ws31 ws32 ws33; do resolv "$ws" "nameserver 10.20.0.53"; done
  cap_record "$O/neg-only-public-resolver.pcap" "$S" "ws30..ws33 (10.20.8.30-33), resolv.conf 'nameserver 8.8.8.8' only; ${SECS} s in parallel: ws30/ws31 replay client_plan(zc-only-wsNN, mean gap 4 s, without the names hosted on 10.20.0.10: *.example.com, www.contoso.com, www.fabrikam.com) with getent ahosts (glibc), ws32/ws33 with dig @8.8.8.8" \
    "4 workstations of a site without internal DNS, every query to 8.8.8.8 (A+AAAA, some HTTPS), answers from the outside; no internal resolver anywhere on the wire" \
    "zero_config must NOT alert (the public resolver is the site's only resolver from the start); no detector may alert"
fi

# ---- negative: two public resolvers, glibc rotate / failover
if want two-public; then
  resolv ws34 "nameserver 8.8.8.8" "nameserver 1.1.1.1" "options rotate"
  resolv ws35 "nameserver 8.8.8.8" "nameserver 1.1.1.1" "options rotate"
  resolv ws36 "nameserver 1.1.1.1" "nameserver 8.8.8.8" "options rotate"
  resolv ws37 "nameserver 8.8.8.8" "nameserver 1.1.1.1" "options timeout:1 attempts:2"
  for ws in ws34 ws35 ws36 ws37; do public_plan "zc-two-$ws" "$SECS" 4 >"$LAB_TMP/zc-$ws.plan"; done
  cap_start "$O/neg-two-public-resolvers.pcap"
  ( for ws in ws34 ws35 ws36 ws37; do run_glibc "$ws" "$LAB_TMP/zc-$ws.plan" & done
    # ws37's primary becomes unreachable for 50 s half-way (its route to 8.8.8.8 is blackholed): glibc fails over
    sleep $(( SECS / 2 - 25 )); nsx ws37 ip route replace blackhole 8.8.8.8/32
    sleep 50; nsx ws37 ip route replace 8.8.8.8/32 via "$RTR_IN4"
    wait )
  cap_stop
  for ws in ws34 ws35 ws36 ws37; do resolv "$ws" "nameserver 10.20.0.53"; done
  cap_record "$O/neg-two-public-resolvers.pcap" "$S" "ws34..ws37 (10.20.8.34-37), ${SECS} s, client_plan(zc-two-wsNN, without the names hosted on 10.20.0.10: *.example.com, www.contoso.com, www.fabrikam.com) replayed with getent ahosts (glibc); resolv.conf: ws34/ws35 'nameserver 8.8.8.8, nameserver 1.1.1.1, options rotate', ws36 '1.1.1.1, 8.8.8.8, options rotate', ws37 '8.8.8.8, 1.1.1.1, options timeout:1 attempts:2' with 'ip route replace blackhole 8.8.8.8/32' for 50 s half-way (glibc fails over to 1.1.1.1, then back)" \
    "4 workstations using two public resolvers: with rotate each lookup starts at a random one of 8.8.8.8/1.1.1.1; ws37 uses 8.8.8.8 and, while it is unreachable, 1.1.1.1; no internal resolver on the wire" \
    "zero_config must NOT alert (two public resolvers used side by side from the start); no detector may alert"
fi

# ---- positive: browsing through the sanctioned resolver, one host also queries 9.9.9.9 directly
if want deviation; then
  for ws in ws10 ws11 ws12 ws13 ws14 ws15; do client_plan "zc-dev-$ws" "$SECS" 4 >"$LAB_TMP/zc-$ws.plan"; done
  cap_start "$O/pos-deviation.pcap"
  ( for ws in ws10 ws11 ws12 ws13 ws14 ws15; do run_plan "$ws" 10.20.0.53 "$LAB_TMP/zc-$ws.plan" & done
    ( sleep 40; for n in www.google.com www.github.com slack.com www.wikipedia.org stackoverflow.com www.python.org \
                         www.youtube.com zoom.us www.amazon.com www.bbc.co.uk login.live.com www.cloudflare.com; do
        nsx ws15 dig +tries=1 +time=2 @9.9.9.9 "$n" A >/dev/null 2>&1 || true; sleep 6; done ) &
    wait )
  cap_stop
  cap_record "$O/pos-deviation.pcap" "$S" "ws10..ws15 (10.20.8.10-15): client_plan(zc-dev-wsNN, ${SECS} s, mean gap 4 s) replayed with dig @10.20.0.53 in parallel; from t=40 s ws15 also sends 12 'dig @9.9.9.9 <popular name> A', 6 s apart" \
    "6 workstations browsing through the sanctioned resolver 10.20.0.53 (with its recursion), and one of them (10.20.8.15) also querying the public resolver 9.9.9.9 directly for 12 names" \
    "zero_config MUST alert (10.20.8.15 deviates from the site's resolver 10.20.0.53 to 9.9.9.9)"
fi
log "zero_config done"
