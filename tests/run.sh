#!/usr/bin/env bash
# The README's test command. On a fresh Debian 12 machine: installs what is needed, then builds
# and runs every test twice: an optimised build, and an ASan+UBSan build (cmake presets + ctest).
#
#   tests/run.sh                 both builds
#   tests/run.sh release         one preset (release, debug, asan-ubsan)
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/setup.sh
presets=("$@")
if ((${#presets[@]} == 0)); then presets=(release asan-ubsan); fi
for preset in "${presets[@]}"; do
  echo "== ${preset}: configure, build, test"
  cmake --preset "${preset}" >/dev/null
  cmake --build --preset "${preset}"
  ctest --preset "${preset}"
done
echo "== all tests passed (${presets[*]})"
