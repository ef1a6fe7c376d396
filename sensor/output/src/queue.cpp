#include "dnsvigil/output/queue.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace dnsvigil::output {

QueuedOutput::QueuedOutput(std::unique_ptr<AlertOutput> out, std::size_t capacity, std::uint64_t rate)
    : out_(std::move(out)), capacity_(capacity == 0 ? 1 : capacity), rate_(rate) {
  thread_ = std::thread([this] { run(); });
}

QueuedOutput::~QueuedOutput() { close(0); }

// Producer side: a per-second budget on packet time, so replays give the same result as live.
bool QueuedOutput::admit(const detect::Alert& a) {
  if (rate_ == 0) return true;
  const std::int64_t sec = a.ts / 1'000'000'000;
  if (sec != second_) {
    second_ = sec;
    in_second_.clear();
    flush_withheld();
  }
  auto& n = in_second_[a.rule->name];
  if (n < rate_ || a.summary) {
    ++n;
    return true;
  }
  auto& w = withheld_[a.rule->name];
  ++w.first;
  w.second = a;
  stats_.dropped_rate.fetch_add(1, std::memory_order_relaxed);
  return false;
}

// Reports what the rate limit withheld, one summary per rule (called with mu_ held).
void QueuedOutput::flush_withheld() {
  for (auto& [rule, w] : withheld_) {
    detect::Alert s = w.second;
    s.summary = true;
    s.suppressed = w.first;
    s.reason = "rate limit withheld " + std::to_string(w.first) + " " + std::string(rule) +
               " alerts; the newest: " + s.reason;
    if (q_.size() < capacity_) {
      q_.push_back(std::move(s));
    } else {
      stats_.dropped_full.fetch_add(1, std::memory_order_relaxed);
    }
  }
  withheld_.clear();
}

void QueuedOutput::advance(std::int64_t now) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || withheld_.empty() || now / 1'000'000'000 <= second_) return;
    second_ = now / 1'000'000'000;
    in_second_.clear();
    flush_withheld();
    stats_.depth.store(q_.size(), std::memory_order_relaxed);
  }
  cv_.notify_one();
}

void QueuedOutput::emit(const detect::Alert& a) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    if (!admit(a)) return;
    if (q_.size() >= capacity_) {
      stats_.dropped_full.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    q_.push_back(a);
    stats_.depth.store(q_.size(), std::memory_order_relaxed);
  }
  cv_.notify_one();
}

void QueuedOutput::reopen() {
  {
    std::lock_guard lock(mu_);
    reopen_ = true;
  }
  cv_.notify_one();
}

void QueuedOutput::run() {
  using namespace std::chrono;
  milliseconds backoff{100};
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || reopen_ || !q_.empty(); });
    if (reopen_) {
      reopen_ = false;
      lock.unlock();
      out_->reopen();
      lock.lock();
    }
    if (q_.empty()) {
      if (stop_) break;
      continue;
    }
    busy_ = true;
    inflight_ = std::min(q_.size(), std::max<std::size_t>(out_->max_batch(), 1));
    std::vector<detect::Alert> batch(q_.begin(), q_.begin() + static_cast<std::ptrdiff_t>(inflight_));
    lock.unlock();
    const bool ok = batch.size() == 1 ? out_->deliver(batch.front()) : out_->deliver_batch(batch);
    lock.lock();
    busy_ = false;
    if (ok) {
      // close() leaves the alerts in flight at the head of the queue.
      q_.erase(q_.begin(), q_.begin() + static_cast<std::ptrdiff_t>(inflight_));
      inflight_ = 0;
      stats_.delivered.fetch_add(batch.size(), std::memory_order_relaxed);
      stats_.depth.store(q_.size(), std::memory_order_relaxed);
      backoff = milliseconds{100};
      if (q_.empty()) {
        lock.unlock();
        out_->flush();
        lock.lock();
        drained_.notify_all();
      }
      continue;
    }
    inflight_ = 0;
    // The receiver is down: keep the alert, wait (new alerts queue up meanwhile, or drop when
    // the queue is full), and try again, backing off up to 10 s.
    stats_.failures.fetch_add(1, std::memory_order_relaxed);
    if (stop_) break;
    cv_.wait_for(lock, backoff, [&] { return stop_; });
    if (stop_) break;
    backoff = std::min(backoff * 2, milliseconds{10'000});
  }
  // Alerts that were in flight when close() gave up, and failed.
  stats_.dropped_shutdown.fetch_add(q_.size(), std::memory_order_relaxed);
  q_.clear();
  lock.unlock();
  out_->flush();
  drained_.notify_all();
}

void QueuedOutput::close(int timeout_ms) {
  if (!thread_.joinable()) return;
  {
    std::unique_lock lock(mu_);
    flush_withheld();
    cv_.notify_one();
    drained_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return q_.empty() && !busy_; });
    stop_ = true;
    // What is in flight stays for the thread to finish (delivered, or counted when it fails).
    const std::size_t keep = busy_ ? inflight_ : 0;
    stats_.dropped_shutdown.fetch_add(q_.size() - keep, std::memory_order_relaxed);
    q_.erase(q_.begin() + static_cast<std::ptrdiff_t>(keep), q_.end());
    stats_.depth.store(0, std::memory_order_relaxed);
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace dnsvigil::output
