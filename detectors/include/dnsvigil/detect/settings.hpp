// Detector settings with their documented defaults. The config schema (config/) binds each
// field to a YAML key; the defaults written here are the ones docs/configuration.md shows.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::detect {

using sensor::kNanosPerSecond;
using sensor::Timestamp;

inline constexpr Timestamp kMinute = 60 * kNanosPerSecond;
inline constexpr Timestamp kHour = 60 * kMinute;

/// Where the sensor sits; changes defaults that depend on the view.
enum class Role : std::uint8_t { tap, recursive, authoritative };

/// Allowlists that every rule honours, plus each rule's own.
struct Allowlist {
  std::vector<sensor::Prefix> clients;
  std::vector<sensor::Prefix> servers;
  std::vector<std::string> domains;  ///< registered domains or suffixes; "example.com" also covers "a.example.com"
};

/// Settings shared by all rules.
struct CommonSettings {
  bool enabled = true;
  Allowlist allow;
  std::uint64_t max_keys = 65536;  ///< keyed state entries (LRU beyond)
};

struct ZoneTransferSettings : CommonSettings {
  std::uint64_t any_sweep = 5;             ///< ANY queries by one client in 10 min that make a sweep
  Timestamp transfer_idle = 30 * kNanosPerSecond;  ///< a transfer with no message for this long is finished
};

struct EnumerationSettings : CommonSettings {
  // Full windows are for (client, domain) keys past a compact candidate stage (4 x max_keys
  // candidates), so fewer are needed.
  EnumerationSettings() { max_keys = 16384; }
  std::uint64_t distinct_10m = 30;         ///< with nxdomain_ratio: names under one domain in 10 min
  double nxdomain_ratio = 0.5;             ///< ... of which at least this share NXDOMAIN
  std::uint64_t distinct_1h = 100;         ///< names in 1 h (the Sentinel rule's "> 100 per hour")
  std::uint64_t distinct_any = 300;        ///< names in 1 h (with the same evidence as distinct_1h)
  double evidence_nxdomain_ratio = 0.25;   ///< NXDOMAIN share (1 h) the volume triggers need as brute-force evidence
  double word_share = 0.5;                 ///< share of the names that must look like word-list entries
  std::uint64_t nxdomain_burst = 50;       ///< NXDOMAIN answers to one client in 5 min
  double nxdomain_burst_ratio = 0.25;      ///< ... that are at least this share of its answers
  std::uint64_t zone_nxdomain_1h = 500;    ///< distinct NXDOMAIN names under a monitored zone in 1 h, all clients
  double resolver_factor = 10.0;           ///< thresholds multiply by this for resolver clients
  std::uint64_t sketch_pool = 16384;       ///< HyperLogLog sketches (1 KiB each)
};

struct ReconSweepSettings : CommonSettings {
  std::uint64_t qtypes_10m = 4;            ///< distinct recon qtypes (MX TXT NS SOA SRV CAA DNSKEY ANY SPF)
  std::uint64_t names_10m = 3;             ///< distinct recon names (_dmarc, _domainkey, _spf, ...)
  std::uint64_t domains_10m = 20;          ///< registered domains swept for TXT/MX/_dmarc by one client
  std::uint64_t sketch_pool = 4096;
};

struct RogueResolverSettings : CommonSettings {
  std::uint64_t aggregate_servers = 3;     ///< distinct rogue servers that make one aggregated alert
  Timestamp period = 24 * kHour;           ///< one alert per (client, server) per period
  bool private_servers = false;            ///< also report RFC 1918 / ULA servers that are not sanctioned
  std::vector<std::uint16_t> ports{53, 853};
  std::uint64_t learn_min_clients = 3;     ///< internal clients a server must answer to be learned as a resolver
  double defacto_share = 0.1;              ///< zero configuration: a server used by this share of the clients of the most used one is a de-facto resolver
};

