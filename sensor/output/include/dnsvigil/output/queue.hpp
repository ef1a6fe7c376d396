// Alert outputs behind bounded queues, each on its own thread: a slow or dead receiver never
// blocks capture. Full queues drop (counted), failed deliveries retry with backoff, and a
// per-output rate limit on packet time folds excess alerts into per-rule summaries.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "dnsvigil/detect/alert.hpp"

namespace dnsvigil::output {

/// A destination for alerts. deliver() runs on the output's thread.
class AlertOutput {
 public:
  virtual ~AlertOutput() = default;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  /// Delivers one alert. Returns false when the receiver is unavailable; the queue keeps the
  /// alert and retries with backoff (the output reconnects on its next attempt).
  virtual bool deliver(const detect::Alert& a) = 0;
  /// Most alerts deliver_batch() takes at once (1: the queue calls deliver() for each).
  [[nodiscard]] virtual std::size_t max_batch() const noexcept { return 1; }
  /// Delivers several alerts as one unit: all of them, or none (false: all are retried).
  virtual bool deliver_batch(std::span<const detect::Alert> alerts) {
    for (const auto& a : alerts)
      if (!deliver(a)) return false;
    return true;
  }
  virtual void flush() {}
  /// Reopens files / reconnects (SIGHUP, logrotate).
  virtual void reopen() {}
};

/// Counters of one queued output (read from any thread).
struct OutputStats {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped_full{0};     ///< queue full: the receiver was too slow or down
  std::atomic<std::uint64_t> dropped_rate{0};     ///< over the rate limit (folded into summaries)
  std::atomic<std::uint64_t> dropped_shutdown{0}; ///< still queued when shutdown gave up waiting
  std::atomic<std::uint64_t> failures{0};         ///< failed delivery attempts (each retried)
  std::atomic<std::uint64_t> depth{0};            ///< alerts waiting
};

class QueuedOutput final : public detect::AlertSink {
 public:
  /// `capacity` alerts may wait; `rate` alerts per second of packet time pass (0 = no limit).
  QueuedOutput(std::unique_ptr<AlertOutput> out, std::size_t capacity, std::uint64_t rate);
  ~QueuedOutput() override;

  /// Queues a copy of `a`; never blocks.
  void emit(const detect::Alert& a) override;
  /// Asks the thread to reopen the output.
  void reopen();
  /// Packet time moved on to `now` (ns): once its second is over, what the rate limit withheld
  /// goes out as summaries even if no further alert comes.
  void advance(std::int64_t now);
  /// Waits up to `timeout_ms` for the queue to drain, then stops the thread; what is left is
  /// counted as dropped_shutdown.
  void close(int timeout_ms = 5000);

  [[nodiscard]] std::string_view name() const noexcept { return out_->name(); }
  [[nodiscard]] const OutputStats& stats() const noexcept { return stats_; }

 private:
  void run();
  bool admit(const detect::Alert& a);
  void flush_withheld();

  std::unique_ptr<AlertOutput> out_;
  std::size_t capacity_;
  std::uint64_t rate_;
  OutputStats stats_;
  std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::deque<detect::Alert> q_;
  bool stop_ = false, reopen_ = false, busy_ = false;
  std::size_t inflight_ = 0;  // alerts at the head of q_ being delivered (busy_)
  // Rate limit (producer side, packet time): alerts in the current second, and per-rule
  // alerts withheld since the last summary.
  std::int64_t second_ = -1;
  std::map<std::string_view, std::uint64_t> in_second_;  // per rule: a flood of one rule cannot starve the others
  std::map<std::string_view, std::pair<std::uint64_t, detect::Alert>> withheld_;
  std::thread thread_;
};

}  // namespace dnsvigil::output
