#!/usr/bin/env bash
# make-precision.sh [capture...] -- pcaps/detect/precision/: the benign-infrastructure ("precision") lab. Real Debian
# software doing its ordinary DNS at realistic-but-compressed rates: Postfix + policyd-spf + OpenDKIM + OpenDMARC
# receiving mail from many domains, rspamd's stock DNSBL/URIBL lookups, freshclam, AV hash reputation lookups,
# headless Chromium, an nmap list scan, a Kubernetes node with ndots:5, an Unbound forwarder and lego's DNS-01
# polling. On every capture here no detector may alert. Full tap view on br-in (no host filter) unless noted.
# Captures (default: all): mail dnsbl freshclam avhash chromium ptrsweep k8s forwarder acme
# Servers configs are generated under $LAB_TMP (nothing in /etc is touched); each server runs in its lab namespace.
. "$(dirname "$0")/lib.sh"
require_tools postfix swaks opendkim opendmarc policyd-spf rspamd rspamc freshclam chromium nmap unbound lego pebble openssl
lab_up
S=lab/make-precision.sh
O=$PCAPS_DIR/detect/precision
mkdir -p "$O"
NEG="no detector may alert"
T0=$(date +%s)
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
ONLY="$*"
x() { local n=$1; shift; nsx "$n" "$@" >/dev/null 2>&1 || true; }
resolv() { # ns line... : the namespace's /etc/resolv.conf (bind-mounted by ip netns exec)
  local n=$1; shift; mkdir -p "/etc/netns/$NSP$n"; printf '%s\n' "$@" >"/etc/netns/$NSP$n/resolv.conf"; }
waitport() { # ns addr port  (TCP)
  local i; for i in $(seq 1 100); do nsx "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0; sleep 0.2; done
  die "nothing listens on $2:$3 in $1 (see $LAB_TMP/logs/)"
}
PREC=$LAB_DIR/zones/prec
ptr_of() { # a.b.c.d -> its PTR name in the precision reverse zones (empty if none)
  local a b c d; IFS=. read -r a b c d <<<"$1"
  awk -v o="$d.$c" '$1 == o && $2 == "PTR" {sub(/\.$/, "", $3); print $3}' "$PREC/$b.$a.in-addr.arpa.zone" 2>/dev/null
}

# ====================================================================== Postfix helpers
# pf_conf name myhostname : writes $LAB_TMP/pf-<name>/{main,master}.cf; extra main.cf lines on stdin, extra
# master.cf lines in $PF_MASTER_EXTRA. Debian's Postfix binaries, own config/queue/data dirs, no chroot.
pf_conf() {
  local D=$LAB_TMP/pf-$1
  mkdir -p "$D/etc" "$D/queue" "$D/data"
  chown postfix "$D/data"
  { cat <<EOF
compatibility_level = 3.6
queue_directory = $D/queue
data_directory = $D/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = $2
inet_interfaces = all
maillog_file = $LAB_TMP/logs/postfix-$1.maillog
maillog_file_prefixes = $LAB_TMP
smtpd_banner = \$myhostname ESMTP
biff = no
append_dot_mydomain = no
readme_directory = no
alias_maps =
alias_database =
EOF
    cat
  } >"$D/etc/main.cf"
  { cat <<'EOF'
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    printf '%s\n' "${PF_MASTER_EXTRA:-}"
  } >"$D/etc/master.cf"
}
pf_start() { # name ns
  local D=$LAB_TMP/pf-$1
  nsx "$2" postfix -c "$D/etc" check >>"$LAB_TMP/logs/postfix-$1.check" 2>&1 || true
  bg_start "postfix-$1" "$2" /usr/lib/postfix/sbin/master -c "$D/etc" -d
  waitport "$2" 127.0.0.1 25
}
# opendkim_conf name mode(s|v) port [extra lines...]
opendkim_conf() {
  local D=$LAB_TMP/dkim-$1 n=$1 mode=$2 port=$3; shift 3
  mkdir -p "$D"
  { printf '%s\n' "Mode $mode" "Socket inet:$port@127.0.0.1" "PidFile $D/opendkim.pid" "Syslog no" \
      "Canonicalization relaxed/relaxed" "UMask 007" "RequireSafeKeys no" "$@"; } >"$D/opendkim.conf"
}

