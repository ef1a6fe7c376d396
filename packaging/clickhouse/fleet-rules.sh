#!/bin/sh
# fleet-rules.sh: runs dnsvigil's fleet rules (the SQL files in fleet/ next to this script) on
# ClickHouse and prints every finding as one JSON line (its "rule" field names the rule).
#
#   fleet-rules.sh [--database DB] [--now 'YYYY-MM-DD HH:MM:SS'] [--list] [RULE ...] [-- CLIENT-OPTIONS]
#
#   RULE            subdomain_enumeration, tunneling, zone_nxdomain, rogue_resolvers (default: all)
#   --database DB   the database of dns_events (default dnsvigil); in a cluster, the one holding
#                   the Distributed tables
#   --now TIME      evaluate as if it were TIME (server time zone): the rules read the hour, or the
#                   24 hours, before the start of its hour. Default: now.
#   --list          print the rule names and exit
#   -- ...          passed to clickhouse-client (--host, --port, --user, --password, --secure)
#
# Exit status: 0 when every rule ran (findings or not), 1 when one failed, 2 on a usage error.
# Hourly from cron, a few minutes after the hour (late rows of the hour have arrived by then):
#   7 * * * *  dnsvigil  /usr/share/dnsvigil/clickhouse/fleet-rules.sh | logger -t dnsvigil-fleet
set -u

here=$(cd "$(dirname "$0")" && pwd)
rules_dir=$here/fleet
database=dnsvigil
now=
list=0
rules=
while [ $# -gt 0 ]; do
  case $1 in
    --database) database=${2:?--database needs a name}; shift 2 ;;
    --now) now=${2:?--now needs a time}; shift 2 ;;
    --list) list=1; shift ;;
    --) shift; break ;;
    -h | --help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "fleet-rules.sh: unknown option $1" >&2; exit 2 ;;
    *) rules="$rules $1"; shift ;;
  esac
done
if [ -z "$rules" ]; then
  for f in "$rules_dir"/*.sql; do rules="$rules $(basename "$f" .sql)"; done
fi
if [ "$list" = 1 ]; then
  for r in $rules; do echo "$r"; done
  exit 0
fi
case $now in
  '' | [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' '[0-9][0-9]:[0-9][0-9]:[0-9][0-9]) ;;
  *) echo "fleet-rules.sh: --now wants 'YYYY-MM-DD HH:MM:SS', got '$now'" >&2; exit 2 ;;
esac

rc=0
for r in $rules; do
  f=$rules_dir/$r.sql
  if [ ! -r "$f" ]; then
    echo "fleet-rules.sh: no rule $r ($f)" >&2
    rc=1
    continue
  fi
  # ClickHouse 18.16 has no query parameters: a fixed evaluation time replaces now() in the text.
  if [ -n "$now" ]; then
    sql=$(sed "s/now()/toDateTime('$now')/g" "$f")
  else
    sql=$(cat "$f")
  fi
  if ! clickhouse-client --database "$database" --format JSONEachRow "$@" --query "$sql"; then
    echo "fleet-rules.sh: rule $r failed" >&2
    rc=1
  fi
done
exit $rc
