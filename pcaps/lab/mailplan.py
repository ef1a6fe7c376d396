#!/usr/bin/python3
"""mailplan.py SENDERS.tsv SEED SECONDS RATE OUTDIR -- plans the inbound mail of make-precision.sh (seeded, so re-runs
send the same messages). Writes OUTDIR/plan-<snd>.txt ("sleep envelope-from header-from rcpt subject" lines, one
swaks run each), OUTDIR/sdt-<snd>.txt (Postfix sender_dependent_default_transport_maps: envelope sender -> the
per-source-address transport of that sender's provider pool) and OUTDIR/domains-<snd>.txt (the domains each sender
MTA signs for / accepts mail for)."""
import os
import random
import sys

tsv, seed, secs, rate, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
r = random.Random(seed)
rows = [l.rstrip("\n").split("\t") for l in open(tsv) if not l.startswith("#")]
NS = {"google": "snd1", "microsoft": "snd1", "sendgrid": "snd2", "amazonses": "snd2", "self": "snd3"}
WEIGHT = {"google": 3, "microsoft": 3, "sendgrid": 2, "amazonses": 2, "self": 1}
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
         "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "sales", "support", "info", "hr",
         "billing", "security", "jobs", "it-helpdesk", "facilities", "legal", "press"]
UNKNOWN = ["alica", "b0b", "webmaster2", "admin123", "ceo.office", "ex-employee"]
LISTS = ["partners-fwd", "board-fwd"]
LOCAL = {"google": ["alice", "j.smith", "office", "sales", "m.jones", "info", "kate", "accounts"],
         "microsoft": ["john.doe", "procurement", "a.kumar", "servicedesk", "l.martin", "invoices", "hr-team"],
         "self": ["info", "kontakt", "office", "admin", "hello", "secretary"]}
SUBJ = ["Meeting next week", "Invoice {n}", "Re: project update", "Your order #{n} has shipped", "Weekly newsletter",
        "Contract draft v{n}", "Fwd: slides", "Password reset requested", "Reminder: appointment on Friday",
        "Quote request {n}", "Re: Re: delivery schedule", "Your receipt from {d}", "Job application", "Welcome!",
        "Payment confirmation {n}", "Re: support ticket {n}", "Monthly statement", "Conference registration"]
doms = []
for d, kind, ips, sig in rows:
    doms.append((d, kind, ips.split(","), WEIGHT[kind]))
plans = {"snd1": [], "snd2": [], "snd3": []}
sdt = {"snd1": {}, "snd2": {}, "snd3": {}}
last = {"snd1": 0.0, "snd2": 0.0, "snd3": 0.0}
t = 0.0
while True:
    t += r.expovariate(rate)
    if t > secs:
        break
    d, kind, ips, _ = r.choices(doms, [w for *_, w in doms])[0]
    ns = NS[kind]
    if kind == "sendgrid":
        hfrom = r.choice(["news", "orders", "no-reply", "hello"]) + "@" + d
        env = f"bounces+{r.randrange(1000000, 9999999)}-{r.randrange(16**3, 16**4):x}=example.com@em.{d}"
    elif kind == "amazonses":
        hfrom = r.choice(["billing", "notifications", "no-reply", "alerts"]) + "@" + d
        env = f"0100018c{r.getrandbits(32):08x}-{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-000000@amazonses-lab.com"
    else:
        hfrom = r.choice(LOCAL[kind]) + "@" + d
        env = hfrom
    x = r.random()
    if x < 0.05:
        rcpt = r.choice(UNKNOWN)
    elif x < 0.12:
        rcpt = r.choice(LISTS)
    else:
        rcpt = r.choice(USERS)
    subj = r.choice(SUBJ).format(n=r.randrange(1000, 99999), d=d)
    ip = r.choice(ips)
    sdt[ns][env] = "o" + ip.replace(".", "_")
    plans[ns].append((t - last[ns], env, hfrom, rcpt + "@example.com", subj))
    last[ns] = t
os.makedirs(out, exist_ok=True)
for ns in plans:
    with open(os.path.join(out, f"plan-{ns}.txt"), "w") as f:
        for w, env, hf, rc, s in plans[ns]:
            f.write(f"{w:.2f}\t{env}\t{hf}\t{rc}\t{s}\n")
    with open(os.path.join(out, f"sdt-{ns}.txt"), "w") as f:
        for env, tr in sorted(sdt[ns].items()):
            f.write(f"{env} {tr}:\n")
    with open(os.path.join(out, f"domains-{ns}.txt"), "w") as f:
        f.write("".join(f"{d} OK\n" for d, kind, _, _ in doms if NS[kind] == ns))
print(" ".join(f"{ns}:{len(p)}" for ns, p in plans.items()))
