// Packet-time windows as rings of sub-buckets: bucket i of a ring covers one period
// [p * width, (p + 1) * width); a stale bucket is reset when its slot is reused.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::detect {

using sensor::Timestamp;

/// Period number of `ts` for buckets of `width` (1-based, so 0 marks an unused slot).
[[nodiscard]] constexpr std::uint32_t period_of(Timestamp ts, Timestamp width) noexcept {
  return static_cast<std::uint32_t>(ts / width) + 1;
}

/// N buckets; trivially copyable when Bucket is.
template <std::size_t N, class Bucket>
struct Ring {
  std::array<std::uint32_t, N> period;
  std::array<Bucket, N> bucket;

  /// The bucket of `p`, after `reset(Bucket&)` if its slot held an older period. An event
  /// older than the ring's span (its slot already holds a newer period) is counted in that
  /// newer bucket: it cannot have one of its own, and it must not wipe recent counts.
  template <class Reset>
  Bucket& at(std::uint32_t p, Reset&& reset) noexcept {
    const std::size_t i = p % N;
    if (period[i] < p) {
      reset(bucket[i]);
      period[i] = p;
    }
    return bucket[i];
  }
  /// Calls f(const Bucket&) for the buckets of the last `k` periods up to and including `p`.
  template <class F>
  void recent(std::uint32_t p, std::size_t k, F&& f) const noexcept {
    for (std::size_t i = 0; i < N; ++i)
      if (period[i] != 0 && period[i] <= p && p - period[i] < k) f(bucket[i]);
  }
  /// Calls f(Bucket&) for every bucket (to release resources).
  template <class F>
  void each(F&& f) noexcept {
    for (auto& b : bucket) f(b);
  }
};

}  // namespace dnsvigil::detect
