// SpscRing, the capture thread's hand-off to the workers: records of every size, including ones
// that wrap around the end of the ring, come out byte-exact and in order; then real producer and
// consumer threads on small rings, so that both sides fill or empty the ring, go to sleep and
// must be woken (batch threshold, wake(), a quarter free, everything drained). A hang fails the
// test after a time limit instead of hanging the binary.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dnsvigil/sensor/spsc.hpp"

using dnsvigil::sensor::SpscRing;
using namespace std::chrono_literals;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Generous: every threaded case here takes well under a second, sanitizers included.
constexpr auto kLimit = 10s;

std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Record `seq` of a stream: its size and its octets follow from (seed, seq), so the consumer
// rebuilds what it should receive and compares every octet. The first 8 octets carry seq.
struct Pattern {
  std::uint64_t seed = 1;
  std::size_t max_size = 1500;  // at least 8
  bool fixed = false;           // every record max_size octets

  [[nodiscard]] std::size_t size(std::uint64_t seq) const {
    if (fixed)
      return max_size;
    const std::uint64_t r = mix(seed ^ (seq * 0xd6e8feb86659fd93ULL));
    const std::size_t v = static_cast<std::size_t>(r >> 8);
    if (max_size <= 64)
      return 8 + v % (max_size - 7);
    // Mostly small records, like DNS over UDP, with some up to max_size.
    const std::uint64_t pick = r % 100;
    if (pick < 70)
      return 8 + v % 57;
    if (pick < 95 || max_size <= 600)
      return 65 + v % (std::min<std::size_t>(max_size, 600) - 64);
    return 601 + v % (max_size - 600);
  }
  void fill(std::uint64_t seq, Bytes& out) const {
    out.resize(size(seq));
    std::memcpy(out.data(), &seq, sizeof seq);
    std::uint64_t s = mix(seed + seq);
    for (std::size_t i = 8; i < out.size(); ++i) {
      if ((i & 7) == 0)
        s = mix(s);
      out[i] = static_cast<std::uint8_t>(s >> ((i & 7) * 8));
    }
  }
};

// Ends a stream. Every record of a Pattern has at least 8 octets, so it cannot be taken for one.
constexpr std::array<std::uint8_t, 4> kStop{'S', 'T', 'O', 'P'};

// Pushes `rec` cut into head and body at a point that depends on seq (either may be empty).
void push_split(SpscRing& ring, std::span<const std::uint8_t> rec, std::uint64_t seq) {
  const std::size_t cut = static_cast<std::size_t>(mix(seq ^ 0x5bd1e995ULL) % (rec.size() + 1));
  ring.push(rec.first(cut), rec.subspan(cut));
}

// Checks a stream on the consumer thread. No Catch2 assertions there (they are not thread-safe):
// it counts and keeps the first error for the test thread to report.
struct Checker {
  Pattern pattern;
  std::uint64_t next = 0;  // seq of the record expected next
  std::uint64_t bad = 0;   // records that were out of order, damaged, or after the stop record
  std::string first_error;
  bool stopped = false;
  std::atomic<std::uint64_t> received{0};  // records seen, for a producer that paces itself
  Bytes expect;

  void operator()(std::span<const std::uint8_t> rec) {
    received.fetch_add(1, std::memory_order_release);
    if (stopped)
      return note("a record after the stop record");
    if (rec.size() == kStop.size() && std::equal(rec.begin(), rec.end(), kStop.begin())) {
      stopped = true;
      return;
    }
    pattern.fill(next, expect);
    if (rec.size() == expect.size() && std::equal(rec.begin(), rec.end(), expect.begin())) {
      ++next;
      return;
    }
    std::uint64_t seq = ~std::uint64_t{0};
    if (rec.size() >= sizeof seq)
      std::memcpy(&seq, rec.data(), sizeof seq);
    note("expected record " + std::to_string(next) + " (" + std::to_string(expect.size()) + " octets), got " +
         std::to_string(rec.size()) + " octets carrying seq " + std::to_string(seq));
    if (seq < next + 1000000)
      next = seq + 1;  // resynchronise on a plausible seq
  }
  void note(std::string what) {
    if (bad++ == 0)
      first_error = std::move(what);
  }
};

