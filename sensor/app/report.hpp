// The HTML report of a run (--report, outputs.report): gathers the figures the end-of-run
// summary shows from Run, adds the configuration in effect, and writes the page.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dnsvigil/capture/source.hpp"
#include "dnsvigil/config/settings.hpp"
#include "dnsvigil/dnstap/dnstap.hpp"
#include "dnsvigil/output/report.hpp"
#include "run.hpp"

namespace dnsvigil::app {

/// What the service knows about the run beyond Run itself.
struct ReportContext {
  std::string hostname, version;
  bool live = false;    ///< live capture or dnstap (else a replay)
  bool final = false;   ///< the end of the run
  std::vector<std::string> inputs;
  double seconds = 0;   ///< wall-clock time since the start
  std::vector<std::pair<std::string, capture::CaptureStats>> capture;
  const dnstap::Listener* dnstap = nullptr;
};

/// Every key of the configuration schema with its value in `s` and its default.
[[nodiscard]] std::vector<output::ReportInput::Setting> settings_rows(const config::Settings& s);

/// The page of the run so far (Run::counters, Run::learned, the alerts per rule, the traffic).
/// Capture thread (Run::report_parts may ask the workers for their figures).
[[nodiscard]] std::string report_page(Run& run, const config::Settings& s, const ReportContext& ctx);

/// Writes report_page() to s.outputs.report.path (through a temporary file and a rename).
/// Throws std::runtime_error when the file cannot be written.
void write_report(Run& run, const config::Settings& s, const ReportContext& ctx);

/// Checks at start-up that the report file can be written (creating it), so that a long replay
/// does not fail at its end. Throws std::runtime_error with the reason.
void check_report_path(const std::string& path);

}  // namespace dnsvigil::app
