#!/usr/bin/env bash
# make-recon_sweep.sh -- pcaps/detect/recon_sweep/: record-type / SaaS-footprint sweeps (T1590.002 playbook).
. "$(dirname "$0")/lib.sh"
lab_up
S=lab/make-recon_sweep.sh
O=$PCAPS_DIR/detect/recon_sweep
mkdir -p "$O"
d() { local n=$1; shift; nsx "$n" dig +tries=1 +time=2 "$@" >/dev/null 2>&1 || true; }

# ---- pos 1: one domain, many recon types/names, outside attacker -> authoritative
single() {
  local s=@10.20.0.10
  d atk $s example.com MX;  d atk $s example.com TXT; d atk $s example.com NS; d atk $s example.com SOA
  d atk $s example.com SPF; d atk $s _dmarc.example.com TXT; d atk $s selector1._domainkey.example.com TXT
  d atk $s selector2._domainkey.example.com TXT; d atk $s _sip._tls.example.com SRV
  d atk $s _sipfederationtls._tcp.example.com SRV; d atk $s autodiscover.example.com A
  d atk $s _autodiscover._tcp.example.com SRV; d atk $s _spf.example.com TXT; d atk $s _mta-sts.example.com TXT
  d atk $s example.com CAA; d atk $s example.com DNSKEY; d atk $s lyncdiscover.example.com A
  d atk $s enterpriseregistration.example.com A
}
cap_start "$O/pos-single-domain.pcap"; single; cap_stop
cap_record "$O/pos-single-domain.pcap" "$S" "atk: dig @10.20.0.10 example.com MX/TXT/NS/SOA/SPF/CAA/DNSKEY, _dmarc TXT, selector1/2._domainkey TXT, _sip._tls SRV, _sipfederationtls._tcp SRV, autodiscover A, _autodiscover._tcp SRV, _spf TXT, _mta-sts TXT, lyncdiscover A, enterpriseregistration A" \
  "outside attacker 203.0.113.66 sweeps example.com on its authoritative 10.20.0.10: 8 recon qtypes (MX TXT NS SOA SPF SRV CAA DNSKEY) and 7 recon names (_dmarc, *._domainkey, _sip._tls, _autodiscover._tcp, autodiscover, _spf, _mta-sts) within ~1 s" \
  "recon_sweep MUST alert (client 203.0.113.66, registered domain example.com)"

# ---- pos 2: multi-domain sweep (28 domains hosted on 10.20.0.10), TXT + MX + _dmarc TXT each
multi() {
  local dom
  while read -r dom; do
    d atk @10.20.0.10 "$dom" TXT; d atk @10.20.0.10 "$dom" MX; d atk @10.20.0.10 "_dmarc.$dom" TXT
  done <"$LAB_DIR/zones/customers.txt"
}
cap_start "$O/pos-multi-domain.pcap"; multi; cap_stop
cap_record "$O/pos-multi-domain.pcap" "$S" "atk: for each of the 28 domains in lab/zones/customers.txt: dig @10.20.0.10 D TXT; D MX; _dmarc.D TXT" \
  "outside attacker 203.0.113.66: TXT, MX and _dmarc TXT for 28 registered domains (26 .com/.net/.org + contoso.co.uk, fabrikam.co.uk) hosted on 10.20.0.10" \
  "recon_sweep (multi-domain variant, >= 20 registered domains) MUST alert"

# ---- pos 3: same multi-domain sweep by an insider through the sanctioned resolver
multi_in() {
  local dom
  while read -r dom; do
    d ws1 "$dom" TXT; d ws1 "$dom" MX; d ws1 "_dmarc.$dom" TXT
  done <"$LAB_DIR/zones/customers.txt"
}
cap_start "$O/pos-multi-domain-inside.pcap" "host 10.20.1.10 or host fd20::1:10"; multi_in; cap_stop
cap_record "$O/pos-multi-domain-inside.pcap" "$S" "ws1: same loop as pos-multi-domain via the system resolver 10.20.0.53 (filter host 10.20.1.10)" \
  "workstation 10.20.1.10: TXT, MX, _dmarc TXT for the 28 customer domains through the sanctioned resolver" \
  "recon_sweep (multi-domain) MUST alert (client 10.20.1.10 is not a mail server)"

# ---- neg: the mail server doing mail-server lookups through the sanctioned resolver
mailsrv() {
  local dom mx sel
  for dom in contoso.com fabrikam.com example.com microsoft.com github.com woodgrovebank.com google.com contoso.co.uk; do
    d mail "$dom" MX
    for mx in $(nsx mail dig +short "$dom" MX 2>/dev/null | awk '{print $2}'); do d mail "$mx" A; d mail "$mx" AAAA; done
    d mail "$dom" TXT
    case $dom in contoso.com|woodgrovebank.com|contoso.co.uk|google.com) sel=google;; *) sel=selector1;; esac
    d mail "$sel._domainkey.$dom" TXT
    d mail "_dmarc.$dom" TXT
    d mail "_mta-sts.$dom" TXT
    sleep 1
  done
  d mail -x 203.0.113.66; d mail -x 198.51.100.101
}
rndc_in res1 flush >/dev/null 2>&1 || true
cap_start "$O/neg-mail-server.pcap"; mailsrv; cap_stop
cap_record "$O/neg-mail-server.pcap" "$S" "mail: for 8 sender domains: dig MX; A/AAAA of each MX host; TXT (SPF); <selector>._domainkey TXT; _dmarc TXT; _mta-sts TXT; then 2 PTR lookups (via 10.20.0.53, cold cache)" \
  "mail server 10.20.1.25 doing what an MTA does for a handful of sender domains, through the sanctioned resolver (resolver upstream traffic included)" \
  "recon_sweep must NOT alert when 10.20.1.25 has the mail-server role (it would without the role)"
log "recon_sweep done"