// A ring with a consumer's state, shared by the threads of a test: if a thread hangs and has
// to be abandoned, what it uses stays alive.
struct Channel {
  Channel(std::size_t capacity, Pattern p) : ring(capacity), scratch(capacity) { check.pattern = p; }
  SpscRing ring;
  Bytes scratch;  // holds the largest record: no record is larger than the ring
  Checker check;
};

// The worker loop of sensor/app/run.cpp: drain, then wait() unless the stop record came.
template <class F>
void consume(Channel& ch, F&& after_each_record) {
  while (!ch.check.stopped) {
    ch.ring.drain(ch.scratch, [&](std::span<const std::uint8_t> rec) {
      ch.check(rec);
      after_each_record();
    });
    if (!ch.check.stopped)
      ch.ring.wait();
  }
}
void consume(Channel& ch) {
  consume(ch, [] {});
}

// Produces records [0, count) of ch's pattern, then the stop record, then wake() (as
// Run::stop_workers does). `pace(seq)` runs after each record.
template <class F>
void produce(Channel& ch, std::uint64_t count, F&& pace) {
  Bytes rec;
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    ch.check.pattern.fill(seq, rec);
    push_split(ch.ring, rec, seq);
    pace(seq);
  }
  ch.ring.push({}, kStop);
  ch.ring.wake();
}

// Runs each function on a thread of its own and waits at most `limit` for all of them to
// return. On time-out the threads are detached (they own what they use through shared
// pointers) and false is returned, for the test to fail instead of hanging. Rethrows what a
// function threw.
bool run_threads(std::chrono::milliseconds limit, std::vector<std::function<void()>> fns) {
  std::vector<std::future<void>> done;
  std::vector<std::thread> threads;
  for (auto& f : fns) {
    std::packaged_task<void()> task(std::move(f));
    done.push_back(task.get_future());
    threads.emplace_back(std::move(task));
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool finished = true;
  for (auto& d : done)
    if (d.wait_until(deadline) != std::future_status::ready)
      finished = false;
  for (auto& t : threads) {
    if (finished) {
      t.join();
    } else {
      t.detach();
    }
  }
  if (finished)
    for (auto& d : done) d.get();
  return finished;
}

// Runs a producer and the consumer loop on `ch` and checks that `count` records arrived intact.
template <class P, class C>
void check_stream(const std::shared_ptr<Channel>& ch, std::uint64_t count, P pace_producer, C pace_consumer) {
  const bool finished =
      run_threads(kLimit, {[ch, count, pace_producer]() mutable { produce(*ch, count, pace_producer); },
                           [ch, pace_consumer]() mutable { consume(*ch, pace_consumer); }});
  if (!finished)
    FAIL("producer or consumer still blocked after 10 s (records received: " << ch->check.received.load() << " of "
                                                                             << count + 1 << ")");
  INFO(ch->check.first_error);
  CHECK(ch->check.bad == 0);
  CHECK(ch->check.next == count);
  CHECK(ch->check.stopped);
  CHECK(ch->ring.empty());
}

// Drains `ring` on this thread and returns the records, noting how many were handed over in
// `scratch` (those that wrap around the end of the ring).
std::vector<Bytes> drain_all(SpscRing& ring, Bytes& scratch, std::size_t& wrapped) {
  std::vector<Bytes> out;
  const std::size_t n = ring.drain(scratch, [&](std::span<const std::uint8_t> rec) {
    const std::less_equal<const std::uint8_t*> le;
    if (!rec.empty() && le(scratch.data(), rec.data()) && le(rec.data(), &scratch.back()))
      ++wrapped;
    out.emplace_back(rec.begin(), rec.end());
  });
  CHECK(n == out.size());
  return out;
}

Bytes pattern_bytes(std::size_t n, std::uint64_t salt) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(mix(salt + i / 8) >> (i % 8 * 8));
  return b;
}

}  // namespace

