#!/usr/bin/python3
"""gen-zones-precision.py ZONEDIR -- zones of the benign-infrastructure ("precision") lab, called by gen-zones.sh.

Deterministic (no randomness, no dates). Writes:
  ZONEDIR/prec/<zone>.zone   zones served by knotd on ext2 (198.51.100.20 = ns2.ext-dns.com): mail sender domains and
                             their hosting providers, reverse zones of the sender addresses (18/19.198.in-addr.arpa),
                             DNS blocklists (zen/dbl.spamhaus.org, surbl, uribl, mailspike, dnswl, ...), clamav.net,
                             cymru.com, ACME zones, docker.io/sentry.io/amazonaws.com/gvt1.com
  ZONEDIR/prec-zones.txt     the zone names (knot.conf zone list; TLD delegations in gen-zones.sh)
  ZONEDIR/prec/dkim-keys.txt DKIM keys made at lab start (lib.sh start_ext2): "zone owner bits keyid"
  ZONEDIR/prec/senders.tsv   the sender domains for make-precision.sh: domain kind ips helo/ptr dkim(d:s:keyid,...)
  ZONEDIR/k8s/cluster.local.zone   the cluster DNS zone (BIND on cdns 10.20.10.10)
Sender addresses: 198.18.0.0/15 (RFC 2544 benchmarking range: not in BIND's automatic empty zones, so reverse
lookups really leave the resolver; routed to the outside segment only inside the lab).
"""
import os
import sys

Z = sys.argv[1]
P = os.path.join(Z, "prec")
os.makedirs(P, exist_ok=True)
os.makedirs(os.path.join(Z, "k8s"), exist_ok=True)
zones = {}      # name -> list of lines (relative or absolute owners)
dkim = []       # (zone, owner-fqdn, bits, keyid)
senders = []    # rows for senders.tsv


def zone(name):
    if name not in zones:
        zones[name] = []
    return zones[name]


def rr(zname, owner, rtype, data, ttl=None):
    """owner: '@', relative, or absolute fqdn ending in '.'"""
    if owner.endswith("."):
        fq = owner.rstrip(".")
        assert fq == zname or fq.endswith("." + zname), (owner, zname)
        owner = "@" if fq == zname else fq[: -len(zname) - 1]
    zone(zname).append(f"{owner:<40} {'' if ttl is None else ttl:<6} {rtype:<6} {data}")


def txt(s):
    parts = [s[i:i + 250] for i in range(0, len(s), 250)] or [""]
    return " ".join('"' + p.replace('"', '\\"') + '"' for p in parts)


def dash(d):
    return d.replace(".", "-")


# ------------------------------------------------------------------ hosting providers (outbound pools)
GOOG, MSFT, SGRID, SES = "google-lab.com", "outlook-lab.com", "sendgrid-lab.net", "amazonses-lab.com"
g_ips = [f"198.18.10.{n}" for n in range(41, 53)]
g_pfx = ["yw1", "pj1", "lf1", "wm1", "qt1", "io1", "ed1", "oa1"]
g_ptr = {ip: f"mail-{g_pfx[i % len(g_pfx)]}-f{ip.split('.')[-1]}.{GOOG}" for i, ip in enumerate(g_ips)}
m_ips = [f"198.18.20.{n}" for n in range(41, 49)]
m_reg = ["am6eur05", "db8eur06", "vi1eur04", "he1eur02", "nam12", "bn8nam11", "dm6nam10", "eur03"]
m_ptr = {ip: f"mail-{m_reg[i]}on20{ip.split('.')[-1]}.outbound.protection.{MSFT}" for i, ip in enumerate(m_ips)}
s_ips = [f"198.18.30.{n}" for n in range(10, 16)]
s_ptr = {ip: f"o{i + 1}.ptr{2040 + i * 37}.{SGRID}" for i, ip in enumerate(s_ips)}
a_ips = [f"198.18.40.{n}" for n in range(41, 47)]
a_ptr = {ip: f"a8-{ip.split('.')[-1]}.smtp-out.{SES}" for ip in a_ips}

