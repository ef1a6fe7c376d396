#!/usr/bin/env bash
# systemd-analyze verify on the unit generated in the build tree, with ExecStart pointing at the
# freshly built binary (the configured prefix may not hold one yet) and the man page of the
# source tree on MANPATH (verify runs `man` for Documentation=man:dnsvigil(8)).
#   verify_unit.sh BUILD/packaging/dnsvigil.service BUILD/sensor/app/dnsvigil SRC/packaging/dnsvigil.8
set -euo pipefail
unit=$1 binary=$2 manpage=$3
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -E "s#^(ExecStart(Pre)?=)[^ ]*/dnsvigil #\1$binary #" "$unit" > "$tmp/dnsvigil.service"
grep -q "^ExecStart=$binary " "$tmp/dnsvigil.service"
mkdir -p "$tmp/man/man8"
cp "$manpage" "$tmp/man/man8/dnsvigil.8"
# verify fails on errors and prints warnings; both fail this test.
out=$(MANPATH="$tmp/man" systemd-analyze verify "$tmp/dnsvigil.service" 2>&1) || { echo "$out"; exit 1; }
if [[ -n "$out" ]]; then echo "$out"; exit 1; fi
echo "systemd-analyze verify: OK"
