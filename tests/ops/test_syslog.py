#!/usr/bin/env python3
"""rsyslog receives alerts: a real rsyslogd (own config, pid file and work directory, loopback
ports) receives the alerts of a replay over UDP and TCP (RFC 5424, RFC 6587 octet counting) and
UDP (RFC 3164). Every alert of the replay's --alerts-json file must arrive once, with its
structured data intact: parsed by the strict RFC 5424 parser below (opslib.parse_rfc5424) and by
rsyslog's own mmpstrucdata, equal to the JSON alert field by field, including names with '"',
'\\' and ']' (which must be escaped inside PARAM-VALUE).

Replays pcaps/demo.pcap (with tests/detect/lab.yaml) followed by a crafted capture whose
zone-transfer and ANY-sweep alerts carry those characters.

usage: test_syslog.py DNSVIGIL SOURCE_DIR        (exit 0 pass, 1 fail, 77 skip)
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import opslib as ops  # noqa: E402
from opslib import check, log  # noqa: E402

# Zone names with the three characters RFC 5424 escapes (in DNS presentation format '"' and
# '\' are themselves escaped: q\"uote, back\\slash; ']' is not).
SPECIAL_ZONES = [[b'q"uote', b"example", b"net"], [b"back\\slash", b"example", b"net"],
                 [b"br]acket", b"example", b"net"], [b'a"b\\c]d', b"example", b"net"]]
SPECIAL_ANY = [[b'x"1', b"example", b"org"], [b"x\\2", b"example", b"org"], [b"x]3", b"example", b"org"],
               [b"c,omma", b"example", b"org"], [b"sp ace", b"example", b"org"]]
T0 = 1_795_460_400 * 1_000_000_000  # 2026-11-23T19:00:00Z, after the demo capture


def write_special_pcap(path: Path) -> None:
    """Four refused UDP AXFRs by 203.0.113.77 and an ANY sweep (5 names) by 203.0.113.78."""
    with open(path, "wb") as f:
        w = ops.PcapWriter(f)
        ts = T0
        for i, zone in enumerate(SPECIAL_ZONES):
            q = ops.dns_query(0x1000 + i, zone, "AXFR", rd=False)
            w.write(ts, ops.udp_frame("203.0.113.77", "10.20.0.10", 40000 + i, 53, q))
            w.write(ts + 1_000_000, ops.udp_frame("10.20.0.10", "203.0.113.77", 53, 40000 + i, ops.dns_response(q, 5)))
            ts += 100_000_000
        for i, name in enumerate(SPECIAL_ANY):
            q = ops.dns_query(0x2000 + i, name, "ANY")
            w.write(ts, ops.udp_frame("203.0.113.78", "10.20.0.10", 41000 + i, 53, q))
            w.write(ts + 1_000_000, ops.udp_frame("10.20.0.10", "203.0.113.78", 53, 41000 + i, ops.dns_response(q, 5)))
            ts += 100_000_000


def sort_key_alert(a: dict) -> tuple:
    return (ops.micro_ts(a["@timestamp"]), a["rule"]["name"], a["message"], json.dumps(ops.expected_sd(a), sort_keys=True))


def sort_key_msg(m: dict) -> tuple:
    return (norm_ts(m["timestamp"]), m["msgid"], m["msg"], json.dumps(ops.sd_dict(m["sd"]), sort_keys=True))


def norm_ts(ts: str) -> str:
    return ts[:-6] + "Z" if ts.endswith("+00:00") else ts


def check_rfc5424(name: str, rs: ops.Rsyslog, alerts: list[dict], pid: int) -> None:
    hostname = alerts[0]["observer"].get("hostname", "-")
    for kind in ("p23", "raw"):
        lines = rs.lines(name, kind)
        check(len(lines) == len(alerts), f"{name}: rsyslog wrote {len(lines)} {kind} lines for {len(alerts)} JSON alerts")
        msgs = []
        for ln in lines:
            try:
                msgs.append(ops.parse_rfc5424(ln))
            except ValueError as e:
                raise ops.TestFailure(f"{name}.{kind}: {e}\n  line: {ln}") from None
        msgs.sort(key=sort_key_msg)
        for a, m in zip(sorted(alerts, key=sort_key_alert), msgs):
            where = f"{name}.{kind}: alert {a['rule']['name']} at {a['@timestamp']}"
            want_sd = ops.expected_sd(a)
            got_sd = ops.sd_dict(m["sd"])
            if got_sd != want_sd:
                raise ops.TestFailure(f"{where}: structured data differs\n  want {want_sd}\n  got  {got_sd}")
            exp = {"pri": ops.LOCAL5 * 8 + ops.SEVERITY_SYSLOG[a["dnsvigil"]["severity"]],
                   "timestamp": ops.micro_ts(a["@timestamp"]), "hostname": hostname, "app_name": "dnsvigil",
                   "procid": str(pid), "msgid": a["rule"]["name"], "msg": a["message"]}
            got = {k: (norm_ts(m[k]) if k == "timestamp" else m[k]) for k in exp}
            if got != exp:
                raise ops.TestFailure(f"{where}: header/MSG differ\n  want {exp}\n  got  {got}")
        log(f"ok: {name}.{kind}: {len(msgs)} messages parse (strict RFC 5424) and equal the JSON alerts "
            f"(PRI, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID, every SD-PARAM, MSG)")
    # rsyslog's own structured-data parser.
    parsed = sorted((json.dumps(json.loads(x), sort_keys=True) for x in rs.lines(name, "sd.json")))
    want = sorted(json.dumps(ops.expected_sd(a), sort_keys=True) for a in alerts)
    check(parsed == want, f"{name}: mmpstrucdata's parse of every message equals the JSON alert")


def check_special(name: str, rs: ops.Rsyslog) -> None:
    """The escaped characters on the wire and after parsing."""
    raws = [ln for ln in rs.lines(name, "raw") if "example.net" in ln or "example.org" in ln]
    qnames = []
    for ln in raws:
        sd = ops.sd_dict(ops.parse_rfc5424(ln)["sd"])
        qnames.append(sd["alert@32473"].get("qname", ""))
    for want in ('q\\"uote.example.net', "back\\\\slash.example.net", "br]acket.example.net",
                 'a\\"b\\\\c]d.example.net'):
        check(want in qnames, f"{name}: qname {want} parsed back exactly")
    joined = "\n".join(raws)
    check('qname="q\\\\\\"uote.example.net"' in joined, f"{name}: '\"' and '\\' escaped on the wire: q\\\\\\\"uote")
    check('qname="br\\]acket.example.net"' in joined, f"{name}: ']' escaped on the wire: br\\]acket")
    any_line = [ln for ln in raws if 'outcome="any_sweep"' in ln]
    check(len(any_line) == 1, f"{name}: one ANY-sweep alert with samples")
    samples = ops.sd_dict(ops.parse_rfc5424(any_line[0])["sd"])["evidence@32473"]["samples"]
    for s in ('x\\"1.example.org', "x\\\\2.example.org", "x]3.example.org", "sp\\032ace.example.org"):
        check(s in samples, f"{name}: sample {s} intact in evidence samples")


def check_rfc3164(name: str, rs: ops.Rsyslog, alerts: list[dict], text_lines: list[str], pid: int) -> None:
    lines = rs.lines(name, "3164")
    check(len(lines) == len(alerts) == len(text_lines),
          f"{name}: {len(lines)} RFC 3164 messages for {len(alerts)} JSON alerts and {len(text_lines)} text lines")
    hostname = alerts[0]["observer"].get("hostname", "-")
    got, want = [], []
    for ln in lines:
        pri, ts, host, tag, prog, msg = ln.split("|", 5)
        got.append((int(pri), ts, host, tag, prog, msg[1:] if msg.startswith(" ") else msg))
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    texts = {t.split(" ", 1)[1] for t in text_lines}
    for a in alerts:
        d, t = a["@timestamp"].split("T")
        _, mo, day = d.split("-")
        stamp = f"{months[int(mo) - 1]} {int(day):2d} {t[:8]}"
        line = ops.alert_text_line(a)
        if line not in texts:
            raise ops.TestFailure(f"{name}: {line!r} is not a line of --alerts-text")
        want.append((ops.LOCAL5 * 8 + ops.SEVERITY_SYSLOG[a["dnsvigil"]["severity"]], stamp, hostname,
                     f"dnsvigil[{pid}]:", "dnsvigil", line))
    if sorted(got) != sorted(want):
        for g, w in zip(sorted(got), sorted(want)):
            if g != w:
                raise ops.TestFailure(f"{name}: RFC 3164 message differs\n  want {w}\n  got  {g}")
        raise ops.TestFailure(f"{name}: RFC 3164 messages differ")
    log(f"ok: {name}: {len(got)} RFC 3164 messages: PRI, TIMESTAMP, HOSTNAME, TAG dnsvigil[{pid}]: and the "
        f"readable alert line, as rsyslog parsed them")


def body(cleanup: ops.Cleanup) -> None:
    binary, root = ops.args()
    ops.need_tool("rsyslogd")
    d = ops.tempdir(cleanup, "syslog")
    demo = root / "pcaps" / "demo.pcap"
    lab = root / "tests" / "detect" / "lab.yaml"
    if not demo.exists() or not lab.exists():
        ops.skip("pcaps/demo.pcap or tests/detect/lab.yaml is missing")
    special = d / "special.pcap"
    write_special_pcap(special)

    ports = {"udp5424": ops.free_port(socket.SOCK_DGRAM), "tcp5424": ops.free_port(socket.SOCK_STREAM),
             "udp3164": ops.free_port(socket.SOCK_DGRAM)}
    rs = ops.Rsyslog(d, [("udp5424", "udp", ports["udp5424"]), ("tcp5424", "tcp", ports["tcp5424"]),
                         ("udp3164", "udp", ports["udp3164"])])
    cleanup.push("stop rsyslogd", rs.stop)
    rs.start()
    log(f"rsyslogd {rs.proc.pid} listening: {ports}")

    per_rule_total: dict[str, int] = {}
    for name, transport, fmt in (("udp5424", "udp", "rfc5424"), ("tcp5424", "tcp", "rfc5424"),
                                 ("udp3164", "udp", "rfc3164")):
        conf = d / f"{name}.yaml"
        conf.write_text(lab.read_text() + f"""
