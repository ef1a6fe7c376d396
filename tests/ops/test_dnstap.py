#!/usr/bin/env python3
"""dnstap from real DNS servers (issue 14): BIND 9.18 and Unbound send their dnstap to dnsvigil.

Namespaces `dt-c` (clients 10.77.0.2, .3, .5: dig, kdig) and `dt-s` (named on 10.77.0.1 and, as an
outside-looking upstream, 198.51.100.53; unbound on 10.77.0.4; dnsvigil, metrics on its loopback)
joined by a veth pair; a test CA and server certificate from openssl.

  A  named -> unix socket: Do53 UDP/TCP, DoT (dig +tls, kdig), DoH (dig +https) from fixed client
     ports; each query and response in --dump-json with the client's address and port, server
     port, dnstap_type, rcode, observer.name/.version (dnstap-identity/-version), and dot/doh +
     encrypted where the server labels them so (BIND 9.18 says TCP: logged as its LIMITATION).
     60 word-like names from .3 over DoH -> enumeration for .3. `rndc dnstap -reopen`, then a
     named restart: summary 3 connections, frames = 2 x queries, 0 dropped, 0 stream errors.
  Q  input.dnstap_queue 16, BURST queries (dig -f): all answered quickly, named delivers every
     frame, and frames = processed + dropped (queue full).
  U  unbound (stub and forward zones on 198.51.100.53) -> unix socket, then -> TCP (dnstap-ip,
     dnstap-tls: no): CLIENT_* with the clients' addresses and ports, RESOLVER_* and FORWARDER_*
     in the dump; a brute force from .5 through unbound (resolver_factor 1) alerts for .5 only,
     unbound's upstream copies raise nothing (no enumeration, no rogue_resolver); 10.77.0.4
     learned as a resolver (metric, and the summary's "resolvers learned").

usage: test_dnstap.py DNSVIGIL SOURCE_DIR        (exit 0 pass, 1 fail, 77 skip)
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import opslib as ops  # noqa: E402
from opslib import check, log  # noqa: E402

NET = "10.77.0"
SERVER, UNBOUND, OUTSIDE, CLIENT3 = f"{NET}.1", f"{NET}.4", "198.51.100.53", f"{NET}.5"
ZONE, FWD, TLSNAME = "dt.test", "fwd.example", "ns.dt.test"
IDENTITY, VERSION = "dt-named-ops", "dt-bind-ops"
METRICS, TCP_TAP = "127.0.0.1:9853", ("127.0.0.1", 6053)
PORTS = {"udp": 53, "tcp": 53, "dot": 853, "doh": 443}
BURST = 500
HOSTS = {"www": "10.77.9.80", "mail": "10.77.9.25", "ns": SERVER}
WORDS = ("www mail ns admin api app auth backup beta blog cdn chat cloud cms code crm data db demo dev docs "
         "erp files forum ftp git help hr intranet jenkins jira portal ldap legacy login m media mobile monitor "
         "mysql news office owa partner pay proxy remote sales search secure shop smtp sso staging "
         "stats store support test vpn wiki").split()


def dnsvigil_config(extra: str = "") -> str:
    return f"""# dnsvigil ops test (tests/ops/test_dnstap.py)
network:
  internal: [{NET}.0/24]
{ops.service_yaml(METRICS)}{extra}"""


def make_certs(d: Path) -> None:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ops.run(["openssl", "req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt", "-days", "2",
             "-subj", "/CN=dnsvigil ops test CA"])
    ops.run(["openssl", "req", *ec, "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr", "-subj", f"/CN={TLSNAME}"])
    (d / "ext.cnf").write_text(f"subjectAltName=DNS:{TLSNAME},IP:{SERVER}\nbasicConstraints=CA:FALSE\n"
                               "extendedKeyUsage=serverAuth\n")
    ops.run(["openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.crt", "-CAkey", f"{d}/ca.key",
             "-CAcreateserial", "-out", f"{d}/server.crt", "-days", "2", "-extfile", f"{d}/ext.cnf"])


def named_files(d: Path, sock: Path, secret: str) -> Path:
    n = d / "named"
    n.mkdir()
    soa = "@ 300 IN SOA ns hostmaster 1 3600 600 86400 300\n@ 300 IN NS ns\n"
    hosts = "".join(f"{h} 300 IN A {a}\n" for h, a in HOSTS.items())
    (n / f"{ZONE}.zone").write_text(f"$ORIGIN {ZONE}.\n{soa}{hosts}")
    (n / f"{FWD}.zone").write_text(f"$ORIGIN {FWD}.\n{soa}ns 300 IN A {OUTSIDE}\nwww 300 IN A 198.51.100.80\n")
    key = f'key "dt-rndc" {{ algorithm hmac-sha256; secret "{secret}"; }};\n'
    (n / "rndc.conf").write_text(key + 'options { default-key "dt-rndc"; default-server 127.0.0.1; };\n')
    (n / "named.conf").write_text(key + f"""controls {{ inet 127.0.0.1 allow {{ 127.0.0.1; }} keys {{ "dt-rndc"; }}; }};
