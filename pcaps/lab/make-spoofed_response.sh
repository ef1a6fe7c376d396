#!/usr/bin/env bash
# make-spoofed_response.sh -- pcaps/detect/spoofed_response/: forged DNS responses on the real lab wire. The forger is
# lab/forge.py (scapy) running inside a lab namespace: on the inside segment in ws3 (10.20.1.12), which sees every
# frame of the hub bridge br-in (promiscuous AF_PACKET socket) and injects its frames through its own eth0 (Ethernet
# source = ws3's MAC 02:00:0a:14:01:0c, IP source spoofed); for the reflection capture in atk (203.0.113.66, outside
# segment, not captured), sending spoofed-source queries through a raw IP socket.
# Delaying the real answer: this kernel has no sch_netem (tc: "Specified qdisc kind is unknown"), so the real
# resolver's answer is delayed by pausing its named process (SIGSTOP, then SIGCONT after D seconds; `paused_query`):
# the query waits in named's socket buffer, named answers as soon as it runs again. On the wire this is the same as
# a slow server. res1's cache is warmed from its own loopback before each capture (not captured), so its answers
# do not need recursion and come right after the pause.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-spoofed_response.sh
O=$PCAPS_DIR/detect/spoofed_response
mkdir -p "$O"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
POS="spoofed_response MUST alert"
NEG="spoofed_response must NOT alert"
FORGE=(/usr/bin/python3 "$LAB_DIR/forge.py")
DIGLOG=$LAB_TMP/logs/spoofed-digs.log

NAMES="www.example.com mail.example.com vpn.example.com intranet.example.com www.microsoft.com"
OTHER="www.github.com slack.com"
warm() { local n; for n in $NAMES $OTHER example.com; do
  for t in A AAAA NS MX; do nsx res1 dig +tries=1 @127.0.0.1 "$n" "$t" >/dev/null 2>&1 || true; done; done; }
# paused_query D client dig-args... : res1's named is stopped for D seconds while the client's query is sent
paused_query() {
  local d=$1 c=$2 p dp; shift 2
  p=$(cat "$LAB_TMP/pids/named-res1.pid")
  kill -STOP "$p"
  { echo "== $c: $*"; nsx "$c" "$@"; } >>"$DIGLOG" 2>&1 & dp=$!
  sleep "$d"
  kill -CONT "$p"
  wait "$dp" || true
}
forger() { # tag ns args... : start forge.py in the background; wait until it sniffs
  local tag=$1 ns=$2 i; shift 2
  bg_start "$tag" "$ns" "${FORGE[@]}" "$@"
  for i in $(seq 1 100); do grep -q sniffing "$LAB_TMP/logs/$tag.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
}

# ---- positive: on-path race, forged answer first, real answer ~150 ms later
warm
forger forge-race ws3 race --client 10.20.1.10 --server 10.20.0.53 --answer 203.0.113.99 \
  --names "${NAMES// /,}" --seconds 40
cap_start "$O/pos-race-forged-answer.pcap"
for n in $NAMES; do
  paused_query 0.15 ws1 dig +tries=1 +time=2 @10.20.0.53 "$n" A; sleep 1
done
for n in $OTHER; do x ws1 dig @10.20.0.53 "$n" A; sleep 1; done
cap_stop
bg_stop forge-race
cp "$LAB_TMP/logs/forge-race.log" "$LAB_TMP/logs/forge-race.keep"
cap_record "$O/pos-race-forged-answer.pcap" "$S" "ws3: forge.py race --client 10.20.1.10 --server 10.20.0.53 --answer 203.0.113.99 --names <5 names> (scapy sniffs br-in frames, injects at once); ws1: dig @10.20.0.53 A for www/mail/vpn/intranet.example.com and www.microsoft.com, each while res1's named is paused 0.15 s (SIGSTOP/SIGCONT; no netem in this kernel), then 2 ordinary lookups (www.github.com, slack.com)" \
  "5 queries from 10.20.1.10 to 10.20.0.53, each answered twice: first a forged response from '10.20.0.53' (sent by ws3, Ethernet source ws3's MAC 02:00:0a:14:01:0c) with the right id, ports and question, A 203.0.113.99, TTL 300, no EDNS, ~3 ms after the query; then res1's real answer (~150 ms, real A, EDNS). dig takes the forged one. 2 ordinary lookups answered once" \
  "$POS (conflicting_answers: client 10.20.1.10, server 10.20.0.53, 5 queries with two different answers, forged 203.0.113.99)"

