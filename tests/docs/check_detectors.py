#!/usr/bin/env python3
"""docs/detectors.md must follow the configuration schema: every rule the schema knows
(a `detectors.<rule>.enabled` key) has a `## <rule>` section, and every `detectors.<...>` key
the page mentions exists in the schema (a full key, or the prefix of one such as
`detectors.tunneling.allowlist`). Rule-specific keys the page does not mention are listed as
warnings only.

usage: check_detectors.py DNSVIGIL REPO_ROOT
"""
import re
import subprocess
import sys

ROW = re.compile(r"^\| `([^`]+)` \|", re.M)
MENTION = re.compile(r"\bdetectors(?:\.[a-z0-9_]+)+")
HEADING = re.compile(r"^## ([a-z0-9_]+)\s*$", re.M)
COMMON = {"enabled", "max_keys", "allowlist.clients", "allowlist.servers", "allowlist.domains"}


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, root = sys.argv[1], sys.argv[2]
    ref = subprocess.run([binary, "--config-reference"], capture_output=True, text=True, check=True).stdout
    keys = set(ROW.findall(ref))
    if not keys:
        print("FAIL: dnsvigil --config-reference printed no keys")
        return 1
    prefixes = set()
    for k in keys:
        parts = k.split(".")
        for i in range(1, len(parts)):
            prefixes.add(".".join(parts[:i]))
    rules = sorted(k.split(".")[1] for k in keys if re.fullmatch(r"detectors\.[a-z0-9_]+\.enabled", k))

    doc_path = f"{root}/docs/detectors.md"
    try:
        doc = open(doc_path, encoding="utf-8").read()
    except FileNotFoundError:
        print(f"FAIL: {doc_path} is missing")
        return 1
    failures = []
    sections = set(HEADING.findall(doc))
    for rule in rules:
        if rule not in sections:
            failures.append(f"rule '{rule}' (detectors.{rule}) has no '## {rule}' section")

    for lineno, line in enumerate(doc.splitlines(), 1):
        for m in MENTION.finditer(line):
            key = m.group(0).rstrip(".")
            if key not in keys and key not in prefixes:
                failures.append(f"docs/detectors.md:{lineno}: '{key}' is not a key of the schema")

    mentioned = {m.group(0).rstrip(".") for m in MENTION.finditer(doc)}
    for rule in rules:
        for k in sorted(keys):
            if k.startswith(f"detectors.{rule}.") and k[len(f"detectors.{rule}."):] not in COMMON and k not in mentioned:
                print(f"warning: {k} is not mentioned in docs/detectors.md")

    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print(f"PASS: {len(rules)} rules documented, every detectors.* key mentioned exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
