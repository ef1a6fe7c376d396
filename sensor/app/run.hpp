// One run of the sensor: shards (pipeline + detection engine each), the dispatcher that feeds
// them when there are several workers, the outputs, and the metrics text.
#pragma once

#include <array>
#include <atomic>
#include <bitset>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dnsvigil/capture/source.hpp"
#include "dnsvigil/dnstap/dnstap.hpp"
#include "dnsvigil/config/settings.hpp"
#include "dnsvigil/detect/engine.hpp"
#include "dnsvigil/detect/shared.hpp"
#include "dnsvigil/output/alert_json.hpp"
#include "dnsvigil/output/clickhouse.hpp"
#include "dnsvigil/output/json.hpp"
#include "dnsvigil/output/line_writer.hpp"
#include "dnsvigil/output/queue.hpp"
#include "dnsvigil/output/report.hpp"
#include "dnsvigil/output/traffic.hpp"
#include "dnsvigil/sensor/defrag.hpp"
#include "dnsvigil/sensor/pipeline.hpp"
#include "dnsvigil/sensor/spsc.hpp"

namespace dnsvigil::app {

/// What the engines learned from traffic: the end-of-run summary and the report show it.
struct Learned {
  std::vector<std::pair<sensor::IpAddr, std::uint8_t>> clients;  ///< clients with learned roles (first few)
  detect::Policy::RoleCounts roles;
  std::vector<std::pair<sensor::IpAddr, double>> resolvers;  ///< de-facto resolvers (zero configuration)
  std::size_t internal_resolvers = 0;  ///< internal servers learned as resolvers
  bool resolvers_configured = false;

  /// What one engine learned (its first `max_clients` clients with roles).
  [[nodiscard]] static Learned of(const detect::Engine& e, std::size_t max_clients);
  /// Adds another engine's (roles summed, clients kept to the first `max_clients` by address).
  void add(const Learned& o, std::size_t max_clients);
};

/// Sends each alert to every output and counts alerts per rule. Thread-safe (workers share it).
class AlertFanout final : public detect::AlertSink {
 public:
  void emit(const detect::Alert& a) override;
  /// Packet time for the outputs' rate limits (their withheld summaries).
  void advance(sensor::Timestamp now);
  [[nodiscard]] std::map<std::string_view, std::uint64_t> per_rule() const;
  /// Keeps alerts for the HTML report from now on (at most `max` listed; see output::AlertLog).
  void keep_alerts(std::size_t max);
  /// A copy of the alerts kept for the report (nullptr when none are kept).
  [[nodiscard]] std::unique_ptr<output::AlertLog> alert_log() const;
  std::vector<std::unique_ptr<output::QueuedOutput>> outputs;

 private:
  mutable std::mutex mu_;
  std::map<std::string_view, std::uint64_t> per_rule_;
  std::unique_ptr<output::AlertLog> log_;
};

/// Opens the alert outputs a configuration asks for (files are opened here, after the
/// privilege drop, so run.user owns them; sockets connect on first use). The ClickHouse alert
/// output reports its failures to `clickhouse_errors`.
[[nodiscard]] std::vector<std::unique_ptr<output::AlertOutput>> open_outputs(
    const config::Settings& s, const output::Observer& obs,
    std::shared_ptr<output::ClickHouseErrors> clickhouse_errors = nullptr);

/// The ClickHouse sink's options from outputs.clickhouse (observer_name defaults to `hostname`).
[[nodiscard]] output::ClickHouseOptions clickhouse_options(const config::Settings& s, const std::string& hostname);

/// The event dump shared by shards; each shard hands over whole chunks of lines.
class DumpWriter {
 public:
  explicit DumpWriter(const std::string& path) : out_(path) {}
  void write_chunk(const std::string& chunk);
  void flush();
  void reopen();
  [[nodiscard]] const std::string& path() const noexcept { return out_.path(); }

