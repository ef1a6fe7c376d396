#!/usr/bin/env bash
# Whole-sensor benchmark: dnsvigil against the libpcap floor and against peer tools, on
# deterministic synthetic resolver traffic (tests/bench/gen/dnsgen), plus a flood section
# (memory under attack). One command from a clean clone:
#
#   tests/bench/run.sh                 1 M and 10 M packet files, peers, floods
#   tests/bench/run.sh --quick         100 k packets (and small floods): a smoke test
#
# Options (environment variables in brackets):
#   --sizes "N ..."     main file sizes in packets          [BENCH_SIZES, default "1000000 10000000"]
#   --quick             --sizes 100000, floods of 100 k events on a 100 k base
#   --cache DIR         generated files, reused when present [BENCH_CACHE, default /tmp/dnsvigil-bench]
#   --build-dir DIR     use binaries from this build tree instead of building the release preset
#                                                           [DNSVIGIL_BUILD_DIR]
#   --peer-max N        run tshark/dnscap only on sizes <= N, extrapolate above [BENCH_PEER_MAX, 1000000]
#   --repeat K          run each measurement K times, keep the fastest [BENCH_REPEAT, default 1]
#   --workers N         pass -j N to dnsvigil in the main runs, and use N in the worker section
#                       (default there: the number of cores)
#   --no-scaling        skip the worker section (1 worker, 1 worker pinned to each core, N workers)
#   --no-peers          dnsvigil and the floor only
#   --no-floods         skip the flood section
#   --no-precision      skip the precision section (tests/bench/precision.py: alerts per million
#                       benign packets of the capture lab's real software and of dnsgen --no-attacks,
#                       per-rule trigger counts, attack captures still caught)
#   --no-live           skip the live-capture section (tests/bench/live_rate.sh: root, veth pair in
#                       a private namespace, tcpreplay at rising rates; skipped when not root)
#   --no-clickhouse     skip the ClickHouse section (tests/bench/clickhouse_rate.py: a private
#                       clickhouse-server on loopback; events per second into it, and the sensor's
#                       CPU and wall time with the sink on over those without it, on the smallest file)
#   --no-install        never apt-get install missing peers
#
# Every figure comes from /usr/bin/time: wall time, user+system CPU time, maximum RSS. The
# results are printed and kept in $CACHE/results-<date>.txt.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${BENCH_CACHE:-/tmp/dnsvigil-bench}
sizes=${BENCH_SIZES:-"1000000 10000000"}
build_dir=${DNSVIGIL_BUILD_DIR:-}
peer_max=${BENCH_PEER_MAX:-1000000}
repeat=${BENCH_REPEAT:-1}
workers=""
peers=1
floods=1
scaling=1
live=1
precision=1
clickhouse=1
live_args=()
install=1
flood_base=1000000
flood_count=""   # empty: dnsgen's defaults (2 M water-torture queries, 1 M SYNs, 1 M fragments)

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --quick) sizes=100000; flood_base=100000; flood_count=100000; live_args=(--seconds 1 --rates "20000 100000") ;;
    --sizes) sizes=$2; shift ;;
    --cache) cache=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --peer-max) peer_max=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --workers) workers=$2; shift ;;
    --no-peers) peers=0 ;;
    --no-floods) floods=0 ;;
    --no-scaling) scaling=0 ;;
    --no-live) live=0 ;;
    --no-precision) precision=0 ;;
    --no-clickhouse) clickhouse=0 ;;
    --no-install) install=0 ;;
    -h | --help) usage 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage 2 ;;
  esac
  shift
done

mkdir -p "$cache"
results="$cache/results-$(date -u +%Y%m%dT%H%M%SZ).txt"
exec > >(tee "$results") 2>&1
say() { printf '%s\n' "$*"; }
hr() { say "------------------------------------------------------------------------------------------------"; }

