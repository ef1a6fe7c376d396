// Counting under attack (detect/sketch.hpp): the HyperLogLog estimate and its merge, the
// exact→sketch Distinct count and its pool, the count-min pre-filter in front of keyed state, and
// the cross-worker merge of per-domain client sketches (detect/shared.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "dnsvigil/detect/shared.hpp"
#include "dnsvigil/detect/sketch.hpp"

using namespace dnsvigil::detect;

namespace {

// Item hashes: splitmix64 of the item number, a well-mixed 64-bit hash like the XXH3 values the
// rules feed in, and reproducible (every estimate below is the same on every run).
std::uint64_t item(std::uint64_t i) noexcept {
  std::uint64_t z = i + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Relative error of an estimate.
double rel_err(double estimate, double truth) { return std::fabs(estimate - truth) / truth; }

// Sketch (2^10 registers) standard error is 1.04/32 = 3.25 %; the bound used below is three
// standard errors, rounded up.
constexpr double kThreeSigma = 0.10;

// A zero-filled Distinct, as an LruTable hands out new values.
Distinct fresh() {
  Distinct d{};
  return d;
}

}  // namespace

// ------------------------------------------------------------------------------- HyperLogLog

TEST_CASE("Hll: empty is 0, one item is about 1, a repeated item changes nothing", "[sketch][hll]") {
  Sketch s;
  CHECK(s.estimate() == 0.0);
  CHECK(s.add(item(1)));
  CHECK(s.estimate() == Approx(1.0).margin(0.01));
  // Adding the same hash again never changes a register.
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(s.add(item(1)));
  CHECK(s.estimate() == Approx(1.0).margin(0.01));
}

TEST_CASE("Hll<10>: estimate within 3 standard errors (10 %) from 100 to 100k distinct items", "[sketch][hll]") {
  for (const std::uint64_t n : {100u, 1000u, 3000u, 10000u, 100000u}) {
    Sketch s;
    for (std::uint64_t i = 0; i < n; ++i) s.add(item(i));
    const double est = s.estimate();
    INFO("n = " << n << ", estimate = " << est);
    CHECK(rel_err(est, static_cast<double>(n)) < kThreeSigma);
    // Duplicates are not counted: a second pass over the same items leaves the estimate as is.
    for (std::uint64_t i = 0; i < n; ++i) s.add(item(i));
    CHECK(s.estimate() == est);
  }
}

TEST_CASE("Hll: merge is the union (overlap counted once), idempotent, and clear() empties", "[sketch][hll]") {
  Sketch a, b;
  for (std::uint64_t i = 0; i < 6000; ++i) a.add(item(i));
  for (std::uint64_t i = 4000; i < 10000; ++i) b.add(item(i));
  Sketch u = a;
  u.merge(b);
  INFO("union estimate " << u.estimate());
  CHECK(rel_err(u.estimate(), 10000.0) < kThreeSigma);
  // Same registers as one sketch fed every item.
  Sketch all;
  for (std::uint64_t i = 0; i < 10000; ++i) all.add(item(i));
  CHECK(u.reg == all.reg);
  const double before = u.estimate();
  u.merge(b);
  u.merge(a);
  CHECK(u.estimate() == before);
  u.clear();
  CHECK(u.estimate() == 0.0);
}

// ---------------------------------------------------------------------------------- Distinct

TEST_CASE("Distinct: exact up to kExact items, duplicates not counted, no sketch taken", "[sketch][distinct]") {
  SketchPool pool(4);
  Distinct d = fresh();
  for (std::uint64_t i = 0; i < Distinct::kExact; ++i) CHECK(d.add(item(i), pool));
  for (std::uint64_t i = 0; i < Distinct::kExact; ++i) CHECK_FALSE(d.add(item(i), pool));
  CHECK(d.estimate(pool) == static_cast<double>(Distinct::kExact));
  CHECK(d.sketch == 0);
  CHECK(pool.in_use() == 0);
  CHECK_FALSE(d.saturated);
}

TEST_CASE("Distinct: the item after kExact upgrades to a pooled sketch that keeps the count", "[sketch][distinct]") {
  SketchPool pool(4);
  Distinct d = fresh();
  for (std::uint64_t i = 0; i <= Distinct::kExact; ++i) CHECK(d.add(item(i), pool));
  CHECK(d.sketch != 0);
  CHECK(pool.in_use() == 1);
  // Small counts use linear counting: within one item of the truth.
  CHECK(d.estimate(pool) == Approx(Distinct::kExact + 1.0).margin(1.0));
  d.release(pool);
  CHECK(pool.in_use() == 0);
  CHECK(d.sketch == 0);
  CHECK(d.estimate(pool) == 0.0);
}

TEST_CASE("Distinct: 10k and 100k distinct items (each added twice) within 10 %", "[sketch][distinct]") {
  for (const std::uint64_t n : {10000u, 100000u}) {
    SketchPool pool(1);
    Distinct d = fresh();
    for (std::uint64_t i = 0; i < n; ++i) d.add(item(i), pool);
    const double once = d.estimate(pool);
    for (std::uint64_t i = 0; i < n; ++i) d.add(item(i), pool);
    INFO("n = " << n << ", estimate = " << once << ", after duplicates " << d.estimate(pool));
    CHECK(rel_err(once, static_cast<double>(n)) < kThreeSigma);
    CHECK(rel_err(d.estimate(pool), static_cast<double>(n)) < kThreeSigma);
    CHECK(pool.in_use() == 1);  // one sketch, whatever the count
    d.release(pool);
  }
}

// Regression (sketch.hpp Distinct::add): items once entered the sketch as spread(fingerprint) at
// the upgrade but as the raw hash after it, so an item seen on both sides was counted twice.
TEST_CASE("Distinct: items seen before the upgrade and repeated after it are counted once",
          "[sketch][distinct]") {
  SketchPool pool(1);
  Distinct d = fresh();
  const std::uint64_t n = Distinct::kExact + 1;  // the last one triggers the upgrade
  for (std::uint64_t i = 0; i < n; ++i) d.add(item(i), pool);
  REQUIRE(d.sketch != 0);
  for (int round = 0; round < 5; ++round)
    for (std::uint64_t i = 0; i < n; ++i) d.add(item(i), pool);
  INFO("13 distinct items, estimate " << d.estimate(pool));
  CHECK(d.estimate(pool) == Approx(static_cast<double>(n)).margin(1.0));
}

// The same through the window union: an exact bucket folds its items in as spread(fingerprint),
// and a sketched bucket must hold its items in that form too.
TEST_CASE("Distinct: the union of an exact and a sketched bucket counts a shared item once",
          "[sketch][distinct]") {
  SketchPool pool(2);
  Distinct older = fresh(), newer = fresh();
  // Older bucket: 12 names (exact).
  for (std::uint64_t i = 0; i < 12; ++i) older.add(item(i), pool);
  // Newer bucket: 13 other names (upgrades it), then the same 12 names again.
  for (std::uint64_t i = 100; i < 113; ++i) newer.add(item(i), pool);
  for (std::uint64_t i = 0; i < 12; ++i) newer.add(item(i), pool);
  REQUIRE(older.sketch == 0);
  REQUIRE(newer.sketch != 0);
  Sketch acc;
  older.merge_into(acc, pool);
  newer.merge_into(acc, pool);
  INFO("25 distinct names, union estimate " << acc.estimate());
  CHECK(acc.estimate() == Approx(25.0).margin(2.0));
}

TEST_CASE("Distinct: merge_into of exact buckets is their union", "[sketch][distinct]") {
  SketchPool pool(1);
  Distinct a = fresh(), b = fresh();
  for (std::uint64_t i = 0; i < 10; ++i) a.add(item(i), pool);
  for (std::uint64_t i = 5; i < 15; ++i) b.add(item(i), pool);
  Sketch acc;
  a.merge_into(acc, pool);
  b.merge_into(acc, pool);
  CHECK(acc.estimate() == Approx(15.0).margin(1.0));
  CHECK(pool.in_use() == 0);  // folding exact sets takes no sketch
}

TEST_CASE("SketchPool: capacity, released sketches reused cleared, exhaustion counted", "[sketch][pool]") {
  SketchPool pool(2);
  CHECK(pool.capacity() == 2);
  const std::uint32_t h1 = pool.acquire(), h2 = pool.acquire();
  CHECK(h1 != 0);
  CHECK(h2 != 0);
  CHECK(h1 != h2);
  CHECK(pool.acquire() == 0);  // full
  CHECK(pool.exhausted() == 1);
  CHECK(pool.in_use() == 2);
  for (std::uint64_t i = 0; i < 500; ++i) pool.get(h1).add(item(i));
  CHECK(pool.get(h1).estimate() > 400);
  pool.release(h1);
  CHECK(pool.in_use() == 1);
  const std::size_t bytes = pool.bytes();
  const std::uint32_t again = pool.acquire();
  CHECK(again == h1);                          // reused, not grown
  CHECK(pool.get(again).estimate() == 0.0);    // and cleared
  CHECK(pool.bytes() == bytes);
  CHECK(pool.bytes() <= 2 * sizeof(Sketch) * 2);  // never more than the capacity (vector slack aside)
  pool.release(0);                             // the "none" handle is ignored
  CHECK(pool.in_use() == 2);
}

TEST_CASE("Distinct: an exhausted pool saturates the count (a lower bound) without growing memory",
          "[sketch][distinct][pool]") {
  SketchPool pool(1);
  Distinct first = fresh(), second = fresh();
  for (std::uint64_t i = 0; i < 100; ++i) first.add(item(i), pool);  // takes the only sketch
  REQUIRE(first.sketch != 0);
  for (std::uint64_t i = 1000; i < 1100; ++i) second.add(item(i), pool);
  CHECK(second.sketch == 0);
  CHECK(second.saturated);
  CHECK(second.estimate(pool) == static_cast<double>(Distinct::kExact));  // lower bound of 100
  CHECK(pool.exhausted() > 0);
  CHECK(pool.in_use() == 1);
  CHECK(pool.bytes() <= 2 * sizeof(Sketch));
  // Once the first releases its sketch, the second can upgrade.
  first.release(pool);
  second.release(pool);
  CHECK_FALSE(second.saturated);
  for (std::uint64_t i = 1000; i < 1100; ++i) second.add(item(i), pool);
  CHECK(second.sketch != 0);
  CHECK(second.estimate(pool) == Approx(100.0).epsilon(kThreeSigma));
}

// --------------------------------------------------------------------------------- CountMin

TEST_CASE("CountMin: exact for a few keys, never underestimates, 0 for unseen", "[sketch][countmin]") {
  CountMin cm;
  CHECK(cm.get(item(1)) == 0);
  for (int i = 0; i < 5; ++i) cm.add(item(1));
  CHECK(cm.add(item(2)) == 1);
  CHECK(cm.get(item(1)) == 5);
  CHECK(cm.get(item(2)) == 1);
  CHECK(cm.get(item(3)) == 0);
  // Under load (collisions) an estimate can only be too high.
  for (std::uint64_t i = 100; i < 200100; ++i) cm.add(item(i));
  CHECK(cm.get(item(1)) >= 5);
  CHECK(cm.get(item(2)) >= 1);
}

TEST_CASE("CountMin: a flood of keys seen once does not pass a gate of 3, a key seen 3 times does",
          "[sketch][countmin]") {
  // The rules admit a key to full state once the pre-filter has seen it a few times (3 today), so
  // floods of unique clients or names never allocate state.
  CountMin cm;
  std::size_t admitted = 0;
  for (std::uint64_t i = 0; i < 10000; ++i) admitted += cm.add(item(i)) >= 3;
  CHECK(admitted == 0);
  const std::uint64_t repeat = item(999999);
  CHECK(cm.add(repeat) < 3);
  CHECK(cm.add(repeat) < 3);
  CHECK(cm.add(repeat) >= 3);
}

TEST_CASE("CountMin: counters saturate at 65535 and decay() halves them", "[sketch][countmin]") {
  CountMin cm;
  for (int i = 0; i < 70000; ++i) cm.add(item(7));
  CHECK(cm.get(item(7)) == 0xFFFF);  // no wrap to a small count
  for (int i = 0; i < 6; ++i) cm.add(item(8));
  cm.decay();
  CHECK(cm.get(item(7)) == 0x7FFF);
  CHECK(cm.get(item(8)) == 3);
  cm.decay();
  cm.decay();
  CHECK(cm.get(item(8)) == 0);
}

TEST_CASE("CountMin: the width is a power of two up to 2^16; a narrow sketch overestimates more", "[sketch][countmin]") {
  CHECK(CountMin().width() == 65536);
  CHECK(CountMin(4096).width() == 4096);
  CHECK(CountMin(3000).width() == 4096);
  CHECK(CountMin(1u << 20).width() == 65536);
  CountMin narrow(4096), wide;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    narrow.add(item(i));
    wide.add(item(i));
  }
  // Keys never added: how many read as seen at least once.
  std::size_t narrow_seen = 0, wide_seen = 0;
  for (std::uint64_t i = 1'000'000; i < 1'001'000; ++i) {
    narrow_seen += narrow.get(item(i)) > 0;
    wide_seen += wide.get(item(i)) > 0;
  }
  CHECK(wide_seen < 50);
  CHECK(narrow_seen > 500);
  // Counts of a key seen often stay exact enough to gate on.
  for (int i = 0; i < 3; ++i) narrow.add(item(5'000'000));
  CHECK(narrow.get(item(5'000'000)) >= 3);
}

