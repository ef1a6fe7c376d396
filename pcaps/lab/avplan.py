#!/usr/bin/python3
"""avplan.py HASHES SEED SECONDS HOST... -- per-host lookup plans of endpoint AV/EDR cloud reputation clients
(make-precision.sh av-hash-lookups / forwarder). HASHES: "md5 sha1 path" lines of real files. Every host runs one
product (Team Cymru MHR-based EDR, Sophos-style SXL, McAfee GTI-style), looks up a file hash every ~8 s and
in bursts (a program start or an on-access scan of a directory). Popular files are looked up by many hosts.
Prints "host sleep name qtype" lines (sleep = seconds after that host's previous lookup)."""
import random
import sys

hashes = [l.split()[:2] for l in open(sys.argv[1]) if len(l.split()) >= 3]
seed, secs, hosts = sys.argv[2], float(sys.argv[3]), sys.argv[4:]
r = random.Random(seed)
weights = [1.0 / (i + 1) ** 0.8 for i in range(len(hashes))]   # Zipf-like: system binaries are everywhere


def name(product, md5, sha1):
    if product == "cymru":
        return f"{md5}.malware.hash.cymru.com", r.choice(["TXT", "TXT", "A"])
    if product == "sophos":
        return f"{r.choice('0123')}.0.0.0.1.0.0.4e.{md5}.sxl.sophosxl.net", "A"
    return f"{sha1}.avqs.mcafee.com", "A"


for i, h in enumerate(hosts):
    product = ["sophos", "cymru", "mcafee"][i % 3]
    t = r.uniform(0, 5)
    prev = 0.0
    while t < secs:
        burst = r.randint(5, 25) if r.random() < 0.12 else 1
        for k in range(burst):
            md5, sha1 = r.choices(hashes, weights)[0]
            n, q = name(product, md5, sha1)
            print(f"{h} {t - prev:.2f} {n} {q}")
            prev = t
            t += r.uniform(0.05, 0.4)
        t += r.expovariate(1 / 8.0)
