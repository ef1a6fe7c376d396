"""Helpers shared by the pcap-level tests (differential.py, run_cases.py, determinism.py).

Python 3 standard library only.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import subprocess
import sys
from pathlib import Path

# CTest's SKIP_RETURN_CODE for tests whose inputs are absent (the shared conformance captures).
SKIP = 77

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")

# Markers a sanitizer or the C++ runtime leaves on stderr when dnsvigil misbehaves without a
# non-zero exit (UBSan without halt_on_error, for instance).
_CRASH_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                  "terminate called", "Assertion `", "_GLIBCXX_ASSERTIONS", "Segmentation fault")


def default_root() -> Path:
    """The repository root: two levels above this file (tests/pcap/)."""
    return Path(__file__).resolve().parents[2]


def default_shared(root: Path) -> Path:
    """The shared material folder that sits next to the repository (../shared)."""
    return (root / ".." / "shared").resolve()


def find_captures(folder: Path) -> list[Path]:
    """Every capture under `folder`, recursively, sorted for a stable order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))


def default_dnsvigil(root: Path) -> str | None:
    """A dnsvigil binary to use when none is given: $DNSVIGIL, then the usual build folders."""
    env = os.environ.get("DNSVIGIL")
    if env:
        return env
    for cand in ("build/debug/sensor/app/dnsvigil", "build/release/sensor/app/dnsvigil",
                 "build/asan-ubsan/sensor/app/dnsvigil", "build/sensor/app/dnsvigil"):
        p = root / cand
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None


class RunResult:
    """Outcome of one dnsvigil run."""

    def __init__(self, argv: list[str], rc: int, stdout: bytes, stderr: str):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    @property
    def crashed(self) -> bool:
        """Killed by a signal, non-zero exit, or a sanitizer/runtime report on stderr."""
        return self.rc != 0 or any(m in self.stderr for m in _CRASH_MARKERS)

    def describe_failure(self) -> str:
        how = f"killed by signal {-self.rc}" if self.rc < 0 else f"exit status {self.rc}"
        tail = "\n".join(self.stderr.strip().splitlines()[-15:])
        return f"{' '.join(self.argv)}: {how}\n{tail}"

    def events(self, include_unanswered: bool = False) -> list[dict]:
        """The --dump-json lines, parsed. Unanswered-query records are left out unless asked for."""
        out = []
        for raw in self.stdout.splitlines():
            if not raw.strip():
                continue
            ev = json.loads(raw)
            if not include_unanswered and ev.get("event", {}).get("action") == "dns-unanswered":
                continue
            out.append(ev)
        return out


# Alert outputs dnsvigil knows; when none is given it writes alerts to stdout.
_ALERT_OPTIONS = ("--alerts-json", "--alerts-text", "-c", "--config")


