#!/usr/bin/env python3
"""Threat-intel lists and SIGHUP: a running dnsvigil (replaying a pcap stream from a pipe, so no
root is needed) reads its intel.domain_files again on SIGHUP. A changed list takes effect: the
new entry alerts, the removed one no longer does. A list with a bad line fails the reload with the
file and line in the log, and the lists in use keep working; nothing crashes.

The replay loop serves signals between batches of 4096 packets, so after each SIGHUP the test
writes a batch of unlisted lookups to let the loop reach its service duties.
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import opslib as ops
from opslib import check, log

T0 = 1_700_000_000 * 1_000_000_000
BATCH = 4096 + 100  # a little more than one replay batch
SERVER = "10.0.0.53"


def intel_alerts(path: Path) -> list[tuple[str, str, str]]:
    """(client, question name, indicator) of the intel_match alerts written so far (not summaries)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        a = json.loads(line)
        if a["rule"]["name"] == "intel_match" and not a["dnsvigil"].get("summary"):
            out.append((a["source"]["ip"], a["dns"]["question"]["name"], a["dnsvigil"]["evidence"]["indicator"]))
    return out


def body(cleanup: ops.Cleanup) -> None:
    binary, _root = ops.args()
    d = ops.tempdir(cleanup, "intel")
    lst = d / "domains.txt"
    lst.write_text("# lab list\nfirst.example\n")
    alerts = d / "alerts.json"
    conf = d / "dnsvigil.yaml"
    conf.write_text(f"network:\n  resolvers: [{SERVER}]\n"
                    "intel:\n  domain_files: [domains.txt]   # next to this file\n"
                    f"outputs:\n  alerts_json: {alerts}\n  rate_limit: 0\n")
    ops.run([binary, "--check-config", "-c", str(conf)])

    dv = ops.Dnsvigil([binary, "-c", str(conf), "-r", "-"], d / "dnsvigil.log", cleanup, stdin=subprocess.PIPE)
    pcap = ops.PcapWriter(dv.proc.stdin)
    state = {"ts": T0, "id": 0}

    def lookup(name: str, client: str) -> None:
        state["ts"] += 1_000_000
        state["id"] = (state["id"] + 1) % 65536
        pcap.write(state["ts"], ops.udp_frame(client, SERVER, 40000, 53, ops.dns_query(state["id"], name)))

    def push() -> None:
        """Unlisted lookups: the replay loop finishes its batch and serves pending signals."""
        for _ in range(BATCH):
            lookup("www.unlisted.example.com", "10.0.0.200")
        dv.proc.stdin.flush()

    def wait_alert(client: str, what: str) -> None:
        ops.wait_for(lambda: any(c == client for c, _, _ in intel_alerts(alerts)), 30, what)

    def hup() -> int:
        mark = len(dv.text())
        dv.signal(signal.SIGHUP)
        time.sleep(0.5)  # the loop serves signals at most every 200 ms
        push()
        return mark

    # 1. The list as started.
    lookup("a.first.example", "10.0.0.1")
    push()
    wait_alert("10.0.0.1", "the alert for first.example")
    check(("10.0.0.1", "a.first.example", "first.example") in intel_alerts(alerts), "listed domain alerts")

    # 2. The list changes: first.example out, second.example in; SIGHUP.
    lst.write_text("# lab list, updated\nsecond.example\n")
    mark = hup()
    dv.wait_reloaded(conf, mark)
    lookup("b.first.example", "10.0.0.2")
    lookup("b.second.example", "10.0.0.3")
    push()
    wait_alert("10.0.0.3", "the alert for second.example after the reload")
    got = intel_alerts(alerts)
    check(("10.0.0.3", "b.second.example", "second.example") in got, "SIGHUP: the new entry alerts")
    check(not any(c == "10.0.0.2" for c, _, _ in got), "SIGHUP: the removed entry no longer alerts")

    # 3. A bad line: the reload fails naming file and line; the running lists stay.
    lst.write_text("second.example\n*.bad.example\n")
    mark = hup()
    m = dv.wait_log(re.compile(r"reload failed, keeping the running configuration: .*"), 30, after=mark)
    check(f"{lst}:2:" in m.group(0) and "*.bad.example" in m.group(0), f"bad list on SIGHUP: {m.group(0)}")
    lookup("c.second.example", "10.0.0.4")
    push()
    wait_alert("10.0.0.4", "the alert from the lists kept after the failed reload")
    check(True, "after the failed reload the running lists still alert")

    # 4. A missing file: the same.
    lst.unlink()
    mark = hup()
    m = dv.wait_log(re.compile(r"reload failed.*"), 30, after=mark)
    check("cannot read the list file" in m.group(0), f"missing list on SIGHUP: {m.group(0)}")

    dv.proc.stdin.close()
    rc = dv.proc.wait(60)
    check(rc == 0, f"dnsvigil exited {rc} at the end of the stream")
    dv.check_clean_log()
    log(dv.text()[-600:])


if __name__ == "__main__":
    ops.main(body)
