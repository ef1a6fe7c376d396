// The alert outputs: ECS JSON lines, readable text lines, and syslog (RFC 5424 / RFC 3164 over
// the local socket, UDP, or TCP with RFC 6587 octet counting).
#pragma once

#include <memory>
#include <string>

#include "dnsvigil/output/alert_json.hpp"
#include "dnsvigil/output/queue.hpp"

namespace dnsvigil::output {

/// ECS JSON lines to a file or "-".
[[nodiscard]] std::unique_ptr<AlertOutput> make_json_output(const std::string& path, const Observer& obs);
/// One readable line per alert to a file or "-".
[[nodiscard]] std::unique_ptr<AlertOutput> make_text_output(const std::string& path);

/// Syslog severities (RFC 5424 §6.2.1) for the four alert severities.
struct SyslogSeverities {
  int low = 5, medium = 4, high = 3, critical = 2;  // notice, warning, err, crit
};

struct SyslogOptions {
  std::string transport = "unix";  ///< unix, udp, tcp
  std::string address = "/dev/log";
  std::string format = "rfc5424";  ///< rfc5424, rfc3164
  int facility = 21;               ///< local5
  SyslogSeverities severity;
  std::string app_name = "dnsvigil";
  std::string hostname;
};

/// Syslog numeric facility of a name ("local5" -> 21), or -1.
[[nodiscard]] int syslog_facility(std::string_view name) noexcept;
/// Syslog numeric severity of a name ("warning" -> 4), or -1.
[[nodiscard]] int syslog_severity(std::string_view name) noexcept;

/// Formats an alert as an RFC 5424 message: the alert in structured data ([alert@32473 ...]
/// and [evidence@32473 ...]) and its reason as MSG. 32473 is the example enterprise number of
/// RFC 5612.
[[nodiscard]] std::string format_rfc5424(const detect::Alert& a, const SyslogOptions& o, int pid);
/// Formats an alert as an RFC 3164 (BSD) message.
[[nodiscard]] std::string format_rfc3164(const detect::Alert& a, const SyslogOptions& o, int pid);

[[nodiscard]] std::unique_ptr<AlertOutput> make_syslog_output(const SyslogOptions& o);

}  // namespace dnsvigil::output
