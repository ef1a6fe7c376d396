// One readable line per alert (like Suricata's fast.log), for terminals and quick looks.
#pragma once

#include <string>

#include "dnsvigil/detect/alert.hpp"

namespace dnsvigil::output {

/// "2024-06-01T10:00:00.000000000Z [high] zone_transfer T1590.002 203.0.113.66 -> 10.20.0.10:53 tcp
///  example.net: <reason>" (no newline).
void write_alert_text(const detect::Alert& a, std::string& out);

}  // namespace dnsvigil::output