# ---- positive: txid guessing (port known, id not), real answer ~500 ms later
forger forge-txid ws3 txid --client 10.20.1.10 --server 10.20.0.53 --answer 203.0.113.99 --count 80 --seconds 40 \
  --seed txid-seed
cap_start "$O/pos-txid-guessing.pcap"
for n in www.example.com mail.example.com vpn.example.com intranet.example.com www.microsoft.com; do
  paused_query 0.5 ws1 dig +tries=1 +time=3 @10.20.0.53 "$n" A; sleep 1
done
cap_stop
bg_stop forge-txid
cp "$LAB_TMP/logs/forge-txid.log" "$LAB_TMP/logs/forge-txid.keep"
cap_record "$O/pos-txid-guessing.pcap" "$S" "ws3: forge.py txid --client 10.20.1.10 --server 10.20.0.53 --answer 203.0.113.99 --count 80 --seed txid-seed (uses only the sniffed source port; ids random, never the real one); ws1: dig @10.20.0.53 A for 5 names, each while res1's named is paused 0.5 s" \
  "5 queries from 10.20.1.10 to 10.20.0.53; for each, 80 forged responses from '10.20.0.53':53 to the query's source port with random wrong transaction ids (same question, A 203.0.113.99) within a few ms, then res1's real answer with the right id ~500 ms later (dig prints 'ID mismatch' for the forged ones and accepts the real one)" \
  "$POS (txid_mismatch: 400 responses with wrong ids toward client 10.20.1.10 from server 10.20.0.53, 80 per query port)"

# ---- positive: right id/ports/question, wrong source address (the real answer also arrives, 0.2 s later)
forger forge-wrongsrc ws3 wrongsrc --client 10.20.1.10 --server 10.20.0.53 --from 10.20.0.99 --answer 203.0.113.99 \
  --names "${NAMES// /,}" --seconds 40
cap_start "$O/pos-wrong-source.pcap"
for n in $NAMES; do
  paused_query 0.2 ws1 dig +tries=1 +time=2 @10.20.0.53 "$n" A; sleep 1
done
cap_stop
bg_stop forge-wrongsrc
cp "$LAB_TMP/logs/forge-wrongsrc.log" "$LAB_TMP/logs/forge-wrongsrc.keep"
cap_record "$O/pos-wrong-source.pcap" "$S" "ws3: forge.py wrongsrc --client 10.20.1.10 --server 10.20.0.53 --from 10.20.0.99 --answer 203.0.113.99; ws1: dig @10.20.0.53 A for 5 names, each while res1's named is paused 0.2 s" \
  "5 queries from 10.20.1.10 to 10.20.0.53; each is answered first by a response from 10.20.0.99:53 (no such host; sent by ws3) with the right id, ports and question and A 203.0.113.99, then by res1's real answer from 10.20.0.53 ~200 ms later (ws1's kernel drops the forged one, dig's UDP socket being connected to 10.20.0.53; dig takes the real answer)" \
  "$POS (wrong_source: responses to 10.20.1.10's queries to 10.20.0.53 from 10.20.0.99)"

# ---- positive: reflection toward ws4: spoofed-source queries sent from the outside attacker
REFL_Q="example.com/TXT,example.net/ANY,example.com/ANY"
cap_start "$O/pos-reflection.pcap"
bg_start forge-reflect atk "${FORGE[@]}" reflect --victim 10.20.1.13 --targets 8.8.8.8,1.1.1.1,9.9.9.9,10.20.0.10 \
  --weights 3,3,3,1 --queries 2000 --seconds 10 --qspec "$REFL_Q" --seed reflect-seed
while [ -f "$LAB_TMP/pids/forge-reflect.pid" ] && kill -0 "$(cat "$LAB_TMP/pids/forge-reflect.pid")" 2>/dev/null; do
  sleep 0.5; done