G_CUST = ["brightpath-consulting.com", "harborview-dental.com", "oakridge-academy.org", "lumen-analytics.io",
          "northfield-farms.com", "cedarline-legal.com", "pixelforge-studio.io", "greenleaf-organics.co.uk",
          "summit-outdoor.us", "riverbend-clinic.org", "maplestone-realty.com", "kestrel-robotics.io",
          "bluewater-marine.net", "silverpine-hotels.com", "tallgrass-ventures.com", "hollowtree-books.co.uk"]
M_CUST = ["contoso-pharma.com", "granite-insurance.com", "westbrook-logistics.com", "ironclad-security.net",
          "meridian-bank.com", "crestview-health.org", "pioneer-manufacturing.com", "atlas-engineering.de",
          "vantage-capital.com", "keystone-builders.us", "northwind-traders.net", "evergreen-energy.com",
          "falcon-aerospace.com", "stonebridge-law.co.uk"]
S_CUST = ["shopnova.com", "trailhead-gear.com", "mealbox-delivery.com", "fitpulse-app.io", "ticketwave.com",
          "homenest-furniture.de", "quickcart-market.com", "learnly-courses.io"]
A_CUST = ["cloudbill-invoicing.com", "parcelpoint-tracking.com", "streamline-hr.io", "datadock-backup.com",
          "rentwise-property.com", "medremind-alerts.com"]
# self-hosted: domain, MTA host label (None: no PTR), DKIM selector (None: unsigned), DMARC (None: no record), SPF
SELF = [
    ("ostrander-family.net", "mail", None, None, "v=spf1 mx ~all"),
    ("hackerspace-lab.org", "mx1", "default", "v=DMARC1; p=none", "v=spf1 mx a -all"),
    ("kleinbauer-gmbh.de", "mail", "mail", "v=DMARC1; p=quarantine; rua=mailto:dmarc@kleinbauer-gmbh.de", "v=spf1 mx -all"),
    ("village-council.org.uk", "smtp", None, None, None),
    ("mountainview-school.org", "mail", "dkim", "v=DMARC1; p=none; rua=mailto:postmaster@mountainview-school.org", "v=spf1 mx ip4:{ip} -all"),
    ("bakery-lefevre.com", None, None, None, "v=spf1 a mx ~all"),
    ("linux-usergroup.de", "lists", "20230901", "v=DMARC1; p=none", "v=spf1 mx -all"),
    ("smallbiz-accounting.com", "mail", "default", "v=DMARC1; p=reject; adkim=s; aspf=s", "v=spf1 ip4:{ip} -all"),
    ("randall-photography.com", "mx", None, None, "v=spf1 mx ?all"),
    ("old-mainframe.net", "relay", None, None, "v=spf1 +mx ~all"),
    ("citizens-radio.org", "mail", "s2048", "v=DMARC1; p=none; sp=none", "v=spf1 mx a:relay.citizens-radio.org -all"),
    ("weber-maschinenbau.de", "mx01", "dkim2024", "v=DMARC1; p=quarantine; pct=50", "v=spf1 mx -all"),
    ("pinecrest-church.org", None, "mail", None, "v=spf1 mx ~all"),
    ("nordic-knitting.io", "smtp1", "k1", "v=DMARC1; p=none; rua=mailto:dmarc@nordic-knitting.io", "v=spf1 mx include:_spf.google-lab.com ~all"),
    ("coastal-kayak.us", "mail", "default", None, "v=spf1 mx -all"),
    ("example-newsletter.net", "out", "news", "v=DMARC1; p=none; rua=mailto:dmarc@example-newsletter.net", "v=spf1 ip4:{ip} ~all"),
]
SOA = "ns2.ext-dns.com. hostmaster.ext-dns.com. 2024060101 7200 900 1209600 300"


def base(zname, ttl=3600):
    if zname in zones:
        return
    z = zone(zname)
    z.append(f"$TTL {ttl}")
    z.append(f"{'@':<40} {'':<6} {'SOA':<6} {SOA}")
    z.append(f"{'@':<40} {'':<6} {'NS':<6} ns2.ext-dns.com.")


