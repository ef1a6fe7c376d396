#!/usr/bin/env python3
"""The ClickHouse sink's figures for tests/bench/run.sh: a private clickhouse-server on loopback
(tests/ops/clickhouse_server.py, the shipped schema), and the same capture replayed in turn
without the sink and with it (events and alerts into ClickHouse), K times each, fastest kept:

  - events per second into ClickHouse: rows ClickHouse acknowledged over the wall time of the run
    with the sink (which ends when the last batch is acknowledged), and per CPU second of the
    server (utime + stime of clickhouse-server over that run, from /proc);
  - the sensor's cost with the sink on: its CPU time (user + system) and wall time over those of
    the run without it, both measured here on the same file one after the other.

The buffer is large enough (max_buffer_bytes 4 GiB) that no event is dropped: a replay makes
events faster than one server takes them, and the figure wanted is what ClickHouse takes.

usage: clickhouse_rate.py DNSVIGIL CONFIG PCAP [--repeat K] [--workers N]
exit 0, or 77 when clickhouse-server is missing (skipped)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
import opslib as ops  # noqa: E402
from clickhouse_server import ClickHouse, server_cpu  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Runs argv; (wall s, CPU s of the process, stderr)."""
    err = tempfile.TemporaryFile()
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    text = err.read().decode(errors="replace")
    if p.returncode != 0:
        raise SystemExit(f"clickhouse_rate: {' '.join(argv)} exited {p.returncode}:\n{text[-2000:]}")
    return wall, ru.ru_utime + ru.ru_stime, text


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dnsvigil")
    ap.add_argument("config")
    ap.add_argument("pcap")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=0)
    a = ap.parse_args()
    cleanup = ops.Cleanup()
    with tempfile.TemporaryDirectory(prefix="dnsvigil-bench-ch-") as tmp:
        try:
            d = Path(tmp)
            (d / "ch").mkdir()
            ch = ClickHouse(d / "ch", cleanup)
            ch.start()
            ch.script("install-schema.sh", "--database", "bench", root=ROOT)
            base = d / "base.yaml"
            base.write_text(Path(a.config).read_text())
            sink = d / "sink.yaml"
            sink.write_text(base.read_text() + f"""
outputs:
  clickhouse:
    enabled: true
    url: http://127.0.0.1:{ch.http}
    database: bench
    observer_name: bench
    max_buffer_bytes: 4GiB
    shutdown_timeout: 600s
""")
            common = ["-r", a.pcap, "--alerts-json", "/dev/null"] + (["-j", str(a.workers)] if a.workers else [])
            best: dict[str, tuple[float, float, float]] = {}
            summary = ""
            for _ in range(max(a.repeat, 1)):
                wall, cpu, _ = timed([a.dnsvigil, "-c", str(base), *common])
                if "base" not in best or wall < best["base"][0]:
                    best["base"] = (wall, cpu, 0.0)
                ch.query("TRUNCATE TABLE dns_events", "bench")
                before = server_cpu(ch.proc.pid)
                wall, cpu, text = timed([a.dnsvigil, "-c", str(sink), *common])
                srv = server_cpu(ch.proc.pid) - before
                if "sink" not in best or wall < best["sink"][0]:
                    best["sink"] = (wall, cpu, srv)
                    summary = text
            m = re.search(r"clickhouse: (\d+) events: (\d+) inserted in (\d+) batches \((\d+) octets\), (\d+) dropped "
                          r"\(buffer full\), (\d+) dropped at shutdown", summary)
            if not m:
                raise SystemExit(f"clickhouse_rate: no clickhouse line in the summary:\n{summary[-2000:]}")
            offered, inserted, batches, octets, full, late = map(int, m.groups())
            rows = ch.value("SELECT count() FROM dns_events", "bench")
            bw, bc, _ = best["base"]
            sw, sc, srv = best["sink"]
            print(f"clickhouse-server {ch.query('SELECT version()').strip()}, 127.0.0.1:{ch.http}; "
                  f"{offered} events, {inserted} inserted ({rows} rows in the table after the last run) in {batches} batches, "
                  f"{octets / max(inserted, 1):.0f} octets a row; dropped {full} (buffer full) + {late} (shutdown)")
            print(f"{'run':<22} {'wall_s':>8} {'cpu_s':>8} {'events/s':>11} {'events/cpu_s':>13}")
            print(f"{'dnsvigil, no sink':<22} {bw:8.2f} {bc:8.2f} {offered / bw:11.0f} {offered / bc:13.0f}")
            print(f"{'dnsvigil + clickhouse':<22} {sw:8.2f} {sc:8.2f} {offered / sw:11.0f} {offered / sc:13.0f}")
            print(f"{'clickhouse-server':<22} {'':>8} {srv:8.2f} {inserted / sw:11.0f} {inserted / max(srv, 1e-9):13.0f}")
            print(f"sensor cost with the sink on: x{sc / bc:.2f} CPU time, x{sw / bw:.2f} wall time; into ClickHouse "
                  f"{inserted / sw:.0f} events/s (wall, sensor and server sharing {os.cpu_count()} cores)")
            return 0
        finally:
            cleanup.run()  # the server stops before its folder goes


if __name__ == "__main__":
    sys.exit(main())
