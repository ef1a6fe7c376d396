#!/usr/bin/env python3
"""RowBinary against JSONEachRow for the ClickHouse sink (issue 17): what each format costs the
server to take the same DNS events.

A private clickhouse-server on loopback (tests/ops/clickhouse_server.py, the shipped schema);
dns_events is filled by replaying PCAP with outputs.clickhouse on (the sink's own RowBinary),
merged to one part, and exported twice with clickhouse-client, `SELECT * FROM dns_events FORMAT
RowBinary` and `... FORMAT JSONEachRow`, into files. Each file is then inserted into an empty
copy of the table (CREATE TABLE ... AS dns_events), the formats alternating, K runs each:

  - http:   one POST of the file to the HTTP interface (`INSERT INTO copy FORMAT F`), the way the
            sink sends: the server parses the format. Wall time of the request, CPU time
            (utime + stime) of clickhouse-server over it (from /proc).
  - client: `clickhouse-client --query "INSERT INTO copy FORMAT F" < file`. The client parses
            the format itself and sends native blocks, so its CPU time is reported beside the
            server's.

A third file, JSONEachRow-lean, is the JSONEachRow export without the keys that hold their
column's default (0, "", [], null), which ClickHouse fills in: what a sink writing JSON would
send. Every insert is checked (row count; and, once per file, a checksum of all columns against
the original table). Prints octets per row, the median wall and CPU times, and the ratios to
RowBinary.

usage: clickhouse_formats.py DNSVIGIL CONFIG PCAP [--repeat K] [--keep DIR]
exit 0, or 77 when clickhouse-server is missing (skipped)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
import opslib as ops  # noqa: E402
from clickhouse_server import ClickHouse, server_cpu  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("RowBinary", "JSONEachRow", "JSONEachRow-lean")
DB = "bench"
# A key whose value is the column's default (0, "", [], null; Int64 is quoted): JSONEachRow fills
# omitted keys with the default, so a sink writing JSON would leave them out. Only keys directly
# after { or , match, so text inside strings (whose quotes are escaped) never does.
DEFAULT_KEY = re.compile(rb'(?<=[{,])"[a-z_.]+":(?:0|""|"0"|\[\]|null)(?:,|(?=}))')


def lean(src: Path, dst: Path) -> None:
    """The JSONEachRow export without the keys that hold their column's default."""
    with open(src, "rb") as i, open(dst, "wb") as o:
        for line in i:
            o.write(DEFAULT_KEY.sub(b"", line).replace(b",}", b"}"))


def run_timed(argv: list[str], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL) -> tuple[float, float]:
    """Runs argv; (wall s, CPU s of the process and its children)."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise SystemExit(f"clickhouse_formats: {' '.join(argv)} exited {rc}:\n{err.decode(errors='replace')[-2000:]}")
    return wall, ru.ru_utime + ru.ru_stime


def quiet(ch: ClickHouse) -> None:
    """Waits until the server has no merge running (they would count as insert CPU)."""
    ops.wait_for(lambda: ch.value("SELECT count() FROM system.merges") == 0, 300, "merges to finish", 0.2)
    time.sleep(0.5)


def http_insert(ch: ClickHouse, fmt: str, path: Path) -> None:
    url = f"http://127.0.0.1:{ch.http}/?" + urllib.parse.urlencode(
        {"database": DB, "query": f"INSERT INTO copy FORMAT {fmt}"})
    with open(path, "rb") as f:
        req = urllib.request.Request(url, data=f, method="POST",
                                     headers={"Content-Length": str(path.stat().st_size)})
        with urllib.request.urlopen(req, timeout=600) as r:
            r.read()


def checksum(ch: ClickHouse, table: str, columns: list[str]) -> str:
    """An order-independent digest of every stored column of `table`."""
    cols = ", ".join(f"toString({c})" if "Array" in t or "Nullable" in t or "Enum" in t else c for c, t in columns)
    # 18.16's cityHash64 takes strings and numbers; arrays and nullables go through toString
    return ch.query(f"SELECT count(), groupBitXor(cityHash64({cols})) FROM {table}", DB).strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dnsvigil")
    ap.add_argument("config")
    ap.add_argument("pcap")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", help="leave the exported files in this folder")
    a = ap.parse_args()
    cleanup = ops.Cleanup()
    with tempfile.TemporaryDirectory(prefix="dnsvigil-bench-chfmt-") as tmp:
        try:
            d = Path(tmp)
            (d / "ch").mkdir()
            ch = ClickHouse(d / "ch", cleanup)
            ch.start()
            ch.script("install-schema.sh", "--database", DB, root=ROOT)
            cfg = d / "sink.yaml"
            cfg.write_text(Path(a.config).read_text() + f"""
outputs:
  clickhouse:
    enabled: true
    url: http://127.0.0.1:{ch.http}
    database: {DB}
    observer_name: bench
    max_buffer_bytes: 4GiB
    shutdown_timeout: 600s
