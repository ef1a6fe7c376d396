// dnsvigil: passive DNS sensor. Command line, capture loop, outputs, summary.
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dnsvigil/capture/source.hpp"
#include "dnsvigil/config/schema.hpp"
#include "dnsvigil/detect/engine.hpp"
#include "dnsvigil/output/alert_json.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/output/line_writer.hpp"
#include "dnsvigil/sensor/pipeline.hpp"
#include "summary.hpp"

namespace {

using namespace dnsvigil;

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

struct CliOptions {
  std::string config;
  bool config_reference = false;
  bool default_config = false;
  std::vector<std::string> interfaces;
  std::vector<std::string> files;
  std::string dump_json;
  std::string alerts_json;
  bool check_config = false;
  bool quiet = false;
  std::vector<std::string> filter_words;
};

// Writes alerts as ECS JSON lines.
class AlertWriter final : public detect::AlertSink {
 public:
  AlertWriter(const std::string& path, output::Observer obs) : out_(path), obs_(std::move(obs)) {}
  void emit(const detect::Alert& a) override {
    output::write_alert_json(a, obs_, json_);
    out_.write(json_.line());
    ++count_[a.rule->name];
  }
  void flush() { out_.flush(); }
  const std::map<std::string_view, std::uint64_t>& counts() const { return count_; }

 private:
  output::LineWriter out_;
  output::Observer obs_;
  output::Json json_;
  std::map<std::string_view, std::uint64_t> count_;
};

// Connects capture, pipeline, detectors and outputs for one run.
class Run final : public sensor::EventSink, public capture::FrameHandler {
 public:
  Run(const config::Settings& s, output::Observer obs) : pipeline_(s.pipeline, *this) {
    if (!s.outputs.events_json.empty()) dump_ = std::make_unique<output::LineWriter>(s.outputs.events_json);
    if (!s.outputs.alerts_json.empty()) alerts_ = std::make_unique<AlertWriter>(s.outputs.alerts_json, std::move(obs));
    if (alerts_) engine_ = std::make_unique<detect::Engine>(s.detectors, *alerts_);
  }

  void on_event(const sensor::DnsEvent& ev) override {
    if (dump_) {
      output::write_event_json(ev, json_);
      dump_->write(json_.line());
    }
    if (engine_) engine_->on_event(ev);
  }
  void on_unanswered(const sensor::UnansweredQuery& q) override {
    if (dump_) {
      output::write_unanswered_json(q, json_);
      dump_->write(json_.line());
    }
    if (engine_) engine_->on_unanswered(q);
  }
  void on_flow(const sensor::FlowEvent& f) override {
    if (engine_) engine_->on_flow(f);
  }
  void on_tick(sensor::Timestamp now) override {
    if (engine_) engine_->on_tick(now);
  }
  void on_frame(sensor::Timestamp ts, dnsparse::Bytes frame, std::uint32_t /*wire_len*/) override {
    pipeline_.on_frame(link_type_, ts, frame, input_);
  }

  void set_source(int link_type, std::uint8_t input) noexcept {
    link_type_ = link_type;
    input_ = input;
  }
  void finish() {
    pipeline_.finish();
    if (engine_) engine_->finish();
    if (dump_) dump_->flush();
    if (alerts_) alerts_->flush();
  }
  sensor::Pipeline& pipeline() noexcept { return pipeline_; }
  const detect::Engine* engine() const noexcept { return engine_.get(); }
  const AlertWriter* alerts() const noexcept { return alerts_.get(); }

 private:
  sensor::Pipeline pipeline_;
  std::unique_ptr<output::LineWriter> dump_;
  std::unique_ptr<AlertWriter> alerts_;
  std::unique_ptr<detect::Engine> engine_;
  output::Json json_;
  int link_type_ = 0;
  std::uint8_t input_ = 0;
};

void print_detection_summary(const Run& run) {
  if (run.engine() == nullptr) return;
  std::string line;
  for (const auto& [rule, n] : run.alerts()->counts()) line += " " + std::string(rule) + "=" + std::to_string(n);
  std::fprintf(stderr, "  alerts: %llu emitted, %llu folded into summaries;%s\n",
               static_cast<unsigned long long>(run.engine()->alerts()),
               static_cast<unsigned long long>(run.engine()->suppressed()), line.empty() ? " none" : line.c_str());
}

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) {
    if (!s.empty()) s += ' ';
    s += w;
  }
  return s;
}

int replay(Run& run, const CliOptions& cli, const std::string& filter) {
  const bool progress = !cli.quiet && isatty(STDERR_FILENO) == 1;
  app::Progress prog(progress);
  const auto t0 = std::chrono::steady_clock::now();
  std::uint8_t input = 0;
  for (const auto& path : cli.files) {
    auto src = capture::Source::open_file(path, filter);
    run.set_source(src->link_type(), input++);
    while (!g_stop.load(std::memory_order_relaxed)) {
      if (src->dispatch(run, 4096) < 0) break;
      prog.update(src->name(), run.pipeline().counters());
    }
    if (g_stop) break;
  }
  run.finish();
  prog.done();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!cli.quiet) {
    app::print_summary(stderr, run.pipeline().counters(), secs, cli.files.size(), {});
    print_detection_summary(run);
  }
  return 0;
}