TEST_CASE("spsc: records of every size come out byte-exact and in order, wrapping the ring's end", "[spsc]") {
  SpscRing ring(4096);
  Bytes scratch(4096);
  std::size_t wrapped = 0;
  std::size_t calls = 0;
  CHECK(ring.empty());
  CHECK(ring.drain(scratch, [&](std::span<const std::uint8_t>) { ++calls; }) == 0);
  CHECK(calls == 0);

  SECTION("edge sizes, one batch") {
    const std::vector<std::size_t> sizes{0, 1, 7, 8, 9, 15, 16, 1500, 0, 3};
    std::vector<Bytes> sent;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      sent.push_back(pattern_bytes(sizes[i], i));
      push_split(ring, sent.back(), i);
      CHECK_FALSE(ring.empty());
    }
    CHECK(drain_all(ring, scratch, wrapped) == sent);
    CHECK(ring.empty());
  }

  SECTION("many batches of random sizes, so records start and wrap at every offset") {
    std::uint64_t rng = 42;
    std::uint64_t salt = 0;
    for (int round = 0; round < 3000; ++round) {
      // A batch that certainly fits: a record takes at most its length + 11 octets (length
      // prefix and alignment), so pushing never blocks on this single thread.
      std::vector<Bytes> sent;
      std::size_t budget = 4096;
      for (;;) {
        rng = mix(rng);
        const std::size_t len = rng % 4 == 0 ? static_cast<std::size_t>(rng >> 8) % 1501
                                             : std::array<std::size_t, 8>{0, 1, 7, 8, 9, 23, 24, 100}[(rng >> 8) % 8];
        if (len + 11 > budget)
          break;
        budget -= len + 11;
        sent.push_back(pattern_bytes(len, ++salt));
        push_split(ring, sent.back(), salt);
      }
      const auto got = drain_all(ring, scratch, wrapped);
      REQUIRE(got.size() == sent.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("round " << round << ", record " << i << " of " << sent.size());
        REQUIRE(got[i] == sent[i]);
      }
      REQUIRE(ring.empty());
    }
    // The wrap-around path (a copy into scratch) was taken many times.
    CHECK(wrapped > 500);
  }

  SECTION("a 64 KiB record with a header, contiguous and wrapped") {
    SpscRing big(100000);  // rounds up to 131072
    Bytes big_scratch(131072);
    const Bytes head = pattern_bytes(40, 7);
    const Bytes body = pattern_bytes(65536, 8);
    Bytes whole = head;
    whole.insert(whole.end(), body.begin(), body.end());

    big.push(head, body);
    auto got = drain_all(big, big_scratch, wrapped);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == whole);
    CHECK(wrapped == 0);

    // After 65584 + 30008 octets (record lengths, rounded up to 8, and their 4-octet length
    // prefixes), the next 64 KiB record runs past the end of the ring; the filler does not.
    const Bytes filler = pattern_bytes(30000, 9);
    big.push({}, filler);
    big.push(head, body);
    got = drain_all(big, big_scratch, wrapped);
    REQUIRE(got.size() == 2);
    CHECK(got[0] == filler);
    CHECK(got[1] == whole);
    CHECK(wrapped == 1);
    CHECK(big.empty());
  }
}

TEST_CASE("spsc: a ring holds records filling exactly its capacity, rounded up to a power of two", "[spsc]") {
  // A record takes a 4-octet length and its octets, rounded up to 8: 1020 octets take 1024.
  // Pushing happens on a thread of its own, so a ring that wrongly reports itself full fails
  // the test instead of blocking it.
  const std::size_t asked = GENERATE(std::size_t{4096}, std::size_t{1}, std::size_t{5000});
  const std::size_t records = asked > 4096 ? 8 : 4;
  INFO("capacity asked " << asked);
  auto ring = std::make_shared<SpscRing>(asked);
  auto sent = std::make_shared<std::vector<Bytes>>();
  for (std::size_t i = 0; i < records; ++i) sent->push_back(pattern_bytes(1020, i));
  const bool finished = run_threads(kLimit, {[ring, sent] {
                                      for (const Bytes& r : *sent) ring->push(r, {});
                                    }});
  if (!finished)
    FAIL("push blocked on a ring with room for the record");
  Bytes scratch(8192);
  std::size_t wrapped = 0;
  CHECK(drain_all(*ring, scratch, wrapped) == *sent);
  CHECK(ring->empty());
}

