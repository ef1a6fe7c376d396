#!/usr/bin/env python3
"""The ClickHouse sink against a real clickhouse-server (Debian's 18.16), started by this test on
loopback (own configuration, data in a temporary folder, free ports), with the shipped schema
(packaging/clickhouse/install-schema.sh) and fleet rules (fleet-rules.sh):

  1. start-up: --check-config refuses a bad URL; an unreachable server, a wrong password and a
     missing table stop dnsvigil with a clear error that quotes the server's answer;
  2. rows: the demo capture (one worker and -j 2) and the lab captures of rogue_resolver and
     tunneling are replayed into it: as many rows as --dump-json lines, every alert, the same
     messages (time, addresses, ports, id, question, response code), a password from a file;
  3. fleet rules against known answers: rogue_resolvers equals the sensors' own rogue_resolver
     alerts (with the lab's resolvers as the authorised list), tunneling equals the sensors' seed
     ES|QL alerts per capture (besides the lab's resolvers, which the sensors leave out);
  4. a capture split across two sensors: pos-dnsenum-inside cut into packet halves (editcap) and
     replayed as "site-a" and "site-b" raises the fleet subdomain-enumeration row (Sentinel, >100
     names per client and domain per hour) and the zone-wide NXDOMAIN row (>= 500), which the same
     SQL over either sensor alone does not;
  5. outage: a synthetic capture fed through stdin; clickhouse-server is stopped mid-replay and
     started again: capture never waits, no alert is lost, and inserted + dropped events equal
     the events offered, exactly (ClickHouse holds as many rows as counted inserted);
  6. the cluster form (install-schema.sh --cluster: local tables and Distributed tables over a
     one-node cluster) and retention.sh dropping old day partitions.

usage: test_clickhouse.py DNSVIGIL SOURCE_DIR        (exit 0 pass, 1 fail, 77 skip)
"""

from __future__ import annotations

import collections
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import opslib as ops  # noqa: E402
from opslib import check, log  # noqa: E402
from clickhouse_server import PASSWORD, ClickHouse  # noqa: E402

BATCH = 4096  # packets per pcap_dispatch() in a replay (sensor/app/main.cpp)
T0 = 1_795_460_400 * 1_000_000_000  # 2026-11-23T19:00:00Z
LAB_RESOLVERS = ["10.20.0.53", "10.20.0.54", "fd20::53", "fd20::54"]


def json_rows(text: str) -> list[dict]:
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def fleet(ch: ClickHouse, root: Path, rule: str, database: str, now: str, authorised: list[str] | None = None,
          d: Path | None = None) -> list[dict]:
    """The rows of one fleet rule, evaluated as of `now`. With `authorised`, the rule's list of
    authorised resolvers is replaced (as a site would edit its copy)."""
    if authorised is None:
        return json_rows(ch.script("fleet-rules.sh", "--database", database, "--now", now, rule, root=root))
    src = root / "packaging" / "clickhouse"
    work = d / "fleet-copy"
    if not work.exists():
        shutil.copytree(src, work)
    text = (src / "fleet" / f"{rule}.sql").read_text()
    seed = "['8.8.8.8', '8.8.4.4', '1.1.1.1', '1.0.0.1', '9.9.9.9']"
    check(seed in text, f"{rule}.sql holds the seed's authorised list")
    (work / "fleet" / f"{rule}.sql").write_text(text.replace(seed, "[" + ", ".join(f"'{a}'" for a in authorised) + "]"))
    p = ops.run([str(work / "fleet-rules.sh"), "--database", database, "--now", now, rule, "--", "--port", str(ch.tcp)],
                stdin=subprocess.DEVNULL)
    return json_rows(p.stdout)


def sensor_yaml(root: Path, ch: ClickHouse, d: Path, observer: str, database: str = "dnsvigil", extra: str = "",
                events_table: str = "dns_events", lab: bool = True) -> Path:
    conf = d / f"{observer}-{database}.yaml"
    base = (root / "tests" / "detect" / "lab.yaml").read_text() if lab else ""
    conf.write_text(base + f"""
outputs:
  rate_limit: 0
  clickhouse:
    enabled: true
    url: http://127.0.0.1:{ch.http}
    database: {database}
    events_table: {events_table}
    user: sensor
    password_file: password
    observer_name: {observer}
{extra}
run:
  user: ""
""")
    return conf


