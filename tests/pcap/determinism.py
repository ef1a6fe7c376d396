#!/usr/bin/env python3
"""Determinism: replaying the same capture twice gives byte-identical --dump-json output.

Packet time drives every timeout, so nothing in a replay may depend on the wall clock, on
hash-table iteration order seeded per process, on thread timing, or on uninitialised memory.
Each capture under <root>/pcaps/ (and <shared>/pcaps-conformance/ when present) is replayed
twice; the two --dump-json outputs (unanswered-query lines included) must be identical, and so
must the two --alerts-json files and the end-of-run counters (the summary line with the
wall-clock duration and rate is left out).

Then with two workers, both ways they get frames: each worker reading the file itself (a file
given by name) and a dispatcher feeding them (the same file on standard input). Each must give
the same events as one worker (the same lines, in another order) and the same counters.

Exit status: 0 identical, 1 a difference or a dnsvigil failure, 77 no capture found.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pcaplib  # noqa: E402

_WALL_CLOCK = re.compile(r" in [0-9.]+ s, [0-9]+ packets/s")


def _diff(a: bytes, b: bytes) -> str:
    d = difflib.unified_diff(a.decode("utf-8", "replace").splitlines(), b.decode("utf-8", "replace").splitlines(),
                             "run 1", "run 2", lineterm="", n=0)
    return "\n".join(list(d)[:12])


def check(dnsvigil: str, path: Path, tmp: Path) -> list[str]:
    """Two replays of `path`: the DNS event dump (stdout) and the alerts (a file each) must match."""
    runs, alerts = [], []
    for i in range(2):
        out = tmp / f"{os.getpid()}-{abs(hash(str(path)))}-{i}.alerts.json"
        runs.append(pcaplib.run_dnsvigil(dnsvigil, [path], ["--alerts-json", str(out)], quiet=False))
        alerts.append(out.read_bytes() if out.exists() else b"")
        out.unlink(missing_ok=True)
    errs = [f"{path}: {r.describe_failure()}" for r in runs if r.crashed]
    if errs:
        return errs
    a, b = runs
    if a.stdout != b.stdout:
        errs.append(f"{path}: --dump-json differs between two replays:\n" + _diff(a.stdout, b.stdout))
    if alerts[0] != alerts[1]:
        errs.append(f"{path}: --alerts-json differs between two replays:\n" + _diff(alerts[0], alerts[1]))
    sa, sb = (_WALL_CLOCK.sub("", r.stderr) for r in runs)
    if sa != sb:
        errs.append(f"{path}: end-of-run counters differ between two replays:\n{sa}\n---\n{sb}")
    if not a.stdout.strip() and "dns: 0 messages" not in a.stderr:
        errs.append(f"{path}: empty dump")
    one_events, one_counters = sorted(a.stdout.splitlines()), pcaplib.parse_summary(a.stderr)
    for how, captures, stdin in (("workers reading the file", [path], None),
                                 ("a dispatcher reading standard input", ["-"], path)):
        r = pcaplib.run_dnsvigil(dnsvigil, captures, ["-j", "2"], quiet=False, stdin=stdin)
        if r.crashed:
            errs.append(f"{path}: -j 2, {how}: {r.describe_failure()}")
            continue
        if sorted(r.stdout.splitlines()) != one_events:
            errs.append(f"{path}: -j 2, {how}: not the events of -j 1:\n" +
                        _diff(b"\n".join(one_events), b"\n".join(sorted(r.stdout.splitlines()))))
        if pcaplib.parse_summary(r.stderr) != one_counters:
            errs.append(f"{path}: -j 2, {how}: counters differ from -j 1: {one_counters} against "
                        f"{pcaplib.parse_summary(r.stderr)}")
    return errs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dnsvigil", help="dnsvigil binary (default: $DNSVIGIL or build/*/sensor/app/dnsvigil)")
    ap.add_argument("--root", type=Path, default=pcaplib.default_root(), help="repository root")
    ap.add_argument("--shared", type=Path, help="shared folder (default: ROOT/../shared)")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("files", nargs="*", type=Path, help="only these captures")
    args = ap.parse_args(argv)
    dnsvigil = args.dnsvigil or pcaplib.default_dnsvigil(args.root)
    if not dnsvigil:
        print("error: no dnsvigil binary; pass --dnsvigil PATH", file=sys.stderr)
        return 2
    root = args.root.resolve()
    shared = (args.shared or pcaplib.default_shared(root)).resolve()
    files = list(args.files) or (pcaplib.find_captures(root / "pcaps")
                                 + pcaplib.find_captures(shared / "pcaps-conformance"))
    if not files:
        print("SKIP: no captures")
        return pcaplib.SKIP
    with tempfile.TemporaryDirectory(prefix="dnsvigil-determinism-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda f: check(dnsvigil, f, Path(tmp)), files))
    errs = [e for r in results for e in r]
    for e in errs:
        print(e)
    print(f"{len(files)} captures replayed twice and with 2 workers both ways: "
          f"{'identical' if not errs else f'{len(errs)} problem(s)'}")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