def dmarc_for(i, d):
    pol = ["v=DMARC1; p=none; rua=mailto:dmarc-reports@{d}",
           "v=DMARC1; p=quarantine; rua=mailto:dmarc@{d}; ruf=mailto:dmarc-forensic@{d}; fo=1",
           "v=DMARC1; p=reject; rua=mailto:rua@dmarc-lab-reports.com",
           None,
           "v=DMARC1; p=none; sp=quarantine; rua=mailto:re+{dd}@dmarc-lab-reports.com",
           None,
           "v=DMARC1; p=reject; adkim=s; aspf=r; rua=mailto:dmarc@{d}"][i % 7]
    return None if pol is None else pol.format(d=d, dd=dash(d).replace("-", ""))


# provider zones
base(GOOG, 300)
rr(GOOG, "@", "A", "198.18.11.100")
rr(GOOG, "@", "MX", "10 aspmx.l.google-lab.com.")
rr(GOOG, "@", "TXT", txt("v=spf1 include:_spf.google-lab.com ~all"))
rr(GOOG, "_spf", "TXT", txt("v=spf1 include:_netblocks.google-lab.com include:_netblocks2.google-lab.com include:_netblocks3.google-lab.com ~all"))
rr(GOOG, "_netblocks", "TXT", txt("v=spf1 ip4:198.18.10.0/24 ip4:198.18.11.0/24 ~all"))
rr(GOOG, "_netblocks2", "TXT", txt("v=spf1 ip6:2001:db8:180a::/48 ~all"))
rr(GOOG, "_netblocks3", "TXT", txt("v=spf1 ip4:198.18.12.0/23 ~all"))
rr(GOOG, "_dmarc", "TXT", txt("v=DMARC1; p=reject; rua=mailto:mailauth-reports@google-lab.com"))
for n, h in enumerate(["aspmx.l", "alt1.aspmx.l", "alt2.aspmx.l"]):
    rr(GOOG, h, "A", f"198.18.11.{27 + n}")
for ip, name in g_ptr.items():
    rr(GOOG, name + ".", "A", ip)
base(MSFT, 300)
rr(MSFT, "@", "TXT", txt("v=spf1 include:spf.protection.outlook-lab.com -all"))
rr(MSFT, "spf.protection", "TXT", txt("v=spf1 ip4:198.18.20.0/24 ip4:198.18.21.0/24 include:spfd.protection.outlook-lab.com -all"))
rr(MSFT, "spfd.protection", "TXT", txt("v=spf1 ip4:198.18.22.0/23 ip6:2001:db8:1814::/48 -all"))
rr(MSFT, "*.mail.protection", "A", "198.18.21.10")
rr(MSFT, "*.mail.protection", "A", "198.18.21.11")
for ip, name in m_ptr.items():
    rr(MSFT, name + ".", "A", ip)
base("onmicrosoft-lab.com", 3600)
base(SGRID, 300)
rr(SGRID, "@", "TXT", txt("v=spf1 ip4:198.18.30.0/24 ip4:198.18.31.0/24 ~all"))
rr(SGRID, "@", "A", "198.18.31.80")
rr(SGRID, "@", "MX", "10 mx.sendgrid-lab.net.")
for ip, name in s_ptr.items():
    rr(SGRID, name + ".", "A", ip)
base(SES, 300)
rr(SES, "@", "TXT", txt("v=spf1 ip4:198.18.40.0/24 ip4:198.18.41.0/24 ~all"))
rr(SES, "@", "A", "198.18.41.80")
rr(SES, "@", "MX", "10 feedback-smtp.us-east-1.amazonses-lab.com.")   # the envelope sender domain must resolve
rr(SES, "feedback-smtp.us-east-1", "MX", "10 feedback-smtp.us-east-1.amazonses-lab.com.")
rr(SES, "feedback-smtp.us-east-1", "A", "198.18.41.5")
rr(SES, "inbound-smtp.us-east-1", "A", "198.18.41.25")
for ip, name in a_ptr.items():
    rr(SES, name + ".", "A", ip)
