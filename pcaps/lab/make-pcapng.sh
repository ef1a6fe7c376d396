#!/usr/bin/env bash
# make-pcapng.sh -- pcapng captures with several interfaces (pcaps/pcapng/*.pcapng).
#
# Wireshark and dumpcap write one pcapng file with an Interface Description Block per captured
# interface, and the interfaces may differ in link type and snap length (libpcap 1.10 refuses
# such files; dnsvigil reads them with its own block reader). These captures are made with the
# real tools: dumpcap on two interfaces at once, and editcap/mergecap to give interfaces other
# snap lengths and link types, as an analyst would.
#
# Self-contained on purpose: its own namespaces (prefix pn-), addresses (10.30.0.0/16,
# fd30::/16) and temporary folder, so it can run while the main lab (lib.sh, prefix dv-) is up.
#
#   pn-c1 (10.30.1.10, fd30:1::10) --veth-- s1 [pn-srv] s2 --veth-- pn-c2 (10.30.2.10, fd30:2::10)
#                                               [pn-srv] t1 ==TUN=== t2  pn-c2 (10.30.4.10, fd30:4::10)
#                                          BIND 9, authoritative for pcapng.test on
#                                          10.30.{1,2,4}.1 / fd30:{1,2,4}::1
#
# The captures are taken in pn-srv on s1 and s2 (Ethernet), on "any" (Linux cooked) and on t1, a
# TUN device (raw IP, LINKTYPE_RAW: the lab kernel has no ipip/sit/GRE modules, so a small relay
# copies packets between two TUN devices moved into pn-srv and pn-c2). No namespace has a default
# route; no interface is left in the root namespace.
#
# Usage: pcaps/lab/make-pcapng.sh   (root; needs named, dig, dumpcap, editcap, mergecap, python3)
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(dirname "$LAB_DIR")/pcapng
T=${PCAPNG_LAB_TMP:-/tmp/dnsvigil-pcapng-lab}
P=pn-

