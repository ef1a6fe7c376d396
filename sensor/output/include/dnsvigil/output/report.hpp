// The HTML report (--report FILE, outputs.report): one self-contained page (inline CSS, SVG
// charts and a little script for sorting tables; no network access) with the capture's figures,
// the alerts and the traffic. Every text that comes from packets, alerts or the configuration
// goes through html_escape().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/output/traffic.hpp"
#include "dnsvigil/sensor/counters.hpp"

namespace dnsvigil::output {

/// Appends `text` to `out` so that it is inert in HTML text and in quoted attribute values:
/// `& < > " '` become character references; control characters (other than tab and newline),
/// DEL and octets that are not part of well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing past U+10FFFF) become the visible text `\xNN`. The result is always
/// valid UTF-8.
void html_escape(std::string& out, std::string_view text);
/// The same, returned.
[[nodiscard]] std::string html_escaped(std::string_view text);

/// The alerts a report lists, and every alert's time per rule. At most `max_alerts` alerts are
/// kept: when full, a new alert takes the place of the oldest of the lowest severity held if it
/// is more severe, otherwise it is only counted (not_listed()). The timelines count every alert.
/// Not thread-safe: AlertFanout calls it under its lock.
class AlertLog {
 public:
  explicit AlertLog(std::size_t max_alerts = 1000) : max_(max_alerts) {}
  void add(const detect::Alert& a);

  /// Kept alerts, in the order they came.
  [[nodiscard]] const std::vector<detect::Alert>& alerts() const noexcept { return alerts_; }
  /// Alerts counted but not kept.
  [[nodiscard]] std::uint64_t not_listed() const noexcept { return not_listed_; }
  /// Alerts per rule over packet time.
  [[nodiscard]] const std::map<std::string_view, TimeSeries>& timelines() const noexcept { return timelines_; }
  [[nodiscard]] std::size_t max_alerts() const noexcept { return max_; }

 private:
  std::size_t max_;
  std::vector<detect::Alert> alerts_;
  std::map<std::string_view, TimeSeries> timelines_;
  std::uint64_t not_listed_ = 0;
};

/// Everything a report shows. The figures come from where the end-of-run summary and the metrics
/// take theirs (Run::counters, Run::learned, AlertFanout::per_rule, the engines' counters).
struct ReportInput {
  // The run.
  std::string hostname, version;
  Timestamp generated = 0;         ///< wall-clock time of the report
  bool live = false;               ///< a live sensor (else a replay)
  bool final = false;              ///< written at the end of the run (else while running)
  std::vector<std::string> inputs; ///< files, interfaces, dnstap endpoints
  double seconds = 0;              ///< wall-clock time since the start
  sensor::Counters counters;
  struct Capture {
    std::string name;
    std::uint64_t received = 0, dropped = 0, if_dropped = 0;
  };
  std::vector<Capture> capture;    ///< live interfaces (pcap_stats)
  std::vector<std::pair<std::string, std::uint64_t>> dnstap;  ///< dnstap listener figures, by name

  // Learned from traffic (Run::learned).
  struct Learned {
    std::vector<std::pair<sensor::IpAddr, std::string>> clients;  ///< clients and their learned roles
    std::size_t mail_servers = 0, monitoring = 0, container_nodes = 0;
    std::vector<std::pair<sensor::IpAddr, double>> resolvers;  ///< de-facto resolvers and their clients
    std::size_t internal_resolvers = 0;
    bool resolvers_configured = false;
  } learned;

  // Alerts.
  bool detecting = false;          ///< rules ran (some alert output was configured)
  std::map<std::string_view, std::uint64_t> per_rule;  ///< alerts per rule, summaries included
  std::uint64_t suppressed = 0, folded = 0, role_explained = 0, output_dropped = 0;
  const AlertLog* alerts = nullptr;

  // Traffic (nullptr when it was not collected).
  const Traffic* traffic = nullptr;
  std::size_t top = 20;            ///< rows of the top-client, domain and server tables

  // The configuration in effect: every key, its value and its default, in schema order.
  struct Setting {
    std::string key, value, default_value;
  };
  std::vector<Setting> settings;

  /// The CSP nonce of the page's style and script; empty: a random one.
  std::string nonce;
};

/// The page: a complete HTML5 document (UTF-8).
[[nodiscard]] std::string build_report(const ReportInput& in);

/// Writes `page` to `path` through a temporary file in the same folder and a rename, so a reader
/// never sees half a page; where the folder is not writable, the file is rewritten in place.
/// Throws std::runtime_error with the reason when neither works.
void write_report_file(const std::string& path, std::string_view page);

}  // namespace dnsvigil::output
