// dnsvigil: passive DNS sensor. Command line, capture loop, outputs, summary.
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "dnsvigil/capture/source.hpp"
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
  std::vector<std::string> interfaces;
  std::vector<std::string> files;
  std::string dump_json;
  std::string alerts_json;
  bool check_config = false;
  bool quiet = false;
  std::vector<std::string> filter_words;
};

// Connects capture, pipeline and outputs for one run.
class Run final : public sensor::EventSink, public capture::FrameHandler {
 public:
  Run(const sensor::PipelineOptions& po, const CliOptions& cli) : pipeline_(po, *this) {
    if (!cli.dump_json.empty()) dump_ = std::make_unique<output::LineWriter>(cli.dump_json);
  }

  void on_event(const sensor::DnsEvent& ev) override {
    if (dump_) {
      output::write_event_json(ev, json_);
      dump_->write(json_.line());
    }
  }
  void on_unanswered(const sensor::UnansweredQuery& q) override {
    if (dump_) {
      output::write_unanswered_json(q, json_);
      dump_->write(json_.line());
    }
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
    if (dump_) dump_->flush();
  }
  sensor::Pipeline& pipeline() noexcept { return pipeline_; }

 private:
  sensor::Pipeline pipeline_;
  std::unique_ptr<output::LineWriter> dump_;
  output::Json json_;
  int link_type_ = 0;
  std::uint8_t input_ = 0;
};

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
  if (!cli.quiet) app::print_summary(stderr, run.pipeline().counters(), secs, cli.files.size(), {});
  return 0;
}

int live(Run& run, const CliOptions& cli, const std::string& filter) {
  std::vector<std::unique_ptr<capture::Source>> sources;
  for (const auto& iface : cli.interfaces) {
    capture::LiveOptions lo;
    lo.interface = iface;
    lo.filter = filter;
    sources.push_back(capture::Source::open_live(lo));
    std::fprintf(stderr, "dnsvigil: capturing on %s (%s)\n", iface.c_str(),
                 capture::link_type_name(sources.back()->link_type()).c_str());
  }
  std::vector<pollfd> fds;
  for (const auto& s : sources) fds.push_back({s->selectable_fd(), POLLIN, 0});
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
  for (const auto& s : sources) stats.push_back(s->stats());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!cli.quiet) app::print_summary(stderr, run.pipeline().counters(), secs, 0, stats);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli_app{"dnsvigil: passive DNS sensor - captures DNS, detects reconnaissance, tunnelling and hijacking"};
  cli_app.set_version_flag("--version", std::string("dnsvigil ") + DNSVIGIL_VERSION);
  CliOptions cli;
  cli_app.add_option("-c,--config", cli.config, "YAML configuration file");
  cli_app.add_option("-i,--interface", cli.interfaces, "capture live on IFACE (repeatable)");
  cli_app.add_option("-r,--read", cli.files, "read a pcap/pcapng FILE, '-' for stdin (repeatable, read in order)");
  cli_app.add_option("--dump-json", cli.dump_json, "write one ECS JSON line per DNS message to PATH ('-': stdout)");
  cli_app.add_option("--alerts-json", cli.alerts_json, "write alerts as ECS JSON lines to PATH ('-': stdout)");
  cli_app.add_flag("--check-config", cli.check_config, "validate the configuration and exit");
  cli_app.add_flag("-q,--quiet", cli.quiet, "no progress line and no end-of-run summary");
  cli_app.add_option("filter", cli.filter_words, "BPF filter expression (as tcpdump)");
  try {
    cli_app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli_app.exit(e);
  }
  if (cli.check_config) {
    std::fprintf(stderr, "dnsvigil: configuration OK\n");
    return 0;
  }
  if (cli.interfaces.empty() == cli.files.empty()) {
    std::fprintf(stderr, "dnsvigil: error: give either -i IFACE (live) or -r FILE (replay); see --help\n");
    return 2;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    sensor::PipelineOptions po;
    Run run(po, cli);
    const std::string filter = join(cli.filter_words);
    return cli.files.empty() ? live(run, cli, filter) : replay(run, cli, filter);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dnsvigil: error: %s\n", e.what());
    return 1;
  }
}
