#!/usr/bin/env python3
"""Runs every dnsvigil command line of the README (code blocks) and of the man page (EXAMPLES and
the rest of its .EX blocks), as a new user would type them, with the example file names replaced
by real files: the demo capture for the captures, a pcapng and a dnstap copy of it, temporary
paths for outputs and sockets, the packaged configuration for /etc/dnsvigil/dnsvigil.yaml, and a
veth pair in a private network namespace for eth1/eth2 (live commands run for 1.5 s and must stop
cleanly on SIGTERM; they are skipped, and said so, without root). A command fails when dnsvigil
exits non-zero, prints an error, or a replay of the demo gives no alert. A command with a name
the table below does not know fails too, so a new example in the docs gets a test.

usage: check_commands.py DNSVIGIL PCAP2DNSTAP REPO_ROOT
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

NETNS = f"dv-cmds-{os.getpid()}"


def readme_commands(text: str) -> list[str]:
    out, block = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            block = not block
            continue
        if block:
            cmd = line.split("  #")[0].strip()
            if re.match(r"^(\S+.*\|\s*)?dnsvigil\s", cmd):
                out.append(cmd)
    return out


def man_commands(text: str) -> list[str]:
    out, block = [], False
    for line in text.splitlines():
        if line.startswith(".EX"):
            block = True
        elif line.startswith(".EE"):
            block = False
        elif block:
            cmd = line.replace("\\-", "-").replace("\\(aq", "'").replace("\\~", " ").replace("\\e", "\\").strip()
            if re.match(r"^(\S+.*\|\s*)?dnsvigil\s", cmd):
                out.append(cmd)
    return out


def main() -> int:
    dnsvigil, pcap2dnstap, root = (os.path.abspath(a) for a in sys.argv[1:4])
    demo = os.path.join(root, "pcaps/demo.pcap")
    commands = [("README.md", c) for c in readme_commands(open(os.path.join(root, "README.md")).read())]
    commands += [("dnsvigil.8", c) for c in man_commands(open(os.path.join(root, "packaging/dnsvigil.8")).read())]
    if len(commands) < 10:
        print(f"FAIL: only {len(commands)} command lines found in README.md and dnsvigil.8")
        return 1
    failures, skipped, ran = [], [], 0
    is_root = os.geteuid() == 0
    with tempfile.TemporaryDirectory() as tmp:
        pcapng = os.path.join(tmp, "demo.pcapng")
        subprocess.run(["editcap", "-F", "pcapng", demo, pcapng], check=True)
        tap = os.path.join(tmp, "demo.dnstap")
        subprocess.run([pcap2dnstap, demo, tap], check=True, capture_output=True)
        # The example names, and what stands in for them.
        files = {
            "capture.pcap": demo, "a.pcap": demo, "big.pcap": demo, "b.pcapng": pcapng,
            "/etc/dnsvigil/dnsvigil.yaml": os.path.join(root, "packaging/dnsvigil.yaml"),
            "/var/cache/bind/dnstap.log": tap,
            "events.json": os.path.join(tmp, "events.json"), "alerts.json": os.path.join(tmp, "alerts.json"),
            "report.html": os.path.join(tmp, "report.html"),
            "/var/log/dnsvigil/alerts.json": os.path.join(tmp, "live-alerts.json"),
            "dnsvigil.yaml": os.path.join(tmp, "dnsvigil.yaml"),
            "unix:/run/dnsvigil/dnstap.sock": "unix:" + os.path.join(tmp, "dnstap.sock"),
        }
        netns_up = False
        try:
            for where, line in commands:
                pipe_from = None
                cmd = line
                if "|" in cmd:
                    # `producer | dnsvigil -r -`: what the producer writes is a capture; the demo stands in.
                    producer, cmd = (s.strip() for s in cmd.split("|", 1))
                    pipe_from = demo
                argv = shlex.split(cmd)
                redirect = None
                if ">" in argv:
                    i = argv.index(">")
                    redirect = files.get(argv[i + 1])
                    if redirect is None:
                        failures.append(f"{where}: {line}: no stand-in for {argv[i + 1]}")
                        continue
                    argv = argv[:i]
                live = "-i" in argv or "--dnstap" in argv
                unknown = []
                for i, a in enumerate(argv[1:], 1):
                    prev = argv[i - 1]
                    if prev in ("-r", "-c", "--dump-json", "--alerts-json", "--alerts-text", "--dnstap", "--report") and a != "-":
                        if a not in files:
                            unknown.append(a)
                        else:
                            argv[i] = files[a]
                if unknown:
                    failures.append(f"{where}: {line}: no stand-in for {', '.join(unknown)} (add one to check_commands.py)")
                    continue
                argv[0] = dnsvigil
                if "-i" in argv:
                    if not is_root:
                        skipped.append(f"{where}: {line} (live capture needs root)")
                        continue
                    if not netns_up:
                        subprocess.run(["ip", "netns", "add", NETNS], check=True)
                        for c in (["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth2"],
                                  ["ip", "link", "set", "eth1", "up"], ["ip", "link", "set", "eth2", "up"]):
                            subprocess.run(["ip", "netns", "exec", NETNS] + c, check=True)
                        netns_up = True
                    argv = ["ip", "netns", "exec", NETNS] + argv
                stdin = open(pipe_from, "rb") if pipe_from else subprocess.DEVNULL
                out = open(redirect, "wb") if redirect else subprocess.PIPE
                p = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=subprocess.PIPE, cwd=tmp)
                if live:
                    time.sleep(1.5)
                    p.send_signal(signal.SIGTERM)
                try:
                    stdout, stderr = p.communicate(timeout=120)
                except subprocess.TimeoutExpired:
                    p.kill()
                    stdout, stderr = p.communicate()
                    failures.append(f"{where}: {line}: did not finish")
                    continue
                ran += 1
                err = stderr.decode("utf-8", "replace")
                text = (stdout or b"").decode("utf-8", "replace")
                if p.returncode != 0 or "error" in err.lower().replace("errors", ""):
                    failures.append(f"{where}: {line}: exit {p.returncode}: {err.strip()[-400:]}")
                    continue
                # A replay of the demo must show its alerts (on stdout, or in the file named).
                replay = "-r" in argv and not any(a in argv for a in ("--check-config",))
                if replay:
                    shown = text
                    for opt in ("--alerts-json", "--alerts-text"):
                        if opt in argv and argv[argv.index(opt) + 1] != "-":
                            shown += open(argv[argv.index(opt) + 1], encoding="utf-8").read()
                    if "rogue_resolver" not in shown and "zone_transfer" not in shown and "alerts:" not in err:
                        failures.append(f"{where}: {line}: no alert shown")
                        continue
                    if "zone_transfer" not in shown and "zone_transfer=" not in err:
                        failures.append(f"{where}: {line}: the demo's zone transfer was not reported")
                        continue
                if "--report" in argv:
                    page = argv[argv.index("--report") + 1]
                    if not os.path.exists(page) or not open(page, encoding="utf-8").read().endswith("</html>\n"):
                        failures.append(f"{where}: {line}: no HTML report written")
                        continue
                print(f"ok    {where}: {line}")
        finally:
            if netns_up:
                subprocess.run(["ip", "netns", "del", NETNS], check=False)
    for s in skipped:
        print(f"skip  {s}")
    for f in failures:
        print(f"FAIL: {f}")
    print(f"{'FAIL' if failures else 'PASS'}: {ran} command lines run, {len(skipped)} skipped, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