# SES signs every message twice: d=<customer> and d=amazonses-lab.com
SES_SEL = "6gbrjpgwjskckoa6a5zn6fwqkn67xbtw"
dkim.append((SES, f"{SES_SEL}._domainkey.{SES}", 1024, "ses-platform"))
base("dmarc-lab-reports.com", 3600)
rr("dmarc-lab-reports.com", "@", "MX", "10 inbound.dmarc-lab-reports.com.")
rr("dmarc-lab-reports.com", "inbound", "A", "198.18.50.10")
for d in G_CUST + M_CUST + S_CUST + A_CUST:
    rr("dmarc-lab-reports.com", f"{d}._report._dmarc", "TXT", txt("v=DMARC1"))


def pool_str(ips):
    return ",".join(ips)


for i, d in enumerate(G_CUST):
    base(d)
    rr(d, "@", "A", f"198.18.60.{10 + i}")
    rr(d, "www", "CNAME", "ghs.google-lab.com.")
    for pri, h in ((1, "aspmx.l"), (5, "alt1.aspmx.l"), (5, "alt2.aspmx.l")):
        rr(d, "@", "MX", f"{pri} {h}.google-lab.com.")
    rr(d, "@", "TXT", txt("v=spf1 include:_spf.google-lab.com ~all"))
    rr(d, "@", "TXT", txt(f"google-site-verification=Gv{i:02d}x4Hk9Qm2LpT7sW1zR8yN3bC6dF0aJ5eU"))
    dm = dmarc_for(i, d)
    if dm:
        rr(d, "_dmarc", "TXT", txt(dm))
    signed = i % 5 != 4
    if signed:
        dkim.append((d, f"google._domainkey.{d}", 2048 if i % 2 else 1024, f"g-{d}"))
    senders.append((d, "google", pool_str(g_ips), f"g-{d}:{d}:google" if signed else "-"))
rr(GOOG, "ghs", "A", "198.18.11.121")

for i, d in enumerate(M_CUST):
    base(d)
    tenant = d.split(".")[0].replace("-", "")
    rr(d, "@", "A", f"198.18.61.{10 + i}")
    rr(d, "@", "MX", f"0 {dash(d)}.mail.protection.outlook-lab.com.")
    rr(d, "@", "TXT", txt("v=spf1 include:spf.protection.outlook-lab.com -all"))
    rr(d, "@", "TXT", txt(f"MS=ms{48151623 + i * 1111}"))
    rr(d, "autodiscover", "CNAME", "autodiscover.outlook-lab.com.")
    dm = dmarc_for(i + 2, d)
    if dm:
        rr(d, "_dmarc", "TXT", txt(dm))
    for s in ("selector1", "selector2"):
        tgt = f"{s}-{dash(d)}._domainkey.{tenant}.onmicrosoft-lab.com"
        rr(d, f"{s}._domainkey", "CNAME", tgt + ".")
        dkim.append(("onmicrosoft-lab.com", tgt, 2048, f"m-{s}-{d}"))
    senders.append((d, "microsoft", pool_str(m_ips), f"m-selector1-{d}:{d}:selector1"))
rr(MSFT, "autodiscover", "A", "198.18.21.200")

for i, d in enumerate(S_CUST):
    base(d)
    uid = 1000 + 173 * i
    rr(d, "@", "A", f"198.18.62.{10 + i}")
    for pri, h in ((1, "aspmx.l"), (5, "alt1.aspmx.l")):
        rr(d, "@", "MX", f"{pri} {h}.google-lab.com.")
    rr(d, "@", "TXT", txt("v=spf1 include:_spf.google-lab.com include:sendgrid-lab.net ~all"))
    rr(d, "em", "TXT", txt("v=spf1 include:sendgrid-lab.net ~all"))   # envelope sender domain (bounces+NNN@em.<d>)
    rr(d, "em", "MX", "10 mx.sendgrid-lab.net.")
    rr(d, "url1234", "CNAME", "sendgrid-lab.net.")
    dm = dmarc_for(i + 4, d)
    if dm:
        rr(d, "_dmarc", "TXT", txt(dm))
    for s in ("s1", "s2"):
        tgt = f"{s}.domainkey.u{uid}.wl{uid % 251:03d}.sendgrid-lab.net"
        rr(d, f"{s}._domainkey", "CNAME", tgt + ".")
        dkim.append((SGRID, tgt, 2048 if s == "s1" else 1024, f"s-{s}-{d}"))
    senders.append((d, "sendgrid", pool_str(s_ips), f"s-s1-{d}:{d}:s1"))
