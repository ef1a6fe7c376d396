"""Helpers shared by the operational tests (tests/ops/test_*.py).

Python 3 standard library only. What is here:

- `Cleanup`: a stack of undo actions run on exit, on an exception and on SIGTERM/SIGINT/SIGHUP
  (CTest's timeout), so namespaces, processes and users never outlive a test.
- `skip()`, `need_root()`, `need_tool()`: exit 77 (CTest SKIP_RETURN_CODE) when a test cannot run.
- `wait_for()`: poll a condition with a timeout instead of sleeping a fixed time.
- DNS and pcap writers to craft captures (`dns_query`, `dns_response`, `udp_frame`, `PcapWriter`), and
  `StdinFeeder`, a capture written to a replaying dnsvigil's stdin as the test goes.
- `parse_rfc5424()`: a strict RFC 5424 parser (header, STRUCTURED-DATA with its escapes, MSG).
- `parse_prometheus()`: a strict parser of the Prometheus text format 0.0.4.
- `Rsyslog`: a private rsyslogd (own config, pid file, work directory) on loopback ports.
- `Netns`: a pair of network namespaces joined by a veth pair.
- `DnsServer`: knotd with a small zone in a namespace, or a small Python responder without knotd.
- `Dnsvigil`: a dnsvigil process whose log can be polled.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SKIP = 77

# Markers a sanitizer or the C++ runtime leaves on stderr.
CRASH_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "terminate called",
                 "Assertion `", "Segmentation fault", "LeakSanitizer has encountered a fatal error")


def log(msg: str) -> None:
    print(msg, flush=True)


class TestFailure(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise TestFailure(msg)
    log(f"ok: {msg}")


def skip(msg: str) -> None:
    log(f"SKIP: {msg}")
    sys.exit(SKIP)


def need_root() -> None:
    if os.geteuid() != 0:
        skip("needs root (network namespaces, live capture, users)")


def need_tool(name: str) -> str:
    p = shutil.which(name) or (shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin"))
    if not p:
        skip(f"{name} is not installed")
    return p


def wait_for(cond, timeout: float, what: str, interval: float = 0.05):
    """Polls `cond()` until it returns a true value (returned) or `timeout` seconds pass (fails)."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise TestFailure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def args() -> tuple[str, Path]:
    """argv: DNSVIGIL SOURCE_DIR."""
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} DNSVIGIL SOURCE_DIR", file=sys.stderr)
        sys.exit(2)
    binary = sys.argv[1]
    if not os.access(binary, os.X_OK):
        skip(f"{binary} is not an executable")
    return binary, Path(sys.argv[2]).resolve()


# --------------------------------------------------------------------------------------------
# Cleanup


class Cleanup:
    """Undo actions, run last-in first-out exactly once."""

    def __init__(self) -> None:
        self._actions: list[tuple[str, object]] = []
        self._done = False
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def push(self, what: str, fn) -> None:
        self._actions.append((what, fn))

    def _on_signal(self, signum, _frame):
        raise SystemExit(f"killed by signal {signum}")

    def run(self) -> None:
        if self._done:
            return
        self._done = True
        # Signals during cleanup must not interrupt it.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        while self._actions:
            what, fn = self._actions.pop()
            try:
                fn()
            except Exception as e:  # keep cleaning
                log(f"cleanup: {what}: {e}")


def main(body) -> None:
    """Runs body(cleanup) and exits 0 (pass), 1 (fail) or 77 (skip); always cleans up."""
    cleanup = Cleanup()
    rc = 1
    try:
        body(cleanup)
        rc = 0
    except TestFailure as e:
        log(f"FAIL: {e}")
    except SystemExit as e:
        if e.code == SKIP:
            rc = SKIP
        else:
            log(f"FAIL: {e}")
    except BaseException as e:  # noqa: BLE001 - report anything, then clean up
        import traceback
        traceback.print_exc()
        log(f"FAIL: {type(e).__name__}: {e}")
    finally:
        cleanup.run()
    if rc == 0:
        log("PASS")
    sys.exit(rc)


