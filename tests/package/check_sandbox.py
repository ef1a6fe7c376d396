#!/usr/bin/env python3
"""Checks an strace log of dnsvigil against the sandbox of its systemd unit.

    check_sandbox.py STRACE_LOG UNIT_FILE

The log is `strace -f -q -o LOG ... dnsvigil ...` (a launcher before dnsvigil's execve is
ignored: under systemd that part is systemd's own work). Reports, and fails on:
  - a system call not allowed by the unit's SystemCallFilter= lines (groups expanded with
    `systemd-analyze syscall-filter`; '~' lines are deny lists);
  - a socket() of an address family outside RestrictAddressFamilies=;
  - a writable and executable mapping while MemoryDenyWriteExecute=yes.
"""
import re
import subprocess
import sys


def unit_settings(path):
    settings = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def syscall_groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], check=True,
                         capture_output=True, text=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), set())
        elif line.startswith("#") or not line.strip():
            if line.startswith("#"):
                current = None
        elif current is not None and not line.strip().startswith("#"):
            current.add(line.strip())
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    result = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            if n not in groups:
                raise SystemExit(f"unknown system call group {n}")
            result |= expand(groups[n], groups, seen)
        else:
            result.add(n)
    return result


def allowed_syscalls(settings, groups):
    allow, deny, have_allow = set(), set(), False
    for value in settings.get("SystemCallFilter", []):
        words = value.split()
        if value.startswith("~"):
            words[0] = words[0][1:]
            deny |= expand(words, groups)
        else:
            have_allow = True
            allow |= expand(words, groups)
    if not have_allow:
        allow = expand(["@known"], groups)
    return allow - deny


def main():
    log, unit = sys.argv[1], sys.argv[2]
    settings = unit_settings(unit)
    allowed = allowed_syscalls(settings, syscall_groups())
    families = set(" ".join(settings.get("RestrictAddressFamilies", [])).split())
    mdwe = settings.get("MemoryDenyWriteExecute", ["no"])[-1] in ("yes", "true", "1")

    started = False
    used, bad_families, wx = {}, set(), []
    call = re.compile(r"^\d+\s+([a-z_0-9]+)\(")
    resumed = re.compile(r"^\d+\s+<\.\.\. ([a-z_0-9]+) resumed>")
    for line in open(log, encoding="utf-8", errors="replace"):
        if not started:
            # dnsvigil's own execve (successful): from here on the calls are its own.
            if re.match(r'^\d+\s+execve\("[^"]*/dnsvigil"', line) and re.search(r"= 0$", line.rstrip()):
                started = True
            continue
        m = call.match(line) or resumed.match(line)
        if not m:
            continue
        name = m.group(1)
        used[name] = used.get(name, 0) + 1
        if name == "socket":
            fam = re.search(r"socket\((AF_[A-Z0-9]+)", line)
            if fam and families and fam.group(1) not in families:
                bad_families.add(fam.group(1))
        if name in ("mmap", "mprotect", "pkey_mprotect") and "PROT_WRITE" in line and "PROT_EXEC" in line:
            wx.append(line.strip())

    if not started:
        raise SystemExit(f"{log}: no successful execve of dnsvigil found")
    problems = []
    outside = sorted(n for n in used if n not in allowed and n != "execve")
    if outside:
        problems.append("system calls outside SystemCallFilter=: " + ", ".join(outside))
    if bad_families:
        problems.append("socket families outside RestrictAddressFamilies=: " + ", ".join(sorted(bad_families)))
    if mdwe and wx:
        problems.append("writable+executable mappings under MemoryDenyWriteExecute=yes: " + "; ".join(wx[:3]))
    print(f"{len(used)} distinct system calls, {sum(used.values())} calls: " + " ".join(sorted(used)))
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