def replay(binary: str, conf: Path, pcap: Path | str, d: Path, tag: str, *extra: str) -> tuple[str, list[dict], list[dict]]:
    """Replays a capture with the sink on; (stderr, --dump-json lines, alert lines)."""
    events, alerts = d / f"{tag}.events.json", d / f"{tag}.alerts.json"
    p = ops.run([binary, "-c", str(conf), "-r", str(pcap), "--dump-json", str(events), "--alerts-json", str(alerts),
                 *extra], stdin=subprocess.DEVNULL)
    bad = [m for m in ops.CRASH_MARKERS if m in p.stderr]
    if bad:
        raise ops.TestFailure(f"sanitizer/runtime report ({bad}):\n{p.stderr[-4000:]}")
    return p.stderr, ops.read_json_lines(events), ops.read_json_lines(alerts)


def ch_summary(text: str) -> dict[str, int]:
    m = re.search(r"clickhouse: (\d+) events: (\d+) inserted in (\d+) batches \((\d+) octets\), (\d+) dropped "
                  r"\(buffer full\), (\d+) dropped at shutdown, (\d+) failed attempts; alerts: (\d+) inserted, "
                  r"(\d+) dropped, (\d+) failed attempts", text)
    if not m:
        raise ops.TestFailure(f"no clickhouse line in the summary:\n{text[-2000:]}")
    keys = ["offered", "inserted", "batches", "octets", "dropped_full", "dropped_shutdown", "failures",
            "alerts_inserted", "alerts_dropped", "alert_failures"]
    return dict(zip(keys, map(int, m.groups())))


def event_key_json(e: dict) -> tuple:
    ts = e["@timestamp"]  # 2026-11-23T18:36:21.857248000Z
    sec, frac = ts.rstrip("Z").split(".")
    q = e["dns"].get("question", {})
    return (sec.replace("T", " "), int(frac), e["source"]["ip"], e["source"]["port"], e["destination"]["ip"],
            e["destination"]["port"], e["dns"]["id"], q.get("name", ""), q.get("type", ""),
            e["dns"].get("response_code", ""), e["dns"].get("answers_count", 0))


def event_keys_ch(ch: ClickHouse, database: str, where: str) -> list[tuple]:
    """The same fields of the rows in ClickHouse."""
    text = ch.query("SELECT toString(timestamp), timestamp_ns, source_address, source_port, destination_address, "
                    "destination_port, dns_id, question_name, question_type, response_code, answers_count "
                    f"FROM dns_events WHERE {where} FORMAT TSVRaw", database)
    out = []
    for line in text.splitlines():
        f = line.split("\t")
        out.append((f[0], int(f[1]), f[2], int(f[3]), f[4], int(f[5]), int(f[6]), f[7], f[8], f[9], int(f[10])))
    return out


# --------------------------------------------------------------------------------------------
# The parts of the test


