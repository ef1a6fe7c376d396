#!/usr/bin/env bash
# make-readme.sh -- renders pcaps/README.md from lab/captures.tsv (written by cap_record in every make-*.sh) plus
# live numbers from capinfos/tshark, after the hand-written lab/README.header.md. Needs no lab.
set -euo pipefail
LAB_DIR=$(cd "$(dirname "$0")" && pwd); PCAPS_DIR=$(dirname "$LAB_DIR")
TSV=$LAB_DIR/captures.tsv
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
{
cat "$LAB_DIR/README.header.md"
echo
echo "## Tool versions (Debian 12 packages used for every capture)"
echo
echo "| package | version | | package | version |"
echo "|---|---|---|---|---|"
set -- bind9 bind9-dnsutils knot knot-dnsutils dnsrecon fierce dnsenum dnsmap gobuster iodine dns2tcp tcpdump \
       libpcap0.8 tcpreplay tshark python3 ethtool curl postfix postfix-policyd-spf-python opendkim opendmarc swaks \
       rspamd clamav-freshclam chromium nmap unbound lego pebble
while [ $# -gt 0 ]; do
  a=$1; shift; b=${1:-}; [ $# -gt 0 ] && shift
  echo "| $a | $(ver "$a") | | ${b:-} | ${b:+$(ver "$b")} |"
done
echo
echo "Kernel: $(uname -r) (no CONFIG_VLAN_8021Q). Python 3 for helpers: $(/usr/bin/python3 --version 2>&1)."
echo
echo "## Captures"
echo
echo "Counts: *packets* from \`capinfos -c\`, *DNS msgs* = \`tshark -r FILE -Y dns | wc -l\` (frames tshark decodes"
echo "as DNS, after its IP reassembly and TCP reassembly; a TCP segment carrying only part of a message is not counted)."
echo "*first packet* is the capture date (UTC). Link type EN10MB unless noted."
echo
last_dir=""
while IFS=$'\t' read -r file script cmd what expect; do
  f=$PCAPS_DIR/$file
  [ -f "$f" ] || continue
  dir=$(dirname "$file")
  if [ "$dir" != "$last_dir" ]; then
    d=pcaps/$dir/; [ "$dir" = . ] && d=pcaps/
    echo; echo "### \`$d\`"; echo; last_dir=$dir
  fi
  pk=$(capinfos -c -M "$f" 2>/dev/null | awk -F': *' '/Number of packets/{print $2}')
  lt=$(capinfos -E "$f" 2>/dev/null | awk -F': *' '/encapsulation/{print $2}')
  first=$(capinfos -a -S "$f" 2>/dev/null | awk -F': *' '/First packet/{print $2}' | cut -d. -f1)
  dur=$(capinfos -u -S "$f" 2>/dev/null | awk -F': *' '/Capture duration/{printf "%.1f", $2}')
  dn=$(tshark -r "$f" -Y dns 2>/dev/null | wc -l)
  echo "- **\`$(basename "$file")\`** — $(stat -c %s "$f") bytes, $pk packets, **$dn DNS msgs**, $lt, $dur s, first packet $(date -u -d "@$first" '+%Y-%m-%d %H:%M:%S') UTC"
  echo "  - contents: $what"
  echo "  - made by \`$script\`: $cmd"
  echo "  - expectation: **$expect**"
done <"$TSV"
echo
echo "Total size of pcaps/: $(du -cb $(find "$PCAPS_DIR" -name '*.pcap') | tail -1 | cut -f1) bytes in $(find "$PCAPS_DIR" -name '*.pcap' | wc -l) captures."
} >"$PCAPS_DIR/README.md"
echo "wrote $PCAPS_DIR/README.md"
