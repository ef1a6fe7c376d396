// dnsvigil: passive DNS sensor. Command line, capture loop, service duties, summary.
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dnsvigil/capture/fanout.hpp"
#include "dnsvigil/capture/source.hpp"
#include "dnsvigil/config/schema.hpp"
#include "dnsvigil/dnstap/dnstap.hpp"
#include "dnsvigil/output/clickhouse.hpp"
#include "dnsvigil/output/metrics.hpp"
#include "dnsvigil/output/outputs.hpp"
#include "report.hpp"
#include "run.hpp"
#include "service.hpp"
#include "summary.hpp"

namespace {

using namespace dnsvigil;
using Clock = std::chrono::steady_clock;

struct CliOptions {
  std::string config;
  std::vector<std::string> interfaces;
  std::vector<std::string> files;
  std::vector<std::string> dnstap;
  std::string dump_json, alerts_json, alerts_text;
  std::string report;
  unsigned workers = 0;
  bool check_config = false, config_reference = false, default_config = false, quiet = false;
  std::vector<std::string> filter_words;
};

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

// The command line wins over the file.
void apply_cli(const CliOptions& cli, config::Settings& s) {
  if (!cli.interfaces.empty()) s.capture.interfaces = cli.interfaces;
  s.input.dnstap.insert(s.input.dnstap.end(), cli.dnstap.begin(), cli.dnstap.end());
  if (!cli.files.empty()) {
    s.capture.interfaces.clear();
    s.input.dnstap.clear();  // a replay reads its files only
  }
  if (!cli.filter_words.empty()) s.capture.filter = join(cli.filter_words);
  if (!cli.dump_json.empty()) s.outputs.events_json = cli.dump_json;
  if (!cli.alerts_json.empty()) s.outputs.alerts_json = cli.alerts_json;
  if (!cli.alerts_text.empty()) s.outputs.alerts_text = cli.alerts_text;
  if (!cli.report.empty()) s.outputs.report.path = cli.report;
  if (cli.workers != 0) s.workers = cli.workers;
  // Alerts need somewhere to go: standard output unless an output is configured, or the
  // event dump already has standard output (two streams there would interleave).
  const bool clickhouse_alerts = s.outputs.clickhouse.enabled && !s.outputs.clickhouse.alerts_table.empty();
  if (s.outputs.alerts_json.empty() && s.outputs.alerts_text.empty() && !s.outputs.syslog.enabled &&
      !clickhouse_alerts && s.outputs.events_json != "-")
    s.outputs.alerts_json = "-";
}

// Two writers on standard output would interleave their lines: refuse it with a clear error.
std::string stdout_conflict(const config::Settings& s) {
  int n = 0;
  for (const auto* path : {&s.outputs.events_json, &s.outputs.alerts_json, &s.outputs.alerts_text}) n += *path == "-";
  return n > 1 ? "only one of --dump-json, --alerts-json and --alerts-text (or their outputs.* keys) may be '-' "
                 "(standard output); give the others a file"
               : std::string{};
}

config::Settings load(const std::string& path) {
  return path.empty() ? config::defaults() : config::load_file(path);
}

// Leaves root (or systemd's ambient capabilities) once the captures are open, before any
// other thread starts (capabilities are per thread). Live capture only: a
// replay runs with the rights of whoever started it (it may read files only they can read).
void shed_privileges(const config::Settings& s) {
  if (geteuid() == 0) {
    if (s.run.user.empty()) {
      spdlog::warn("running as root: run.user is empty");
      return;
    }
    if (getpwnam(s.run.user.c_str()) == nullptr) {
      spdlog::warn("run.user '{}' does not exist: continuing as root (create the user, or set run.user)", s.run.user);
      return;
    }
    app::drop_privileges(s.run.user);
    spdlog::info("running as user {} with no capabilities", s.run.user);
    return;
  }
  app::drop_capabilities();
}

class Service {
 public:
  Service(const CliOptions& cli, config::Settings s) : cli_(cli), settings_(std::move(s)) {}

