// One run of the sensor: pipeline, detection engine, outputs, metrics text.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dnsvigil/capture/source.hpp"
#include "dnsvigil/config/settings.hpp"
#include "dnsvigil/detect/engine.hpp"
#include "dnsvigil/output/alert_json.hpp"
#include "dnsvigil/output/json.hpp"
#include "dnsvigil/output/line_writer.hpp"
#include "dnsvigil/output/queue.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

namespace dnsvigil::app {

/// Sends each alert to every output and counts alerts per rule.
class AlertFanout final : public detect::AlertSink {
 public:
  void emit(const detect::Alert& a) override;
  std::vector<std::unique_ptr<output::QueuedOutput>> outputs;
  std::map<std::string_view, std::uint64_t> per_rule;
};

/// Builds the alert outputs a configuration asks for (each behind its own queue and thread).
[[nodiscard]] std::vector<std::unique_ptr<output::QueuedOutput>> make_outputs(const config::Settings& s,
                                                                            const output::Observer& obs);

class Run final : public sensor::EventSink, public capture::FrameHandler {
 public:
  Run(const config::Settings& s, output::Observer obs);
  ~Run() override;

  void on_event(const sensor::DnsEvent& ev) override;
  void on_unanswered(const sensor::UnansweredQuery& q) override;
  void on_flow(const sensor::FlowEvent& f) override;
  void on_tick(sensor::Timestamp now) override;
  void on_frame(sensor::Timestamp ts, dnsparse::Bytes frame, std::uint32_t wire_len) override;

  void set_source(int link_type, std::uint8_t input) noexcept {
    link_type_ = link_type;
    input_ = input;
  }
  /// Applies a new configuration: rules and outputs are rebuilt (rule state starts afresh);
  /// capture and reassembly settings need a restart and are reported in `notes`.
  void reload(const config::Settings& s, std::vector<std::string>& notes);
  /// Reopens output files (logrotate).
  void reopen();
  /// End of input: drains TCP streams and transactions, ends suppression periods, flushes outputs.
  void finish();

  [[nodiscard]] const sensor::Pipeline& pipeline() const noexcept { return pipeline_; }
  [[nodiscard]] const detect::Engine* engine() const noexcept { return engine_.get(); }
  [[nodiscard]] const AlertFanout& alerts() const noexcept { return fanout_; }
  /// Prometheus text of everything (capture stats passed in by the caller).
  [[nodiscard]] std::string metrics(const std::vector<std::pair<std::string, capture::CaptureStats>>& capture) const;
  /// One log line of the main figures.
  [[nodiscard]] std::string stats_line(double seconds) const;

 private:
  config::Settings settings_;
  output::Observer obs_;
  sensor::Pipeline pipeline_;
  std::unique_ptr<output::LineWriter> dump_;
  output::Json json_;
  AlertFanout fanout_;
  std::unique_ptr<detect::Engine> engine_;
  int link_type_ = 0;
  std::uint8_t input_ = 0;
};

}  // namespace dnsvigil::app
