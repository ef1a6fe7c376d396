#!/usr/bin/env bash
# make-edge.sh [capture...] -- edge cases added with the precision lab, in the existing detector folders:
#   tunneling/pos-iodine-handshake.pcap                 iodine started and stopped right after its handshake
#   spoofed_response/pos-reflection-open-resolvers.pcap  reflection from ~300 open resolvers, one-way (responses only)
#   spoofed_response/neg-span-duplicates.pcap           ordinary traffic seen twice, as a SPAN of ingress+egress shows it
# Captures (default: all): iodine reflection span
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-edge.sh
ONLY="$*"
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# ---- tunneling: iodine handshake only (client 10.20.1.10 -> 10.20.0.53 -> iodined 198.51.100.53, as make-tunneling.sh)
if want iodine; then
  O=$PCAPS_DIR/detect/tunneling
  bg_start iodined-hs tun iodined -f -c -l 198.51.100.53 -P labpass 172.30.0.1/27 t1.badexample.org
  for i in $(seq 1 50); do nsx tun ip -br addr show dns0 2>/dev/null | grep -q 172.30.0.1 && break; sleep 0.2; done
  cap_start "$O/pos-iodine-handshake.pcap"
  bg_start iodine-hs ws1 iodine -f -P labpass -r 10.20.0.53 t1.badexample.org
  for i in $(seq 1 300); do   # stop the client as soon as the tunnel is up (handshake done), before any data
    grep -q 'Connection setup complete' "$LAB_TMP/logs/iodine-hs.log" 2>/dev/null && break; sleep 0.05; done
  bg_stop iodine-hs
  sleep 4
  cap_stop
  bg_stop iodined-hs
  sleep 6   # the resolver gives up on queries still in flight to iodined before the next capture
  cap_record "$O/pos-iodine-handshake.pcap" "$S" "tun: iodined -f -c -l 198.51.100.53 -P labpass 172.30.0.1/27 t1.badexample.org; ws1: iodine -f -P labpass -r 10.20.0.53 t1.badexample.org, stopped (SIGTERM) as soon as it logs 'Connection setup complete'" \
    "only iodine's handshake through the resolver: version check, login, IP/raw-mode check, EDNS0/case and encoding (Base32/64/128) probes, downstream codec selection, fragment-size probing (NULL queries with non-printable labels), no tunnelled data" \
    "tunneling MUST alert (registered domain badexample.org; iodine's handshake alone)"
fi

# ---- spoofed_response: reflection from hundreds of open resolvers, capture holds only the responses
if want reflection; then
  O=$PCAPS_DIR/detect/spoofed_response
  D=$LAB_TMP/refl; mkdir -p "$D/keys"
  # 300 addresses in 100.64.0.0/10, spread over 300 different /24s (deterministic)
  /usr/bin/python3 - >"$D/addrs" <<'PY'
