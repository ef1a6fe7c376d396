// Packet-time windows (detect/window.hpp): period numbers and rings of sub-buckets, checked
// against a brute-force count of the events inside each window.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "dnsvigil/detect/settings.hpp"
#include "dnsvigil/detect/window.hpp"

using namespace dnsvigil::detect;

namespace {

// A packet time in 2023 (not a multiple of any bucket width), so period numbers are realistic.
constexpr Timestamp kT0 = 1'700'000'123 * kNanosPerSecond + 456;
constexpr Timestamp kTenMin = 10 * kMinute;

// A bucket that counts events; reset() is what a rule passes to Ring::at.
struct Count {
  std::uint32_t n;
};
void reset(Count& c) noexcept { c.n = 0; }

// 1 h as 6 × 10 min (the DETECTION.md example), zero-filled as LruTable values are.
using Hour = Ring<6, Count>;

// Sum of the last k periods up to p.
template <std::size_t N>
std::uint64_t sum(const Ring<N, Count>& r, std::uint32_t p, std::size_t k) {
  std::uint64_t s = 0;
  r.recent(p, k, [&](const Count& c) { s += c.n; });
  return s;
}

}  // namespace

TEST_CASE("window: period_of is 1-based and changes exactly at bucket boundaries", "[window]") {
  CHECK(period_of(0, kTenMin) == 1);
  CHECK(period_of(kTenMin - 1, kTenMin) == 1);
  CHECK(period_of(kTenMin, kTenMin) == 2);
  const std::uint32_t p = period_of(kT0, kTenMin);
  const Timestamp start = (kT0 / kTenMin) * kTenMin;
  CHECK(period_of(start, kTenMin) == p);
  CHECK(period_of(start - 1, kTenMin) == p - 1);
  CHECK(period_of(start + kTenMin - 1, kTenMin) == p);
  CHECK(period_of(start + kTenMin, kTenMin) == p + 1);
  // One-second buckets of a present-day time still fit the 32-bit period number.
  CHECK(period_of(kT0, kNanosPerSecond) == 1'700'000'124u);
}

TEST_CASE("window: counts add up inside the window and expire when packet time moves past", "[window]") {
  Hour r{};
  const std::uint32_t p0 = period_of(kT0, kTenMin);
  // Three events in the first period, one in each of the next two.
  for (int i = 0; i < 3; ++i) r.at(p0, reset).n++;
  r.at(p0 + 1, reset).n++;
  r.at(p0 + 2, reset).n++;
  CHECK(sum(r, p0 + 2, 6) == 5);  // 1 h
  CHECK(sum(r, p0 + 2, 2) == 2);  // the last 20 min
  CHECK(sum(r, p0 + 2, 1) == 1);
  // Time passes with no traffic: the first period leaves the hour at p0 + 6.
  CHECK(sum(r, p0 + 5, 6) == 5);
  CHECK(sum(r, p0 + 6, 6) == 2);
  CHECK(sum(r, p0 + 8, 6) == 0);
  // Reusing a slot (p0 + 6 shares p0's) resets the stale bucket before counting.
  r.at(p0 + 6, reset).n++;
  CHECK(r.at(p0 + 6, reset).n == 1);
  CHECK(sum(r, p0 + 6, 6) == 3);
  // A long silence: nothing old survives into the new window.
  r.at(p0 + 100, reset).n++;
  CHECK(sum(r, p0 + 100, 6) == 1);
}

TEST_CASE("window: unused slots (period 0) are never visited", "[window]") {
  Hour r{};
  int visits = 0;
  r.recent(period_of(kT0, kTenMin), 6, [&](const Count&) { ++visits; });
  CHECK(visits == 0);
  r.at(period_of(kT0, kTenMin), reset).n = 7;
  r.recent(period_of(kT0, kTenMin), 6, [&](const Count&) { ++visits; });
  CHECK(visits == 1);
}

TEST_CASE("window: ring sums match a brute-force count over random monotonic packet times", "[window]") {
  // Events at random gaps (0 to 25 min) for a few days of packet time; after each event the
  // 10-min, 30-min and 1-h windows ending at its period are compared with a direct count.
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<Timestamp> gap(0, 25 * kMinute);
  Hour r{};
  std::vector<std::uint32_t> periods;
  Timestamp t = kT0;
  for (int i = 0; i < 2000; ++i) {
    t += gap(rng);
    const std::uint32_t p = period_of(t, kTenMin);
    r.at(p, reset).n++;
    periods.push_back(p);
    for (const std::size_t k : {std::size_t{1}, std::size_t{3}, std::size_t{6}}) {
      std::uint64_t expect = 0;
      for (const std::uint32_t q : periods) expect += (q <= p && p - q < k);
      INFO("event " << i << ", window of " << k << " buckets");
      REQUIRE(sum(r, p, k) == expect);
    }
  }
}

TEST_CASE("window: time going backwards inside the ring span lands in its own bucket", "[window]") {
  Hour r{};
  const std::uint32_t p = period_of(kT0, kTenMin);
  r.at(p, reset).n += 4;
  r.at(p + 2, reset).n += 1;
  // A late packet from period p + 1 (e.g. a slow TCP answer) after p + 2 was seen.
  r.at(p + 1, reset).n += 2;
  CHECK(sum(r, p + 2, 6) == 7);
  CHECK(sum(r, p + 2, 1) == 1);  // the current bucket is untouched
  // A window ending in the past excludes newer buckets (period <= p in recent()).
  CHECK(sum(r, p + 1, 6) == 6);
  CHECK(sum(r, p, 6) == 4);
}

// A packet older than the whole ring span (N buckets) shares its slot with a current bucket; it
// used to reset that bucket, losing the counts inside the window. It now counts in the newer one.
TEST_CASE("window: a packet older than the ring span does not wipe the current bucket", "[window]") {
  Hour r{};
  const std::uint32_t p = period_of(kT0, kTenMin);
  r.at(p, reset).n += 5;
  r.at(p - 6, reset).n += 1;  // 1 h late: same slot as p, which keeps its period
  CHECK(r.period[p % 6] == p);
  CHECK(sum(r, p, 6) == 6);   // counted in the newer bucket, nothing wiped
}
