#include "run.hpp"

#include "dnsvigil/dnsparse/error.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/output/metrics.hpp"
#include "dnsvigil/output/outputs.hpp"

namespace dnsvigil::app {

void AlertFanout::emit(const detect::Alert& a) {
  ++per_rule[a.rule->name];
  for (auto& o : outputs) o->emit(a);
}

std::vector<std::unique_ptr<output::QueuedOutput>> make_outputs(const config::Settings& s, const output::Observer& obs) {
  std::vector<std::unique_ptr<output::QueuedOutput>> out;
  const auto queued = [&](std::unique_ptr<output::AlertOutput> o) {
    out.push_back(std::make_unique<output::QueuedOutput>(std::move(o), s.outputs.queue, s.outputs.rate_limit));
  };
  if (!s.outputs.alerts_json.empty()) queued(output::make_json_output(s.outputs.alerts_json, obs));
  if (!s.outputs.alerts_text.empty()) queued(output::make_text_output(s.outputs.alerts_text));
  if (s.outputs.syslog.enabled) {
    const auto& y = s.outputs.syslog;
    output::SyslogOptions o;
    o.transport = y.transport;
    o.address = y.address;
    o.format = y.format;
    o.facility = output::syslog_facility(y.facility);
    o.severity = {output::syslog_severity(y.severity_low), output::syslog_severity(y.severity_medium),
                  output::syslog_severity(y.severity_high), output::syslog_severity(y.severity_critical)};
    o.app_name = y.app_name;
    o.hostname = obs.hostname;
    queued(output::make_syslog_output(o));
  }
  return out;
}

Run::Run(const config::Settings& s, output::Observer obs)
    : settings_(s), obs_(std::move(obs)), pipeline_(s.pipeline, *this) {
  if (!s.outputs.events_json.empty()) dump_ = std::make_unique<output::LineWriter>(s.outputs.events_json);
  fanout_.outputs = make_outputs(s, obs_);
  if (!fanout_.outputs.empty()) engine_ = std::make_unique<detect::Engine>(s.detectors, fanout_);
}

Run::~Run() = default;

void Run::on_event(const sensor::DnsEvent& ev) {
  if (dump_) {
    output::write_event_json(ev, json_);
    dump_->write(json_.line());
  }
  if (engine_) engine_->on_event(ev);
}

void Run::on_unanswered(const sensor::UnansweredQuery& q) {
  if (dump_) {
    output::write_unanswered_json(q, json_);
    dump_->write(json_.line());
  }
  if (engine_) engine_->on_unanswered(q);
}

void Run::on_flow(const sensor::FlowEvent& f) {
  if (engine_) engine_->on_flow(f);
}

void Run::on_tick(sensor::Timestamp now) {
  if (engine_) engine_->on_tick(now);
}

void Run::on_frame(sensor::Timestamp ts, dnsparse::Bytes frame, std::uint32_t /*wire_len*/) {
  pipeline_.on_frame(link_type_, ts, frame, input_);
}

void Run::reload(const config::Settings& s, std::vector<std::string>& notes) {
  if (s.capture.snaplen != settings_.capture.snaplen || s.capture.buffer_size != settings_.capture.buffer_size ||
      s.capture.filter != settings_.capture.filter || s.capture.interfaces != settings_.capture.interfaces)
    notes.emplace_back("capture settings change on restart only");
  if (s.pipeline.dns_ports != settings_.pipeline.dns_ports || s.workers != settings_.workers)
    notes.emplace_back("capture.dns_ports and workers change on restart only");
  if (engine_) engine_->finish();
  for (auto& o : fanout_.outputs) o->close(2000);
  fanout_.outputs = make_outputs(s, obs_);
  engine_.reset();
  if (!fanout_.outputs.empty()) engine_ = std::make_unique<detect::Engine>(s.detectors, fanout_);
  const std::string dump_path = dump_ ? dump_->path() : std::string();
  if (s.outputs.events_json != dump_path) {
    dump_.reset();
    if (!s.outputs.events_json.empty()) dump_ = std::make_unique<output::LineWriter>(s.outputs.events_json);
  }
  const auto keep_pipeline = settings_.pipeline;
  settings_ = s;
  settings_.pipeline = keep_pipeline;
}

void Run::reopen() {
  if (dump_) dump_->reopen();
  for (auto& o : fanout_.outputs) o->reopen();
}

void Run::finish() {
  pipeline_.finish();
  if (engine_) engine_->finish();
  if (dump_) dump_->flush();
  for (auto& o : fanout_.outputs) o->close();
}

std::string Run::metrics(const std::vector<std::pair<std::string, capture::CaptureStats>>& capture) const {
  using output::PromText;
  PromText p;
  const sensor::Counters& c = pipeline_.counters();
  for (std::size_t i = 0; i < sensor::kCounterCount; ++i) {
    const auto k = static_cast<sensor::Counter>(i);
    const std::string name = "dnsvigil_" + std::string(sensor::counter_id(k)) + "_total";
    p.family(name, "counter", std::string(sensor::counter_help(k)));
    p.sample(name, "", c.values[i]);
  }
  p.family("dnsvigil_dns_parse_errors_by_reason_total", "counter", "DNS messages dropped by a fatal parse error, by reason");
  for (std::size_t i = 1; i < c.parse_errors.size(); ++i)
    p.sample("dnsvigil_dns_parse_errors_by_reason_total",
             "reason=\"" + std::string(dnsparse::error_id(static_cast<dnsparse::Error>(i))) + "\"", c.parse_errors[i]);
  p.family("dnsvigil_dns_anomalies_total", "counter", "DNS messages with a recoverable oddity, by anomaly id");
  for (std::size_t i = 0; i < c.anomalies.size(); ++i)
    p.sample("dnsvigil_dns_anomalies_total",
             "id=\"" + std::string(dnsparse::anomaly_id(static_cast<dnsparse::Anomaly>(i))) + "\"", c.anomalies[i]);
  p.family("dnsvigil_capture_received_total", "counter", "Packets the kernel filter accepted (pcap_stats)");
  for (const auto& [iface, s] : capture) p.sample("dnsvigil_capture_received_total", "interface=\"" + PromText::escape(iface) + "\"", s.received);
  p.family("dnsvigil_capture_dropped_total", "counter", "Packets dropped before dnsvigil saw them (pcap_stats)");
  for (const auto& [iface, s] : capture) {
    p.sample("dnsvigil_capture_dropped_total", "interface=\"" + PromText::escape(iface) + "\",by=\"kernel\"", s.dropped);
    p.sample("dnsvigil_capture_dropped_total", "interface=\"" + PromText::escape(iface) + "\",by=\"interface\"", s.if_dropped);
  }
  p.family("dnsvigil_table_entries", "gauge", "Entries in the packet path's bounded tables");
  p.sample("dnsvigil_table_entries", "table=\"tcp_flows\"", std::uint64_t{pipeline_.tcp_flows()});
  p.sample("dnsvigil_table_entries", "table=\"ip_fragments\"", std::uint64_t{pipeline_.fragments_pending()});
  p.sample("dnsvigil_table_entries", "table=\"transactions\"", std::uint64_t{pipeline_.transactions_pending()});
  if (engine_) {
    const auto stats = engine_->stats();
    p.family("dnsvigil_detector_state_entries", "gauge", "Keyed state entries per rule");
    for (const auto& s : stats) p.sample("dnsvigil_detector_state_entries", "rule=\"" + std::string(s.rule) + "\"", std::uint64_t{s.keys});
    p.family("dnsvigil_detector_state_capacity", "gauge", "Keyed state capacity per rule");
    for (const auto& s : stats) p.sample("dnsvigil_detector_state_capacity", "rule=\"" + std::string(s.rule) + "\"", std::uint64_t{s.capacity});
    p.family("dnsvigil_detector_evictions_total", "counter", "Keyed state entries evicted because a table was full");
    for (const auto& s : stats) p.sample("dnsvigil_detector_evictions_total", "rule=\"" + std::string(s.rule) + "\"", s.evictions);
    p.family("dnsvigil_detector_sketches", "gauge", "HyperLogLog sketches in use per rule");
    for (const auto& s : stats) p.sample("dnsvigil_detector_sketches", "rule=\"" + std::string(s.rule) + "\"", std::uint64_t{s.sketches});
    p.family("dnsvigil_detector_sketch_exhausted_total", "counter", "Times a rule's sketch pool was full (counts saturate)");
    for (const auto& s : stats) p.sample("dnsvigil_detector_sketch_exhausted_total", "rule=\"" + std::string(s.rule) + "\"", s.sketch_exhausted);
    p.family("dnsvigil_detector_triggers_total", "counter", "Times a rule's conditions were met, before suppression");
    for (const auto& s : stats) p.sample("dnsvigil_detector_triggers_total", "rule=\"" + std::string(s.rule) + "\"", s.triggers);
    p.family("dnsvigil_alerts_suppressed_total", "counter", "Alerts folded into a later summary");
    p.sample("dnsvigil_alerts_suppressed_total", "", engine_->suppressed());
    p.family("dnsvigil_resolvers_learned", "gauge", "Internal servers learned as resolvers (when none are configured)");
    p.sample("dnsvigil_resolvers_learned", "", std::uint64_t{engine_->policy().learned_resolvers()});
  }
  p.family("dnsvigil_alerts_total", "counter", "Alerts emitted, per rule (summaries included)");
  for (const auto& [rule, n] : fanout_.per_rule) p.sample("dnsvigil_alerts_total", "rule=\"" + std::string(rule) + "\"", n);
  p.family("dnsvigil_output_queue_depth", "gauge", "Alerts waiting in an output's queue");
  for (const auto& o : fanout_.outputs)
    p.sample("dnsvigil_output_queue_depth", "output=\"" + PromText::escape(std::string(o->name())) + "\"", o->stats().depth.load());
  p.family("dnsvigil_output_delivered_total", "counter", "Alerts delivered per output");
  for (const auto& o : fanout_.outputs)
    p.sample("dnsvigil_output_delivered_total", "output=\"" + PromText::escape(std::string(o->name())) + "\"", o->stats().delivered.load());
  p.family("dnsvigil_output_dropped_total", "counter", "Alerts an output dropped, by reason");
  for (const auto& o : fanout_.outputs) {
    const std::string l = "output=\"" + PromText::escape(std::string(o->name())) + "\",reason=";
    p.sample("dnsvigil_output_dropped_total", l + "\"queue_full\"", o->stats().dropped_full.load());
    p.sample("dnsvigil_output_dropped_total", l + "\"rate_limit\"", o->stats().dropped_rate.load());
    p.sample("dnsvigil_output_dropped_total", l + "\"shutdown\"", o->stats().dropped_shutdown.load());
  }
  p.family("dnsvigil_output_failures_total", "counter", "Failed delivery attempts (retried with backoff)");
  for (const auto& o : fanout_.outputs)
    p.sample("dnsvigil_output_failures_total", "output=\"" + PromText::escape(std::string(o->name())) + "\"", o->stats().failures.load());
  return p.text();
}

std::string Run::stats_line(double seconds) const {
  const sensor::Counters& c = pipeline_.counters();
  const auto get = [&](sensor::Counter k) { return std::to_string(c.get(k)); };
  std::uint64_t alerts = 0;
  for (const auto& [rule, n] : fanout_.per_rule) alerts += n;
  std::uint64_t dropped = 0;
  for (const auto& o : fanout_.outputs) dropped += o->stats().dropped_full.load() + o->stats().dropped_rate.load();
  char pps[32];
  std::snprintf(pps, sizeof pps, "%.0f", seconds > 0 ? static_cast<double>(c.get(sensor::Counter::packets)) / seconds : 0.0);
  return "packets=" + get(sensor::Counter::packets) + " pps=" + pps + " dns=" + get(sensor::Counter::dns_messages) +
         " parse_errors=" + get(sensor::Counter::dns_parse_errors) + " tcp_flows=" + std::to_string(pipeline_.tcp_flows()) +
         " alerts=" + std::to_string(alerts) + " output_drops=" + std::to_string(dropped);
}

}  // namespace dnsvigil::app
