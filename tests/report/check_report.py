#!/usr/bin/env python3
"""Renders dnsvigil's HTML report of a capture in headless Chromium and checks it against the run.

For each worker count given (-j), dnsvigil replays the capture with --report, --alerts-json and
--dump-json. Chromium then loads the page from the file system (`--dump-dom`, console messages on
stderr with `--enable-logging=stderr --v=0`) and takes a screenshot. The test fails when:
  - the browser logs any console message (a script error, or a Content-Security-Policy
    violation: anything the page tried to load from anywhere, or a script that is not its own);
  - the page's script did not run (it marks <html data-ready="1">);
  - the alert counts per rule in the DOM differ from the `alerts:` line of dnsvigil's summary, or
    from the alerts in --alerts-json, or the total differs;
  - the top client in the DOM is not the client with the most queries in --dump-json, or the
    query count differs;
  - the packets and DNS messages in the DOM differ from the summary;
  - the screenshot is not a PNG.
Exits 77 (CTest SKIP_RETURN_CODE) when Chromium is not installed.

usage: check_report.py DNSVIGIL CAPTURE OUTDIR [-j N ...] [--screenshot PATH] [--size W,H] [--scale F]
(docs/report.png: --screenshot docs/report.png --size 1280,2100 --scale 0.7)
"""
import argparse
import collections
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Dom(html.parser.HTMLParser):
    """The parts of the report the test reads: elements by id, rule rows, the top-client table."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, dict] = {}
        self.rule_counts: dict[str, int] = {}
        self.html_attrs: dict = {}
        self.top_clients: list[list[tuple[str, str | None]]] = []  # cells: (text, data-v)
        self._stack: list[tuple[str, dict]] = []
        self._rule: str | None = None
        self._in_top = False
        self._in_tbody = False
        self._row: list[tuple[str, str | None]] | None = None
        self._cell: list[str] | None = None
        self._cell_v: str | None = None
        self._id_text: dict[str, list[str]] = {}
        self._open_ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_attrs = a
        if "id" in a:
            self.ids[a["id"]] = a
            self._id_text[a["id"]] = []
            self._open_ids.append(a["id"])
        if tag == "tr" and "data-rule" in a:
            self._rule = a["data-rule"]
        if tag == "td" and self._rule is not None and "count" in a.get("class", "").split():
            self.rule_counts[self._rule] = int(a["data-v"])
        if tag == "table" and a.get("id") == "top-clients":
            self._in_top = True
        if self._in_top and tag == "tbody":
            self._in_tbody = True
        if self._in_top and self._in_tbody and tag == "tr":
            self._row = []
        if self._row is not None and tag == "td":
            self._cell = []
            self._cell_v = a.get("data-v")
        self._stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "tr":
            self._rule = None
            if self._row is not None:
                self.top_clients.append(self._row)
                self._row = None
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append(("".join(self._cell).strip(), self._cell_v))
            self._cell = None
        if tag == "table" and self._in_top:
            self._in_top = self._in_tbody = False
        while self._stack:
            t, a = self._stack.pop()
            if "id" in a and self._open_ids and self._open_ids[-1] == a["id"]:
                self._open_ids.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for i in self._open_ids:
            self._id_text[i].append(data)

    def text(self, element_id: str) -> str:
        return "".join(self._id_text.get(element_id, [])).strip()


def summary_alerts(stderr: str) -> dict[str, int]:
    m = re.search(r"^  alerts:(.*?);", stderr, re.M)
    if not m:
        raise AssertionError(f"no alerts line in the summary:\n{stderr}")
    if m.group(1).strip() == "none":
        return {}
    return {k: int(v) for k, v in (w.split("=") for w in m.group(1).split())}


def summary_figure(stderr: str, pattern: str) -> int:
    m = re.search(pattern, stderr)
    if not m:
        raise AssertionError(f"{pattern} not in the summary:\n{stderr}")
    return int(m.group(1))


def browser(chrome: str, url: str, *extra: str) -> subprocess.CompletedProcess:
    argv = [chrome, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--enable-logging=stderr", "--v=0", *extra, url]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def check_one(dnsvigil: str, capture: str, out: str, workers: int, chrome: str, size: str, scale: str) -> list[str]:
    failures: list[str] = []
    os.makedirs(out, exist_ok=True)
    report = os.path.join(out, f"report-j{workers}.html")
    alerts = os.path.join(out, f"alerts-j{workers}.json")
    events = os.path.join(out, f"events-j{workers}.json")
    for f in (report, alerts, events):
        if os.path.exists(f):
            os.unlink(f)
    run = subprocess.run([dnsvigil, "-r", capture, "-j", str(workers), "--report", report, "--alerts-json", alerts,
                          "--dump-json", events], capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        return [f"-j {workers}: dnsvigil exited {run.returncode}: {run.stderr[-800:]}"]
    summary = summary_alerts(run.stderr)
    packets = summary_figure(run.stderr, r"summary: (\d+) packets")
    messages = summary_figure(run.stderr, r"dns: (\d+) messages")

    from_json = collections.Counter(json.loads(l)["rule"]["name"] for l in open(alerts, encoding="utf-8") if l.strip())
    queries = collections.Counter()
    for line in open(events, encoding="utf-8"):
        e = json.loads(line)
        if e.get("dns", {}).get("type") == "query":
            queries[e["source"]["ip"]] += 1

    shown = browser(chrome, "file://" + os.path.abspath(report), "--dump-dom")
    console = [l for l in shown.stderr.splitlines() if ":CONSOLE" in l]
    if shown.returncode != 0:
        failures.append(f"-j {workers}: chromium exited {shown.returncode}: {shown.stderr[-800:]}")
    if console:
        failures.append(f"-j {workers}: console messages while loading the page:\n  " + "\n  ".join(console))
    dom = Dom()
    dom.feed(shown.stdout)
    if dom.html_attrs.get("data-ready") != "1":
        failures.append(f"-j {workers}: the page's script did not run (no data-ready on <html>)")

    rules = {r: n for r, n in dom.rule_counts.items() if n}
    if rules != summary:
        failures.append(f"-j {workers}: alerts per rule: DOM {rules}, summary {summary}")
    if rules != dict(from_json):
        failures.append(f"-j {workers}: alerts per rule: DOM {rules}, --alerts-json {dict(from_json)}")
    total = int(dom.ids.get("alert-count", {}).get("data-v", -1))
    if total != sum(summary.values()):
        failures.append(f"-j {workers}: alert total: DOM {total}, summary {sum(summary.values())}")
    if not dom.top_clients:
        failures.append(f"-j {workers}: no top-clients table in the DOM")
    else:
        top_ip, top_n = queries.most_common(1)[0] if queries else ("", 0)
        first = dom.top_clients[0]
        dom_ip, dom_n = first[0][0], int(first[1][1] or -1)
        if dom_ip != top_ip or dom_n != top_n:
            failures.append(f"-j {workers}: top client: DOM {dom_ip} ({dom_n} queries), --dump-json {top_ip} ({top_n})")
    for element, want in (("packets", packets), ("dns-messages", messages)):
        got = int(dom.ids.get(element, {}).get("data-v", -1))
        if got != want:
            failures.append(f"-j {workers}: {element}: DOM {got}, summary {want}")

    png = os.path.join(out, f"report-j{workers}.png")
    shot = browser(chrome, "file://" + os.path.abspath(report), f"--screenshot={png}", f"--window-size={size}",
                   f"--force-device-scale-factor={scale}", "--hide-scrollbars")
    console = [l for l in shot.stderr.splitlines() if ":CONSOLE" in l]
    if console:
        failures.append(f"-j {workers}: console messages in the screenshot run:\n  " + "\n  ".join(console))
    if not os.path.exists(png) or open(png, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
        failures.append(f"-j {workers}: no PNG screenshot: {shot.stderr[-400:]}")
    print(f"-j {workers}: {sum(summary.values())} alerts {summary}; top client {queries.most_common(1)}; "
          f"{len(shown.stdout)} characters of DOM; screenshot {png}")
    return failures


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dnsvigil")
    ap.add_argument("capture")
    ap.add_argument("outdir")
    ap.add_argument("-j", type=int, action="append", dest="workers", help="worker counts to run (default: 1)")
    ap.add_argument("--screenshot", help="copy the first run's screenshot here (docs/report.png)")
    ap.add_argument("--size", default="1280,1700", help="browser window for the screenshot (W,H)")
    ap.add_argument("--scale", default="1", help="device scale factor of the screenshot (0.7: more page, smaller file)")
    args = ap.parse_args()
    chrome = chromium()
    if chrome is None:
        print("SKIP: chromium is not installed (Debian package chromium)")
        return 77
    failures: list[str] = []
    for j in args.workers or [1]:
        failures += check_one(args.dnsvigil, args.capture, args.outdir, j, chrome, args.size, args.scale)
    if args.screenshot and not failures:
        shutil.copyfile(os.path.join(args.outdir, f"report-j{(args.workers or [1])[0]}.png"), args.screenshot)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