""")
            run_timed([a.dnsvigil, "-q", "-c", str(cfg), "-r", a.pcap, "--alerts-json", "/dev/null"])
            ch.query("OPTIMIZE TABLE dns_events FINAL", DB)
            quiet(ch)
            rows = ch.value("SELECT count() FROM dns_events", DB)
            columns = [tuple(line.split("\t")[:2]) for line in ch.query("DESCRIBE TABLE dns_events", DB).splitlines()
                       if line.split("\t")[2] != "ALIAS"]
            original = checksum(ch, "dns_events", columns)
            ch.query("CREATE TABLE copy AS dns_events", DB)

            out = Path(a.keep) if a.keep else d
            out.mkdir(parents=True, exist_ok=True)
            files: dict[str, Path] = {}
            client = [ch.client, "--host", "127.0.0.1", "--port", str(ch.tcp), "--database", DB]
            for fmt in FORMATS[:2]:
                files[fmt] = out / f"dns_events.{fmt}"
                with open(files[fmt], "wb") as f:
                    run_timed(client + ["--max_threads", "1", "--query", f"SELECT * FROM dns_events FORMAT {fmt}"],
                              stdout=f)
            files[FORMATS[2]] = out / f"dns_events.{FORMATS[2]}"
            lean(files["JSONEachRow"], files[FORMATS[2]])

            # runs[method][fmt] = [(wall, server cpu, client cpu), ...]
            runs: dict[str, dict[str, list[tuple[float, float, float]]]] = {
                m: {f: [] for f in FORMATS} for m in ("http", "client")}
            checked: set[str] = set()
            for i in range(max(a.repeat, 1)):
                order = FORMATS if i % 2 == 0 else FORMATS[::-1]
                for method in ("http", "client"):
                    for name in order:
                        fmt = name.split("-")[0]
                        ch.query("TRUNCATE TABLE copy", DB)
                        quiet(ch)
                        before = server_cpu(ch.proc.pid)
                        if method == "http":
                            start = time.monotonic()
                            http_insert(ch, fmt, files[name])
                            wall, ccpu = time.monotonic() - start, 0.0
                        else:
                            with open(files[name], "rb") as f:
                                wall, ccpu = run_timed(client + ["--query", f"INSERT INTO copy FORMAT {fmt}"], stdin=f)
                        srv = server_cpu(ch.proc.pid) - before
                        n = ch.value("SELECT count() FROM copy", DB)
                        if n != rows:
                            raise SystemExit(f"clickhouse_formats: {method} {name}: {n} rows in copy, {rows} expected")
                        if name not in checked:
                            got = checksum(ch, "copy", columns)
                            if got != original:
                                raise SystemExit(f"clickhouse_formats: {name}: copy {got} != original {original}")
                            checked.add(name)
                        runs[method][name].append((wall, srv, ccpu))

            size = {f: files[f].stat().st_size for f in FORMATS}
            print(f"clickhouse-server {ch.query('SELECT version()').strip()} on 127.0.0.1, {os.cpu_count()} cores; "
                  f"{rows} rows of dns_events from {Path(a.pcap).name}; {a.repeat} runs a format and method, "
                  f"alternating; medians; every copy checked against the original (all columns)")
            print(f"{'format':<16} {'octets':>12} {'per row':>8}")
            for f in FORMATS:
                print(f"{f:<16} {size[f]:12d} {size[f] / rows:8.1f}")
            print(f"{'method':<7} {'format':<16} {'wall_s':>7} {'server_cpu_s':>13} {'client_cpu_s':>13} "
                  f"{'rows/server_cpu_s':>18}")
            med: dict[tuple[str, str], tuple[float, float, float]] = {}
            for m in ("http", "client"):
                for f in FORMATS:
                    r = runs[m][f]
                    w, s, c = (statistics.median(x[k] for x in r) for k in range(3))
                    med[(m, f)] = (w, s, c)
                    print(f"{m:<7} {f:<16} {w:7.2f} {s:13.2f} {c:13.2f} {rows / max(s, 1e-9):18.0f}")
            for f in FORMATS[1:]:
                print(f"{f} / RowBinary: x{size[f] / size['RowBinary']:.2f} octets")
                for m in ("http", "client"):
                    (wr, sr, cr), (wj, sj, cj) = med[(m, "RowBinary")], med[(m, f)]
                    cpu = f"x{(sj + cj) / max(sr + cr, 1e-9):.2f} CPU (server + client)" if m == "client" \
                        else f"x{sj / max(sr, 1e-9):.2f} server CPU"
                    print(f"  {m}: x{wj / wr:.2f} wall, {cpu}")
            return 0
        finally:
            cleanup.run()  # the server stops before its folder goes


if __name__ == "__main__":
    sys.exit(main())