# ---- build ----------------------------------------------------------------------------------
if [[ -z "$build_dir" ]]; then
  build_dir="$root/build/release"
  cd "$root"
  if [[ ! -f "$build_dir/build.ninja" ]]; then
    say "== configuring the release preset"
    if ! cmake --preset release >/dev/null; then
      say "   configure failed: installing the build dependencies (packaging/setup.sh) and retrying"
      packaging/setup.sh
      cmake --preset release >/dev/null
    fi
  fi
  say "== building dnsvigil, dnsgen and pcap_floor (release preset; log: $cache/build.log)"
  if ! cmake --build --preset release --target dnsvigil dnsgen pcap_floor bench_allocs pcap2dnstap >"$cache/build.log" 2>&1; then
    # CI builds with -Werror; a compiler-version warning in product code must not stop a
    # benchmark, so retry once without it (the figures do not depend on warning flags).
    say "   build failed:"
    grep -E '^FAILED|error:' "$cache/build.log" | head -4 | cut -c1-200 | sed 's/^/     /'
    say "   retrying with -DDNSVIGIL_WERROR=OFF (warnings are not errors for a benchmark)"
    cmake --preset release -DDNSVIGIL_WERROR=OFF >/dev/null
    cmake --build --preset release --target dnsvigil dnsgen pcap_floor bench_allocs pcap2dnstap >>"$cache/build.log" 2>&1 ||
      { tail -20 "$cache/build.log"; exit 1; }
  fi
fi
dnsvigil="$build_dir/sensor/app/dnsvigil"
dnsgen="$build_dir/tests/bench/gen/dnsgen"
floor="$build_dir/tests/bench/floor/pcap_floor"
allocs="$build_dir/tests/bench/bench_allocs"  # optional: older build trees lack it
config="$root/tests/bench/gen/bench-config.yaml"
for b in "$dnsvigil" "$dnsgen" "$floor"; do
  [[ -x "$b" ]] || { say "run.sh: $b is missing (build the release preset, or give --build-dir)"; exit 1; }
done

# ---- tools ----------------------------------------------------------------------------------
need=()
command -v /usr/bin/time >/dev/null || need+=(time)
if ((live)) && [[ $(id -u) -ne 0 ]]; then
  live=0
  live_skip="not root (network namespaces, raw capture)"
fi
if ((live)); then
  command -v tcpreplay >/dev/null || need+=(tcpreplay)
fi
if ((peers)); then
  command -v tshark >/dev/null || need+=(tshark)
  command -v dnscap >/dev/null || need+=(dnscap)
