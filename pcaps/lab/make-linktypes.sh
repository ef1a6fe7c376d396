#!/usr/bin/env bash
# make-linktypes.sh -- link-type and tunnel captures (pcaps/linktypes/*.pcap), provenance in
# pcaps/linktypes/README.md (written by this script).
#
# Self-contained: it does not source lib.sh and does not touch the main lab (namespaces dv-*).
# Two private network namespaces joined by one veth pair, nothing else:
#   dvlt-srv  10.20.0.10 / fd20::10    knotd serving example.com (zone written below)
#   dvlt-cli  10.20.1.10 / fd20::1:10  dig / kdig, iptables NFLOG rules, tcpdump
# No namespace has a default route; nothing reaches the root namespace.
#
# What the kernel of the lab machine allows (checked at run time, see the README):
#   - NFLOG: real. iptables/ip6tables NFLOG rules in dvlt-cli, `tcpdump -i nflog:5`.
#   - PPP, PPPoE, PPTP, GTP-U: the kernel has no PPP (no /dev/ppp: pppd refuses to start), no
#     GRE and no GTP, so nothing real can emit these framings. They are written by
#     linktypes.py around the IP packets of a real capture made here (dig <-> knotd on the veth),
#     frame by frame with the original timestamps; the encapsulation headers come from scapy's
#     layers (Debian python3-scapy) except the PPP framing, whose octets are spelt out.
#   - PKTAP: macOS only. Also written by linktypes.py from the real capture (the veth frames as
#     en0 Ethernet, the loopback exchange as lo0 with a NULL header, as macOS records them).
#
# Needs: iproute2, knot, knot-dnsutils (kdig), bind9-dnsutils (dig), tcpdump, iptables,
# python3-scapy, tshark (capinfos) for the summary. Run as root.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PCAPS_DIR=$(dirname "$LAB_DIR")
O=$PCAPS_DIR/linktypes
T=${LINKTYPES_TMP:-/tmp/dnsvigil-linktypes}
NS=dvlt-
PY=/usr/bin/python3   # Debian's interpreter: python3-scapy is installed for it

log() { printf '[linktypes %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
nsx() { local n=$1; shift; ip netns exec "$NS$n" "$@"; }

PIDS=()
bg() { # ns logfile cmd...: start a background process in a namespace
  local n=$1 lf=$2; shift 2
  ip netns exec "$NS$n" "$@" >"$lf" 2>&1 &
  PIDS+=("$!")
}
stop_pid() { # pid: SIGINT (tcpdump writes its buffer), then wait
  local p=$1 i
  kill -INT "$p" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}
down() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  PIDS=()
  ip netns del ${NS}cli 2>/dev/null || true
  ip netns del ${NS}srv 2>/dev/null || true
}
trap down EXIT

[ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
for t in ip knotd dig kdig tcpdump iptables ip6tables capinfos; do
  command -v $t >/dev/null || die "$t not installed"
done
$PY -c 'import scapy' 2>/dev/null || die "python3-scapy not installed for $PY"

down
rm -rf "$T"; mkdir -p "$T/knot/db" "$O"

# ------------------------------------------------------------------ network
ip netns add ${NS}srv
ip netns add ${NS}cli
for n in srv cli; do
  nsx $n ip link set lo up
  nsx $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
nsx cli ip link add eth0 type veth peer name eth0 netns ${NS}srv
nsx cli ip link set eth0 address 02:00:0a:14:01:0a
nsx srv ip link set eth0 address 02:00:0a:14:00:0a
for n in srv cli; do
  # no offloads: the capture must see wire-sized frames with real checksums
  nsx $n ethtool -K eth0 tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
  nsx $n ip link set eth0 up
done
nsx srv ip addr add 10.20.0.10/16 dev eth0
nsx srv ip addr add fd20::10/64 dev eth0 nodad
nsx cli ip addr add 10.20.1.10/16 dev eth0
nsx cli ip addr add fd20::1:10/64 dev eth0 nodad

# ------------------------------------------------------------------ knotd
cat >"$T/knot/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@        SOA   ns1 hostmaster 2024061501 7200 3600 1209600 300
@        NS    ns1
@        MX    10 mail
@        TXT   "v=spf1 mx -all"
ns1      A     10.20.0.10
ns1      AAAA  fd20::10
www      A     10.20.2.80
www      AAAA  fd20::2:80
mail     A     10.20.1.25
intranet CNAME www
EOF
cat >"$T/knot/knot.conf" <<EOF
server:
    rundir: "$T/knot"
    pidfile: "$T/knot/knot.pid"
    listen: [ 10.20.0.10@53, fd20::10@53, 127.0.0.1@53, ::1@53 ]
    identity: "lab"
    version: "knot-dnsvigil-lab"
log:
  - target: stderr
    any: info
database:
    storage: "$T/knot/db"
template:
  - id: default
    storage: "$T/knot"
    file: "%s.zone"
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: example.com
EOF
bg srv "$T/knotd.log" knotd -c "$T/knot/knot.conf"
for i in $(seq 1 50); do nsx cli dig +tries=1 +time=1 @10.20.0.10 example.com SOA >/dev/null 2>&1 && break; sleep 0.2; done
nsx cli dig +tries=1 +time=1 @10.20.0.10 example.com SOA >/dev/null || die "knotd does not answer: $(cat "$T/knotd.log")"

# ------------------------------------------------------------------ the lookups
q() { nsx cli dig +tries=1 +time=3 "$@" >/dev/null 2>&1 || true; }
lookups() { # the same small set for every capture: UDP and TCP, IPv4 and IPv6
  q @10.20.0.10 www.example.com A
  q @10.20.0.10 www.example.com AAAA
  q @10.20.0.10 example.com MX
  q -6 @fd20::10 example.com TXT
  q -6 @fd20::10 intranet.example.com A
  q +tcp @10.20.0.10 example.com NS
  q @10.20.0.10 nonexistent.example.com A
  nsx cli kdig +retry=0 +time=3 @fd20::10 mail.example.com A >/dev/null 2>&1 || true
}

cap_start() { # ns iface file [tcpdump args...]
  local n=$1 ifc=$2 f=$3 lf; shift 3
  lf=$T/tcpdump-$(basename "$f" .pcap).log
  rm -f "$f"
  bg "$n" "$lf" tcpdump -n -i "$ifc" -s 0 -U -w "$f" "$@"
  CAP_PID=${PIDS[-1]}
  for i in $(seq 1 100); do grep -q 'listening on' "$lf" 2>/dev/null && break; sleep 0.1; done
  grep -q 'listening on' "$lf" || die "tcpdump did not start: $(cat "$lf")"
  sleep 0.3
}
cap_stop() { sleep 1; stop_pid "$CAP_PID"; }

# 1. nflog.pcap: iptables NFLOG rules in the client namespace, captured by tcpdump -i nflog:5.
for ipt in iptables ip6tables; do
  for p in udp tcp; do
    nsx cli $ipt -A OUTPUT -p $p --dport 53 -j NFLOG --nflog-group 5 --nflog-prefix dns-out
    nsx cli $ipt -A INPUT -p $p --sport 53 -j NFLOG --nflog-group 5 --nflog-prefix dns-in
  done
done
IPT_VERSION=$(iptables --version)
cap_start cli nflog:5 "$O/nflog.pcap"
lookups
cap_stop
for ipt in iptables ip6tables; do nsx cli $ipt -F; done

# 2. The source capture of the derived files: the same lookups on the client's veth (Ethernet),
#    then lookups over loopback inside the server namespace (for PKTAP's lo0 frames).
cap_start cli eth0 "$O/source-ethernet.pcap" port 53
lookups
cap_stop
cap_start srv lo "$T/loopback.pcap" port 53
nsx srv dig +tries=1 +time=3 @127.0.0.1 www.example.com A >/dev/null 2>&1 || true
nsx srv dig +tries=1 +time=3 @::1 www.example.com AAAA >/dev/null 2>&1 || true
cap_stop

# 3. PPP, PPP_HDLC, PPPoE, PPTP, GTP-U and PKTAP files written around those packets.
$PY "$LAB_DIR/linktypes.py" "$O/source-ethernet.pcap" "$T/loopback.pcap" "$O"

# ------------------------------------------------------------------ provenance
summary() { # file -> "packets, link type"
  local pk lt
  pk=$(capinfos -c -M "$1" 2>/dev/null | awk -F': *' '/Number of packets/{print $2}')
  lt=$(capinfos -E "$1" 2>/dev/null | awk -F': *' '/encapsulation/{print $2}')
  printf '%s packets, %s' "$pk" "$lt"
}
{
  cat <<EOF
# pcaps/linktypes — link types and tunnels

Made by \`pcaps/lab/make-linktypes.sh\` (with \`pcaps/lab/linktypes.py\`); re-running it rewrites
every file here and this README. Two private network namespaces joined by a veth pair: the
client \`dvlt-cli\` (10.20.1.10, fd20::1:10) runs dig $(dig -v 2>&1 | awk '{print $2}') and kdig, the server \`dvlt-srv\` (10.20.0.10,
fd20::10, and 127.0.0.1/::1 on its loopback) runs $(knotd --version | head -1) with the zone
example.com written by the script. Every capture holds the same lookups: www A, www AAAA,
MX, TXT over IPv6, intranet A over IPv6 (a CNAME), NS over TCP, an NXDOMAIN, mail A with kdig
over IPv6 — each query with its answer.

Only NFLOG is captured from a real source of that link type. The lab kernel has no PPP (no
\`/dev/ppp\`: pppd 2.4.9 stops with "Couldn't open the /dev/ppp device"), no GRE and no GTP
module, and PKTAP exists only on macOS, so the other files are written by \`linktypes.py\`
around the IP packets of \`source-ethernet.pcap\` (a real capture made by the same run), one
frame per captured frame, with the captured timestamps. The encapsulation headers come from
scapy's own layers (python3-scapy: \`PPPoE\`, \`GRE_PPTP\`, \`GTP_U_Header\`,
\`GTPPDUSessionContainer\`, \`GTPEchoRequest\`/\`Response\`) where it has them; the PPP framing
octets and the PKTAP header (Apple's \`net/pktap.h\`, little-endian) are written field by field.
tshark dissects every file (the pcap differential compares it with dnsvigil message by message).

| file | link type | how it was made | what is in it |
|---|---|---|---|
| \`nflog.pcap\` | $(summary "$O/nflog.pcap") | real: \`$IPT_VERSION\` and ip6tables rules \`-A OUTPUT -p udp/tcp --dport 53 -j NFLOG --nflog-group 5 --nflog-prefix dns-out\` and \`-A INPUT ... --sport 53 ... dns-in\` in the client namespace, \`tcpdump -i nflog:5 -w\` | every query (OUTPUT hook) and answer (INPUT hook) of the client, TCP handshake included, as NFLOG TLVs: packet header, prefix, interface index, uid/gid of the local socket, on INPUT also timestamp and hardware address/header, and the payload (the IP packet) |
| \`source-ethernet.pcap\` | $(summary "$O/source-ethernet.pcap") | real: \`tcpdump -i eth0 port 53\` on the client's veth | the lookups as Ethernet frames: the source of the derived files below |
| \`ppp.pcap\` | $(summary "$O/ppp.pcap") | derived | DLT_PPP: client-to-server frames with address/control FF 03 and the 2-octet protocol (0x0021 / 0x0057); server-to-client frames with both compressions (ACFC + PFC: the protocol as one octet 0x21 / 0x57), as a link whose two directions negotiated differently; an LCP echo request/reply pair first |
| \`ppp-hdlc.pcap\` | $(summary "$O/ppp-hdlc.pcap") | derived | LINKTYPE_PPP_HDLC (DLT_PPP_SERIAL): FF 03 and the 2-octet protocol in every frame |
| \`pppoe.pcap\` | $(summary "$O/pppoe.pcap") | derived | LINKTYPE_PPP_ETHER: PPPoE session header (version 1, type 1, code 0, session 0x1a2b) then PPP with the 2-octet protocol (RFC 2516 forbids ACFC); an LCP echo pair first |
| \`pptp-gre.pcap\` | $(summary "$O/pptp-gre.pcap") | derived | Ethernet, IPv4 198.51.100.7 (PPTP client) <-> 198.51.100.1 (PPTP server), enhanced GRE version 1 (key: payload length + call id 0x0a01/0x0b02, sequence numbers, acknowledgements), PPP with FF 03 and the 1-octet protocol; one acknowledgement-only GRE packet |
| \`gtpu.pcap\` | $(summary "$O/gtpu.pcap") | derived | Ethernet, IPv4 192.0.2.101 (gNB) <-> 192.0.2.102 (UPF), UDP 2152 both ways, GTPv1-U T-PDUs (TEID 0x1001 uplink, 0x2002 downlink) with a PDU session container extension header (UL / DL, QFI 9); an echo request/response pair first |
| \`pktap.pcap\` | $(summary "$O/pktap.pcap") | derived | LINKTYPE_PKTAP: a 108-octet PKTAP header (pth_type_next 1, direction flag, process dig, or knotd for the loopback answers) in front of each frame; the veth frames as pth_dlt 1 (EN10MB, interface en0), then the loopback lookups (dig @127.0.0.1 / @::1 in the server namespace) as pth_dlt 0 (NULL, interface lo0, address family 2 / 30 as macOS writes it) |

Expectation: dnsvigil decodes every DNS message of every file, the same ones tshark
dissects (\`tests/pcap/differential.py\`), and counts the non-DNS frames (LCP, GTP echo, the
GRE acknowledgement) without dropping anything else.
EOF
} >"$O/README.md"
for f in "$O"/*.pcap; do log "$(basename "$f"): $(summary "$f")"; done
log "done"
