#!/bin/sh
# retention.sh: drops the day partitions of dnsvigil's tables that are older than their retention.
# ClickHouse 18.16 (Debian 12) has no table TTL (MergeTree TTL arrived in 19.6), and the tables are
# partitioned by day (toDate(timestamp)), so retention is dropping whole partitions, which costs
# nothing but a metadata change.
#
#   retention.sh [--database DB] [--events-days N] [--alerts-days N] [--events-table T]
#                [--alerts-table T] [--dry-run] [-- CLIENT-OPTIONS]
#
#   --events-days N  keep N days of events besides today (default 30)
#   --alerts-days N  keep N days of alerts besides today (default 365)
#   --events-table T, --alerts-table T   the tables (default dns_events, dns_alerts); in a cluster,
#                    run it on every node with dns_events_local and dns_alerts_local
#   --dry-run        print the partitions that would go, drop nothing
#   -- ...           passed to clickhouse-client (--host, --port, --user, --password, --secure)
#
# "Today" is the server's (its time zone). Daily from cron:
#   17 3 * * *  dnsvigil  /usr/share/dnsvigil/clickhouse/retention.sh
set -eu

database=dnsvigil
events_table=dns_events
alerts_table=dns_alerts
events_days=30
alerts_days=365
dry=0
while [ $# -gt 0 ]; do
  case $1 in
    --database) database=${2:?}; shift 2 ;;
    --events-table) events_table=${2:?}; shift 2 ;;
    --alerts-table) alerts_table=${2:?}; shift 2 ;;
    --events-days) events_days=${2:?}; shift 2 ;;
    --alerts-days) alerts_days=${2:?}; shift 2 ;;
    --dry-run) dry=1; shift ;;
    --) shift; break ;;
    -h | --help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "retention.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for n in "$events_days" "$alerts_days"; do
  case $n in '' | *[!0-9]*) echo "retention.sh: days must be a whole number, got '$n'" >&2; exit 2 ;; esac
done
for name in "$database" "$events_table" "$alerts_table"; do
  case $name in '' | *[!A-Za-z0-9_]*) echo "retention.sh: '$name' is not a plain name" >&2; exit 2 ;; esac
done

# drop_old TABLE DAYS [CLIENT-OPTIONS...]
drop_old() {
  table=$1 days=$2
  shift 2
  partitions=$(clickhouse-client "$@" --query "
    SELECT DISTINCT partition FROM system.parts
    WHERE database = '$database' AND table = '$table' AND active AND toDate(partition) < today() - $days
    ORDER BY partition" 2>&1) || { echo "retention.sh: $database.$table: $partitions" >&2; return 1; }
  for p in $partitions; do
    if [ "$dry" = 1 ]; then
      echo "retention.sh: would drop $database.$table partition $p"
    else
      clickhouse-client "$@" --query "ALTER TABLE $database.$table DROP PARTITION '$p'" || return 1
      echo "retention.sh: dropped $database.$table partition $p"
    fi
  done
}

rc=0
drop_old "$events_table" "$events_days" "$@" || rc=1
drop_old "$alerts_table" "$alerts_days" "$@" || rc=1
exit $rc
