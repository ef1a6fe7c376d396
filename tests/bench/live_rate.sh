#!/usr/bin/env bash
# Live capture rate: the highest packet rate dnsvigil captures with zero kernel drops and zero
# packets lost inside dnsvigil. tcpreplay sends the dnsgen mix from a private network
# namespace over a veth pair at increasing rates; dnsvigil captures on the other end (root
# namespace) with its TPACKET_V3 ring, all detectors on, alerts to /dev/null. Needs root.
#
#   tests/bench/live_rate.sh [--build-dir DIR] [--seconds S] [--rates "50000 100000 ... top"] [-j N]
#                            [--buffer SIZE]
#
# For each rate it prints what tcpreplay sent, what the kernel ring received and dropped
# (pcap_stats) and how many packets dnsvigil handled; a rate passes when the kernel dropped
# nothing and dnsvigil handled every packet sent. The veth traffic stays inside this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD

build=""
seconds=5
rates="50000 100000 200000 300000 400000 500000 700000 1000000 top"
workers=1
buffer="64MiB"
while (($#)); do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    -j) workers=$2; shift 2 ;;
    --buffer) buffer=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "live_rate: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "live_rate: needs root (network namespaces, raw capture)" >&2; exit 2; }
command -v tcpreplay >/dev/null || packaging/setup.sh

if [[ -z "$build" ]]; then
  build=$src/build/release
  cmake --preset release >/dev/null
  cmake --build --preset release --target dnsvigil dnsgen >/dev/null
fi
dnsvigil=$build/sensor/app/dnsvigil
dnsgen=$build/tests/bench/gen/dnsgen

cache=/tmp/dnsvigil-bench
mkdir -p "$cache"
mix=$cache/live-mix-$("$dnsgen" --version).pcap
[[ -s $mix ]] || "$dnsgen" --out "$mix" --packets 1000000 --quiet

tag=dvrate-$$
ns=$tag
work=$(mktemp -d)
cleanup() {
  [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null || true
  ip link del dvr0 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip link add dvr0 type veth peer name dvr1
ip link set dvr1 netns "$ns"
# No IPv6 autoconfiguration chatter on the pair: only tcpreplay's frames cross it.
sysctl -qw net.ipv6.conf.dvr0.disable_ipv6=1
ip netns exec "$ns" sysctl -qw net.ipv6.conf.dvr1.disable_ipv6=1
ip link set dvr0 up
ip -n "$ns" link set dvr1 up
# No addresses: tcpreplay writes whole Ethernet frames; nothing is routed anywhere.
ip link set dvr0 mtu 9000
ip -n "$ns" link set dvr1 mtu 9000

cat >"$work/live.yaml" <<EOF
capture:
  buffer_size: $buffer
  filter: "len >= 1"   # every frame: what tcpreplay sent is what must arrive
workers: $workers
run:
  user: ""
  stats_interval: 1h
outputs:
  alerts_json: /dev/null
EOF

printf '%-10s %10s %10s %10s %10s %10s  %s\n' "rate pps" "sent" "received" "k-drops" "handled" "achieved" "result"
best=0
for rate in $rates; do
  # "top": as fast as tcpreplay can send (--topspeed), 1 M packets.
  if [[ $rate == top ]]; then speed=(--topspeed); count=1000000; else speed=(--pps="$rate"); count=$((rate * seconds)); fi
  "$dnsvigil" -c "$work/live.yaml" -i dvr0 2>"$work/dv.err" &
  pid=$!
  for _ in $(seq 100); do grep -q "capturing on dvr0" "$work/dv.err" && break; sleep 0.05; done
  sleep 0.3
  ip netns exec "$ns" tcpreplay -i dvr1 "${speed[@]}" --loop=0 -L "$count" "$mix" >"$work/tr.out" 2>&1 || true
  sleep 1
  kill -TERM "$pid"; wait "$pid" || true; pid=""
  sent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$work/tr.out" | head -1)
  achieved=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' "$work/tr.out" | head -1)
  read -r received kdrops < <(sed -n 's/.*capture: \([0-9]*\) received, \([0-9]*\) dropped by the kernel.*/\1 \2/p' "$work/dv.err" | head -1)
  handled=$(sed -n 's/.*summary: \([0-9]*\) packets.*/\1/p' "$work/dv.err" | head -1)
  result=FAIL
  if [[ -n $sent && ${kdrops:-1} -eq 0 && ${handled:-0} -ge $sent ]]; then result=ok; fi
  # tcpreplay may not reach the asked rate on this machine: report what it reached.
  printf '%-10s %10s %10s %10s %10s %10s  %s\n' "$rate" "${sent:-?}" "${received:-?}" "${kdrops:-?}" "${handled:-?}" "${achieved:-?}" "$result"
  # The best rate reached, not the last: tcpreplay's own ceiling varies from step to step.
  [[ $result == ok ]] || break
  reached=${achieved%.*}
  if ((${reached:-0} > best)); then best=$reached; fi
done
echo "highest achieved rate with zero drops: $best packets/s (workers $workers, ring $buffer, $seconds s per step)"