rr(SGRID, "mx", "A", "198.18.31.25")

for i, d in enumerate(A_CUST):
    base(d)
    rr(d, "@", "A", f"198.18.63.{10 + i}")
    rr(d, "@", "MX", "10 inbound-smtp.us-east-1.amazonses-lab.com.")
    rr(d, "@", "TXT", txt("v=spf1 include:amazonses-lab.com ~all"))
    dm = dmarc_for(i + 1, d)
    if dm:
        rr(d, "_dmarc", "TXT", txt(dm))
    tok = "".join("abcdefghijklmnopqrstuvwxyz234567"[(i * 7 + k * 13 + k * k) % 32] for k in range(32))
    tgt = f"{tok}.dkim.amazonses-lab.com"
    rr(d, f"{tok}._domainkey", "CNAME", tgt + ".")
    dkim.append((SES, tgt, 2048, f"a-{d}"))
    senders.append((d, "amazonses", pool_str(a_ips),
                    f"a-{d}:{d}:{tok},ses-platform:amazonses-lab.com:{SES_SEL}"))

self_rows = []
for i, (d, host, sel, dm, spf) in enumerate(SELF):
    base(d)
    ip = f"198.19.{3 + i // 8}.{20 + i * 3}"
    mta = f"{host or 'mail'}.{d}"
    rr(d, "@", "A", ip)
    rr(d, "www", "A", ip)
    rr(d, host or "mail", "A", ip)
    rr(d, "@", "MX", f"10 {mta}.")
    if spf:
        rr(d, "@", "TXT", txt(spf.format(ip=ip)))
    if dm:
        rr(d, "_dmarc", "TXT", txt(dm))
    if sel:
        dkim.append((d, f"{sel}._domainkey.{d}", 1024 if i % 3 else 2048, f"x-{d}"))
    self_rows.append((ip, mta if host else None, d))
    senders.append((d, "self", ip, f"x-{d}:{d}:{sel}" if sel else "-"))

# reverse zones for the sender addresses
for rz in ("18.198.in-addr.arpa", "19.198.in-addr.arpa"):
    base(rz, 3600)


def ptr(ip, name):
    a, b, c, dd = ip.split(".")
    rr(f"{b}.{a}.in-addr.arpa", f"{dd}.{c}", "PTR", name + ".")


for m in (g_ptr, m_ptr, s_ptr, a_ptr):
    for ip, name in m.items():
        ptr(ip, name)
for n, h in enumerate(["aspmx.l", "alt1.aspmx.l", "alt2.aspmx.l"]):
    ptr(f"198.18.11.{27 + n}", f"{h}.google-lab.com")
ptr("198.18.21.10", "mail-eur05-inbound.protection.outlook-lab.com")
ptr("198.18.21.11", "mail-eur06-inbound.protection.outlook-lab.com")
rr(MSFT, "mail-eur05-inbound.protection", "A", "198.18.21.10")
rr(MSFT, "mail-eur06-inbound.protection", "A", "198.18.21.11")
for ip, name, d in self_rows:
    if name is None:
        continue                            # no PTR (NXDOMAIN)
    if d == "old-mainframe.net":
        ptr(ip, "dsl-198-19-4-47.dynamic.isp-lab.net")   # generic PTR whose forward lookup fails
        continue
    ptr(ip, name)
base("isp-lab.net")

