#!/usr/bin/env python3
"""Receiver down mid-run: dnsvigil sends alerts over TCP syslog to a private rsyslogd; the test
feeds a capture through stdin (-r -) itself, so "the middle" is exact:

  phase A  rsyslog up      20 alerts  -> all arrive
  (rsyslogd stopped)
  phase B  rsyslog down    60 alerts  -> capture goes on (stdin is read to the end of the phase,
                                          packets_total keeps up), failures and queue_full drops
                                          are counted (outputs.queue: 16)
  (rsyslogd started again on the same port)
           the queued alerts are delivered, the queue drains
  phase C  rsyslog up      20 alerts  -> all arrive
  end of input: exit 0, the summary counts every packet and the drops.

Each alert is a refused UDP AXFR of its own zone by 203.0.113.7 (one zone_transfer alert each).
Metrics are read from the live endpoint: a replay publishes them between 4096-packet batches, so
the feeder writes whole batches (padding with non-DNS UDP) and waits until the snapshot counts
every packet written so far before it trusts a value.

usage: test_syslog_outage.py DNSVIGIL SOURCE_DIR        (exit 0 pass, 1 fail, 77 skip)
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import opslib as ops  # noqa: E402
from opslib import check, log  # noqa: E402

BATCH = 4096  # packets per pcap_dispatch() in a replay (sensor/app/main.cpp)
QUEUE = 16
T0 = 1_795_460_400 * 1_000_000_000  # 2026-11-23T19:00:00Z


def count_lines(p: Path) -> int:
    try:
        return p.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


class Feeder(ops.StdinFeeder):
    """The test's capture on dnsvigil's stdin: refused AXFR attempts, one alert each."""

    def __init__(self, proc: subprocess.Popen) -> None:
        super().__init__(proc, T0, BATCH)
        self.alerts: dict[str, list[str]] = {}

    def alert(self, phase: str, i: int, json_path: Path) -> None:
        """One alert; returns once the JSON file output has written it, so the file output (whose
        queue is as small as the syslog one) never overflows and stays the ground truth."""
        zone = f"{phase}{i:03d}.example.net"
        q = ops.dns_query(i, zone, "AXFR", rd=False)
        self.packet(ops.udp_frame("203.0.113.7", "10.20.0.10", 30000 + i, 53, q))
        self.packet(ops.udp_frame("10.20.0.10", "203.0.113.7", 53, 30000 + i, ops.dns_response(q, 5)))
        self.alerts.setdefault(phase, []).append(zone)
        self.flush()
        want = sum(len(v) for v in self.alerts.values())
        ops.wait_for(lambda: count_lines(json_path) >= want, 30, f"alert {want} in the JSON file")


def body(cleanup: ops.Cleanup) -> None:
    binary, root = ops.args()
    ops.need_tool("rsyslogd")
    d = ops.tempdir(cleanup, "outage")
    lab = root / "tests" / "detect" / "lab.yaml"
    tcp_port, metrics_port = ops.free_port(socket.SOCK_STREAM), ops.free_port(socket.SOCK_STREAM)
    rs = ops.Rsyslog(d, [("tcp", "tcp", tcp_port)])
    cleanup.push("stop rsyslogd", rs.stop)
    rs.start()
    conf = d / "dnsvigil.yaml"
    conf.write_text(lab.read_text() + f"""
outputs:
  queue: {QUEUE}
  rate_limit: 0
  syslog:
    enabled: true
    transport: tcp
    address: 127.0.0.1:{tcp_port}
metrics:
  enabled: true
  listen: 127.0.0.1:{metrics_port}
run:
  user: ""