rm -f "$LAB_TMP/pids/forge-reflect.pid"
sleep 2
cap_stop
cap_record "$O/pos-reflection.pcap" "$S" "atk (outside, not on br-in): forge.py reflect --victim 10.20.1.13 --targets 8.8.8.8,1.1.1.1,9.9.9.9,10.20.0.10 --weights 3,3,3,1 --queries 2000 --seconds 10 --qspec $REFL_Q (raw IP socket, source 10.20.1.13, random ports and ids, EDNS 4096)" \
  "1793 responses from the public resolvers 8.8.8.8 (592)/1.1.1.1 (590)/9.9.9.9 (611) to 10.20.1.13 (example.com TXT: 4 answers; example.net ANY: 6 answers; example.com ANY: TC=1 without answers, as it exceeds pub's 1232-byte UDP limit; their queries went atk -> pub on the outside segment and are not in the capture; pub's own recursion to auth 10.20.0.10 is), plus 207 spoofed queries '10.20.1.13' -> 10.20.0.10 (routed in from the outside: Ethernet source = router 02:00:0a:14:ff:fe) and auth's 207 responses to 10.20.1.13 (example.com ANY ~2.1 kB in 2 IP fragments, TXT ~1 kB, example.net ANY). 10.20.1.13 itself sends no DNS query" \
  "$POS (reflection: unsolicited response flood toward 10.20.1.13 from 8.8.8.8, 1.1.1.1, 9.9.9.9 and 10.20.0.10)"

# ---- negative: slow server, client retransmissions, the server answers every copy (same answers)
warm
cap_start "$O/neg-retransmits.pcap"
for n in "www.example.com A" "example.com NS" "example.com MX" "www.microsoft.com A" "mail.example.com A"; do
  # shellcheck disable=SC2086
  paused_query 1.2 ws1 dig +tries=3 +timeout=1 @10.20.0.53 $n; sleep 1
done
for n in www.example.com vpn.example.com www.github.com; do   # glibc stub: retransmits on the same socket/id
  paused_query 1.2 ws3 env RES_OPTIONS="timeout:1 attempts:3" getent ahostsv4 "$n"; sleep 1
done
# shellcheck disable=SC2086
paused_query 1.2 ws3 kdig +retry=2 +timeout=1 @10.20.0.53 example.com NS
cap_stop
cap_record "$O/neg-retransmits.pcap" "$S" "ws1: dig +tries=3 +timeout=1 @10.20.0.53 for www.example.com A, example.com NS/MX, www.microsoft.com A, mail.example.com A; ws3: RES_OPTIONS='timeout:1 attempts:3' getent ahostsv4 for 3 names (glibc, system resolver 10.20.0.53) and kdig +retry=2 +timeout=1 example.com NS; res1's named paused 1.2 s for every lookup" \
  "the client times out after 1 s and retransmits (dig/kdig: same id, new source port; glibc: same id, same port); res1 then answers both copies with the same data (NS/MX record order may differ); some responses reach a port the client already closed" \
  "$NEG (duplicate responses, identical answers)"

# ---- negative: ordinary lookups through both resolvers
cap_start "$O/neg-ordinary.pcap"
client_plan spoof-neg-ws1 30 3 >"$LAB_TMP/plan-ws1"
client_plan spoof-neg-ws3 30 3 >"$LAB_TMP/plan-ws3"
run_plan ws1 10.20.0.53 "$LAB_TMP/plan-ws1" & P1=$!
run_plan ws3 10.20.0.54 "$LAB_TMP/plan-ws3" & P3=$!
wait $P1 $P3
cap_stop
cap_record "$O/neg-ordinary.pcap" "$S" "client_plan (seeds spoof-neg-ws1 / spoof-neg-ws3, 30 s, mean gap 3 s) replayed with dig: ws1 via 10.20.0.53, ws3 via 10.20.0.54, in parallel" \
  "ordinary browsing-like lookups by 10.20.1.10 and 10.20.1.12 through both sanctioned resolvers for ~30 s, with the resolvers' own recursion" \
  "$NEG"
log "spoofed_response done"
