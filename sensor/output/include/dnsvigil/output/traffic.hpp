// Traffic aggregates for the HTML report (report.hpp): queries over time, the busiest clients,
// registered domains and servers, record types, response codes and latency. Every structure has
// a fixed size chosen at construction, so a flood of new names or clients costs no memory; the
// per-event work is a few increments and one or two hash-table probes.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/event.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::output {

using sensor::Timestamp;

/// Counts over packet time in kBins bins. The bin width starts at one second and doubles (bins
/// merge in pairs) whenever a time falls outside the span, so any capture fits in kBins bins.
/// Bins are aligned on multiples of their width since the epoch, so series of different widths
/// merge exactly (a wide bin holds whole narrow ones).
class TimeSeries {
 public:
  static constexpr std::size_t kBins = 240;

  /// Adds `n` at packet time `ts` (times are clamped to [0, 2^62 ns), about 1970 to 2116).
  void add(Timestamp ts, std::uint64_t n = 1) noexcept {
    if (ts >= cur_lo_ && ts < cur_hi_) {
      // Most events fall in the bin of the one before: no division.
      bins_[cur_] += n;
      total_ += n;
      if (ts > last_) last_ = ts;
      if (ts < first_) first_ = ts;
      return;
    }
    add_slow(ts, n);
  }
  /// Adds every count of `o` (widening this series to cover both).
  void merge(const TimeSeries& o) noexcept;

  [[nodiscard]] bool empty() const noexcept { return total_ == 0; }
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  /// Start of the first bin (multiple of width()).
  [[nodiscard]] Timestamp start() const noexcept { return start_; }
  [[nodiscard]] Timestamp width() const noexcept { return width_; }
  /// Packet time of the first and last addition.
  [[nodiscard]] Timestamp first() const noexcept { return first_; }
  [[nodiscard]] Timestamp last() const noexcept { return last_; }
  [[nodiscard]] const std::array<std::uint64_t, kBins>& bins() const noexcept { return bins_; }
  /// The counts on another axis of `n` bins of `width` from `start` (width a multiple of this
  /// series' width times a power of two, start a multiple of width: what merge() would make).
  /// A count before the axis goes into its first bin, one after it into its last.
  [[nodiscard]] std::vector<std::uint64_t> on_axis(Timestamp start, Timestamp width, std::size_t n) const;
  /// The smallest axis (start, width) of kBins bins that covers both series.
  [[nodiscard]] static std::pair<Timestamp, Timestamp> common_axis(const TimeSeries& a, const TimeSeries& b) noexcept;

 private:
  void add_slow(Timestamp ts, std::uint64_t n) noexcept;
  // Re-bins onto (start, width); every count must fall inside.
  void rebin(Timestamp start, Timestamp width) noexcept;
  // Widens until [lo, hi] fits, moving the start back when lo is before it.
  void fit(Timestamp lo, Timestamp hi) noexcept;

  std::array<std::uint64_t, kBins> bins_{};
  Timestamp start_ = 0, width_ = sensor::kNanosPerSecond;
  Timestamp first_ = 0, last_ = 0;
  std::uint64_t total_ = 0;
  // The bin of the last addition: [cur_lo_, cur_hi_).
  Timestamp cur_lo_ = 0, cur_hi_ = 0;
  std::size_t cur_ = 0;
};

/// The most frequent keys of a stream in a table of fixed capacity: the Misra-Gries "frequent
/// items" summary with batched decrements (Anderson et al., "A high-performance algorithm for
/// identifying frequent items in data streams", 2017). A key is its 64-bit hash; each entry
/// carries a Payload (what to show, and per-key figures). When the table is full and a new key
/// comes, the median count is subtracted from every entry and the entries left at zero are
/// removed (at least half), so a flood of keys seen once costs O(1) per key amortised. A count
/// is low by at most error(); every key more frequent than error() is in the table. While no
/// key was ever removed, error() is 0 and the counts are exact.
///
/// Payload must be trivially copyable and default-constructible and have
/// `void merge(const Payload&)`.
template <class Payload>
class HeavyHitters {
 public:
  struct Entry {
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    Payload payload{};
  };

  explicit HeavyHitters(std::size_t capacity);

  /// Counts `n` for the key `hash`; returns its entry and whether it was just inserted (the
  /// caller then fills the payload's identity).
  std::pair<Entry*, bool> add(std::uint64_t hash, std::uint64_t n = 1) noexcept;
  /// The entry of `hash`, or nullptr.
  [[nodiscard]] Entry* find(std::uint64_t hash) noexcept;
  /// Adds every entry of `o` (counts summed, payloads merged; errors add up).
  void merge(const HeavyHitters& o) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// The largest amount by which a count may be low.
  [[nodiscard]] std::uint64_t error() const noexcept { return error_; }
  /// Everything counted, including what pruning removed.
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  /// The `n` entries with the highest counts, highest first (ties: lower hash first).
  [[nodiscard]] std::vector<Entry> top(std::size_t n) const;
  [[nodiscard]] const std::vector<Entry>& entries() const noexcept { return entries_; }