def startup_errors(binary: str, root: Path, ch: ClickHouse, d: Path) -> None:
    def conf_with(tag: str, old: str, new: str, **kw) -> Path:
        conf = sensor_yaml(root, ch, d, tag, **kw)
        conf.write_text(conf.read_text().replace(old, new))
        return conf

    def last_line(p: subprocess.CompletedProcess) -> str:
        return p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""

    url = f"url: http://127.0.0.1:{ch.http}"
    (d / "wrong-password").write_text("not-the-password\n")
    # --check-config: the settings alone (no connection).
    for tag, old, new, want in (
            ("bad-url", url, "url: ftp://127.0.0.1:8123", "outputs.clickhouse.url: 'ftp://127.0.0.1:8123': expected http://"),
            ("bad-port", url, "url: http://127.0.0.1:99999", "is not a port number"),
            ("bad-table", "events_table: dns_events", "events_table: dns-events", "events_table: 'dns-events' is not a plain"),
            ("no-password", "password_file: password", "password_file: missing", "password_file: cannot read")):
        p = ops.run([binary, "-c", str(conf_with(tag, old, new)), "--check-config"], check_rc=False)
        check(p.returncode == 1 and want in p.stderr, f"--check-config refuses {tag}: {last_line(p)}")
    p = ops.run([binary, "-c", str(sensor_yaml(root, ch, d, "ok")), "--check-config"], check_rc=False)
    check(p.returncode == 0, "--check-config accepts the sink's settings")

    # At start: the server is asked, and its answer quoted.
    demo = str(root / "pcaps" / "demo.pcap")
    for tag, conf, want in (
            ("an unreachable server", conf_with("unreachable", url, f"url: http://127.0.0.1:{ops.free_port()}"),
             "Couldn't connect"),
            ("the native port instead of HTTP", conf_with("native", url, f"url: http://127.0.0.1:{ch.tcp}"),
             f"Port {ch.tcp} is for clickhouse-client program. You must use port {ch.http} for HTTP."),
            ("a refused login", conf_with("wrongpw", "password_file: password", "password_file: wrong-password"),
             "HTTP 401: Code: 193, e.displayText() = DB::Exception: Wrong password for user sensor"),
            ("a missing table", sensor_yaml(root, ch, d, "nodb", database="nosuchdb"),
             "table nosuchdb.dns_events does not exist")):
        p = ops.run([binary, "-c", str(conf), "-r", demo], check_rc=False)
        line = last_line(p)
        check(p.returncode == 1 and line.startswith("dnsvigil: error: outputs.clickhouse: http://127.0.0.1:") and want in line,
              f"{tag} is an error at start: {line}")


def rows_match(binary: str, root: Path, ch: ClickHouse, d: Path) -> None:
    demo = root / "pcaps" / "demo.pcap"
    for tag, extra in (("demo", ()), ("demo-j2", ("-j", "2"))):
        conf = sensor_yaml(root, ch, d, tag, lab=False)
        err, events, alerts = replay(binary, conf, demo, d, tag, *extra)
        s = ch_summary(err)
        n = ch.value(f"SELECT count() FROM dns_events WHERE observer_name = '{tag}'", "dnsvigil")
        check(s["offered"] == len(events) == s["inserted"] == n and s["dropped_full"] == s["dropped_shutdown"] == 0,
              f"{tag}: {n} rows in ClickHouse = {len(events)} --dump-json lines = inserted in the summary "
              f"({s['batches']} batches, {s['octets']} octets)")
        a = ch.value(f"SELECT count() FROM dns_alerts WHERE observer_name = '{tag}'", "dnsvigil")
        check(a == len(alerts) == s["alerts_inserted"] and a > 0, f"{tag}: {a} alerts in ClickHouse = the JSON alerts")
        if tag == "demo":
            want = collections.Counter(event_key_json(e) for e in events)
            got = collections.Counter(event_keys_ch(ch, "dnsvigil", f"observer_name = '{tag}'"))
            check(want == got, f"demo: the {n} rows carry the messages of the JSON (time to the nanosecond, addresses, "
                               "ports, id, question, response code, answer count)")
            rules_json = collections.Counter((x["rule"]["name"], x.get("source", {}).get("ip", ""),
                                              x["dns"]["question"].get("name", "") if "dns" in x else "")
                                             for x in alerts)
            rows = ch.query("SELECT rule_name, source_address, question_name FROM dns_alerts "
                            f"WHERE observer_name = '{tag}' FORMAT TSVRaw", "dnsvigil")
            rules_ch = collections.Counter(tuple(line.split("\t")) for line in rows.splitlines())
            check(rules_json == rules_ch, "demo: the alert rows are the JSON alerts (rule, client, question)")


