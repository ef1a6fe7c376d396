-- The dnsvigil tables in ClickHouse (18.16, as Debian 12 ships it, and later): DNS events and alerts,
-- one row each, inserted by the outputs.clickhouse sink of the sensors (RowBinary over HTTP).
-- docs/clickhouse.md describes every column, the sort keys and the fleet rules.
--
-- One server:  clickhouse-client -q 'CREATE DATABASE IF NOT EXISTS dnsvigil'
--              clickhouse-client --database dnsvigil --multiquery < schema.sql
-- A cluster:   install-schema.sh --cluster NAME on every node (local tables dns_events_local and
--              dns_alerts_local from this file, and the Distributed tables of distributed.sql).
--
-- Partitions are days (toDate(timestamp), UTC), so retention drops whole partitions:
-- ClickHouse 18.16 has no table TTL (TTL arrived in 19.6), so retention.sh does it, from cron.
--
-- Sort keys: every fleet rule reads one hour (or a day of hours) of events and groups them by
-- registered domain, client or server. (toStartOfHour(timestamp), registered_domain, source_ip)
-- lets the primary index skip to the hours asked for, keeps the names of a domain together (they
-- compress well and group cheaply), and orders its clients within it.
-- Keep each column on one line: test_clickhouse_rows reads this file.