  int run() {
    if (cli_.files.empty() && !settings_.input.dnstap.empty()) {
      // Sockets are created before privileges are dropped; their threads start after.
      dnstap::Listener::Options o;
      o.endpoints = settings_.input.dnstap;
      o.queue_frames = settings_.input.dnstap_queue;
      o.socket_mode = static_cast<unsigned>(std::stoul(settings_.input.dnstap_socket_mode, nullptr, 8));
      o.socket_group = settings_.input.dnstap_socket_group;
      dnstap_ = std::make_unique<dnstap::Listener>(o);
      for (const auto& e : o.endpoints) spdlog::info("dnstap: listening on {}", e);
    }
    if (!cli_.files.empty()) {
      // Replays open files one at a time (below); nothing privileged to open first.
    } else {
      // The default filter follows capture.dns_ports, watch_ports and dns_heuristic.
      std::vector<std::uint16_t> ports = settings_.pipeline.dns_ports;
      ports.insert(ports.end(), settings_.pipeline.watch_ports.begin(), settings_.pipeline.watch_ports.end());
      const std::string filter =
          settings_.capture.filter.empty()
              ? capture::default_filter(ports, settings_.pipeline.off_port != sensor::OffPortMode::off)
              : settings_.capture.filter;
      if (settings_.workers > 1 && !dnstap_) open_fanout(filter);
      for (std::size_t i = 0; fanout_.empty() && i < settings_.capture.interfaces.size(); ++i) {
        sources_.push_back(capture::Source::open_live(live_options(settings_.capture.interfaces[i], filter, 1)));
        spdlog::info("capturing on {} ({}), filter: {}", sources_.back()->name(),
                     capture::link_type_name(sources_.back()->link_type()), filter);
        if (const std::string notes = sources_.back()->notes(); !notes.empty())
          spdlog::warn("{}: {}", sources_.back()->name(), notes);
      }
    }
    // Output files are opened as run.user, so that it owns them and can reopen them on SIGHUP.
    if (!sources_.empty() || !fanout_.empty() || dnstap_) shed_privileges(settings_);
    if (dnstap_) dnstap_->start();
    const output::Observer obs{hostname(), DNSVIGIL_VERSION};
    if (settings_.outputs.clickhouse.enabled) {
      // Reachable, logged in, and the tables have the columns the rows carry: else a clear error now.
      const auto o = app::clickhouse_options(settings_, obs.hostname);
      if (const std::string problem = output::clickhouse_check(o); !problem.empty()) throw std::runtime_error(problem);
      spdlog::info("clickhouse: {} as {}: events to {}.{}, alerts to {}.{}", o.url, o.observer_name, o.database,
                   o.events_table.empty() ? "(none)" : o.events_table, o.database,
                   o.alerts_table.empty() ? "(none)" : o.alerts_table);
    }
    auto outputs = app::open_outputs(settings_, obs);
    auto dump = settings_.outputs.events_json.empty() ? nullptr
                                                      : std::make_unique<app::DumpWriter>(settings_.outputs.events_json);
    run_ = std::make_unique<app::Run>(settings_, obs, std::move(outputs), std::move(dump), feed());
    // Events of a live interface carry its name (observer.ingress.interface.name).
    for (std::size_t i = 0; i < sources_.size(); ++i) run_->name_input(static_cast<std::uint8_t>(i), sources_[i]->name());
    if (settings_.metrics.enabled) {
      metrics_ = std::make_unique<output::MetricsServer>(settings_.metrics.listen);
      spdlog::info("metrics on http://{}/metrics", settings_.metrics.listen);
      publish_metrics();  // a scrape before the first batch gets every family
    }
    spdlog::debug("{} rules enabled, {} workers", run_->rules(), run_->workers());
    // A report that cannot be written is an error now, not at the end of a long replay.
    if (!settings_.outputs.report.path.empty()) app::check_report_path(settings_.outputs.report.path);
    start_ = last_report_ = Clock::now();
    int rc = cli_.files.empty() ? live() : replay();
    app::notify("STOPPING=1");
    run_->finish();
    log_clickhouse_error(true);
    publish_metrics();
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    if (!write_report(true)) rc = 1;
    if (!cli_.quiet) {
      std::vector<capture::CaptureStats> live_stats;
      for (const auto& [iface, st] : capture_stats()) live_stats.push_back(st);
      app::print_summary(stderr, run_->counters(), secs, cli_.files.size(), live_stats);
      if (dnstap_) {
        const auto& st = dnstap_->stats();
        std::fprintf(stderr, "  dnstap: %llu connections, %llu frames, %llu dropped (queue full), %llu stream errors\n",
                     static_cast<unsigned long long>(st.connections.load()),
                     static_cast<unsigned long long>(st.frames.load()),
                     static_cast<unsigned long long>(st.dropped.load()),
                     static_cast<unsigned long long>(st.errors.load()));
      }
      print_alert_summary();
      print_clickhouse_summary();
    }
    return rc;
  }

