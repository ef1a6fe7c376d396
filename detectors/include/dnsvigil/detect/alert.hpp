// Alerts: what a rule found, with its MITRE ATT&CK mapping and evidence. Serialised to ECS
// JSON and RFC 5424 structured data by the outputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::detect {

using sensor::IpAddr;
using sensor::Timestamp;

enum class Severity : std::uint8_t { low, medium, high, critical };

/// "low" ... "critical".
[[nodiscard]] std::string_view severity_name(Severity s) noexcept;
/// ECS event.severity numbers (as Elastic detection rules use): 21, 47, 73, 99.
[[nodiscard]] int severity_score(Severity s) noexcept;

/// MITRE ATT&CK mapping of a rule.
struct Mitre {
  std::string_view tactic_id, tactic_name;
  std::string_view technique_id, technique_name;
  std::string_view subtechnique_id, subtechnique_name;  ///< empty when none
};

/// Static description of a rule.
struct RuleInfo {
  std::string_view name;         ///< rule.name, e.g. "zone_transfer"
  std::string_view id;           ///< rule.id, stable, e.g. "dnsvigil-0001"
  std::string_view description;  ///< rule.description
  Mitre mitre;
};

/// A threat-intel list entry that an alert's client, server or question name matched
/// (ECS threat.enrichments). The engine fills these for every rule's alerts.
struct IntelMatch {
  std::string indicator;    ///< the list entry: "198.51.100.53", "198.51.100.0/24", "badexample.io"
  std::string list;         ///< base name of the list file (ECS threat.enrichments.indicator.provider)
  std::string matched;      ///< the value seen: the address, or the whole question name
  std::string_view field;   ///< ECS field of the alert that matched: source.ip, destination.ip, dns.question.name
  std::string_view type;    ///< ECS indicator type: "ipv4-addr", "ipv6-addr", "domain-name"
};

using EvidenceValue = std::variant<std::int64_t, double, bool, std::string, std::vector<std::string>>;

/// Another rule's alert about the same activity, attached to the alert that explains it (one
/// activity, one alert: docs/detectors.md, "One activity, one alert").
struct RelatedAlert {
  std::string_view rule;   ///< rule.name of the folded alert
  std::string trigger;     ///< its evidence.trigger (empty when it has none)
  std::string reason;      ///< its message
};

/// One alert. Alerts are rare, so they own their strings.
struct Alert {
  const RuleInfo* rule = nullptr;
  Timestamp ts = 0;  ///< packet time of the trigger
  Severity severity = Severity::medium;
  std::string reason;  ///< one readable sentence: what crossed which threshold
  // Who and where.
  bool has_client = false, has_server = false;
  IpAddr client, server;
  std::uint16_t client_port = 0, server_port = 0;
  std::string transport;  ///< "udp"/"tcp" when one applies
  // DNS context, when one applies.
  std::string qname, registered_domain;
  std::uint16_t qtype = 0;
  // Evidence.
  Timestamp first_seen = 0, last_seen = 0;
  std::vector<std::pair<std::string, EvidenceValue>> evidence;
  std::vector<std::string> samples;
  std::vector<IntelMatch> intel;  ///< threat-intel matches of client, server and question name
  std::string client_role;        ///< the client's roles, configured or learned ("mail_server,resolver")
  std::vector<RelatedAlert> related;  ///< alerts of other rules folded into this one
  // Suppression.
  bool summary = false;           ///< a later summary of a suppressed (rule, key)
  std::uint64_t suppressed = 0;   ///< triggers folded into this alert since the first one

  Alert& with(std::string key, EvidenceValue v) {
    evidence.emplace_back(std::move(key), std::move(v));
    return *this;
  }
};

/// Receives alerts that passed suppression.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void emit(const Alert& a) = 0;
};

}  // namespace dnsvigil::detect