def lab_rules(binary: str, root: Path, ch: ClickHouse, d: Path) -> None:
    pcaps = sorted((root / "pcaps" / "detect" / "rogue_resolver").glob("*.pcap")) + \
        sorted((root / "pcaps" / "detect" / "tunneling").glob("*.pcap"))
    total = 0
    for pcap in pcaps:
        conf = sensor_yaml(root, ch, d, pcap.stem, database="lab")
        err, events, _ = replay(binary, conf, pcap, d, pcap.stem)
        n = ch.value(f"SELECT count() FROM dns_events WHERE observer_name = '{pcap.stem}'", "lab")
        if n != len(events):
            raise ops.TestFailure(f"{pcap.name}: {n} rows, {len(events)} --dump-json lines")
        total += n
    check(True, f"{len(pcaps)} lab captures: every capture's rows = its --dump-json lines ({total} in all)")

    # rogue_resolvers, per site, against the sensors' own alerts. The lab's policy names its
    # resolvers; the rule's authorised list is set to them, as a site edits its copy.
    # The captures were made on two days: each hour they fill is evaluated.
    hours = ch.query("SELECT DISTINCT toString(toStartOfHour(timestamp) + 3600) FROM dns_events FORMAT TSVRaw",
                     "lab").splitlines()
    got = set()
    for now in hours:
        for r in fleet(ch, root, "rogue_resolvers", "lab", now, authorised=LAB_RESOLVERS, d=d):
            got.add((r["site"], r["server"]))
    alerts = ch.query("SELECT observer_name, destination_address FROM dns_alerts WHERE rule_name = 'rogue_resolver' "
                      "AND evidence.value[indexOf(evidence.key, 'trigger')] = 'unsanctioned_server' FORMAT TSVRaw", "lab")
    want = {tuple(line.split("\t")) for line in alerts.splitlines()}
    # DNS over TLS to 1.1.1.1 shows as connections (flows), not DNS messages: no event row has it.
    dot = {("pos-dot853-1111", "1.1.1.1")}
    check(dot <= want and got == want - dot and len(got) >= 10,
          f"fleet_rogue_resolvers finds the {len(got)} (site, server) pairs the sensors' rogue_resolver alerts name "
          f"(besides DNS over TLS, which has no DNS rows): {sorted(got)}")
    check(not any(s.startswith("neg-") for s, _ in got), "fleet_rogue_resolvers: nothing on the negative captures")

    # tunneling, per capture (a scratch database holding one sensor's rows), against the sensors'
    # seed_esql_rule alerts: the same clients, besides the lab's resolvers forwarding the tunnel
    # upstream (the sensors' seed rule leaves clients that are resolvers out).
    ch.query("CREATE DATABASE IF NOT EXISTS scratch")
    ch.script("install-schema.sh", "--database", "scratch", root=root)
    seen_any = False
    for pcap in sorted((root / "pcaps" / "detect" / "tunneling").glob("*.pcap")):
        ch.query("TRUNCATE TABLE dns_events", "scratch")
        ch.query(f"INSERT INTO dns_events SELECT * FROM lab.dns_events WHERE observer_name = '{pcap.stem}'", "scratch")
        now = ch.query("SELECT toString(toStartOfHour(max(timestamp)) + 3600) FROM dns_events", "scratch").strip()
        rows = fleet(ch, root, "tunneling", "scratch", now)
        got_clients = {r["client"] for r in rows} - set(LAB_RESOLVERS)
        want_clients = set(ch.query(
            "SELECT DISTINCT source_address FROM dns_alerts WHERE rule_name = 'tunneling' AND observer_name = "
            f"'{pcap.stem}' AND evidence.value[indexOf(evidence.key, 'trigger')] = 'seed_esql_rule' FORMAT TSVRaw",
            "lab").split())
        if got_clients != want_clients:
            raise ops.TestFailure(f"{pcap.name}: fleet_tunneling clients {sorted(got_clients)}, the sensor's seed rule "
                                  f"{sorted(want_clients)}")
        seen_any = seen_any or bool(want_clients)
        for r in rows:
            if r["client"] in want_clients:
                check(r["tunnel_confidence"] in ("high", "medium") and int(r["query_count"]) > 20,
                      f"{pcap.name}: fleet_tunneling row for {r['client']}: {r['query_count']} queries, "
                      f"{r['unique_subdomains']} unique, average length {r['avg_domain_length']}, "
                      f"confidence {r['tunnel_confidence']}")
    check(seen_any, "fleet_tunneling agrees with the sensors' seed rule on every tunneling capture")


