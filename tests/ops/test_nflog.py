#!/usr/bin/env python3
"""Live capture from a netfilter log group (`-i nflog:N`, issue 15): iptables rules in a private
server namespace copy DNS over UDP and TCP, both ways, to NFLOG group 7; dnsvigil reads the group
with its default settings. libpcap compiles no filter for NFLOG (the rules choose the packets):
dnsvigil must say so and capture anyway, and libpcap's NFLOG reader, which reports an empty
non-blocking socket as an error, must not stop it.

Checks: the log's note about the filter; every query dig sent over UDP and TCP appears as a
query and a matched response with its name, addresses and transport, and the events carry the
input's name (observer.ingress.interface.name = nflog:7); SIGTERM ends with exit 0.

usage: test_nflog.py DNSVIGIL SOURCE_DIR        (exit 0 pass, 1 fail, 77 skip)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import opslib as ops  # noqa: E402
from opslib import check  # noqa: E402

NET = "10.99.7"
GROUP = 7


def body(cleanup: ops.Cleanup) -> None:
    binary, _root = ops.args()
    ops.need_root()
    for tool in ("dig", "iptables"):
        ops.need_tool(tool)
    d = ops.tempdir(cleanup, "nflog")
    net = ops.Netns(cleanup, "dvn", NET)
    dns = ops.DnsServer(cleanup, net, d)
    # The server's side of DNS, both directions, UDP and TCP (the namespace goes with its rules).
    for chain, direction in (("INPUT", "--dport"), ("OUTPUT", "--sport")):
        for proto in ("udp", "tcp"):
            r = net.exec(net.server, "iptables", "-A", chain, "-p", proto, direction, "53", "-j", "NFLOG",
                         "--nflog-group", str(GROUP), check_rc=False)
            if r.returncode != 0:
                ops.skip(f"iptables NFLOG target not available: {r.stderr.strip()}")

    conf, dump = d / "dnsvigil.yaml", d / "events.json"
    conf.write_text("run:\n  user: \"\"\n  stats_interval: 1h\n")
    iface = f"nflog:{GROUP}"
    dv = ops.Dnsvigil(["ip", "netns", "exec", net.server, binary, "-c", str(conf), "-i", iface,
                       "--dump-json", str(dump), "--alerts-json", str(d / "alerts.json")], d / "dnsvigil.log", cleanup)
    dv.wait_log(f"capturing on {iface} (NFLOG)", 30)
    dv.wait_log(f"{iface}: no default filter", 10)
    check(True, "nflog: no default filter for NFLOG, said in the log, capture goes on")

    udp = [f"www.{ops.ZONE}", f"mail.{ops.ZONE}", f"nx1.{ops.ZONE}"]
    tcp = [f"ns1.{ops.ZONE}"]
    for name in udp:
        check("status:" in net.dig(name, "A"), f"dig {name} over UDP answered by {dns.kind}")
    for name in tcp:
        check("status:" in net.dig("+tcp", name, "A"), f"dig {name} over TCP answered by {dns.kind}")

    # The capture loop reads the group at least every 200 ms; the dump is complete at exit.
    time.sleep(1.5)
    rc = dv.stop()
    check(rc == 0, f"SIGTERM: exit status {rc}")
    dv.check_clean_log()
    evs = ops.read_json_lines(dump)
    check(len(evs) == 2 * (len(udp) + len(tcp)), f"{len(evs)} DNS messages in the dump for {len(udp) + len(tcp)} queries")
    for names, transport in ((udp, "udp"), (tcp, "tcp")):
        for name in names:
            mine = [e for e in evs if e["dns"]["question"]["name"] == name]
            kinds = sorted(e["dns"]["type"] for e in mine)
            check(kinds == ["answer", "query"], f"{name}: a query and its response captured ({kinds})")
            q = next(e for e in mine if e["dns"]["type"] == "query")
            check((q["source"]["ip"], q["destination"]["ip"], q["destination"]["port"], q["network"]["transport"])
                  == (net.client_ip, net.server_ip, 53, transport),
                  f"{name}: query from {net.client_ip} to {net.server_ip}:53 over {transport}")
    check(all(e.get("observer", {}).get("ingress", {}).get("interface", {}).get("name") == iface for e in evs),
          f"every event names its input ({iface})")


if __name__ == "__main__":
    ops.main(body)