def tempdir(cleanup: Cleanup, tag: str, keep_env: str = "DNSVIGIL_OPS_KEEP") -> Path:
    """A private temporary folder, removed at the end unless $DNSVIGIL_OPS_KEEP is set."""
    d = Path(tempfile.mkdtemp(prefix=f"dnsvigil-ops-{tag}-"))
    if os.environ.get(keep_env):
        log(f"keeping {d}")
    else:
        cleanup.push(f"remove {d}", lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def run(argv: list[str], check_rc: bool = True, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if check_rc and p.returncode != 0:
        raise TestFailure(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def stop_process(p: subprocess.Popen, timeout: float = 10.0, sig: int = signal.SIGTERM) -> int | None:
    """Sends `sig` to one process we started, waits, and kills it if it does not exit."""
    if p.poll() is not None:
        return p.returncode
    try:
        p.send_signal(sig)
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait(5)


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port no one listens on now, for both TCP and UDP (the kernel picks it)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, kind)
        s.bind((host, 0))
        port = s.getsockname()[1]
        s.close()
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM)
        try:
            other.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            other.close()
    raise TestFailure("no free port on loopback")


def listening(port: int, proto: str) -> bool:
    """True when something listens on 127.0.0.1:port (TCP LISTEN or a bound UDP socket)."""
    want = f"0100007F:{port:04X}"
    try:
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            f = line.split()
            if f[1] == want and (proto == "udp" or f[3] == "0A"):
                return True
    except OSError:
        pass
    return False


# --------------------------------------------------------------------------------------------
# DNS messages, frames and pcap files


def labels(name: str | list[bytes]) -> list[bytes]:
    if isinstance(name, list):
        return name
    return [s.encode() for s in name.rstrip(".").split(".") if s]


def wire_name(name: str | list[bytes]) -> bytes:
    out = b""
    for lab in labels(name):
        assert 0 < len(lab) < 64
        out += bytes([len(lab)]) + lab
    return out + b"\0"


QTYPES = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "AXFR": 252, "ANY": 255}


def dns_query(qid: int, name, qtype: str | int = "A", rd: bool = True) -> bytes:
    t = QTYPES[qtype] if isinstance(qtype, str) else qtype
    flags = 0x0100 if rd else 0
    return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + wire_name(name) + struct.pack("!HH", t, 1)


