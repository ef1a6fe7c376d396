#!/usr/bin/env python3
"""Runs pcap regression cases (tests/pcap/cases/<name>/test.yaml), in the spirit of suricata-verify.

Each case replays one or more captures through `dnsvigil -r ... --dump-json - -q` (and once more
without -q for the end-of-run summary when it checks counters) and checks the JSON lines and
the summary counters. See tests/pcap/README.md for the format.

Exit status: 0 all selected cases passed (or failed as expected: xfail), 1 a case failed or an
xfail case passed, 2 usage error, 77 (CTest skip) every selected case was skipped (its captures
are absent, e.g. ../shared/pcaps-conformance).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pcaplib  # noqa: E402
from pcaplib import MISSING  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem, reported clearly
    yaml = None

CASES_DIR = Path(__file__).resolve().parent / "cases"


class CaseError(Exception):
    """A malformed test.yaml."""


# ----------------------------------------------------------------------------- value matching
_OPS = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
}
_EXPR = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(-?\d+)\s*$")


def compare_number(actual: int, expected) -> bool:
    """`expected` is an int (equality) or a string 'OP N' with OP in == != >= <= > <."""
    if isinstance(expected, bool):
        raise CaseError(f"expected a number or 'OP N', got {expected!r}")
    if isinstance(expected, int):
        return actual == expected
    m = _EXPR.match(str(expected))
    if not m:
        raise CaseError(f"bad numeric expectation {expected!r} (use N or 'OP N', OP one of == != >= <= > <)")
    return _OPS[m.group(1)](actual, int(m.group(2)))


def value_matches(actual, expected) -> bool:
    """Does a JSON value satisfy an expectation from test.yaml?

    scalar            equality; when the JSON value is a list, membership ("anomalies: trailing_bytes")
    list              the JSON list equals it exactly
    {absent: true}    the field is missing ({absent: false}: present)
    {contains: X}     list membership or substring
    {not: X}          the expectation X does not hold
    {len: N|'OP N'}   length of a list or string
    {cmp: 'OP N'}     numeric comparison
    {regex: RE}       re.search on the string form
    {any: [X, Y]}     one of the expectations holds
    """
    if isinstance(expected, dict):
        if len(expected) != 1:
            raise CaseError(f"an operator mapping has exactly one key: {expected!r}")
        (op, arg), = expected.items()
        if op == "absent":
            return (actual is MISSING) == bool(arg)
        if actual is MISSING and op != "not":
            return False
        if op == "contains":
            return arg in actual if isinstance(actual, (list, str)) else False
        if op == "not":
            return not value_matches(actual, arg)
        if op == "len":
            return isinstance(actual, (list, str)) and compare_number(len(actual), arg)
        if op == "cmp":
            return isinstance(actual, (int, float)) and not isinstance(actual, bool) and compare_number(actual, arg)
        if op == "regex":
            return re.search(str(arg), actual if isinstance(actual, str) else json.dumps(actual)) is not None
        if op == "any":
            return any(value_matches(actual, x) for x in arg)
        raise CaseError(f"unknown operator {op!r} (absent contains not len cmp regex any)")
    if actual is MISSING:
        return False
    if isinstance(expected, list):
        return actual == expected
    if isinstance(actual, list) and not isinstance(expected, list):
        return expected in actual
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected if isinstance(expected, bool) else False
    return actual == expected


def line_matches(ev: dict, fields: dict) -> bool:
    return all(value_matches(pcaplib.dotted_get(ev, path), exp) for path, exp in fields.items())


def short(ev: dict) -> str:
    dns = ev.get("dns", {})
    q = dns.get("question", {})
    return (f"{ev.get('@timestamp')} {ev.get('network', {}).get('transport')} id={dns.get('id')} "
            f"{dns.get('type')} {q.get('name')} {q.get('type')} rcode={dns.get('response_code', '-')} "
            f"an={dns.get('answers_count')}")


# ----------------------------------------------------------------------------- checks
def check_filter(chk: dict, events: list[dict]) -> list[str]:
    """A `filter:` check: select lines, check how many, and check fields of every selected line."""
    allowed = {"filter", "count", "min_count", "max_count", "match", "sum", "description"}
    unknown = set(chk) - allowed
    if unknown:
        raise CaseError(f"unknown keys in a filter check: {sorted(unknown)}")
    sel = chk.get("filter") or {}
    if not isinstance(sel, dict):
        raise CaseError("filter: must map dotted field paths to expectations")
    lines = [ev for ev in events if line_matches(ev, sel)]
    errs = []
    label = json.dumps(sel, sort_keys=True)
    if "count" in chk and not compare_number(len(lines), chk["count"]):
        errs.append(f"filter {label}: {len(lines)} line(s), expected {chk['count']}")
    if "min_count" in chk and len(lines) < int(chk["min_count"]):
        errs.append(f"filter {label}: {len(lines)} line(s), expected at least {chk['min_count']}")
    if "max_count" in chk and len(lines) > int(chk["max_count"]):
        errs.append(f"filter {label}: {len(lines)} line(s), expected at most {chk['max_count']}")
    if not any(k in chk for k in ("count", "min_count", "max_count")) and not lines:
        errs.append(f"filter {label}: no line matches")
    for path, exp in (chk.get("match") or {}).items():
        bad = [ev for ev in lines if not value_matches(pcaplib.dotted_get(ev, path), exp)]
        if bad:
            got = pcaplib.dotted_get(bad[0], path)
            errs.append(f"filter {label}: {len(bad)}/{len(lines)} line(s) fail {path}: {exp!r}; "
                        f"first: {short(bad[0])} has {path}={got!r}")
    for path, exp in (chk.get("sum") or {}).items():
        total = 0
        for ev in lines:
            v = pcaplib.dotted_get(ev, path)
            if isinstance(v, list):
                v = len(v)
            total += v if isinstance(v, int) and not isinstance(v, bool) else 0
        if not compare_number(total, exp):
            errs.append(f"filter {label}: sum of {path} over {len(lines)} line(s) is {total}, expected {exp}")
    return errs


def check_counters(chk: dict, counters: dict[str, int]) -> list[str]:
    errs = []
    for name, exp in (chk.get("counters") or {}).items():
        got = counters.get(name, 0)
        if not compare_number(got, exp):
            errs.append(f"counter {name} = {got}, expected {exp}")
    return errs


def check_lines(chk: dict, events: list[dict]) -> list[str]:
    if not compare_number(len(events), chk["lines"]):
        return [f"{len(events)} dump line(s), expected {chk['lines']}"]
    return []


# ----------------------------------------------------------------------------- case runner
class Case:
    def __init__(self, folder: Path):
        self.folder = folder
        self.name = folder.name
        f = folder / "test.yaml"
        if not f.is_file():
            raise CaseError(f"{f}: missing")
        try:
            self.spec = yaml.safe_load(f.read_text()) or {}
        except yaml.YAMLError as e:
            raise CaseError(f"{f}: {e}") from e
        allowed = {"description", "pcap", "pcaps", "requires", "args", "checks", "xfail", "unanswered",
                   "reference", "alerts_on_stdout"}
        unknown = set(self.spec) - allowed
        if unknown:
            raise CaseError(f"{f}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
        pcaps = self.spec.get("pcaps") or ([self.spec["pcap"]] if "pcap" in self.spec else [])
        if not pcaps:
            raise CaseError(f"{f}: no pcap")
        self.pcaps = [str(p) for p in pcaps]
        self.checks = self.spec.get("checks") or []
        if not self.checks:
            raise CaseError(f"{f}: no checks")
        req = self.spec.get("requires") or []
        self.requires = [req] if isinstance(req, str) else list(req)

    def run(self, dnsvigil: str, root: Path, shared: Path) -> tuple[str, list[str]]:
        """('pass'|'fail'|'skip'|'xfail'|'xpass', messages)."""
        paths = []
        for p in self.pcaps:
            if p.startswith("../shared/"):
                path = shared / p[len("../shared/"):]
            else:
                path = root / p
            if not path.is_file():
                if "shared" in self.requires or p.startswith("../shared/"):
                    return "skip", [f"{p} absent"]
                return "fail", [f"{p}: capture not found"]
            paths.append(path)
        args = [str(a) for a in (self.spec.get("args") or [])]
        isolate = not self.spec.get("alerts_on_stdout", False)
        run = pcaplib.run_dnsvigil(dnsvigil, paths, args, quiet=True, isolate_alerts=isolate)
        errs: list[str] = []
        if run.crashed:
            return self._verdict([f"dnsvigil failed: {run.describe_failure()}"])
        try:
            events = run.events(include_unanswered=bool(self.spec.get("unanswered", False)))
        except (ValueError, KeyError) as e:
            return self._verdict([f"--dump-json output is not JSON lines: {e}"])
        counters = None
        for chk in self.checks:
            if not isinstance(chk, dict):
                raise CaseError(f"{self.name}: each check is a mapping, got {chk!r}")
            if "filter" in chk:
                errs += check_filter(chk, events)
            elif "counters" in chk:
                if counters is None:
                    full = pcaplib.run_dnsvigil(dnsvigil, paths, args, quiet=False, isolate_alerts=isolate)
                    if full.crashed:
                        return self._verdict([f"dnsvigil failed: {full.describe_failure()}"])
                    counters = pcaplib.parse_summary(full.stderr)
                    if "packets" not in counters:
                        errs.append("no end-of-run summary on stderr")
                errs += check_counters(chk, counters)
            elif "lines" in chk:
                errs += check_lines(chk, events)
            else:
                raise CaseError(f"{self.name}: unknown check {sorted(chk)} (filter, counters, lines)")
        return self._verdict(errs)

    def _verdict(self, errs: list[str]) -> tuple[str, list[str]]:
        xfail = self.spec.get("xfail")
        if xfail:
            if errs:
                return "xfail", [f"expected failure: {xfail}"] + errs
            return "xpass", [f"marked xfail ({xfail}) but passes: remove the xfail marker"]
        return ("fail" if errs else "pass"), errs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dnsvigil", help="dnsvigil binary (default: $DNSVIGIL or build/*/sensor/app/dnsvigil)")
    ap.add_argument("--root", type=Path, default=pcaplib.default_root(), help="repository root")
    ap.add_argument("--shared", type=Path, help="shared folder (default: ROOT/../shared)")
    ap.add_argument("--list", action="store_true", help="list the case names and exit")
    ap.add_argument("--verbose", "-v", action="store_true", help="show the reasons of xfail/skip too")
    ap.add_argument("cases", nargs="*", help="case names or folders (default: every case)")
    args = ap.parse_args(argv)

    if yaml is None:
        print("error: python3-yaml is required (apt-get install python3-yaml)", file=sys.stderr)
        return 2
    folders = []
    for c in args.cases or sorted(p.name for p in CASES_DIR.iterdir() if (p / "test.yaml").is_file()):
        p = Path(c)
        folders.append(p if p.is_dir() else CASES_DIR / c)
    if args.list:
        for f in folders:
            print(f.name)
        return 0
    dnsvigil = args.dnsvigil or pcaplib.default_dnsvigil(args.root)
    if not dnsvigil:
        print("error: no dnsvigil binary; pass --dnsvigil PATH", file=sys.stderr)
        return 2
    root = args.root.resolve()
    shared = (args.shared or pcaplib.default_shared(root)).resolve()

    tally = {"pass": 0, "fail": 0, "skip": 0, "xfail": 0, "xpass": 0}
    for folder in folders:
        try:
            case = Case(folder)
            verdict, msgs = case.run(dnsvigil, root, shared)
        except CaseError as e:
            verdict, msgs = "fail", [f"bad case: {e}"]
        tally[verdict] += 1
        print(f"{verdict.upper():<6} {folder.name}")
        if verdict in ("fail", "xpass") or args.verbose or verdict == "skip":
            for m in msgs:
                print("       " + m.replace("\n", "\n       "))
    print("; ".join(f"{k} {v}" for k, v in tally.items() if v))
    if tally["fail"] or tally["xpass"]:
        return 1
    if tally["skip"] and not (tally["pass"] or tally["xfail"]):
        return pcaplib.SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
