// A bounded hash table with least-recently-used eviction and idle expiry on packet time.
// Every keyed state in dnsvigil (transactions, TCP flows, fragments, detector state) lives in
// one of these, so every table has a hard capacity, an eviction path and counters.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

// Inlined: every table operation hashes a small fixed-size key.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::sensor {

/// Hashes the object representation of a key; keys must have no padding bytes that differ
/// between equal values (use explicit padding fields set to zero).
template <class Key>
struct BytesHash {
  static_assert(std::has_unique_object_representations_v<Key>, "key must have no padding");
  std::uint64_t operator()(const Key& k) const noexcept { return XXH3_64bits(&k, sizeof k); }
};

/// Fixed-capacity table of Key -> Value with LRU order. Memory is reserved once; nothing
/// allocates after construction. The index (8 octets per slot of twice the capacity) is written
/// at construction and resident from then on; the entries' pages become resident as they are
/// used.
/// Key and Value must be trivially copyable; a zero-filled Value is its initial state.
template <class Key, class Value, class Hash = BytesHash<Key>>
class LruTable {
  static_assert(std::is_trivially_copyable_v<Key> && std::is_trivially_copyable_v<Value>);

 public:
  struct Entry {
    Key key;
    Value value;
    Timestamp last_seen;
  };

  explicit LruTable(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
    if (capacity_ > 0x7FFFFFFE) capacity_ = 0x7FFFFFFE;
    std::size_t n = 1;
    while (n < capacity_ * 2) n <<= 1;
    mask_ = n - 1;
    slots_ = static_cast<Slot*>(std::calloc(capacity_, sizeof(Slot)));
    index_ = static_cast<std::uint64_t*>(std::calloc(n, sizeof(std::uint64_t)));
    if (slots_ == nullptr || index_ == nullptr) {
      std::free(slots_);
      std::free(index_);
      throw std::bad_alloc{};
    }
    // Every page written now, not left to calloc's lazy zero pages: lookups read the index
    // before anything is written there, and the first write to a page that was only read
    // replaces the shared zero page, which in a process with several threads flushes the TLB of
    // every core (an interrupt each). Two workers spent ~12 % of their time in those flushes.
    // (A memset after malloc would be turned back into calloc by the compiler.)
    // (The index need not start on a page: its last octet may be on a page of its own.)
    auto* const octets = reinterpret_cast<volatile std::uint8_t*>(index_);
    for (std::size_t at = 0; at < n * sizeof(std::uint64_t); at += 4096) octets[at] = 0;
    octets[n * sizeof(std::uint64_t) - 1] = 0;
  }
  ~LruTable() {
    std::free(slots_);
    std::free(index_);
  }
  LruTable(const LruTable&) = delete;
  LruTable& operator=(const LruTable&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Bytes reserved (an upper bound on what the table can make resident).
  [[nodiscard]] std::size_t reserved_bytes() const noexcept {
    return capacity_ * sizeof(Slot) + (mask_ + 1) * sizeof(std::uint64_t);
  }

  /// Starts loading the index line where `k` would be, or with `slot` (some time later, when
  /// that line has arrived) the entry it names first: a lookup soon after finds both in cache.
  void prefetch(const Key& k, bool slot = false) const noexcept {
    const std::uint64_t h = Hash{}(k);
    const std::uint64_t* at = &index_[h & mask_];
    if (!slot) {
      __builtin_prefetch(at);
    } else if (*at != 0 && static_cast<std::uint32_t>(*at >> 32) == static_cast<std::uint32_t>(h)) {
      __builtin_prefetch(&slots_[slot_in(*at)]);
    }
  }

  /// The entry for `k`, or nullptr. Does not change LRU order.
  [[nodiscard]] Entry* find(const Key& k) noexcept {
    const std::uint64_t h = Hash{}(k);
    const std::uint32_t s = lookup(k, h);
    return s == kNone ? nullptr : &slots_[s].e;
  }

  /// The entry for `k` marked as used at `now`, or nullptr.
  Entry* touch(const Key& k, Timestamp now) noexcept {
    Entry* e = find(k);
    if (e != nullptr) use(e, now);
    return e;
  }

  /// Marks an entry as used at `now` (moves it to the front of the LRU order).
  void use(Entry* e, Timestamp now) noexcept {
    const std::uint32_t s = slot_of(e);
    if (now > e->last_seen) e->last_seen = now;
    unlink(s);
    push_front(s);
  }

  /// Finds `k` or inserts it with a zero Value. When the table is full, the least recently
  /// used entry is evicted first and passed to on_evict(Entry&). Returns the entry and
  /// whether it was inserted.
  template <class OnEvict>
  std::pair<Entry*, bool> emplace(const Key& k, Timestamp now, OnEvict&& on_evict) noexcept {
    const std::uint64_t h = Hash{}(k);
    std::uint32_t s = lookup(k, h);
    if (s != kNone) {
      use(&slots_[s].e, now);
      return {&slots_[s].e, false};
    }
    if (size_ == capacity_) {
      const std::uint32_t victim = tail_;
      on_evict(slots_[victim].e);
      remove_slot(victim);
    }
    s = take_free();
    Slot& sl = slots_[s];
    std::memset(static_cast<void*>(&sl.e.value), 0, sizeof(Value));
    sl.e.key = k;
    sl.e.last_seen = now;
    sl.hash = h;
    insert_index(s, h);
    push_front(s);
    ++size_;
    return {&sl.e, true};
  }

  /// Removes an entry obtained from this table.
  void erase(Entry* e) noexcept { remove_slot(slot_of(e)); }

  /// Removes entries last used before `cutoff`, oldest first, passing each to on_expire(Entry&).
  /// Returns how many were removed.
  template <class OnExpire>
  std::size_t expire(Timestamp cutoff, OnExpire&& on_expire) noexcept {
    std::size_t n = 0;
    while (tail_ != kNone && slots_[tail_].e.last_seen < cutoff) {
      const std::uint32_t s = tail_;
      on_expire(slots_[s].e);
      remove_slot(s);
      ++n;
    }
    return n;
  }

  /// Removes every entry, passing each to f(Entry&) from oldest to newest.
  template <class F>
  void drain(F&& f) noexcept {
    while (tail_ != kNone) {
      const std::uint32_t s = tail_;
      f(slots_[s].e);
      remove_slot(s);
    }
  }

  /// Calls f(Entry&) for every entry, most recently used first.
  template <class F>
  void for_each(F&& f) noexcept {
    for (std::uint32_t s = head_; s != kNone; s = slots_[s].next) f(slots_[s].e);
  }

  /// The least recently used entry, or nullptr.
  [[nodiscard]] Entry* oldest() noexcept { return tail_ == kNone ? nullptr : &slots_[tail_].e; }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFF;
  struct Slot {
    Entry e;
    std::uint64_t hash;
    std::uint32_t prev, next;
  };

  // Equal full hashes make a mismatch rare; compare with fixed-size copies the compiler inlines.
  static bool same_key(const Key& a, const Key& b) noexcept {
    if constexpr (sizeof(Key) % 8 == 0) {
      std::uint64_t x, y, diff = 0;
      for (std::size_t i = 0; i < sizeof(Key); i += 8) {
        std::memcpy(&x, reinterpret_cast<const char*>(&a) + i, 8);
        std::memcpy(&y, reinterpret_cast<const char*>(&b) + i, 8);
        diff |= x ^ y;
      }
      return diff == 0;
    } else {
      return std::memcmp(&a, &b, sizeof(Key)) == 0;
    }
  }

  std::uint32_t slot_of(const Entry* e) const noexcept {
    return static_cast<std::uint32_t>(reinterpret_cast<const Slot*>(e) - slots_);
  }

  // An index entry holds the low 32 bits of the key's hash (high half) and slot + 1 (low half);
  // 0 is empty, so a zeroed index is empty. With the hash at hand, probing past other keys
  // and shifting entries back on erase never read their slots (each a likely cache miss).
  static std::uint64_t index_entry(std::uint32_t s, std::uint64_t h) noexcept {
    return (h << 32) | (std::uint64_t{s} + 1);
  }
  static std::uint32_t slot_in(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v) - 1; }
  // The home position of an entry; mask_ < 2^32, so the low 32 bits of the hash decide it.
  std::size_t home_of(std::uint64_t v) const noexcept { return (v >> 32) & mask_; }

