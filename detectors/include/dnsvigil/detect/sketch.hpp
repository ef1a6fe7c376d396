// Counting under attack: distinct counts that start exact and upgrade to a HyperLogLog sketch,
// and a count-min pre-filter that decides which keys earn full state.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace dnsvigil::detect {

namespace detail {
/// 2^-r for every register value r (ranks never exceed 64).
inline constexpr std::array<double, 66> kInversePowers = [] {
  std::array<double, 66> t{};
  double v = 1.0;
  for (auto& x : t) {
    x = v;
    v /= 2;
  }
  return t;
}();
}  // namespace detail

/// HyperLogLog (Flajolet, Fusy, Gandouet, Meunier 2007) with 2^P one-octet registers and the
/// linear-counting correction for small cardinalities. Standard error about 1.04 / sqrt(2^P).
template <unsigned P>
struct Hll {
  static constexpr std::size_t kRegisters = std::size_t{1} << P;
  std::array<std::uint8_t, kRegisters> reg{};

  /// Adds a hashed item; returns true when a register changed (the estimate may have moved).
  bool add(std::uint64_t h) noexcept {
    const std::size_t idx = h >> (64 - P);
    // Rank of the first 1 bit in the remaining 64-P bits (a sentinel bit bounds it).
    const std::uint64_t w = (h << P) | (std::uint64_t{1} << (P - 1));
    const auto rank = static_cast<std::uint8_t>(std::countl_zero(w) + 1);
    if (rank <= reg[idx]) return false;
    reg[idx] = rank;
    return true;
  }
  void merge(const Hll& o) noexcept {
    for (std::size_t i = 0; i < kRegisters; ++i)
      if (o.reg[i] > reg[i]) reg[i] = o.reg[i];
  }
  void clear() noexcept { reg.fill(0); }
  [[nodiscard]] double estimate() const noexcept {
    const double m = static_cast<double>(kRegisters);
    double sum = 0;
    std::size_t zeros = 0;
    for (const std::uint8_t r : reg) {
      sum += detail::kInversePowers[r];
      zeros += r == 0;
    }
    const double alpha = 0.7213 / (1.0 + 1.079 / m);
    const double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros != 0) return m * std::log(m / static_cast<double>(zeros));
    return e;
  }
};

/// A distinct count that is exact while small and a HyperLogLog beyond: the first kExact
/// items are kept as 32-bit fingerprints, so that thresholds of a few items (3 clients of a
/// server) are decided exactly, not by whether two items happen to share a register. Mergeable
/// and trivially copyable.
template <unsigned P, std::size_t kExact = 8>
struct SmallDistinct {
  std::array<std::uint32_t, kExact> fp{};
  std::uint8_t n = 0;
  bool overflow = false;  // more than kExact items: the sketch has the count
  Hll<P> hll;

  /// Adds a hashed item; returns true when the count may have changed.
  bool add(std::uint64_t h) noexcept {
    const bool changed = hll.add(h);
    if (overflow) return changed;
    const auto f = static_cast<std::uint32_t>(h ^ (h >> 32));
    for (std::uint8_t i = 0; i < n; ++i)
      if (fp[i] == f) return changed;
    if (n == kExact) {
      overflow = true;
      return true;
    }
    fp[n++] = f;
    return true;
  }
  void merge(const SmallDistinct& o) noexcept {
    hll.merge(o.hll);
    if (overflow) return;
    if (o.overflow) {
      overflow = true;
      return;
    }
    for (std::uint8_t i = 0; i < o.n && !overflow; ++i) {
      bool known = false;
      for (std::uint8_t j = 0; j < n; ++j) known = known || fp[j] == o.fp[i];
      if (known) continue;
      if (n == kExact) {
        overflow = true;
      } else {
        fp[n++] = o.fp[i];
      }
    }
  }
  [[nodiscard]] double estimate() const noexcept {
    return overflow ? std::max(hll.estimate(), static_cast<double>(kExact + 1)) : static_cast<double>(n);
  }
};

/// Precision used for per-key distinct counts: 1024 registers (1 KiB), about 3 % error.
using Sketch = Hll<10>;