log() { printf '[pcapng-lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
nsx() { local n=$1; shift; ip netns exec "$P$n" "$@"; }

down() {
  local f p
  for f in "$T"/*.pid; do
    [ -e "$f" ] || continue
    p=$(cat "$f"); rm -f "$f"
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for n in srv c1 c2; do ip netns del "$P$n" 2>/dev/null || true; done
  ip link del t1 2>/dev/null || true   # TUN devices still in the root namespace after a failed start
  ip link del t2 2>/dev/null || true
}

up() {
  down
  rm -rf "$T"
  mkdir -p "$T/srv" "$T/raw"
  for n in srv c1 c2; do
    ip netns add "$P$n"
    nsx "$n" ip link set lo up
    nsx "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  local i
  for i in 1 2; do
    nsx srv ip link add "s$i" type veth peer name eth0 netns "${P}c$i"
    nsx srv ip link set "s$i" address "02:00:0a:1e:0$i:01"
    nsx "c$i" ip link set eth0 address "02:00:0a:1e:0$i:0a"
    for n in srv "c$i"; do
      local dev=eth0
      [ "$n" = srv ] && dev=s$i
      # no offloads: wire-sized frames with real checksums, as on a tap
      nsx "$n" ethtool -K "$dev" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
      nsx "$n" ip link set "$dev" up
    done
    nsx srv ip addr add "10.30.$i.1/24" dev "s$i"
    nsx srv ip addr add "fd30:$i::1/64" dev "s$i" nodad
    nsx "c$i" ip addr add "10.30.$i.10/24" dev eth0
    nsx "c$i" ip addr add "fd30:$i::10/64" dev eth0 nodad
  done
  # The raw-IP link: two TUN devices, a relay between their descriptors (in the root namespace
  # only as a process), one moved into each namespace.
  python3 - t1 t2 >"$T/tun.log" 2>&1 <<'PY' &
import fcntl, os, select, struct, sys
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd
a, b = tun(sys.argv[1]), tun(sys.argv[2])
print("ready", flush=True)
while True:
    for fd in select.select([a, b], [], [])[0]:
        pkt = os.read(fd, 65536)
        try:
            os.write(b if fd == a else a, pkt)
        except OSError:
            pass  # the other side is not up yet (EIO): the packet is lost, as on a wire
PY
  echo $! >"$T/tun.pid"
  for _ in $(seq 1 50); do grep -q ready "$T/tun.log" 2>/dev/null && break; sleep 0.1; done
  ip link set t1 netns "${P}srv"
  ip link set t2 netns "${P}c2"
  nsx srv ip addr add 10.30.4.1/24 dev t1
  nsx srv ip addr add fd30:4::1/64 dev t1 nodad
  nsx c2 ip addr add 10.30.4.10/24 dev t2
  nsx c2 ip addr add fd30:4::10/64 dev t2 nodad
  nsx srv ip link set t1 up
  nsx c2 ip link set t2 up
  zone >"$T/srv/pcapng.test.zone"
  cat >"$T/srv/named.conf" <<EOF
options {
  directory "$T/srv";
  pid-file none;
  listen-on { 10.30.1.1; 10.30.2.1; 10.30.4.1; };
  listen-on-v6 { fd30:1::1; fd30:2::1; fd30:4::1; };
  recursion no;
  allow-transfer { any; };
  dnssec-validation no;
  max-udp-size 4096;
  edns-udp-size 4096;
};
zone "pcapng.test" { type primary; file "pcapng.test.zone"; };
EOF
  # Started without the nsx function, so that $! is named itself (ip netns exec execs it).
  ip netns exec "${P}srv" named -c "$T/srv/named.conf" -g -n 1 >"$T/named.log" 2>&1 &
  echo $! >"$T/named.pid"
  for _ in $(seq 1 50); do
    nsx c1 dig +tries=1 +time=1 @10.30.1.1 pcapng.test SOA >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "named did not answer:"; cat "$T/named.log" >&2; exit 1
}

zone() {
  local i
  cat <<'EOF'
$TTL 300
@        IN SOA ns1.pcapng.test. hostmaster.pcapng.test. 2026010101 3600 600 86400 300
@        IN NS  ns1
ns1      IN A   10.30.1.1
ns1      IN AAAA fd30:1::1
@        IN MX  10 mail
mail     IN A   10.30.1.25
www      IN A   10.30.1.80
www      IN AAAA fd30:1::80
www2     IN CNAME www
@        IN TXT "v=spf1 mx -all"
EOF
  # TXT RRsets of about 1.3 KB (big: past a 512-octet snap length) and 2.6 KB (huge: with
  # +bufsize=4096 an answer in IP fragments).
  for i in $(seq 1 10); do
    printf 'big      IN TXT "%s-%s"\n' "$i" "$(printf 'x%.0s' $(seq 1 120))"
  done
  for i in $(seq 1 20); do
    printf 'huge     IN TXT "%s-%s"\n' "$i" "$(printf 'y%.0s' $(seq 1 120))"
  done
  for i in $(seq 1 40); do printf 'h%02d      IN A   10.30.3.%d\n' "$i" "$i"; done
}

# Queries of client c$1 to the server's addresses on link $2 (1, 2: the veths; 4: the TUN link).
traffic() {
  local c=$1 s4=@10.30.$2.1 s6=@fd30:$2::1
  q() { nsx "c$c" dig +tries=1 +time=2 "$@" >/dev/null 2>&1 || true; }
  q $s4 www.pcapng.test A
  q $s6 www.pcapng.test AAAA
  q $s4 www2.pcapng.test A
  q $s4 pcapng.test MX
  q $s6 pcapng.test TXT
  q $s4 nothere.pcapng.test A
  q $s4 +bufsize=1232 big.pcapng.test TXT
  q $s6 +bufsize=1232 big.pcapng.test TXT
  q $s4 +bufsize=4096 huge.pcapng.test TXT
  q $s4 +tcp www.pcapng.test A
  q $s6 +tcp big.pcapng.test TXT
  q $s4 pcapng.test AXFR
  q $s4 +norec -c CH version.bind TXT
  q $s4 example.org A
}

# dumpcap in pn-srv with the given interface options, around both clients' traffic.
capture() {
  local out=$1; shift
  # $! is dumpcap itself; it ignores SIGINT here (a background job of a script), and stops
  # cleanly on SIGTERM, writing the file out.
  ip netns exec "${P}srv" dumpcap -q -n -w "$out" "$@" >"$T/dumpcap.log" 2>&1 &
  echo $! >"$T/dumpcap.pid"
  sleep 1.5
  traffic 1 1
  traffic 2 "${LINK2:-2}"
  sleep 1
  kill -TERM "$(cat "$T/dumpcap.pid")"
  wait "$(cat "$T/dumpcap.pid")" 2>/dev/null || true
  rm -f "$T/dumpcap.pid"
  [ -s "$out" ] || { cat "$T/dumpcap.log" >&2; exit 1; }
}

DNS='port 53 or (ip[6:2] & 0x3fff != 0) or (ip6[6] == 44)'

main() {
  command -v dumpcap >/dev/null && command -v mergecap >/dev/null && command -v named >/dev/null ||
    { log "needs dumpcap, editcap, mergecap (wireshark-common) and named (bind9)"; exit 1; }
  trap down EXIT
  up
  mkdir -p "$OUT"

  log "1. dumpcap -i s1 -i s2: two Ethernet interfaces, same snap length"
  capture "$T/raw/1.pcapng" -i s1 -f "$DNS" -i s2 -f "$DNS"
  cp "$T/raw/1.pcapng" "$OUT/dumpcap-two-veths.pcapng"

  log "2. dumpcap -i s1 -s 262144 -i s2 -s 512: the snap lengths differ"
  capture "$T/raw/2.pcapng" -i s1 -s 262144 -f "$DNS" -i s2 -s 512 -f "$DNS"
  cp "$T/raw/2.pcapng" "$OUT/dumpcap-snaplen-differs.pcapng"

  log "3. dumpcap -i s1 -i any: Ethernet and Linux cooked (SLL) interfaces"
  # "any" gets client 2's side only (its own filter), so no frame is seen twice.
  capture "$T/raw/3.pcapng" -i s1 -f "$DNS" -i any -f "($DNS) and (net 10.30.2.0/24 or net fd30:2::/64)"
  cp "$T/raw/3.pcapng" "$OUT/dumpcap-ether-and-any.pcapng"

  log "4. dumpcap -i s1 -i t1: Ethernet and raw IP (client 2 over the TUN link)"
  LINK2=4 capture "$T/raw/4.pcapng" -i s1 -f "$DNS" -i t1 -f "$DNS"
  cp "$T/raw/4.pcapng" "$OUT/dumpcap-ether-rawip.pcapng"

  log "5. s2 cut to 128 octets (editcap -s 128), merged with s1 (mergecap)"
  capture "$T/raw/5-s1.pcapng" -i s1 -f "$DNS"
  capture "$T/raw/5-s2.pcapng" -i s2 -f "$DNS"
  editcap -s 128 "$T/raw/5-s2.pcapng" "$T/raw/5-s2-cut.pcapng"
  mergecap -F pcapng -w "$OUT/mergecap-snaplen-128.pcapng" "$T/raw/5-s1.pcapng" "$T/raw/5-s2-cut.pcapng"

  log "6. two sections: files 3 and 4 one after the other (cat)"
  cat "$OUT/dumpcap-ether-and-any.pcapng" "$OUT/dumpcap-ether-rawip.pcapng" >"$OUT/two-sections.pcapng"

  chmod 644 "$OUT"/*.pcapng
  for f in "$OUT"/*.pcapng; do
    log "$(basename "$f"): $(capinfos -c -M "$f" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') packets"
  done
}

main "$@"
