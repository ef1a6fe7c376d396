#!/usr/bin/env bash
# make-answer_change.sh -- pcaps/detect/answer_change/: answers for names of a monitored zone that change after the
# sensor has learned them. Zone: example.org (unsigned, static primary on auth 10.20.0.10 / fd20::10, secondary on
# res2 10.20.0.54 = ns2.example.org; res1 reaches it through a stub zone, see lib.sh). An edit is a rewrite of the
# zone file in the lab's temp dir (template lab/zones/auth/example.org.zone + sed edits, serial = served serial + 1)
# followed by `rndc reload example.org` on auth; auth NOTIFYs res2, which transfers the new version (SOA query +
# AXFR over TCP: on the wire, inside the capture); then res1's cache is flushed and its stub zone refreshed.
# Every capture starts from the original zone (restored, reloaded, flushed before the capture starts) and has a
# learning phase of 10 lookup rounds 5 s apart (~50 s), then the edit, then 5 more rounds (~25 s). A round is, from
# ws1 (10.20.1.10): dig @10.20.0.53 (recursive, via res1) and dig +norecurse @10.20.0.10 (authoritative, AA=1) for
# example.org NS, example.org MX, www A, www AAAA, ns1 A, intranet A, mail A.
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-answer_change.sh
O=$PCAPS_DIR/detect/answer_change
mkdir -p "$O"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
POS="answer_change MUST alert"
NEG="answer_change must NOT alert"
ZT=$LAB_DIR/zones/auth/example.org.zone   # the original zone (template)
ZL=$LAB_TMP/auth/example.org.zone         # the file auth serves

serial_of() { # ns : serial of example.org served on that namespace's loopback (not on the wire)
  nsx "$1" dig +short +norec +time=1 +tries=1 @127.0.0.1 example.org SOA 2>/dev/null | awk '{print $3}'
}
# org_edit [sed-expression...] : serve the original zone + the edits with a bumped serial; reload, wait for the
# secondary (res2), flush res1 and refresh its stub zone. Every expression must change the zone (checked).
org_edit() {
  local new e i args=() n
  new=$(( $(serial_of auth) + 1 ))
  sed -E "s/ 2024060101 / $new /" "$ZT" >"$ZL.new"
  for e in "$@"; do
    sed -E -e "$e" "$ZL.new" >"$ZL.tmp"
    cmp -s "$ZL.new" "$ZL.tmp" && die "zone edit did not change anything: $e"
    mv "$ZL.tmp" "$ZL.new"
  done
  mv "$ZL.new" "$ZL"
  rndc_in auth reload example.org >/dev/null
  for i in $(seq 1 100); do [ "$(serial_of auth)" = "$new" ] && break; sleep 0.1; done
  [ "$(serial_of auth)" = "$new" ] || die "auth did not load example.org serial $new"
  for i in $(seq 1 150); do [ "$(serial_of res2)" = "$new" ] && break; sleep 0.1; done   # NOTIFY -> transfer
  if [ "$(serial_of res2)" != "$new" ]; then
    rndc_in res2 refresh example.org >/dev/null 2>&1 || true
    for i in $(seq 1 100); do [ "$(serial_of res2)" = "$new" ] && break; sleep 0.1; done
  fi
  [ "$(serial_of res2)" = "$new" ] || die "res2 did not transfer example.org serial $new"
  rndc_in res1 refresh example.org >/dev/null 2>&1 || true     # stub zone: new NS set / glue
  for i in $(seq 1 100); do
    rndc_in res1 zonestatus example.org 2>/dev/null | grep -q "serial: $new" && break; sleep 0.1; done
  rndc_in res1 flush >/dev/null
  log "example.org serial $new served by auth and res2; res1 flushed ($# edits)"
}

QUERIES=("example.org NS" "example.org MX" "www.example.org A" "www.example.org AAAA" "ns1.example.org A"
         "intranet.example.org A" "mail.example.org A")
# rounds N [extra "name type"...] : N lookup rounds, 5 s apart (the last one is followed by no sleep)
rounds() {
  local n=$1 r q; shift
  for r in $(seq 1 "$n"); do
    for q in "${QUERIES[@]}" "$@"; do
      # shellcheck disable=SC2086
      x ws1 dig +tries=1 +time=2 @10.20.0.53 $q; x ws1 dig +tries=1 +time=2 +norecurse @10.20.0.10 $q
    done
    [ "$r" = "$n" ] || sleep 5
  done
}
RCMD="ws1, every 5 s: dig @10.20.0.53 and dig +norecurse @10.20.0.10 for example.org NS, example.org MX, www.example.org A+AAAA, ns1/intranet/mail.example.org A"

# the attacker's name server for the hijack: ns1.example.org's new address 203.0.113.53 (extra address on atk,
# outside) serving the same hijacked copy of example.org, so res1 gets answers wherever it sends its queries. (In the
# recorded capture res1 kept asking auth over IPv6 after the change, so this server got no query.)
start_attacker_ns() {
  local D=$LAB_TMP/atk-ns; mkdir -p "$D/keys"
  nsx atk ip addr add 203.0.113.53/32 dev eth0
  cp "$ZL" "$D/example.org.zone"
  { named_common "$D" 203.0.113.53 none
    echo '  recursion no;'
    echo '};'
    echo 'zone "example.org" { type primary; file "example.org.zone"; };'
  } >"$D/named.conf"
  bg_start named-atk-ns atk named -c "$D/named.conf" -g -n 1
  wait_dns atk 203.0.113.53 example.org
}
stop_attacker_ns() { bg_stop named-atk-ns; nsx atk ip addr del 203.0.113.53/32 dev eth0 2>/dev/null || true; }

