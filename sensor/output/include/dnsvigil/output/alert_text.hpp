// One readable line per alert (like Suricata's fast.log), for terminals and quick looks.
#pragma once

#include <string>
#include <string_view>

#include "dnsvigil/detect/alert.hpp"

namespace dnsvigil::output {

/// "2024-06-01T10:00:00.000000000Z [high] zone_transfer T1590.002 203.0.113.66 -> 10.20.0.10:53 tcp
///  example.net: <reason>" (no newline).
void write_alert_text(const detect::Alert& a, std::string& out);

/// An evidence value as text, as every output shows it: integers in full, other numbers with four
/// significant digits, true/false, strings as they are; a list joined by `separator`, or, when
/// `separator` is empty, as a JSON array of strings.
[[nodiscard]] std::string evidence_text(const detect::EvidenceValue& v, std::string_view separator);

}  // namespace dnsvigil::output