# ====================================================================== 1. mail-postfix-inbound
cap_mail() {
  local M=$LAB_TMP/mailplan D ns d kind ips sig ip tr k s n f
  /usr/bin/python3 "$LAB_DIR/mailplan.py" "$PREC/senders.tsv" mail-inbound "${MAIL_SECS:-255}" 1.0 "$M" >"$LAB_TMP/logs/mailplan.log"
  # ---- the receiving side: mail 10.20.1.25 (resolver 10.20.0.53 from its resolv.conf)
  D=$LAB_TMP/pf-mail; mkdir -p "$D"
  printf '%s OK\n' alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent \
    victor walter sales support info hr billing security jobs it-helpdesk facilities legal press postmaster abuse \
    dmarc-rua dmarc-ruf | sed 's/ OK$/@example.com OK/' >"$D/vmailbox"
  { echo "partners-fwd@example.com olivia@example.com, j.smith@brightpath-consulting.com, procurement@westbrook-logistics.com, info@kleinbauer-gmbh.de"
    echo "board-fwd@example.com victor@example.com, office@hackerspace-lab.org, l.martin@granite-insurance.com, kontakt@weber-maschinenbau.de, hello@coastal-kayak.us"
  } >"$D/valias"
  cp /etc/postfix-policyd-spf-python/policyd-spf.conf "$D/policyd-spf.conf"
  PF_MASTER_EXTRA="policyd-spf unix -  n       n       -       0       spawn user=nobody argv=/usr/bin/policyd-spf $D/policyd-spf.conf" \
  pf_conf mail mail.example.com <<EOF
mydomain = example.com
myorigin = \$mydomain
inet_protocols = all
mydestination = localhost
mynetworks = 127.0.0.0/8 10.20.0.0/16 [fd20::]/64
virtual_mailbox_domains = example.com
virtual_mailbox_maps = texthash:$D/vmailbox
virtual_alias_maps = texthash:$D/valias
virtual_transport = discard:
smtpd_helo_required = yes
smtpd_client_restrictions = permit_mynetworks, warn_if_reject reject_unknown_reverse_client_hostname, reject_rbl_client zen.spamhaus.org
smtpd_helo_restrictions = permit_mynetworks, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, warn_if_reject reject_unknown_helo_hostname
smtpd_sender_restrictions = permit_mynetworks, reject_non_fqdn_sender, reject_unknown_sender_domain, reject_rhsbl_sender dbl.spamhaus.org
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, check_policy_service unix:private/policyd-spf
policyd-spf_time_limit = 3600
smtpd_milters = inet:127.0.0.1:8891, inet:127.0.0.1:8893
non_smtpd_milters = \$smtpd_milters
milter_default_action = accept
milter_header_checks = regexp:$D/milter_header_checks
smtp_tls_security_level = none
EOF
  echo '/^Authentication-Results:/ WARN' >"$D/milter_header_checks"   # logs the milters' verdicts in the maillog
  opendkim_conf mail v 8891 "Nameservers 10.20.0.53" "AuthservID mail.example.com" "AlwaysAddARHeader yes" "LogResults yes"
  { printf '%s\n' "Socket inet:8893@127.0.0.1" "PidFile $LAB_TMP/opendmarc.pid" "AuthservID mail.example.com" \
      "TrustedAuthservIDs mail.example.com" "IgnoreAuthenticatedClients true" "RequiredHeaders false" "SPFIgnoreResults false" \
      "SPFSelfValidate false" "PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat" "RejectFailures false" \
      "Syslog false"; } >"$LAB_TMP/opendmarc.conf"
  bg_start opendkim-mail mail opendkim -f -x "$LAB_TMP/dkim-mail/opendkim.conf"
  bg_start opendmarc-mail mail opendmarc -f -c "$LAB_TMP/opendmarc.conf"
  pf_start mail mail
  # ---- the sending MTAs: snd1 (google-lab + outlook-lab pools), snd2 (sendgrid-lab + amazonses-lab), snd3 (self-hosted)
  for ns in snd1 snd2 snd3; do
    D=$LAB_TMP/pf-$ns; mkdir -p "$D"
    : >"$D/keytable"; : >"$D/signingtable"; : >"$D/transports"
    while IFS=$'\t' read -r d kind ips sig; do
      case $d in '#'*) continue;; esac
      grep -q "^$d OK$" "$M/domains-$ns.txt" || continue
      for ip in ${ips//,/ }; do   # HELO name = the address's PTR name (mail.<domain> where it has none)
        n=$(ptr_of "$ip"); tr=o${ip//./_}
        grep -q "^$tr " "$D/transports" || echo "$tr ${n:-mail.$d}" >>"$D/transports"
      done
      [ "$sig" = - ] && continue
      for s in ${sig//,/ }; do
        IFS=: read -r k sd ss <<<"$s"
        grep -q "^$k " "$D/keytable" || echo "$k $sd:$ss:$LAB_TMP/ext2/dkim/$k.pem" >>"$D/keytable"
        echo "*@$d $k" >>"$D/signingtable"
      done
    done <"$PREC/senders.tsv"
    PF_MASTER_EXTRA=$(while read -r tr n; do
        printf '%-10s unix - - n - - smtp -o smtp_bind_address=%s -o smtp_helo_name=%s\n' "$tr" "$(echo "${tr#o}" | tr _ .)" "$n"
      done <"$D/transports") \
    pf_conf "$ns" "$(awk 'NR==1{print $2}' "$D/transports")" <<EOF
inet_protocols = ipv4
mydestination = \$myhostname, localhost, texthash:$M/domains-$ns.txt
local_recipient_maps =
local_transport = discard:
mynetworks = 127.0.0.0/8
sender_dependent_default_transport_maps = texthash:$M/sdt-$ns.txt
smtpd_milters = inet:127.0.0.1:8891
smtp_tls_security_level = none
EOF
    opendkim_conf "$ns" s 8891 "KeyTable file:$D/keytable" "SigningTable refile:$D/signingtable" "MultipleSignatures yes" \
      "InternalHosts 127.0.0.1" "SignatureAlgorithm rsa-sha256" "OversignHeaders From"
    bg_start "opendkim-$ns" "$ns" opendkim -f -x "$LAB_TMP/dkim-$ns/opendkim.conf"
    pf_start "$ns" "$ns"
  done
  waitport mail 127.0.0.1 8891; waitport mail 127.0.0.1 8893
  for ns in snd1 snd2 snd3; do waitport "$ns" 127.0.0.1 8891; done
  # ---- the capture: the senders' swaks submissions to their own MTA (not on br-in) are relayed to 10.20.1.25
  send_plan() { # ns
    local w env hf rc sj
    while IFS=$'\t' read -r w env hf rc sj; do
      sleep "$w"
      nsx "$1" swaks --server 127.0.0.1 --silent 2 --from "$env" --to "$rc" --h-From "$hf" --h-Subject "$sj" \
        --header "Message-Id: <$(date +%s%N).$RANDOM@${hf#*@}>" \
        --body "Hello,\n\nthis is a message from ${hf#*@} about: $sj.\nSee https://www.${hf#*@}/account for details.\n\nRegards\n" \
        >>"$LAB_TMP/logs/swaks-$1.log" 2>&1 &
    done <"$M/plan-$1.txt"
    wait
  }
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$O/mail-postfix-inbound.pcap"
  send_plan snd1 & local p1=$!
  send_plan snd2 & local p2=$!
  send_plan snd3 & local p3=$!
  wait $p1 $p2 $p3
  for n in $(seq 1 60); do   # until every queue is empty (forwarded copies delivered)
    f=0; for ns in mail snd1 snd2 snd3; do [ -z "$(find "$LAB_TMP/pf-$ns/queue/active" "$LAB_TMP/pf-$ns/queue/incoming" -type f 2>/dev/null)" ] || f=1; done
    [ $f = 0 ] && break; sleep 1
  done
  sleep 3
  cap_stop
  for ns in snd1 snd2 snd3 mail; do bg_stop "postfix-$ns"; bg_stop "opendkim-$ns"; done
  bg_stop opendmarc-mail
  local nmsg ndom nip
  nmsg=$(cat "$M"/plan-snd*.txt | wc -l); ndom=$(cut -f3 "$M"/plan-snd*.txt | sed 's/.*@//' | sort -u | wc -l)
  nip=$(cat "$M"/sdt-snd*.txt | awk '{print $2}' | sort -u | wc -l)
  cap_record "$O/mail-postfix-inbound.pcap" "$S" "mail (10.20.1.25): Postfix $(postconf -d -h mail_version) (master -c \$LAB_TMP/pf-mail/etc -d; virtual domain example.com; smtpd_client_restrictions reject_unknown_reverse_client_hostname (warn) + reject_rbl_client zen.spamhaus.org; helo: reject_unknown_helo_hostname (warn); sender: reject_unknown_sender_domain + reject_rhsbl_sender dbl.spamhaus.org; check_policy_service policyd-spf (postfix-policyd-spf-python, Debian default config); milters opendkim (Mode v, Nameservers 10.20.0.53) + opendmarc; 2 aliases forward to outside domains). Senders snd1/snd2/snd3 (outside): one Postfix each (per-source-address smtp transports with smtp_bind_address + smtp_helo_name = the address's PTR, sender_dependent_default_transport_maps) + an opendkim signer (KeyTable/SigningTable, MultipleSignatures); swaks --server 127.0.0.1 submits the plan of lab/mailplan.py (seed mail-inbound, 255 s, 1 msg/s: $nmsg messages)" \
    "$nmsg inbound messages over ~4.5 min from $ndom sender domains via $nip source addresses (198.18.0.0/15: google-lab/outlook-lab/sendgrid-lab/amazonses-lab style pools and self-hosted MTAs). The mail server's lookups through 10.20.0.53: PTR of each client + forward A/AAAA of the PTR name, HELO A/MX, sender domain MX/A, zen.spamhaus.org (reversed client address) and dbl.spamhaus.org (sender domain), SPF TXT with include chains (HELO and MAIL FROM), DKIM <selector>._domainkey TXT (google, selector1 via CNAME to onmicrosoft-lab.com, s1 via CNAME to sendgrid-lab.net, SES token + platform signature, self-hosted selectors; some domains unsigned), _dmarc TXT (some NXDOMAIN, org-domain fallback for em.<domain>); outbound MX/A lookups for the forwarded copies; the resolver's recursion to the root, ns1/ns2.ext-dns.com and 10.20.0.10; the outside resolver 8.8.8.8's lookups of example.com MX at 10.20.0.10" \
    "$NEG"
}

# ====================================================================== 2. mail-dnsbl (rspamd, stock configuration)
cap_dnsbl() {
  local R=$LAB_TMP/rspamd C=$LAB_TMP/spamcorpus w ip helo env rcpt f i n
  mkdir -p "$R/etc/local.d" "$R/db" "$R/run" "$R/log"
  chown -R _rspamd "$R/db" "$R/run" "$R/log"
  n=${DNSBL_MSGS:-70}
  /usr/bin/python3 "$LAB_DIR/spamcorpus.py" "$PREC/senders.tsv" dnsbl-corpus "$n" "${DNSBL_SECS:-170}" "$C" >"$LAB_TMP/logs/spamcorpus.log"
  # Debian's /etc/rspamd as it is; LOCAL_CONFDIR (local.d/override.d) points to an empty dir, state dirs under $LAB_TMP
  bg_start rspamd mail rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf --var=LOCAL_CONFDIR="$R/etc" \
    --var=DBDIR="$R/db" --var=RUNDIR="$R/run" --var=LOGDIR="$R/log"
  waitport mail 127.0.0.1 11333
  for i in $(seq 1 120); do   # the normal worker has loaded its hyperscan database (compiled at first start)
    grep -q '(normal).*hyperscan database.*loaded' "$R/log/rspamd.log" 2>/dev/null && break; sleep 0.5; done
  sleep 5   # start-up map fetches (https://maps.rspamd.com/..., fail) are over before the capture
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$O/mail-dnsbl.pcap"
  ( while IFS=$'\t' read -r w ip helo env rcpt f; do
      sleep "$w"
      nsx mail rspamc -t 30 --ip "$ip" --helo "$helo" --from "$env" --rcpt "$rcpt" "$f" >>"$LAB_TMP/logs/rspamc.log" 2>&1 &
    done <"$C/manifest.txt"
    wait )
  sleep 3
  cap_stop
  bg_stop rspamd
  cap_record "$O/mail-dnsbl.pcap" "$S" "mail (10.20.1.25): rspamd $(dpkg-query -W -f='${Version}' rspamd) with Debian's stock /etc/rspamd (rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf --var=LOCAL_CONFDIR=<empty dir> --var=DBDIR/RUNDIR/LOGDIR=\$LAB_TMP/rspamd/...; system resolver 10.20.0.53); rspamc --ip <client> --helo <helo> --from <envelope> --rcpt <rcpt> <file> for each of the $n messages of lab/spamcorpus.py (seed dnsbl-corpus, ~170 s, exponential gaps)" \
    "rspamd's default network checks for $n messages (~75 % ham from the lab's sender domains and provider pools, ~25 % spam from 198.19.77.0/24 and 203.0.113.0/24, 2-3 Received hops, URLs and addresses in the bodies): reversed client/Received addresses under zen.spamhaus.org, list.dnswl.org, rep.mailspike.net, bl.score.senderscore.com, bl.spameatingmonkey.net, bip.virusfree.cz, ix.dnsbl.manitu.net, bl.blocklist.de; URL/e-mail domains under multi.surbl.org, multi.uribl.com, dbl.spamhaus.org, uribl/fresh15.spameatingmonkey.net; hashed labels under uribl/email/phishtank.rspamd.com and ebl.msbl.org; asn.rspamd.com TXT; PTR, HELO A/MX, SPF/DMARC TXT. Mostly NXDOMAIN; a few listed (127.0.x.y) answers" \
    "$NEG"
}

# ====================================================================== 3. clamav-freshclam
fc_conf() { # ws : $LAB_TMP/clamav-<ws>/freshclam.conf (freshclam's defaults for the DNS/mirror settings)
  local d=$LAB_TMP/clamav-$1; mkdir -p "$d/db"; chown clamav "$d/db"
  printf '%s\n' "DatabaseOwner clamav" "DatabaseDirectory $d/db" "UpdateLogFile $d/db/freshclam.log" "LogTime yes" \
    "DNSDatabaseInfo current.cvd.clamav.net" "DatabaseMirror database.clamav.net" "ConnectTimeout 10" \
    "ReceiveTimeout 30" "Checks 24" >"$d/freshclam.conf"
}
cap_freshclam() {
  local ws i d hosts="ws10 ws11 ws12 ws13 ws14 ws15 ws16 ws17"
  # the download mirror's addresses (CNAME database.clamav.net -> database.clamav.net.cdn-lab.net) exist but nothing
  # listens on 443: the HTTPS download is refused at once, as when a proxy blocks it
  x ext2 ip addr add 198.51.100.211/32 dev eth0; x ext2 ip addr add 2001:db8:51::211/128 dev eth0 nodad
  for ws in $hosts; do fc_conf "$ws"; done
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$O/clamav-freshclam.pcap"
  ( i=0
  for ws in $hosts; do   # three runs per workstation, the workstations' timers spread over ~3 min
    ( sleep $(( i * 7 )); for r in 1 2 3; do
        nsx "$ws" freshclam --config-file="$LAB_TMP/clamav-$ws/freshclam.conf" >>"$LAB_TMP/logs/freshclam-$ws.log" 2>&1 || true
        sleep $(( 25 + (i * 13) % 20 )); done ) &
    i=$((i + 1))
  done
  wait )
  cap_stop
  x ext2 ip addr del 198.51.100.211/32 dev eth0; x ext2 ip addr del 2001:db8:51::211/128 dev eth0
  cap_record "$O/clamav-freshclam.pcap" "$S" "ws10..ws17 (10.20.8.10-17, system resolver 10.20.0.53): freshclam $(freshclam --version | cut -d/ -f1 | awk '{print $2}') --config-file=<DatabaseOwner clamav, DatabaseDirectory \$LAB_TMP/clamav-wsNN/db, DNSDatabaseInfo current.cvd.clamav.net, DatabaseMirror database.clamav.net, Checks 24> run 3 times per workstation (7 s start offsets, 25-45 s apart)" \
    "24 freshclam runs from 8 workstations: TXT current.cvd.clamav.net (answer '1.4.1:62:27488:...'), then A+AAAA database.clamav.net (CNAME to a CDN name) per HTTPS attempt (3 attempts per run, refused: no database is downloaded); lab zone clamav.net on ns2.ext-dns.com" \
    "$NEG"
}

# ====================================================================== 4. av-hash-lookups
av_hashes() { # real hashes of real files (the Debian install's /usr/bin, /usr/sbin, /usr/lib/x86_64-linux-gnu/*.so*)
  [ -s "$LAB_TMP/hashes.txt" ] && return 0
  find /usr/bin /usr/sbin /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -size +1k 2>/dev/null | sort | head -1500 |
    while read -r f; do printf '%s %s %s\n' "$(md5sum <"$f" | cut -c1-32)" "$(sha1sum <"$f" | cut -c1-40)" "$f"; done \
    >"$LAB_TMP/hashes.txt"
}
run_lookups() ( # planfile resolver(or "") : one background loop per host of "host sleep name qtype" lines, dig each
  plan=$1 srv=${2:-}
  for h in $(awk '{print $1}' "$plan" | sort -u); do
    ( awk -v h="$h" '$1 == h {print $2, $3, $4}' "$plan" | while read -r w n q; do
        sleep "$w"; nsx "$h" dig +tries=1 +time=2 ${srv:+@$srv} "$n" "$q" >/dev/null 2>&1 || true; done ) &
  done
  wait   # (a subshell: the lab's own background servers and tcpdump are not its children)
)
cap_avhash() {
  local hosts
  av_hashes
  hosts=$(seq -f 'ws%g' 10 39 | tr '\n' ' ')
  # shellcheck disable=SC2086
  /usr/bin/python3 "$LAB_DIR/avplan.py" "$LAB_TMP/hashes.txt" av-hash "${AV_SECS:-160}" $hosts >"$LAB_TMP/av.plan"
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$O/av-hash-lookups.pcap"
  run_lookups "$LAB_TMP/av.plan"
  cap_stop
  cap_record "$O/av-hash-lookups.pcap" "$S" "ws10..ws39 (30 workstations 10.20.8.10-39, system resolver 10.20.0.53): replay of lab/avplan.py (seed av-hash, ${AV_SECS:-160} s; $(wc -l <"$LAB_TMP/av.plan") lookups) with dig +tries=1 +time=2 <name> <type>; the hashes are md5/sha1 of real files of the Debian install (/usr/bin, /usr/sbin, /usr/lib/x86_64-linux-gnu; Zipf-weighted popularity). No Debian package implements these clients, hence dig" \
    "endpoint AV/EDR cloud reputation lookups, one product per host: <md5>.malware.hash.cymru.com TXT/A (Team Cymru MHR; NXDOMAIN except the EICAR hash), <n>.0.0.0.1.0.0.4e.<md5>.sxl.sophosxl.net A (Sophos-style, wildcard answers), <sha1>.avqs.mcafee.com A (McAfee GTI-style, wildcard answers); a lookup every ~8 s per host plus bursts of 5-25 (program start / directory scan); the resolver's recursion to ns1/ns2.ext-dns.com" \
    "$NEG"
}

# ====================================================================== 5. chromium-startup
cap_chromium() {
  local W=$LAB_TMP/www ws i r
  mkdir -p "$W"
  cat >"$W/index.html" <<'EOF'
<!doctype html><html><head><meta charset="utf-8"><title>Example Corp intranet</title>
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
<link rel="icon" href="/favicon.ico"></head>
<body><h1>Example Corp intranet</h1><img src="http://static.example.com/logo.png" alt="logo">
<ul><li><a href="https://wiki.example.com/">Wiki</a></li><li><a href="https://jira.example.com/">Jira</a></li>
<li><a href="https://teams.example.com/">Teams</a></li><li><a href="https://portal.example.com/">HR portal</a></li></ul>
<script src="https://www.gstatic.com/charts/loader.js"></script></body></html>
EOF
  bg_start http-intranet web /usr/bin/python3 -m http.server 80 --bind 10.20.2.39 --directory "$W"
  waitport web 10.20.2.39 80
  # ws18..ws20 are managed browsers: enterprise policy IntranetRedirectBehavior=3 (DNS interception checks on; Chromium
  # 156's default is off); ws21 runs with the default policy. /etc/netns/dv-wsNN/chromium is bind-mounted over /etc/chromium.
  for ws in ws18 ws19 ws20; do
    mkdir -p "/etc/netns/$NSP$ws/chromium/policies/managed"
    cp /etc/chromium/master_preferences "/etc/netns/$NSP$ws/chromium/"
    echo '{"IntranetRedirectBehavior": 3}' >"/etc/netns/$NSP$ws/chromium/policies/managed/lab-intranet.json"
  done
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$O/chromium-startup.pcap"
  ( i=0
  for ws in ws18 ws19 ws20 ws21; do
    ( sleep $(( i * 9 )); for r in 1 2 3; do
        timeout -s INT 20 ip netns exec "$NSP$ws" chromium --headless --no-sandbox --disable-gpu \
          --user-data-dir="$LAB_TMP/chromium-$ws" --remote-debugging-port=9222 http://intranet.example.com/ \
          >>"$LAB_TMP/logs/chromium-$ws.log" 2>&1 || true
        sleep $(( 12 + i * 5 )); done ) &
    i=$((i + 1))
  done
  wait )
  cap_stop
  bg_stop http-intranet
  cap_record "$O/chromium-startup.pcap" "$S" "web (10.20.2.39 = intranet.example.com): python3 -m http.server 80; ws18..ws21 (10.20.8.18-21, resolver 10.20.0.53 from resolv.conf): 3 starts each (staggered, 12-27 s apart) of chromium $(chromium --version 2>/dev/null | awk '{print $2}') --headless --no-sandbox --disable-gpu --user-data-dir=\$LAB_TMP/chromium-wsNN (kept across starts) --remote-debugging-port=9222 http://intranet.example.com/, stopped with SIGINT after 20 s. Not passed: --disable-background-networking or anything else that changes lookups. ws18-20 have the enterprise policy IntranetRedirectBehavior=3 (Chromium 156 does no interception probes by default; ws21 runs without the policy)" \
    "Chromium's own start-up lookups (HTTPS/type 65 + AAAA + A for each name: clients2.google.com, update.googleapis.com, redirector.gvt1.com, accounts.google.com, optimizationguide-pa.googleapis.com, ...; answered by lab zones, connections to those lab addresses fail), the intranet page and its resources (intranet/static.example.com, fonts.googleapis.com, www.gstatic.com), and on the managed browsers the intranet redirect detector's 3 random single-label names (7-15 letters, A+AAAA, NXDOMAIN from the root) about 6 s after each start" \
    "$NEG"
}

# ====================================================================== 6. monitoring-ptr-sweep
cap_ptrsweep() {
  local NETS="10.20.0.0/24 10.20.1.0/24 10.20.2.0/24 10.20.8.0/24 10.20.9.0/24 10.20.10.0/24"
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$O/monitoring-ptr-sweep.pcap"
  # shellcheck disable=SC2086
  nsx siem nmap -sL $NETS -oN "$LAB_TMP/logs/nmap-sL-1.txt" >/dev/null 2>&1 || true
  sleep 60
  # shellcheck disable=SC2086
  nsx siem nmap -sL $NETS -oN "$LAB_TMP/logs/nmap-sL-2.txt" >/dev/null 2>&1 || true
  cap_stop
  cap_record "$O/monitoring-ptr-sweep.pcap" "$S" "siem (10.20.9.10, resolver 10.20.0.53 from resolv.conf): nmap $(nmap --version | awk 'NR==1{print $3}') -sL $NETS, twice, 60 s apart (list scan: reverse DNS only, no probes)" \
    "an asset-inventory job's reverse sweep: PTR for every address of 6 internal /24s (1536 per run; nmap's parallel resolver), NOERROR for the hosts in 20.10.in-addr.arpa, NXDOMAIN for the rest; first run through res1 to 10.20.0.10 (cold cache), second mostly from res1's cache" \
    "$NEG (an internal inventory scan of the own reverse zone through the sanctioned resolver)"
}

# ====================================================================== 7. k8s-node-ndots5
cap_k8s() {
  local D=$LAB_TMP/cdns secs=${K8S_SECS:-360}
  mkdir -p "$D/keys"
  cp "$LAB_DIR/zones/k8s/cluster.local.zone" "$D/"
  # the cluster DNS (CoreDNS's job: cluster.local authoritative, everything else forwarded, 30 s cache) is a BIND
  # on cdns 10.20.10.10 (CoreDNS is not in Debian 12); the node queries it across br-in
  { named_common "$D" 10.20.10.10 fd20::a:10
    cat <<EOF
  recursion yes;
  allow-recursion { 10.20.0.0/16; fd20::/64; 127.0.0.1; };
  forwarders { 10.20.0.53; };
  forward only;
  max-cache-ttl 30;
  max-ncache-ttl 30;
  minimal-responses yes;
};
zone "cluster.local" { type primary; file "cluster.local.zone"; };
EOF
  } >"$D/named.conf"
  bg_start named-cdns cdns named -c "$D/named.conf" -g -n 2
  wait_dns knode 10.20.10.10 cluster.local
  resolv knode "search default.svc.cluster.local svc.cluster.local cluster.local lab.internal" "nameserver 10.20.10.10" "options ndots:5"
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$O/k8s-node-ndots5.pcap"
  nsx knode /usr/bin/python3 "$LAB_DIR/k8sapp.py" k8s-node "$secs" >"$LAB_TMP/logs/k8sapp.log" 2>&1 || true
  cap_stop
  bg_stop named-cdns
  resolv knode "nameserver 10.20.0.53"
  cap_record "$O/k8s-node-ndots5.pcap" "$S" "cdns (10.20.10.10): BIND 9 named (zone cluster.local from lab/zones/k8s, recursion with 'forwarders { 10.20.0.53; }; forward only;', max-cache-ttl/max-ncache-ttl 30 like CoreDNS's cache 30); knode (10.20.10.11) resolv.conf 'search default.svc.cluster.local svc.cluster.local cluster.local lab.internal / nameserver 10.20.10.10 / options ndots:5'; lab/k8sapp.py (seed k8s-node, $secs s): 6 pod threads calling glibc socket.getaddrinfo for their dependencies every 10-120 s (jittered), a rollout burst half-way, retry bursts" \
    "a Kubernetes node's pods through the cluster DNS: every lookup walks the search list (ndots:5), A+AAAA in parallel per candidate: in-cluster names (redis, postgres.db, rabbitmq.messaging, kubernetes.default, api.default.svc.cluster.local...) answered after 0-2 NXDOMAIN candidates; external names (api.github.com, www.googleapis.com, sqs.us-east-1.amazonaws.com, hooks.slack.com, o450123.ingest.sentry.io, registry-1.docker.io, auth.docker.io, ghcr.io) after 4 NXDOMAIN candidates (*.default.svc.cluster.local, *.svc.cluster.local, *.cluster.local, *.lab.internal); the cluster DNS forwards non-cluster names to 10.20.0.53 (lab.internal: NXDOMAIN from the root)" \
    "$NEG"
}

# ====================================================================== 8. forwarder-unbound
cap_forwarder() {
  local D=$LAB_TMP/unbound ws secs=${FWD_SECS:-180}
  mkdir -p "$D"
  cat >"$D/unbound.conf" <<EOF
server:
    verbosity: 1
    interface: 10.20.0.60
    interface: 127.0.0.1
    access-control: 10.20.0.0/16 allow
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$D"
    pidfile: "$D/unbound.pid"
    use-syslog: no
    logfile: ""
    do-daemonize: no
forward-zone:
    name: "."
    forward-addr: 10.20.0.53
EOF
  bg_start unbound-fwd fwd unbound -d -c "$D/unbound.conf"
  wait_dns ws22 10.20.0.60 example.com
  rndc_in res1 flush >/dev/null 2>&1 || true
  fc_conf ws29
  for ws in $(seq -f 'ws%g' 22 29); do resolv "$ws" "nameserver 10.20.0.60"; done
  client_plan fwd-ws22 "$secs" 4 >"$LAB_TMP/fwd-ws22.plan"
  client_plan fwd-ws23 "$secs" 5 >"$LAB_TMP/fwd-ws23.plan"
  client_plan fwd-ws24 "$secs" 6 >"$LAB_TMP/fwd-ws24.plan"
  av_hashes
  /usr/bin/python3 "$LAB_DIR/avplan.py" "$LAB_TMP/hashes.txt" fwd-av "$secs" ws25 ws26 ws27 >"$LAB_TMP/fwd-av.plan"
  # ws28: DNSBL-style reputation checks of a small mail gateway (no Debian client for this role: dig), every ~3 s
  /usr/bin/python3 - "$secs" >"$LAB_TMP/fwd-bl.plan" <<'PY'
import random, sys
r = random.Random("fwd-dnsbl"); secs = float(sys.argv[1]); t = 0.0; prev = 0.0
ips = [f"198.18.10.{n}" for n in range(41, 53)] + [f"198.19.77.{n}" for n in range(20, 90)] + [f"203.0.113.{n}" for n in range(10, 60)]
doms = ["brightpath-consulting.com", "shopnova.com", "cheap-meds-online.net", "bulk-deals-mailer.com", "meridian-bank.com",
        "secure-login-verify.com", "ticketwave.com", "github.com", "linux-usergroup.de", "invoice-docs-share.com"]
while t < secs:
    ip = r.choice(ips); rev = ".".join(reversed(ip.split(".")))
    for z in ("zen.spamhaus.org", "bl.spamcop.net", "list.dnswl.org"):
        print(f"ws28 {t - prev:.2f} {rev}.{z} A"); prev = t; t += 0.01
    for d in r.sample(doms, r.randint(0, 2)):
        for z in ("dbl.spamhaus.org", "multi.surbl.org", "multi.uribl.com"):
            print(f"ws28 {t - prev:.2f} {d}.{z} A"); prev = t; t += 0.01
    t += r.expovariate(1 / 3.0)
PY
  cap_start "$O/forwarder-unbound.pcap"
  ( run_plan ws22 10.20.0.60 "$LAB_TMP/fwd-ws22.plan" &
    run_plan ws23 10.20.0.60 "$LAB_TMP/fwd-ws23.plan" &
    run_plan ws24 10.20.0.60 "$LAB_TMP/fwd-ws24.plan" &
    run_lookups "$LAB_TMP/fwd-av.plan" &
    run_lookups "$LAB_TMP/fwd-bl.plan" &
    ( sleep 20; nsx ws29 freshclam --config-file="$LAB_TMP/clamav-ws29/freshclam.conf" >/dev/null 2>&1 || true ) &
    for n in www.example.com intranet.example.com wiki.example.com www.github.com www.python.org; do
      ( sleep $(( RANDOM % 60 )); nsx ws29 getent ahosts "$n" >/dev/null 2>&1 || true ) & done
    wait )
  cap_stop
  for ws in $(seq -f 'ws%g' 22 29); do resolv "$ws" "nameserver 10.20.0.53"; done
  bg_stop unbound-fwd
  cap_record "$O/forwarder-unbound.pcap" "$S" "fwd (10.20.0.60): unbound $(unbound -V | awk 'NR==1{print $2}') -d -c <interface 10.20.0.60 + 127.0.0.1, access-control 10.20.0.0/16, forward-zone \".\" forward-addr 10.20.0.53, otherwise defaults>; clients (resolv.conf nameserver 10.20.0.60), ${secs} s in parallel: ws22/ws23/ws24 replay client_plan(fwd-ws22/23/24) with dig @10.20.0.60; ws25-27 AV hash lookups (lab/avplan.py seed fwd-av); ws28 DNSBL-style checks (reversed addresses under zen.spamhaus.org/bl.spamcop.net/list.dnswl.org, domains under dbl.spamhaus.org/multi.surbl.org/multi.uribl.com, every ~3 s, dig); ws29 freshclam once + getent ahosts for 5 names" \
    "a second-tier forwarding resolver 10.20.0.60 (Unbound) used by 8 workstations: client queries to 10.20.0.60, Unbound's forwarded queries to 10.20.0.53 (only cache misses; Unbound answers 10.in-addr.arpa PTRs locally), res1's recursion upstream; browsing names, AV hash names (cymru/sophosxl/mcafee), DNSBL names (mostly NXDOMAIN), clamav TXT" \
    "$NEG (10.20.0.60 is an internal forwarder: configure it as a resolver)"
}

# ====================================================================== 9. acme-dns01-polling (lego + pebble)
cap_acme() {
  local D=$LAB_TMP/acme i
  rm -rf "$D"; mkdir -p "$D/lego"   # a new ACME account each run (pebble keeps its state in memory)
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=acme.pebble-lab.net \
    -addext subjectAltName=DNS:acme.pebble-lab.net -keyout "$D/key.pem" -out "$D/cert.pem" >/dev/null 2>&1
  cat >"$D/pebble.json" <<EOF
{ "pebble": { "listenAddress": "198.51.100.30:14000", "managementListenAddress": "198.51.100.30:15000",
  "certificate": "$D/cert.pem", "privateKey": "$D/key.pem", "httpPort": 80, "tlsPort": 443,
  "ocspResponderURL": "", "externalAccountBindingRequired": false } }
EOF
  # the CA validates through the outside resolver 8.8.8.8 (its queries to ns2.ext-dns.com are outside: not captured)
  bg_start pebble ca env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$D/pebble.json" -dnsserver 8.8.8.8:53 -strict false
  waitport ca 198.51.100.30 14000
  # lego's exec provider hook = a DNS hosting provider's API that accepts the record at once and publishes it on its
  # name server ns2.ext-dns.com 8-25 s later (knotc zone transaction on ext2's control socket: no DNS on the wire)
  cat >"$D/hook.sh" <<EOF
#!/bin/sh
# lego exec hook: present|cleanup FQDN VALUE
fqdn=\${2%.}; value=\$3; log=$LAB_TMP/logs/acme-hook.log
for z in examplecorp-shop.com examplecorp-cdn.net example-apps.io; do case \$fqdn in *.\$z) zone=\$z;; esac; done
K="knotc -c $LAB_TMP/ext2/knot.conf"
case \$1 in
  present) delay=\$(( 8 + \$(printf %s "\$fqdn" | cksum | cut -d' ' -f1) % 18 ))
           echo "\$(date +%T) present \$fqdn (published in \$delay s)" >>\$log
           # a new process (exec'd sh: no inherited copy of lego's output pipe) publishes the record later
           sh -c "sleep \$delay; \$K zone-begin \$zone; \$K zone-set \$zone \$fqdn. 60 TXT '\"\$value\"'; \$K zone-commit \$zone;
                  echo \\"\\\$(date +%T) published \$fqdn\\" >>\$log" </dev/null >/dev/null 2>&1 &
           ;;
  cleanup) { \$K zone-begin \$zone; \$K zone-unset \$zone \$fqdn. TXT; \$K zone-commit \$zone; } >/dev/null 2>&1
           echo "\$(date +%T) cleanup \$fqdn" >>\$log ;;