 private:
  std::mutex mu_;
  output::LineWriter out_;
};

/// Interface names by input (DnsEvent::input): events carry theirs as observer.ingress.interface.name.
/// Each name is written once, before the first frame of its input, on the thread that reads it.
using InputNames = std::array<std::string, 256>;

/// The input number (DnsEvent::input) and link type of the frames a reading thread delivers.
/// Sources are numbered from 0 up in the order they are read; the interfaces of pcapng files
/// take numbers from 254 down and carry their names; 255 is the unnamed input of whatever finds
/// no free number. Deterministic: readers of the same files number them alike.
class InputMap {
 public:
  void set_source(int link_type, std::uint8_t input) noexcept {
    link_type_ = link_type;
    // An input number that the interfaces of a pcapng file took (from the top) goes unnamed.
    input_ = input < name_floor_ ? input : kUnnamed;
    if (input_ != kUnnamed && input_ > max_source_) max_source_ = input_;
    iface_inputs_.clear();
  }
  /// The frames that follow come from interface `iface` of the current source (a pcapng file):
  /// its link type, and an input of its own that carries its name.
  void on_interface(const capture::Interface& iface);
  /// Names input `input` (a live interface), before its first frame.
  void name(std::uint8_t input, std::string_view name) { names_[input] = name; }
  [[nodiscard]] int link_type() const noexcept { return link_type_; }
  [[nodiscard]] std::uint8_t input() const noexcept { return input_; }
  [[nodiscard]] const InputNames& names() const noexcept { return names_; }

 private:
  static constexpr std::uint8_t kUnnamed = 255;
  InputNames names_;
  int link_type_ = 0;
  std::uint8_t input_ = 0;
  std::uint8_t name_floor_ = kUnnamed, max_source_ = 0;
  std::vector<std::uint8_t> iface_inputs_;  // the current file's interface index -> input (0: none yet)
};

/// A pipeline and its detection engine: all state of the clients routed to it.
class Shard final : public sensor::EventSink {
 public:
  Shard(const config::Settings& s, AlertFanout& fanout, DumpWriter* dump, detect::SharedView* shared,
        const InputNames* names = nullptr, sensor::Share share = {});
  ~Shard() override;

  void on_event(const sensor::DnsEvent& ev) override;
  void prefetch(const sensor::DnsEvent& ev) noexcept override {
    if (engine_) engine_->prefetch(ev);
  }
  void on_unanswered(const sensor::UnansweredQuery& q) override;
  void on_flow(const sensor::FlowEvent& f) override;
  void on_tick(sensor::Timestamp now) override;

  sensor::Pipeline& pipeline() noexcept { return pipeline_; }
  [[nodiscard]] const sensor::Pipeline& pipeline() const noexcept { return pipeline_; }
  [[nodiscard]] const detect::Engine* engine() const noexcept { return engine_.get(); }
  void rebuild_engine(const config::Settings& s, AlertFanout& fanout);
  /// When packet time `now` starts a new second (the dispatcher's tick, or a reading worker's own
  /// clock): publishes what the engine learned and waits until every worker has reached that
  /// second (SharedView::wait_for). Worker thread.
  void barrier(std::size_t worker, sensor::Timestamp now);
  /// Sends this shard's events to ClickHouse too.
  void attach_clickhouse(output::ClickHouseEvents& sink) { clickhouse_ = std::make_unique<output::ClickHouseBatcher>(sink); }
  /// Ends the engine's suppression periods (summaries go out) before a rebuild.
  void finish_engine();
  void finish();
  void flush_dump();
  /// Counters and table sizes as of the last tick (safe to read from another thread).
  [[nodiscard]] sensor::Counters counters_snapshot() const;
  /// The engine's alert bookkeeping: now (the owning thread), or as of the last tick (any thread).
  struct EngineCounts {
    std::uint64_t suppressed = 0, folded = 0, role_explained = 0;
  };
  [[nodiscard]] EngineCounts engine_counts() const noexcept;
  [[nodiscard]] EngineCounts engine_counts_snapshot() const;

  /// What the HTML report takes from a shard.
  struct View {
    std::shared_ptr<const output::Traffic> traffic;  ///< nullptr when the report is off
    Learned learned;
    std::uint64_t suppressed = 0, folded = 0, role_explained = 0;
  };
  /// The view now; on the thread that owns the shard.
  [[nodiscard]] View view() const;
  /// Worker thread: takes view() (and a counters snapshot) for another thread, marked `generation`.
  void publish_view(std::uint64_t generation);
  /// The generation of the last published view, and a copy of it.
  [[nodiscard]] std::uint64_t view_generation() const noexcept { return view_gen_.load(std::memory_order_acquire); }
  [[nodiscard]] View view_snapshot() const;

 private:
  void publish_snapshot();
  [[nodiscard]] std::string_view input_name(std::uint8_t input) const noexcept {
    return names_ != nullptr ? std::string_view((*names_)[input]) : std::string_view{};
  }