 private:
  // A replay of regular files with several workers needs no dispatcher: every worker reads the
  // files itself and keeps its clients' frames. Standard input and pipes are read once, by a
  // dispatcher.
  app::Run::Feed feed() const {
    if (!fanout_.empty()) return app::Run::Feed::fanout;
    if (cli_.files.empty() || settings_.workers <= 1) return app::Run::Feed::dispatcher;
    for (const auto& path : cli_.files) {
      struct stat st {};
      if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return app::Run::Feed::dispatcher;
    }
    return app::Run::Feed::readers;
  }

  // Feed::readers: the workers read; this thread shows progress and does the service duties.
  void replay_by_workers() {
    app::Progress prog(!cli_.quiet && isatty(STDERR_FILENO) == 1);
    run_->replay(cli_.files, settings_.capture.filter);
    const std::string what = cli_.files.size() == 1 ? cli_.files[0] : std::to_string(cli_.files.size()) + " files";
    while (run_->reading()) {
      if (app::signals().stop.load(std::memory_order_relaxed)) run_->stop_reading();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      prog.update(what, run_->counters());
      service_duties();
    }
    run_->end_reading();
    prog.done();
  }

  int replay() {
    if (feed() == app::Run::Feed::readers) {
      replay_by_workers();
      return 0;
    }
    app::Progress prog(!cli_.quiet && isatty(STDERR_FILENO) == 1);
    std::uint8_t input = 0;
    for (const auto& path : cli_.files) {
      // dnstap files (BIND's dnstap-output file, fstrm_capture) are recognised by content.
      if (path != "-" && dnstap::looks_like_frame_streams(path)) {
        replay_dnstap(path, input++, prog);
        if (app::signals().stop) break;
        continue;
      }
      auto src = capture::Source::open_file(path, settings_.capture.filter);
      run_->set_source(src->link_type(), input++);
      while (!app::signals().stop.load(std::memory_order_relaxed)) {
        int n = 0;
        try {
          n = src->dispatch(*run_, 4096);
        } catch (const capture::CaptureError&) {
          // SIGINT/SIGTERM interrupt a blocking read (of a pipe, say): that is the stop asked for.
          if (app::signals().stop.load()) break;
          throw;
        }
        run_->wake_workers();
        if (n < 0) break;
        prog.update(src->name(), run_->counters());
        service_duties();
      }
      if (const std::string notes = src->notes(); !notes.empty()) spdlog::warn("{}: {}", src->name(), notes);
      if (app::signals().stop) break;
    }
    prog.done();
    return 0;
  }

  void replay_dnstap(const std::string& path, std::uint8_t input, app::Progress& prog) {
    const auto reader = dnstap::FrameReader::open_file(path);
    std::span<const std::uint8_t> frame;
    std::size_t n = 0;
    while (!app::signals().stop.load(std::memory_order_relaxed)) {
      const auto r = reader->next(frame);
      if (r == dnstap::FrameReader::Result::end) break;
      if (r == dnstap::FrameReader::Result::error) throw std::runtime_error(path + ": damaged dnstap file (Frame Streams)");
      run_->on_dnstap(frame, input);
      if (++n % 4096 == 0) {
        run_->wake_workers();
        prog.update(path, run_->counters());
        service_duties();
      }
    }
    run_->wake_workers();
  }

  // Frames the dnstap listener queued, in arrival order.
  void drain_dnstap() {
    if (!dnstap_) return;
    dnstap_->drain(frames_);
    const auto input = static_cast<std::uint8_t>(settings_.capture.interfaces.size());
    for (const auto& f : frames_) run_->on_dnstap(f, input);
  }

