#include "dnsvigil/output/alert_json.hpp"

#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::output {

using dnsparse::TextWriter;

std::string mitre_url(std::string_view id) {
  if (id.substr(0, 2) == "TA") return "https://attack.mitre.org/tactics/" + std::string(id) + "/";
  std::string path(id);
  const auto dot = path.find('.');
  if (dot != std::string::npos) path[dot] = '/';
  return "https://attack.mitre.org/techniques/" + path + "/";
}

namespace {

void time_field(Json& j, std::string_view key, sensor::Timestamp ts) {
  j.key(key).str_with([&](TextWriter& w) { sensor::write_rfc3339(ts, w); });
}

void ip_field(Json& j, std::string_view key, const sensor::IpAddr& ip) {
  j.key(key).str_with([&](TextWriter& w) { ip.write(w); });
}

void evidence_value(Json& j, const detect::EvidenceValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          j.num(x);
        } else if constexpr (std::is_same_v<T, double>) {
          char b[32];
          std::snprintf(b, sizeof b, "%.4g", x);
          j.raw(b);
        } else if constexpr (std::is_same_v<T, bool>) {
          j.boolean(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          j.str(x);
        } else {
          j.begin_array();
          for (const auto& s : x) j.str(s);
          j.end_array();
        }
      },
      v);
}

// One indicator object (ECS threat.indicator.* fields).
void indicator(Json& j, const detect::IntelMatch& m) {
  j.key("indicator").begin_object();
  j.kv("type", m.type);
  if (m.type == "domain-name") {
    j.key("url").begin_object().kv("domain", m.indicator).end_object();
  } else {
    // ECS indicator.ip is an address: the one seen, inside the listed prefix (name has the entry).
    j.kv("ip", m.matched);
  }
  j.kv("name", m.indicator);
  j.kv("provider", m.list);
  j.end_object();
}

// ECS threat.enrichments: an alert that matched indicators lists them there, each with the
// indicator (threat.enrichments.indicator.*) and what of the alert matched it (matched.*), as
// Elastic's indicator match rules write them. threat.indicator.* carries the first match as
// well, for SIEM rules and dashboards that read that field set.
void intel_enrichments(Json& j, const std::vector<detect::IntelMatch>& matches) {
  indicator(j, matches.front());
  j.key("enrichments").begin_array();
  for (const auto& m : matches) {
    j.begin_object();
    indicator(j, m);
    j.key("matched").begin_object();
    j.kv("atomic", m.matched).kv("field", m.field).kv("type", "indicator_match_rule");
    j.end_object();
    j.end_object();
  }
  j.end_array();
}

}  // namespace

void write_alert_json(const detect::Alert& a, const Observer& obs, Json& j) {
  const detect::RuleInfo& r = *a.rule;
  j.clear();
  j.begin_object();
  time_field(j, "@timestamp", a.ts);
  j.kv("message", a.reason);

  j.key("event").begin_object();
  j.kv("kind", "alert");
  j.key("category").begin_array().str("network").str("intrusion_detection").end_array();
  j.key("type").begin_array().str("info").end_array();
  j.kv("dataset", "dnsvigil.alert");
  j.kv("module", "dnsvigil");
  j.key("severity").num(static_cast<std::int64_t>(detect::severity_score(a.severity)));
  j.kv("reason", a.reason);
  if (a.first_seen != 0) time_field(j, "start", a.first_seen);
  if (a.last_seen != 0) time_field(j, "end", a.last_seen);
  j.end_object();

  j.key("rule").begin_object();
  j.kv("name", r.name);
  j.kv("id", r.id);
  j.kv("description", r.description);
  j.kv("ruleset", "dnsvigil");
  j.kv("category", "DNS");
  j.kv("version", obs.version);
  j.end_object();

  j.key("threat").begin_object();
  j.kv("framework", "MITRE ATT&CK");
  j.key("tactic").begin_object();
  j.kv("id", r.mitre.tactic_id).kv("name", r.mitre.tactic_name).kv("reference", mitre_url(r.mitre.tactic_id));
  j.end_object();
  j.key("technique").begin_object();
  j.kv("id", r.mitre.technique_id).kv("name", r.mitre.technique_name).kv("reference", mitre_url(r.mitre.technique_id));
  if (!r.mitre.subtechnique_id.empty()) {
    j.key("subtechnique").begin_object();
    j.kv("id", r.mitre.subtechnique_id)
        .kv("name", r.mitre.subtechnique_name)
        .kv("reference", mitre_url(r.mitre.subtechnique_id));
    j.end_object();
  }
  j.end_object();
  if (!a.intel.empty()) intel_enrichments(j, a.intel);
  j.end_object();

  if (a.has_client) {
    j.key("source").begin_object();
    ip_field(j, "ip", a.client);
    if (a.client_port != 0) j.kv("port", std::uint64_t{a.client_port});
    j.end_object();
  }
  if (a.has_server) {
    j.key("destination").begin_object();
    ip_field(j, "ip", a.server);
    if (a.server_port != 0) j.kv("port", std::uint64_t{a.server_port});
    j.end_object();
  }
  j.key("network").begin_object();
  j.kv("protocol", "dns");
  if (!a.transport.empty()) j.kv("transport", a.transport);
  j.end_object();

  if (!a.qname.empty() || !a.registered_domain.empty()) {
    j.key("dns").begin_object().key("question").begin_object();
    if (!a.qname.empty()) j.kv("name", a.qname);
    if (!a.registered_domain.empty()) j.kv("registered_domain", a.registered_domain);
    if (a.qtype != 0) j.kv("type", dnsparse::Mnemonic::type(a.qtype).view());
    j.end_object().end_object();
  }

  j.key("observer").begin_object();
  j.kv("type", "sensor").kv("vendor", "dnsvigil").kv("product", "dnsvigil").kv("version", obs.version);
  if (!obs.hostname.empty()) j.kv("hostname", obs.hostname);
  j.end_object();

  j.key("dnsvigil").begin_object();
  j.kv("severity", detect::severity_name(a.severity));
  if (a.summary) {
    j.kvb("summary", true);
    j.kv("suppressed", a.suppressed);
  }
  if (!a.client_role.empty()) j.kv("client_role", a.client_role);
  if (!a.related.empty()) {
    j.key("related").begin_array();
    for (const auto& rel : a.related) {
      j.begin_object().kv("rule", rel.rule);
      if (!rel.trigger.empty()) j.kv("trigger", rel.trigger);
      j.kv("message", rel.reason).end_object();
    }
    j.end_array();
  }
  if (a.first_seen != 0) time_field(j, "first_seen", a.first_seen);
  if (a.last_seen != 0) time_field(j, "last_seen", a.last_seen);
  j.key("evidence").begin_object();
  for (const auto& [k, v] : a.evidence) {
    j.key(k);
    evidence_value(j, v);
  }
  j.end_object();
  if (!a.samples.empty()) {
    j.key("samples").begin_array();
    for (const auto& s : a.samples) j.str(s);
    j.end_array();
  }
  j.end_object();
  j.end_object();
}

}  // namespace dnsvigil::output