TEST_CASE("SharedView: a domain popular across workers reaches every worker's copy, and only grows",
          "[sketch][shared]") {
  // Two workers each see half of a domain's clients; neither alone reaches the threshold of 8,
  // the merged sketch does. A worker's copy is refreshed on its next sync even with no deltas of
  // its own, and a later popular domain is added to copies that already hold the first.
  SharedView shared;
  const auto half = [](std::uint64_t from) {
    SharedView::DomainSketch s;
    for (std::uint64_t c = from; c < from + 5; ++c) s.add(item(c));
    return s;
  };
  std::vector<std::uint64_t> w0, w1;
  shared.sync_domains({{111, half(0)}}, 8, w0);
  CHECK(w0.empty());
  shared.sync_domains({{111, half(100)}}, 8, w1);
  CHECK(w1 == std::vector<std::uint64_t>{111});
  shared.sync_domains({}, 8, w0);
  CHECK(w0 == std::vector<std::uint64_t>{111});

  shared.sync_domains({{42, half(200)}, {42, half(300)}}, 8, w1);
  CHECK(w1 == std::vector<std::uint64_t>{42, 111});  // sorted
  shared.sync_domains({}, 8, w0);
  CHECK(w0 == w1);
  shared.sync_domains({{111, half(400)}}, 8, w0);  // already popular: no change
  CHECK(w0 == std::vector<std::uint64_t>{42, 111});
}