# ------------------------------------------------------------------ DNS blocklists (only a few entries listed)
BL = {
    "zen.spamhaus.org": [("2.0.0.127", "A", "127.0.0.2"), ("2.0.0.127", "A", "127.0.0.10"), ("2.0.0.127", "A", "127.0.0.4"),
                         ("47.4.19.198", "A", "127.0.0.11"), ("66.113.0.203", "A", "127.0.0.4"),
                         ("23.77.19.198", "A", "127.0.0.3"), ("88.77.19.198", "A", "127.0.0.4"), ("89.77.19.198", "A", "127.0.0.4")],
    "dbl.spamhaus.org": [("dbltest.com", "A", "127.0.1.2"), ("cheap-meds-online.net", "A", "127.0.1.2"),
                         ("secure-login-verify.com", "A", "127.0.1.4"), ("invoice-docs-share.com", "A", "127.0.1.5")],
    "multi.surbl.org": [("test", "A", "127.0.0.2"), ("surbl-org-permanent-test-point.com", "A", "127.0.0.126"),
                        ("cheap-meds-online.net", "A", "127.0.0.64"), ("secure-login-verify.com", "A", "127.0.0.8")],
    "multi.uribl.com": [("test", "A", "127.0.0.14"), ("cheap-meds-online.net", "A", "127.0.0.2"),
                        ("bulk-deals-mailer.com", "A", "127.0.0.4")],
    "bl.spamcop.net": [("2.0.0.127", "A", "127.0.0.2"), ("88.77.19.198", "A", "127.0.0.2")],
    "rep.mailspike.net": [("2.0.0.127", "A", "127.0.0.10")] + [(".".join(reversed(ip.split("."))), "A", "127.0.0.18") for ip in g_ips[:6] + m_ips[:4]],
    "bl.score.senderscore.com": [("2.0.0.127", "A", "127.0.4.1"), ("88.77.19.198", "A", "127.0.4.1")],
    "bl.spameatingmonkey.net": [("2.0.0.127", "A", "127.0.0.2")],
    "bl.ipv6.spameatingmonkey.net": [],
    "uribl.spameatingmonkey.net": [("cheap-meds-online.net", "A", "127.0.0.2")],
    "fresh15.spameatingmonkey.net": [("invoice-docs-share.com", "A", "127.0.0.2")],
    "list.dnswl.org": [("2.0.0.127", "A", "127.0.10.0")] + [(".".join(reversed(ip.split("."))), "A", "127.0.5.2") for ip in g_ips + m_ips] +
                      [(".".join(reversed(ip.split("."))), "A", "127.0.15.1") for ip in a_ips],
    "dwl.dnswl.org": [(d, "A", "127.0.5.2") for d in G_CUST[:3] + M_CUST[:3]],
    "bip.virusfree.cz": [("2.0.0.127", "A", "127.0.0.2")],
    "ix.dnsbl.manitu.net": [("2.0.0.127", "A", "127.0.0.2"), ("88.77.19.198", "A", "127.0.0.2")],
    "bl.blocklist.de": [("2.0.0.127", "A", "127.0.0.2"), ("89.77.19.198", "A", "127.0.0.2")],
    "ebl.msbl.org": [],
    "psbl.surriel.com": [("2.0.0.127", "A", "127.0.0.2")],
}
BL_ZONE = {"zen.spamhaus.org": "zen.spamhaus.org", "dbl.spamhaus.org": "dbl.spamhaus.org",
           "multi.surbl.org": "surbl.org", "multi.uribl.com": "uribl.com", "bl.spamcop.net": "spamcop.net",
           "rep.mailspike.net": "mailspike.net", "bl.score.senderscore.com": "senderscore.com",
           "bl.spameatingmonkey.net": "spameatingmonkey.net", "bl.ipv6.spameatingmonkey.net": "spameatingmonkey.net",
           "uribl.spameatingmonkey.net": "spameatingmonkey.net", "fresh15.spameatingmonkey.net": "spameatingmonkey.net",
           "list.dnswl.org": "dnswl.org", "dwl.dnswl.org": "dnswl.org", "bip.virusfree.cz": "virusfree.cz",
           "ix.dnsbl.manitu.net": "manitu.net", "bl.blocklist.de": "blocklist.de", "ebl.msbl.org": "msbl.org",
           "psbl.surriel.com": "surriel.com"}
