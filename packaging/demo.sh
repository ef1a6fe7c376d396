#!/usr/bin/env bash
# The README's run command. On a fresh Debian 12 machine: installs what is needed, builds the
# release preset, and replays the bundled demo capture (pcaps/demo.pcap, made by the lab in
# pcaps/lab/) with the default configuration. Alerts are printed one per line; the same alerts
# as ECS JSON go to build/demo-alerts.json. The end-of-run summary follows on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target dnsvigil
rm -f build/demo-alerts.json
echo "== dnsvigil -r pcaps/demo.pcap (default configuration)"
build/release/sensor/app/dnsvigil -r pcaps/demo.pcap --alerts-text - --alerts-json build/demo-alerts.json
echo "== ECS JSON of the same alerts: build/demo-alerts.json ($(wc -l < build/demo-alerts.json) lines)"