CREATE TABLE IF NOT EXISTS dns_events
(
    timestamp DateTime,  -- @timestamp: packet time (of the query, for unanswered queries), UTC seconds
    timestamp_ns UInt32,  -- its nanoseconds
    observer_name String,  -- the sensor (outputs.clickhouse.observer_name, default its host name)
    interface String,  -- observer.ingress.interface.name: the capture interface (empty when not named)
    server_identity String,  -- dnstap: identity of the logging server (--dump-json observer.name)
    server_version String,  -- dnstap: its version
    dnstap_type String,  -- dnstap message type (CLIENT_QUERY, ...); empty for captured messages
    unanswered UInt8,  -- 1: a query given up without a response (event.action dns-unanswered)
    duration_ns Int64,  -- event.duration: query to response, for matched responses (else 0)
    transport Enum8('udp' = 1, 'tcp' = 2),  -- network.transport
    protocol String,  -- network.protocol: dns, dot, doh, doq, dnscrypt (dnstap tells the encrypted ones)
    ip_version UInt8,  -- 4 or 6 (network.type)
    vlan Nullable(UInt16),  -- network.vlan.id, NULL without a tag
    source_ip FixedString(16),  -- source.ip: IPv6, or IPv4 mapped (::ffff:a.b.c.d); source_address is its text
    source_port UInt16,
    destination_ip FixedString(16),  -- destination.ip
    destination_port UInt16,
    dns_id UInt16,
    dns_type Enum8('query' = 1, 'answer' = 2),
    op_code String,  -- QUERY, NOTIFY, UPDATE, ... (empty for unanswered queries)
    flag_aa UInt8,  -- dns.header_flags, one column each
    flag_tc UInt8,
    flag_rd UInt8,
    flag_ra UInt8,
    flag_ad UInt8,
    flag_cd UInt8,
    flag_do UInt8,  -- the EDNS DO bit
    response_code String,  -- NOERROR, NXDOMAIN, ... (empty for queries)
    question_name String,  -- presentation form, lower case as the sensor sees it
    question_type String,  -- A, AAAA, TXT, ... or TYPE123
    question_class String,
    registered_domain String,  -- registered domain by the Public Suffix List (libpsl)
    subdomain String,
    top_level_domain String,
    answers Nested(name String, type String, class String, ttl UInt32, data String),  -- the answer section
    resolved_ip Array(FixedString(16)),  -- dns.resolved_ip: A and AAAA answers
    answers_count UInt16,
    authorities_count UInt16,
    additionals_count UInt16,
    size UInt32,  -- DNS message octets
    encrypted UInt8,  -- dnsvigil.*: DoT, DoH, DoQ, DNSCrypt (from dnstap)
    fragmented UInt8,  -- arrived in IP fragments
    off_port UInt8,  -- DNS on a port outside capture.dns_ports
    unsolicited UInt8,  -- a response without its query
    wrong_server UInt8,  -- answered by another address than the query went to
    duplicate_response UInt8,
    conflicting_answer UInt8,
    service_kind String,  -- kind of the name in the service catalogue (blocklist, cdn, ...), or empty
    service_domain String,
    anomalies Array(String),  -- docs/anomalies.md
    edns UInt8,  -- an OPT record is present
    edns_udp_size UInt16,
    edns_version UInt8,
    edns_client_subnet String,  -- ECS option, as address/prefix
    edns_cookie UInt8,
    edns_nsid UInt8,
    edns_padding Nullable(UInt16),  -- padding option length, NULL without one
    name_truncated UInt8,  -- unanswered queries: the name was cut to fit the transaction table
    given_up Nullable(DateTime),  -- unanswered queries: when the sensor gave up waiting
    client_ip FixedString(16) ALIAS if(dns_type = 'query', source_ip, destination_ip),  -- who asked: the source of a query, the destination of a response
    server_ip FixedString(16) ALIAS if(dns_type = 'query', destination_ip, source_ip),  -- who answers
    source_address String ALIAS if(substring(source_ip, 1, 12) = unhex('00000000000000000000FFFF'), IPv4NumToString(reinterpretAsUInt32(reverse(substring(source_ip, 13, 4)))), IPv6NumToString(source_ip)),
    destination_address String ALIAS if(substring(destination_ip, 1, 12) = unhex('00000000000000000000FFFF'), IPv4NumToString(reinterpretAsUInt32(reverse(substring(destination_ip, 13, 4)))), IPv6NumToString(destination_ip)),
    client_address String ALIAS if(substring(if(dns_type = 'query', source_ip, destination_ip), 1, 12) = unhex('00000000000000000000FFFF'), IPv4NumToString(reinterpretAsUInt32(reverse(substring(if(dns_type = 'query', source_ip, destination_ip), 13, 4)))), IPv6NumToString(if(dns_type = 'query', source_ip, destination_ip))),
    server_address String ALIAS if(substring(if(dns_type = 'query', destination_ip, source_ip), 1, 12) = unhex('00000000000000000000FFFF'), IPv4NumToString(reinterpretAsUInt32(reverse(substring(if(dns_type = 'query', destination_ip, source_ip), 13, 4)))), IPv6NumToString(if(dns_type = 'query', destination_ip, source_ip)))
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (toStartOfHour(timestamp), registered_domain, source_ip)
SETTINGS index_granularity = 8192;

-- Alerts are few: sorted by hour, rule and sensor. source_ip (the client) is Nullable, which an
-- 18.16 sort key cannot hold.
CREATE TABLE IF NOT EXISTS dns_alerts
(
    timestamp DateTime,  -- packet time of the trigger
    timestamp_ns UInt32,
    observer_name String,  -- the sensor
    observer_hostname String,  -- observer.hostname
    version String,  -- version of dnsvigil (rule.version)
    rule_name String,
    rule_id String,
    rule_description String,
    severity Enum8('low' = 1, 'medium' = 2, 'high' = 3, 'critical' = 4),
    severity_score UInt8,  -- event.severity: 21, 47, 73, 99
    message String,  -- event.reason
    tactic_id String,  -- threat.* (MITRE ATT&CK)
    tactic_name String,
    technique_id String,
    technique_name String,
    subtechnique_id String,
    subtechnique_name String,
    source_ip Nullable(FixedString(16)),  -- the client, when the alert has one
    source_port UInt16,
    destination_ip Nullable(FixedString(16)),  -- the server, when the alert has one
    destination_port UInt16,
    transport String,
    question_name String,
    registered_domain String,
    question_type String,
    first_seen Nullable(DateTime),
    last_seen Nullable(DateTime),
    summary UInt8,  -- a summary of alerts folded during suppression
    suppressed UInt64,  -- how many
    client_role String,  -- roles of the client (mail_server, resolver, ...)
    related Nested(rule String, trigger String, message String),  -- alerts of other rules about the same activity
    evidence Nested(key String, value String),  -- dnsvigil.evidence: numbers as text, lists as JSON arrays
    samples Array(String),
    intel Nested(indicator String, list String, matched String, field String, type String),  -- threat.enrichments
    source_address String ALIAS if(isNull(source_ip), '', if(substring(assumeNotNull(source_ip), 1, 12) = unhex('00000000000000000000FFFF'), IPv4NumToString(reinterpretAsUInt32(reverse(substring(assumeNotNull(source_ip), 13, 4)))), IPv6NumToString(assumeNotNull(source_ip)))),
    destination_address String ALIAS if(isNull(destination_ip), '', if(substring(assumeNotNull(destination_ip), 1, 12) = unhex('00000000000000000000FFFF'), IPv4NumToString(reinterpretAsUInt32(reverse(substring(assumeNotNull(destination_ip), 13, 4)))), IPv6NumToString(assumeNotNull(destination_ip))))
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (toStartOfHour(timestamp), rule_name, observer_name)
SETTINGS index_granularity = 8192;
