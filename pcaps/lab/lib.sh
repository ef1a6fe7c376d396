# shellcheck shell=bash
# lib.sh -- shared code of the dnsvigil capture lab. Sourced by make-*.sh; not run directly.
#
# Topology (all inside private network namespaces created here; nothing is connected to the
# root namespace and no namespace has a default route or any route outside the lab prefixes):
#
#   inside segment  = bridge br-in  in namespace dv-rtr  (10.20.0.0/16, fd20::/64)
#   outside segment = bridge br-out in namespace dv-rtr  (the "internet": 192.0.2.0/24 + public-looking /32s)
#   dv-rtr routes between the two (ip_forward=1 inside dv-rtr only).
#   br-in runs in "hub mode" (ageing_time 0, so every frame is flooded) and captures are taken on br-in:
#   they look like a tap/SPAN port on the internal segment (sees inside<->inside and inside<->outside).
#
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PCAPS_DIR=$(dirname "$LAB_DIR")
LAB_TMP=${LAB_TMP:-/tmp/dnsvigil-lab}
NSP=dv-
CAP_FILTER_BASE='port 53 or ip[6:2] & 0x1fff != 0 or ip6[6] == 44'
# ws2 (10.20.1.11) is reserved for the beaconing captures, which may run in parallel with everything else
CAP_EXCLUDE=${CAP_EXCLUDE-not (host 10.20.1.11 or host fd20::1:11)}

# name side mac ipv4-list ipv6-list role
LAB_HOSTS=(
  "auth in  02:00:0a:14:00:0a 10.20.0.10 fd20::10 authoritative-primary(BIND)"
  "res1 in  02:00:0a:14:00:35 10.20.0.53 fd20::53 sanctioned-resolver(BIND)"
  "res2 in  02:00:0a:14:00:36 10.20.0.54 fd20::54 sanctioned-resolver+secondary(BIND)"
  "ws1  in  02:00:0a:14:01:0a 10.20.1.10 fd20::1:10 workstation"
  "ws2  in  02:00:0a:14:01:0b 10.20.1.11 fd20::1:11 workstation(beaconing)"
  "ws3  in  02:00:0a:14:01:0c 10.20.1.12 fd20::1:12 workstation"
  "ws4  in  02:00:0a:14:01:0d 10.20.1.13 fd20::1:13 workstation"
  "mail in  02:00:0a:14:01:19 10.20.1.25 fd20::1:25 mail-server"
  "atk  out 02:00:cb:00:71:42 203.0.113.66 2001:db8:66::66 outside-attacker"
  "pub  out 02:00:08:08:08:08 8.8.8.8,1.1.1.1,9.9.9.9 2001:4860:4860::8888,2606:4700:4700::1111,2620:fe::fe public-resolvers(BIND)"
  "root out 02:00:c6:29:00:04 198.41.0.4 2001:503:ba3e::2:30 root+TLD-server(BIND)"
  "ext  out 02:00:c6:33:64:0a 198.51.100.10 2001:db8:51::10 outside-authoritative(knotd)"
  "tun  out 02:00:c6:33:64:35 198.51.100.53,198.51.100.54 2001:db8:51::53 tunnel-servers(iodined,dns2tcpd)"
  # ---- precision lab (benign infrastructure: make-precision.sh, make-zero_config.sh, make-edge.sh)
  "fwd   in  02:00:0a:14:00:3c 10.20.0.60 fd20::60 forwarding-resolver(Unbound)"
  "web   in  02:00:0a:14:02:27 10.20.2.39 fd20::2:39 intranet-web-server(intranet.example.com)"
  "siem  in  02:00:0a:14:09:0a 10.20.9.10 fd20::9:10 monitoring/SIEM(nmap)"
  "cdns  in  02:00:0a:14:0a:0a 10.20.10.10 fd20::a:10 k8s-cluster-DNS(BIND)"
  "knode in  02:00:0a:14:0a:0b 10.20.10.11 fd20::a:11 k8s-node"
  "ext2  out 02:00:c6:33:64:14 198.51.100.20 2001:db8:51::20 outside-authoritative-2(knotd:mail,DNSBL,AV,ACME-zones)"
  "ca    out 02:00:c6:33:64:1e 198.51.100.30 2001:db8:51::30 ACME-CA(pebble)"
  "snd1  out 02:00:c6:12:0a:01 $(seq -s, -f 198.18.10.%g 41 52),198.18.11.27,198.18.11.28,198.18.11.29,$(seq -s, -f 198.18.20.%g 41 48),198.18.21.10,198.18.21.11 2001:db8:18::1 mail-senders(Postfix+OpenDKIM:google-lab,outlook-lab)"
  "snd2  out 02:00:c6:12:1e:01 $(seq -s, -f 198.18.30.%g 10 15),198.18.31.25,$(seq -s, -f 198.18.40.%g 41 46),198.18.41.25 2001:db8:18::2 mail-senders(Postfix+OpenDKIM:sendgrid-lab,amazonses-lab)"
  "snd3  out 02:00:c6:13:03:01 $(for i in $(seq 0 15); do printf '198.19.%d.%d,' $((3 + i / 8)) $((20 + i * 3)); done)198.19.77.23 2001:db8:19::3 mail-senders(Postfix+OpenDKIM:self-hosted)"
  "refl  out 02:00:64:40:00:35 100.64.0.53 2001:db8:64::53 open-resolvers(BIND;make-edge.sh-adds-300-addresses)"
)
for _i in $(seq 10 39); do   # ws10..ws39: precision-lab workstations on 10.20.8.0/24
  LAB_HOSTS+=("ws$_i in 02:00:0a:14:08:$(printf %02x "$_i") 10.20.8.$_i fd20::8:$_i workstation(precision)")