 private:
  std::uint32_t* slot(std::uint64_t hash) noexcept;
  void prune() noexcept;
  void reindex() noexcept;

  std::size_t capacity_;
  std::uint64_t mask_;
  std::vector<Entry> entries_;        // at most capacity_, reserved once
  std::vector<std::uint32_t> index_;  // entry + 1 by hash (linear probing), 0 empty
  std::vector<std::uint64_t> scratch_;
  std::uint64_t error_ = 0, total_ = 0;
};

/// A client address (payload of the client table).
struct AddrPayload {
  sensor::IpAddr addr;
  void merge(const AddrPayload&) noexcept {}
};

/// A registered domain's text (cut to kMaxText octets, `cut` then set).
struct DomainPayload {
  static constexpr std::size_t kMaxText = 94;
  char text[kMaxText] = {};
  std::uint8_t len = 0;
  bool cut = false;
  [[nodiscard]] std::string_view view() const noexcept { return {text, len}; }
  void set(std::string_view s) noexcept;
  void merge(const DomainPayload&) noexcept {}
};

/// Response latency in log2 buckets of microseconds: bucket b holds [2^b, 2^(b+1)) µs (bucket 0
/// also everything below 1 µs; the last everything from 2^23 µs, 8.4 s, on).
struct LatencyHistogram {
  static constexpr std::size_t kBuckets = 24;
  std::array<std::uint32_t, kBuckets> n{};
  std::uint64_t sum_ns = 0;
  std::uint64_t count = 0;

  void add(Timestamp latency_ns) noexcept;
  void merge(const LatencyHistogram& o) noexcept;
  /// The latency below which fraction `q` of the samples fall, in nanoseconds, interpolated
  /// linearly inside the bucket that reaches q (so within a factor of two); 0 when empty.
  [[nodiscard]] Timestamp quantile(double q) const noexcept;
  [[nodiscard]] Timestamp mean() const noexcept { return count == 0 ? 0 : static_cast<Timestamp>(sum_ns / count); }
};

/// What is kept per server (the destination of queries, the source of responses).
struct ServerPayload {
  sensor::IpAddr addr;
  std::uint64_t queries = 0, responses = 0, nxdomain = 0, servfail = 0, unanswered = 0;
  LatencyHistogram latency;
  void merge(const ServerPayload& o) noexcept;
};

/// Table capacities of a Traffic.
struct TrafficLimits {
  std::size_t clients = 4096;  ///< client table (queries per client)
  std::size_t domains = 4096;  ///< registered-domain table
  std::size_t servers = 1024;  ///< server table
};

/// Everything the report shows about traffic, for the events of one shard (merged at report time).
class Traffic {
 public:
  explicit Traffic(const TrafficLimits& limits = {});

  /// One DNS message (a dnstap server's own upstream messages are not client traffic: skipped).
  void on_event(const sensor::DnsEvent& ev) noexcept;
  /// A query that got no response.
  void on_unanswered(const sensor::UnansweredQuery& q) noexcept;
  /// Adds another shard's figures.
  void merge(const Traffic& o) noexcept;

  TimeSeries queries, nxdomain;                 ///< queries, and NXDOMAIN responses, over packet time
  HeavyHitters<AddrPayload> clients;            ///< queries per client
  HeavyHitters<DomainPayload> domains;          ///< queries per registered domain
  HeavyHitters<ServerPayload> servers;          ///< messages per server (queries + responses)
  std::array<std::uint64_t, 256> qtypes{};      ///< queries by type (types below 256)
  std::vector<std::pair<std::uint16_t, std::uint64_t>> qtypes_high;  ///< types from 256 (at most kHighTypes)
  std::uint64_t qtypes_other = 0;               ///< types from 256 beyond kHighTypes distinct ones
  std::array<std::uint64_t, 24> rcodes{};       ///< responses by (extended) response code below 24
  std::uint64_t rcodes_other = 0;               ///< responses with a response code from 24
  std::uint64_t queries_total = 0, responses_total = 0, nxdomain_total = 0, matched = 0, unanswered = 0;
  LatencyHistogram latency;                     ///< every matched response
  /// Packet time of the earliest and latest message (first_ts > last_ts while there was none).
  Timestamp first_ts = std::numeric_limits<Timestamp>::max(), last_ts = 0;

  static constexpr std::size_t kHighTypes = 16;
};

}  // namespace dnsvigil::output
