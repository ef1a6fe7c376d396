// LruTable: the bounded hash table under every keyed state (insert/find/erase, LRU eviction,
// idle expiry, backward-shift deletion checked against std::unordered_map).
#include <catch2/catch.hpp>

#include <cstdint>
#include <list>
#include <random>
#include <unordered_map>
#include <vector>

#include "dnsvigil/sensor/table.hpp"

using dnsvigil::sensor::LruTable;
using dnsvigil::sensor::Timestamp;

namespace {

using Table = LruTable<std::uint32_t, std::uint32_t>;

// Every key lands on one of 7 neighbouring home slots that wrap around the end of the index
// (capacity 16 -> 32 index slots, homes 28..31 and 0..2): long probe chains that cross the
// wrap, so backward-shift deletion has to move entries across it.
struct ClusterHash {
  std::uint64_t operator()(const std::uint32_t& k) const noexcept { return 28 + k % 7; }
};

// Every key has the same home slot and the same low 32 bits (the tag the index keeps), but a
// different full hash: probes pass the tag test and must still tell the keys apart.
struct TagCollisionHash {
  std::uint64_t operator()(const std::uint32_t& k) const noexcept { return (std::uint64_t{k} + 1) << 32 | 9; }
};

// Every key hashes to the same slot: the worst case for linear probing.
struct ConstantHash {
  std::uint64_t operator()(const std::uint32_t&) const noexcept { return 5; }
};

template <class T>
std::vector<std::uint32_t> keys_mru_first(T& t) {
  std::vector<std::uint32_t> out;
  t.for_each([&](auto& e) { out.push_back(e.key); });
  return out;
}

auto no_evict = [](auto&) { FAIL("unexpected eviction"); };

}  // namespace

TEST_CASE("LruTable: insert, find, erase", "[table]") {
  Table t(8);
  CHECK(t.size() == 0);
  CHECK(t.capacity() == 8);
  CHECK(t.find(1) == nullptr);

  auto [e, inserted] = t.emplace(1, 100, no_evict);
  REQUIRE(e != nullptr);
  CHECK(inserted);
  CHECK(e->key == 1);
  CHECK(e->value == 0);  // a new entry's value is zero-filled
  CHECK(e->last_seen == 100);
  e->value = 42;

  // emplace of an existing key returns it, unchanged, and does not insert.
  auto [e2, inserted2] = t.emplace(1, 200, no_evict);
  CHECK_FALSE(inserted2);
  CHECK(e2 == e);
  CHECK(e2->value == 42);
  CHECK(e2->last_seen == 200);
  CHECK(t.size() == 1);

  REQUIRE(t.find(1) != nullptr);
  CHECK(t.find(1)->value == 42);
  CHECK(t.find(2) == nullptr);

  t.erase(t.find(1));
  CHECK(t.size() == 0);
  CHECK(t.find(1) == nullptr);

  // A slot reused after erase starts from a zero value again.
  auto [e3, inserted3] = t.emplace(2, 300, no_evict);
  CHECK(inserted3);
  CHECK(e3->value == 0);
  CHECK(t.find(2) == e3);
}

TEST_CASE("LruTable: a full table evicts the least recently used entry", "[table]") {
  Table t(3);
  for (std::uint32_t k = 1; k <= 3; ++k) t.emplace(k, Timestamp{k}, no_evict).first->value = k * 10;
  CHECK(keys_mru_first(t) == std::vector<std::uint32_t>{3, 2, 1});

  // touch() makes 1 the most recently used: 2 is now the oldest.
  REQUIRE(t.touch(1, 4) != nullptr);
  CHECK(keys_mru_first(t) == std::vector<std::uint32_t>{1, 3, 2});
  CHECK(t.oldest()->key == 2);

  std::vector<std::pair<std::uint32_t, std::uint32_t>> evicted;
  auto record = [&](Table::Entry& v) { evicted.emplace_back(v.key, v.value); };
  t.emplace(4, 5, record);
  REQUIRE(evicted.size() == 1);
  CHECK(evicted[0] == std::pair<std::uint32_t, std::uint32_t>{2, 20});  // the victim is whole when on_evict sees it
  CHECK(t.size() == 3);
  CHECK(t.find(2) == nullptr);

  t.emplace(5, 6, record);
  REQUIRE(evicted.size() == 2);
  CHECK(evicted[1].first == 3);
  CHECK(keys_mru_first(t) == std::vector<std::uint32_t>{5, 4, 1});
  // find() does not change the order.
  (void)t.find(1);
  CHECK(t.oldest()->key == 1);
}