  std::uint32_t lookup(const Key& k, std::uint64_t h) const noexcept {
    const auto tag = static_cast<std::uint32_t>(h);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t v = index_[i];
      if (v == 0) return kNone;
      if (static_cast<std::uint32_t>(v >> 32) != tag) continue;
      const Slot& sl = slots_[slot_in(v)];
      if (sl.hash == h && same_key(sl.e.key, k)) return slot_in(v);
    }
  }

  void insert_index(std::uint32_t s, std::uint64_t h) noexcept {
    std::size_t i = h & mask_;
    while (index_[i] != 0) i = (i + 1) & mask_;
    index_[i] = index_entry(s, h);
  }

  // Linear probing with backward-shift deletion: no tombstones, so lookups never degrade.
  void erase_index(std::uint32_t s) noexcept {
    const std::uint64_t mine = index_entry(s, slots_[s].hash);
    std::size_t i = slots_[s].hash & mask_;
    while (index_[i] != mine) i = (i + 1) & mask_;
    for (std::size_t j = i;;) {
      j = (j + 1) & mask_;
      const std::uint64_t v = index_[j];
      if (v == 0) break;
      const std::size_t home = home_of(v);
      // Move v back to the hole at i unless its home lies cyclically within (i, j].
      const bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
      if (!stays) {
        index_[i] = v;
        i = j;
      }
    }
    index_[i] = 0;
  }

  void unlink(std::uint32_t s) noexcept {
    Slot& sl = slots_[s];
    if (sl.prev != kNone) slots_[sl.prev].next = sl.next; else head_ = sl.next;
    if (sl.next != kNone) slots_[sl.next].prev = sl.prev; else tail_ = sl.prev;
  }
  void push_front(std::uint32_t s) noexcept {
    Slot& sl = slots_[s];
    sl.prev = kNone;
    sl.next = head_;
    if (head_ != kNone) slots_[head_].prev = s; else tail_ = s;
    head_ = s;
  }
  std::uint32_t take_free() noexcept {
    if (free_ != kNone) {
      const std::uint32_t s = free_;
      free_ = slots_[s].next;
      return s;
    }
    return static_cast<std::uint32_t>(fresh_++);
  }
  void remove_slot(std::uint32_t s) noexcept {
    erase_index(s);
    unlink(s);
    slots_[s].next = free_;
    free_ = s;
    --size_;
  }

  std::size_t capacity_;
  std::size_t mask_ = 0;
  Slot* slots_ = nullptr;
  std::uint64_t* index_ = nullptr;
  std::size_t size_ = 0;
  std::size_t fresh_ = 0;  // slots below this have been used at least once
  std::uint32_t head_ = kNone, tail_ = kNone, free_ = kNone;
};

}  // namespace dnsvigil::sensor