def split_sensors(binary: str, root: Path, ch: ClickHouse, d: Path) -> None:
    editcap = ops.need_tool("editcap")
    src = root / "pcaps" / "detect" / "enumeration" / "pos-dnsenum-inside.pcap"
    # (database, packets, rule, the row's key): 300 packets hold 126 names (63 a half), 1200 hold
    # 580 NXDOMAIN names (under 500 a half).
    cases = [("split_sentinel", 300, "subdomain_enumeration", "unique_subdomains", 100),
             ("split_zone", 1200, "zone_nxdomain", "nxdomain_names", 499)]
    for database, packets, rule, field, floor in cases:
        ch.script("install-schema.sh", "--database", database, root=root)
        half = packets // 2
        for site, rng in (("site-a", f"1-{half}"), ("site-b", f"{half + 1}-{packets}")):
            part = d / f"{database}-{site}.pcap"
            ops.run([editcap, "-r", str(src), str(part), rng])
            conf = sensor_yaml(root, ch, d, site, database=database)
            replay(binary, conf, part, d, f"{database}-{site}")
        now = ch.query("SELECT toString(toStartOfHour(max(timestamp)) + 3600) FROM dns_events", database).strip()
        rows = fleet(ch, root, rule, database, now)
        check(len(rows) == 1 and int(rows[0][field]) > floor and sorted(rows[0]["sensors"]) == ["site-a", "site-b"],
              f"{rule} over site-a and site-b: one row, {field} {rows[0][field] if rows else '-'} "
              f"({json.dumps({k: v for k, v in (rows[0] if rows else {}).items() if k in ('client', 'domain', 'zone')})})")
        for site in ("site-a", "site-b"):
            ch.query("TRUNCATE TABLE dns_events", "scratch")
            ch.query(f"INSERT INTO dns_events SELECT * FROM {database}.dns_events WHERE observer_name = '{site}'", "scratch")
            alone = ch.value(f"SELECT uniqExact(question_name) FROM dns_events WHERE "
                             + ("response_code = 'NXDOMAIN'" if rule == "zone_nxdomain" else "dns_type = 'query'"),
                             "scratch")
            rows = fleet(ch, root, rule, "scratch", now)
            check(rows == [], f"{rule} over {site} alone: no row ({field} {alone})")


