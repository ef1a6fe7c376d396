// Bounded keyed state as the rules build it: an LruTable (sensor/table.hpp) whose values hold a
// ring of Distinct counts backed by a SketchPool. Capacity, idle expiry on packet time, eviction
// counting, and sketches returned to the pool when their key goes.
#include <catch2/catch.hpp>

#include <cstdint>

#include "dnsvigil/detect/settings.hpp"
#include "dnsvigil/detect/sketch.hpp"
#include "dnsvigil/detect/window.hpp"
#include "dnsvigil/sensor/table.hpp"

using namespace dnsvigil::detect;

namespace {

constexpr Timestamp kT0 = 1'700'000'000 * kNanosPerSecond;
constexpr Timestamp kBucket = 5 * kMinute;

std::uint64_t mix(std::uint64_t i) noexcept {
  std::uint64_t z = i + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A per-(client, domain) state like the enumeration rule's: 12 × 5 min of distinct names.
struct Key {
  std::uint64_t client, domain;
};
struct Bucket {
  Distinct names;
};
struct State {
  Ring<12, Bucket> ring;
};

// The table, its pool and its eviction counter, with the release-on-drop discipline the rules
// must follow (Distinct is trivially copyable; the owner returns its sketch).
struct Keyed {
  dnsvigil::sensor::LruTable<Key, State> table;
  SketchPool pool;
  std::uint64_t evicted = 0, expired = 0;

  Keyed(std::size_t keys, std::size_t sketches) : table(keys), pool(sketches) {}

  void drop(State& st) {
    st.ring.each([&](Bucket& b) { b.names.release(pool); });
  }
  void add(Key k, Timestamp ts, std::uint64_t name) {
    auto [e, inserted] = table.emplace(k, ts, [&](auto& victim) {
      ++evicted;
      drop(victim.value);
    });
    (void)inserted;
    e->value.ring.at(period_of(ts, kBucket), [&](Bucket& b) { b.names.release(pool); }).names.add(name, pool);
  }
  void expire_idle(Timestamp now, Timestamp idle) {
    table.expire(now - idle, [&](auto& e) {
      ++expired;
      drop(e.value);
    });
  }
};

}  // namespace

TEST_CASE("state: a flood of unique keys stays within capacity and every eviction is counted", "[state]") {
  Keyed k(1000, 256);
  for (std::uint64_t i = 0; i < 100000; ++i) {
    // 40 names per key so every key upgrades to a sketch before it is evicted.
    for (std::uint64_t n = 0; n < 40 && i < 2000; ++n) k.add({mix(i), 1}, kT0 + static_cast<Timestamp>(i), mix(n));
    k.add({mix(i), 1}, kT0 + static_cast<Timestamp>(i), mix(i));
    REQUIRE(k.table.size() <= 1000);
  }
  CHECK(k.table.size() == 1000);
  CHECK(k.evicted == 99000);
  // Sketches follow their keys back to the pool: the survivors hold one name each (exact), so
  // every sketch taken by the first 2000 keys has been returned.
  CHECK(k.pool.in_use() == 0);
  CHECK(k.pool.exhausted() > 0);  // the pool was the limit while 2000 keys wanted sketches
  CHECK(k.pool.bytes() <= 512 * sizeof(Sketch));
  // The survivors are the 1000 most recent keys.
  CHECK(k.table.find({mix(99999), 1}) != nullptr);
  CHECK(k.table.find({mix(98999), 1}) == nullptr);
}

TEST_CASE("state: idle keys expire on packet time, active ones stay", "[state]") {
  Keyed k(64, 64);
  const Timestamp idle = 30 * kMinute;
  for (std::uint64_t c = 0; c < 10; ++c)
    for (std::uint64_t n = 0; n < 20; ++n) k.add({c, 7}, kT0, mix(n));
  CHECK(k.pool.in_use() == 10);
  // Clients 0..4 keep querying; 5..9 go quiet.
  for (std::uint64_t c = 0; c < 5; ++c) k.add({c, 7}, kT0 + 20 * kMinute, mix(100));
  k.expire_idle(kT0 + 29 * kMinute, idle);
  CHECK(k.table.size() == 10);  // nobody idle for 30 min yet
  k.expire_idle(kT0 + 30 * kMinute + 1, idle);
  CHECK(k.table.size() == 5);
  CHECK(k.expired == 5);
  CHECK(k.evicted == 0);
  CHECK(k.pool.in_use() == 5);
  for (std::uint64_t c = 0; c < 5; ++c) CHECK(k.table.find({c, 7}) != nullptr);
  for (std::uint64_t c = 5; c < 10; ++c) CHECK(k.table.find({c, 7}) == nullptr);
  // No wall clock involved: a later packet time expires the rest.
  k.expire_idle(kT0 + 51 * kMinute, idle);
  CHECK(k.table.size() == 0);
  CHECK(k.pool.in_use() == 0);
}

TEST_CASE("state: a reused ring slot returns its old sketch before counting again", "[state]") {
  Keyed k(4, 2);
  for (std::uint64_t n = 0; n < 50; ++n) k.add({1, 1}, kT0, mix(n));
  CHECK(k.pool.in_use() == 1);
  // An hour later the same slot comes round again (12 × 5 min): the old sketch is released.
  for (std::uint64_t n = 0; n < 50; ++n) k.add({1, 1}, kT0 + 12 * kBucket, mix(1000 + n));
  CHECK(k.pool.in_use() == 1);
  const auto* e = k.table.find({1, 1});
  REQUIRE(e != nullptr);
  double total = 0;
  e->value.ring.recent(period_of(kT0 + 12 * kBucket, kBucket), 12,
                       [&](const Bucket& b) { total += b.names.estimate(k.pool); });
  CHECK(total == Approx(50.0).epsilon(0.1));
}