  int live() {
    std::vector<pollfd> fds;
    for (const auto& src : sources_) fds.push_back({src->selectable_fd(), POLLIN, 0});
    app::notify("READY=1");
    std::string what;
    if (!settings_.capture.interfaces.empty()) what = "capturing on " + join(settings_.capture.interfaces);
    if (!fanout_.empty()) what += " (" + std::to_string(fanout_.size()) + " workers, kernel fan-out by client)";
    if (dnstap_) what += std::string(what.empty() ? "" : ", ") + "dnstap on " + join(dnstap_->endpoints());
    app::notify("STATUS=" + what);
    last_stats_ = Clock::now();
    if (!fanout_.empty()) {
      // The workers capture; this thread does the service duties.
      run_->start_live(std::move(fanout_));
      while (!app::signals().stop.load(std::memory_order_relaxed) && run_->reading()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        service_duties();
      }
      run_->stop_reading();
      run_->end_reading();
      spdlog::info("stopping: {}", run_->stats_line(std::chrono::duration<double>(Clock::now() - start_).count()));
      return 0;
    }
    while (!app::signals().stop.load(std::memory_order_relaxed)) {
      if (fds.empty()) {
        dnstap_->wait(200);
      } else {
        // With dnstap too, wake often enough that its frames do not wait long.
        const int n = ::poll(fds.data(), fds.size(), dnstap_ ? 20 : 200);
        if (n < 0 && errno != EINTR) {
          spdlog::error("poll: {}", std::strerror(errno));
          return 1;
        }
      }
      for (std::size_t i = 0; i < sources_.size(); ++i) {
        run_->set_source(sources_[i]->link_type(), static_cast<std::uint8_t>(i));
        while (sources_[i]->dispatch(*run_, 4096) > 0) {
        }
      }
      drain_dnstap();
      run_->wake_workers();
      service_duties();
    }
    drain_dnstap();
    spdlog::info("stopping: {}", run_->stats_line(std::chrono::duration<double>(Clock::now() - start_).count()));
    return 0;
  }

  capture::LiveOptions live_options(const std::string& iface, const std::string& filter, std::size_t rings) const {
    capture::LiveOptions lo;
    lo.interface = iface;
    lo.filter = filter;
    lo.filter_optional = settings_.capture.filter.empty();
    lo.snaplen = static_cast<int>(settings_.capture.snaplen);
    // capture.buffer_size is the interface's: rings of a fan-out group share it (8 MiB at least each).
    const auto mib = static_cast<int>(settings_.capture.buffer_size >> 20);
    lo.buffer_mib = rings > 1 ? std::max(mib / static_cast<int>(rings), 8) : mib;
    lo.promiscuous = settings_.capture.promiscuous;
    lo.timeout_ms = static_cast<int>(settings_.capture.timeout / 1'000'000);
    return lo;
  }

  // With several workers, each opens a ring on every interface, joined to the interface's
  // PACKET_FANOUT group, whose program gives each client's packets to one worker. Where the
  // kernel refuses, one thread captures and a dispatcher hands packets over (logged).
  void open_fanout(const std::string& filter) {
    const auto n = static_cast<std::uint32_t>(settings_.workers);
    try {
      const auto program = capture::fanout_program(settings_.pipeline.dns_ports, n);
      std::vector<std::vector<std::unique_ptr<capture::Source>>> rings(n);
      for (std::size_t i = 0; i < settings_.capture.interfaces.size(); ++i) {
        // Group ids are per network namespace: this process's id and the interface's position.
        const auto group = static_cast<std::uint16_t>((static_cast<unsigned>(::getpid()) << 4) + i);
        for (std::uint32_t w = 0; w < n; ++w) {  // members are numbered in the order they join
          rings[w].push_back(capture::Source::open_live(live_options(settings_.capture.interfaces[i], filter, n)));
          capture::join_fanout(rings[w].back()->selectable_fd(), group, program);
        }
        spdlog::info("capturing on {} ({}) with {} workers, kernel fan-out by client (group {}), filter: {}",
                     settings_.capture.interfaces[i], capture::link_type_name(rings[0].back()->link_type()), n, group,
                     filter);
      }
      fanout_ = std::move(rings);
    } catch (const capture::CaptureError& e) {
      spdlog::warn("kernel fan-out not available ({}): one thread captures and hands packets to the workers", e.what());
    }
  }