def run_dnsvigil(binary: str, captures: list[Path | str], extra: list[str] | None = None,
                 quiet: bool = True, timeout: float = 600, isolate_alerts: bool = True,
                 stdin: Path | None = None) -> RunResult:
    """Replays `captures` (in order) with --dump-json to stdout; returns the outcome. `stdin`: a
    file given to dnsvigil as its standard input (read with the capture "-").

    With no alert output configured dnsvigil writes alerts to stdout too, from its output thread,
    so they would land between (or inside) the --dump-json lines. These tests check the packet
    path, so unless `isolate_alerts` is False (or `extra` names an alert output or a config) the
    alerts go to /dev/null.
    """
    argv = [binary]
    for c in captures:
        argv += ["-r", str(c)]
    argv += ["--dump-json", "-"]
    if quiet:
        argv.append("-q")
    extra = list(extra or [])
    if isolate_alerts and not any(a in _ALERT_OPTIONS for a in extra):
        argv += ["--alerts-json", "/dev/null"]
    argv += extra
    try:
        with open(stdin if stdin is not None else os.devnull, "rb") as inp:
            p = subprocess.run(argv, stdin=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                               check=False)
    except subprocess.TimeoutExpired as e:
        return RunResult(argv, -9, e.stdout or b"", f"timed out after {timeout} s")
    return RunResult(argv, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


_SUMMARY_PATTERNS = [
    # dnsvigil: summary: 27 packets (12066 octets) from 1 file in 0.001 s, ...
    (re.compile(r"summary: (\d+) packets \((\d+) octets\)"), ("packets", "bytes")),
    # dns: 10 messages (5 queries, 5 responses); 5 matched, 0 unanswered, 0 unsolicited
    (re.compile(r"dns: (\d+) messages \((\d+) queries, (\d+) responses\); (\d+) matched, (\d+) unanswered, "
                r"(\d+) unsolicited"),
     ("dns_messages", "dns_queries", "dns_responses", "tx_matched", "tx_unanswered", "tx_unsolicited")),
    # ip fragments: 20 seen, 3 datagrams reassembled; tcp: 0 segments, 0 streams
    (re.compile(r"ip fragments: (\d+) seen, (\d+) datagrams reassembled"), ("frag_fragments", "frag_reassembled")),
    (re.compile(r"tcp: (\d+) segments, (\d+) streams"), ("tcp_segments", "tcp_streams")),
]
_KV = re.compile(r"\b([a-z][a-z0-9_]*)=(\d+)\b")


def parse_summary(stderr: str) -> dict[str, int]:
    """Counters from the end-of-run summary on stderr, by their stable ids.

    The prose lines give the volume counters (packets, dns_messages, frag_reassembled, ...); the
    `counters:`, `parse errors:` and `anomalies:` lines give `id=value` pairs. Parse errors are
    also exposed as `dns_error_<id>` and anomalies as `anomaly_<id>` so the three namespaces
    cannot collide. Counters absent from the summary are zero (the summary omits zeros).
    """
    out: dict[str, int] = {}
    for line in stderr.splitlines():
        for rx, names in _SUMMARY_PATTERNS:
            m = rx.search(line)
            if m:
                for name, val in zip(names, m.groups()):
                    out[name] = int(val)
        stripped = line.strip()
        prefix = ""
        if stripped.startswith("parse errors:"):
            prefix = "dns_error_"
        elif stripped.startswith("anomalies:"):
            prefix = "anomaly_"
        elif not stripped.startswith("counters:"):
            continue
        for k, v in _KV.findall(stripped.split(":", 1)[1]):
            out[prefix + k] = int(v)
            if prefix:
                out.setdefault(k, int(v))
    return out


_RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z$")


def rfc3339_ns(ts: str) -> int:
    """'2016-10-20T15:23:01.075993000Z' -> nanoseconds since the epoch."""
    m = _RFC3339.match(ts)
    if not m:
        raise ValueError(f"not an RFC 3339 UTC timestamp: {ts!r}")
    y, mo, d, h, mi, s, frac = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s), 0, 0, 0))
    return secs * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def epoch_ns(ts: str) -> int:
    """tshark's frame.time_epoch '1477003381.075993000' -> nanoseconds."""
    whole, _, frac = ts.partition(".")
    neg = whole.startswith("-")
    v = abs(int(whole)) * 1_000_000_000 + int(frac.ljust(9, "0")[:9] or "0")
    return -v if neg else v


def dotted_get(obj, path: str):
    """obj['a']['b'] for path 'a.b'; list indices as numbers ('dns.answers.0.data').

    Keys that themselves contain dots (ECS '@timestamp' has none, but be safe) are tried whole
    first. Returns the sentinel MISSING when the path does not resolve.
    """
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    head, dot, rest = path.partition(".")
    if isinstance(obj, dict):
        # Longest key prefix first, so "a.b" keys win over nested "a" -> "b".
        parts = path.split(".")
        for i in range(len(parts), 0, -1):
            key = ".".join(parts[:i])
            if key in obj:
                if i == len(parts):
                    return obj[key]
                return dotted_get(obj[key], ".".join(parts[i:]))
        return MISSING
    if isinstance(obj, list) and head.isdigit():
        idx = int(head)
        if idx >= len(obj):
            return MISSING
        return obj[idx] if not dot else dotted_get(obj[idx], rest)
    return MISSING


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


def eprint(*args) -> None:
    print(*args, file=sys.stderr)
