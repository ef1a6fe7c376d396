#!/usr/bin/env bash
# make-enumeration.sh -- pcaps/detect/enumeration/: brute-force subdomain enumeration by the usual tools with their
# default (or common) wordlists, once from the outside attacker straight at the authoritative 10.20.0.10 and once
# from workstation ws1 through the sanctioned resolver 10.20.0.53 (inside runs are captured with the filter
# "host 10.20.1.10" = the workstation's access port, so the resolver's upstream copies are not in the file).
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-enumeration.sh
O=$PCAPS_DIR/detect/enumeration
mkdir -p "$O"
cd "$LAB_TMP"   # dnsenum writes <domain>_ips.txt into the working directory
POS="enumeration MUST alert"
x() { local n=$1; shift; nsx "$n" timeout 900 "$@" >"$LAB_TMP/logs/enum-last.log" 2>&1 || true; }
WL_DNSENUM=/usr/share/dnsenum/dns.txt           # 1505 names (dnsenum's default list)

run() { # where(out|in) tool file-suffix description contents -- command...
  local where=$1 tool=$2 desc=$3 what=$4; shift 4
  local f=$O/pos-$tool-${where/out/outside}.pcap filt=""
  f=${f/-in.pcap/-inside.pcap}
  [ "$where" = in ] && filt="host 10.20.1.10 or host fd20::1:10"
  cap_start "$f" "$filt"
  "$@"
  cap_stop
  cap_record "$f" "$S" "$desc" "$what" "$POS"
  [ "$where" = in ] && rndc_in res1 flush >/dev/null 2>&1 || true   # next tool starts with a cold cache
}

for where in out in; do
  if [ $where = out ]; then C=atk SRV=10.20.0.10 WHO="outside attacker 203.0.113.66 -> authoritative 10.20.0.10"
  else C=ws1 SRV=10.20.0.53 WHO="workstation 10.20.1.10 -> sanctioned resolver 10.20.0.53"; fi
  # Debian's dnsrecon 1.1.3 looks for its default namelist.txt next to cli.py and does not find it
  # (packaging quirk), so the default list is passed explicitly with -D.
  run $where dnsrecon "$C: dnsrecon -d example.com -t brt -n $SRV -D /usr/share/dnsrecon/namelist.txt (the tool's default list, 1910 names)" \
    "$WHO: dnsrecon brute force of example.com (wildcard check, then ~1900 A/AAAA lookups, mostly NXDOMAIN)" \
    x $C dnsrecon -d example.com -t brt -n $SRV -D /usr/share/dnsrecon/namelist.txt
  run $where fierce "$C: fierce --domain example.com --dns-servers $SRV (default list fierce/lists/default.txt, 1594 names)" \
    "$WHO: fierce: NS/SOA, AXFR attempt on the SOA MNAME 10.20.0.10 (REFUSED), wildcard check, ~1600 A lookups, PTR lookups of neighbouring addresses of every hit (--traverse default 5)" \
    x $C fierce --domain example.com --dns-servers $SRV
  run $where dnsenum "$C: dnsenum --dnsserver $SRV -f $WL_DNSENUM --noreverse --nocolor example.com" \
    "$WHO: dnsenum: A/NS/MX, AXFR attempts on every NS (10.20.0.10 and 10.20.0.54, both REFUSED), brute force with dns.txt (1505 names)" \
    x $C dnsenum --dnsserver $SRV -f $WL_DNSENUM --noreverse --nocolor example.com
  run $where dnsmap "$C: dnsmap example.com (built-in wordlist; system resolver = /etc/netns/dv-$C/resolv.conf -> $SRV)" \
    "$WHO: dnsmap with its built-in wordlist via the system resolver (getaddrinfo: A and AAAA per name)" \
    x $C dnsmap example.com
  run $where gobuster "$C: gobuster dns -d example.com -r $SRV:53 -w $WL_DNSENUM -q -z" \
    "$WHO: gobuster 3.5 dns mode, 10 threads, wordlist dnsenum dns.txt (1505 names)" \
    x $C gobuster dns -d example.com -r $SRV:53 -w $WL_DNSENUM -q -z --no-color
done

# ---- negative: ordinary lookups by a workstation (browser-like A+AAAA, some HTTPS), ~40 s
neg() {
  local names="www.example.com mail.example.com intranet.example.com wiki.example.com jira.example.com
    confluence.example.com portal.example.com sso.example.com vpn.example.com owa.example.com teams.example.com
    files.example.com git.example.com jenkins.example.com grafana.example.com hr.example.com crm.example.com
    support.example.com docs.example.com www.microsoft.com login.live.com outlook.office.com www.google.com
    www.github.com api.github.com slack.com www.wikipedia.org stackoverflow.com www.bbc.co.uk debian.org"
  local n d=0
  for n in $names; do
    nsx ws1 dig +tries=1 +time=2 "$n" A >/dev/null 2>&1 || true
    nsx ws1 dig +tries=1 +time=2 "$n" AAAA >/dev/null 2>&1 || true
    case $n in www.*) nsx ws1 dig +tries=1 +time=2 "$n" HTTPS >/dev/null 2>&1 || true;; esac
    d=$(( (d * 7 + 3) % 13 )); sleep "0.$((d % 10))$d"
  done
}
cap_start "$O/neg-ordinary.pcap" "host 10.20.1.10 or host fd20::1:10"
neg
cap_stop
cap_record "$O/neg-ordinary.pcap" "$S" "ws1: dig A/AAAA(/HTTPS) for 31 names via 10.20.0.53 with short pauses (see neg())" \
  "ordinary workstation lookups: 18 names under example.com and 13 popular outside names, A+AAAA (+HTTPS for www.*), all resolving" \
  "enumeration must NOT alert"
log "enumeration done"