""")
    alerts_json = d / "alerts.json"
    dv = ops.Dnsvigil([binary, "-c", str(conf), "-r", "-", "--alerts-json", str(alerts_json)], d / "dnsvigil.log",
                      cleanup, stdin=subprocess.PIPE)
    feed = Feeder(dv.proc)
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    syslog_out = f"syslog:tcp:127.0.0.1:{tcp_port}"
    json_out = f"json:{alerts_json}"

    def received(phase: str) -> set[str]:
        out = set()
        for ln in rs.lines("tcp", "raw"):
            m = ops.parse_rfc5424(ln)
            q = ops.sd_dict(m["sd"])["alert@32473"].get("qname", "")
            if q.startswith(phase):
                out.add(q)
        return out

    def fresh(cond, timeout: float, what: str) -> dict:
        return feed.metrics(dv, url, cond, timeout, what)

    def out_metric(p: dict, name: str, out: str, **labels) -> int:
        return int(ops.metric(p, name, output=out, **labels))

    # Phase A: receiver up.
    for i in range(20):
        feed.alert("up", i, alerts_json)
    ops.wait_for(lambda: len(received("up")) == 20, 30, "20 phase-A alerts at rsyslog")
    m = fresh(lambda p: out_metric(p, "dnsvigil_output_delivered_total", syslog_out) == 20, 30,
              "20 syslog deliveries in the metrics")
    check(out_metric(m, "dnsvigil_output_failures_total", syslog_out) == 0, "phase A: 20/20 alerts arrived, no failures")

    # Receiver down.
    rs.stop()
    check(not ops.listening(tcp_port, "tcp"), "rsyslogd stopped: nothing listens on the TCP port")
    t_down = time.monotonic()
    for i in range(60):
        feed.alert("down", i, alerts_json)
    check(feed.longest_write < 5, f"every write to dnsvigil's stdin finished (longest {feed.longest_write:.2f} s)")
    m = fresh(lambda p: out_metric(p, "dnsvigil_output_failures_total", syslog_out) >= 2
              and out_metric(p, "dnsvigil_output_dropped_total", syslog_out, reason="queue_full") >= 1,
              60, "failures and queue_full drops in the metrics")
    failures_down = out_metric(m, "dnsvigil_output_failures_total", syslog_out)
    dropped_full = out_metric(m, "dnsvigil_output_dropped_total", syslog_out, reason="queue_full")
    depth = out_metric(m, "dnsvigil_output_queue_depth", syslog_out)
    delivered_b = out_metric(m, "dnsvigil_output_delivered_total", syslog_out) - 20
    check(ops.metric(m, "dnsvigil_packets_total") == feed.packets,
          f"capture continued while the receiver was down: packets_total = {feed.packets} written")
    check(ops.metric(m, "dnsvigil_alerts_total", rule="zone_transfer") == 80, "80 alerts raised so far")
    check(depth <= QUEUE and delivered_b + dropped_full + depth == 60,
          f"outage: 60 alerts = {delivered_b} sent before the failure was seen + {dropped_full} dropped "
          f"(queue_full) + {depth} queued; {failures_down} failed attempts")
    check(out_metric(m, "dnsvigil_output_dropped_total", json_out, reason="queue_full") == 0,
          "the JSON file output dropped nothing")
    # (No SIGUSR1 here: a signal while dnsvigil waits on stdin ends the replay with "read error:
    # Interrupted system call" -- see the report; the live test checks SIGUSR1.)

    # Receiver back.
    outage = time.monotonic() - t_down
    rs.start()
    m = fresh(lambda p: out_metric(p, "dnsvigil_output_queue_depth", syslog_out) == 0, 60,
              "the syslog queue to drain after rsyslogd came back")
    after_restart = received("down")
    log(f"outage lasted {outage:.1f} s; {len(after_restart)} of the 60 phase-B alerts reached rsyslog")
    for i in range(20):
        feed.alert("after", i, alerts_json)
    ops.wait_for(lambda: len(received("after")) == 20, 60, "20 phase-C alerts at rsyslog")
    m = fresh(lambda p: out_metric(p, "dnsvigil_output_queue_depth", syslog_out) == 0
              and out_metric(p, "dnsvigil_output_delivered_total", syslog_out) >= 40, 60, "phase C delivered")
    check(len(received("after")) == 20 and len(received("up")) == 20, "delivery resumed: 20/20 phase-C alerts arrived")
    delivered = out_metric(m, "dnsvigil_output_delivered_total", syslog_out)
    failures = out_metric(m, "dnsvigil_output_failures_total", syslog_out)
    dropped_full = out_metric(m, "dnsvigil_output_dropped_total", syslog_out, reason="queue_full")
    got = len(received("up")) + len(received("down")) + len(received("after"))
    check(delivered + dropped_full == 100, f"100 alerts = {delivered} delivered + {dropped_full} dropped (queue_full)")
    lost = delivered - got
    # dnsvigil looks for the receiver's close before each send, so none goes into a dead connection.
    check(lost == 0, f"{got} alerts reached rsyslog; {lost} counted as delivered but lost")

    # End of input.
    feed.close()
    rc = dv.proc.wait(60)
    dv.check_clean_log()
    text = dv.text()
    check(rc == 0, "dnsvigil exits 0 at the end of its input")
    check(ops.summary_packets(text) == feed.packets, f"the summary counts all {feed.packets} packets written")
    check(ops.summary_alerts(text) == {"zone_transfer": 100}, "the summary counts 100 zone_transfer alerts")
    dm = re.search(r"(\d+) dropped by outputs", text)
    check(dm is not None and int(dm.group(1)) == dropped_full, f"the summary counts the {dropped_full} dropped alerts")
    check(len(ops.read_json_lines(alerts_json)) == 100, "the JSON file has all 100 alerts")
    log(f"figures: sent 100 alerts (20 before, 60 during, 20 after the outage); rsyslog received {got} "
        f"({len(received('down'))} of the outage's); {failures} failed delivery attempts; {dropped_full} dropped "
        f"(queue_full, outputs.queue {QUEUE}); {lost} lost in the dead connection; packets {feed.packets}")


if __name__ == "__main__":
    ops.main(body)