TEST_CASE("spsc: two threads on a small ring, the producer waking the consumer only at the end", "[spsc]") {
  // The producer outruns the consumer and sleeps on a full ring; it calls wake() only after the
  // stop record, so the consumer is otherwise woken by the batch threshold alone.
  const std::size_t capacity = GENERATE(std::size_t{4096}, std::size_t{16384});
  INFO("ring of " << capacity << " octets");
  auto ch = std::make_shared<Channel>(capacity, Pattern{capacity, 1500});
  check_stream(
      ch, 200000, [](std::uint64_t) {}, [] {});
}

TEST_CASE("spsc: a consumer asleep on an empty ring gets a lone record when the producer calls wake()", "[spsc]") {
  // One record of at most 64 octets, far below an eighth of the ring, then wake(); the producer
  // waits for it to arrive before the next. The delays before the push vary, so wake() meets a
  // consumer still spinning, falling asleep, or asleep for long.
  constexpr std::uint64_t kRounds = 120;
  auto ch = std::make_shared<Channel>(16384, Pattern{3, 64});
  auto producer = [ch] {
    const std::array<std::chrono::microseconds, 6> delays{0us, 1us, 10us, 100us, 1000us, 5000us};
    const auto give_up = std::chrono::steady_clock::now() + kLimit;
    Bytes rec;
    for (std::uint64_t seq = 0; seq < kRounds; ++seq) {
      while (ch->check.received.load(std::memory_order_acquire) < seq) {
        if (std::chrono::steady_clock::now() > give_up)
          return;
        std::this_thread::sleep_for(20us);
      }
      std::this_thread::sleep_for(seq == 0 ? 20ms : delays[seq % delays.size()]);
      ch->check.pattern.fill(seq, rec);
      ch->ring.push({}, rec);
      ch->ring.wake();
    }
    ch->ring.push({}, kStop);
    ch->ring.wake();
  };
  if (!run_threads(kLimit, {producer, [ch] { consume(*ch); }}))
    FAIL("a lone record was not delivered after wake() (records received: " << ch->check.received.load() << ")");
  INFO(ch->check.first_error);
  CHECK(ch->check.bad == 0);
  CHECK(ch->check.next == kRounds);
  CHECK(ch->check.stopped);
  CHECK(ch->ring.empty());
}

TEST_CASE("spsc: a sleeping consumer is woken without wake() once an eighth of the ring is queued", "[spsc]") {
  // Records of 68 octets take 72 in the ring (4-octet length, rounded up to 8). The producer
  // pushes until what the consumer has not yet received takes more than an eighth of the 16 KiB
  // ring (2048 octets) but well under a quarter, then waits for all of it to arrive, never
  // calling wake(). It counts what arrived rather than assuming the consumer asleep: a consumer
  // still awake for the first records of a round would leave too little pending to be woken.
  constexpr std::uint64_t kRounds = 5;
  constexpr std::uint64_t kFootprint = 72;
  auto ch = std::make_shared<Channel>(16384, Pattern{11, 68, true});
  auto producer = [ch] {
    const auto give_up = std::chrono::steady_clock::now() + kLimit;
    const auto& got = ch->check.received;
    Bytes rec;
    std::uint64_t seq = 0;
    for (std::uint64_t round = 0; round < kRounds; ++round) {
      std::this_thread::sleep_for(round == 0 ? 20ms : 2ms);  // the consumer falls asleep
      while ((seq - got.load(std::memory_order_acquire)) * kFootprint < 2048 + kFootprint) {
        ch->check.pattern.fill(seq, rec);
        push_split(ch->ring, rec, seq);
        ++seq;
      }
      while (got.load(std::memory_order_acquire) < seq) {
        if (std::chrono::steady_clock::now() > give_up)
          return;
        std::this_thread::sleep_for(20us);
      }
    }
    ch->ring.push({}, kStop);
    ch->ring.wake();
  };
  if (!run_threads(kLimit, {producer, [ch] { consume(*ch); }}))
    FAIL("an eighth of the ring queued did not wake the consumer (records received: " << ch->check.received.load()
                                                                                      << ")");
  INFO(ch->check.first_error);
  CHECK(ch->check.bad == 0);
  CHECK(ch->check.next >= kRounds * 30);  // at least 30 records (2160 octets) pushed each round
  CHECK(ch->check.stopped);
  CHECK(ch->ring.empty());
}

