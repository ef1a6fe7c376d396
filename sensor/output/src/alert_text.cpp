#include "dnsvigil/output/alert_text.hpp"

#include <cstdio>
#include <type_traits>
#include <variant>

#include "dnsvigil/output/json.hpp"

namespace dnsvigil::output {

std::string evidence_text(const detect::EvidenceValue& v, std::string_view separator) {
  return std::visit(
      [&](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          char b[32];
          std::snprintf(b, sizeof b, "%.4g", x);
          return b;
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if (separator.empty()) {
          Json j;
          j.begin_array();
          for (const auto& s : x) j.str(s);
          j.end_array();
          return std::string(j.line());
        } else {
          std::string out;
          for (const auto& s : x) {
            if (!out.empty()) out += separator;
            out += s;
          }
          return out;
        }
      },
      v);
}

void write_alert_text(const detect::Alert& a, std::string& out) {
  char buf[512];
  dnsparse::TextWriter w(buf);
  sensor::write_rfc3339(a.ts, w);
  w.put(" [");
  w.put(detect::severity_name(a.severity));
  w.put("] ");
  w.put(a.rule->name);
  w.put(' ');
  w.put(a.rule->mitre.subtechnique_id.empty() ? a.rule->mitre.technique_id : a.rule->mitre.subtechnique_id);
  if (a.has_client) {
    w.put(' ');
    a.client.write(w);
  }
  if (a.has_server) {
    w.put(" -> ");
    a.server.write(w);
    if (a.server_port != 0) {
      w.put(':');
      w.put_uint(a.server_port);
    }
  }
  if (!a.transport.empty()) {
    w.put(' ');
    w.put(a.transport);
  }
  out.assign(w.view());
  if (a.summary) out += " (summary: " + std::to_string(a.suppressed) + " more)";
  for (const auto& m : a.intel) out += " [intel " + m.indicator + " (" + m.list + ")]";
  if (!a.client_role.empty()) out += " [role " + a.client_role + "]";
  for (const auto& r : a.related) out += " [related " + std::string(r.rule) + (r.trigger.empty() ? "" : " " + r.trigger) + "]";
  out += ": ";
  out += a.reason;
}

}  // namespace dnsvigil::output