# ---- positive: Sea Turtle-style hijack, all in one reload
HIJACK=('s/^(@\s+NS\s+)ns2\.example\.org\./\1ns1.attacker-dns.net./'
        's/^(ns1\s+A\s+)10\.20\.0\.10$/\1203.0.113.53/'
        '/^ns1\s+AAAA\s+fd20::10$/d'
        's/^(www\s+A\s+)198\.51\.100\.80$/\1203.0.113.80/'
        's/^(@\s+MX\s+)10 mail\.example\.org\./\110 mx.attacker-mail.net./')
org_edit
cap_start "$O/pos-ns-hijack.pcap"
rounds 10
org_edit "${HIJACK[@]}"
start_attacker_ns
rounds 5
cap_stop
stop_attacker_ns
cap_record "$O/pos-ns-hijack.pcap" "$S" "$RCMD; 10 rounds, then one reload of example.org (NS ns2.example.org -> ns1.attacker-dns.net., ns1.example.org A 10.20.0.10 -> 203.0.113.53 and its AAAA fd20::10 removed, www A 198.51.100.80 -> 203.0.113.80, MX 10 mail.example.org. -> 10 mx.attacker-mail.net.; rndc reload, res2 transfers after NOTIFY, rndc flush + stub refresh on res1; BIND on atk 203.0.113.53 serves the same hijacked copy), then 5 rounds" \
  "learning ~50 s: res1 10.20.0.53 and AA=1 answers of auth 10.20.0.10 for example.org (NS ns1+ns2.example.org with glue 10.20.0.10/fd20::10/10.20.0.54, MX mail.example.org, www 198.51.100.80/2001:db8:51::80, intranet 198.51.100.81, mail 198.51.100.25); then the hijacked data from both (after its flush and stub refresh res1 still sends its example.org queries to auth, over IPv6 fd20::53 -> fd20::10 (BIND keeps using that address although ns1's AAAA was removed); the attacker's server 203.0.113.53 started on atk is never asked, so no packet to or from 203.0.113.53 is in the capture; res1's lookup of ns1.attacker-dns.net gets NXDOMAIN from the root 2001:503:ba3e::2:30); NOTIFY + SOA + AXFR auth -> res2 after the reload" \
  "$POS (zone example.org: new NS target ns1.attacker-dns.net, new glue/A 203.0.113.53 for ns1.example.org, new A 203.0.113.80 for www.example.org, new MX mx.attacker-mail.net; several changes -> high severity)"

# ---- positive: only the TTL of www (A and AAAA) lowered 3600 -> 60
org_edit
cap_start "$O/pos-ttl-lowered.pcap"
rounds 10
org_edit 's/^(www\s+)(A|AAAA)(\s)/\1 60 \2\3/'
rounds 5
cap_stop
cap_record "$O/pos-ttl-lowered.pcap" "$S" "$RCMD; 10 rounds, then a reload in which only www.example.org A and AAAA get TTL 60 instead of the zone's 3600 (serial bump; res1 flushed), then 5 rounds" \
  "www.example.org answered with TTL 3600 (AA=1 from 10.20.0.10, counting down from res1's cache), then TTL 60 in the authoritative answers (and from res1); values unchanged" \
  "$POS (ttl_drop: www.example.org A and AAAA, authoritative TTL 3600 -> 60)"

# ---- positive: a public name suddenly resolving to an internal address
org_edit
cap_start "$O/pos-public-to-internal.pcap"
rounds 10
org_edit 's/^(intranet\s+A\s+)198\.51\.100\.81$/\110.20.9.9/'
rounds 5
cap_stop
cap_record "$O/pos-public-to-internal.pcap" "$S" "$RCMD; 10 rounds, then a reload changing intranet.example.org A 198.51.100.81 -> 10.20.9.9 (res1 flushed), then 5 rounds" \
  "intranet.example.org learned as 198.51.100.81 (public-looking, TEST-NET-2), then answered as 10.20.9.9 (RFC 1918) by auth (AA=1) and res1" \
  "$POS (intranet.example.org A: learned addresses all public, now internal 10.20.9.9; also a new A value)"

# ---- negative: the same lookups, nothing changes
org_edit
cap_start "$O/neg-stable.pcap"
rounds 14
cap_stop
cap_record "$O/neg-stable.pcap" "$S" "$RCMD; 14 rounds (~70 s), no zone change" \
  "the learned answers repeated for ~70 s: authoritative TTL 3600 every time, res1's cached TTLs counting down from 3600" \
  "$NEG (no change; cache TTL countdown is not a TTL drop)"

# ---- negative: a new name added, nothing existing changed
org_edit
cap_start "$O/neg-new-host.pcap"
rounds 10
org_edit '$ a shop       A     198.51.100.90'
rounds 5 "shop.example.org A"
cap_stop
cap_record "$O/neg-new-host.pcap" "$S" "$RCMD; 10 rounds, then a reload that only adds shop.example.org A 198.51.100.90 (res1 flushed), then 5 rounds that also look up shop.example.org A" \
  "learning as above; after the reload every existing name answers as before, and the new name shop.example.org answers 198.51.100.90 (first seen after the edit)" \
  "$NEG (a new name is not a changed answer)"

org_edit   # leave the original data behind for whatever runs next on a shared lab
log "answer_change done"