tls dt-tls {{ cert-file "{d}/server.crt"; key-file "{d}/server.key"; }};
http dt-http {{ endpoints {{ "/dns-query"; }}; }};
options {{
  directory "{n}"; pid-file "{n}/named.pid"; session-keyfile "{n}/session.key";
  listen-on port 53 {{ {SERVER}; {OUTSIDE}; }};
  listen-on port 853 tls dt-tls {{ {SERVER}; }};
  listen-on port 443 tls dt-tls http dt-http {{ {SERVER}; }};
  listen-on-v6 {{ none; }};
  recursion no; notify no; dnssec-validation no;
  dnstap {{ client; auth; }};
  dnstap-output unix "{sock}";
  // named's own queues (input per worker thread, default 512 frames; output, default 512, at
  // most 1024) drop when the reader is slow: part Q's burst of 2 x BURST frames must fit in them,
  // so every drop is dnsvigil's and counted by it (with the defaults named lost 67 of 6000).
  fstrm-set-output-queue-size 1024;
  fstrm-set-input-queue-size 16384;
  dnstap-identity "{IDENTITY}";
  dnstap-version "{VERSION}";
}};
zone "{ZONE}" {{ type primary; file "{n}/{ZONE}.zone"; }};
zone "{FWD}" {{ type primary; file "{n}/{FWD}.zone"; }};
""")
    return n


def unbound_conf(d: Path, identity: str, tap: str) -> Path:
    p = d / f"unbound-{identity}.conf"
    p.write_text(f"""server:
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound-{identity}.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  interface: {UNBOUND}@53
  outgoing-interface: {UNBOUND}
  access-control: {NET}.0/24 allow
  do-ip6: no
  module-config: "iterator"
  qname-minimisation: no
  local-zone: "test." nodefault
stub-zone:
  name: "{ZONE}"
  stub-addr: {OUTSIDE}
forward-zone:
  name: "{FWD}"
  forward-addr: {OUTSIDE}
dnstap:
  dnstap-enable: yes
  {tap}
  dnstap-send-identity: yes
  dnstap-send-version: yes
  dnstap-identity: "{identity}"
  dnstap-version: "dt-unbound-ops"
