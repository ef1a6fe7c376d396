#include "dnsvigil/config/schema.hpp"

#include <array>

namespace dnsvigil::config {

namespace {

constexpr std::string_view kRoles[] = {"tap", "recursive", "authoritative"};
constexpr std::string_view kTransports[] = {"unix", "udp", "tcp"};
constexpr std::string_view kHeuristic[] = {"off", "external", "all"};
constexpr std::string_view kFormats[] = {"rfc5424", "rfc3164"};
constexpr std::string_view kFacilities[] = {"kern",   "user",   "mail",   "daemon", "auth",   "syslog",
                                            "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
                                            "local0", "local1", "local2", "local3", "local4", "local5",
                                            "local6", "local7"};
constexpr std::string_view kSeverities[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error"};

constexpr double kDay = 86400;
constexpr double kUnlimited = 0;

// KEY(path, type, field, help, min, max[, choices]): `field` is an expression on `s`.
#define KEY(path, type, field, ...) \
  Key { path, Type::type, +[](Settings& s) -> auto& { return s.field; }, __VA_ARGS__ }

// The keys every rule has.
#define RULE_COMMON(rule)                                                                                   \
  KEY("detectors." #rule ".enabled", boolean, detectors.rule.enabled, "Run this rule.", 0, 0),              \
      KEY("detectors." #rule ".max_keys", uint, detectors.rule.max_keys,                                    \
          "Keyed state entries this rule holds; the least recently used are evicted beyond.", 16, 16777216), \
      KEY("detectors." #rule ".allowlist.clients", prefixes, detectors.rule.allow.clients,                  \
          "Clients this rule ignores.", 0, 0),                                                              \
      KEY("detectors." #rule ".allowlist.servers", prefixes, detectors.rule.allow.servers,                  \
          "Servers this rule ignores.", 0, 0),                                                              \
      KEY("detectors." #rule ".allowlist.domains", strings, detectors.rule.allow.domains,                   \
          "Domains (and their subdomains) this rule ignores.", 0, 0)

const Key kKeys[] = {
    // capture
    KEY("capture.interfaces", strings, capture.interfaces,
        "Interfaces to capture on; -i on the command line replaces this list.", 0, 0),
    KEY("capture.snaplen", uint, capture.snaplen, "Octets captured per packet.", 96, 262144),
    KEY("capture.buffer_size", size, capture.buffer_size,
        "Kernel ring buffer per interface (TPACKET_V3); with several workers it is shared out among their "
        "rings (8 MiB each at least). Raise it when pcap_stats reports drops.",
        1 << 20,
        4294967295.0),
    KEY("capture.promiscuous", boolean, capture.promiscuous, "Put interfaces in promiscuous mode (SPAN/tap ports).", 0,
        0),
    KEY("capture.timeout", duration, capture.timeout,
        "Longest time the kernel holds a ring block before handing it over.", 0, 10),
    KEY("capture.filter", string, capture.filter,
        "BPF filter for live capture; empty means DNS ports plus IP fragments, with and without VLAN tags. A filter "
        "on the command line wins.",
        0, 0),
    KEY("capture.dns_ports", ports, pipeline.dns_ports, "UDP and TCP ports decoded as DNS.", 0, 0),
    KEY("capture.dns_heuristic", string, capture.dns_heuristic,
        "DNS on ports outside dns_ports (a resolver on 5353, 8053, UDP 443): recognised by a strict check of the "
        "message when the server is outside network.internal (external), whatever the server (all), or never (off). "
        "The default live filter admits UDP datagrams shaped like DNS on any port; TCP on other ports needs a filter "
        "that admits it.",
        0, 0, kHeuristic),
    KEY("capture.watch_ports", ports, pipeline.watch_ports,
        "Ports of encrypted DNS (DoT 853, DoQ) whose connection attempts are reported to the rules.", 0, 0),
    // other inputs
    KEY("input.dnstap", strings, input.dnstap,
        "dnstap endpoints to listen on for DNS servers' logs: unix:/path (created by dnsvigil) or "
        "tcp:ADDRESS:PORT; --dnstap adds to this list. Live mode; -r reads dnstap files directly.",
        0, 0),
    KEY("input.dnstap_queue", uint, input.dnstap_queue,
        "dnstap frames waiting to be processed; beyond, frames are dropped and counted, never slowing the DNS "
        "server.",
        16, 16777216),
    KEY("input.dnstap_socket_mode", string, input.dnstap_socket_mode,
        "Permissions of the dnstap unix sockets, in octal (the DNS server's user must be able to connect).", 0, 0),
    KEY("input.dnstap_socket_group", string, input.dnstap_socket_group,
        "Group of the dnstap unix sockets (for example bind or unbound); empty keeps the sensor's.", 0, 0),
    // reassembly
    KEY("reassembly.ip.max_datagrams", uint, pipeline.defrag.max_datagrams,
        "Incomplete fragmented datagrams held at once (oldest evicted beyond).", 16, 16777216),
    KEY("reassembly.ip.max_bytes", size, pipeline.defrag.max_bytes, "Octets held in incomplete datagrams.", 65536,
        17179869184.0),
    KEY("reassembly.ip.timeout", duration, pipeline.defrag.timeout,
        "An incomplete datagram is dropped after this much packet time (Linux ipfrag_time is 30 s).", 1, 300),
    KEY("reassembly.tcp.max_flows", uint, pipeline.tcp.max_flows,
        "TCP stream directions tracked at once (least recently used evicted beyond).", 16, 67108864),
    KEY("reassembly.tcp.max_flow_bytes", size, pipeline.tcp.max_flow_bytes,
        "Octets buffered per stream direction (partial messages and out-of-order segments).", 65536,
        268435456),
    KEY("reassembly.tcp.max_total_bytes", size, pipeline.tcp.max_total_bytes, "Octets buffered in all TCP streams.",
        1 << 20, 17179869184.0),
    KEY("reassembly.tcp.idle_timeout", duration, pipeline.tcp.idle_timeout,
        "A stream with no segment for this much packet time is closed.", 1, 3600),
    // transactions
    KEY("transactions.max_pending", uint, pipeline.transactions.max_pending,
        "Queries remembered while waiting for their response.", 16, 67108864),
    KEY("transactions.timeout", duration, pipeline.transactions.timeout,
        "A query without a response after this much packet time is reported unanswered.", 0.1, 300),
    // names
    KEY("names.public_suffix_list", string, pipeline.psl_file,
        "Public Suffix List file (.dat or .dafsa) used to find registered domains; empty means the system list "
        "(Debian package publicsuffix).",
        0, 0),
    KEY("names.builtin_services", boolean, pipeline.builtin_services,
        "Classify names with the service catalogue shipped with dnsvigil (DNS blocklists, hash and anti-virus "
        "lookups, CDN and cloud names, reverse zones; /usr/share/dnsvigil/services.txt).",
        0, 0),
    KEY("names.service_files", strings, pipeline.service_files,
        "More service catalogue files (the services.txt format: '<kind> <domain> [description]'); relative paths "
        "are found next to the configuration file. A name under a catalogued service is never counted as "
        "enumeration, tunnelling or beaconing evidence.",
        0, 0),
    // network policy
    KEY("network.internal", prefixes, detectors.network.internal, "Internal address space.", 0, 0),
    KEY("network.resolvers", prefixes, detectors.network.resolvers,
        "Sanctioned recursive resolvers; their upstream traffic is normal. Empty: servers answering several internal "
        "clients are learned as resolvers, internal servers count as sanctioned, and the outside servers most "
        "internal clients use are learned as the site's de-facto resolvers (others are reported as deviations).",
        0, 0),
    KEY("network.secondaries", prefixes, detectors.network.secondaries, "Hosts allowed to request zone transfers.", 0,
        0),
    KEY("network.monitored_zones", strings, detectors.network.monitored_zones,
        "Zones this site serves; enables zone-wide views (enumeration across all clients).", 0, 0),
    KEY("network.role", choice, role, "Where the sensor sits: tap (SPAN/tap port), recursive or authoritative server.",
        0, 0, kRoles),
    // client roles
    KEY("roles.mail_servers", prefixes, detectors.network.mail_servers,
        "Mail servers: their sender-policy (MX, SPF, DMARC, DKIM), blocklist and reverse lookups are their job "
        "(recon_sweep ignores them; beaconing ignores their MX/TXT/PTR lookups). Also learned from traffic. "
        "network.mail_servers is the older name.",
        0, 0),
    KEY("roles.monitoring", prefixes, detectors.roles.monitoring,
        "Monitoring hosts (SIEM, inventory, log collectors) that resolve PTR names of whole address ranges. Also "
        "learned from traffic.",
        0, 0),
    KEY("roles.container_nodes", prefixes, detectors.roles.container_nodes,
        "Container nodes (Kubernetes, ndots:5) whose stub resolvers try each name with every search suffix: those "
        "expansions count for no name-keyed rule. Also learned from traffic.",
        0, 0),
    KEY("roles.scanners", prefixes, detectors.network.scanners,
        "Authorised scanners: exempt from zone_transfer, enumeration, recon_sweep, cache_snooping and "
        "resolver_switch. network.scanners is the older name.",
        0, 0),
    KEY("roles.learn", boolean, detectors.roles.learn,
        "Learn mail servers, monitoring hosts and container nodes from their traffic (a role exempts only the pattern "
        "it explains).",
        0, 0),
    KEY("roles.mail_domains", uint, detectors.roles.mail_domains,
        "Distinct domains with sender-policy lookups (MX, SPF TXT, _dmarc, DKIM selectors) that, with mail_checks, "
        "make a mail server.",
        1, 16),
    KEY("roles.mail_checks", uint, detectors.roles.mail_checks,
        "Distinct blocklist or outside-address PTR lookups, or sender-policy names asked again 10 s or more later "
        "(the domains a server keeps receiving mail from), that with mail_domains make a mail server.",
        1, 16),
    KEY("roles.monitoring_ptr", uint, detectors.roles.monitoring_ptr,
        "Distinct PTR names in 10 minutes that make a monitoring host.", 8, 64),
    KEY("roles.container_bases", uint, detectors.roles.container_bases,
        "Names tried with two or more search suffixes that make a container node.", 1, 8),
    // detectors, shared
    KEY("detectors.suppression", duration, detectors.suppression,
        "One alert per (rule, key) per period; later triggers fold into a summary at its end.", 0, 7 * kDay),
    KEY("detectors.samples", uint, detectors.samples, "Sample names attached to an alert.", 0, 50),
    KEY("detectors.precedence_hold", duration, detectors.precedence_hold,
        "One activity, one alert: an alert that another rule's alert on the same client and domain would explain "
        "(enumeration, beaconing, recon_sweep under tunneling; an NXDOMAIN burst under enumeration) waits this long "
        "of packet time to be attached to it; 0 sends it at once.",
        0, 3600),
    KEY("detectors.suppression_keys", uint, detectors.suppression_keys,
        "(rule, key) pairs under suppression at once.", 16, 16777216),
    KEY("detectors.allowlist.clients", prefixes, detectors.allow.clients, "Clients every rule ignores.", 0, 0),
    KEY("detectors.allowlist.servers", prefixes, detectors.allow.servers, "Servers every rule ignores.", 0, 0),
    KEY("detectors.allowlist.domains", strings, detectors.allow.domains,
        "Domains (and their subdomains) every rule ignores.", 0, 0),
    // zone_transfer
    RULE_COMMON(zone_transfer),
    KEY("detectors.zone_transfer.any_sweep", uint, detectors.zone_transfer.any_sweep,
        "ANY queries by one client in 10 min that make a sweep (a single ANY is common).", 1, 1000000),
    KEY("detectors.zone_transfer.transfer_idle", duration, detectors.zone_transfer.transfer_idle,
        "A transfer with no new message for this long is reported with what was seen.", 1, 3600),
    // enumeration
    RULE_COMMON(enumeration),
    KEY("detectors.enumeration.distinct_10m", uint, detectors.enumeration.distinct_10m,
        "Distinct names under one domain in 10 min that alert when mostly NXDOMAIN.", 2, 10000000),
    KEY("detectors.enumeration.nxdomain_ratio", real, detectors.enumeration.nxdomain_ratio,
        "NXDOMAIN share of answers for the 10-minute trigger.", 0, 1),
    KEY("detectors.enumeration.distinct_1h", uint, detectors.enumeration.distinct_1h,
        "Distinct names under one domain in 1 h (the Sentinel rule's threshold), with brute-force evidence.", 2,
        10000000),
    KEY("detectors.enumeration.distinct_any", uint, detectors.enumeration.distinct_any,
        "Distinct names under one domain in 1 h reported as distinct_any (same evidence as distinct_1h).", 2,
        10000000),
    KEY("detectors.enumeration.evidence_nxdomain_ratio", real, detectors.enumeration.evidence_nxdomain_ratio,
        "NXDOMAIN share of the answers in 1 h that distinct_1h and distinct_any need as brute-force evidence (with "
        "word_share); where no answer is visible, the domain must instead be one few clients use.",
        0, 1),
    KEY("detectors.enumeration.word_share", real, detectors.enumeration.word_share,
        "Share of the distinct names whose first label looks like a word-list entry, needed by every "
        "distinct-name trigger (hashes, encoded data and address labels are no brute force).",
        0, 1),
    KEY("detectors.enumeration.nxdomain_burst", uint, detectors.enumeration.nxdomain_burst,
        "NXDOMAIN answers to one client in 5 min, any domain.", 2, 10000000),
    KEY("detectors.enumeration.nxdomain_burst_ratio", real, detectors.enumeration.nxdomain_burst_ratio,
        "Share of the client's answers in those 5 min that must be NXDOMAIN for a burst (a busy client's "
        "ordinary NXDOMAIN rate is not one).", 0, 1),
    KEY("detectors.enumeration.zone_nxdomain_1h", uint, detectors.enumeration.zone_nxdomain_1h,
        "Distinct NXDOMAIN names under a monitored zone in 1 h from all clients.", 2, 100000000),
    KEY("detectors.enumeration.resolver_factor", real, detectors.enumeration.resolver_factor,
        "Thresholds are multiplied by this for clients that are resolvers.", 1, 1000),
    KEY("detectors.enumeration.sketch_pool", uint, detectors.enumeration.sketch_pool,
        "HyperLogLog sketches (1 KiB each) for keys past 12 distinct names.", 16, 16777216),
    // recon_sweep
    RULE_COMMON(recon_sweep),
    KEY("detectors.recon_sweep.qtypes_10m", uint, detectors.recon_sweep.qtypes_10m,
        "Distinct reconnaissance record types for one domain in 10 min.", 1, 9),
    KEY("detectors.recon_sweep.names_10m", uint, detectors.recon_sweep.names_10m,
        "Distinct reconnaissance names (_dmarc, _domainkey, autodiscover, ...) for one domain in 10 min.", 1, 10),
    KEY("detectors.recon_sweep.domains_10m", uint, detectors.recon_sweep.domains_10m,
        "Registered domains swept for TXT/MX/_dmarc by one client in 10 min.", 2, 10000000),
    KEY("detectors.recon_sweep.sketch_pool", uint, detectors.recon_sweep.sketch_pool,
        "HyperLogLog sketches for the multi-domain count.", 16, 16777216),
    // rogue_resolver
    RULE_COMMON(rogue_resolver),
    KEY("detectors.rogue_resolver.aggregate_servers", uint, detectors.rogue_resolver.aggregate_servers,
        "Distinct unsanctioned servers used by one client that raise one aggregated alert.", 2, 8),
    KEY("detectors.rogue_resolver.period", duration, detectors.rogue_resolver.period,
        "One alert per (client, server) per period.", 60, 30 * kDay),
    KEY("detectors.rogue_resolver.private_servers", boolean, detectors.rogue_resolver.private_servers,
        "Also report unsanctioned servers in RFC 1918 / ULA / internal space.", 0, 0),
    KEY("detectors.rogue_resolver.ports", ports, detectors.rogue_resolver.ports,
        "Server ports that count as DNS (53; 853 is DNS over TLS).", 0, 0),
    KEY("detectors.rogue_resolver.learn_min_clients", uint, detectors.rogue_resolver.learn_min_clients,
        "Without network.resolvers: internal clients a server must answer to be learned as a resolver, and "
        "internal clients that must use an outside server before it can be a de-facto resolver.",
        1, 1000),
    KEY("detectors.rogue_resolver.defacto_share", real, detectors.rogue_resolver.defacto_share,
        "Without network.resolvers: an outside server used by at least this share of the internal clients of the "
        "most used server (and by learn_min_clients) is a de-facto resolver; other outside servers are deviations.",
        0, 1),
    // tunneling
    RULE_COMMON(tunneling),
    KEY("detectors.tunneling.min_encoded_label", uint, detectors.tunneling.min_encoded_label,
        "A label at least this long with high entropy looks encoded.", 4, 63),
    KEY("detectors.tunneling.min_entropy", real, detectors.tunneling.min_entropy,
        "Normalised entropy H / log2(min(length, 64)) of such a label.", 0, 1),
    KEY("detectors.tunneling.suspicious_10m", uint, detectors.tunneling.suspicious_10m,
        "Encoded-looking names under one domain from one client in 10 min.", 1, 10000000),
    KEY("detectors.tunneling.info_bytes_1h", size, detectors.tunneling.info_bytes_1h,
        "Octets of distinct subdomains under one domain from one client in 1 h.", 64, 1073741824),
    KEY("detectors.tunneling.txt_null_per_min", uint, detectors.tunneling.txt_null_per_min,
        "Distinct TXT/NULL names under one domain from one client in one minute (alerts above, when half of them "
        "look encoded or their answers carry txt_null_answer_bytes).",
        1, 10000000),
    KEY("detectors.tunneling.txt_null_answer_bytes", uint, detectors.tunneling.txt_null_answer_bytes,
        "Mean TXT/NULL record octets per answer that make a TXT/NULL rate a data channel.", 0, 65535),
    KEY("detectors.tunneling.binary_names_10m", uint, detectors.tunneling.binary_names_10m,
        "NULL or private-type queries with binary (non-printable) labels under one domain in 10 min (iodine's "
        "handshake: strong evidence at low volume).",
        1, 10000000),
    KEY("detectors.tunneling.seed_rule", boolean, detectors.tunneling.seed_rule,
        "Also run the Elastic ES|QL tunnelling rule of the reference page (per client, 24 h).", 0, 0),
    KEY("detectors.tunneling.seed_queries", uint, detectors.tunneling.seed_queries,
        "Seed rule: long queries per client (query_count >).", 1, 10000000),
    KEY("detectors.tunneling.seed_unique", uint, detectors.tunneling.seed_unique,
        "Seed rule: unique names (unique_subdomains >).", 1, 10000000),
    KEY("detectors.tunneling.seed_avg_length", real, detectors.tunneling.seed_avg_length,
        "Seed rule: average name length (avg_domain_length >).", 1, 255),
    KEY("detectors.tunneling.seed_min_length", uint, detectors.tunneling.seed_min_length,
        "Seed rule: a query counts when its name is longer than this ...", 1, 255),
    KEY("detectors.tunneling.seed_min_labels", uint, detectors.tunneling.seed_min_labels,
        "... or has more labels than this.", 1, 127),
    KEY("detectors.tunneling.sketch_pool", uint, detectors.tunneling.sketch_pool,
        "HyperLogLog sketches for unique-name counts.", 16, 16777216),
    // beaconing
    RULE_COMMON(beaconing),
    KEY("detectors.beaconing.min_lookups", uint, detectors.beaconing.min_lookups, "Lookups before a key is scored.", 4,
        24),
    KEY("detectors.beaconing.min_score", real, detectors.beaconing.min_score,
        "Regularity score (0..1) that alerts: 0.8 x (1 - MAD/median / 0.7) + 0.2 x (1 - |Bowley skew|).", 0, 1),
    KEY("detectors.beaconing.clockwork_dispersion", real, detectors.beaconing.clockwork_dispersion,
        "Dispersion (MAD of the intervals over the median interval beyond the burst merge) of a fixed timer: alerts "
        "from min_lookups on.",
        0, 1),
    KEY("detectors.beaconing.jitter_dispersion", real, detectors.beaconing.jitter_dispersion,
        "Dispersion of a jittered beacon: alerts when two overlapping windows of 23 intervals (36 lookups) both stay "
        "within it.",
        0, 1),
    KEY("detectors.beaconing.min_interval", duration, detectors.beaconing.min_interval,
        "Shortest median interval scored.", 0.1, kDay),
    KEY("detectors.beaconing.max_interval", duration, detectors.beaconing.max_interval,
        "Longest median interval scored.", 1, 7 * kDay),
    KEY("detectors.beaconing.burst", duration, detectors.beaconing.burst,
        "Lookups closer than this count as one (A and AAAA of one resolution).", 0, 60),
    KEY("detectors.beaconing.popular_clients", uint, detectors.beaconing.popular_clients,
        "Domains looked up by this many clients are not scored.", 2, 10000000),
    // cache_snooping (issue 7)
    RULE_COMMON(cache_snooping),
    KEY("detectors.cache_snooping.distinct_names", uint, detectors.cache_snooping.distinct_names,
        "Distinct names one client asks sanctioned resolvers without recursion (RD=0) in the window that alert.", 2,
        32),
    KEY("detectors.cache_snooping.window", duration, detectors.cache_snooping.window,
        "Packet-time window of the distinct-name count.", 10, kDay),
    // resolver_switch (issue 7)
    RULE_COMMON(resolver_switch),
    KEY("detectors.resolver_switch.history_queries", uint, detectors.resolver_switch.history_queries,
        "Queries to sanctioned resolvers that make a client's established history.", 1, 10000000),
    KEY("detectors.resolver_switch.history_span", duration, detectors.resolver_switch.history_span,
        "Time from the first to the latest of those queries that makes the history established.", 0, 30 * kDay),
    KEY("detectors.resolver_switch.min_queries", uint, detectors.resolver_switch.min_queries,
        "Queries from the client to the new server that raise the alert.", 1, 10000),
    KEY("detectors.resolver_switch.period", duration, detectors.resolver_switch.period,
        "One alert per (client, new server) per period; a history idle this long is forgotten.", 60, 30 * kDay),
    KEY("detectors.resolver_switch.ports", ports, detectors.resolver_switch.ports,
        "Server ports that count as DNS (53; 853 is DNS over TLS).", 0, 0),
    // answer_change (issue 7)
    RULE_COMMON(answer_change),
    KEY("detectors.answer_change.learning_period", duration, detectors.answer_change.learning_period,
        "Values of a monitored (name, type) seen this long after its first sighting are its baseline; later new "
        "values alert.", 0, 365 * kDay),
    KEY("detectors.answer_change.allowed_addresses", prefixes, detectors.answer_change.allowed_addresses,
        "Declared address space of the monitored zones: A/AAAA values inside it never alert.", 0, 0),
    KEY("detectors.answer_change.nameservers", strings, detectors.answer_change.nameservers,
        "Declared NS targets of the monitored zones: any other NS target alerts, learned or not.", 0, 0),
    KEY("detectors.answer_change.mail_exchangers", strings, detectors.answer_change.mail_exchangers,
        "Declared MX exchanges of the monitored zones: any other exchange alerts, learned or not.", 0, 0),
    KEY("detectors.answer_change.ttl_drop_factor", real, detectors.answer_change.ttl_drop_factor,
        "An authoritative (AA) TTL this many times lower than the learned one alerts.", 2, 1000000),
    KEY("detectors.answer_change.ttl_min", uint, detectors.answer_change.ttl_min,
        "TTL drops are watched for names whose learned TTL is at least this many seconds.", 1, 604800),
    KEY("detectors.answer_change.escalate_changes", uint, detectors.answer_change.escalate_changes,
        "Changes in one zone within an hour that raise the severity to high.", 1, 1000),
    // spoofed_response (issue 7)
    RULE_COMMON(spoofed_response),
    KEY("detectors.spoofed_response.window", duration, detectors.spoofed_response.window,
        "Packet-time window of the unsolicited-response counts.", 1, kDay),
    KEY("detectors.spoofed_response.txid_mismatch", uint, detectors.spoofed_response.txid_mismatch,
        "Unsolicited responses with one question to one client in the window that alert (transaction id guessing).",
        2, 10000000),
    KEY("detectors.spoofed_response.reflection", uint, detectors.spoofed_response.reflection,
        "Unsolicited responses of any question to one client in the window that alert (reflection flood).", 2,
        100000000),
    KEY("detectors.spoofed_response.reflection_servers", uint, detectors.spoofed_response.reflection_servers,
        "Distinct servers in a reflection flood that make it an alert even where queries are not visible (one-way "
        "taps), when most responses repeat a few questions.",
        2, 1000000),
    KEY("detectors.spoofed_response.conflicting_answers", boolean, detectors.spoofed_response.conflicting_answers,
        "Alert on two responses with different answers to one query sent once.", 0, 0),
    KEY("detectors.spoofed_response.wrong_source", boolean, detectors.spoofed_response.wrong_source,
        "Alert on a response from another address than its query went to.", 0, 0),
    // intel_match and the threat-intel lists (issue 7 item 5)
    RULE_COMMON(intel_match),
    KEY("intel.ip_files", strings, detectors.intel.ip_files,
        "Threat-intel address lists: files with one IPv4/IPv6 address or CIDR prefix a line ('#' comments). Alerts "
        "whose client or server is listed carry threat.enrichments; intel_match alerts on DNS with them. Relative "
        "paths are read from the configuration file's folder; the files are read again on SIGHUP.",
        0, 0),
    KEY("intel.domain_files", strings, detectors.intel.domain_files,
        "Threat-intel domain lists: files with one domain a line ('#' comments); an entry covers the domain and every "
        "name under it. Alerts whose question name is listed carry threat.enrichments; intel_match alerts on lookups "
        "of listed names.",
        0, 0),
    // outputs
    KEY("outputs.alerts_json", string, outputs.alerts_json,
        "Alerts as ECS JSON lines to this file ('-' = standard output); --alerts-json overrides.", 0, 0),
    KEY("outputs.events_json", string, outputs.events_json,
        "Every DNS message as an ECS JSON line to this file ('-' = standard output); --dump-json overrides.", 0, 0),
    KEY("outputs.alerts_text", string, outputs.alerts_text,
        "One readable line per alert to this file ('-' = standard output); --alerts-text overrides.", 0, 0),
    KEY("outputs.syslog.enabled", boolean, outputs.syslog.enabled, "Send alerts to syslog.", 0, 0),
    KEY("outputs.syslog.transport", choice, outputs.syslog.transport,
        "unix (local socket), udp, or tcp (RFC 6587 octet counting).", 0, 0, kTransports),
    KEY("outputs.syslog.address", string, outputs.syslog.address, "Socket path (unix) or host:port (udp, tcp).", 0,
        0),
    KEY("outputs.syslog.format", choice, outputs.syslog.format,
        "rfc5424 (alert in structured data) or rfc3164 (BSD syslog).", 0, 0, kFormats),
    KEY("outputs.syslog.facility", choice, outputs.syslog.facility, "Syslog facility.", 0, 0, kFacilities),
    KEY("outputs.syslog.app_name", string, outputs.syslog.app_name, "APP-NAME / tag.", 0, 0),
    KEY("outputs.syslog.severity_low", choice, outputs.syslog.severity_low, "Syslog severity of low alerts.", 0, 0,
        kSeverities),
    KEY("outputs.syslog.severity_medium", choice, outputs.syslog.severity_medium, "Syslog severity of medium alerts.",
        0, 0, kSeverities),
    KEY("outputs.syslog.severity_high", choice, outputs.syslog.severity_high, "Syslog severity of high alerts.", 0, 0,
        kSeverities),
    KEY("outputs.syslog.severity_critical", choice, outputs.syslog.severity_critical,
        "Syslog severity of critical alerts.", 0, 0, kSeverities),
    KEY("outputs.clickhouse.enabled", boolean, outputs.clickhouse.enabled,
        "Insert DNS events and alerts into ClickHouse over its HTTP interface (batches of RowBinary rows; tables "
        "from /usr/share/dnsvigil/clickhouse/schema.sql). At start the tables are checked: an unreachable server, a "
        "refused login or a missing table is an error.",
        0, 0),
    KEY("outputs.clickhouse.url", string, outputs.clickhouse.url,
        "ClickHouse HTTP interface: http:// or https://, host and port (8123, 8443 for https).", 0, 0),
    KEY("outputs.clickhouse.database", string, outputs.clickhouse.database, "Database of the tables.", 0, 0),
    KEY("outputs.clickhouse.events_table", string, outputs.clickhouse.events_table,
        "Table of DNS events (every message, as --dump-json writes it); empty sends no events. In a cluster, the "
        "node's local table (dns_events_local) or the Distributed one.",
        0, 0),
    KEY("outputs.clickhouse.alerts_table", string, outputs.clickhouse.alerts_table,
        "Table of alerts; empty sends no alerts.", 0, 0),
    KEY("outputs.clickhouse.user", string, outputs.clickhouse.user, "ClickHouse user (HTTP basic authentication).",
        0, 0),
    KEY("outputs.clickhouse.password_file", string, outputs.clickhouse.password_file,
        "File holding the user's password (one line; relative paths are found next to the configuration file). "
        "It is read with the configuration, also on SIGHUP: make it readable by run.user. Empty: no password.",
        0, 0),
    KEY("outputs.clickhouse.ca_file", string, outputs.clickhouse.ca_file,
        "https: CA certificates to verify the server with; empty uses the system's.", 0, 0),
    KEY("outputs.clickhouse.observer_name", string, outputs.clickhouse.observer_name,
        "This sensor's name in every row (observer_name, ECS observer.name): what the fleet rules group sites by. "
        "Empty: the host name.",
        0, 0),
    KEY("outputs.clickhouse.batch_rows", uint, outputs.clickhouse.batch_rows,
        "Event rows per INSERT at most (ClickHouse wants few large inserts: about one a second).", 1, 16777216),
    KEY("outputs.clickhouse.flush_interval", duration, outputs.clickhouse.flush_interval,
        "A partial batch is sent once its oldest rows have waited this long (wall time).", 0.01, 3600),
    KEY("outputs.clickhouse.max_buffer_bytes", size, outputs.clickhouse.max_buffer_bytes,
        "Encoded event rows held while waiting for ClickHouse (about 150 to 300 octets each); beyond, new events "
        "are dropped and counted, so capture never waits. Alerts have their own queue (outputs.queue).",
        1 << 20, 17179869184.0),
    KEY("outputs.clickhouse.timeout", duration, outputs.clickhouse.timeout,
        "Longest time one HTTP request may take, connecting included; a failed insert is retried with backoff.",
        0.1, 600),
    KEY("outputs.clickhouse.shutdown_timeout", duration, outputs.clickhouse.shutdown_timeout,
        "At exit, how long buffered events may still be sent (and failed inserts retried) before the rest is "
        "counted as dropped.",
        0, 3600),
    KEY("outputs.queue", uint, outputs.queue,
        "Alerts queued per output; when a receiver is slow or down, newer alerts beyond are dropped and counted.", 16,
        16777216),
    KEY("outputs.rate_limit", uint, outputs.rate_limit,
        "Alerts per second per rule and output; excess is counted and summarised (0 = unlimited).", kUnlimited, 1000000),
    KEY("outputs.report.path", string, outputs.report.path,
        "Write an HTML report (one self-contained page: capture figures, alerts, traffic charts, this "
        "configuration) to this file at the end of the run, on SIGUSR1 and every interval; --report overrides. "
        "Empty: no report, and no traffic figures are collected.",
        0, 0),
    KEY("outputs.report.interval", duration, outputs.report.interval,
        "Live sensor: also write the report this often (0: on SIGUSR1 and at the end only).", 0, kDay),
    KEY("outputs.report.max_alerts", uint, outputs.report.max_alerts,
        "Alerts listed in the report; beyond, the oldest of the lowest severity make room for more severe ones "
        "(every alert is still counted and drawn in the timeline).",
        0, 1000000),
    KEY("outputs.report.max_keys", uint, outputs.report.max_keys,
        "Clients and registered domains each worker tracks for the report's top tables (a quarter as many "
        "servers); beyond, the least frequent are dropped, so a flood of new names costs no memory.",
        64, 1048576),
    KEY("outputs.report.top", uint, outputs.report.top, "Rows of the report's top client, domain and server tables.",
        1, 1000),
    // metrics
    KEY("metrics.enabled", boolean, metrics.enabled, "Serve Prometheus metrics over HTTP.", 0, 0),
    KEY("metrics.listen", string, metrics.listen, "Address and port of the metrics endpoint (keep it on loopback).", 0,
        0),
    // run
    KEY("run.user", string, run.user,
        "Drop to this user after opening captures (no capabilities kept); empty keeps the current user.", 0, 0),
    KEY("run.log_level", choice, run.log_level, "Log level.", 0, 0, kLevels),
    KEY("run.stats_interval", duration, run.stats_interval, "Live capture: a stats line in the log this often.", 1,
        kDay),
    KEY("workers", uint, workers, "Worker threads; packets are sharded by client address (see -j; live capture: kernel fan-out).", 1, 64),
};

#undef RULE_COMMON
#undef KEY

}  // namespace

std::span<const Key> schema() { return kKeys; }

const Key* find_key(std::string_view path) {
  for (const Key& k : kKeys)
    if (k.path == path) return &k;
  return nullptr;
}

void Settings::finalize() {
  for (std::size_t i = 0; i < std::size(kRoles); ++i)
    if (role == kRoles[i]) detectors.network.role = static_cast<detect::Role>(i);
  (void)sensor::parse_off_port_mode(capture.dns_heuristic, pipeline.off_port);  // the schema checked the choice
  pipeline.internal = {};
  for (const sensor::Prefix& p : detectors.network.internal) pipeline.internal.add(p);
}

}  // namespace dnsvigil::config
