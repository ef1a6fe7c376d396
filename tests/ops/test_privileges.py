#!/usr/bin/env python3
"""Privileges: dnsvigil started as root on a live interface with run.user set to a system user
this test creates (and removes at the end, even on failure). Once capturing, every thread of the
process must run as that user with no capability at all (CapEff, CapPrm, CapInh, CapAmb and the
bounding set 0), no supplementary group, and NoNewPrivs 1 -- while capture still works: queries
sent after the drop are counted in the metrics and written to the dump, which (like the alert
file) the unprivileged process opens itself. A SIGHUP reload also works after the drop.

Namespaces `dvpc` (client 10.99.1.2) and `dvps` (server 10.99.1.1, DNS server and dnsvigil).

usage: test_privileges.py DNSVIGIL SOURCE_DIR        (exit 0 pass, 1 fail, 77 skip)
"""

from __future__ import annotations

import os
import pwd
import signal
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import opslib as ops  # noqa: E402
from opslib import check, log  # noqa: E402

USER = "dvops-priv"
COMMENT = "dnsvigil ops test (tests/ops/test_privileges.py)"
NET = "10.99.1"
QUERIES = 10


def remove_user() -> None:
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        return
    if pw.pw_gecos != COMMENT:
        raise ops.TestFailure(f"a user {USER} exists that this test did not create; not touching it")
    ops.run(["userdel", USER], check_rc=False)
    ops.run(["groupdel", USER], check_rc=False)


def status(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def body(cleanup: ops.Cleanup) -> None:
    binary, _root = ops.args()
    ops.need_root()
    for tool in ("useradd", "userdel", "dig", "curl"):
        ops.need_tool(tool)
    remove_user()  # a leftover of a run that was killed
    cleanup.push(f"remove user {USER}", remove_user)
    ops.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group",
             "--comment", COMMENT, USER])
    pw = pwd.getpwnam(USER)
    log(f"created user {USER} uid {pw.pw_uid} gid {pw.pw_gid}")

    d = ops.tempdir(cleanup, "priv")
    os.chmod(d, 0o711)  # the service user must reach its folder below
    out = d / "out"
    out.mkdir(mode=0o750)
    os.chown(out, pw.pw_uid, pw.pw_gid)
    net = ops.Netns(cleanup, "dvp", NET)
    dns = ops.DnsServer(cleanup, net, d)

    conf = out / "dnsvigil.yaml"
    conf_text = f"""network:
  internal: [{NET}.0/24]
  resolvers: [{NET}.1]
metrics:
  enabled: true
  listen: 127.0.0.1:9853
run:
  user: {USER}
"""
    conf.write_text(conf_text)
    os.chmod(conf, 0o644)
    dump, alerts = out / "events.json", out / "alerts.json"
    dv = ops.Dnsvigil(["ip", "netns", "exec", net.server, binary, "-c", str(conf), "-i", net.server_if,
                       "--dump-json", str(dump), "--alerts-json", str(alerts)], d / "dnsvigil.log", cleanup)
    dv.wait_log(f"running as user {USER} with no capabilities", 30)
    dv.wait_log("metrics on http://127.0.0.1:9853/metrics", 60)  # the endpoint listens from here on
    check(os.path.realpath(f"/proc/{dv.pid}/exe") == os.path.realpath(binary), f"pid {dv.pid} is dnsvigil itself")

    # Capture still works.
    url = "http://127.0.0.1:9853/metrics"

    def messages() -> int:
        _, text = ops.scrape(url, net.server)
        return int(ops.metric(ops.parse_prometheus(text), "dnsvigil_dns_messages_total")) if text else -1

    before = ops.wait_for(lambda: (lambda n: n + 1 if n >= 0 else None)(messages()), 30, "the metrics endpoint") - 1
    # Every thread exists now (capture, alert outputs, metrics server).
    tasks = sorted(Path(f"/proc/{dv.pid}/task").iterdir())
    for t in tasks:
        st = status(t / "status")
        who = f"thread {t.name} ({st['Name']})"
        uids, gids = st["Uid"].split(), st["Gid"].split()
        if uids != [str(pw.pw_uid)] * 4 or gids != [str(pw.pw_gid)] * 4:
            raise ops.TestFailure(f"{who}: Uid {uids} Gid {gids}, want {pw.pw_uid}/{pw.pw_gid} (real, effective, saved, fs)")
        if st.get("Groups", "") != "":
            raise ops.TestFailure(f"{who}: supplementary groups {st['Groups']}")
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            if int(st[cap], 16) != 0:
                raise ops.TestFailure(f"{who}: {cap} {st[cap]}")
        if st.get("NoNewPrivs") != "1":
            raise ops.TestFailure(f"{who}: NoNewPrivs {st.get('NoNewPrivs')}")
    check(True, f"all {len(tasks)} threads: Uid/Gid {pw.pw_uid}/{pw.pw_gid} (real, effective, saved, fs), no groups, "
          "CapInh=CapPrm=CapEff=CapBnd=CapAmb=0, NoNewPrivs=1")
    for f in (dump, alerts):
        ops.wait_for(lambda f=f: f.exists(), 10, f"{f.name} to be created")
        owner = "root" if f.stat().st_uid == 0 else pwd.getpwuid(f.stat().st_uid).pw_name
        log(f"{f.name} is owned by {owner} (opened {'before' if owner == 'root' else 'after'} the drop)")

    names = [f"priv-{i}.{ops.ZONE}" for i in range(QUERIES - 1)] + [f"www.{ops.ZONE}"]
    outp = net.exec(net.client, "dig", f"@{net.server_ip}", "+tries=1", "+time=3", *names).stdout
    check(outp.count("->>HEADER<<-") == QUERIES, f"{QUERIES} queries answered by {dns.kind}")
    ops.wait_for(lambda: messages() >= before + 2 * QUERIES, 30, f"{2 * QUERIES} more DNS messages")
    check(True, f"capture works after the drop: dnsvigil_dns_messages_total grew by {2 * QUERIES}")

    # Reload as the unprivileged user.
    conf.write_text(conf_text + "detectors:\n  suppression: 1h\n")
    mark = len(dv.text())
    dv.signal(signal.SIGHUP)
    dv.wait_reloaded(conf, mark)
    check(True, "SIGHUP after the drop: configuration reloaded, outputs reopened by the service user")
    outp = net.exec(net.client, "dig", f"@{net.server_ip}", "+tries=1", "+time=3", f"after-reload.{ops.ZONE}").stdout
    ops.wait_for(lambda: messages() >= before + 2 * QUERIES + 2, 30, "the query sent after the reload")

    rc = dv.stop(30)
    dv.check_clean_log()
    check(rc == 0, "SIGTERM: exit 0")
    events = ops.read_json_lines(dump)
    got = {e["dns"]["question"]["name"] for e in events if e["dns"].get("question")}
    missing = [n for n in names + [f"after-reload.{ops.ZONE}"] if n not in got]
    check(not missing, f"the dump has the {QUERIES + 1} names queried after the drop ({len(events)} events)")
    q = next(e for e in events if e["dns"]["question"]["name"] == names[0])
    check(q["source"]["ip"] == net.client_ip and q["destination"]["ip"] == net.server_ip,
          f"dump: {names[0]} from {net.client_ip} to {net.server_ip}")


if __name__ == "__main__":
    ops.main(body)