""" + "".join(f"  dnstap-log-{w}-{m}-messages: yes\n" for w in ("client", "resolver", "forwarder")
             for m in ("query", "response")))
    return p


class Daemon:
    """A DNS server we started in a namespace, its output in a log; ready when `ready` is logged."""

    def __init__(self, cleanup: ops.Cleanup, logf: Path, ns: str, argv: list[str], ready: str) -> None:
        self.logf = logf
        with open(logf, "w") as f:
            self.proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdin=subprocess.DEVNULL, stdout=f,
                                         stderr=subprocess.STDOUT)
        cleanup.push(f"stop {argv[0]} {self.proc.pid}", lambda: ops.stop_process(self.proc, 10))

        def up() -> bool:
            if self.proc.poll() is not None:
                raise ops.TestFailure(f"{argv[0]} exited {self.proc.returncode}: {logf.read_text()[-2000:]}")
            return ready in logf.read_text(errors="replace")
        ops.wait_for(up, 30, f"'{ready}' from {argv[0]}")

    def stop(self) -> None:
        rc = ops.stop_process(self.proc, 20)
        check(rc == 0, f"{self.logf.stem} stopped (exit {rc})")


def body(cleanup: ops.Cleanup) -> None:
    binary, _root = ops.args()
    ops.need_root()
    for tool in ("named", "rndc", "unbound", "unbound-checkconf", "dig", "kdig", "openssl", "curl"):
        ops.need_tool(tool)
    versions = {t: ops.run([t, "-V"]).stdout for t in ("named", "unbound", "kdig")}
    for t in ("named", "unbound"):
        if "--enable-dnstap" not in versions[t]:
            ops.skip(f"{t} was built without dnstap")
    aa = Path("/sys/kernel/security/apparmor/profiles")
    confined = [p for p in (aa.read_text().splitlines() if aa.exists() else [])
                if re.search(r"(^|/)(named|unbound) \(enforce\)$", p)]
    if confined:
        ops.skip(f"AppArmor confines {confined} to the system's directories (aa-complain them to run this test)")
    bind918 = versions["named"].startswith("BIND 9.18.")
    log("versions: " + "; ".join(v.splitlines()[0] for v in versions.values()))
    d = ops.tempdir(cleanup, "dnstap")
    net = ops.Netns(cleanup, "dt-", NET)
    client1, client2 = net.client_ip, net.client_ip2
    net.exec(net.server, "ip", "addr", "add", f"{UNBOUND}/24", "dev", net.server_if)
    net.exec(net.server, "ip", "addr", "add", f"{OUTSIDE}/32", "dev", "lo")
    net.exec(net.client, "ip", "addr", "add", f"{CLIENT3}/24", "dev", net.client_if)
    make_certs(d)
    bind_sock = d / "bind.sock"
    ndir = named_files(d, bind_sock, base64.b64encode(os.urandom(32)).decode())
    named_argv = ["named", "-g", "-n", "1", "-c", str(ndir / "named.conf")]
    starts = itertools.count()
    ports = itertools.count(41000)  # fixed client ports: the dump must show each query's own
    tls = [f"+tls-ca={d}/ca.crt", f"+tls-hostname={TLSNAME}"]

    def named() -> Daemon:
        return Daemon(cleanup, d / f"named.{next(starts)}.log", net.server, named_argv, "running")

    def rndc(*cmd: str) -> None:
        net.exec(net.server, "rndc", "-c", str(ndir / "rndc.conf"), *cmd)

    def ask(sent: list, kind: str, client: str, name: str, qtype: str = "A", server: str = SERVER,
            tool: str = "dig") -> None:
        """One query from a fixed client port; (kind, client, port, name, qtype, status) goes to `sent`."""
        port = next(ports)
        if tool == "kdig":
            cmd = ["kdig", "-b", f"{client}#{port}", f"@{server}", "+tls", *tls, "+time=3", "+retry=0"]
        else:
            cmd = ["dig", "-b", f"{client}#{port}", f"@{server}", "+time=3", "+tries=1",
                   *{"udp": [], "tcp": ["+tcp"], "dot": ["+tls", *tls], "doh": ["+https", *tls]}[kind]]
        out = net.exec(net.client, *cmd, name, qtype).stdout
        m = re.search(r"status: (\w+)", out)
        if not m:
            raise ops.TestFailure(f"{' '.join(cmd)} {name}: no answer:\n{out}")
        sent.append((kind, client, port, name, qtype, m.group(1)))

    def brute(sent: list, client: str, server: str, *opts: str) -> int:
        """The WORDS under ZONE from `client`, one dig (its own ports); returns the NXDOMAIN count."""
        out = net.exec(net.client, "dig", "-b", client, f"@{server}", *opts, "+time=3", "+tries=1",
                       *[f"{w}.{ZONE}" for w in WORDS]).stdout
        got = re.findall(r"status: (\w+),.*?;; QUESTION SECTION:\n;(\S+)\.\s", out, re.S)
        nx = sum(st == "NXDOMAIN" for st, _ in got)
        kind = "doh" if "+https" in opts else "udp"
        check(len(got) == len(WORDS) and nx == len(WORDS) - len(HOSTS),
              f"a brute force: {len(WORDS)} names over {kind} from {client} to {server}, {nx} NXDOMAIN")
        sent += [(kind, client, None, n, "A", st) for st, n in got]
        return nx

    def start_dnsvigil(tag: str, extra: str, endpoints: list[str]) -> ops.Dnsvigil:
        conf = d / f"{tag}.yaml"
        conf.write_text(dnsvigil_config(extra))
        argv = ["ip", "netns", "exec", net.server, binary, "-c", str(conf),
                "--dump-json", str(d / f"{tag}.events.json"), "--alerts-json", str(d / f"{tag}.alerts.json")]
        dv = ops.Dnsvigil(argv + [x for e in endpoints for x in ("--dnstap", e)], d / f"{tag}.log", cleanup)
        for e in endpoints:
            dv.wait_log(f"dnstap: listening on {e}", 30)
        dv.wait_log(f"metrics on http://{METRICS}/metrics", 30)
        return dv

    def tap() -> dict:
        """The listener's figures and the frames processed, from a metrics scrape."""
        p = ops.parse_prometheus(ops.scrape(f"http://{METRICS}/metrics", net.server)[1])
        v = lambda n: int(ops.metric(p, f"dnsvigil_dnstap_{n}_total"))  # noqa: E731
        return {"connections": v("connections"), "received": v("received"), "dropped": v("queue_dropped"),
                "errors": v("stream_errors"),
                "processed": v("frames") + v("bad_protobuf") + v("not_message") + v("oversize")}

    def settle(want: int, what: str, timeout: float = 60) -> dict:
        """Waits for `want` frames received and every received frame processed or dropped."""
        last: list[dict] = [{}]

        def done():
            last[0] = t = tap()
            return t if t["received"] >= want and t["processed"] + t["dropped"] == t["received"] else None
        try:
            return ops.wait_for(done, timeout, what, interval=0.25)
        except ops.TestFailure as e:
            raise ops.TestFailure(f"{e}; last figures {last[0]}") from None

    def finish(dv: ops.Dnsvigil, tag: str) -> tuple[dict, dict, list, list]:
        """SIGTERM: (the summary's dnstap line, its counters, the events, the alerts)."""
        rc = dv.stop(30)
        dv.check_clean_log()
        text = dv.text()
        check(rc == 0, f"{tag}: SIGTERM: exit status 0")
        m = re.search(r"dnstap: (\d+) connections, (\d+) frames, (\d+) dropped \(queue full\), (\d+) stream errors",
                      text)
        if not m:
            raise ops.TestFailure(f"{tag}: no 'dnstap:' line in the summary:\n{text[-2000:]}")
        summary = dict(zip(("connections", "frames", "dropped", "errors"), map(int, m.groups())))
        c = re.search(r"^\s*counters:(.*)$", text, re.M)
        counters = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", c.group(1))} if c else {}
        log(f"{tag}: summary {m.group(0)}; counters {counters}")
        return (summary, counters, ops.read_json_lines(d / f"{tag}.events.json"),
                ops.read_json_lines(d / f"{tag}.alerts.json"))

    def verify(events: list, sent: list, server: str, observer: dict, types: tuple[str, str],
               labels: bool | None = None) -> list[str]:
        """Every sent query and its response in the dump, addresses and ports right. `labels`: the
        server labels DoT/DoH in its dnstap (True), says TCP (False: BIND 9.18, seen with
        dnstap-read -y), or not known (either). Returns the kinds the server did not label."""
        by: dict = {}
        for e in events:
            q = e["dns"].get("question", {}).get("name")
            peer = e["source"] if e["dns"]["type"] == "query" else e["destination"]
            by.setdefault((e["dns"]["type"], peer["ip"], q), []).append(e)
        errors, limits = [], set()
        fixed = {(c, p) for _, c, p, *_ in sent if p is not None}  # port None: any port but these

        def mine(e: dict, c: str, p: int | None, peer: str) -> bool:
            return e[peer]["port"] == p if p is not None else (c, e[peer]["port"]) not in fixed
        for kind, client, port, name, qtype, status in sent:
            qs = [e for e in by.get(("query", client, name), []) if mine(e, client, port, "source")]
            ans = [e for e in by.get(("answer", client, name), []) if mine(e, client, port, "destination")]
            what = f"{kind} {client}#{port} {name} {qtype}"
            if len(qs) != 1 or len(ans) != 1:
                errors.append(f"{what}: {len(qs)} query and {len(ans)} answer events")
                continue
            q, a = qs[0], ans[0]
            srv = {"ip": server, "port": PORTS[kind]}
            if q["destination"] != srv or a["source"] != srv:
                errors.append(f"{what}: server side {q['destination']} / {a['source']}, expected {srv}")
            qt, at = q["dnsvigil"].get("dnstap_type"), a["dnsvigil"].get("dnstap_type")
            if qt not in types[0] or at not in types[1]:
                errors.append(f"{what}: dnstap_type {qt} / {at}")
            rtype, rcode = q["dns"]["question"]["type"], a["dns"].get("response_code")
            if rtype != qtype or rcode != status:
                errors.append(f"{what}: {rtype}, {rcode} (dig: {status})")
            for e in (q, a):
                if e.get("observer") != observer:
                    errors.append(f"{what}: observer {e.get('observer')}, expected {observer}")
                proto, enc = e["network"]["protocol"], e["dnsvigil"].get("encrypted", False)
                want_t = "udp" if kind == "udp" else "tcp"
                got, tls = (proto, enc, e["network"]["transport"]), kind in ("dot", "doh")
                if tls and labels is not True and got == ("dns", False, "tcp"):
                    limits.add(kind)  # the server said TCP: nothing dnsvigil can know better
                elif got != ((kind, True, "tcp") if tls else ("dns", False, want_t)) or (tls and labels is False):
                    errors.append(f"{what}: network {e['network']}, encrypted {enc}")
        if errors:
            raise ops.TestFailure(f"{len(errors)} mismatches in the dump:\n  " + "\n  ".join(errors[:12]))
        return sorted(limits)

    # ---- A: BIND over a unix socket: Do53, DoT, DoH; enumeration over DoH; reopen and restart.
    t0 = time.monotonic()
    dva = start_dnsvigil("bind", "", [f"unix:{bind_sock}"])
    srv = named()
    sent_a: list = []
    for kind, tool, name, qtype in (("udp", "dig", "www", "A"), ("udp", "dig", "nx-udp", "TXT"),
                                    ("tcp", "dig", "mail", "A"), ("dot", "dig", "ns", "A"),
                                    ("dot", "kdig", "www", "AAAA"), ("doh", "dig", "mail", "A"),
                                    ("doh", "dig", "nx-doh", "A")):
        ask(sent_a, kind, client1, f"{name}.{ZONE}", qtype, tool=tool)
    check(True, f"A: {len(sent_a)} queries answered by named over UDP, TCP, DoT (dig, kdig), DoH "
                f"({', '.join(s[5] for s in sent_a)})")
    brute(sent_a, client2, SERVER, "+https", *tls)  # a brute force over DoH
    # Reconnect 1: rndc dnstap -reopen (named closes the stream and connects again).
    rndc("dnstap", "-reopen")
    ask(sent_a, "udp", client1, f"reopen.{ZONE}")
    ask(sent_a, "doh", client1, f"reopen-doh.{ZONE}")
    # Reconnect 2: named stopped and started again while dnsvigil keeps listening.
    srv.stop()
    srv = named()
    ask(sent_a, "udp", client1, f"www.{ZONE}")
    ask(sent_a, "dot", client1, f"restart.{ZONE}", tool="kdig")
    t = settle(2 * len(sent_a), f"A: {2 * len(sent_a)} frames from named")
    check(t["connections"] >= 3, f"A: metrics: {t['connections']} connections from named (start, reopen, restart)")
    summary, counters, events, alerts = finish(dva, "bind")
    check(summary == {"connections": 3, "frames": 2 * len(sent_a), "dropped": 0, "errors": 0},
          f"A: summary: 3 connections, {2 * len(sent_a)} frames (2 per query), 0 dropped, 0 stream errors")
    check(counters.get("dnstap_messages") == 2 * len(sent_a) and len(events) == 2 * len(sent_a),
          f"A: {len(events)} events in the dump, dnstap_messages={counters.get('dnstap_messages')}")
    limits = verify(events, sent_a, SERVER, {"name": IDENTITY, "version": VERSION},
                    (("CLIENT_QUERY", "AUTH_QUERY"), ("CLIENT_RESPONSE", "AUTH_RESPONSE")), False if bind918 else None)
    check(True, f"A: every query and response in the dump: client address and port, server port 53/853/443, "
                f"transport, dnstap_type, rcode, observer {IDENTITY}/{VERSION}")
    for kind in limits:
        log(f"LIMITATION (server): {versions['named'].splitlines()[0]} sends socket_protocol TCP for "
            f"{kind.upper()} in its dnstap: dnsvigil shows them as network.protocol dns over tcp to port "
            f"{PORTS[kind]}, not {kind} + encrypted")
    enum = [a for a in alerts if a["rule"]["name"] == "enumeration"]
    check(len(enum) >= 1 and all(a["source"]["ip"] == client2 for a in enum),
          f"A: enumeration alert through dnstap for {client2} (DoH brute force): "
          f"{[a.get('dnsvigil', {}).get('evidence') for a in enum][:1]}")
    check(all(a["source"]["ip"] == client2 for a in alerts),
          f"A: no alert about anyone else ({sorted({a['rule']['name'] for a in alerts})})")
    log(f"timing: part A {time.monotonic() - t0:.1f} s")

    # ---- Q: a 16-frame queue and a burst: drops counted, named never slowed down.
    t0 = time.monotonic()
    dvq = start_dnsvigil("queue", "input:\n  dnstap_queue: 16\n", [f"unix:{bind_sock}"])
    rndc("dnstap", "-reopen")  # named was left without a reader when part A's dnsvigil exited
    ops.wait_for(lambda: tap()["connections"] >= 1, 30, "named to connect to the new socket", interval=0.25)
    batch = d / "burst.txt"
    batch.write_text("".join(f"{'www' if i % 10 == 0 else f'b{i}'}.{ZONE} A\n" for i in range(BURST)))
    b0 = time.monotonic()
    out = net.exec(net.client, "dig", "-b", client1, f"@{SERVER}", "+time=2", "+tries=1", "+noall", "+comments",
                   "+stats", "-f", str(batch)).stdout
    burst_s = time.monotonic() - b0
    qtimes = [int(x) for x in re.findall(r"Query time: (\d+) msec", out)]
    check(out.count("status: ") == BURST and len(qtimes) == BURST and max(qtimes) < 1000,
          f"Q: all {BURST} burst queries answered in {burst_s:.2f} s, slowest {max(qtimes or [0])} ms")
    settle(2 * BURST, f"Q: {2 * BURST} frames from named")
    summary, counters, _events, _alerts = finish(dvq, "queue")
    processed = sum(counters.get(k, 0) for k in ("dnstap_frames", "dnstap_bad_protobuf", "dnstap_not_message",
                                                   "dnstap_oversize"))
    check(summary["frames"] == 2 * BURST and summary["errors"] == 0,
          f"Q: named delivered all {2 * BURST} frames (a query and a response each) while dnsvigil's queue held 16")
    check(summary["frames"] == processed + summary["dropped"],
          f"Q: frames {summary['frames']} = processed {processed} + dropped (queue full) {summary['dropped']}")
    if summary["dropped"] == 0:
        log("NOTE: the queue never filled on this machine (no frame dropped)")
    log(f"figures: burst {BURST} queries in {burst_s:.2f} s, {summary['frames']} frames, {processed} processed, "
        f"{summary['dropped']} dropped ({100 * summary['dropped'] / summary['frames']:.0f} %); part Q "
        f"{time.monotonic() - t0:.1f} s")

    # ---- U: unbound over a unix socket, then over TCP; upstream work is no client's behaviour.
    t0 = time.monotonic()
    ub_sock = d / "unbound.sock"
    # resolver_factor 1: a resolver's upstream copies of a brute force would alert like the client's own.
    dvu = start_dnsvigil("unbound", "detectors:\n  enumeration:\n    resolver_factor: 1\n",
                         [f"unix:{ub_sock}", f"tcp:{TCP_TAP[0]}:{TCP_TAP[1]}"])
    sent_u: dict[str, list] = {}
    runs = [("dt-unbound-unix", f'dnstap-socket-path: "{ub_sock}"'),
            ("dt-unbound-tcp", f"dnstap-ip: {TCP_TAP[0]}@{TCP_TAP[1]}\n  dnstap-tls: no")]  # 1.17: no "dnstap-tcp"
    if ops.run(["unbound-checkconf", str(unbound_conf(d, *runs[1]))], check_rc=False).returncode != 0:
        log("SKIP (part U over TCP): this unbound takes no dnstap-ip / dnstap-tls: no (dnstap over TCP)")
        runs.pop()
    for ident, tapconf in runs:
        before = tap()["received"]
        ub = Daemon(cleanup, d / f"{ident}.log", net.server,
                    ["unbound", "-d", "-c", str(unbound_conf(d, ident, tapconf))], "start of service")
        sent_u[ident] = []
        for client, name in ((client1, f"www.{ZONE}"), (client2, f"www.{FWD}"), (CLIENT3, f"mail.{ZONE}")):
            ask(sent_u[ident], "udp", client, name, server=UNBOUND)
        # A brute force through the first unbound: each NXDOMAIN name is a resolver exchange upstream.
        nx = brute(sent_u[ident], CLIENT3, UNBOUND) if ident == runs[0][0] else 0
        # 2 frames per client query; resolver exchanges (stub zone) for www, mail and each NXDOMAIN; 1 forwarder
        settle(before + 2 * len(sent_u[ident]) + 2 * 2 + 2 * nx + 2, f"U: frames from {ident}")
        ub.stop()
        settle(0, f"U: every frame of {ident} processed")
    learned = ops.parse_prometheus(ops.scrape(f"http://{METRICS}/metrics", net.server)[1])
    check(ops.metric(learned, "dnsvigil_resolvers_learned") == 1,
          f"U: metrics: dnsvigil_resolvers_learned 1 (RESOLVER_*/FORWARDER_* taught that {UNBOUND} resolves)")
    summary, counters, events, alerts = finish(dvu, "unbound")
    check(summary["connections"] == len(runs) and summary["dropped"] == 0 and summary["errors"] == 0 and
          summary["frames"] == counters.get("dnstap_frames"), f"U: summary: {len(runs)} connections "
          f"({', '.join(r[0] for r in runs)}), {summary['frames']} frames all processed, 0 dropped, 0 errors")
    for ident, sent in sent_u.items():
        mine = [e for e in events if e.get("observer", {}).get("name") == ident]
        verify([e for e in mine if e["dnsvigil"]["dnstap_type"].startswith("CLIENT_")], sent, UNBOUND,
               {"name": ident, "version": "dt-unbound-ops"}, (("CLIENT_QUERY",), ("CLIENT_RESPONSE",)))
        up: dict[str, set] = {}  # upstream exchanges between unbound and OUTSIDE:53, by dnstap type
        for e in mine:
            src, dst = e["source"], e["destination"]
            if {src["ip"], dst["ip"]} == {UNBOUND, OUTSIDE} and (dst if src["ip"] == UNBOUND else src)["port"] == 53:
                up.setdefault(e["dnsvigil"]["dnstap_type"], set()).add(e["dns"]["question"]["name"])
        check(up.get("RESOLVER_QUERY", set()) >= {f"www.{ZONE}", f"mail.{ZONE}"} and
              up.get("RESOLVER_RESPONSE", set()) >= {f"www.{ZONE}", f"mail.{ZONE}"} and
              up.get("FORWARDER_QUERY") == up.get("FORWARDER_RESPONSE") == {f"www.{FWD}"},
              f"U: {ident}: CLIENT_* events with the clients' addresses and ports; RESOLVER_* (stub zone) and "
              f"FORWARDER_* (forward zone) events {UNBOUND} <-> {OUTSIDE}:53 in the dump")
    enum = [a for a in alerts if a["rule"]["name"] == "enumeration"]
    check(len(enum) >= 1 and all(a["source"]["ip"] == CLIENT3 for a in alerts),
          f"U: the brute force through unbound raised enumeration for {CLIENT3}, and no alert names anyone else: "
          f"unbound's RESOLVER_*/FORWARDER_* copies to {OUTSIDE} (outside) raised no enumeration and no "
          f"rogue_resolver ({sorted({(a['rule']['name'], a['source']['ip']) for a in alerts})})")
    m = re.search(r"resolvers learned:(.*);", dvu.text())
    check(m is not None and re.search(rf"\b{re.escape(UNBOUND)} \((\d+) clients\)", m.group(1)) is not None and
          OUTSIDE not in m.group(1), f"U: summary: resolvers learned:{m.group(1) if m else ' (no line)'}")
    log(f"timing: part U {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    ops.main(body)