  sensor::Pipeline pipeline_;
  std::unique_ptr<detect::Engine> engine_;
  DumpWriter* dump_;
  std::unique_ptr<output::ClickHouseBatcher> clickhouse_;
  const InputNames* names_;
  detect::SharedView* shared_;
  AlertFanout* fanout_ = nullptr;
  output::Json json_;
  std::string chunk_;
  mutable std::mutex snap_mu_;
  sensor::Counters snapshot_;
  EngineCounts engine_snapshot_;
  std::unique_ptr<output::Traffic> traffic_;  // when outputs.report.path is set
  mutable std::mutex view_mu_;
  View view_;
  std::atomic<std::uint64_t> view_gen_{0};
};

/// Packet time in whole seconds, as the barrier of -j N counts it.
struct SecondClock {
  sensor::Timestamp now = 0, next = 0;
  /// Moves to `ts` (never back); true when it starts a second after the first one seen.
  bool advance(sensor::Timestamp ts) noexcept {
    if (ts > now) now = ts;
    if (now < next) return false;
    const bool later = next != 0;
    next = now - now % sensor::kNanosPerSecond + sensor::kNanosPerSecond;
    return later;
  }
};

class Run final : public capture::FrameHandler {
 public:
  /// How several workers get their frames.
  enum class Feed {
    dispatcher,  ///< one thread reads, decodes and copies each frame to its client's worker
    readers,     ///< a replay of regular files: every worker reads them all and keeps its clients' frames
    fanout,      ///< live: every worker reads its own kernel rings, which the kernel fills by client
  };
  /// `outputs` and `dump` come from open_outputs() and DumpWriter; Run starts their threads and
  /// its workers' threads (with Feed::readers and Feed::fanout, replay() and start_live() start the workers).
  Run(const config::Settings& s, output::Observer obs, std::vector<std::unique_ptr<output::AlertOutput>> outputs,
      std::unique_ptr<DumpWriter> dump, Feed feed = Feed::dispatcher);
  ~Run() override;

  /// Feed::readers: starts the workers, each reading `files` in order (pcap, pcapng or dnstap)
  /// with the BPF `filter`. The caller polls reading() and ends with end_reading().
  void replay(const std::vector<std::string>& files, const std::string& filter);
  /// Feed::fanout: starts the workers, worker i capturing from `per_worker[i]` (one source per
  /// interface, in the same order for every worker, each joined to its interface's fan-out
  /// group). Packet time also moves on with the clock, so that an idle worker does not hold the
  /// others at the barrier. The caller ends with stop_reading() and end_reading().
  void start_live(std::vector<std::vector<std::unique_ptr<capture::Source>>> per_worker);
  /// True while a worker is still reading.
  [[nodiscard]] bool reading() const noexcept { return readers_busy_.load(std::memory_order_acquire) != 0; }
  /// Asks the workers to stop reading (end of a live capture, SIGINT).
  void stop_reading() noexcept { stop_.store(true, std::memory_order_relaxed); }
  /// Joins the workers; throws what stopped a worker (a capture error) as the one-thread replay would.
  void end_reading();
  /// Feed::fanout: kernel statistics of every worker's ring of every interface, as of the
  /// workers' last look (about once a second).
  struct RingStats {
    std::string interface;
    std::size_t worker = 0;
    capture::CaptureStats stats;
  };
  [[nodiscard]] std::vector<RingStats> ring_stats() const;

  void on_frame(sensor::Timestamp ts, dnsparse::Bytes frame, std::uint32_t wire_len) override;
  /// One dnstap frame (a DNS server's log of one message), from a file or a socket.
  void on_dnstap(dnsparse::Bytes frame, std::uint8_t input);
  void set_source(int link_type, std::uint8_t input) noexcept { inputs_.set_source(link_type, input); }
  void on_interface(const capture::Interface& iface) override { inputs_.on_interface(iface); }
  /// Names input `input` (a live interface), before its first frame.
  void name_input(std::uint8_t input, std::string_view name) { inputs_.name(input, name); }
  /// Applies a new configuration: rules and outputs are rebuilt (rule state starts afresh);
  /// capture and reassembly settings need a restart and are reported in `notes`.
  void reload(const config::Settings& s, std::vector<std::string>& notes);
  /// A tick record to every worker (packet time reached a new second), and each woken.
  void tick_workers();
  /// End of a capture batch: workers that sleep get what was queued for them.
  void wake_workers();
  /// Reopens output files (logrotate).
  void reopen();
  /// End of input: stops the workers, drains TCP streams and transactions, ends suppression
  /// periods, flushes outputs.
  void finish();