int live(Run& run, const CliOptions& cli, const config::Settings& s) {
  std::vector<std::unique_ptr<capture::Source>> sources;
  for (const auto& iface : s.capture.interfaces) {
    capture::LiveOptions lo;
    lo.interface = iface;
    lo.filter = s.capture.filter;
    lo.snaplen = static_cast<int>(s.capture.snaplen);
    lo.buffer_mib = static_cast<int>(s.capture.buffer_size >> 20);
    lo.promiscuous = s.capture.promiscuous;
    lo.timeout_ms = static_cast<int>(s.capture.timeout / 1'000'000);
    sources.push_back(capture::Source::open_live(lo));
    std::fprintf(stderr, "dnsvigil: capturing on %s (%s)\n", iface.c_str(),
                 capture::link_type_name(sources.back()->link_type()).c_str());
  }
  std::vector<pollfd> fds;
  for (const auto& src : sources) fds.push_back({src->selectable_fd(), POLLIN, 0});
  const auto t0 = std::chrono::steady_clock::now();
  while (!g_stop.load(std::memory_order_relaxed)) {
    const int n = ::poll(fds.data(), fds.size(), 200);
    if (n < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      run.set_source(sources[i]->link_type(), static_cast<std::uint8_t>(i));
      while (sources[i]->dispatch(run, 4096) > 0) {
      }
    }
  }
  run.finish();
  std::vector<capture::CaptureStats> stats;
  for (const auto& src : sources) stats.push_back(src->stats());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!cli.quiet) {
    app::print_summary(stderr, run.pipeline().counters(), secs, 0, stats);
    print_detection_summary(run);
  }
  return 0;
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli_app{"dnsvigil: passive DNS sensor - captures DNS, detects reconnaissance, tunnelling and hijacking"};
  cli_app.set_version_flag("--version", std::string("dnsvigil ") + DNSVIGIL_VERSION);
  CliOptions cli;
  cli_app.add_option("-c,--config", cli.config, "YAML configuration file (default: built-in defaults)");
  cli_app.add_option("-i,--interface", cli.interfaces, "capture live on IFACE (repeatable)");
  cli_app.add_option("-r,--read", cli.files, "read a pcap/pcapng FILE, '-' for stdin (repeatable, read in order)");
  cli_app.add_option("--dump-json", cli.dump_json, "write one ECS JSON line per DNS message to PATH ('-': stdout)");
  cli_app.add_option("--alerts-json", cli.alerts_json, "write alerts as ECS JSON lines to PATH ('-': stdout)");
  cli_app.add_flag("--check-config", cli.check_config, "validate the configuration and exit");
  cli_app.add_flag("--config-reference", cli.config_reference, "print the configuration reference (markdown) and exit");
  cli_app.add_flag("--default-config", cli.default_config, "print a commented default configuration file and exit");
  cli_app.add_flag("-q,--quiet", cli.quiet, "no progress line and no end-of-run summary");
  cli_app.add_option("filter", cli.filter_words, "BPF filter expression (as tcpdump)");
  try {
    cli_app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli_app.exit(e);
  }
  if (cli.config_reference) {
    std::fputs(config::reference_markdown().c_str(), stdout);
    return 0;
  }
  if (cli.default_config) {
    std::fputs(config::default_yaml().c_str(), stdout);
    return 0;
  }
  config::Settings settings;
  try {
    settings = cli.config.empty() ? config::defaults() : config::load_file(cli.config);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "dnsvigil: configuration error:\n%s\n", e.what());
    return 1;
  }
  if (cli.check_config) {
    struct : detect::AlertSink {
      void emit(const detect::Alert&) override {}
    } none;
    detect::Engine probe_engine(settings.detectors, none);
    std::fprintf(stderr, "dnsvigil: configuration OK (%s): %zu rules enabled\n",
                 cli.config.empty() ? "defaults" : cli.config.c_str(), probe_engine.rule_count());
    return 0;
  }
  // The command line wins over the file.
  if (!cli.interfaces.empty()) settings.capture.interfaces = cli.interfaces;
  if (!cli.filter_words.empty()) settings.capture.filter = join(cli.filter_words);
  if (!cli.dump_json.empty()) settings.outputs.events_json = cli.dump_json;
  if (!cli.alerts_json.empty()) settings.outputs.alerts_json = cli.alerts_json;
  if (!cli.files.empty()) settings.capture.interfaces.clear();
  if (settings.capture.interfaces.empty() == cli.files.empty()) {
    std::fprintf(stderr, "dnsvigil: error: give either -i IFACE (live) or -r FILE (replay); see --help\n");
    return 2;
  }
  // Alerts need somewhere to go: standard output unless an output is configured.
  if (settings.outputs.alerts_json.empty() && !settings.outputs.syslog.enabled) settings.outputs.alerts_json = "-";
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    Run run(settings, output::Observer{hostname(), DNSVIGIL_VERSION});
    return cli.files.empty() ? live(run, cli, settings) : replay(run, cli, settings.capture.filter);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dnsvigil: error: %s\n", e.what());
    return 1;
  }
}