TEST_CASE("spsc: a slow consumer behind a fast producer", "[spsc]") {
  // The consumer pauses every fourth record: the producer keeps finding the ring full and must
  // be woken as the consumer frees space.
  auto ch = std::make_shared<Channel>(4096, Pattern{5, 600});
  std::uint64_t n = 0;
  check_stream(
      ch, 6000, [](std::uint64_t) {},
      [n]() mutable {
        if (++n % 4 == 0)
          std::this_thread::sleep_for(2us);
      });
}

TEST_CASE("spsc: a fast consumer behind a slow producer that wakes it after each burst", "[spsc]") {
  // Bursts of 32 records, then wake() and a pause, like the capture loop in sensor/app/main.cpp:
  // the consumer keeps emptying the ring and sleeping with less than a batch pending.
  auto ch = std::make_shared<Channel>(4096, Pattern{6, 1500});
  check_stream(
      ch, 20000,
      [ch_raw = ch.get()](std::uint64_t seq) {
        if (seq % 32 == 31) {
          ch_raw->ring.wake();
          std::this_thread::sleep_for(20us);
        }
      },
      [] {});
}

TEST_CASE("spsc: a record too big for the free space wakes a consumer asleep below the batch threshold", "[spsc]") {
  // The consumer sleeps on an empty ring. The producer queues less than an eighth of the ring
  // (not enough to wake it), then a record that does not fit in the rest: the producer must not
  // go to sleep waiting for space while the consumer sleeps waiting for a batch.
  constexpr std::uint64_t kRounds = 3;
  constexpr std::uint64_t kPerRound = 21;
  auto ch = std::make_shared<Channel>(4096, Pattern{});
  auto received = std::make_shared<std::atomic<std::uint64_t>>(0);
  auto producer = [ch, received] {
    const auto give_up = std::chrono::steady_clock::now() + kLimit;
    for (std::uint64_t round = 0; round < kRounds; ++round) {
      while (received->load(std::memory_order_acquire) < round * kPerRound) {
        if (std::chrono::steady_clock::now() > give_up)
          return;
        std::this_thread::sleep_for(20us);
      }
      std::this_thread::sleep_for(20ms);  // the consumer is asleep by now
      const Bytes small = pattern_bytes(16, round);
      for (std::uint64_t i = 0; i + 1 < kPerRound; ++i) ch->ring.push(small, {});  // 20 x 24 = 480 octets < 512
      ch->ring.push(pattern_bytes(3700, round), {});                               // takes 3704 octets > 4096 - 480
      ch->ring.wake();
    }
    ch->ring.push({}, kStop);
    ch->ring.wake();
  };
  auto consumer = [ch, received] {
    for (bool stop = false; !stop;) {
      ch->ring.drain(ch->scratch, [&](std::span<const std::uint8_t> rec) {
        if (rec.size() == kStop.size())
          stop = true;
        received->fetch_add(1, std::memory_order_release);
      });
      if (!stop)
        ch->ring.wait();
    }
  };
  if (!run_threads(kLimit, {producer, consumer}))
    FAIL("producer and consumer both asleep (records received: " << received->load() << ")");
  CHECK(received->load() == kRounds * kPerRound + 1);
  CHECK(ch->ring.empty());
}