def dns_response(query: bytes, rcode: int = 0, answers: list[tuple[int, int, bytes]] | None = None) -> bytes:
    """A response to `query` (same id and question) with `answers` as (type, ttl, rdata), owner
    name compressed to the question."""
    qid, flags = struct.unpack("!HH", query[:4])
    answers = answers or []
    flags = 0x8000 | (flags & 0x0100) | 0x0080 | (rcode & 0xF)
    out = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0) + query[12:]
    for t, ttl, rdata in answers:
        out += struct.pack("!HHHIH", 0xC00C, t, 1, ttl, len(rdata)) + rdata
    return out


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """Ethernet II + IPv4 + UDP (checksum 0, allowed for IPv4)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    ip = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:] + udp
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip


class PcapWriter:
    """Classic pcap with nanosecond timestamps, Ethernet link type."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.packets = 0
        stream.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))

    def write(self, ts_ns: int, frame: bytes) -> None:
        self.stream.write(struct.pack("<IIII", ts_ns // 1_000_000_000, ts_ns % 1_000_000_000, len(frame), len(frame)))
        self.stream.write(frame)
        self.packets += 1


class StdinFeeder:
    """A pcap written, as a test goes, to the stdin of a process reading `-r -` (nanosecond pcap,
    Ethernet). Writes never block the test: a write that cannot finish within its timeout means the
    process stopped reading its input, and fails the test. `longest_write` is the longest flush."""

    def __init__(self, proc: subprocess.Popen, t0_ns: int, batch: int = 4096) -> None:
        self.fd = proc.stdin.fileno()
        os.set_blocking(self.fd, False)
        self.ts = t0_ns
        self.batch = batch  # packets per pcap_dispatch() of a replay (sensor/app/main.cpp)
        self.packets = 0
        self.buf = bytearray(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        self.longest_write = 0.0

    def packet(self, frame: bytes, step_ns: int = 50_000) -> None:
        """Buffers one frame, `step_ns` of packet time after the previous one."""
        self.ts += step_ns
        self.buf += struct.pack("<IIII", self.ts // 1_000_000_000, self.ts % 1_000_000_000, len(frame), len(frame))
        self.buf += frame
        self.packets += 1

    def flush(self, timeout: float = 15) -> None:
        start = time.monotonic()
        view = memoryview(bytes(self.buf))
        self.buf.clear()
        while view:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                raise TestFailure(f"dnsvigil stopped reading its input: {len(view)} octets not taken in {timeout:.0f} s")
            _, w, _ = select.select([], [self.fd], [], left)
            if w:
                try:
                    n = os.write(self.fd, view)
                except BlockingIOError:
                    continue
                view = view[n:]
        self.longest_write = max(self.longest_write, time.monotonic() - start)

    def pad(self, step_ns: int = 50_000) -> None:
        """Non-DNS packets up to the next multiple of `batch`, so the replay's dispatch returns
        (service duties: metrics, signals) right after the last packet written."""
        frame = udp_frame("192.0.2.1", "192.0.2.2", 9, 9, b"pad")
        for _ in range((-self.packets) % self.batch or self.batch):
            self.packet(frame, step_ns)
        self.flush()

    def metrics(self, dv: "Dnsvigil", url: str, cond, timeout: float, what: str, describe=None) -> dict:
        """The parsed metrics at `url`, published after every packet written so far was read and
        satisfying `cond` (padding the capture so that the replay publishes them); a failure after
        `timeout` seconds names `what` and, with `describe`, what the last metrics said."""
        deadline = time.monotonic() + timeout
        while True:
            self.pad()
            end = time.monotonic() + 1.6  # metrics are published at most once a second
            parsed = None
            while time.monotonic() < end:
                try:
                    p = parse_prometheus(scrape(url)[1])
                    if metric(p, "dnsvigil_packets_total") == self.packets:
                        parsed = p
                        break
                except (OSError, TestFailure):
                    pass
                if dv.proc.poll() is not None:
                    raise TestFailure(f"dnsvigil exited {dv.proc.returncode}:\n{dv.text()[-3000:]}")
                time.sleep(0.05)
            if parsed is not None and cond(parsed):
                return parsed
            if time.monotonic() > deadline:
                said = f"; {describe(parsed)}" if describe is not None and parsed is not None else ""
                raise TestFailure(f"timed out after {timeout:.0f} s waiting for {what}{said}")

    def close(self) -> None:
        os.close(self.fd)


# --------------------------------------------------------------------------------------------
# RFC 5424


class SyslogParseError(ValueError):
    pass


def _sd_name(s: str, i: int, what: str) -> tuple[str, int]:
    """SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']' and '"'."""
    j = i
    while j < len(s) and s[j] not in '= ]"' and "!" <= s[j] <= "~":
        j += 1
    name = s[i:j]
    if not 1 <= len(name) <= 32:
        raise SyslogParseError(f"bad {what} at column {i}: {s[i:i + 40]!r}")
    return name, j


def parse_structured_data(s: str, i: int = 0) -> tuple[list[tuple[str, list[tuple[str, str]]]], int]:
    """STRUCTURED-DATA from s[i:]: NILVALUE or 1*SD-ELEMENT. Returns ([(sd_id, [(name, value)])], end).

    PARAM-VALUE escapes are '\\"', '\\\\' and '\\]' (RFC 5424 section 6.3.3); a backslash before any
    other character is kept as is. An unescaped ']' inside a value is an error.
    """
    if s.startswith("-", i):
        return [], i + 1
    elements = []
    if not s.startswith("[", i):
        raise SyslogParseError(f"structured data must start with '[' or be '-' at column {i}")
    while i < len(s) and s[i] == "[":
        sd_id, i = _sd_name(s, i + 1, "SD-ID")
        params: list[tuple[str, str]] = []
        while True:
            if i >= len(s):
                raise SyslogParseError("unterminated SD-ELEMENT")
            if s[i] == "]":
                i += 1
                break
            if s[i] != " ":
                raise SyslogParseError(f"expected ' ' or ']' at column {i}: {s[i:i + 40]!r}")
            name, i = _sd_name(s, i + 1, "PARAM-NAME")
            if not s.startswith('="', i):
                raise SyslogParseError(f"expected '=\"' after {name} at column {i}")
            i += 2
            value = []
            while True:
                if i >= len(s):
                    raise SyslogParseError(f"unterminated value of {name}")
                c = s[i]
                if c == "\\" and i + 1 < len(s) and s[i + 1] in '"\\]':
                    value.append(s[i + 1])
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    break
                if c == "]":
                    raise SyslogParseError(f"unescaped ']' in the value of {name} at column {i}")
                value.append(c)
                i += 1
            params.append((name, "".join(value)))
        elements.append((sd_id, params))
    return elements, i


_HEADER = re.compile(r"<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ")


def parse_rfc5424(line: str) -> dict:
    """A whole RFC 5424 message (no trailing newline, no octet count)."""
    m = _HEADER.match(line)
    if not m:
        raise SyslogParseError(f"not an RFC 5424 header: {line[:80]!r}")
    pri, version, ts, host, app, procid, msgid = m.groups()
    if int(pri) > 191 or version != "1":
        raise SyslogParseError(f"bad PRI/VERSION in {line[:20]!r}")
    for what, v, n in (("HOSTNAME", host, 255), ("APP-NAME", app, 48), ("PROCID", procid, 128), ("MSGID", msgid, 32)):
        if len(v) > n or not all("!" <= c <= "~" for c in v):
            raise SyslogParseError(f"bad {what} {v!r}")
    sd, i = parse_structured_data(line, m.end())
    msg = None
    if i < len(line):
        if line[i] != " ":
            raise SyslogParseError(f"expected ' ' before MSG at column {i}: {line[i:i + 40]!r}")
        msg = line[i + 1:]
        if msg.startswith("\ufeff"):
            msg = msg[1:]
    return {"pri": int(pri), "facility": int(pri) // 8, "severity": int(pri) % 8, "timestamp": ts,
            "hostname": host, "app_name": app, "procid": procid, "msgid": msgid, "sd": sd, "msg": msg}


def sd_dict(sd: list) -> dict[str, dict[str, str]]:
    """[(id, [(name, value)])] -> {id: {name: value}}; fails on a repeated SD-ID or PARAM-NAME."""
    out: dict[str, dict[str, str]] = {}
    for sd_id, params in sd:
        if sd_id in out:
            raise SyslogParseError(f"SD-ID {sd_id} repeated")
        d: dict[str, str] = {}
        for k, v in params:
            if k in d:
                raise SyslogParseError(f"PARAM-NAME {k} repeated in {sd_id}")
            d[k] = v
        out[sd_id] = d
    return out


# --------------------------------------------------------------------------------------------
# Expected syslog content of an ECS JSON alert (what sensor/output/src/outputs.cpp promises)

SEVERITY_SYSLOG = {"low": 5, "medium": 4, "high": 3, "critical": 2}  # notice, warning, err, crit
LOCAL5 = 21


def evidence_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ",".join(v)
    return str(v)


def expected_sd(alert: dict) -> dict[str, dict[str, str]]:
    """The SD-ELEMENTs an alert (ECS JSON) must travel as."""
    a = {"rule": alert["rule"]["name"], "rule_id": alert["rule"]["id"], "severity": alert["dnsvigil"]["severity"],
         "tactic": alert["threat"]["tactic"]["id"]}
    tech = alert["threat"]["technique"]
    a["technique"] = tech.get("subtechnique", {}).get("id") or tech["id"]
    if "source" in alert:
        a["src"] = alert["source"]["ip"]
        if alert["source"].get("port"):
            a["sport"] = str(alert["source"]["port"])
    if "destination" in alert:
        a["dst"] = alert["destination"]["ip"]
        if alert["destination"].get("port"):
            a["dport"] = str(alert["destination"]["port"])
    if alert.get("network", {}).get("transport"):
        a["transport"] = alert["network"]["transport"]
    q = alert.get("dns", {}).get("question", {})
    if q.get("name"):
        a["qname"] = q["name"]
    if q.get("registered_domain"):
        a["domain"] = q["registered_domain"]
    if q.get("type"):
        a["qtype"] = q["type"]
    if alert["dnsvigil"].get("summary"):
        a["suppressed"] = str(alert["dnsvigil"]["suppressed"])
    if alert["dnsvigil"].get("client_role"):
        a["client_role"] = alert["dnsvigil"]["client_role"]
    out = {"alert@32473": a}
    if alert["dnsvigil"].get("related"):
        # One element with its PARAM-NAMEs repeated per related alert; rsyslog's mmpstrucdata
        # keeps the last value of a repeated name.
        last = alert["dnsvigil"]["related"][-1]
        out["related@32473"] = {"rule": last["rule"], "trigger": last.get("trigger", ""), "message": last["message"]}
    ev = {k: evidence_text(v) for k, v in alert["dnsvigil"].get("evidence", {}).items()}
    if alert["dnsvigil"].get("samples"):
        ev["samples"] = ",".join(alert["dnsvigil"]["samples"])
    if ev:
        out["evidence@32473"] = ev
    return out


def alert_text_line(alert: dict) -> str:
    """The readable line of an alert (--alerts-text) without its leading timestamp."""
    tech = alert["threat"]["technique"]
    s = f"[{alert['dnsvigil']['severity']}] {alert['rule']['name']} {tech.get('subtechnique', {}).get('id') or tech['id']}"
    if "source" in alert:
        s += " " + alert["source"]["ip"]
    if "destination" in alert:
        s += " -> " + alert["destination"]["ip"]
        if alert["destination"].get("port"):
            s += f":{alert['destination']['port']}"
    if alert.get("network", {}).get("transport"):
        s += " " + alert["network"]["transport"]
    if alert["dnsvigil"].get("summary"):
        s += f" (summary: {alert['dnsvigil']['suppressed']} more)"
    if alert["dnsvigil"].get("client_role"):
        s += f" [role {alert['dnsvigil']['client_role']}]"
    for r in alert["dnsvigil"].get("related", []):
        s += f" [related {r['rule']}{' ' + r['trigger'] if r.get('trigger') else ''}]"
    return s + ": " + alert["message"]


def micro_ts(ts: str) -> str:
    """'2026-11-23T18:48:20.215996123Z' -> '2026-11-23T18:48:20.215996Z' (RFC 5424 TIME-SECFRAC)."""
    head, _, frac = ts.rstrip("Z").partition(".")
    return f"{head}.{(frac + '000000')[:6]}Z"


def read_json_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


# --------------------------------------------------------------------------------------------
# Prometheus text format 0.0.4

_METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_METRIC_NAME})(\{{.*\}})? (\S+)( -?\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class PromParseError(ValueError):
    pass


def _labels(text: str, line: str) -> tuple[tuple[str, str], ...]:
    inner = text[1:-1]
    out, i = [], 0
    while i < len(inner):
        m = _LABEL.match(inner, i)
        if not m:
            raise PromParseError(f"bad labels in {line!r}")
        value = re.sub(r"\\(.)", lambda x: "\n" if x.group(1) == "n" else x.group(1), m.group(2))
        out.append((m.group(1), value))
        i = m.end()
        if i < len(inner):
            if inner[i] != ",":
                raise PromParseError(f"expected ',' between labels in {line!r}")
            i += 1
    names = [k for k, _ in out]
    if len(names) != len(set(names)):
        raise PromParseError(f"repeated label in {line!r}")
    return tuple(sorted(out))


def parse_prometheus(text: str) -> dict:
    """Strict parse: every line is HELP, TYPE, another comment, blank, or a sample whose family
    has HELP and TYPE before it; values are floats; no series repeats; the text ends with a newline.
    Returns {"help": {family: text}, "type": {family: type}, "samples": {(name, labels): value}}."""
    if text and not text.endswith("\n"):
        raise PromParseError("the text does not end with a newline")
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    samples: dict[tuple[str, tuple], float] = {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                if not re.fullmatch(_METRIC_NAME, parts[2]):
                    raise PromParseError(f"line {n}: bad metric name {parts[2]!r}")
                if parts[1] == "HELP":
                    if parts[2] in helps:
                        raise PromParseError(f"line {n}: second HELP for {parts[2]}")
                    helps[parts[2]] = parts[3] if len(parts) > 3 else ""
                else:
                    if len(parts) != 4 or parts[3] not in _TYPES:
                        raise PromParseError(f"line {n}: bad TYPE line {line!r}")
                    if parts[2] in types:
                        raise PromParseError(f"line {n}: second TYPE for {parts[2]}")
                    types[parts[2]] = parts[3]
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise PromParseError(f"line {n}: not a sample line: {line!r}")
        name, lab, value = m.group(1), m.group(2), m.group(3)
        try:
            v = float(value)
        except ValueError:
            raise PromParseError(f"line {n}: value {value!r} is not a number") from None
        family = name
        if family not in types:
            for suffix in ("_sum", "_count", "_bucket"):
                if name.endswith(suffix) and name[: -len(suffix)] in types:
                    family = name[: -len(suffix)]
        if family not in types or family not in helps:
            raise PromParseError(f"line {n}: sample {name} has no HELP/TYPE before it")
        if types[family] == "counter" and v < 0:
            raise PromParseError(f"line {n}: negative counter {line!r}")
        key = (name, _labels(lab, line) if lab else ())
        if key in samples:
            raise PromParseError(f"line {n}: series repeated: {line!r}")
        samples[key] = v
    return {"help": helps, "type": types, "samples": samples}


def metric(parsed: dict, name: str, **labels) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total, found = 0.0, False
    for (n, labs), v in parsed["samples"].items():
        if n != name:
            continue
        d = dict(labs)
        if all(d.get(k) == val for k, val in labels.items()):
            total += v
            found = True
    if not found:
        raise TestFailure(f"metric {name}{labels or ''} is absent")
    return total


# --------------------------------------------------------------------------------------------
# rsyslogd


class Rsyslog:
    """A private rsyslogd: own config, pid file and work directory under `d`; never the system's.

    `inputs` is a list of (name, "udp"|"tcp", port); each input has its own ruleset writing
    <name>.p23 (RSYSLOG_SyslogProtocol23Format: the RFC 5424 message as rsyslog parsed it),
    <name>.raw (the bytes as received), <name>.sd.json (mmpstrucdata: rsyslog's own parse of
    the structured data) and <name>.3164 (the RFC 3164 fields rsyslog parsed).
    """

    def __init__(self, d: Path, inputs: list[tuple[str, str, int]]) -> None:
        self.d = d
        self.inputs = inputs
        self.proc: subprocess.Popen | None = None
        self.binary = need_tool("rsyslogd")
        (d / "work").mkdir(parents=True, exist_ok=True)
        self.conf = d / "rsyslog.conf"
        self.pidfile = d / "rsyslogd.pid"
        mods = {p for _, p, _ in inputs}
        lines = [f'global(workDirectory="{d / "work"}" maxMessageSize="64k")']
        lines += [f'module(load="im{p}")' for p in sorted(mods)]
        lines += ['module(load="mmpstrucdata")',
                  'template(name="raw" type="string" string="%rawmsg%\\n")',
                  'template(name="sdjson" type="string" string="%$!rfc5424-sd%\\n")',
                  'template(name="bsd" type="string" '
                  'string="%pri%|%timereported:::date-rfc3164%|%hostname%|%syslogtag%|%programname%|%msg%\\n")']
        for name, proto, port in inputs:
            lines += [f'ruleset(name="{name}") {{',
                      f'  action(type="omfile" file="{d / (name + ".p23")}" template="RSYSLOG_SyslogProtocol23Format")',
                      f'  action(type="omfile" file="{d / (name + ".raw")}" template="raw")',
                      f'  action(type="omfile" file="{d / (name + ".3164")}" template="bsd")',
                      '  action(type="mmpstrucdata")',
                      f'  action(type="omfile" file="{d / (name + ".sd.json")}" template="sdjson")',
                      '}',
                      f'input(type="im{proto}" address="127.0.0.1" port="{port}" ruleset="{name}")']
        self.conf.write_text("\n".join(lines) + "\n")
        self.starts = 0

    def start(self, timeout: float = 20) -> None:
        err = open(self.d / f"rsyslogd.{self.starts}.log", "w")
        self.proc = subprocess.Popen([self.binary, "-n", "-f", str(self.conf), "-i", str(self.pidfile)],
                                     stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT)
        self.starts += 1
        err.close()
        for _, proto, port in self.inputs:
            wait_for(lambda: listening(port, proto) or self.proc.poll() is not None, timeout,
                     f"rsyslogd to listen on {proto}/{port}")
            if self.proc.poll() is not None:
                raise TestFailure(f"rsyslogd exited {self.proc.returncode}: "
                                  f"{(self.d / f'rsyslogd.{self.starts - 1}.log').read_text()}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def lines(self, name: str, kind: str = "p23") -> list[str]:
        p = self.d / f"{name}.{kind}"
        if not p.exists():
            return []
        # Whole lines only: rsyslog may be writing the last one right now.
        return [x for x in p.read_text(errors="replace").split("\n")[:-1] if x]


# --------------------------------------------------------------------------------------------
# dnsvigil


class Dnsvigil:
    """A running dnsvigil with its log in a file."""

    def __init__(self, argv: list[str], logfile: Path, cleanup: Cleanup, stdin=subprocess.DEVNULL,
                 env: dict | None = None) -> None:
        self.argv = argv
        self.logfile = logfile
        self._log = open(logfile, "w")
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env)
        self._log.close()
        cleanup.push(f"stop dnsvigil {self.proc.pid}", lambda: stop_process(self.proc, 5, signal.SIGKILL))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.logfile.read_text(errors="replace")

    def wait_log(self, needle: str | re.Pattern, timeout: float = 30, after: int = 0) -> re.Match | int:
        """Waits for `needle` in the log after offset `after`; fails early if dnsvigil exits."""
        def found():
            t = self.text()[after:]
            if isinstance(needle, str):
                i = t.find(needle)
                if i >= 0:
                    return after + i + 1
            else:
                m = needle.search(t)
                if m:
                    return m
            if self.proc.poll() is not None:
                raise TestFailure(f"dnsvigil exited {self.proc.returncode} before logging {needle!r}:\n{self.text()[-3000:]}")
            return None
        return wait_for(found, timeout, f"{needle!r} in the dnsvigil log")

    def wait_reloaded(self, conf: Path, after: int, timeout: float = 15) -> None:
        """Waits for 'configuration reloaded from CONF'; a 'reload failed' line fails at once."""
        m = self.wait_log(re.compile(r"configuration reloaded from " + re.escape(str(conf)) + r"|reload failed.*"),
                          timeout, after=after)
        if m.group(0).startswith("reload failed"):
            raise TestFailure(f"SIGHUP with a valid configuration: {m.group(0)}")

    def signal(self, sig: int) -> None:
        if self.proc.poll() is not None:
            raise TestFailure(f"dnsvigil exited {self.proc.returncode}:\n{self.text()[-3000:]}")
        os.kill(self.proc.pid, sig)

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"dnsvigil did not exit within {timeout:.0f} s of SIGTERM") from None

    def check_clean_log(self) -> None:
        t = self.text()
        bad = [m for m in CRASH_MARKERS if m in t]
        if bad:
            raise TestFailure(f"sanitizer/runtime report in the dnsvigil log ({bad}):\n{t[-4000:]}")


def summary_alerts(log_text: str) -> dict[str, int]:
    """'alerts: enumeration=5 recon_sweep=2; ...' of the end-of-run summary."""
    m = re.search(r"^\s*alerts:([^;]*);", log_text, re.M)
    if not m:
        raise TestFailure("no 'alerts:' line in the summary")
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def summary_packets(log_text: str) -> int:
    m = re.search(r"summary: (\d+) packets", log_text)
    if not m:
        raise TestFailure("no summary line")
    return int(m.group(1))


def scrape(url: str, netns: str | None = None, timeout: float = 5) -> tuple[str, str]:
    """(content type, body) of an HTTP GET, from inside `netns` when given (with curl)."""
    if netns is None:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.headers.get("Content-Type", ""), r.read().decode()
    p = subprocess.run(["ip", "netns", "exec", netns, "curl", "-sS", "--max-time", str(timeout), "-D", "-", url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise TestFailure(f"GET {url} in {netns}: curl exit {p.returncode}: {p.stderr.decode().strip()}")
    head, _, raw = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not re.match(r"HTTP/1\.[01] 200", lines[0]):
        raise TestFailure(f"GET {url}: {lines[0]}")
    ctype = ""
    for h in lines[1:]:
        if h.lower().startswith("content-type:"):
            ctype = h.split(":", 1)[1].strip()
    body = raw.decode()
    return ctype, body


# --------------------------------------------------------------------------------------------
# Network namespaces


def remove_netns(*names: str) -> None:
    """Deletes these network namespaces, killing what still runs in them (a test's own)."""
    for ns in names:
        if Path(f"/run/netns/{ns}").exists():
            pids = subprocess.run(["ip", "netns", "pids", ns], stdout=subprocess.PIPE, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "delete", ns], stderr=subprocess.DEVNULL)


def service_yaml(metrics: str) -> str:
    """The metrics endpoint on `metrics` and a run that stays root with no periodic stats lines."""
    return f"""metrics:
  enabled: true
  listen: {metrics}
run:
  user: ""
  stats_interval: 1h
"""


class Netns:
    """Two namespaces `<prefix>c` (client) and `<prefix>s` (server) joined by veth
    `<prefix>c0` <-> `<prefix>s0`, addresses <net>.2 (and .3) and <net>.1 (a /24)."""

    def __init__(self, cleanup: Cleanup, prefix: str, net: str) -> None:
        need_root()
        need_tool("ip")
        self.client, self.server = prefix + "c", prefix + "s"
        self.client_if, self.server_if = prefix + "c0", prefix + "s0"
        self.server_ip, self.client_ip, self.client_ip2 = f"{net}.1", f"{net}.2", f"{net}.3"
        self._remove()  # leftovers of a run that was killed
        cleanup.push(f"delete namespaces {self.client} {self.server}", self._remove)
        for ns in (self.client, self.server):
            run(["ip", "netns", "add", ns])
        try:
            run(["ip", "link", "add", self.client_if, "netns", self.client, "type", "veth",
                 "peer", "name", self.server_if, "netns", self.server])
        except TestFailure as e:
            skip(f"cannot create a veth pair here: {e}")
        self.exec(self.client, "ip", "addr", "add", f"{self.client_ip}/24", "dev", self.client_if)
        self.exec(self.client, "ip", "addr", "add", f"{self.client_ip2}/24", "dev", self.client_if)
        self.exec(self.server, "ip", "addr", "add", f"{self.server_ip}/24", "dev", self.server_if)
        for ns, ifc in ((self.client, self.client_if), (self.server, self.server_if)):
            self.exec(ns, "ip", "link", "set", "lo", "up")
            self.exec(ns, "ip", "link", "set", ifc, "up")
        # No IPv6 chatter (router solicitations, MLD) on the link: only what the test sends.
        for ns, ifc in ((self.client, self.client_if), (self.server, self.server_if)):
            self.exec(ns, "sysctl", "-qw", f"net.ipv6.conf.{ifc}.disable_ipv6=1", check_rc=False)

    def exec(self, ns: str, *cmd: str, check_rc: bool = True, **kw) -> subprocess.CompletedProcess:
        return run(["ip", "netns", "exec", ns, *cmd], check_rc=check_rc, **kw)

    def _remove(self) -> None:
        remove_netns(self.client, self.server)

    def dig(self, *args: str, source: str | None = None, timeout: int = 3) -> str:
        """dig from the client namespace to the server."""
        cmd = ["dig", f"@{self.server_ip}", "+time=%d" % timeout, "+tries=2"]
        if source:
            cmd += ["-b", source]
        return self.exec(self.client, *cmd, *args).stdout


# --------------------------------------------------------------------------------------------
# A DNS server in the server namespace

ZONE = "ops.test"
ZONE_HOSTS = {"www": "10.99.9.80", "mail": "10.99.9.25", "ns1": "10.99.9.53"}

_RESPONDER = r'''
import socket, struct, sys
addr, zone, hosts = sys.argv[1], sys.argv[2], dict(h.split("=") for h in sys.argv[3:])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, 53)); t.listen(8); t.setblocking(False)
print("ready", flush=True)
def answer(q):
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace").lower()); i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    qend = i + 5
    name = ".".join(labels)
    flags = 0x8400 | (struct.unpack("!H", q[2:4])[0] & 0x0100)
    ans = b""
    if qtype == 252:
        rcode = 5
    elif name.endswith("." + zone) and name[:-len(zone) - 1] in hosts:
        rcode = 0
        if qtype == 1:
            ans = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + socket.inet_aton(hosts[name[:-len(zone) - 1]])
    elif name == zone or name.endswith("." + zone):
        rcode = 3
    else:
        rcode, flags = 5, flags & ~0x0400
    return q[:2] + struct.pack("!HHHHH", flags | rcode, 1, 1 if ans else 0, 0, 0) + q[12:qend] + ans
import select
while True:
    r, _, _ = select.select([s, t], [], [])
    if s in r:
        q, peer = s.recvfrom(4096)
        s.sendto(answer(q), peer)
    if t in r:
        c, _ = t.accept(); c.settimeout(2)
        try:
            n = struct.unpack("!H", c.recv(2))[0]; q = b""
            while len(q) < n: q += c.recv(n - len(q))
            a = answer(q); c.sendall(struct.pack("!H", len(a)) + a)
        except OSError: pass
        c.close()
'''


class DnsServer:
    """knotd serving ZONE on <server_ip>:53 in the server namespace (AXFR refused: no ACL), or a
    Python responder with the same answers when knotd is not installed (or $DNSVIGIL_OPS_NO_KNOT)."""

    def __init__(self, cleanup: Cleanup, net: Netns, d: Path) -> None:
        d = d / "dns"
        d.mkdir()
        self.kind = "knotd"
        knotd = shutil.which("knotd", path="/usr/sbin:/usr/bin:/sbin:/bin")
        logf = open(d / "server.log", "w")
        if knotd and not os.environ.get("DNSVIGIL_OPS_NO_KNOT"):
            records = "\n".join(f"{h} 300 IN A {ip}" for h, ip in ZONE_HOSTS.items())
            (d / f"{ZONE}.zone").write_text(
                f"$ORIGIN {ZONE}.\n@ 300 IN SOA ns1 hostmaster 2024060101 3600 600 86400 300\n@ 300 IN NS ns1\n"
                f"@ 300 IN MX 10 mail\n{records}\n")
            (d / "knot.conf").write_text(
                f"server:\n  rundir: {d}\n  listen: {net.server_ip}@53\n  background-workers: 1\n  udp-workers: 1\n"
                f"  tcp-workers: 1\nlog:\n  - target: stderr\n    any: info\ndatabase:\n  storage: {d}\n"
                f"template:\n  - id: default\n    storage: {d}\n    file: \"%s.zone\"\n    journal-content: none\n"
                f"    zonefile-sync: -1\nzone:\n  - domain: {ZONE}\n")
            argv = ["ip", "netns", "exec", net.server, knotd, "-c", str(d / "knot.conf")]
        else:
            self.kind = "python responder"
            script = d / "responder.py"
            script.write_text(_RESPONDER)
            argv = ["ip", "netns", "exec", net.server, sys.executable, "-u", str(script), net.server_ip, ZONE,
                    *[f"{h}={ip}" for h, ip in ZONE_HOSTS.items()]]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        cleanup.push(f"stop {self.kind}", lambda: stop_process(self.proc, 5))
        self.log = d / "server.log"

        def answers():
            if self.proc.poll() is not None:
                raise TestFailure(f"{self.kind} exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            out = net.exec(net.client, "dig", f"@{net.server_ip}", "+time=1", "+tries=1", "+short",
                           f"www.{ZONE}", "A", check_rc=False).stdout.strip()
            return out == ZONE_HOSTS["www"]
        wait_for(answers, 20, f"{self.kind} to answer on {net.server_ip}", interval=0.2)
        log(f"dns server: {self.kind} on {net.server_ip}")