struct TunnelingSettings : CommonSettings {
  TunnelingSettings() {
    max_keys = 16384;  // full windows, past a compact candidate stage (4 x max_keys candidates)
  }
  // Per query.
  std::uint64_t min_encoded_label = 16;    ///< a label this long can carry encoded data
  double min_entropy = 0.75;               ///< normalised entropy H / log2(min(len, 64)) of such a label
  // Per (client, registered domain).
  std::uint64_t suspicious_10m = 10;       ///< encoded-looking names in 10 min
  std::uint64_t info_bytes_1h = 4096;      ///< octets of distinct subdomains in 1 h
  std::uint64_t txt_null_per_min = 50;     ///< TXT/NULL queries in one minute (encoded names or large answers)
  std::uint64_t txt_null_answer_bytes = 160;  ///< mean TXT/NULL answer octets that make the rate a channel
  std::uint64_t binary_names_10m = 4;      ///< NULL/private-type names with binary labels in 10 min
  // The seed rule (Elastic ES|QL) per client over 24 h.
  bool seed_rule = true;
  std::uint64_t seed_queries = 20, seed_unique = 10;
  double seed_avg_length = 40;
  std::uint64_t seed_min_length = 50, seed_min_labels = 5;
  std::uint64_t sketch_pool = 16384;
};

struct BeaconingSettings : CommonSettings {
  std::uint64_t min_lookups = 10;          ///< lookups before a key is scored
  double min_score = 0.7;                  ///< 0..1, RITA-style regularity score
  double clockwork_dispersion = 0.05;      ///< MAD / interval that alerts from min_lookups on (a fixed timer)
  double jitter_dispersion = 0.22;         ///< MAD / interval that alerts for a jittered beacon, held over two windows
  Timestamp min_interval = 2 * kNanosPerSecond;
  Timestamp max_interval = 2 * kHour;
  Timestamp burst = kNanosPerSecond;       ///< lookups closer than this are one lookup (A + AAAA)
  std::uint64_t popular_clients = 20;      ///< domains queried by this many clients are not scored
};

// --- issue 7: cache_snooping, resolver_switch (detectors/src/rules/{cache_snooping,resolver_switch}.cpp)
struct CacheSnoopingSettings : CommonSettings {
  CacheSnoopingSettings() { max_keys = 16384; }  // only clients sending RD=0 to resolvers get an entry
  std::uint64_t distinct_names = 10;       ///< distinct names asked with RD=0 in `window` (2..32)
  Timestamp window = 10 * kMinute;
};

struct ResolverSwitchSettings : CommonSettings {
  std::uint64_t history_queries = 10;      ///< queries to sanctioned resolvers that make an established history
  Timestamp history_span = kMinute;        ///< ... spread over at least this long
  std::uint64_t min_queries = 2;           ///< queries to the new server that raise the alert
  Timestamp period = 24 * kHour;           ///< one alert per (client, server) per period; idle history forgotten
  std::vector<std::uint16_t> ports{53, 853};
};

struct AnswerChangeSettings : CommonSettings {
  AnswerChangeSettings() { max_keys = 16384; }  // (name, type) pairs of the monitored zones
  Timestamp learning_period = 24 * kHour;  ///< values of a (name, type) in this long after its first sighting are its baseline
  std::vector<sensor::Prefix> allowed_addresses;  ///< declared: A/AAAA inside these never alert
  std::vector<std::string> nameservers;      ///< declared NS targets: others alert without learning
  std::vector<std::string> mail_exchangers;  ///< declared MX exchanges: others alert without learning
  double ttl_drop_factor = 10;              ///< an authoritative TTL this many times below the learned one alerts
  std::uint64_t ttl_min = 300;              ///< ... when the learned TTL was at least this (seconds)
  std::uint64_t escalate_changes = 3;       ///< changes in one zone within an hour that raise severity to high
};

struct SpoofedResponseSettings : CommonSettings {
  SpoofedResponseSettings() { max_keys = 16384; }  // only clients receiving unsolicited responses get an entry
  Timestamp window = 10 * kNanosPerSecond;  ///< window of the unsolicited-response counts
  std::uint64_t txid_mismatch = 10;         ///< unsolicited responses with one question to one client in the window
  std::uint64_t reflection = 500;           ///< unsolicited responses of any question to one client in the window
  std::uint64_t reflection_servers = 20;    ///< ... from this many servers: judged even where queries are not visible
  bool conflicting_answers = true;          ///< two responses with different answers to one query
  bool wrong_source = true;                 ///< a response from another address than the query went to
};
// --- end issue 7