fi
if ((${#need[@]})); then
  if ((install)); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    say "== installing ${need[*]} (apt-get)"
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}" >/dev/null ||
      { $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}" >/dev/null; } ||
      say "   apt-get failed: the missing tools are skipped"
  else
    say "== missing ${need[*]} (--no-install): skipped"
  fi
fi
command -v /usr/bin/time >/dev/null || { say "run.sh: /usr/bin/time is required (apt-get install time)"; exit 1; }
have_tshark=0; have_dnscap=0
((peers)) && command -v tshark >/dev/null && have_tshark=1
((peers)) && command -v dnscap >/dev/null && have_dnscap=1

jflag=()
if [[ -n "$workers" ]]; then
  if "$dnsvigil" --help 2>&1 | grep -qE -- '(^|[ ,])-j'; then
    jflag=(-j "$workers")
  else
    say "note: dnsvigil has no -j option yet: --workers $workers ignored (single-threaded figures)"
  fi
fi

# ---- machine --------------------------------------------------------------------------------
# The commit of the tree the dnsvigil binary was built from (a --build-dir may be another clone).
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
src=${src:-$root}
commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null | grep -c . || true)
hr
say "dnsvigil benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "commit      $commit$( ((dirty)) && echo " (+$dirty modified files in the work tree)") ($src)"
say "dnsvigil    $("$dnsvigil" --version 2>&1 | head -1)  ($dnsvigil)"
say "cpu         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
say "memory      $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); kernel $(uname -r)"
say "load        $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
say "peers       tshark: $( ((have_tshark)) && tshark --version 2>/dev/null | head -1 | awk '{print $3}' || echo absent)," \
  "dnscap: $( ((have_dnscap)) && dnscap -V 2>&1 | awk '{print $3; exit}' || echo absent)"
for p in zeek suricata passivedns; do
  if apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    say "            $p: in the apt sources but not benchmarked by this script"
  else
    say "            $p: not available (no Debian 12 package in the configured apt sources): skipped"
  fi
done
hr

# ---- files ----------------------------------------------------------------------------------
genver=$("$dnsgen" --version | awk '{print $2}')
gen() {  # gen FILE ARGS...: generate once into the cache (atomically), reuse afterwards
  local f=$1; shift
  if [[ -s "$f" ]]; then return; fi
  say "== generating $(basename "$f")"
  "$dnsgen" --out "$f.tmp" "$@"
  mv "$f.tmp" "$f"
}
main_file() { echo "$cache/dnsgen-v$genver-$1.pcap"; }
for n in $sizes; do gen "$(main_file "$n")" --packets "$n"; done  # (word splitting intended)
flood_kinds=(water-torture tcp-half-open fragments)
flood_file() { echo "$cache/dnsgen-v$genver-$flood_base-$1${flood_count:+-$flood_count}.pcap"; }
if ((floods)); then
  for k in "${flood_kinds[@]}"; do
    gen "$(flood_file "$k")" --packets "$flood_base" --flood "$k" ${flood_count:+--flood-count "$flood_count"}
  done
fi

# ---- measurement ----------------------------------------------------------------------------
# measure LABEL CMD...: runs CMD (stdout to /dev/null) $repeat times; sets m_wall m_cpu m_rss
# (seconds, seconds, MiB) of the fastest run and m_ok (0 when the command failed).
measure() {
  local label=$1; shift
  local best="" t
  t=$(mktemp)
  m_ok=1
  for ((i = 0; i < repeat; i++)); do
    if ! /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >/dev/null 2>"$t.err"; then
      say "   $label failed: $(tail -3 "$t.err" | tr '\n' ' ')"
      m_ok=0
    fi
    local line
    line=$(tail -1 "$t")
    if [[ -z "$best" ]] || awk -v a="$line" -v b="$best" 'BEGIN{split(a,x," ");split(b,y," ");exit !(x[1]<y[1])}'; then
      best=$line
    fi
  done
  rm -f "$t" "$t.err"
  read -r m_wall u s m_rss_kb <<<"$best"
  m_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
  m_rss=$(awk -v k="$m_rss_kb" 'BEGIN{printf "%.0f", k/1024}')
}
warm() { cat "$1" >/dev/null; }  # every tool reads from the page cache, not the disk
packets_of() { "$floor" "$1" | awk '{print $2}'; }

fmt_row() {  # size tool wall cpu pps(wall) pps(cpu) rss xfloor xvigil note
  printf '%-5s %-23s %8s %8s %11s %11s %8s %8s %8s  %s\n' "$@"
}
human() { awk -v n="$1" 'BEGIN{if(n>=1e6)printf "%gM",n/1e6; else if(n>=1e3)printf "%gk",n/1e3; else print n}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if(b>0)printf "%.2f",a/b; else print "-"}'; }
pps() { awk -v n="$1" -v t="$2" 'BEGIN{if(t>0)printf "%.0f",n/t; else print "-"}'; }

declare -A cpu_of wall_of peer_cpu peer_wall peer_rss
read -ra size_list <<<"$sizes"
say
say "Main runs: wall and CPU (user+system) seconds, packets per wall second and per CPU second, max"
say "RSS (MiB), and CPU time as a multiple of the libpcap floor's and of dnsvigil's (alerts run)."
say "'~' = extrapolated. The floor runs 3 times (it is short), the rest $repeat time(s); fastest kept."
say "Commands: floor = pcap_floor FILE; dnsvigil = dnsvigil -q -c bench-config.yaml -r FILE"
say "--alerts-json /dev/null (all rules); dump = same with --dump-json /dev/null;"
say "tshark = tshark -n -r FILE -Y dns -T fields -e dns.qry.name -e dns.qry.type -e dns.flags.rcode;"
say "dnscap = dnscap -N -T -L 4095 -g -r FILE (dig-style decode of every message, TCP and VLAN on)."
hr
fmt_row size tool wall_s cpu_s pkts/s pkts/cpu_s rss_MiB x_floor x_dnsvigil ""
hr
largest_peer=""
for n in "${size_list[@]}"; do ((n <= peer_max)) && largest_peer=$n; done
for n in "${size_list[@]}"; do
  f=$(main_file "$n")
  warm "$f"
  np=$(packets_of "$f")
  sz=$(human "$n")
  r=$repeat
  repeat=$((r > 3 ? r : 3))
  measure floor "$floor" "$f"
  repeat=$r
  floor_cpu=$m_cpu
  fmt_row "$sz" "libpcap floor" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$(pps "$np" "$m_cpu")" "$m_rss" 1.00 "" ""
  measure dnsvigil "$dnsvigil" -q -c "$config" -r "$f" --alerts-json /dev/null "${jflag[@]}"
  vigil_cpu=$m_cpu
  cpu_of[$n]=$m_cpu
  wall_of[$n]=$m_wall
  fmt_row "$sz" "dnsvigil (alerts)" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$(pps "$np" "$m_cpu")" "$m_rss" "$(ratio "$m_cpu" "$floor_cpu")" 1.00 \
    "$( ((m_ok)) || echo FAILED)"
  measure dump "$dnsvigil" -q -c "$config" -r "$f" --alerts-json /dev/null --dump-json /dev/null "${jflag[@]}"
  fmt_row "$sz" "dnsvigil (--dump-json)" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$(pps "$np" "$m_cpu")" "$m_rss" "$(ratio "$m_cpu" "$floor_cpu")" \
    "$(ratio "$m_cpu" "$vigil_cpu")" "$( ((m_ok)) || echo FAILED)"
  for peer in tshark dnscap; do
    if [[ $peer == tshark ]]; then ((have_tshark)) || continue; fi
    if [[ $peer == dnscap ]]; then ((have_dnscap)) || continue; fi
    if ((n <= peer_max)); then
      if [[ $peer == tshark ]]; then
        measure tshark tshark -n -r "$f" -Y dns -T fields -e dns.qry.name -e dns.qry.type -e dns.flags.rcode
      else
        # shellcheck disable=SC2016  # $1 is expanded by the inner shell
        measure dnscap sh -c 'exec dnscap -N -T -L 4095 -g -r "$1" 2>/dev/null' dnscap "$f"
      fi
      peer_cpu[$peer:$n]=$m_cpu peer_wall[$peer:$n]=$m_wall peer_rss[$peer:$n]=$m_rss
      fmt_row "$sz" "$peer" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$(pps "$np" "$m_cpu")" "$m_rss" "$(ratio "$m_cpu" "$floor_cpu")" \
        "$(ratio "$m_cpu" "$vigil_cpu")" "$( ((m_ok)) || echo FAILED)"
    elif [[ -n "$largest_peer" ]]; then
      pc=${peer_cpu[$peer:$largest_peer]} pw=${peer_wall[$peer:$largest_peer]} pr=${peer_rss[$peer:$largest_peer]}
      k=$(awk -v a="$n" -v b="$largest_peer" 'BEGIN{print a/b}')
      ec=$(awk -v c="$pc" -v k="$k" 'BEGIN{printf "%.1f", c*k}')
      ew=$(awk -v c="$pw" -v k="$k" 'BEGIN{printf "%.1f", c*k}')
      fmt_row "$sz" "$peer" "~$ew" "~$ec" "~$(pps "$np" "$ew")" "~$(pps "$np" "$ec")" "($pr)" "~$(ratio "$ec" "$floor_cpu")" \
        "~$(ratio "$ec" "$vigil_cpu")" "not run: linear extrapolation from $(human "$largest_peer"), RSS of that run"
    fi
  done
  hr
done

# Linearity: CPU per packet of the largest file over the smallest.
if ((${#size_list[@]} >= 2)); then
  small=${size_list[0]}
  large=${size_list[-1]}
  ns_small=$(awk -v c="${cpu_of[$small]}" -v n="$small" 'BEGIN{printf "%.0f", c*1e9/n}')
  ns_large=$(awk -v c="${cpu_of[$large]}" -v n="$large" 'BEGIN{printf "%.0f", c*1e9/n}')
  say "linearity (dnsvigil, alerts run): $ns_small ns CPU/packet at $(human "$small"), $ns_large ns at $(human "$large")" \
    "(x$(ratio "$ns_large" "$ns_small")); wall: $(awk -v c="${wall_of[$small]}" -v n="$small" 'BEGIN{printf "%.0f", c*1e9/n}')" \
    "vs $(awk -v c="${wall_of[$large]}" -v n="$large" 'BEGIN{printf "%.0f", c*1e9/n}') ns/packet"
fi

# Heap allocations per packet: the packet path and every rule, as one worker runs them, on the
# second half of the smallest file (the first half grows the tables to their working size).
if [[ -x "$allocs" ]]; then
  say "allocations (bench_allocs FILE bench-config.yaml, $(human "${size_list[0]}") file):" \
    "$("$allocs" "$(main_file "${size_list[0]}")" "$config" | tr '\n' ';' | sed 's/;$//; s/;/; /')"
else
  say "allocations: skipped ($allocs not built)"
fi

# ---- workers --------------------------------------------------------------------------------
# Scaling is judged against what the cores can give: the same one-worker run pinned to each core
# in turn. Cores of a virtual machine need not be equal (on the development VM one vCPU runs the
# same work ~1.4x slower than the other), so N workers can at best finish in 1 / sum(1 / t_core).
if ((scaling)) && command -v taskset >/dev/null; then
  n=${size_list[0]}
  f=$(main_file "$n")
  warm "$f"
  np=$(packets_of "$f")
  nw=${workers:-$(nproc)}
  ((nw >= 2)) || nw=2
  r=$repeat
  repeat=$((r > 3 ? r : 3))
  say
  say "Workers: dnsvigil (alerts run) on the $(human "$n") file, fastest of $repeat runs each; 'pinned' = taskset -c CORE."
  hr
  printf '%-28s %8s %8s %11s %8s\n' run wall_s cpu_s pkts/s rss_MiB
  hr
  measure one "$dnsvigil" -q -c "$config" -r "$f" --alerts-json /dev/null
  printf '%-28s %8s %8s %11s %8s\n' "1 worker" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$m_rss"
  best_one=$m_wall
  inv_sum=0
  for ((c = 0; c < $(nproc); c++)); do
    measure pinned taskset -c "$c" "$dnsvigil" -q -c "$config" -r "$f" --alerts-json /dev/null
    printf '%-28s %8s %8s %11s %8s\n' "1 worker pinned to core $c" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$m_rss"
    best_one=$(awk -v a="$best_one" -v b="$m_wall" 'BEGIN{print (b < a) ? b : a}')
    inv_sum=$(awk -v s="$inv_sum" -v t="$m_wall" 'BEGIN{printf "%.6f", s + 1 / t}')
  done
  # From standard input a dispatcher thread reads and hands packets over; from a file every
  # worker reads it and keeps its own clients' packets.
  measure piped bash -c '"$0" -q -c "$1" -r - --alerts-json /dev/null -j "$2" <"$3"' "$dnsvigil" "$config" "$nw" "$f"
  printf '%-28s %8s %8s %11s %8s\n' "$nw workers, -r - (dispatcher)" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$m_rss"
  measure many "$dnsvigil" -q -c "$config" -r "$f" --alerts-json /dev/null -j "$nw"
  printf '%-28s %8s %8s %11s %8s\n' "$nw workers (-j $nw)" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$m_rss"
  hr
  ceiling=$(awk -v s="$inv_sum" 'BEGIN{printf "%.2f", 1 / s}')
  say "scaling: $nw workers are x$(ratio "$best_one" "$m_wall") the fastest one-worker run ($best_one s);" \
    "the cores' ceiling is $ceiling s (x$(ratio "$best_one" "$ceiling")), so the workers reach" \
    "$(awk -v c="$ceiling" -v w="$m_wall" 'BEGIN{printf "%.0f", 100 * c / w}') % of what the cores give."
  repeat=$r
fi

# ---- floods ---------------------------------------------------------------------------------
if ((floods)); then
  say
  say "Floods: dnsvigil -c bench-config.yaml -r FILE --alerts-json ALERTS with default caps; the files"
  say "hold $(human "$flood_base") main packets (background + the five embedded attacks) plus the flood."
  say "Target: max RSS <= 256 MiB and every embedded attack still alerts (the beacon needs >= 10 lookups"
  say "2 s apart, i.e. >= 20 s of packet time: >= 1M main packets at dnsgen's default 50k packets/s)."
  hr
  printf '%-15s %10s %8s %8s %10s %8s  %-9s %s\n' flood packets wall_s cpu_s pkts/s rss_MiB "<=256MiB" "attacks alerted (missing)"
  hr
  for k in "${flood_kinds[@]}"; do
    f=$(flood_file "$k")
    warm "$f"
    np=$(packets_of "$f")
    alerts="$cache/alerts-$k.json"
    log="$cache/dnsvigil-$k.log"
    rm -f "$alerts"  # dnsvigil appends to its alert file
    # shellcheck disable=SC2016  # $1..$5 are expanded by the inner shell
    measure "$k" sh -c 'exec "$1" -c "$2" -r "$3" --alerts-json "$4" 2>"$5"' dnsvigil "$dnsvigil" "$config" "$f" "$alerts" "$log"
    found=()
    missing=()
    check() {  # check NAME RULE PATTERN: did an alert of RULE mention PATTERN?
      # (no grep -q after a pipe: with pipefail, the first grep's SIGPIPE would read as "absent")
      if grep -F "\"name\":\"$2\"" "$alerts" | grep -- "$3" >/dev/null; then found+=("$1"); else missing+=("$1"); fi
    }
    check tunnel tunneling 'dnsc2-relay\.net'
    check enum enumeration '"registered_domain":"examplecorp\.com"'
    check axfr zone_transfer '198\.51\.100\.23'
    check rogue rogue_resolver '8\.8\.8\.8'
    check beacon beaconing 'updsvc-telemetry\.com'
    if [[ $k == water-torture ]]; then check flood enumeration 'victim-shop\.com\|bank-example\.net'; fi
    ok=$(awk -v r="$m_rss" 'BEGIN{print (r <= 256) ? "yes" : "NO"}')
    printf '%-15s %10s %8s %8s %10s %8s  %-9s %s\n' "$k" "$np" "$m_wall" "$m_cpu" "$(pps "$np" "$m_wall")" "$m_rss" "$ok" \
      "${found[*]}${missing[*]:+ (missing: ${missing[*]})}$( ((m_ok)) || echo ' FAILED')"
    grep -E 'counters:|alerts:' "$log" | sed 's/^ */                   dnsvigil /' || true
  done
  hr
fi

# ---- dnstap ---------------------------------------------------------------------------------
# The main files' DNS messages as the dnstap file a resolver would log (tests/dnstap/pcap2dnstap),
# read by one thread with every rule on: messages per second (issue 14's figure).
p2d="$build_dir/tests/dnstap/pcap2dnstap"
say
if [[ -x "$p2d" ]]; then
  say "dnstap: dnsvigil -q -c bench-config.yaml -r FILE.dnstap --alerts-json /dev/null (every rule, one thread);"
  say "the file holds the main file's DNS messages as CLIENT_QUERY/CLIENT_RESPONSE frames."
  hr
  printf '%-6s %10s %8s %8s %12s %12s %8s\n' size messages wall_s cpu_s msgs/s msgs/cpu_s rss_MiB
  for n in "${size_list[@]}"; do
    f=$(main_file "$n")
    tap="${f%.pcap}.dnstap"
    [[ -s "$tap" ]] || "$p2d" "$f" "$tap" 2>/dev/null
    warm "$tap"
    msgs=$("$dnsvigil" -c "$config" -r "$tap" --alerts-json /dev/null 2>&1 | sed -n 's/.*dns: \([0-9]*\) messages.*/\1/p')
    measure dnstap "$dnsvigil" -q -c "$config" -r "$tap" --alerts-json /dev/null
    printf '%-6s %10s %8s %8s %12s %12s %8s\n' "$(human "$n")" "$msgs" "$m_wall" "$m_cpu" "$(pps "$msgs" "$m_wall")" \
      "$(pps "$msgs" "$m_cpu")" "$m_rss"
  done
  hr
else
  say "dnstap: skipped ($p2d is missing)"
fi

# ---- clickhouse -----------------------------------------------------------------------------
# The sink of issue 17: the smallest main file replayed without the sink and with it, in turn, into
# a clickhouse-server this section starts on loopback (no event dropped: a 4 GiB buffer).
say
if ((clickhouse)) && command -v clickhouse-server >/dev/null; then
  f=$(main_file "${size_list[0]}")
  warm "$f"
  say "ClickHouse: tests/bench/clickhouse_rate.py: dnsvigil -c bench-config.yaml -r FILE --alerts-json /dev/null"
  say "${jflag[*]:+${jflag[*]} }without and with outputs.clickhouse (events and alerts; $(human "${size_list[0]}") file, fastest of $repeat)."
  hr
  python3 "$root/tests/bench/clickhouse_rate.py" "$dnsvigil" "$config" "$f" --repeat "$repeat" ${workers:+--workers "$workers"} ||
    say "   clickhouse_rate.py failed (exit $?)"
  hr
else
  say "ClickHouse: skipped ($( ((clickhouse)) && echo "clickhouse-server missing" || echo "--no-clickhouse"))"
fi

# ---- precision ------------------------------------------------------------------------------
say
if ((precision)); then
  # Benign resolver traffic at a realistic pace: 1 M packets over about 8 minutes from 3 500
  # clients, four mail servers among them (not declared: bench-precision.yaml has no roles).
  benign=$cache/dnsgen-v$genver-benign-1000000-2000pps.pcap
  gen "$benign" --no-attacks --packets 1000000 --rate 2000 --clients 3500
  say "Precision: tests/bench/precision.py: every benign capture (pcaps/detect/precision/, benign/) with"
  say "the resolvers configured and no role (tests/detect/precision.yaml) and with zero configuration,"
  say "dnsgen --no-attacks at 2000 packets/s with bench-precision.yaml; then every attack capture."
  hr
  python3 "$root/tests/bench/precision.py" "$dnsvigil" --dnsgen "$benign" || say "   an attack capture was missed (see MISSED above)"
  hr
else
  say "Precision: skipped (--no-precision)"
fi

# ---- live capture ---------------------------------------------------------------------------
say
if ((live)) && command -v tcpreplay >/dev/null; then
  say "Live capture: tests/bench/live_rate.sh --build-dir BUILD (dnsvigil -i on one end of a veth pair,"
  say "tcpreplay sending the mix from a private namespace at rising rates; step length on the last line)."
  say "A step passes with zero kernel drops and every sent packet handled; 'achieved' is the rate"
  say "tcpreplay reached."
  hr
  "$root/tests/bench/live_rate.sh" --build-dir "$build_dir" "${live_args[@]}" || say "   live_rate.sh failed (exit $?)"
  hr
else
  say "Live capture: skipped (${live_skip:-$( ((live)) && echo "tcpreplay missing" || echo "--no-live")})"
fi
say "load        $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at the end"
say "results     $results"