TEST_CASE("LruTable: use() moves an entry to the front and never moves its time back", "[table]") {
  Table t(4);
  for (std::uint32_t k = 1; k <= 4; ++k) t.emplace(k, Timestamp{k} * 10, no_evict);
  Table::Entry* e = t.find(2);
  REQUIRE(e != nullptr);
  t.use(e, 100);
  CHECK(e->last_seen == 100);
  CHECK(keys_mru_first(t) == std::vector<std::uint32_t>{2, 4, 3, 1});

  Table::Entry* one = t.find(1);
  t.use(one, 5);  // older than its last use (reordered capture): time kept, order updated
  CHECK(one->last_seen == 10);
  CHECK(keys_mru_first(t) == std::vector<std::uint32_t>{1, 2, 4, 3});
}

TEST_CASE("LruTable: expire() removes entries used before the cutoff, oldest first", "[table]") {
  Table t(8);
  for (std::uint32_t k = 1; k <= 5; ++k) t.emplace(k, Timestamp{k} * 10, no_evict);  // 10..50
  std::vector<std::uint32_t> order;
  const std::size_t n = t.expire(30, [&](Table::Entry& e) { order.push_back(e.key); });
  CHECK(n == 2);  // 10 and 20; 30 is not before the cutoff
  CHECK(order == std::vector<std::uint32_t>{1, 2});
  CHECK(t.size() == 3);
  CHECK(t.find(3) != nullptr);

  // A touched entry survives a cutoff its old time would not have.
  t.touch(3, 60);
  order.clear();
  CHECK(t.expire(55, [&](Table::Entry& e) { order.push_back(e.key); }) == 2);
  CHECK(order == std::vector<std::uint32_t>{4, 5});
  CHECK(t.size() == 1);
  CHECK(t.find(3) != nullptr);
  CHECK(t.expire(55, [](Table::Entry&) {}) == 0);
}

TEST_CASE("LruTable: drain() hands over every entry oldest first and leaves the table usable", "[table]") {
  Table t(4);
  for (std::uint32_t k : {7u, 3u, 9u}) t.emplace(k, 1, no_evict);
  t.touch(7, 2);
  std::vector<std::uint32_t> order;
  t.drain([&](Table::Entry& e) { order.push_back(e.key); });
  CHECK(order == std::vector<std::uint32_t>{3, 9, 7});
  CHECK(t.size() == 0);
  CHECK(t.oldest() == nullptr);
  for (std::uint32_t k : {7u, 3u, 9u}) CHECK(t.find(k) == nullptr);
  // Reuse after drain: every slot comes back from the free list.
  for (std::uint32_t k = 100; k < 104; ++k) CHECK(t.emplace(k, 3, no_evict).second);
  for (std::uint32_t k = 100; k < 104; ++k) CHECK(t.find(k) != nullptr);
}

TEST_CASE("LruTable: capacity and reserved_bytes", "[table]") {
  // Slot = Entry{key 4, value 4, last_seen 8} + hash 8 + prev/next 4+4 = 32 octets; the index
  // has the next power of two >= 2 * capacity entries of 8 octets (hash tag + slot).
  Table t8(8);
  CHECK(t8.reserved_bytes() == 8 * 32 + 16 * 8);
  Table t5(5);
  CHECK(t5.reserved_bytes() == 5 * 32 + 16 * 8);
  Table t0(0);  // at least one entry
  CHECK(t0.capacity() == 1);
  CHECK(t0.reserved_bytes() == 1 * 32 + 2 * 8);
  int evictions = 0;
  t0.emplace(1, 1, [&](auto&) { ++evictions; });
  t0.emplace(2, 2, [&](auto&) { ++evictions; });
  CHECK(evictions == 1);
  CHECK(t0.size() == 1);
  CHECK(t0.find(2) != nullptr);
  // A large table reserves but does not touch its memory (calloc): just check the bound.
  Table big(100000);
  CHECK(big.reserved_bytes() == 100000 * 32 + 262144 * 8);
}

