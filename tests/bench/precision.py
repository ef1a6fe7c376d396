#!/usr/bin/env python3
"""Precision figures: alerts per million benign packets, per-rule trigger counts, and whether every
attack capture still raises its rule (issue 13). Part of tests/bench/run.sh; runs alone too:

  tests/bench/precision.py DNSVIGIL [--dnsgen FILE ...]

Benign corpus: pcaps/detect/precision/*.pcap and pcaps/detect/benign/*.pcap (the capture lab's real
software), each replayed twice: with the sanctioned resolvers configured and no client role
(tests/detect/precision.yaml) and with nothing but the internal networks (tests/detect/zero-config.yaml).
Files given with --dnsgen (synthetic resolver traffic made with `dnsgen --no-attacks`) are replayed
with tests/bench/gen/bench-precision.yaml (resolvers, no roles).
Attack corpus: every pcaps/detect/<rule>/pos-*.pcap with tests/detect/lab.yaml.

A rule's trigger count is the number of times its conditions were met: each alert plus the repeats
its summary folded (dnsvigil.suppressed), by evidence.trigger.
"""
import collections
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PRECISION = "tests/detect/precision.yaml"
ZERO = "tests/detect/zero-config.yaml"
LAB = "tests/detect/lab.yaml"
DNSGEN_CONFIG = "tests/bench/gen/bench-precision.yaml"
# rule -> rules it explains on the same (client, registered domain): see docs/detectors.md.
PRECEDENCE = {"tunneling": {"enumeration", "beaconing", "recon_sweep"}}


def replay(binary, capture, config):
    """Alerts (parsed) and the packet count of one replay."""
    p = subprocess.run([binary, "-c", os.path.join(ROOT, config), "-r", capture, "--alerts-json", "-"],
                       capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise SystemExit(f"dnsvigil failed on {capture}: {p.stderr.strip()}")
    packets = 0
    for line in p.stderr.splitlines():
        if "summary:" in line and " packets" in line:
            packets = int(line.split("summary:")[1].split()[0])
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()], packets


def trigger_of(a):
    return a["dnsvigil"]["evidence"].get("trigger") or a["dnsvigil"]["evidence"].get("outcome") or "-"


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    dnsgen = sys.argv[sys.argv.index("--dnsgen") + 1:] if "--dnsgen" in sys.argv else []
    benign = sorted(glob.glob(os.path.join(ROOT, "pcaps/detect/precision/*.pcap")) +
                    glob.glob(os.path.join(ROOT, "pcaps/detect/benign/*.pcap")))
    runs = [(f, c) for f in benign for c in (PRECISION, ZERO)] + [(f, DNSGEN_CONFIG) for f in dnsgen]
    triggers = collections.Counter()
    total_packets = total_alerts = 0
    print(f"{'benign capture':44} {'config':18} {'packets':>9} {'alerts':>6} {'per M':>8}  rules")
    for f, cfg in runs:
        alerts, packets = replay(binary, f, cfg)
        name = os.path.relpath(f, ROOT).replace("pcaps/detect/", "") if f.startswith(ROOT) else os.path.basename(f)
        rules = collections.Counter(a["rule"]["name"] for a in alerts)
        for a in alerts:
            triggers[(a["rule"]["name"], trigger_of(a))] += 1 + a["dnsvigil"].get("suppressed", 0) * a["dnsvigil"].get("summary", False)
        total_packets += packets
        total_alerts += len(alerts)
        per_m = len(alerts) * 1e6 / packets if packets else 0.0
        print(f"{name:44} {os.path.basename(cfg):18} {packets:9d} {len(alerts):6d} {per_m:8.1f}  "
              f"{', '.join(f'{r}={n}' for r, n in sorted(rules.items())) or '-'}")
    per_m = total_alerts * 1e6 / total_packets if total_packets else 0.0
    print(f"benign total: {total_packets} packets replayed, {total_alerts} alerts = {per_m:.1f} alerts per million "
          f"benign packets")
    print("benign trigger counts (rule trigger: times met):",
          ", ".join(f"{r} {t}: {n}" for (r, t), n in sorted(triggers.items())) or "none")

    attack_triggers = collections.Counter()
    caught = missed = doubled = 0
    for f in sorted(glob.glob(os.path.join(ROOT, "pcaps/detect/*/pos-*.pcap"))):
        rule = os.path.basename(os.path.dirname(f))
        if rule in ("zero_config",):
            continue
        alerts, _ = replay(binary, f, LAB)
        for a in alerts:
            attack_triggers[(a["rule"]["name"], trigger_of(a))] += 1
        if any(a["rule"]["name"] == rule for a in alerts):
            caught += 1
        else:
            missed += 1
            print(f"MISSED: {os.path.relpath(f, ROOT)} raised {sorted({a['rule']['name'] for a in alerts}) or 'nothing'}")
        for hi in alerts:
            for lo in alerts:
                if (lo["rule"]["name"] in PRECEDENCE.get(hi["rule"]["name"], ())
                        and hi.get("source") == lo.get("source")
                        and hi["dns"]["question"].get("registered_domain") == lo["dns"]["question"].get("registered_domain")):
                    doubled += 1
    print(f"attack captures: {caught} of {caught + missed} raise their rule; {doubled} pairs of alerts where one "
          "rule explains the other on the same activity")
    print("attack alert counts (rule trigger: alerts):",
          ", ".join(f"{r} {t}: {n}" for (r, t), n in sorted(attack_triggers.items())))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
