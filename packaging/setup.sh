#!/usr/bin/env bash
# Installs every Debian 12 package dnsvigil needs to build, test and run its lab.
# Idempotent: installs only what is missing, runs `apt-get update` only when it has to.
#
#   packaging/setup.sh            build + test dependencies (what the README commands need)
#   packaging/setup.sh --lab      also the real tools the capture lab in pcaps/lab/ drives
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  libpcap-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libpsl-dev publicsuffix libcli11-dev
  libxxhash-dev libsystemd-dev libmicrohttpd-dev libfstrm-dev libprotobuf-c-dev protobuf-c-compiler
  libcurl4-openssl-dev
  catch2 libbenchmark-dev
  clang libclang-rt-14-dev
)
test_pkgs=(
  tshark tcpdump tcpreplay iproute2 dnsutils rsyslog systemd python3 logrotate man-db dpkg-dev
  bind9 unbound knot-dnsutils openssl curl
  chromium  # tests/report: the HTML report rendered headless
  clickhouse-server clickhouse-client
  iptables  # ops:nflog: rules copy DNS to a netfilter log group
)
lab_pkgs=(
  bind9 bind9-utils knot knot-dnsutils dnsrecon fierce dnsenum dnsmap gobuster iodine dns2tcp
  python3-scapy wireshark-common
  postfix swaks opendkim opendmarc postfix-policyd-spf-python rspamd clamav-freshclam chromium nmap unbound
  lego pebble openssl
  iptables ethtool  # make-linktypes.sh: NFLOG rules; lib.sh: offloads off on the lab links
)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [[ "${1:-}" == "--lab" ]]; then want+=("${lab_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are missing or older than a day.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n1)" ]]; then
  $sudo apt-get update -qq
fi
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
# postfix (lab only) asks for a mail configuration type; the lab writes its own configs, so none is made in /etc.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Servers installed here (bind9, unbound, knot, postfix ...) are for the tests and the lab, which start
# their own instances in network namespaces: the system services the packages enable on install
# are stopped and disabled. Servers that were installed before are left as they were.
if [[ -d /run/systemd/system ]]; then
  for p in "${missing[@]}"; do
    case "$p" in
      bind9) unit=named ;;
      unbound | knot | postfix | opendkim | opendmarc | rspamd | clamav-freshclam | clickhouse-server) unit=$p ;;
      *) continue ;;
    esac
    $sudo systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
fi
echo "setup: done"