for bl, entries in BL.items():
    zn = BL_ZONE[bl]
    base(zn, 300 if zn != bl else 60)
    if zn != bl:
        rr(zn, bl + ".", "TXT", txt(f"{bl} lab blocklist"))
    for owner, t, data in entries:
        rr(zn, f"{owner}.{bl}.", t, data)
        if t == "A" and data.startswith("127.0.0."):
            rr(zn, f"{owner}.{bl}.", "TXT", txt(f"Listed by {bl}, see https://www.{zn}/query/"))
for zn in sorted(set(BL_ZONE.values())):
    if zn.count(".") == 1:
        rr(zn, "@", "A", "198.51.100.200")
        rr(zn, "www", "A", "198.51.100.200")
# rspamd.com: asn lookups, hashed URL/email blocklists, maps/fuzzy hosts
base("rspamd.com", 300)
rr("rspamd.com", "@", "A", "198.51.100.201")
for h in ("www", "maps", "fuzzy1", "fuzzy2", "rspamd-fuzzy"):
    rr("rspamd.com", h, "A", "198.51.100.201")
rr("rspamd.com", "uribl", "TXT", txt("rspamd uribl"))
rr("rspamd.com", "email", "TXT", txt("rspamd emailbl"))
for net, asn, cc in (("198.18.10", 64496, "US"), ("198.18.11", 64496, "US"), ("198.18.20", 64497, "US"), ("198.18.21", 64497, "IE"),
                     ("198.18.30", 64498, "US"), ("198.18.40", 64499, "US"), ("198.19.3", 64500, "DE"), ("198.19.4", 64501, "GB"),
                     ("198.19.77", 64511, "RU"), ("203.0.113", 64510, "NL"), ("198.51.100", 64502, "US")):
    a, b, c = net.split(".")
    rr("rspamd.com", f"*.{c}.{b}.{a}.asn", "TXT", txt(f"{asn}|{net}.0/24|{cc}|arin|"))
# Team Cymru malware hash registry (the EICAR test file is the only listed hash)
base("cymru.com", 300)
rr("cymru.com", "@", "A", "198.51.100.202")
rr("cymru.com", "www", "A", "198.51.100.202")
rr("cymru.com", "44d88612fea8a8f36de82e1278abb02f.malware.hash", "A", "127.0.0.2")
rr("cymru.com", "44d88612fea8a8f36de82e1278abb02f.malware.hash", "TXT", txt("1700000000 79"))
rr("cymru.com", "malware.hash", "TXT", txt("Team Cymru Malware Hash Registry (lab)"))
rr("cymru.com", "*.origin.asn", "TXT", txt("64502 | 198.51.100.0/24 | US | arin | 2010-01-01"))

# ------------------------------------------------------------------ ClamAV update infrastructure
base("clamav.net", 300)
rr("clamav.net", "@", "A", "198.51.100.210")
rr("clamav.net", "www", "A", "198.51.100.210")
rr("clamav.net", "current.cvd", "TXT", txt("1.4.1:62:27488:1734090600:1:90:49192:336"), ttl=1800)
rr("clamav.net", "database", "CNAME", "database.clamav.net.cdn-lab.net.")
rr("clamav.net", "*.ping", "A", "127.0.0.1")
base("cdn-lab.net", 300)
rr("cdn-lab.net", "database.clamav.net", "A", "198.51.100.211")
rr("cdn-lab.net", "database.clamav.net", "AAAA", "2001:db8:51::211")

# ------------------------------------------------------------------ ACME (DNS-01) zones of Example Corp, hosted outside
for zn, hosts in (("examplecorp-shop.com", ["www", "shop", "api", "checkout"]),
                  ("examplecorp-cdn.net", ["static", "img", "dl"]),
                  ("example-apps.io", ["portal", "auth"])):
    base(zn, 300)
    rr(zn, "@", "A", "198.51.100.220")
    rr(zn, "@", "MX", "10 mail.example.com.")
    rr(zn, "@", "TXT", txt("v=spf1 include:example.com -all"))
    rr(zn, "@", "CAA", '0 issue "pebble-lab.net"')
    for h in hosts:
        rr(zn, h, "A", "198.51.100.220")
