-- fleet_subdomain_enumeration: more than 100 unique names per client and registered domain in an
-- hour, counted over every sensor.
--
-- Seed: Microsoft Sentinel, T1596.001 "DNS/Passive DNS Reconnaissance", branch 2
-- (SubdomainEnumerationSweep):
--   DnsEvents | where QueryType in ("A", "AAAA", "MX", "NS", "TXT", "SOA", "CNAME", "SRV")
--   | extend RootDomain = extract(@"(?:[^.]+\.)?([^.]+\.[^.]+)$", 1, Name)
--   | summarize QueryCount = count(), UniqueSubdomains = dcount(Name), QueryTypes = make_set(QueryType, 6),
--       FirstSeen = min(TimeGenerated), LastSeen = max(TimeGenerated) by ClientIP, RootDomain, bin(TimeGenerated, 1h)
--   | where UniqueSubdomains > 100
-- Differences: RootDomain is the registered domain of the Public Suffix List (the regular expression
-- of the seed keeps two labels, so all of co.uk is one "domain"); dcount is exact (uniqExact); a
-- client seen as the destination of responses counts as well (one-way taps see only those). The
-- enumeration rule of each sensor (distinct_1h) sees the traffic of that sensor only: a client whose lookups are
-- spread over several resolvers or sites is only caught here.
--
-- Window: the last complete hour (run it hourly, a few minutes past the hour: docs/clickhouse.md).
SELECT
    'fleet_subdomain_enumeration' AS rule,
    toStartOfHour(timestamp) AS hour,
    client_address AS client,
    registered_domain AS domain,
    countIf(dns_type = 'query' AND unanswered = 0) AS queries,
    uniqExact(question_name) AS unique_subdomains,
    arraySlice(groupUniqArray(question_type), 1, 6) AS query_types,
    groupUniqArray(observer_name) AS sensors,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM dns_events
WHERE timestamp >= toStartOfHour(now()) - 3600 AND timestamp < toStartOfHour(now())
    AND question_type IN ('A', 'AAAA', 'MX', 'NS', 'TXT', 'SOA', 'CNAME', 'SRV')
    AND registered_domain != ''
GROUP BY hour, client, domain
HAVING unique_subdomains > 100
ORDER BY unique_subdomains DESC, client, domain