done
OUT4="203.0.113.0/24 198.51.100.0/24 198.41.0.0/24 8.8.8.8/32 1.1.1.1/32 9.9.9.9/32 198.18.0.0/15 100.64.0.0/10"
OUT6="2001:db8::/32 2001:4860:4860::/48 2606:4700:4700::/48 2620:fe::/48 2001:503:ba3e::/48"
RTR_IN4=10.20.255.254 RTR_IN6=fd20::ffff RTR_OUT4=192.0.2.1 RTR_OUT6=2001:db8:ffff::1

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
nsx() { local n=$1; shift; ip netns exec "$NSP$n" "$@"; }   # run a command in host namespace n

host_field() { # host field-index (1=side 2=mac 3=v4 4=v6 5=role)
  local h
  for h in "${LAB_HOSTS[@]}"; do
    set -- $h
    if [ "$1" = "$HF_NAME" ]; then shift; eval "echo \${$HF_IDX}"; return; fi
  done
}
hf() { HF_NAME=$1 HF_IDX=$2 host_field; }

# ------------------------------------------------------------------ process bookkeeping
bg_start() { # tag ns cmd... : start a background process in a namespace, remember its pid
  local tag=$1 ns=$2; shift 2
  mkdir -p "$LAB_TMP/pids" "$LAB_TMP/logs"
  ip netns exec "$NSP$ns" "$@" >"$LAB_TMP/logs/$tag.log" 2>&1 &
  echo $! >"$LAB_TMP/pids/$tag.pid"
}
bg_stop() { # tag [signal]
  local f=$LAB_TMP/pids/$1.pid p i
  [ -f "$f" ] || return 0
  p=$(cat "$f"); rm -f "$f"
  kill -"${2:-TERM}" "$p" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}