for k in range(300):   # second octet k % 64, third octet distinct for equal second octets: 300 different /24s
    print("100.%d.%d.%d" % (64 + k % 64, (k * 53 + 11 + (k // 64) * 17) % 256, 1 + (k * 97) % 254))
PY
  sed 's|.*|addr add &/32 dev eth0|' "$D/addrs" | nsx refl ip -batch -
  { named_common "$D" "100.64.0.0/10" "none"
    cat <<EOF
  recursion yes;
  allow-recursion { any; };
  max-udp-size 4096;
  edns-udp-size 4096;
  minimal-responses no;
  version "9.11.4-open";
};
zone "." { type hint; file "$LAB_TMP/root.hints"; };
EOF
  } >"$D/named.conf"
  bg_start named-refl refl named -c "$D/named.conf" -g -n 2
  for i in $(seq 1 100); do nsx refl dig +short +time=1 +tries=1 @"$(head -1 "$D/addrs")" com SOA 2>/dev/null | grep -q . && break; sleep 0.2; done
  for q in "example.com ANY" "example.com TXT" "example.com DNSKEY" "example.net ANY"; do   # warm the shared cache (outside)
    # shellcheck disable=SC2086
    nsx refl dig +notcp +tries=1 @"$(head -1 "$D/addrs")" $q >/dev/null 2>&1 || true; done
  CAP_BASE='src port 53 or ip[6:2] & 0x1fff != 0' cap_start "$O/pos-reflection-open-resolvers.pcap" "dst host 10.20.1.13"
  bg_start forge-refl2 atk /usr/bin/python3 "$LAB_DIR/forge.py" reflect --victim 10.20.1.13 --targets "$(paste -sd, "$D/addrs")" \
    --queries 750 --seconds 15 --qspec "example.com/ANY,example.com/TXT,example.com/DNSKEY,example.net/ANY" --seed reflect-open-seed
  while [ -f "$LAB_TMP/pids/forge-refl2.pid" ] && kill -0 "$(cat "$LAB_TMP/pids/forge-refl2.pid")" 2>/dev/null; do sleep 0.5; done
  rm -f "$LAB_TMP/pids/forge-refl2.pid"
  sleep 2
  cap_stop
  bg_stop named-refl
  sed 's|.*|addr del &/32 dev eth0|' "$D/addrs" | nsx refl ip -batch - 2>/dev/null || true
  cap_record "$O/pos-reflection-open-resolvers.pcap" "$S" "refl (outside): one BIND 9 named listening on 300 addresses of 100.64.0.0/10 (each in its own /24), recursion for anyone, max-udp-size 4096, cache warmed; atk: forge.py reflect --victim 10.20.1.13 --targets <the 300 addresses> --queries 750 --seconds 15 --qspec example.com/ANY,example.com/TXT,example.com/DNSKEY,example.net/ANY --seed reflect-open-seed (spoofed source 10.20.1.13, EDNS 4096); capture filter 'dst host 10.20.1.13 and (src port 53 or non-first IP fragments)'" \
    "a one-way view of a reflection/amplification flood: ~750 large DNS responses (ANY/TXT/DNSKEY of example.com, ANY of example.net; up to ~3 kB, IP-fragmented) to 10.20.1.13 from ~300 distinct 'open resolvers' within 15 s; the victim sent no query, and the capture holds no query at all (the spoofed queries went atk -> refl on the outside segment)" \
    "spoofed_response MUST alert (unsolicited responses toward 10.20.1.13 from hundreds of resolvers)"
fi

# ---- spoofed_response: SPAN duplicates (ingress + egress mirror)
if want span; then
  O=$PCAPS_DIR/detect/spoofed_response
  client_plan span-ws1 60 3 >"$LAB_TMP/span-ws1.plan"
  client_plan span-ws3 60 4 >"$LAB_TMP/span-ws3.plan"
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$LAB_TMP/span-single.pcap"
  ( run_plan ws1 10.20.0.53 "$LAB_TMP/span-ws1.plan" & run_plan ws3 10.20.0.53 "$LAB_TMP/span-ws3.plan" & wait )
  cap_stop
  editcap -t 0.000005 "$LAB_TMP/span-single.pcap" "$LAB_TMP/span-copy.pcap"
  mergecap -F pcap -w "$O/neg-span-duplicates.pcap" "$LAB_TMP/span-single.pcap" "$LAB_TMP/span-copy.pcap"
  cap_record "$O/neg-span-duplicates.pcap" "$S" "ws1 and ws3: client_plan(span-ws1/span-ws3, 60 s) replayed with dig @10.20.0.53 in parallel, captured on br-in (cap_start) to span-single.pcap; then 'editcap -t 0.000005 span-single.pcap span-copy.pcap' and 'mergecap -F pcap -w neg-span-duplicates.pcap span-single.pcap span-copy.pcap'" \
    "ordinary browsing-like lookups of 10.20.1.10 and 10.20.1.12 through 10.20.0.53 with the resolver's recursion, every frame present twice 5 microseconds apart (identical bytes), as a SPAN session mirroring both directions of a port delivers it" \
    "spoofed_response must NOT alert (duplicates are identical copies, not a second answer); no detector may alert"
fi
log "edge done"