base("pebble-lab.net", 300)
rr("pebble-lab.net", "acme", "A", "198.51.100.30")
rr("pebble-lab.net", "@", "A", "198.51.100.30")

# ------------------------------------------------------------------ SaaS names used by pods and browsers
for zn, ip in (("docker.io", "198.51.100.230"), ("docker.com", "198.51.100.231"), ("sentry.io", "198.51.100.232"),
               ("amazonaws.com", "198.51.100.233"), ("gvt1.com", "198.51.100.234"), ("gvt2.com", "198.51.100.235"),
               ("ghcr.io", "198.51.100.236"), ("quay.io", "198.51.100.237")):
    base(zn, 300)
    rr(zn, "@", "A", ip)
    rr(zn, "*", "A", ip)
    rr(zn, "*", "AAAA", "2001:db8:51::" + ip.split(".")[-1])

# ------------------------------------------------------------------ write
names = sorted(zones)
for zn in names:
    with open(os.path.join(P, zn + ".zone"), "w") as f:
        f.write(f"; {zn} -- generated by pcaps/lab/gen-zones-precision.py (precision lab, knotd on ext2 198.51.100.20)\n")
        f.write("\n".join(zones[zn]) + "\n")
with open(os.path.join(Z, "prec-zones.txt"), "w") as f:
    f.write("\n".join(names) + "\n")
with open(os.path.join(P, "dkim-keys.txt"), "w") as f:
    f.write("# zone owner bits keyid -- RSA keys generated at lab start (lib.sh start_ext2); TXT appended to the zone\n")
    for z_, o, b, k in dkim:
        f.write(f"{z_} {o} {b} {k}\n")
with open(os.path.join(P, "senders.tsv"), "w") as f:
    f.write("# domain\tkind\tsource-ips\tsignatures(keyid:d:s,...)\n")
    for row in senders:
        f.write("\t".join(row) + "\n")

# ------------------------------------------------------------------ cluster.local (k8s cluster DNS, BIND on cdns)
CL = ["$TTL 30",
      "@ SOA ns.dns.cluster.local. hostmaster.cluster.local. 2024060101 7200 1800 86400 30",
      "@ NS ns.dns.cluster.local.",
      "ns.dns A 10.20.10.10",
      "kubernetes.default.svc A 10.96.0.1",
      "kube-dns.kube-system.svc A 10.96.0.10",
      "metrics-server.kube-system.svc A 10.96.44.17",
      "redis.default.svc A 10.96.12.34",
      "redis-master.default.svc A 10.96.12.35",
      "api.default.svc A 10.96.20.5",
      "web.default.svc A 10.96.20.6",
      "worker.default.svc A 10.96.20.7",
      "postgres.db.svc A 10.96.30.2",
      "postgres-replica.db.svc A 10.96.30.3",
      "rabbitmq.messaging.svc A 10.96.31.9",
      "prometheus.monitoring.svc A 10.96.40.2",
      "alertmanager.monitoring.svc A 10.96.40.3",
      "loki.monitoring.svc A 10.96.40.4",
      "_http-metrics._tcp.prometheus.monitoring.svc SRV 0 100 9090 prometheus.monitoring.svc.cluster.local.",
      "_amqp._tcp.rabbitmq.messaging.svc SRV 0 100 5672 rabbitmq.messaging.svc.cluster.local.",
      ]
for i in range(3):
    CL.append(f"postgres-{i}.postgres.db.svc A 10.244.{1 + i}.{20 + i}")
with open(os.path.join(Z, "k8s", "cluster.local.zone"), "w") as f:
    f.write("; cluster.local -- generated by pcaps/lab/gen-zones-precision.py (cluster DNS on cdns 10.20.10.10)\n")
    f.write("\n".join(CL) + "\n")
print(f"precision zones: {len(names)} zones, {len(dkim)} DKIM keys, {len(senders)} sender domains")
