// beaconing — T1071.004 C2: a client looking up the same domain (or name) at regular
// intervals. Inter-arrival times are scored incrementally on packet time, in the spirit of
// RITA: dispersion (median absolute deviation over the median) and skew (Bowley) of the
// intervals. Popular domains (many clients) are not scored.
#include <algorithm>
#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "common.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/detect/sketch.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

const RuleInfo kInfo{
    "beaconing", "dnsvigil-0006",
    "A client looks up one domain at regular intervals, like malware checking in with its command-and-control "
    "server over DNS.",
    {"TA0011", "Command and Control", "T1071", "Application Layer Protocol", "T1071.004", "DNS"}};

// Intervals in one scoring window, and the lookups kept: a jittered beacon must hold its
// regularity over the current window and the one ending kShift lookups earlier.
constexpr std::size_t kWindow = 23, kShift = 12;
constexpr std::size_t kTimes = kWindow + kShift + 1;

struct Key {
  IpAddr client;
  std::uint64_t name;  // hash of the registered domain (kind 0) or the exact name (kind 1)
  std::uint8_t kind, pad[7];
};
struct State {
  std::int64_t base_ms;            // packet time of the key's first lookup, milliseconds
  std::uint32_t times_ms[kTimes];  // ring of lookup times, milliseconds after base_ms (49 days)
  std::uint8_t head, n;
  std::uint32_t total;
  Timestamp last;
  FixedText<96> name;
  FixedText<96> domain;
  Timestamp last_raise;
};

// A key that keeps beaconing raises at most this often (suppression folds the rest).
constexpr Timestamp kRaiseEvery = 10 * kMinute;

// Probation: the first lookup time of keys seen once, as (fingerprint, time) pairs in sets of
// four (8 octets a key, no links or index). A new key replaces the oldest of its set, so a key
// stays for about `slots / insert rate` seconds whatever the order of arrivals: a million
// slots hold a lookup for a minute at 17 000 new keys a second, where an LRU table of 65 536
// keys turned over in four seconds and missed a 14 s beacon.
class Probation {
 public:
  explicit Probation(std::size_t slots) {
    std::size_t sets = 1;
    while (sets * kWays < slots) sets <<= 1;
    mask_ = sets - 1;
    slots_.assign(sets * kWays, Slot{});
  }
  /// When `h` is on probation: removes it and returns its lookup time (ms); otherwise puts it
  /// on probation at `now_ms` and returns -1.
  std::int64_t take_or_put(std::uint64_t h, std::int64_t now_ms) noexcept {
    const std::uint32_t fp = static_cast<std::uint32_t>(h >> 32) | 1u;  // 0 marks a free slot
    const auto now = static_cast<std::uint32_t>(now_ms);
    Slot* set = &slots_[(h & mask_) * kWays];
    Slot* victim = set;
    std::uint32_t oldest = 0;
    for (std::size_t i = 0; i < kWays; ++i) {
      Slot& sl = set[i];
      if (sl.fp == fp) {
        const std::int64_t first = now_ms - static_cast<std::int64_t>(now - sl.ms);
        sl.fp = 0;
        return first;
      }
      const std::uint32_t age = sl.fp == 0 ? 0xFFFFFFFF : now - sl.ms;
      if (age >= oldest) {
        oldest = age;
        victim = &sl;
      }
    }
    if (victim->fp != 0) ++replaced_;
    victim->fp = fp;
    victim->ms = now;
    return -1;
  }
  [[nodiscard]] std::size_t slots() const noexcept { return slots_.size(); }
  [[nodiscard]] std::size_t bytes() const noexcept { return slots_.size() * sizeof(Slot); }
  [[nodiscard]] std::uint64_t replaced() const noexcept { return replaced_; }

