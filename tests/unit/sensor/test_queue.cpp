// QueuedOutput: batched delivery (AlertOutput::max_batch), retries of a whole batch, and the
// accounting of close() while a batch is in flight: every alert is delivered or counted once.
#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "dnsvigil/output/queue.hpp"

using namespace dnsvigil;

namespace {

detect::RuleInfo kRule{"zone_transfer", "dnsvigil-0001", "test", {}};

class Recorder final : public output::AlertOutput {
 public:
  Recorder(std::size_t batch, int fail_first, std::chrono::milliseconds delay)
      : batch_(batch), fail_(fail_first), delay_(delay) {}
  std::string_view name() const noexcept override { return "recorder"; }
  std::size_t max_batch() const noexcept override { return batch_; }
  bool deliver(const detect::Alert& a) override { return deliver_batch({&a, 1}); }
  bool deliver_batch(std::span<const detect::Alert> alerts) override {
    std::this_thread::sleep_for(delay_);
    std::lock_guard lock(mu_);
    if (fail_ > 0) {
      --fail_;
      return false;
    }
    sizes.push_back(alerts.size());
    for (const auto& a : alerts) seen.push_back(a.ts);
    return true;
  }
  std::mutex mu_;
  std::vector<std::size_t> sizes;
  std::vector<sensor::Timestamp> seen;

 private:
  std::size_t batch_;
  int fail_;
  std::chrono::milliseconds delay_;
};

detect::Alert alert(sensor::Timestamp ts) {
  detect::Alert a;
  a.rule = &kRule;
  a.ts = ts;
  return a;
}

}  // namespace

TEST_CASE("queue: alerts go out in batches of at most max_batch, in order", "[queue]") {
  auto rec = std::make_unique<Recorder>(3, 0, std::chrono::milliseconds(0));
  Recorder* r = rec.get();
  output::QueuedOutput q(std::move(rec), 100, 0);
  for (int i = 1; i <= 7; ++i) q.emit(alert(i));
  q.close(5000);
  CHECK(q.stats().delivered == 7);
  CHECK(q.stats().dropped_shutdown == 0);
  CHECK(r->seen == std::vector<sensor::Timestamp>{1, 2, 3, 4, 5, 6, 7});
  for (const auto n : r->sizes) CHECK(n <= 3);
}

TEST_CASE("queue: a failed batch is retried whole", "[queue]") {
  auto rec = std::make_unique<Recorder>(10, 2, std::chrono::milliseconds(0));
  Recorder* r = rec.get();
  output::QueuedOutput q(std::move(rec), 100, 0);
  for (int i = 1; i <= 4; ++i) q.emit(alert(i));
  q.close(5000);  // 100 ms and 200 ms of backoff
  CHECK(q.stats().failures == 2);
  CHECK(q.stats().delivered == 4);
  CHECK(r->seen == std::vector<sensor::Timestamp>{1, 2, 3, 4});
}

TEST_CASE("queue: close() while a batch is in flight counts every alert once", "[queue]") {
  auto rec = std::make_unique<Recorder>(2, 0, std::chrono::milliseconds(300));
  Recorder* r = rec.get();
  output::QueuedOutput q(std::move(rec), 100, 0);
  for (int i = 1; i <= 6; ++i) q.emit(alert(i));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the first batch is in flight
  q.close(10);
  // The batch in flight finished after close() gave up waiting: delivered, the rest dropped.
  CHECK(q.stats().delivered + q.stats().dropped_shutdown == 6);
  CHECK(q.stats().delivered == r->seen.size());
  CHECK(q.stats().delivered >= 2);
}