/// A pool of sketches shared by the keys of one detector. Handles are 1-based (0 = none).
/// The pool has a fixed capacity; when it is exhausted, counts stay exact-but-saturated and the
/// exhaustion is counted, so memory never grows past the cap.
class SketchPool {
 public:
  explicit SketchPool(std::size_t capacity) : capacity_(capacity) {}
  /// A cleared sketch, or 0 when the pool is exhausted.
  [[nodiscard]] std::uint32_t acquire() {
    if (!free_.empty()) {
      const std::uint32_t h = free_.back();
      free_.pop_back();
      sketches_[h - 1].clear();
      return h;
    }
    if (sketches_.size() >= capacity_) {
      ++exhausted_;
      return 0;
    }
    sketches_.emplace_back();
    return static_cast<std::uint32_t>(sketches_.size());
  }
  void release(std::uint32_t h) {
    if (h != 0) free_.push_back(h);
  }
  [[nodiscard]] Sketch& get(std::uint32_t h) noexcept { return sketches_[h - 1]; }
  [[nodiscard]] const Sketch& get(std::uint32_t h) const noexcept { return sketches_[h - 1]; }
  [[nodiscard]] std::size_t in_use() const noexcept { return sketches_.size() - free_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::uint64_t exhausted() const noexcept { return exhausted_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return sketches_.capacity() * sizeof(Sketch); }

 private:
  std::size_t capacity_;
  std::vector<Sketch> sketches_;
  std::vector<std::uint32_t> free_;
  std::uint64_t exhausted_ = 0;
};

/// Distinct count of 64-bit item hashes: exact for up to kExact items (32-bit fingerprints),
/// then a Sketch from a SketchPool. Trivially copyable, so it can live in an LruTable value;
/// the owner must call release() before dropping it.
struct Distinct {
  static constexpr std::size_t kExact = 12;
  std::uint32_t fp[kExact];
  std::uint32_t sketch;   // 0 while exact
  std::uint8_t n;         // exact items held
  bool saturated;         // the pool was exhausted: the count is a lower bound

  /// Adds an item; returns true when it was new (always true once sketched). Every item
  /// enters the sketch in one form, spread(fingerprint), whether it came before or after the
  /// upgrade, so that an item seen on both sides of it is counted once.
  bool add(std::uint64_t h, SketchPool& pool) {
    const auto f = static_cast<std::uint32_t>(h ^ (h >> 32));
    if (sketch != 0) {
      pool.get(sketch).add(spread(f));
      return true;
    }
    for (std::uint8_t i = 0; i < n; ++i)
      if (fp[i] == f) return false;
    if (n < kExact) {
      fp[n++] = f;
      return true;
    }
    sketch = pool.acquire();
    if (sketch == 0) {
      saturated = true;
      return false;
    }
    // Re-hash the fingerprints into the sketch: a fingerprint is a fine 32-bit hash, spread
    // to 64 bits by a multiplication (Fibonacci hashing).
    Sketch& s = pool.get(sketch);
    for (std::uint8_t i = 0; i < n; ++i) s.add(spread(fp[i]));
    s.add(spread(f));
    return true;
  }
  [[nodiscard]] double estimate(const SketchPool& pool) const noexcept {
    return sketch != 0 ? pool.get(sketch).estimate() : n;
  }
  /// Folds this set into `acc` (for unions across buckets).
  void merge_into(Sketch& acc, const SketchPool& pool) const noexcept {
    if (sketch != 0) {
      acc.merge(pool.get(sketch));
    } else {
      for (std::uint8_t i = 0; i < n; ++i) acc.add(spread(fp[i]));
    }
  }
  void release(SketchPool& pool) noexcept {
    pool.release(sketch);
    sketch = 0;
    n = 0;
    saturated = false;
  }
  static constexpr std::uint64_t spread(std::uint32_t f) noexcept { return std::uint64_t{f} * 0x9E3779B97F4A7C15ULL; }
};

/// Count-min sketch of key hashes (Cormode & Muthukrishnan 2005), 4 rows of `width` saturating
/// 16-bit counters (at most 2^16 a row: 512 KiB), halved every decay period: a cheap gate in
/// front of per-key state, so that floods of keys seen once or twice never allocate state.
class CountMin {
 public:
  static constexpr std::size_t kMaxWidth = std::size_t{1} << 16;
  /// `width`: counters per row, rounded up to a power of two, at most kMaxWidth.
  explicit CountMin(std::size_t width = kMaxWidth)
      : mask_(std::bit_ceil(std::clamp<std::size_t>(width, 1, kMaxWidth)) - 1), rows_(kRows * (mask_ + 1), 0) {}
  /// Adds one occurrence and returns the new estimate.
  std::uint16_t add(std::uint64_t h) noexcept {
    std::uint16_t est = 0xFFFF;
    for (std::size_t r = 0; r < kRows; ++r) {
      std::uint16_t& c = rows_[r * (mask_ + 1) + ((h >> (r * 16)) & mask_)];
      if (c != 0xFFFF) ++c;
      if (c < est) est = c;
    }
    return est;
  }
  [[nodiscard]] std::uint16_t get(std::uint64_t h) const noexcept {
    std::uint16_t est = 0xFFFF;
    for (std::size_t r = 0; r < kRows; ++r) {
      const std::uint16_t c = rows_[r * (mask_ + 1) + ((h >> (r * 16)) & mask_)];
      if (c < est) est = c;
    }
    return est;
  }
  /// Counters per row.
  [[nodiscard]] std::size_t width() const noexcept { return mask_ + 1; }
  /// Halves every counter (exponential decay of old traffic).
  void decay() noexcept {
    for (auto& c : rows_) c = static_cast<std::uint16_t>(c >> 1);
  }

 private:
  static constexpr std::size_t kRows = 4;
  std::size_t mask_;
  std::vector<std::uint16_t> rows_;
};

}  // namespace dnsvigil::detect