 private:
  static constexpr std::size_t kWays = 4;
  struct Slot {
    std::uint32_t fp, ms;  // ms: packet time in milliseconds, modulo 2^32 (49 days)
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::uint64_t replaced_ = 0;
};
// Probation slots per max_keys.
constexpr std::size_t kProbationPerKey = 16;

// Names that are periodic by design, not by a beacon: DNS service labels (_dmarc, DKIM
// selectors under _domainkey, _spf, _mta-sts, SRV locators such as _ldap._tcp), looked up by
// mail servers and domain members on every message or timer.
bool service_name(std::string_view lower) noexcept {
  return (!lower.empty() && lower[0] == '_') || lower.find("._") != std::string_view::npos;
}

struct Score {
  double score = 0, median_s = 0, mad_s = 0, skew = 0;
  double dispersion = 9;  // MAD over (median - burst): 0 for a perfect clock
  std::size_t intervals = 0;
};

double quantile(const double* v, std::size_t n, double q) {
  const double pos = q * static_cast<double>(n - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, n - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// Scores the `m` intervals that end `skip` lookups before the newest. Lookups closer than
// `burst_s` were merged, so every interval is at least that long: the merge is dead time, and
// the dispersion is measured against the interval beyond it (otherwise a busy client's random
// lookups, squeezed to "burst + a little", look as regular as a clock).
Score score(const State& st, std::size_t m, std::size_t skip, double burst_s) {
  Score s;
  if (st.n < m + skip + 1 || m < 2) return s;
  std::array<double, kTimes> t{};
  for (std::size_t i = 0; i <= m; ++i) {
    const std::size_t idx = (st.head + kTimes - (m + skip + 1) + i) % kTimes;
    t[i] = static_cast<double>(st.times_ms[idx]) / 1000.0;
  }
  std::array<double, kTimes> iv{};
  for (std::size_t i = 0; i < m; ++i) iv[i] = t[i + 1] - t[i];
  std::sort(iv.begin(), iv.begin() + static_cast<std::ptrdiff_t>(m));
  const double q1 = quantile(iv.data(), m, 0.25), q2 = quantile(iv.data(), m, 0.5), q3 = quantile(iv.data(), m, 0.75);
  std::array<double, kTimes> dev{};
  for (std::size_t i = 0; i < m; ++i) dev[i] = std::abs(iv[i] - q2);
  std::sort(dev.begin(), dev.begin() + static_cast<std::ptrdiff_t>(m));
  const double mad = quantile(dev.data(), m, 0.5);
  s.intervals = m;
  s.median_s = q2;
  s.mad_s = mad;
  s.skew = (q3 - q1) > 1e-9 ? (q3 + q1 - 2 * q2) / (q3 - q1) : 0.0;
  const double beyond = q2 - burst_s;
  if (beyond <= 0) return s;
  s.dispersion = mad / beyond;
  // Dispersion: a fixed period with up to +-50 % uniform jitter has MAD/median <= 0.25;
  // random (Poisson) lookups have about 0.7. Skew: beacons are symmetric.
  const double regular = std::max(0.0, 1.0 - s.dispersion / 0.7);
  const double symmetry = 1.0 - std::min(1.0, std::abs(s.skew));
  s.score = 0.8 * regular + 0.2 * symmetry;
  return s;
}

class Beaconing final : public Detector {
 public:
  explicit Beaconing(const BeaconingSettings& s)
      : s_(s),
        allow_(s.allow),
        keys_(s.max_keys),
        probation_(static_cast<std::size_t>(std::min<std::uint64_t>(s.max_keys, 1u << 24)) * kProbationPerKey) {}

  const RuleInfo& info() const noexcept override { return kInfo; }

  void prefetch(const sensor::DnsEvent& ev, bool slots) const noexcept override {
    if (ev.is_response()) return;
    keys_.prefetch({ev.src, ev.qname->domain_hash(), 0, {}}, slots);
    keys_.prefetch({ev.src, ev.qname->hash(), 1, {}}, slots);
  }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (ev.is_response() || ev.qname->empty() || allow_.allows(ev)) return;
    // A resolver's refreshes of cached names are periodic by nature (TTL-driven).
    if (ctx.client_resolver) return;
    // Not a channel to an outside controller: catalogued services (reverse zones among them),
    // allowlisted domains, blocklist-style lookups, a container node's search-list expansions,
    // service names, and names under a top-level domain the public DNS does not have.
    if (ctx.not_evidence() || !ctx.name->public_tld || service_name(ev.qname->lower())) return;
    // A mail server's policy and reverse lookups repeat with the mail it receives.
    const std::uint16_t qtype = ev.msg->question().type;
    using namespace dnsparse::rrtype;
    if ((qtype == MX || qtype == TXT || qtype == SPF || qtype == PTR) && (ctx.roles() & kRoleMailServer) != 0) return;
    const std::uint64_t dh = ev.qname->domain_hash();
    if (ctx.policy.popular(dh)) return;
    // An ACME client polling its DNS-01 challenges runs on a fixed timer, for minutes.
    if (ctx.policy.acme_polling(ev.src, ev.ts)) return;
    const std::string_view domain = ev.qname->registered_domain();
    observe(ev, {ev.src, dh, 0, {}}, domain, ctx);
    observe(ev, {ev.src, ev.qname->hash(), 1, {}}, domain, ctx);
  }

  DetectorStats stats() const override {
    DetectorStats st;
    st.rule = kInfo.name;
    table_stats(st, keys_, evicted_);
    st.capacity += probation_.slots();
    st.reserved_bytes += probation_.bytes();
    st.evictions += probation_.replaced();
    st.triggers = triggers_;
    return st;
  }

 private:
  void observe(const sensor::DnsEvent& ev, const Key& k, std::string_view domain, Context& ctx) {
    auto* e = keys_.find(k);
    if (e == nullptr) {
      // A key seen once waits on probation (its time only); a second lookup promotes it with
      // both times, so floods of one-off names cost a small bounded table, not full state.
      const std::int64_t first_ms = probation_.take_or_put(sensor::BytesHash<Key>{}(k), ev.ts / 1'000'000);
      if (first_ms < 0) return;
      const Timestamp first = first_ms * 1'000'000;
      if (ev.ts - first < s_.burst) {
        // The same lookup (A and AAAA): stays on probation with its first time.
        probation_.take_or_put(sensor::BytesHash<Key>{}(k), first_ms);
        return;
      }
      e = keys_.emplace(k, ev.ts, [&](auto&) { ++evicted_; }).first;
      e->value.name.set(k.kind == 0 ? domain : ev.qname->lower());
      e->value.domain.set(domain);
      State& fresh = e->value;
      fresh.base_ms = first_ms;
      fresh.times_ms[0] = 0;
      fresh.head = 1;
      fresh.n = 1;
      fresh.total = 1;
      fresh.last = first;
    } else {
      keys_.use(e, ev.ts);
    }
    State& st = e->value;
    // A and AAAA (and retries) of one lookup arrive together: one lookup.
    if (st.total != 0 && ev.ts - st.last < s_.burst) return;
    st.last = ev.ts;
    st.times_ms[st.head] = static_cast<std::uint32_t>(ev.ts / 1'000'000 - st.base_ms);
    st.head = static_cast<std::uint8_t>((st.head + 1) % kTimes);
    if (st.n < kTimes) ++st.n;
    ++st.total;
    if (st.n < s_.min_lookups) return;
    if (st.last_raise != 0 && ev.ts - st.last_raise < kRaiseEvery) return;
    // Regular enough, for long enough. A clock (dispersion <= clockwork_dispersion) is clear
    // from min_lookups on; a jittered series needs a full window of kWindow intervals, and so
    // does the window kShift lookups earlier: random lookups of a busy client pass one window
    // now and then, two overlapping halves almost never (docs/detectors.md, beaconing).
    const double burst_s = static_cast<double>(s_.burst) / 1e9;
    const std::size_t m = std::min<std::size_t>(st.n - 1u, kWindow);
    const Score sc = score(st, m, 0, burst_s);
    const double min_iv = static_cast<double>(s_.min_interval) / 1e9, max_iv = static_cast<double>(s_.max_interval) / 1e9;
    if (sc.score < s_.min_score || sc.median_s < min_iv || sc.median_s > max_iv) return;
    const bool clockwork = sc.dispersion <= s_.clockwork_dispersion;
    if (!clockwork) {
      if (m < kWindow || sc.dispersion > s_.jitter_dispersion) return;
      const Score before = score(st, kWindow, kShift, burst_s);
      if (before.intervals == 0 || before.dispersion > s_.jitter_dispersion) return;
    }
    st.last_raise = ev.ts;
    ++triggers_;
    Alert a = alert_for(kInfo, ev, Severity::medium);
    a.registered_domain = std::string(domain);
    if (k.kind == 0) a.qname.clear();
    const std::size_t first = (st.head + kTimes - st.n) % kTimes;
    a.first_seen = (st.base_ms + st.times_ms[first]) * 1'000'000;
    a.last_seen = ev.ts;
    const std::string trigger = k.kind == 0 ? "domain_interval" : "name_interval";
    a.reason = trigger + ": " + std::to_string(st.n) + " lookups of " + std::string(st.name.view()) + " every " +
               one_decimal(sc.median_s) + " s, median absolute deviation " + one_decimal(sc.mad_s) + " s (" +
               (clockwork ? "clockwork: dispersion " + two_decimals(sc.dispersion) + " <= " +
                                two_decimals(s_.clockwork_dispersion)
                          : "jittered: dispersion " + two_decimals(sc.dispersion) + " <= " +
                                two_decimals(s_.jitter_dispersion) + " over two windows of " +
                                std::to_string(kWindow) + " intervals") +
               ")";
    a.with("trigger", trigger)
        .with("regularity", std::string(clockwork ? "clockwork" : "jittered"))
        .with("beacon_score", sc.score)
        .with("lookups", static_cast<std::int64_t>(st.total))
        .with("intervals", static_cast<std::int64_t>(sc.intervals))
        .with("interval_median_s", sc.median_s)
        .with("interval_mad_s", sc.mad_s)
        .with("interval_skew", sc.skew)
        .with("dispersion", sc.dispersion)
        .with("threshold_score", s_.min_score);
    a.samples.push_back(st.name.str());
    // One key for both views of a (client, domain): the name view and the domain view of the
    // same beacon fold into one alert.
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(k.client, ev.qname->domain_hash())));
  }

  BeaconingSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<Key, State> keys_;
  Probation probation_;
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& beaconing_info() { return kInfo; }
std::unique_ptr<Detector> make_beaconing(const BeaconingSettings& s) { return std::make_unique<Beaconing>(s); }

}  // namespace dnsvigil::detect::rules