outputs:
  syslog:
    enabled: true
    transport: {transport}
    address: 127.0.0.1:{ports[name]}
    format: {fmt}
run:
  user: ""
""")
        alerts_path, text_path = d / f"{name}.alerts.json", d / f"{name}.alerts.txt"
        dv = ops.Dnsvigil([binary, "-c", str(conf), "-r", str(demo), "-r", str(special), "--alerts-json",
                           str(alerts_path), "--alerts-text", str(text_path)], d / f"{name}.dnsvigil.log", cleanup)
        rc = dv.proc.wait(300)
        dv.check_clean_log()
        check(rc == 0, f"{name}: replay exits 0")
        text = dv.text()
        alerts = ops.read_json_lines(alerts_path)
        per_rule = ops.summary_alerts(text)
        counted = {}
        for a in alerts:
            counted[a["rule"]["name"]] = counted.get(a["rule"]["name"], 0) + 1
        check(counted == per_rule, f"{name}: JSON alerts per rule {counted} = the summary's")
        check("0 dropped by outputs" in text, f"{name}: no output dropped an alert")
        check(len(alerts) >= 10 and {"zone_transfer", "enumeration", "tunneling", "rogue_resolver",
                                     "recon_sweep"} <= set(counted), f"{name}: {len(alerts)} alerts of 5 rules")
        if per_rule_total and per_rule != per_rule_total:
            raise ops.TestFailure(f"{name}: replays disagree: {per_rule} vs {per_rule_total}")
        per_rule_total = per_rule
        kinds = ["3164"] if fmt == "rfc3164" else ["p23", "raw", "sd.json"]
        ops.wait_for(lambda: all(len(rs.lines(name, k)) >= len(alerts) for k in kinds), 30,
                     f"{len(alerts)} messages at rsyslog ({name})")
        if fmt == "rfc5424":
            check_rfc5424(name, rs, alerts, dv.pid)
            check_special(name, rs)
        else:
            text_lines = [x for x in text_path.read_text().splitlines() if x]
            check_rfc3164(name, rs, alerts, text_lines, dv.pid)
    rs.stop()
    log(f"alerts per rule (each transport): {per_rule_total}")


if __name__ == "__main__":
    ops.main(body)