# ------------------------------------------------------------------ topology
lab_down() {
  local f
  if [ -d "$LAB_TMP/pids" ]; then
    for f in "$LAB_TMP"/pids/*.pid; do [ -e "$f" ] || continue; bg_stop "$(basename "$f" .pid)"; done
  fi
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NSP" || true); do
    ip netns del "$n" 2>/dev/null || true
    rm -rf "/etc/netns/$n"
  done
  rmdir /etc/netns 2>/dev/null || true   # only if empty
  rm -rf "$LAB_TMP"
}

lab_net_up() {
  local h name side mac v4 v6 a p
  ip netns add ${NSP}rtr
  nsx rtr ip link set lo up
  nsx rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
      net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
  for br in br-in br-out; do
    nsx rtr ip link add $br type bridge ageing_time 0 stp_state 0 mcast_snooping 0
    nsx rtr ip link set $br up
    nsx rtr ethtool -K $br tso off gso off gro off tx off >/dev/null 2>&1 || true
    nsx rtr ip addr add fe80::1/64 dev $br nodad
  done
  nsx rtr ip link set br-in address 02:00:0a:14:ff:fe
  nsx rtr ip link set br-out address 02:00:c0:00:02:01
  nsx rtr ip addr add $RTR_IN4/16 dev br-in
  nsx rtr ip addr add $RTR_IN6/64 dev br-in nodad
  nsx rtr ip addr add $RTR_OUT4/24 dev br-out
  nsx rtr ip addr add $RTR_OUT6/64 dev br-out nodad
  for p in $OUT4; do nsx rtr ip route replace "$p" dev br-out; done
  for p in $OUT6; do nsx rtr ip -6 route replace "$p" dev br-out; done
  for h in "${LAB_HOSTS[@]}"; do
    set -- $h; name=$1 side=$2 mac=$3 v4=$4 v6=$5
    ip netns add "$NSP$name"
    nsx "$name" ip link set lo up
    nsx "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
        net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0
    nsx rtr ip link add "p-$name" type veth peer name eth0 netns "$NSP$name"
    nsx rtr ip link set "p-$name" master "br-$side" up
    nsx "$name" ip link set eth0 address "$mac"
    # no segmentation/checksum offloads: the tap must see wire-sized frames with real checksums
    nsx "$name" ethtool -K eth0 tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
    nsx rtr ethtool -K "p-$name" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
    nsx "$name" ip link set eth0 up
    if [ "$side" = in ]; then
      for a in ${v4//,/ }; do nsx "$name" ip addr add "$a/16" dev eth0; done
      for a in ${v6//,/ }; do nsx "$name" ip addr add "$a/64" dev eth0 nodad; done
      for p in $OUT4; do nsx "$name" ip route add "$p" via $RTR_IN4; done
      for p in $OUT6; do nsx "$name" ip -6 route add "$p" via fe80::1 dev eth0; done
    else
      for a in ${v4//,/ }; do nsx "$name" ip addr add "$a/32" dev eth0; done
      for a in ${v6//,/ }; do nsx "$name" ip addr add "$a/128" dev eth0 nodad; done
      nsx "$name" ip route add 192.0.2.0/24 dev eth0
      for p in $OUT4; do nsx "$name" ip route add "$p" dev eth0 2>/dev/null || true; done
      nsx "$name" ip route add 10.20.0.0/16 via $RTR_OUT4 dev eth0
      for p in $OUT6; do nsx "$name" ip -6 route add "$p" dev eth0 2>/dev/null || true; done
      nsx "$name" ip -6 route add fd20::/64 via fe80::1 dev eth0
    fi
  done
  # resolver configuration for tools that use the system resolver (ip netns exec bind-mounts it)
  for name in ws1 ws2 ws3 ws4 mail fwd web siem cdns knode $(seq -f 'ws%g' 10 39); do
    mkdir -p "/etc/netns/$NSP$name"; echo "nameserver 10.20.0.53" >"/etc/netns/$NSP$name/resolv.conf"
  done
  for name in auth res1 res2 rtr; do
    mkdir -p "/etc/netns/$NSP$name"; echo "nameserver 127.0.0.1" >"/etc/netns/$NSP$name/resolv.conf"
  done
  mkdir -p "/etc/netns/${NSP}atk"; echo "nameserver 10.20.0.10" >"/etc/netns/${NSP}atk/resolv.conf"
  for name in pub root ext tun ext2 ca snd1 snd2 snd3 refl; do
    mkdir -p "/etc/netns/$NSP$name"; echo "nameserver 8.8.8.8" >"/etc/netns/$NSP$name/resolv.conf"
  done
}

# ------------------------------------------------------------------ servers
RNDC_SECRET=ZG5zdmlnaWwtbGFiLXJuZGMta2V5LW5vdC1hLXNlY3JldA==   # lab-only key, fixed for reproducibility

named_common() { # dir listen4 listen6
  cat <<EOF
include "$LAB_TMP/rndc.key";
controls { inet 127.0.0.1 port 953 allow { 127.0.0.1; } keys { "rndc-key"; }; };
options {
  directory "$1";
  pid-file "$1/named.pid";
  session-keyfile "$1/session.key";
  managed-keys-directory "$1";
  key-directory "$1/keys";
  listen-on { $2; 127.0.0.1; };
  listen-on-v6 { $3; };
  allow-query { any; };
  check-names primary ignore;
  check-names secondary ignore;
  check-names response ignore;
  dnssec-validation no;
  notify no;
  querylog no;
  server-id "lab";
EOF
}

write_rndc() {
  cat >"$LAB_TMP/rndc.key" <<EOF
key "rndc-key" { algorithm hmac-sha256; secret "$RNDC_SECRET"; };
EOF
  cat >"$LAB_TMP/rndc.conf" <<EOF
include "$LAB_TMP/rndc.key";
options { default-key "rndc-key"; default-server 127.0.0.1; default-port 953; };
EOF
}
rndc_in() { local n=$1; shift; nsx "$n" rndc -c "$LAB_TMP/rndc.conf" "$@"; }

start_auth() {
  local D=$LAB_TMP/auth d
  mkdir -p "$D/keys" "$D/keys-secure" "$D/keys-example"
  cp "$LAB_DIR"/zones/auth/*.zone "$D/"
  # Both signed zones are signed once at lab start (offline, dnssec-signzone) so that they never change while
  # captures run (no re-signing NOTIFY/IXFR noise):
  #   secure.example.com: NSEC3 (no salt, 0 iterations); its DS is $INCLUDEd into example.com
  #   example.com: NSEC, KSK+ZSK ECDSAP256SHA256
  ( cd "$D"
    dnssec-keygen -q -K keys-secure -a ECDSAP256SHA256 -f KSK secure.example.com >/dev/null
    dnssec-keygen -q -K keys-secure -a ECDSAP256SHA256 secure.example.com >/dev/null
    dnssec-signzone -q -S -K keys-secure -3 - -H 0 -o secure.example.com -d "$D" \
      -f secure.example.com.zone.signed secure.example.com.zone >/dev/null
    dnssec-keygen -q -K keys-example -a ECDSAP256SHA256 -f KSK example.com >/dev/null
    dnssec-keygen -q -K keys-example -a ECDSAP256SHA256 example.com >/dev/null
    dnssec-signzone -q -S -K keys-example -o example.com -d "$D" \
      -f example.com.zone.signed example.com.zone >/dev/null )
  { named_common "$D" 10.20.0.10 fd20::10
    cat <<EOF
  recursion no;
  allow-transfer { none; };
  max-udp-size 4096;
  edns-udp-size 4096;
  minimal-responses no;
  version "9.18-dnsvigil-lab";
};
zone "example.com" { type primary; file "example.com.zone.signed"; allow-transfer { 10.20.0.54; fd20::54; }; };
zone "secure.example.com" { type primary; file "secure.example.com.zone.signed"; allow-transfer { 10.20.0.54; fd20::54; }; };
zone "example.net" {
  type primary; file "example.net.zone"; allow-transfer { any; };
  allow-update { 127.0.0.1; }; notify explicit; also-notify { 10.20.0.54; };
};
zone "big.example.net" { type primary; file "big.example.net.zone"; allow-transfer { any; }; };
zone "20.10.in-addr.arpa" { type primary; file "20.10.in-addr.arpa.zone"; allow-transfer { 10.20.0.54; fd20::54; }; };
zone "0.0.0.0.0.0.0.0.0.0.0.0.0.2.d.f.ip6.arpa" { type primary; file "fd20.ip6.arpa.zone"; };
zone "example.org" {
  type primary; file "example.org.zone"; allow-transfer { 10.20.0.54; fd20::54; };
  notify explicit; also-notify { 10.20.0.54; };
};
EOF
    while read -r d; do
      echo "zone \"$d\" { type primary; file \"cust-$d.zone\"; };"
    done <"$LAB_DIR/zones/customers.txt"
  } >"$D/named.conf"
  bg_start named-auth auth named -c "$D/named.conf" -g -n 2
}

resolver_conf() { # dir v4 v6 extra-zones
  named_common "$1" "$2" "$3"
  cat <<EOF
  recursion yes;
  allow-recursion { 10.20.0.0/16; fd20::/64; 127.0.0.1; };
  allow-transfer { none; };
  disable-empty-zone "10.IN-ADDR.ARPA";
  disable-empty-zone "D.F.IP6.ARPA";
};
zone "." { type hint; file "$LAB_TMP/root.hints"; };
$4
zone "t1.badexample.org" { type forward; forward only; forwarders { 198.51.100.53; }; };
zone "d1.badexample.org" { type forward; forward only; forwarders { 198.51.100.54; }; };
EOF
}
stub() { echo "zone \"$1\" { type stub; primaries { 10.20.0.10; }; file \"$1.stub\"; };"; }

start_resolvers() {
  local D
  D=$LAB_TMP/res1; mkdir -p "$D/keys"
  resolver_conf "$D" 10.20.0.53 fd20::53 "$(stub example.com; stub example.net; stub big.example.net; stub 20.10.in-addr.arpa; stub 0.0.0.0.0.0.0.0.0.0.0.0.0.2.d.f.ip6.arpa; stub example.org)" >"$D/named.conf"
  bg_start named-res1 res1 named -c "$D/named.conf" -g -n 2
  D=$LAB_TMP/res2; mkdir -p "$D/keys"
  resolver_conf "$D" 10.20.0.54 fd20::54 "$(
    for z in example.com secure.example.com example.net big.example.net 20.10.in-addr.arpa example.org; do
      echo "zone \"$z\" { type secondary; primaries { 10.20.0.10; }; file \"$z.bk\"; masterfile-format text; };"
    done
    stub 0.0.0.0.0.0.0.0.0.0.0.0.0.2.d.f.ip6.arpa)" >"$D/named.conf"
  bg_start named-res2 res2 named -c "$D/named.conf" -g -n 2
}

start_pub() {
  local D=$LAB_TMP/pub; mkdir -p "$D/keys"
  { named_common "$D" "8.8.8.8; 1.1.1.1; 9.9.9.9" "2001:4860:4860::8888; 2606:4700:4700::1111; 2620:fe::fe"
    cat <<EOF
  listen-on port 853 tls ephemeral { 1.1.1.1; };
  recursion yes;
  allow-recursion { any; };
};
zone "." { type hint; file "$LAB_TMP/root.hints"; };
EOF
  } >"$D/named.conf"
  bg_start named-pub pub named -c "$D/named.conf" -g -n 2
}

start_root() {
  local D=$LAB_TMP/root z; mkdir -p "$D/keys"
  cp "$LAB_DIR"/zones/root/*.zone "$D/"
  { named_common "$D" 198.41.0.4 2001:503:ba3e::2:30
    echo '  recursion no; minimal-responses no-auth;'
    echo '};'
    echo 'zone "." { type primary; file "root.zone"; };'
    for z in "$D"/*.zone; do z=$(basename "$z" .zone); [ "$z" = root ] && continue   # every TLD in zones/root/
      echo "zone \"$z\" { type primary; file \"$z.zone\"; };"; done
  } >"$D/named.conf"
  bg_start named-root root named -c "$D/named.conf" -g -n 1
}

# knot_conf DIR V4 V6 PAYLOAD IDENTITY LOGLEVEL ZONE_LIST [TEMPLATE_LINE]: a knotd configuration serving the zones
# named in ZONE_LIST from DIR/zones on V4 and V6, port 53.
knot_conf() {
  local D=$1 d
  cat <<EOF
server:
    rundir: "$D"
    pidfile: "$D/knot.pid"
    listen: [ $2@53, $3@53 ]
    udp-max-payload: $4
    identity: "$5"
    version: "knot-dnsvigil-lab"
log:
  - target: stderr
    any: $6
database:
    storage: "$D/db"
template:
  - id: default
    storage: "$D/zones"
    file: "%s.zone"
    journal-content: none
    zonefile-sync: -1
EOF
  [ -z "${8:-}" ] || echo "    $8"
  echo "zone:"
  while read -r d; do echo "  - domain: $d"; done <"$7"
}

start_ext() {
  local D=$LAB_TMP/ext; mkdir -p "$D/zones" "$D/db"
  cp "$LAB_DIR"/zones/ext/*.zone "$D/zones/"
  knot_conf "$D" 198.51.100.10 2001:db8:51::10 4096 lab info "$LAB_DIR/zones/ext-zones.txt" >"$D/knot.conf"
  bg_start knotd-ext ext knotd -c "$D/knot.conf"
}

# ext2 (198.51.100.20 = ns2.ext-dns.com): the precision lab's outside zones (zones/prec/, gen-zones-precision.py):
# mail sender domains + providers, reverse zones of the senders, DNS blocklists, clamav.net, cymru.com, ACME zones.
# The DKIM keys listed in zones/prec/dkim-keys.txt are made here at lab start (RSA, openssl) and their TXT records
# appended to the zone copies; make-precision.sh's signers use $LAB_TMP/ext2/dkim/<keyid>.pem.
start_ext2() {
  local D=$LAB_TMP/ext2 d z owner bits id
  mkdir -p "$D/zones" "$D/db" "$D/dkim"
  cp "$LAB_DIR"/zones/prec/*.zone "$D/zones/"
  grep -v '^#' "$LAB_DIR/zones/prec/dkim-keys.txt" | awk '{print $4, $3}' |
    xargs -P 4 -n 2 sh -c 'openssl genrsa -out "$0/$1.pem" "$2" 2>/dev/null' "$D/dkim"
  while read -r z owner bits id; do
    case $z in '#'*|'') continue;; esac
    d=$(openssl rsa -in "$D/dkim/$id.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
    printf '%s. 3600 TXT %s\n' "$owner" "$(printf 'v=DKIM1; k=rsa; p=%s' "$d" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' ')" \
      >>"$D/zones/$z.zone"
  done <"$LAB_DIR/zones/prec/dkim-keys.txt"
  knot_conf "$D" 198.51.100.20 2001:db8:51::20 1232 lab2 notice "$LAB_DIR/zones/prec-zones.txt" "semantic-checks: off" >"$D/knot.conf"
  bg_start knotd-ext2 ext2 knotd -c "$D/knot.conf"
}

wait_dns() { # ns server name [type]
  local i
  for i in $(seq 1 100); do
    if nsx "$1" dig +time=1 +tries=1 +short @"$2" "$3" "${4:-SOA}" 2>/dev/null | grep -q .; then return 0; fi
    sleep 0.2
  done
  die "server $2 did not answer $3 ${4:-SOA} in time (see $LAB_TMP/logs/)"
}

lab_servers_up() {
  write_rndc
  printf '.\t3600000\tNS\ta.root-servers.net.\na.root-servers.net.\t3600000\tA\t198.41.0.4\na.root-servers.net.\t3600000\tAAAA\t2001:503:ba3e::2:30\n' >"$LAB_TMP/root.hints"
  start_root; start_ext; start_ext2; start_auth
  wait_dns ws1 198.41.0.4 com; wait_dns ws1 198.51.100.10 microsoft.com; wait_dns ws1 10.20.0.10 example.com
  wait_dns ws1 198.51.100.20 zen.spamhaus.org
  start_resolvers; start_pub
  wait_dns ws1 10.20.0.53 example.com; wait_dns ws1 10.20.0.54 example.com; wait_dns ws1 8.8.8.8 com
  local i; for i in $(seq 1 100); do   # secondary loaded example.com
    nsx ws1 dig +short +norec @10.20.0.54 example.com DNSKEY | grep -q . && break; sleep 0.2; done
  for i in $(seq 1 100); do   # secondary loaded example.org (asked on res2's loopback: not on the wire)
    nsx res2 dig +short +norec @127.0.0.1 example.org SOA | grep -q . && break; sleep 0.2; done
  # warm nothing: resolver caches start empty so captures show real upstream recursion
}

# lab_up: builds the whole lab unless the caller (make-all.sh) already did (LAB_SHARED=1).
lab_up() {
  if [ "${LAB_SHARED:-0}" = 1 ] && [ -f "$LAB_TMP/up" ]; then return 0; fi
  require_tools
  lab_down
  mkdir -p "$LAB_TMP"
  LAB_OWNER=1
  trap 'rc=$?; lab_down; exit $rc' EXIT
  trap 'exit 130' INT TERM
  log "building lab namespaces"
  lab_net_up
  log "starting servers"
  lab_servers_up
  touch "$LAB_TMP/up"
  log "lab is up"
}

# path MTU of the authoritative server (route MTU, so IPv6 is not disabled as a <1280 link MTU would do)
auth_mtu4() { # [mtu]  (empty = back to the 1500 link MTU)
  local m=(); [ -n "${1:-}" ] && m=(mtu lock "$1")
  nsx auth ip route replace 10.20.0.0/16 dev eth0 proto kernel scope link src 10.20.0.10 "${m[@]}"
  for p in $OUT4; do nsx auth ip route replace "$p" via $RTR_IN4 dev eth0 "${m[@]}"; done
  nsx auth ip route flush cache
}
auth_mtu6() { # [mtu]
  local m=(); [ -n "${1:-}" ] && m=(mtu "$1")
  nsx auth ip -6 route replace fd20::/64 dev eth0 proto kernel metric 256 "${m[@]}"
  for p in $OUT6; do nsx auth ip -6 route replace "$p" via fe80::1 dev eth0 "${m[@]}"; done
  nsx auth ip -6 route flush cache
}

# BIND's UDP sockets use IP_PMTUDISC_OMIT, i.e. they fragment at the *link* MTU. A link MTU < 1280 disables IPv6
# on the interface, so auth_linkmtu puts the IPv6 address/routes back afterwards (named rescans interfaces).
auth_linkmtu() { # mtu
  nsx auth ip link set eth0 mtu "$1"
  if [ "$1" -ge 1280 ] && ! nsx auth ip -6 addr show dev eth0 | grep -q fd20::10; then
    nsx auth sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
    nsx auth ip addr add fd20::10/64 dev eth0 nodad 2>/dev/null || true
    for p in $OUT6; do nsx auth ip -6 route replace "$p" via fe80::1 dev eth0; done
    rndc_in auth scan >/dev/null 2>&1 || true
    wait_dns ws1 fd20::10 example.com
  fi
}

require_tools() {
  local t missing=
  for t in ip tcpdump tshark capinfos mergecap editcap tcprewrite ethtool named dnssec-keygen dnssec-signzone \
           knotd dig kdig nslookup rndc nsupdate openssl "$@"; do command -v "$t" >/dev/null || missing="$missing $t"; done
  [ -z "$missing" ] || die "missing tools:$missing (apt-get install -y bind9 bind9-dnsutils knot knot-dnsutils tcpdump tshark tcpreplay ethtool ...)"
}

# ------------------------------------------------------------------ capture helpers
# cap_start OUT.pcap [extra-bpf] [ns] [iface] [tcpdump-opts...]
cap_start() {
  local out=$1 extra=${2:-} ns=${3:-rtr} ifc=${4:-br-in}; shift $(( $# < 4 ? $# : 4 ))
  local filt="${CAP_BASE:-$CAP_FILTER_BASE}" tag
  [ -n "$extra" ] && filt="($filt) and ($extra)"
  [ -n "${CAP_EXCLUDE-}" ] && filt="($filt) and ($CAP_EXCLUDE)"
  mkdir -p "$(dirname "$out")"
  rm -f "$out"
  tag=cap-$(basename "$out" .pcap)-$$
  CAP_TAG=$tag
  bg_start "$tag" "$ns" tcpdump -n -i "$ifc" -s 0 -U "$@" -w "$out" "$filt"
  local i; for i in $(seq 1 100); do grep -q 'listening on' "$LAB_TMP/logs/$tag.log" 2>/dev/null && break; sleep 0.1; done
  grep -q 'listening on' "$LAB_TMP/logs/$tag.log" || die "tcpdump did not start: $(cat "$LAB_TMP/logs/$tag.log")"
  sleep 0.3
}
cap_stop() { # [tag]
  sleep "${CAP_TAIL:-1}"
  bg_stop "${1:-$CAP_TAG}" INT
}

# one-line summary used for checks and by make-readme.sh
cap_summary() {
  local f=$1 pk dn lt
  pk=$(capinfos -c -M "$f" 2>/dev/null | awk -F': *' '/Number of packets/{print $2}')
  lt=$(capinfos -E "$f" 2>/dev/null | awk -F': *' '/encapsulation/{print $2}')
  dn=$(tshark -r "$f" -Y dns 2>/dev/null | wc -l)
  printf '%s: %s bytes, %s packets, %s DNS msgs, %s\n' "${f#"$PCAPS_DIR"/}" "$(stat -c %s "$f")" "$pk" "$dn" "$lt"
}

# provenance record: pcaps/lab/captures.tsv  (file \t script \t command \t contents \t expectation)
cap_record() {
  local file=${1#"$PCAPS_DIR"/} script=$2 cmd=$3 what=$4 expect=$5 tsv=$LAB_DIR/captures.tsv tmp
  touch "$tsv"; tmp=$(mktemp)
  awk -F'\t' -v f="$file" '$1 != f' "$tsv" >"$tmp"
  printf '%s\t%s\t%s\t%s\t%s\n' "$file" "$script" "$cmd" "$what" "$expect" >>"$tmp"
  sort -t$'\t' -k1,1 "$tmp" >"$tsv"; rm -f "$tmp"
  log "$(cap_summary "$PCAPS_DIR/$file")"
}

# deterministic pseudo-random helpers (seeded, so re-runs produce the same names)
prng_names() { # seed count kind(b32|alnum30)
  /usr/bin/python3 - "$@" <<'EOF'
import sys, random, base64, string
seed, n, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = random.Random(seed)
for i in range(n):
    if kind == "b32":
        raw = bytes(r.randrange(256) for _ in range(20))
        print(base64.b32encode(raw).decode().rstrip("=").lower())
    else:
        print("".join(r.choice(string.ascii_lowercase + string.digits) for _ in range(30)))
EOF
}

# ------------------------------------------------------------------ background "user" traffic
# client_plan seed seconds mean-gap : prints "sleep-before name qtype" lines for a browsing-like client
client_plan() {
  /usr/bin/python3 - "$@" <<'PY'
import random, sys
seed, dur, mean = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
r = random.Random(seed)
sites = ["www.example.com","mail.example.com","intranet.example.com","wiki.example.com","jira.example.com",
 "confluence.example.com","portal.example.com","sso.example.com","files.example.com","teams.example.com",
 "vpn.example.com","git.example.com","grafana.example.com","hr.example.com","support.example.com",
 "www.microsoft.com","login.live.com","outlook.office.com","www.office.com","www.google.com","www.gstatic.com",
 "fonts.googleapis.com","www.github.com","api.github.com","slack.com","app.slack.com","www.wikipedia.org",
 "en.wikipedia.org","stackoverflow.com","www.python.org","debian.org","www.bbc.co.uk","www.linkedin.com",
 "www.youtube.com","www.amazon.com","www.apple.com","zoom.us","www.cloudflare.com","www.contoso.com",
 "www.fabrikam.com","e2877.dscb.akamaiedge.net","d3ab9cdef12345.cloudfront.net","windowsupdate.com",
 "www.msftconnecttest.com","ctldl.windowsupdate.com"]
t = 0.0; gap = 0.0
while t < dur:
    burst = [r.choice(sites)] + r.sample(sites, r.randint(0, 3))
    for i, n in enumerate(burst):
        for q in (["A", "AAAA", "HTTPS"] if n.startswith("www.") and r.random() < 0.5 else ["A", "AAAA"]):
            print(f"{gap if i == 0 and q == 'A' else 0.02:.2f} {n} {q}")
    gap = r.expovariate(1 / mean) + 0.2
    t += gap
PY
}
# run_plan client resolver planfile : replays a plan with dig (foreground; run it with & for parallel clients)
run_plan() {
  local c=$1 srv=$2 w n q
  while read -r w n q; do sleep "$w"; nsx "$c" dig +tries=1 +time=2 @"$srv" "$n" "$q" >/dev/null 2>&1 || true; done <"$3"
}
