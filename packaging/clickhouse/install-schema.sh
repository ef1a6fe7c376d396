#!/bin/sh
# install-schema.sh: creates dnsvigil's database and tables on a ClickHouse server.
#
#   install-schema.sh [--database DB] [--cluster NAME] [-- CLIENT-OPTIONS]
#
#   --database DB    the database (default dnsvigil); outputs.clickhouse.database names it
#   --cluster NAME   this node belongs to cluster NAME (remote_servers in the server configuration,
#                    see cluster.xml): the tables of schema.sql are created as dns_events_local and
#                    dns_alerts_local, and distributed.sql adds the Distributed tables dns_events
#                    and dns_alerts over NAME. Run it on every node.
#   -- ...           passed to clickhouse-client (--host, --port, --user, --password, --secure)
#
# Tables that exist are left as they are (CREATE TABLE IF NOT EXISTS).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
database=dnsvigil
cluster=
while [ $# -gt 0 ]; do
  case $1 in
    --database) database=${2:?--database needs a name}; shift 2 ;;
    --cluster) cluster=${2:?--cluster needs a name}; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install-schema.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for name in "$database" "$cluster"; do
  case $name in
    *[!A-Za-z0-9_]*) echo "install-schema.sh: '$name' is not a plain name (letters, digits, _)" >&2; exit 2 ;;
  esac
done

clickhouse-client "$@" --query "CREATE DATABASE IF NOT EXISTS $database"
if [ -z "$cluster" ]; then
  clickhouse-client "$@" --database "$database" --multiquery < "$here/schema.sql"
  echo "install-schema.sh: tables $database.dns_events and $database.dns_alerts"
else
  sed -E 's/^CREATE TABLE IF NOT EXISTS (dns_events|dns_alerts)$/CREATE TABLE IF NOT EXISTS \1_local/' "$here/schema.sql" |
    clickhouse-client "$@" --database "$database" --multiquery
  sed -E "s/Distributed\\(dnsvigil,/Distributed($cluster,/" "$here/distributed.sql" |
    clickhouse-client "$@" --database "$database" --multiquery
  echo "install-schema.sh: local tables $database.dns_events_local and $database.dns_alerts_local," \
    "Distributed tables $database.dns_events and $database.dns_alerts over cluster $cluster"
fi
