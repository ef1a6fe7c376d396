#!/usr/bin/env python3
"""The configuration schema is the single source of truth: docs/configuration.md's reference
table and packaging/dnsvigil.yaml must be exactly what the binary generates from it.

usage: check_generated.py DNSVIGIL REPO_ROOT [--fix]
"""
import subprocess
import sys

BEGIN, END = "<!-- BEGIN GENERATED: dnsvigil --config-reference -->\n", "<!-- END GENERATED -->\n"


def main():
    binary, root = sys.argv[1], sys.argv[2]
    fix = "--fix" in sys.argv
    ok = True
    ref = subprocess.run([binary, "--config-reference"], capture_output=True, text=True, check=True).stdout
    doc_path = f"{root}/docs/configuration.md"
    doc = open(doc_path).read()
    if BEGIN not in doc or END not in doc:
        print(f"FAIL: {doc_path} lacks the generated-section markers")
        return 1
    head, rest = doc.split(BEGIN, 1)
    table, tail = rest.split(END, 1)
    if table != ref:
        ok = False
        print("FAIL: docs/configuration.md disagrees with the schema (run with --fix, or: dnsvigil --config-reference)")
        if fix:
            open(doc_path, "w").write(head + BEGIN + ref + END + tail)
    yaml_path = f"{root}/packaging/dnsvigil.yaml"
    default = subprocess.run([binary, "--default-config"], capture_output=True, text=True, check=True).stdout
    try:
        shipped = open(yaml_path).read()
    except FileNotFoundError:
        shipped = None
    if shipped != default:
        ok = False
        print("FAIL: packaging/dnsvigil.yaml disagrees with the schema (dnsvigil --default-config)")
        if fix:
            open(yaml_path, "w").write(default)
    # The shipped file must load and validate.
    r = subprocess.run([binary, "--check-config", "-c", yaml_path], capture_output=True, text=True)
    if r.returncode != 0:
        ok = False
        print("FAIL: packaging/dnsvigil.yaml does not pass --check-config: " + r.stderr)
    print("PASS" if ok else "")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