  // Kernel figures per interface (a fan-out group's rings summed).
  std::vector<std::pair<std::string, capture::CaptureStats>> capture_stats() const {
    std::vector<std::pair<std::string, capture::CaptureStats>> out;
    for (const auto& s : sources_) out.emplace_back(s->name(), s->stats());
    if (!run_) return out;
    for (const auto& r : run_->ring_stats()) {
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == r.interface; });
      if (it == out.end()) it = out.insert(out.end(), {r.interface, {}});
      it->second.received += r.stats.received;
      it->second.dropped += r.stats.dropped;
      it->second.if_dropped += r.stats.if_dropped;
    }
    return out;
  }

  void publish_metrics() {
    if (metrics_) metrics_->publish(run_->metrics(capture_stats(), dnstap_.get()));
  }

  // Signals, metrics snapshots, periodic stats and the systemd watchdog, between batches.
  void service_duties() {
    const auto now = Clock::now();
    if (now - last_duties_ < std::chrono::milliseconds(200)) return;
    last_duties_ = now;
    const bool live = cli_.files.empty();
    auto& sig = app::signals();
    if (sig.reload.exchange(false)) reload();
    // SIGUSR1 asks for the report (and a stats line, below); a live sensor also writes it every
    // outputs.report.interval.
    const sensor::Timestamp every = settings_.outputs.report.interval;
    if (sig.report.exchange(false) || (live && every > 0 && now - last_report_ >= std::chrono::nanoseconds(every)))
      write_report(false);
    const double secs = std::chrono::duration<double>(now - start_).count();
    const bool periodic = live && now - last_stats_ >= std::chrono::nanoseconds(settings_.run.stats_interval);
    if (sig.stats.exchange(false) || periodic) {
      last_stats_ = now;
      std::string line = run_->stats_line(secs);
      for (const auto& [iface, st] : capture_stats())
        line += " " + iface + ".kernel_drops=" + std::to_string(st.dropped) + " " + iface + ".if_drops=" + std::to_string(st.if_dropped);
      spdlog::info("stats: {}", line);
    }
    log_clickhouse_error(false);
    if (metrics_ && now - last_metrics_ >= std::chrono::seconds(1)) {
      last_metrics_ = now;
      publish_metrics();
    }
    if (live) {
      app::notify("WATCHDOG=1");
      app::notify("STATUS=" + run_->stats_line(secs));
    }
  }

  void reload() {
    if (cli_.config.empty()) {
      spdlog::info("SIGHUP: no configuration file; reopening outputs");
      run_->reopen();
      return;
    }
    try {
      config::Settings next = config::load_file(cli_.config);
      apply_cli(cli_, next);
      std::vector<std::string> notes;
      run_->reload(next, notes);
      for (const auto& n : notes) spdlog::warn("reload: {}", n);
      settings_ = next;
      spdlog::info("configuration reloaded from {}", cli_.config);
    } catch (const std::exception& e) {
      spdlog::error("reload failed, keeping the running configuration: {}", e.what());
      run_->reopen();
    }
  }

  // A failed ClickHouse request, in the log at most every 10 s (`last`: the final one, at exit).
  void log_clickhouse_error(bool last) {
    if (!settings_.outputs.clickhouse.enabled) return;
    const auto now = Clock::now();
    if (!last && now - clickhouse_logged_ < std::chrono::seconds(10)) return;
    auto [seq, what] = run_->clickhouse_error();
    if (seq == clickhouse_seq_) return;
    clickhouse_seq_ = seq;
    clickhouse_logged_ = now;
    spdlog::warn("clickhouse: {}{}", what, last ? "" : " (retrying with backoff)");
  }

  void print_clickhouse_summary() const {
    const auto* ch = run_->clickhouse();
    std::string alerts;
    for (const auto& o : run_->alerts().outputs) {
      if (!o->name().starts_with("clickhouse:")) continue;
      const auto& st = o->stats();
      alerts = "; alerts: " + std::to_string(st.delivered.load()) + " inserted, " +
               std::to_string(st.dropped_full.load() + st.dropped_shutdown.load()) + " dropped, " +
               std::to_string(st.failures.load()) + " failed attempts";
    }
    if (ch == nullptr && alerts.empty()) return;
    std::string events = "no events";
    if (ch != nullptr) {
      const auto& st = ch->stats();
      events = std::to_string(ch->offered()) + " events: " + std::to_string(st.inserted.load()) + " inserted in " +
               std::to_string(st.batches.load()) + " batches (" + std::to_string(st.bytes.load()) + " octets), " +
               std::to_string(st.dropped_full.load()) + " dropped (buffer full), " +
               std::to_string(st.dropped_shutdown.load()) + " dropped at shutdown, " +
               std::to_string(st.failures.load()) + " failed attempts";
    }
    std::fprintf(stderr, "  clickhouse: %s%s\n", events.c_str(), alerts.c_str());
  }

  // Writes the HTML report when one is configured; false (and logged) when it could not be written.
  bool write_report(bool final) {
    if (settings_.outputs.report.path.empty()) return true;
    last_report_ = Clock::now();
    app::ReportContext ctx;
    ctx.hostname = hostname();
    ctx.version = DNSVIGIL_VERSION;
    ctx.live = cli_.files.empty();
    ctx.final = final;
    ctx.inputs = ctx.live ? settings_.capture.interfaces : cli_.files;
    for (const auto& e : settings_.input.dnstap) ctx.inputs.push_back("dnstap " + e);
    ctx.seconds = std::chrono::duration<double>(last_report_ - start_).count();
    ctx.capture = capture_stats();
    ctx.dnstap = dnstap_.get();
    try {
      app::write_report(*run_, settings_, ctx);
      spdlog::info("report written to {}", settings_.outputs.report.path);
      return true;
    } catch (const std::exception& e) {
      spdlog::error("report not written: {}", e.what());
      return false;
    }
  }

  void print_alert_summary() const {
    if (!run_->detecting()) return;
    std::string line;
    for (const auto& [rule, n] : run_->alerts().per_rule()) line += " " + std::string(rule) + "=" + std::to_string(n);
    const std::uint64_t dropped = run_->output_dropped();
    std::fprintf(stderr,
                 "  alerts:%s; %llu folded into summaries, %llu attached to related alerts, %llu explained by a learned "
                 "role, %llu dropped by outputs\n",
                 line.empty() ? " none" : line.c_str(), static_cast<unsigned long long>(run_->suppressed()),
                 static_cast<unsigned long long>(run_->folded()), static_cast<unsigned long long>(run_->role_explained()),
                 static_cast<unsigned long long>(dropped));
    // What was learned from the traffic: client roles, and the resolvers when none are configured.
    const auto l = run_->learned(8);
    if (l.roles.mail_servers + l.roles.monitoring + l.roles.container_nodes != 0) {
      std::string who;
      for (const auto& [client, roles] : l.clients) who += " " + client.text() + "=" + detect::role_names(roles);
      std::fprintf(stderr, "  roles learned: mail_server=%zu monitoring=%zu container_node=%zu;%s%s\n",
                   l.roles.mail_servers, l.roles.monitoring, l.roles.container_nodes, who.c_str(),
                   l.clients.size() >= 8 ? " ..." : "");
    }
    if (!l.resolvers_configured && !l.resolvers.empty()) {
      std::string list, pin;
      for (const auto& [server, n] : l.resolvers) {
        list += " " + server.text() + " (" + std::to_string(static_cast<long long>(n + 0.5)) + " clients)";
        pin += (pin.empty() ? "" : ", ") + server.text();
      }
      std::fprintf(stderr, "  resolvers learned:%s; pin them with network.resolvers: [%s]\n", list.c_str(), pin.c_str());
    }
  }

  const CliOptions& cli_;
  config::Settings settings_;
  std::unique_ptr<app::Run> run_;
  Clock::time_point last_report_{};
  std::unique_ptr<output::MetricsServer> metrics_;
  std::unique_ptr<dnstap::Listener> dnstap_;
  std::vector<std::unique_ptr<capture::Source>> sources_;  // live, captured by this thread
  std::vector<std::vector<std::unique_ptr<capture::Source>>> fanout_;  // live, per worker (until they start)
  std::vector<std::vector<std::uint8_t>> frames_;  // dnstap frames being processed
  Clock::time_point start_, last_duties_, last_stats_, last_metrics_;
  Clock::time_point clickhouse_logged_{};
  std::uint64_t clickhouse_seq_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_logger_mt("dnsvigil");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S%z dnsvigil[%P] %l: %v");

  CLI::App cli_app{"dnsvigil: passive DNS sensor - captures DNS, detects reconnaissance, tunnelling and hijacking"};
  cli_app.set_version_flag("--version", std::string("dnsvigil ") + DNSVIGIL_VERSION);
  CliOptions cli;
  cli_app.add_option("-c,--config", cli.config, "YAML configuration file (default: built-in defaults)");
  // One value per -i / -r (repeat the option for more), so that the words after it are the
  // filter, as tcpdump takes them: dnsvigil -r capture.pcap 'udp port 53'.
  cli_app.add_option("-i,--interface", cli.interfaces, "capture live on IFACE (repeatable)")->allow_extra_args(false);
  cli_app.add_option("-r,--read", cli.files, "read a pcap/pcapng FILE, '-' for stdin (repeatable, read in order)")
      ->allow_extra_args(false);
  cli_app.add_option("--dnstap", cli.dnstap,
                     "listen for a DNS server's dnstap on unix:/path or tcp:ADDRESS:PORT (repeatable; live mode)")
      ->allow_extra_args(false);
  cli_app.add_option("--dump-json", cli.dump_json, "write one ECS JSON line per DNS message to PATH ('-': stdout)");
  cli_app.add_option("--alerts-json", cli.alerts_json, "write alerts as ECS JSON lines to PATH ('-': stdout)");
  cli_app.add_option("--alerts-text", cli.alerts_text, "write one readable line per alert to PATH ('-': stdout)");
  cli_app.add_option("--report", cli.report,
                     "write an HTML report (alerts, traffic, capture figures) to FILE at the end, and on SIGUSR1");
  cli_app.add_option("-j,--workers", cli.workers, "worker threads; packets are sharded by client address")
      ->check(CLI::Range(1, 64));
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
    settings = load(cli.config);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "dnsvigil: configuration error:\n%s\n", e.what());
    return 1;
  }
  if (cli.check_config) {
    try {
      // Build what can be built without touching files or the network: the rules and the
      // syslog address.
      struct : detect::AlertSink {
        void emit(const detect::Alert&) override {}
      } none;
      detect::Engine engine(settings.detectors, none);
      if (settings.outputs.syslog.enabled) {
        output::SyslogOptions o;
        o.transport = settings.outputs.syslog.transport;
        o.address = settings.outputs.syslog.address;
        (void)output::make_syslog_output(o);
      }
      std::fprintf(stderr, "dnsvigil: configuration OK (%s): %zu rules enabled\n",
                   cli.config.empty() ? "defaults" : cli.config.c_str(), engine.rule_count());
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dnsvigil: configuration error: %s\n", e.what());
      return 1;
    }
  }
  if (!cli.interfaces.empty() && !cli.files.empty()) {
    std::fprintf(stderr, "dnsvigil: error: -i (live capture) and -r (replay) cannot be combined\n");
    return 2;
  }
  apply_cli(cli, settings);
  if (const auto conflict = stdout_conflict(settings); !conflict.empty()) {
    std::fprintf(stderr, "dnsvigil: error: %s\n", conflict.c_str());
    return 2;
  }
  if (!cli.dnstap.empty() && !cli.files.empty()) {
    std::fprintf(stderr, "dnsvigil: error: --dnstap (live) and -r (replay) cannot be combined; -r reads dnstap files\n");
    return 2;
  }
  if ((settings.capture.interfaces.empty() && settings.input.dnstap.empty()) == cli.files.empty()) {
    std::fprintf(stderr, "dnsvigil: error: give either -i IFACE or --dnstap ENDPOINT (live), or -r FILE (replay); see --help\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(settings.run.log_level));
  app::install_signal_handlers();
  try {
    Service service(cli, std::move(settings));
    return service.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dnsvigil: error: %s\n", e.what());
    return 1;
  }
}