  [[nodiscard]] std::size_t workers() const noexcept { return shards_.size(); }
  /// Every counter of every shard and of the dispatcher (a snapshot while running).
  [[nodiscard]] sensor::Counters counters() const;
  [[nodiscard]] const AlertFanout& alerts() const noexcept { return fanout_; }
  /// The ClickHouse event sink (null unless outputs.clickhouse sends events).
  [[nodiscard]] const output::ClickHouseEvents* clickhouse() const noexcept { return clickhouse_.get(); }
  /// The last failure of a ClickHouse request (events or alerts), for the log.
  [[nodiscard]] std::pair<std::uint64_t, std::string> clickhouse_error() const { return clickhouse_errors_->last(); }
  [[nodiscard]] std::uint64_t suppressed() const;
  /// Alerts attached to another rule's alert about the same activity.
  [[nodiscard]] std::uint64_t folded() const;
  /// Held alerts dropped because the client turned out to hold a role that explains them.
  [[nodiscard]] std::uint64_t role_explained() const;
  /// What the engines learned from traffic (read after finish(), or with one worker).
  [[nodiscard]] Learned learned(std::size_t max_clients) const;
  /// Alerts the outputs dropped (queue full, rate limit, shutdown).
  [[nodiscard]] std::uint64_t output_dropped() const;
  /// What the HTML report takes from the shards, merged. With workers still running, each
  /// worker takes its view on its own thread when a request reaches it through its ring; this
  /// waits for them (at most `timeout_ms`; a late worker's previous view is used). Capture thread.
  struct ReportParts {
    std::shared_ptr<const output::Traffic> traffic;  ///< nullptr when the report is off
    Learned learned;
    std::uint64_t suppressed = 0, folded = 0, role_explained = 0;
  };
  [[nodiscard]] ReportParts report_parts(unsigned timeout_ms = 5000);
  [[nodiscard]] bool detecting() const noexcept { return !fanout_.outputs.empty(); }
  [[nodiscard]] std::size_t rules() const noexcept;
  /// Prometheus text of everything (capture stats passed in by the caller).
  [[nodiscard]] std::string metrics(const std::vector<std::pair<std::string, capture::CaptureStats>>& capture,
                                    const dnstap::Listener* dnstap = nullptr) const;
  /// One log line of the main figures.
  [[nodiscard]] std::string stats_line(double seconds) const;

 private:
  struct Worker;
  class Reader;
  void dispatch(sensor::Timestamp ts, dnsparse::Bytes frame);
  void push(std::size_t shard, std::uint16_t kind, sensor::Timestamp ts, dnsparse::Bytes head_extra,
            dnsparse::Bytes body, std::uint8_t input);
  void stop_workers();
  /// Starts every reader's thread on `work`.
  void start_readers(const std::function<void(Reader&)>& work);
  /// True when worker threads own the shards (their tables are not read from this thread).
  [[nodiscard]] bool threaded() const noexcept { return shards_.size() > 1; }

  config::Settings settings_;
  output::Observer obs_;
  AlertFanout fanout_;
  std::unique_ptr<DumpWriter> dump_;
  std::shared_ptr<output::ClickHouseErrors> clickhouse_errors_ = std::make_shared<output::ClickHouseErrors>();
  std::unique_ptr<output::ClickHouseEvents> clickhouse_;
  InputMap inputs_;
  detect::SharedView shared_;
  // Feed::readers: one per worker, made before the shards (which hold their input names).
  std::vector<std::unique_ptr<Reader>> readers_;
  std::atomic<std::size_t> readers_busy_{0};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> view_request_{0};  // the latest report view asked of the readers
  std::vector<std::unique_ptr<Shard>> shards_;
  // Dispatcher (workers > 1).
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint64_t view_requests_ = 0;  // report views asked of the workers
  sensor::Counters dispatch_counters_;
  dnstap::Decoder dnstap_decoder_;
  sensor::DnstapMessage dnstap_msg_;
  sensor::Counters scratch_;
  std::unique_ptr<sensor::Defragmenter> defrag_;
  sensor::PortSet dns_ports_;
  std::unique_ptr<sensor::OffPortDns> off_port_;  // DNS on other ports: which side is the client
  dnsparse::Message off_port_msg_;
  SecondClock clock_;
  bool finished_ = false;
};

}  // namespace dnsvigil::app
