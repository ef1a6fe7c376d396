// The ClickHouse sink: DNS events and alerts inserted in batches over ClickHouse's HTTP
// interface (libcurl, RowBinary rows from clickhouse_rows.hpp).
//
// Events: the packet path encodes rows into per-thread chunks (ClickHouseBatcher) and hands
// whole chunks to ClickHouseEvents, whose own thread sends them in batches. Its buffer is
// bounded (max_buffer_bytes): while ClickHouse is slow or down, a chunk that does not fit is
// dropped and its rows counted, so capture never waits. A failed batch is kept and retried with
// backoff.
// Alerts: an AlertOutput behind the usual QueuedOutput (its own thread and queue of
// outputs.queue alerts, retried with backoff until delivered), inserting up to 1000 queued
// alerts per request. Alerts are never dropped for want of event buffer space.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dnsvigil/output/alert_json.hpp"
#include "dnsvigil/output/clickhouse_rows.hpp"
#include "dnsvigil/output/queue.hpp"

namespace dnsvigil::output {

struct ClickHouseOptions {
  std::string url = "http://127.0.0.1:8123";  ///< ClickHouse HTTP interface (http:// or https://)
  std::string database = "dnsvigil";
  std::string events_table = "dns_events";    ///< empty: no events
  std::string alerts_table = "dns_alerts";    ///< empty: no alerts
  std::string user = "default";
  std::string password;                       ///< read from outputs.clickhouse.password_file
  std::string ca_file;                        ///< https: CA bundle (empty: the system's)
  std::string observer_name;                  ///< the sensor's name in every row
  std::uint64_t batch_rows = 65536;           ///< rows per INSERT at most (whole chunks)
  std::int64_t flush_interval_ns = 1'000'000'000;  ///< a partial batch waits at most this long (wall time)
  std::uint64_t max_buffer_bytes = 64u << 20; ///< encoded event rows held (waiting + in flight)
  std::int64_t timeout_ns = 10'000'000'000;   ///< one HTTP request, connection included
};

/// One HTTP connection to ClickHouse (keep-alive). Not thread-safe: one per thread.
class ClickHouseHttp {
 public:
  explicit ClickHouseHttp(const ClickHouseOptions& o);
  ~ClickHouseHttp();
  ClickHouseHttp(const ClickHouseHttp&) = delete;
  ClickHouseHttp& operator=(const ClickHouseHttp&) = delete;

  /// POSTs `body` (the concatenation of `parts`) with `query` in the URL. True when ClickHouse
  /// answered 200; the answer's body is in `answer`. Otherwise `error` says what failed: libcurl's
  /// message (no connection, timeout) or "HTTP <status>: <ClickHouse's answer>".
  bool post(std::string_view query, std::span<const std::string_view> parts, std::string& answer, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Start-up check of the configured tables: connects, and reads the columns of each table from
/// system.columns. Returns an empty string when every column this sensor inserts exists with its
/// type, else one message naming the URL and the problem (ClickHouse's answer included).
[[nodiscard]] std::string clickhouse_check(const ClickHouseOptions& o);

/// The last failure of the ClickHouse sink's requests, for the log (shared by the event sink
/// and the alert output).
class ClickHouseErrors {
 public:
  void set(std::string what);
  /// The last error and a number that grows with each one (0: none yet).
  [[nodiscard]] std::pair<std::uint64_t, std::string> last() const;

 private:
  mutable std::mutex mu_;
  std::uint64_t seq_ = 0;
  std::string last_;
};

/// Counters of the event sink (read from any thread).
struct ClickHouseStats {
  std::atomic<std::uint64_t> inserted{0};          ///< rows ClickHouse acknowledged
  std::atomic<std::uint64_t> batches{0};           ///< INSERTs acknowledged
  std::atomic<std::uint64_t> bytes{0};             ///< octets of acknowledged INSERTs
  std::atomic<std::uint64_t> dropped_full{0};      ///< rows dropped: the buffer was at max_buffer_bytes
  std::atomic<std::uint64_t> dropped_shutdown{0};  ///< rows still buffered when close() gave up
  std::atomic<std::uint64_t> failures{0};          ///< failed INSERT attempts (each retried)
  std::atomic<std::uint64_t> buffered_rows{0};     ///< rows waiting or in flight
  std::atomic<std::uint64_t> buffered_bytes{0};
};

/// The events half of the sink: a bounded buffer of encoded rows and the thread that inserts them.
class ClickHouseEvents {
 public:
  ClickHouseEvents(ClickHouseOptions o, std::shared_ptr<ClickHouseErrors> errors);
  ~ClickHouseEvents();
  ClickHouseEvents(const ClickHouseEvents&) = delete;
  ClickHouseEvents& operator=(const ClickHouseEvents&) = delete;

  /// Takes `rows` encoded rows; never blocks on ClickHouse. When they do not fit in the buffer
  /// they are dropped and counted (dropped_full).
  void offer(std::string&& chunk, std::uint64_t rows);
  /// Sends what is buffered, waiting up to `timeout_ms` (retrying failed batches meanwhile), then
  /// stops the thread; rows still buffered are counted as dropped_shutdown.
  void close(int timeout_ms);

  [[nodiscard]] const ClickHouseStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const ClickHouseOptions& options() const noexcept { return opt_; }
  /// Rows offered so far (inserted + dropped + buffered).
  [[nodiscard]] std::uint64_t offered() const noexcept { return offered_.load(std::memory_order_relaxed); }

 private:
  struct Chunk {
    std::string data;
    std::uint64_t rows;
    std::chrono::steady_clock::time_point since;
  };
  void run();

  ClickHouseOptions opt_;
  std::shared_ptr<ClickHouseErrors> errors_;
  std::string query_;
  ClickHouseStats stats_;
  std::atomic<std::uint64_t> offered_{0};
  std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<Chunk> pending_;
  std::uint64_t pending_rows_ = 0, held_bytes_ = 0;  // held: pending and in flight
  bool stop_ = false, busy_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  std::thread thread_;
};

/// Encodes one thread's events into chunks and hands them to the sink: when a chunk reaches
/// 64 KiB or batch_rows rows, and on flush() (once a second of packet time, and at the end).
class ClickHouseBatcher {
 public:
  explicit ClickHouseBatcher(ClickHouseEvents& sink) : sink_(&sink) {}
  void add(const sensor::DnsEvent& ev, std::string_view interface) {
    enc_.event(ev, sink_->options().observer_name, interface, buf_);
    if (++rows_ >= sink_->options().batch_rows || buf_.size() >= kChunk) flush();
  }
  void add(const sensor::UnansweredQuery& q) {
    enc_.unanswered(q, sink_->options().observer_name, buf_);
    if (++rows_ >= sink_->options().batch_rows || buf_.size() >= kChunk) flush();
  }
  /// Hands the rows encoded so far to the sink.
  void flush();

 private:
  static constexpr std::size_t kChunk = 64u << 10;
  ClickHouseEvents* sink_;
  RowEncoder enc_;
  std::string buf_;
  std::uint64_t rows_ = 0;
};

/// The alerts half: an AlertOutput for a QueuedOutput. Its name is "clickhouse:URL/DB.TABLE".
[[nodiscard]] std::unique_ptr<AlertOutput> make_clickhouse_alert_output(const ClickHouseOptions& o, const Observer& obs,
                                                                       std::shared_ptr<ClickHouseErrors> errors);

}  // namespace dnsvigil::output