esac
exit 0
EOF
  chmod +x "$D/hook.sh"
  local SANS="www.examplecorp-shop.com shop.examplecorp-shop.com api.examplecorp-shop.com checkout.examplecorp-shop.com static.examplecorp-cdn.net img.examplecorp-cdn.net dl.examplecorp-cdn.net portal.example-apps.io auth.example-apps.io"
  rndc_in res1 flush >/dev/null 2>&1 || true
  cap_start "$O/acme-dns01-polling.pcap"
  # shellcheck disable=SC2046
  nsx web env LEGO_CA_CERTIFICATES="$D/cert.pem" EXEC_PATH="$D/hook.sh" EXEC_POLLING_INTERVAL=3 \
    EXEC_PROPAGATION_TIMEOUT=240 EXEC_SEQUENCE_INTERVAL=5 lego --server https://acme.pebble-lab.net:14000/dir --email hostmaster@example.com \
    --accept-tos --path "$D/lego" --key-type rsa2048 --dns exec $(for n in $SANS; do printf -- '-d %s ' "$n"; done) run \
    >"$LAB_TMP/logs/lego.log" 2>&1 || log "lego failed (see $LAB_TMP/logs/lego.log)"
  sleep 2
  cap_stop
  bg_stop pebble
  cap_record "$O/acme-dns01-polling.pcap" "$S" "ca (198.51.100.30, outside): pebble $(dpkg-query -W -f='${Version}' pebble) (PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -dnsserver 8.8.8.8:53); web (10.20.2.39, resolver 10.20.0.53): lego $(dpkg-query -W -f='${Version}' lego) --server https://acme.pebble-lab.net:14000/dir --dns exec (EXEC_POLLING_INTERVAL=3, EXEC_PROPAGATION_TIMEOUT=240, EXEC_SEQUENCE_INTERVAL=5 (the exec provider solves one name at a time); the hook publishes each TXT 8-25 s after 'present' through knotc on ns2.ext-dns.com, like a DNS hosting API with propagation delay) -d <9 names> run. Real lego, real ACME server (no dig emulation)" \
    "lego's DNS-01 pre-checks for a 9-name certificate across examplecorp-shop.com, examplecorp-cdn.net and example-apps.io: SOA queries for _acme-challenge.<name> walking up to the zone (NXDOMAIN, then the zone SOA) through 10.20.0.53, NS of the zone and A/AAAA of ns2.ext-dns.com, then TXT _acme-challenge.<name> sent every 3 s straight to the authoritative 198.51.100.20 (NXDOMAIN until the record is published, then the TXT); the CA's validation queries go through 8.8.8.8 outside the tap" \
    "$NEG"
}

want mail && cap_mail
want dnsbl && cap_dnsbl
want freshclam && cap_freshclam
want avhash && cap_avhash
want chromium && cap_chromium
want ptrsweep && cap_ptrsweep
want k8s && cap_k8s
want forwarder && cap_forwarder
want acme && cap_acme
log "precision done in $(( $(date +%s) - T0 )) s"
