-- fleet_rogue_resolvers: per site (sensor), internal clients sending recursive queries to outside
-- servers that are neither authorised nor resolvers of the site itself.
--
-- Seed: Elastic Security, T1584.002 "DNS Server", branch 1:
--   event.category == "network" and destination.port == 53 and network.direction == "outbound" and
--   not destination.ip in ("8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9") and
--   not cidrMatch(destination.ip, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8")
-- Here: outbound means a client in private space (RFC 1918 and loopback as in the seed, IPv6 ULA
-- and ::1) asking a server outside it, with recursion desired (RD=1: a resolver is being used),
-- on port 53 or 853 (DNS over TLS, where dnstap shows it) or on another port where the sensor
-- recognised DNS (off_port: capture.dns_heuristic). The authorised list is that of the
-- seed: put your sanctioned resolvers in it (the list is also the clients left out: a sanctioned
-- resolver forwarding upstream is doing its job). Per site, as the rogue_resolver rule of the
-- sensors learns the de-facto resolvers of a site when network.resolvers is empty
-- (learn_min_clients 3, defacto_share 0.1): a server used by at least 3 internal clients of the
-- site, and by at least a tenth as many as the most used server of the site, is a resolver of
-- that site, not a rogue one. A site is an observer_name.
--
-- Window: the last complete hour (run it hourly).
SELECT
    'fleet_rogue_resolvers' AS rule,
    site,
    tupleElement(s, 1) AS server,
    tupleElement(s, 2) AS clients,
    tupleElement(s, 3) AS queries,
    site_clients,
    tupleElement(s, 4) AS some_clients,
    tupleElement(s, 5) AS some_names,
    tupleElement(s, 6) AS first_seen,
    tupleElement(s, 7) AS last_seen
FROM
(
    -- Per site, every server its internal clients send recursive queries to; site_clients: the
    -- internal clients of its most used one.
    SELECT
        site,
        groupArray((server, clients, queries, some_clients, some_names, first_seen, last_seen, sanctioned)) AS servers,
        max(all_clients) AS site_clients
    FROM
    (
        WITH ['8.8.8.8', '8.8.4.4', '1.1.1.1', '1.0.0.1', '9.9.9.9'] AS authorised  -- edit: your resolvers
        SELECT
            observer_name AS site,
            server_address AS server,
            uniqExact(client_ip) AS all_clients,
            -- Clients on the authorised list are resolvers forwarding upstream: not counted.
            uniqExactIf(client_ip, NOT has(authorised, client_address)) AS clients,
            countIf(NOT has(authorised, client_address)) AS queries,
            arraySlice(groupUniqArrayIf(client_address, NOT has(authorised, client_address)), 1, 10) AS some_clients,
            arraySlice(groupUniqArrayIf(question_name, NOT has(authorised, client_address)), 1, 10) AS some_names,
            minIf(timestamp, NOT has(authorised, client_address)) AS first_seen,
            maxIf(timestamp, NOT has(authorised, client_address)) AS last_seen,
            -- An internal or authorised server is no rogue one.
            has(authorised, server) OR any(private[2]) AS sanctioned
        FROM dns_events
        WHERE timestamp >= toStartOfHour(now()) - 3600 AND timestamp < toStartOfHour(now())
            AND dns_type = 'query' AND unanswered = 0 AND flag_rd = 1
            AND (destination_port IN (53, 853) OR off_port = 1)
            -- Private space (client, server): RFC 1918 and loopback as in the seed, IPv6 ULA and ::1.
            AND (arrayMap(ip -> if(substring(ip, 1, 12) = unhex('00000000000000000000FFFF'),
                    bitAnd(reinterpretAsUInt32(reverse(substring(ip, 13, 4))), 0xFF000000) = 0x0A000000
                    OR bitAnd(reinterpretAsUInt32(reverse(substring(ip, 13, 4))), 0xFFF00000) = 0xAC100000
                    OR bitAnd(reinterpretAsUInt32(reverse(substring(ip, 13, 4))), 0xFFFF0000) = 0xC0A80000
                    OR bitAnd(reinterpretAsUInt32(reverse(substring(ip, 13, 4))), 0xFF000000) = 0x7F000000,
                    bitAnd(reinterpretAsUInt8(substring(ip, 1, 1)), 0xFE) = 0xFC
                    OR ip = toFixedString(unhex('00000000000000000000000000000001'), 16)),
                [source_ip, destination_ip]) AS private)[1]
        GROUP BY site, server
    )
    GROUP BY site
)
ARRAY JOIN servers AS s
WHERE NOT tupleElement(s, 8) AND tupleElement(s, 2) > 0
    AND (tupleElement(s, 2) < 3 OR tupleElement(s, 2) * 10 < site_clients)
ORDER BY site, clients DESC, server
