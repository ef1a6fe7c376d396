// ECS JSON for alerts (--alerts-json and the JSON outputs). docs/outputs.md shows an example.
#pragma once

#include <string>

#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/output/json.hpp"

namespace dnsvigil::output {

/// Who observed the alert (ECS observer.*).
struct Observer {
  std::string hostname;
  std::string version;
};

/// Writes one alert as an ECS document into `j` (cleared first).
void write_alert_json(const detect::Alert& a, const Observer& obs, Json& j);

/// The MITRE ATT&CK URL of a tactic or technique id ("T1590.002" -> .../techniques/T1590/002/).
[[nodiscard]] std::string mitre_url(std::string_view id);

}  // namespace dnsvigil::output
