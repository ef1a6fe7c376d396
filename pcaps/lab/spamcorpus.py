#!/usr/bin/python3
"""spamcorpus.py SENDERS.tsv SEED N SECONDS OUTDIR -- a seeded corpus of inbound messages for rspamd (make-precision.sh
mail-dnsbl): ham from the precision lab's sender domains (provider pools, self-hosted MTAs) and some spam from
"bad" addresses (198.19.77.0/24, 203.0.113.0/24), each with a realistic Received chain (2-3 hops, one private),
URLs and e-mail addresses in the body. Writes OUTDIR/NNN.eml and OUTDIR/manifest.txt, one line per message:
"sleep client-ip helo envelope-from rcpt file" (what the MTA would pass to rspamd)."""
import email.utils
import os
import random
import sys

tsv, seed, n, secs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
r = random.Random(seed)
rows = [l.rstrip("\n").split("\t") for l in open(tsv) if not l.startswith("#")]
os.makedirs(out, exist_ok=True)
GOOD_URLS = ["https://www.github.com/{d}/issues/{n}", "https://docs.google.com/document/d/{h}/edit",
             "https://www.linkedin.com/in/{u}", "https://zoom.us/j/{n}", "https://www.{d}/news/{n}",
             "https://www.{d}/unsubscribe?u={h}", "https://login.live.com/", "https://www.youtube.com/watch?v={h}",
             "https://fonts.googleapis.com/css?family=Roboto", "https://www.wikipedia.org/wiki/{u}",
             "https://track.{d}/click/{h}", "https://d111111abcdef8.cloudfront.net/img/{h}.png",
             "https://slack.com/app_redirect?channel={u}", "https://www.{d}/invoice/{n}.pdf"]
BAD_URLS = ["http://cheap-meds-online.net/buy?id={n}", "https://secure-login-verify.com/account/{h}",
            "http://invoice-docs-share.com/view/{h}", "http://bulk-deals-mailer.com/offer/{n}",
            "http://free-gift-cards-now.com/claim/{h}", "https://bit-ly-lab.com/{u}"]
BAD_FROM = ["promo@bulk-deals-mailer.com", "security@secure-login-verify.com", "noreply@invoice-docs-share.com",
            "winner@free-gift-cards-now.com", "support@account-alert-lab.com", "hr@payroll-update-lab.com"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "sales", "support", "info", "billing", "hr"]
PTRS = {}
for d, kind, ips, sig in rows:
    for ip in ips.split(","):
        PTRS[ip] = d
REV = {}   # address -> PTR name, from the reverse zones next to SENDERS.tsv
for rz in ("18.198", "19.198"):
    for line in open(os.path.join(os.path.dirname(tsv), rz + ".in-addr.arpa.zone")):
        f = line.split()
        if len(f) == 3 and f[1] == "PTR":
            d4, c3 = f[0].split(".")
            REV[f"{rz.split('.')[1]}.{rz.split('.')[0]}.{c3}.{d4}"] = f[2].rstrip(".")
t = 0.0
man = []
for i in range(n):
    t_prev = t
    t += r.expovariate(n / secs) + 0.1
    spam = r.random() < 0.25
    if spam:
        ip = r.choice([f"198.19.77.{r.choice([23, 88, 89] + list(range(30, 70)))}", f"203.0.113.{r.randrange(10, 250)}"])
        helo = r.choice(["localhost", f"[{ip}]", "WIN-" + "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(11)),
                         f"mail{r.randrange(1, 99)}.{r.choice(['bulk-deals-mailer.com', 'fastmail-relay-lab.net'])}"])
        hfrom = r.choice(BAD_FROM)
        env = hfrom if r.random() < 0.5 else f"{r.choice(USERS)}{r.randrange(100, 999)}@{r.choice(['isp-lab.net', 'mailbox-lab.com'])}"
        urls = [r.choice(BAD_URLS) for _ in range(r.randint(1, 3))] + [r.choice(GOOD_URLS) for _ in range(r.randint(0, 2))]
        dom = hfrom.split("@")[1]
    else:
        d, kind, ips, sig = r.choice(rows)
        ip = r.choice(ips.split(","))
        dom = d
        helo = REV.get(ip, "mail." + d)
        hfrom = f"{r.choice(['info', 'news', 'j.smith', 'office', 'billing', 'no-reply'])}@{d}"
        env = hfrom
        urls = [r.choice(GOOD_URLS) for _ in range(r.randint(0, 4))]
    rcpt = f"{r.choice(USERS)}@example.com"
    h = "%032x" % r.getrandbits(128)
    fill = dict(d=dom, n=r.randrange(1000, 999999), h=h[:r.randint(8, 24)], u=r.choice(USERS))
    body_urls = [u.format(**fill) for u in urls]
    emails = [f"{r.choice(USERS)}@{dom}"] + ([f"{r.choice(USERS)}@{r.choice(rows)[0]}"] if r.random() < 0.4 else [])
    date = email.utils.formatdate(1733580000 + int(t), usegmt=True)
    qid = "".join(r.choice("0123456789ABCDEF") for _ in range(11))
    internal = f"10.{r.randrange(0, 255)}.{r.randrange(0, 255)}.{r.randrange(1, 254)}"
    rcvd = [f"Received: from {helo} (unknown [{ip}])\n\tby mail.example.com (Postfix) with ESMTPS id {qid}\n\tfor <{rcpt}>; {date}",
            f"Received: from [{internal}] (unknown [{internal}])\n\tby {helo} with ESMTPSA id {h[:12]}\n\tfor <{rcpt}>; {date}"]
    if not spam and r.random() < 0.3:
        relay = r.choice([x for x in PTRS if x != ip])
        rcvd.insert(1, f"Received: from {REV.get(relay, 'relay.' + PTRS[relay])} ([{relay}])\n\tby {helo} with ESMTP id {h[12:24]}; {date}")
    subj = r.choice(["Your invoice", "Meeting notes", "Action required: verify your account", "Weekly digest",
                     "Re: quote", "You have won!", "Shipping update", "Password expires today", "Newsletter"])
    msg = "\n".join(rcvd) + f"""
From: {hfrom.split('@')[0].title()} <{hfrom}>
To: <{rcpt}>
Subject: {subj}
Date: {date}
Message-ID: <{h}@{dom}>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello,

{' '.join(body_urls)}

Contact: {' '.join(emails)}

--
{dom}
"""
    fn = os.path.join(out, f"{i:03d}.eml")
    with open(fn, "w") as f:
        f.write(msg)
    man.append((t - t_prev, ip, helo, env, rcpt, fn))
with open(os.path.join(out, "manifest.txt"), "w") as f:
    for w, ip, helo, env, rcpt, fn in man:
        f.write(f"{w:.2f}\t{ip}\t{helo}\t{env}\t{rcpt}\t{fn}\n")
print(f"{n} messages, {sum(1 for m in man if m[1].startswith(('198.19.77', '203.0.113')))} spam")