// --- issue 7 item 5: threat-intel lists and intel_match (detectors/src/intel.cpp, rules/intel_match.cpp)
class IntelLists;

/// Threat-intel list files (YAML `intel:`). The configuration loader reads the files into
/// `lists` (relative paths against the configuration file's folder); rules and the engine
/// only read `lists`, shared by every worker.
struct IntelSettings {
  std::vector<std::string> ip_files;      ///< addresses and CIDR prefixes, one a line
  std::vector<std::string> domain_files;  ///< domains, one a line; each covers its subdomains
  std::shared_ptr<const IntelLists> lists;  ///< null: no lists
};

struct IntelMatchSettings : CommonSettings {
  IntelMatchSettings() { max_keys = 16384; }  // only (client, indicator) pairs that matched get an entry
};
// --- end issue 7 item 5

/// Parses prefixes that are known to be valid (defaults written in code).
[[nodiscard]] std::vector<sensor::Prefix> prefixes(std::initializer_list<const char*> texts);

/// Client roles (YAML `roles:`): configured lists, and learning from traffic. A role exempts only
/// the pattern it explains (docs/detectors.md, "Client roles").
struct RoleSettings {
  bool learn = true;                          ///< learn mail servers, monitoring hosts, container nodes
  std::vector<sensor::Prefix> monitoring;     ///< hosts that sweep PTR names (SIEM, scanners of your own nets)
  std::vector<sensor::Prefix> container_nodes;  ///< hosts whose stub resolver expands search lists (ndots)
  std::uint64_t mail_domains = 5;             ///< distinct domains with sender-policy lookups (MX, SPF, DMARC, DKIM) ...
  std::uint64_t mail_checks = 3;              ///< ... and blocklist or outside-PTR lookups, or policy names asked again: a mail server
  std::uint64_t monitoring_ptr = 64;          ///< distinct PTR names in 10 min: a monitoring host
  std::uint64_t container_bases = 3;          ///< names tried with two or more search suffixes: a container node
};

/// Network policy (YAML `network:`).
struct NetworkPolicySettings {
  /// Internal address space: RFC 1918 and IPv6 ULA.
  std::vector<sensor::Prefix> internal = prefixes({"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"});
  std::vector<sensor::Prefix> resolvers;    ///< sanctioned recursive resolvers
  std::vector<sensor::Prefix> secondaries;  ///< allowed to transfer zones
  std::vector<sensor::Prefix> mail_servers; ///< client role: mail servers (expected to sweep MX/TXT)
  std::vector<sensor::Prefix> scanners;     ///< client role: authorised scanners (exempt from recon rules)
  std::vector<std::string> monitored_zones; ///< zones this site serves (zone-wide views)
  Role role = Role::tap;
};

struct DetectorSettings {
  NetworkPolicySettings network;
  RoleSettings roles;
  /// One activity, one alert: an alert of a rule that another rule's alert on the same
  /// (client, domain) explains is held this long (packet time) so that it can be attached to
  /// it as context (0: never held; folding into an earlier alert still happens).
  Timestamp precedence_hold = 30 * kNanosPerSecond;
  Allowlist allow;                          ///< honoured by every rule
  Timestamp suppression = 30 * kMinute;     ///< one alert per (rule, key) per period, then a summary
  std::uint64_t samples = 5;                ///< sample names per alert
  std::uint64_t suppression_keys = 65536;
  ZoneTransferSettings zone_transfer;
  EnumerationSettings enumeration;
  ReconSweepSettings recon_sweep;
  RogueResolverSettings rogue_resolver;
  TunnelingSettings tunneling;
  BeaconingSettings beaconing;
  CacheSnoopingSettings cache_snooping;    // issue 7
  ResolverSwitchSettings resolver_switch;  // issue 7
  AnswerChangeSettings answer_change;      // issue 7
  SpoofedResponseSettings spoofed_response;  // issue 7
  IntelSettings intel;                     // issue 7 item 5 (YAML intel:)
  IntelMatchSettings intel_match;          // issue 7 item 5
};

}  // namespace dnsvigil::detect
