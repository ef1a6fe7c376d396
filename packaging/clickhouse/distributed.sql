-- A cluster of ClickHouse servers: on every node, the local tables of schema.sql named
-- dns_events_local and dns_alerts_local, and these Distributed tables over them. Queries (the
-- fleet rules, dashboards) read dns_events and dns_alerts on any node and see the whole cluster;
-- a sensor inserts either into the local tables of one node (events_table: dns_events_local, the
-- cheaper way: each sensor, or each site, pointed at its own node) or into the Distributed tables
-- (which forward every row to a shard picked at random).
--
-- The cluster is the one named dnsvigil in the remote_servers section of the server configuration
-- (cluster.xml); install-schema.sh --cluster NAME puts another name here. ClickHouse 18.16 runs
-- ON CLUSTER statements only with ZooKeeper, so run this on every node instead.
CREATE TABLE IF NOT EXISTS dns_events AS dns_events_local
ENGINE = Distributed(dnsvigil, currentDatabase(), dns_events_local, rand());

CREATE TABLE IF NOT EXISTS dns_alerts AS dns_alerts_local
ENGINE = Distributed(dnsvigil, currentDatabase(), dns_alerts_local, rand());