class Feeder(ops.StdinFeeder):
    """A capture written to dnsvigil's stdin as the test goes: DNS lookups (a query and its answer)
    and refused AXFR attempts (one zone_transfer alert each)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        super().__init__(proc, T0, BATCH)
        self.qid = 0
        self.alerts: list[str] = []

    def lookups(self, n: int, phase: str, pace: float = 0.0) -> None:
        """n lookups; with `pace`, a pause of that many seconds after every 500."""
        for i in range(n):
            if pace and i and i % 500 == 0:
                self.flush()
                time.sleep(pace)
            self.qid = (self.qid + 1) & 0xFFFF
            client = f"10.20.1.{10 + i % 40}"
            q = ops.dns_query(self.qid, f"host{i % 500}.{phase}.example.org", "A")
            r = ops.dns_response(q, 0, [(1, 300, bytes([192, 0, 2, i % 250 + 1]))])
            self.packet(ops.udp_frame(client, "10.20.0.53", 20000 + i % 30000, 53, q))
            self.packet(ops.udp_frame("10.20.0.53", client, 53, 20000 + i % 30000, r))
            if len(self.buf) > (1 << 20):
                self.flush()
        self.flush()

    def axfr(self, n: int, phase: str) -> None:
        for i in range(n):
            zone = f"{phase}{i:03d}.example.net"
            q = ops.dns_query(i, zone, "AXFR", rd=False)
            self.packet(ops.udp_frame("203.0.113.7", "10.20.0.10", 30000 + i, 53, q))
            self.packet(ops.udp_frame("10.20.0.10", "203.0.113.7", 53, 30000 + i, ops.dns_response(q, 5)))
            self.alerts.append(zone)
        self.flush()


def outage(binary: str, root: Path, ch: ClickHouse, d: Path, cleanup: ops.Cleanup) -> None:
    ch.script("install-schema.sh", "--database", "outage", root=root)
    mport = ops.free_port()
    conf = sensor_yaml(root, ch, d, "outage", database="outage", extra="""    max_buffer_bytes: 4MiB
    flush_interval: 200ms
    shutdown_timeout: 60s""")
    conf.write_text(conf.read_text() + f"metrics:\n  enabled: true\n  listen: 127.0.0.1:{mport}\n")
    events, alerts = d / "outage.events.json", d / "outage.alerts.json"
    dv = ops.Dnsvigil([binary, "-c", str(conf), "-r", "-", "--dump-json", str(events), "--alerts-json", str(alerts)],
                      d / "outage.log", cleanup, stdin=subprocess.PIPE)
    feed = Feeder(dv.proc)
    url = f"http://127.0.0.1:{mport}/metrics"
    out = f"clickhouse:http://127.0.0.1:{ch.http}/outage.dns_alerts"

    def fresh(cond, timeout: float, what: str) -> dict:
        def describe(p: dict) -> str:
            return f"{feed.packets} packets written, last metrics: " + str({
                f"{n}{dict(labs)}": v for (n, labs), v in p["samples"].items()
                if "clickhouse" in n or "output" in n or n == "dnsvigil_packets_total"})
        return feed.metrics(dv, url, cond, timeout, what, describe)

    def m(p: dict, name: str, **labels) -> int:
        return int(ops.metric(p, name, **labels))

    def rows() -> int:
        return ch.value("SELECT count() FROM dns_events", "outage")

    # Phase A: ClickHouse up (at a pace it keeps up with).
    feed.lookups(5000, "up", pace=0.05)
    feed.axfr(10, "up")
    p = fresh(lambda p: m(p, "dnsvigil_clickhouse_buffer_rows") == 0
              and m(p, "dnsvigil_output_delivered_total", output=out) >= 10
              and m(p, "dnsvigil_output_queue_depth", output=out) == 0, 60, "phase A inserted")
    inserted_a = m(p, "dnsvigil_clickhouse_rows_inserted_total")
    dropped_a = m(p, "dnsvigil_clickhouse_rows_dropped_total", reason="buffer_full")
    alerts_a = m(p, "dnsvigil_output_delivered_total", output=out)
    check(rows() == inserted_a and inserted_a + dropped_a == m(p, "dnsvigil_clickhouse_rows_offered_total")
          and ch.value("SELECT count() FROM dns_alerts", "outage") == alerts_a,
          f"phase A: {inserted_a} events ({dropped_a} dropped) and {alerts_a} alerts in ClickHouse "
          f"({m(p, 'dnsvigil_clickhouse_insert_failures_total')} failed inserts)")

    # ClickHouse down.
    ch.stop()
    t_down = time.monotonic()
    feed.lookups(20000, "down")
    feed.axfr(10, "down")
    check(feed.longest_write < 5, f"capture went on with ClickHouse down (longest write to stdin {feed.longest_write:.2f} s)")
    p = fresh(lambda p: m(p, "dnsvigil_clickhouse_rows_dropped_total", reason="buffer_full") > 0
              and m(p, "dnsvigil_clickhouse_insert_failures_total") > 0
              and m(p, "dnsvigil_output_failures_total", output=out) > 0, 60, "drops and failures in the metrics")
    check(m(p, "dnsvigil_clickhouse_buffer_bytes") <= 4 << 20,
          f"outage: {m(p, 'dnsvigil_clickhouse_rows_dropped_total', reason='buffer_full')} events dropped (buffer full at "
          f"{m(p, 'dnsvigil_clickhouse_buffer_bytes')} octets, {m(p, 'dnsvigil_clickhouse_buffer_rows')} rows held), "
          f"{m(p, 'dnsvigil_clickhouse_insert_failures_total')} failed event inserts, "
          f"{m(p, 'dnsvigil_output_failures_total', output=out)} failed alert inserts, "
          f"{m(p, 'dnsvigil_output_queue_depth', output=out)} alerts waiting")
    check(m(p, "dnsvigil_output_dropped_total", output=out, reason="queue_full") == 0, "outage: no alert dropped")
    # The log says why (at most every 10 s); it is written between batches, so feed some.
    for _ in range(40):
        if "clickhouse: insert into outage." in dv.text():
            break
        feed.pad()
        time.sleep(0.25)
    line = next((x for x in dv.text().splitlines() if "clickhouse: insert into outage." in x), "")
    check(bool(line), f"the failed inserts are in the log: {line[line.find('clickhouse:'):]}")

    # A few more seconds down, at a trickle: the retries back off meanwhile.
    feed.lookups(1500, "down", pace=1.0)

    # ClickHouse back.
    outage_s = time.monotonic() - t_down
    ch.start()
    p = fresh(lambda p: m(p, "dnsvigil_clickhouse_buffer_rows") == 0
              and m(p, "dnsvigil_output_queue_depth", output=out) == 0, 60, "the buffers to drain")
    feed.lookups(2000, "after", pace=0.05)
    feed.axfr(10, "after")
    feed.pad()
    feed.close()
    rc = dv.proc.wait(90)
    dv.check_clean_log()
    text = dv.text()
    check(rc == 0, "dnsvigil exits 0 at the end of its input")
    s = ch_summary(text)
    dumped = len(ops.read_json_lines(events))
    check(s["offered"] == dumped and s["inserted"] + s["dropped_full"] + s["dropped_shutdown"] == dumped
          and s["dropped_shutdown"] == 0 and s["dropped_full"] > 0,
          f"{dumped} events = {s['inserted']} inserted + {s['dropped_full']} dropped (buffer full) + "
          f"{s['dropped_shutdown']} at shutdown")
    n = rows()
    check(n == s["inserted"], f"ClickHouse holds exactly the {n} events counted inserted (none twice, none lost)")
    want = collections.Counter(event_key_json(e) for e in ops.read_json_lines(events))
    got = collections.Counter(event_keys_ch(ch, "outage", "1"))
    check(not (got - want), "every row in ClickHouse is one of the --dump-json events")
    json_alerts = ops.read_json_lines(alerts)
    zones = sorted(a["dns"]["question"]["name"] for a in json_alerts if a["rule"]["name"] == "zone_transfer")
    ch_zones = sorted(ch.query("SELECT question_name FROM dns_alerts WHERE rule_name = 'zone_transfer' FORMAT TSVRaw",
                               "outage").split())
    check(zones == sorted(feed.alerts) and ch_zones == zones and s["alerts_dropped"] == 0,
          f"no alert lost: the {len(zones)} zone_transfer alerts (10 before, 10 during, 10 after the outage) are in "
          f"ClickHouse; {s['alert_failures']} failed alert inserts")
    check(ch.value("SELECT count() FROM dns_alerts", "outage") == len(json_alerts) == s["alerts_inserted"],
          f"all {len(json_alerts)} alerts of the run are in ClickHouse")
    log(f"figures: outage {outage_s:.1f} s; events {dumped}: {s['inserted']} inserted in {s['batches']} batches, "
        f"{s['dropped_full']} dropped (max_buffer_bytes 4 MiB), {s['failures']} failed inserts; alerts "
        f"{s['alerts_inserted']} inserted, {s['alert_failures']} failed attempts; packets {feed.packets}")


def cluster_and_retention(binary: str, root: Path, ch: ClickHouse, d: Path) -> None:
    ch.script("install-schema.sh", "--database", "fleetc", "--cluster", "dnsvigil", root=root)
    engines = ch.query("SELECT name, engine FROM system.tables WHERE database = 'fleetc' ORDER BY name FORMAT TSVRaw")
    check(engines.split() == ["dns_alerts", "Distributed", "dns_alerts_local", "MergeTree", "dns_events", "Distributed",
                              "dns_events_local", "MergeTree"], "cluster form: local MergeTree and Distributed tables")
    conf = sensor_yaml(root, ch, d, "node-1", database="fleetc", events_table="dns_events_local")
    conf.write_text(conf.read_text().replace("    events_table: dns_events_local",
                                             "    events_table: dns_events_local\n    alerts_table: dns_alerts_local"))
    _, events, _ = replay(binary, conf, root / "pcaps" / "demo.pcap", d, "node-1")
    n_local = ch.value("SELECT count() FROM dns_events_local", "fleetc")
    n_dist = ch.value("SELECT count() FROM dns_events", "fleetc")
    check(n_local == n_dist == len(events), f"a sensor writing to the local table is read through the Distributed one "
                                            f"({n_dist} rows)")
    addr = ch.query("SELECT client_address FROM dns_events WHERE dns_type = 'answer' LIMIT 1", "fleetc").strip()
    check(bool(addr), f"the Distributed table has the ALIAS columns (client_address {addr})")
    now = ch.query("SELECT toString(toStartOfHour(max(timestamp)) + 3600) FROM dns_events", "fleetc").strip()
    rows = fleet(ch, root, "subdomain_enumeration", "fleetc", now)
    check(isinstance(rows, list), f"fleet-rules.sh runs on the Distributed tables ({len(rows)} rows)")

    # Retention: the replays' day (2026-11-23) is older than the cut; a row of today stays.
    ch.query("INSERT INTO dns_events_local (timestamp, observer_name, question_name) VALUES (now(), 'today', 'x.example')",
             "fleetc")
    old_day = ch.query("SELECT toString(min(toDate(timestamp))) FROM dns_events_local", "fleetc").strip()
    days = ch.value(f"SELECT today() - toDate('{old_day}')", "fleetc")
    dry = ch.script("retention.sh", "--database", "fleetc", "--events-table", "dns_events_local", "--alerts-table",
                    "dns_alerts_local", "--events-days", str(days - 1), "--dry-run", root=root)
    check(f"would drop fleetc.dns_events_local partition {old_day}" in dry and ch.value(
        "SELECT count() FROM dns_events_local", "fleetc") == n_local + 1, "retention.sh --dry-run names the old partition, "
                                                                         "drops nothing")
    out = ch.script("retention.sh", "--database", "fleetc", "--events-table", "dns_events_local", "--alerts-table",
                    "dns_alerts_local", "--events-days", str(days - 1), root=root)
    left = ch.query("SELECT observer_name, count() FROM dns_events_local GROUP BY observer_name FORMAT TSVRaw", "fleetc")
    alerts_left = ch.value("SELECT count() FROM dns_alerts_local", "fleetc")
    check(left.split() == ["today", "1"] and alerts_left > 0,
          f"retention.sh dropped the events of {old_day} ({days} days old), kept today's and the alerts (365 days): "
          f"{out.strip()}")


def body(cleanup: ops.Cleanup) -> None:
    binary, root = ops.args()
    ops.need_root()
    ops.need_tool("clickhouse-server")
    ops.need_tool("clickhouse-client")
    ops.need_tool("editcap")
    d = ops.tempdir(cleanup, "clickhouse")
    (d / "password").write_text(PASSWORD + "\n")
    (d / "ch").mkdir()
    ch = ClickHouse(d / "ch", cleanup)
    t = time.monotonic()
    ch.start()
    log(f"clickhouse-server {ch.query('SELECT version()').strip()} on 127.0.0.1:{ch.http} (HTTP), :{ch.tcp} (native), "
        f"up in {time.monotonic() - t:.1f} s")
    for database in ("dnsvigil", "lab"):
        ch.script("install-schema.sh", "--database", database, root=root)
    for step in (lambda: startup_errors(binary, root, ch, d), lambda: rows_match(binary, root, ch, d),
                 lambda: lab_rules(binary, root, ch, d), lambda: split_sensors(binary, root, ch, d),
                 lambda: cluster_and_retention(binary, root, ch, d), lambda: outage(binary, root, ch, d, cleanup)):
        t = time.monotonic()
        step()
        log(f"({time.monotonic() - t:.1f} s)")


if __name__ == "__main__":
    ops.main(body)