namespace {

// Runs a fixed-seed random sequence of operations against a model (unordered_map + LRU list)
// and checks after every step that both agree: keys, values, LRU order, evictions, expiry.
template <class Hash>
void random_against_model(std::uint32_t seed, std::size_t capacity, std::uint32_t key_space, int steps) {
  LruTable<std::uint32_t, std::uint32_t, Hash> t(capacity);
  std::unordered_map<std::uint32_t, std::uint32_t> value;
  std::unordered_map<std::uint32_t, Timestamp> seen;
  std::list<std::uint32_t> lru;  // front = most recently used
  std::mt19937 rng(seed);
  const auto rnd = [&rng] { return static_cast<std::uint32_t>(rng()); };
  Timestamp now = 0;
  std::size_t evictions = 0, expired = 0, erased = 0;

  const auto model_use = [&](std::uint32_t k) {
    lru.remove(k);
    lru.push_front(k);
    seen[k] = now;
  };
  const auto model_remove = [&](std::uint32_t k) {
    lru.remove(k);
    value.erase(k);
    seen.erase(k);
  };

  for (int step = 0; step < steps; ++step) {
    ++now;
    const std::uint32_t k = rnd() % key_space;
    const unsigned op = rnd() % 10;
    INFO("seed " << seed << " step " << step << " op " << op << " key " << k);
    t.prefetch(k, (step & 1) != 0);  // both stages touch only the table's own memory (ASan)
    if (op < 5) {  // emplace
      const bool present = value.count(k) != 0;
      const std::uint32_t expect_victim = lru.empty() ? 0 : lru.back();
      const bool full = value.size() == capacity;
      int calls = 0;
      auto [e, inserted] = t.emplace(k, now, [&](auto& v) {
        ++calls;
        CHECK(v.key == expect_victim);
        CHECK(v.value == value[v.key]);
      });
      REQUIRE(e != nullptr);
      CHECK(inserted == !present);
      CHECK(calls == ((!present && full) ? 1 : 0));
      if (!present && full) {
        model_remove(expect_victim);
        ++evictions;
      }
      if (present) {
        CHECK(e->value == value[k]);
      } else {
        CHECK(e->value == 0);
        e->value = rnd();
        value[k] = e->value;
      }
      model_use(k);
    } else if (op < 7) {  // erase a key that is present (when any)
      if (!lru.empty()) {
        auto it = lru.begin();
        std::advance(it, static_cast<long>(rnd() % lru.size()));
        const std::uint32_t victim = *it;
        auto* e = t.find(victim);
        REQUIRE(e != nullptr);
        t.erase(e);
        model_remove(victim);
        ++erased;
      }
    } else if (op < 9) {  // touch
      auto* e = t.touch(k, now);
      CHECK((e != nullptr) == (value.count(k) != 0));
      if (e != nullptr) {
        CHECK(e->value == value[k]);
        model_use(k);
      }
    } else {  // expire what was not used in the last few steps
      const Timestamp cutoff = now - static_cast<Timestamp>(rnd() % (4 * capacity) + 1);
      std::vector<std::uint32_t> got;
      const std::size_t n = t.expire(cutoff, [&](auto& e) { got.push_back(e.key); });
      std::vector<std::uint32_t> want;
      while (!lru.empty() && seen[lru.back()] < cutoff) {
        want.push_back(lru.back());
        model_remove(lru.back());
      }
      CHECK(n == want.size());
      CHECK(got == want);
      expired += n;
    }
    REQUIRE(t.size() == value.size());
    // Every key the model holds is findable with its value; every other key is absent.
    std::size_t wrong = 0;
    for (std::uint32_t q = 0; q < key_space; ++q) {
      auto* e = t.find(q);
      const auto it = value.find(q);
      if (it == value.end() ? e != nullptr : (e == nullptr || e->value != it->second)) ++wrong;
    }
    REQUIRE(wrong == 0);
    if (step % 64 == 0) REQUIRE(keys_mru_first(t) == std::vector<std::uint32_t>(lru.begin(), lru.end()));
  }
  // The sequence really exercised every path.
  CHECK(evictions > 20);
  CHECK(erased > 100);
  CHECK(expired > 10);
}

}  // namespace

TEST_CASE("LruTable: random operations agree with std::unordered_map (xxh3 hash)", "[table]") {
  random_against_model<dnsvigil::sensor::BytesHash<std::uint32_t>>(1234, 16, 48, 4000);
}

TEST_CASE("LruTable: backward-shift deletion across the index wrap keeps every key findable", "[table]") {
  random_against_model<ClusterHash>(99, 16, 48, 4000);
  random_against_model<ClusterHash>(7, 5, 20, 2000);
}

TEST_CASE("LruTable: one long probe chain (every key on one home slot)", "[table]") {
  random_against_model<ConstantHash>(2024, 16, 40, 2000);
  random_against_model<TagCollisionHash>(11, 16, 40, 2000);
}
