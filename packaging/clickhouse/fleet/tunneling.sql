-- fleet_tunneling: the Elastic ES|QL DNS tunnelling rule over the queries of every sensor.
--
-- Seed: Elastic Security, T1071.004 "DNS" (ES|QL):
--   WHERE dns.question.type IN ("TXT", "NULL", "CNAME", "MX", "A", "AAAA")
--   | EVAL domain_length = LENGTH(dns.question.name), subdomain_parts = MV_COUNT(SPLIT(dns.question.name, "."))
--   | WHERE domain_length > 50 OR subdomain_parts > 5
--   | STATS query_count = COUNT(*), unique_subdomains = COUNT_DISTINCT(dns.question.name),
--       avg_domain_length = AVG(domain_length), max_domain_length = MAX(domain_length),
--       query_types = VALUES(dns.question.type), first_seen = MIN(@timestamp), last_seen = MAX(@timestamp) BY source.ip
--   | WHERE query_count > 20 AND unique_subdomains > 10 AND avg_domain_length > 40
--   | EVAL tunnel_confidence = CASE(unique_subdomains > 100 AND avg_domain_length > 60, "high",
--       unique_subdomains > 50 AND avg_domain_length > 50, "high", "medium")
--   | SORT query_count DESC
-- over a sliding 24 h window. Here: queries only (a Packetbeat event is one transaction, one
-- query), unanswered-query rows not counted twice, COUNT_DISTINCT exact. The sensors run the same
-- rule per client (detectors.tunneling.seed_rule); this one adds up every sensor, and lists them.
--
-- Window: the 24 hours before the current hour (run it hourly; a client keeps appearing while
-- its last 24 h qualify, as with the schedule of the seed).
SELECT
    'fleet_tunneling' AS rule,
    client,
    query_count,
    unique_subdomains,
    round(avg_domain_length, 1) AS avg_domain_length,
    max_domain_length,
    query_types,
    sensors,
    first_seen,
    last_seen,
    multiIf(unique_subdomains > 100 AND avg_domain_length > 60, 'high',
            unique_subdomains > 50 AND avg_domain_length > 50, 'high', 'medium') AS tunnel_confidence
FROM
(
    SELECT
        source_address AS client,
        count() AS query_count,
        uniqExact(question_name) AS unique_subdomains,
        avg(length(question_name)) AS avg_domain_length,
        max(length(question_name)) AS max_domain_length,
        groupUniqArray(question_type) AS query_types,
        groupUniqArray(observer_name) AS sensors,
        min(timestamp) AS first_seen,
        max(timestamp) AS last_seen
    FROM dns_events
    WHERE timestamp >= toStartOfHour(now()) - 86400 AND timestamp < toStartOfHour(now())
        AND dns_type = 'query' AND unanswered = 0
        AND question_type IN ('TXT', 'NULL', 'CNAME', 'MX', 'A', 'AAAA')
        AND (length(question_name) > 50 OR length(splitByChar('.', question_name)) > 5)
    GROUP BY client
)
WHERE query_count > 20 AND unique_subdomains > 10 AND avg_domain_length > 40
ORDER BY query_count DESC, client
