-- fleet_zone_nxdomain: one zone brute-forced through many resolvers — at least 500 distinct
-- non-existent names under one registered domain in an hour, from all clients of all sensors.
--
-- Seed: the enumeration rule of dnsvigil, zone-wide trigger (detectors.enumeration.zone_nxdomain_1h:
-- "distinct NXDOMAIN names under a monitored zone in 1 h from all clients", 500), itself the
-- bulk-enumeration branch that the Elastic T1590.002 "DNS" rule leaves to a threshold rule ("more
-- than 30 queries per 10-minute window from a single IP") widened to every client. A sensor sees
-- the NXDOMAIN answers of its own resolvers only; an attacker who spreads a word list over several
-- resolvers or sites stays under the threshold of each sensor and shows here. Names of catalogued
-- services (blocklist, reputation and anti-virus lookups, CDN names: service_kind) are left out:
-- their NXDOMAIN answers are their normal work. The sensors watch network.monitored_zones only;
-- this rule watches every zone (add AND registered_domain IN (...) to narrow it).
--
-- Window: the last complete hour (run it hourly).
SELECT
    'fleet_zone_nxdomain' AS rule,
    toStartOfHour(timestamp) AS hour,
    registered_domain AS zone,
    uniqExact(question_name) AS nxdomain_names,
    count() AS nxdomain_answers,
    uniqExact(client_ip) AS clients,
    uniqExact(server_ip) AS resolvers,
    groupUniqArray(observer_name) AS sensors,
    arraySlice(groupUniqArray(client_address), 1, 10) AS some_clients,
    arraySlice(groupUniqArray(question_name), 1, 10) AS some_names,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM dns_events
WHERE timestamp >= toStartOfHour(now()) - 3600 AND timestamp < toStartOfHour(now())
    AND dns_type = 'answer' AND response_code = 'NXDOMAIN'
    AND registered_domain != '' AND service_kind = ''
GROUP BY hour, zone
HAVING nxdomain_names >= 500
ORDER BY nxdomain_names DESC, zone
