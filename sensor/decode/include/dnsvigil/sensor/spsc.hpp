// A single-producer single-consumer ring of variable-size records, for handing packets from the
// capture thread to a worker without locks. The producer blocks (waits) when the ring is full:
// offline replays lose nothing, and live capture pushes back into the kernel ring, whose drops
// pcap_stats reports. A consumer that has emptied the ring sleeps until an eighth of it is full
// or the producer calls wake() (end of a capture batch), so records travel in batches.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <thread>

namespace dnsvigil::sensor {

class SpscRing {
 public:
  /// `capacity` octets (rounded up to a power of two).
  explicit SpscRing(std::size_t capacity) {
    std::size_t n = 4096;
    while (n < capacity) n <<= 1;
    mask_ = n - 1;
    buf_ = static_cast<std::uint8_t*>(std::aligned_alloc(64, n));
    if (buf_ == nullptr) throw std::bad_alloc{};
  }
  ~SpscRing() { std::free(buf_); }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  /// Appends one record made of `head` then `body` (waits while the ring is full). Producer only.
  /// A record must fit in the ring (4 octets of length, rounded up to 8, included).
  void push(std::span<const std::uint8_t> head, std::span<const std::uint8_t> body) noexcept {
    const std::size_t len = head.size() + body.size();
    const std::size_t need = (sizeof(std::uint32_t) + len + 7) & ~std::size_t{7};
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t head_pos = head_.load(std::memory_order_acquire);
      if (tail + need - head_pos <= mask_ + 1) break;
      // Full: the consumer is behind. Wait for it to free space (first waking it, in case it
      // sleeps waiting for a batch that this record cannot join).
      wake();
      producer_sleeps_.store(true);
      if (head_.load() == head_pos) head_.wait(head_pos, std::memory_order_acquire);
      producer_sleeps_.store(false, std::memory_order_relaxed);
    }
    const auto l32 = static_cast<std::uint32_t>(len);
    copy_in(tail, {reinterpret_cast<const std::uint8_t*>(&l32), sizeof l32});
    copy_in(tail + sizeof l32, head);
    copy_in(tail + sizeof l32 + head.size(), body);
    tail_.store(tail + need);
    // A sleeping consumer is woken once a batch is waiting (or by wake()), not for every record.
    if (consumer_sleeps_.load() && tail + need - head_.load(std::memory_order_relaxed) >= (mask_ + 1) / 8)
      tail_.notify_one();
  }

  /// Wakes a sleeping consumer if anything is waiting for it: at the end of a capture batch, and
  /// after a record that must not wait for the batch to fill. Producer only.
  void wake() noexcept {
    if (consumer_sleeps_.load() && tail_.load(std::memory_order_relaxed) != head_.load(std::memory_order_relaxed))
      tail_.notify_one();
  }

  /// Calls f(std::span<const std::uint8_t> record) for every record available, then frees
  /// them. Returns the number handled. Consumer only. `scratch` must hold the largest record.
  template <class F>
  std::size_t drain(std::span<std::uint8_t> scratch, F&& f) {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    std::size_t n = 0;
    while (head != tail) {
      std::uint32_t len;
      copy_out(head, {reinterpret_cast<std::uint8_t*>(&len), sizeof len});
      const std::size_t at = (head + sizeof len) & mask_;
      std::span<const std::uint8_t> rec;
      if (at + len <= mask_ + 1) {
        rec = {buf_ + at, len};  // contiguous: no copy
      } else {
        copy_out(head + sizeof len, scratch.first(len));
        rec = scratch.first(len);
      }
      f(rec);
      head += (sizeof len + len + 7) & ~std::size_t{7};
      ++n;
      // Free space in steps so a waiting producer resumes without waiting for the whole batch.
      if ((n & 63) == 0) release(head, false);
    }
    release(head, true);
    return n;
  }

  /// Waits until a record is available. Consumer only. (A producer that wants the consumer to
  /// stop pushes a record saying so: atomic waits wake only on a change of value.)
  void wait() noexcept {
    const std::uint64_t seen = head_.load(std::memory_order_relaxed);
    for (int spin = 0; spin < 64; ++spin)
      if (tail_.load(std::memory_order_acquire) != seen) return;
    consumer_sleeps_.store(true);
    if (tail_.load() == seen) tail_.wait(seen, std::memory_order_acquire);
    consumer_sleeps_.store(false, std::memory_order_relaxed);
  }
  [[nodiscard]] bool empty() const noexcept {
    return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
  }

 private:
  // A sleeping producer is woken once a quarter of the ring is free, or when the consumer has
  // emptied it (`last`).
  void release(std::uint64_t head, bool last) noexcept {
    head_.store(head);
    if (producer_sleeps_.load() && (last || tail_.load(std::memory_order_relaxed) - head <= (mask_ + 1) / 4 * 3))
      head_.notify_one();
  }
  void copy_in(std::uint64_t pos, std::span<const std::uint8_t> src) noexcept {
    const std::size_t at = pos & mask_;
    const std::size_t first = std::min(src.size(), mask_ + 1 - at);
    if (first != 0) std::memcpy(buf_ + at, src.data(), first);
    if (first < src.size()) std::memcpy(buf_, src.data() + first, src.size() - first);
  }
  void copy_out(std::uint64_t pos, std::span<std::uint8_t> dst) const noexcept {
    const std::size_t at = pos & mask_;
    const std::size_t first = std::min(dst.size(), mask_ + 1 - at);
    if (first != 0) std::memcpy(dst.data(), buf_ + at, first);
    if (first < dst.size()) std::memcpy(dst.data() + first, buf_, dst.size() - first);
  }

  std::uint8_t* buf_ = nullptr;
  std::size_t mask_ = 0;
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  // A side about to sleep says so first, and the other side wakes it only when there is enough
  // work (a notify is a futex system call, too dear for each record). Flags and positions are
  // sequentially consistent around a sleep: either the sleeper sees the new position, or the
  // other side sees the flag (and a notify before the wait makes the wait return).
  alignas(64) std::atomic<bool> consumer_sleeps_{false};
  alignas(64) std::atomic<bool> producer_sleeps_{false};
};

}  // namespace dnsvigil::sensor
