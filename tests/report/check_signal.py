#!/usr/bin/env python3
"""A live sensor writes its HTML report on SIGUSR1, every outputs.report.interval, and at the end.

The sensor listens for dnstap on a unix socket in a temporary folder (live mode without a capture
interface or privileges). The test sends SIGUSR1 and waits for a page written "while running"
(and the stats line SIGUSR1 has always logged), deletes it and waits for the interval to write it
again, then stops the sensor with SIGTERM and checks the last page says "end of the run".

usage: check_signal.py DNSVIGIL
"""
import os
import signal
import subprocess
import sys
import tempfile
import time


def wait_for(path: str, seconds: float, text: str | None = None) -> str | None:
    end = time.time() + seconds
    while time.time() < end:
        if os.path.exists(path):
            page = open(path, encoding="utf-8").read()
            if page.endswith("</html>\n") and (text is None or text in page):
                return page
        time.sleep(0.05)
    return None


def main() -> int:
    dnsvigil = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "live.html")
        cfg = os.path.join(tmp, "live.yaml")
        sock = os.path.join(tmp, "tap.sock")
        with open(cfg, "w") as f:
            f.write(f"input:\n  dnstap: [\"unix:{sock}\"]\n"
                    f"outputs:\n  alerts_json: {os.path.join(tmp, 'alerts.json')}\n"
                    f"  report:\n    path: {report}\n    interval: 2s\n"
                    "run:\n  user: \"\"\n")
        log = open(os.path.join(tmp, "log"), "w+")
        p = subprocess.Popen([dnsvigil, "-c", cfg], stdout=log, stderr=subprocess.STDOUT)
        try:
            end = time.time() + 10
            while not os.path.exists(sock) and time.time() < end and p.poll() is None:
                time.sleep(0.05)
            if not os.path.exists(sock):
                failures.append("the sensor did not start")
            else:
                if os.path.exists(report):
                    os.unlink(report)  # created empty at start-up (the path is checked then)
                p.send_signal(signal.SIGUSR1)
                page = wait_for(report, 1.5, "while running")
                if page is None:
                    failures.append("no report 1.5 s after SIGUSR1")
                elif "Live sensor" not in page or "dnstap unix:" not in page:
                    failures.append("the SIGUSR1 report does not describe the live sensor")
                if os.path.exists(report):
                    os.unlink(report)
                if wait_for(report, 4, "while running") is None:
                    failures.append("no report within 4 s with outputs.report.interval 2s")
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=30)
            if rc != 0:
                failures.append(f"exit status {rc}")
            page = wait_for(report, 1, "end of the run")
            if page is None:
                failures.append("no report at the end of the run")
        finally:
            if p.poll() is None:
                p.kill()
        log.seek(0)
        text = log.read()
        if "stats:" not in text:
            failures.append("SIGUSR1 logged no stats line")
        if "error" in text.lower().replace("errors", ""):
            failures.append("errors in the log")
        for f in failures:
            print("FAIL:", f)
        if failures:
            print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
