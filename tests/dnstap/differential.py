#!/usr/bin/env python3
"""dnstap differential test: every lab capture (pcaps/detect/**/*.pcap, pcaps/demo.pcap) is replayed
twice through dnsvigil with the lab's policy (tests/detect/lab.yaml): as the capture, and as the dnstap
file a DNS server that saw the same messages would have written (tests/dnstap/pcap2dnstap: every
message a CLIENT_QUERY or CLIENT_RESPONSE with the same addresses, ports, transport and time).
The DNS messages counted (queries, responses, matched) and the alerts (rule, client, server,
registered domain, trigger) must be the same both ways.

Captures whose alerts come from what only a capture carries are compared on their DNS messages
only: DNS-over-TLS connection attempts (flow events, pos-dot853-*).

usage: differential.py DNSVIGIL PCAP2DNSTAP REPO_ROOT
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "detect"))
from check import alert_keys  # noqa: E402

MESSAGES_ONLY = {"pos-dot853-1111.pcap"}


def replay(binary, root, path):
    p = subprocess.run([binary, "-c", os.path.join(root, "tests/detect/lab.yaml"), "-r", path, "--alerts-json", "-"],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: dnsvigil -r {path}: {p.stderr.strip()}")
    m = re.search(r"dns: (\d+) messages \((\d+) queries, (\d+) responses\); (\d+) matched, (\d+) unanswered", p.stderr)
    counts = tuple(int(x) for x in m.groups()) if m else None
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()], counts


def main():
    binary, converter, root = sys.argv[1:4]
    captures = sorted(glob.glob(os.path.join(root, "pcaps/detect/**/*.pcap"), recursive=True))
    captures.append(os.path.join(root, "pcaps/demo.pcap"))
    failures, compared, alerts_seen = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for cap in captures:
            tap = os.path.join(tmp, os.path.basename(cap) + ".dnstap")
            c = subprocess.run([converter, cap, tap], capture_output=True, text=True, timeout=600)
            if c.returncode != 0:
                failures.append(f"{cap}: pcap2dnstap failed: {c.stderr.strip()}")
                continue
            a_pcap, n_pcap = replay(binary, root, cap)
            name = os.path.relpath(cap, root)
            if n_pcap is not None and n_pcap[0] == 0 and not a_pcap:
                continue  # no DNS message at all (multicast DNS only, say): nothing a server would log
            a_tap, n_tap = replay(binary, root, tap)
            if n_pcap is None or n_tap is None or n_tap[0] == 0:
                failures.append(f"{name}: no message counts in the summaries ({n_pcap}, {n_tap})")
            elif n_pcap != n_tap:
                failures.append(f"{name}: messages (total, queries, responses, matched, unanswered) "
                                f"{n_pcap} by capture, {n_tap} by dnstap")
            if os.path.basename(cap) not in MESSAGES_ONLY and alert_keys(a_pcap) != alert_keys(a_tap):
                failures.append(f"{name}: alerts differ: only by capture {sorted(alert_keys(a_pcap) - alert_keys(a_tap))}, "
                                f"only by dnstap {sorted(alert_keys(a_tap) - alert_keys(a_pcap))}")
            compared += 1
            alerts_seen += len(a_tap)
    for f in failures:
        print("FAIL: " + f)
    print(f"{'FAIL' if failures else 'PASS'}: {compared} captures compared, {alerts_seen} alerts through dnstap")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
