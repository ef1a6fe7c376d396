// enumeration — T1590.002 / T1596.001: many distinct names under one registered domain from one
// client (brute-force subdomain discovery), NXDOMAIN bursts, and a zone-wide view for
// monitored zones (attackers spread their guesses over many resolvers).
#include <algorithm>
#include <bit>
#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/features.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/detect/sketch.hpp"
#include "dnsvigil/detect/window.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

const RuleInfo kInfo{
    "enumeration", "dnsvigil-0002",
    "Many distinct names under one domain queried by one client, mostly non-existent: brute-force subdomain "
    "enumeration (dnsrecon, fierce, dnsenum, dnsmap, gobuster) mapping the victim's hosts.",
    {"TA0043", "Reconnaissance", "T1590", "Gather Victim Network Information", "T1590.002", "DNS"}};

constexpr Timestamp kBucket = 5 * kMinute;  // 12 buckets: 1 h; the last 2: 10 min
constexpr std::size_t kBuckets = 12;
// A client earns NXDOMAIN-burst state once the pre-filter has seen it this many times in a decay period.
constexpr std::uint16_t kAdmit = 3;
constexpr Timestamp kDecay = 10 * kMinute;
// Names a candidate key holds before it earns full state (its 1 h window of 5-minute buckets).
constexpr std::size_t kCandidateNames = 8;
// Candidate keys per full key: most (client, domain) pairs query a handful of names and never
// need more than a compact candidate entry.
constexpr std::size_t kCandidatesPerKey = 4;

struct Key {
  IpAddr client;
  std::uint64_t domain;
};
struct Bucket {
  Distinct names;
  std::uint32_t adds, queries, responses, nxdomain;
  std::uint32_t words;  // new names whose first label looks like a word-list entry
};
struct State {
  Ring<kBuckets, Bucket> ring;
  FixedText<96> domain;
  Samples<5> samples;
  Timestamp first;
  std::uint32_t since_check;
  std::uint32_t checked_upper;  // upper bound at the last full check
};
// A (client, domain) before full state: the distinct names seen (Distinct's 32-bit
// fingerprints) in the last 10 minutes, and the answers to them. Promoted to a State once it
// holds promote_at_ names (under any threshold), so full windows exist only for keys that
// query many distinct names under one domain.
struct Candidate {
  std::uint32_t fp[kCandidateNames];
  std::uint32_t period;  // period of the oldest name held
  std::uint32_t responses, nxdomain;
  std::uint8_t n, words;
  Timestamp first;
};
struct NxBucket {
  std::uint32_t nxdomain, responses;  // distinct NXDOMAIN names, and all answers, to the client in the 5-minute bucket
  std::uint64_t seen[8];              // 512-bit filter of the NXDOMAIN names counted (a polled name counts once)
  bool fired;
};
struct NxState {
  Ring<1, NxBucket> ring;  // the current 5-minute bucket
  Samples<5> samples;
  Timestamp first;
};
struct ZoneKey {
  std::uint64_t zone;
};
struct ZoneState {
  Ring<kBuckets, Bucket> ring;
  FixedText<96> zone;
  Samples<5> samples;
  Timestamp first;
  std::uint32_t since_check;
  bool dirty;                    // new names since the last sync with the other workers
  IpAddr server;                 // last server seen (for the alert)
  std::uint16_t server_port;
};

std::string_view first_label(std::string_view sub) noexcept { return sub.substr(0, sub.find('.')); }

// Adds `h` to the bucket's filter of NXDOMAIN names; false when it was (probably) there. Once
// half the filter's bits are set (about 180 names) it would take new names for repeats, so every
// answer counts from then on: at that volume a poller's repeats no longer matter.
bool first_nx(NxBucket& b, std::uint64_t h) noexcept {
  std::size_t set = 0;
  for (const std::uint64_t w : b.seen) set += static_cast<std::size_t>(std::popcount(w));
  if (set >= 256) return true;
  const std::uint64_t bit = h & 511, other = (h >> 9) & 511;
  const bool seen = (b.seen[bit / 64] >> (bit % 64) & 1) && (b.seen[other / 64] >> (other % 64) & 1);
  b.seen[bit / 64] |= std::uint64_t{1} << (bit % 64);
  b.seen[other / 64] |= std::uint64_t{1} << (other % 64);
  return !seen;
}

class Enumeration final : public Detector {
 public:
  explicit Enumeration(const EnumerationSettings& s)
      : s_(s),
        allow_(s.allow),
        keys_(s.max_keys),
        candidates_(s.max_keys * kCandidatesPerKey),
        nx_(s.max_keys * kCandidatesPerKey),  // one small entry per client with NXDOMAIN answers
        zones_(1024),
        pool_(s.sketch_pool),
        // The gate in front of nx_ is as wide as nx_ holds clients (2^16 with the default
        // max_keys), at least 4096: a small table needs no 512 KiB gate to halve every period.
        gate_(std::max<std::uint64_t>(s.max_keys * kCandidatesPerKey, 4096)) {
    // Promote well before the lowest threshold can be reached.
    const std::uint64_t lowest = std::min({s.distinct_10m, s.distinct_1h, s.distinct_any});
    promote_at_ = static_cast<std::uint8_t>(std::clamp<std::uint64_t>(lowest / 3, 2, kCandidateNames));
  }

  const RuleInfo& info() const noexcept override { return kInfo; }

  void prefetch(const sensor::DnsEvent& ev, bool slots) const noexcept override {
    const Key k{ev.client(), ev.qname->domain_hash()};
    keys_.prefetch(k, slots);
    candidates_.prefetch(k, slots);
    if (ev.is_response()) nx_.prefetch({k.client}, slots);
  }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (ev.qname->empty() || allow_.allows(ev)) return;
    const IpAddr& client = ev.client();
    if (exempt_recon_client(ctx.policy, client)) return;
    // Catalogued services, blocklist-style lookups, allowlisted domains and a container
    // node's search-list expansions are nobody's brute force.
    if (ctx.not_evidence()) return;
    if (ev.ts >= next_decay_) {
      gate_.decay();
      next_decay_ = ev.ts + kDecay;
    }
    const double factor = ctx.client_resolver ? s_.resolver_factor : 1.0;
    const std::string_view domain = ev.qname->registered_domain();
    const Key k{client, ev.qname->domain_hash()};
    const std::uint32_t p = period_of(ev.ts, kBucket);
    const auto reset = [&](Bucket& b) {
      b.names.release(pool_);
      b.adds = b.queries = b.responses = b.nxdomain = b.words = 0;
    };
    const bool word = wordlike_label(first_label(ev.qname->subdomain()));

    if (!ev.is_response()) {
      auto* e = keys_.find(k);
      if (e == nullptr) {
        // A candidate first: full state once it has shown promote_at_ distinct names.
        auto [c, inserted] = candidates_.emplace(k, ev.ts, [&](auto&) { ++candidate_evicted_; });
        Candidate& cd = c->value;
        if (inserted) cd.first = ev.ts;
        if (cd.n != 0 && p - cd.period >= 2) cd.n = 0;  // older than the 10-minute window: start over
        if (cd.n == 0) {
          cd.period = p;
          cd.responses = cd.nxdomain = 0;
          cd.words = 0;
        }
        const std::uint64_t nh = ev.qname->hash();
        const auto f = static_cast<std::uint32_t>(nh ^ (nh >> 32));
        for (std::uint8_t i = 0; i < cd.n; ++i)
          if (cd.fp[i] == f) return;
        if (cd.n + 1u < promote_at_) {
          cd.fp[cd.n++] = f;
          cd.words = static_cast<std::uint8_t>(cd.words + word);
          return;
        }
        const Candidate held = cd;
        candidates_.erase(c);
        e = keys_.emplace(k, ev.ts, [&](auto& victim) {
                   ++evicted_;
                   victim.value.ring.each(reset);
                 }).first;
        e->value.domain.set(domain);
        e->value.first = held.first;
        // The names held so far go into the current bucket (a 32-bit fingerprint with zero
        // upper half folds to itself in Distinct); the current name follows below.
        Bucket& b0 = e->value.ring.at(p, reset);
        for (std::uint8_t i = 0; i < held.n; ++i)
          if (b0.names.add(held.fp[i], pool_)) ++b0.adds;
        b0.queries += held.n;
        b0.responses += held.responses;
        b0.nxdomain += held.nxdomain;
        b0.words += held.words;
      } else {
        keys_.use(e, ev.ts);
      }
      State& st = e->value;
      Bucket& b = st.ring.at(p, reset);
      ++b.queries;
      if (b.names.add(ev.qname->hash(), pool_)) {
        ++b.adds;
        b.words += word;
        ++st.since_check;
        st.samples.add(ev.qname->lower());
        check(ev, st, p, factor, ctx);
      }
      return;
    }

    // Responses: NXDOMAIN share per key, NXDOMAIN bursts per client, zone-wide NXDOMAIN names.
    const bool nx = ev.msg->rcode() == dnsparse::rcode::NXDOMAIN;
    if (auto* e = keys_.find(k)) {
      Bucket& b = e->value.ring.at(p, reset);
      ++b.responses;
      if (nx) ++b.nxdomain;
    } else if (auto* c = candidates_.find(k)) {
      ++c->value.responses;
      if (nx) ++c->value.nxdomain;
    }
    // Every answer to a client with burst state counts, so the burst is relative to its traffic.
    // A name answered NXDOMAIN again (an ACME client polling its challenge, a retry) counts
    // once, and service names (_dmarc, _acme-challenge, DKIM selectors) not at all: a missing
    // policy record is an ordinary answer.
    const bool burst_nx = nx && !ctx.name->service_label;
    auto* ne = nx_.find({client});
    if (ne != nullptr) {
      NxBucket& nb = ne->value.ring.at(period_of(ev.ts, kBucket), [](NxBucket& x) { x = {}; });
      ++nb.responses;
      if (burst_nx && first_nx(nb, ev.qname->hash())) ++nb.nxdomain;
    }
    if (!nx) return;
    if (burst_nx) nx_burst(ev, client, ne, factor, ctx);
    if (ctx.policy.monitored(*ev.qname)) zone_view(ev, ctx);
  }

  DetectorStats stats() const override {
    DetectorStats st;
    st.rule = kInfo.name;
    table_stats(st, keys_, evicted_);
    table_stats(st, candidates_, candidate_evicted_);
    table_stats(st, nx_, nx_evicted_);
    table_stats(st, zones_, 0);
    st.sketches = pool_.in_use();
    st.sketch_capacity = pool_.capacity();
    st.sketch_exhausted = pool_.exhausted();
    st.reserved_bytes += pool_.capacity() * sizeof(Sketch);
    st.triggers = triggers_;
    return st;
  }

 private:
  struct Window {
    double distinct = 0;
    std::uint64_t queries = 0, responses = 0, nxdomain = 0;
    std::uint32_t upper = 0, words = 0;
  };
  Window window(const Ring<kBuckets, Bucket>& ring, std::uint32_t p, std::size_t k) const {
    Window w;
    Sketch acc;
    bool sketched = false;
    std::uint32_t exact = 0;
    ring.recent(p, k, [&](const Bucket& b) {
      w.queries += b.queries;
      w.responses += b.responses;
      w.nxdomain += b.nxdomain;
      w.upper += b.adds;
      w.words += b.words;
      sketched = sketched || b.names.sketch != 0 || k > 1;
      exact += b.names.n;
      b.names.merge_into(acc, pool_);
    });
    w.distinct = sketched ? acc.estimate() : exact;
    return w;
  }

  void check(const sensor::DnsEvent& ev, State& st, std::uint32_t p, double factor, Context& ctx) {
    const auto t10 = static_cast<std::uint32_t>(static_cast<double>(s_.distinct_10m) * factor);
    const auto t1h = static_cast<std::uint32_t>(static_cast<double>(s_.distinct_1h) * factor);
    const auto tany = static_cast<std::uint32_t>(static_cast<double>(s_.distinct_any) * factor);
    // The sum of per-bucket additions bounds the distinct count from above: nothing can have
    // crossed a threshold before it does. Then re-check every 8 new names.
    std::uint32_t upper = 0;
    st.ring.recent(p, kBuckets, [&](const Bucket& b) { upper += b.adds; });
    // Re-check when the bound has grown by an eighth (at least 8): checks stay logarithmic in
    // the number of names even for a key that keeps growing.
    if (upper < t10 || upper < st.checked_upper + std::max<std::uint32_t>(8, st.checked_upper / 8)) return;
    st.since_check = 0;
    st.checked_upper = upper;
    const Window w10 = window(st.ring, p, 2);
    const Window w1h = window(st.ring, p, kBuckets);
    const double ratio10 = w10.responses ? static_cast<double>(w10.nxdomain) / static_cast<double>(w10.responses) : 0.0;
    const double ratio1h = w1h.responses ? static_cast<double>(w1h.nxdomain) / static_cast<double>(w1h.responses) : 0.0;
    const double words10 = w10.upper ? static_cast<double>(w10.words) / static_cast<double>(w10.upper) : 0.0;
    const double words1h = w1h.upper ? static_cast<double>(w1h.words) / static_cast<double>(w1h.upper) : 0.0;
    // Brute-force evidence, not volume alone: the names look like word-list entries, and
    // most fail (NXDOMAIN) — or, where no answer is visible (a one-way tap), the domain is
    // not one that many clients use. A mail server confirming senders' PTR names under a
    // popular provider, or a busy client of a big site, asks many names that exist.
    const bool unanswered = w1h.responses == 0;
    const bool volume_evidence = words1h >= s_.word_share &&
                                 (ratio1h >= s_.evidence_nxdomain_ratio ||
                                  (unanswered && !ctx.policy.popular(ev.qname->domain_hash())));
    std::string trigger;
    if (w1h.distinct + 0.5 >= tany && volume_evidence) {
      trigger = "distinct_any";
    } else if (w1h.distinct + 0.5 >= t1h && volume_evidence) {
      trigger = "distinct_1h";
    } else if (w10.distinct + 0.5 >= t10 && ratio10 >= s_.nxdomain_ratio && words10 >= s_.word_share) {
      trigger = "distinct_10m_nxdomain";
    } else {
      return;
    }
    ++triggers_;
    Alert a = alert_for(kInfo, ev, trigger == "distinct_10m_nxdomain" ? Severity::medium : Severity::high);
    a.registered_domain = std::string(st.domain.view());
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    const auto d10 = static_cast<std::int64_t>(w10.distinct + 0.5), d1h = static_cast<std::int64_t>(w1h.distinct + 0.5);
    const bool ten = trigger == "distinct_10m_nxdomain";
    const auto pct = [](double r) { return std::to_string(static_cast<int>(r * 100 + 0.5)) + "%"; };
    a.reason = trigger + ": " +
               (ten ? std::to_string(d10) + " distinct names under " + a.registered_domain + " in 10 min, " +
                          pct(ratio10) + " NXDOMAIN, " + pct(words10) + " word-list-like"
                    : std::to_string(d1h) + " distinct names under " + a.registered_domain + " in 1 h, " +
                          (unanswered ? std::string("no answers seen") : pct(ratio1h) + " NXDOMAIN") + ", " +
                          pct(words1h) + " word-list-like") +
               " (threshold " + std::to_string(ten ? t10 : trigger == "distinct_1h" ? t1h : tany) + ")";
    a.with("trigger", trigger)
        .with("distinct_names_10m", d10)
        .with("distinct_names_1h", d1h)
        .with("queries_1h", static_cast<std::int64_t>(w1h.queries))
        .with("nxdomain_1h", static_cast<std::int64_t>(w1h.nxdomain))
        .with("nxdomain_ratio_10m", ratio10)
        .with("nxdomain_ratio_1h", ratio1h)
        .with("word_share_10m", words10)
        .with("word_share_1h", words1h)
        .with("threshold_10m", static_cast<std::int64_t>(t10))
        .with("threshold_1h", static_cast<std::int64_t>(t1h))
        .with("threshold_any", static_cast<std::int64_t>(tany))
        .with("resolver_client", factor != 1.0);
    a.samples = st.samples.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.client(), hash(st.domain.view()))));
  }

  // `e` is the client's entry when it had one (this answer is already counted in it).
  void nx_burst(const sensor::DnsEvent& ev, const IpAddr& client, sensor::LruTable<ClientKey, NxState>::Entry* e,
                double factor, Context& ctx) {
    // Per client, whatever the domain (DGA-like lookups of many unregistered domains).
    if (e == nullptr) {
      if (gate_.add(hash(client, 0x4E58)) < kAdmit) return;
      e = nx_.emplace({client}, ev.ts, [&](auto&) { ++nx_evicted_; }).first;
      e->value.first = ev.ts;
      NxBucket& nb = e->value.ring.at(period_of(ev.ts, kBucket), [](NxBucket& x) { x = {}; });
      ++nb.responses;
      if (first_nx(nb, ev.qname->hash())) ++nb.nxdomain;
    } else {
      nx_.use(e, ev.ts);
    }
    NxState& st = e->value;
    NxBucket& b = st.ring.at(period_of(ev.ts, kBucket), [](NxBucket& x) { x = {}; });
    const std::uint32_t n = b.nxdomain;
    st.samples.add(ev.qname->lower());
    const auto t = static_cast<std::uint32_t>(static_cast<double>(s_.nxdomain_burst) * factor);
    // Fire once per bucket when both the count and the share of the client's answers are
    // reached (a busy client's ordinary NXDOMAIN rate is not a burst); suppression
    // summarises the rest.
    if (b.fired || n < t) return;
    const double ratio = b.responses ? static_cast<double>(n) / static_cast<double>(b.responses) : 1.0;
    if (ratio < s_.nxdomain_burst_ratio) return;
    b.fired = true;
    ++triggers_;
    Alert a = alert_for(kInfo, ev, Severity::medium);
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    a.reason = "nxdomain_burst: " + std::to_string(n) + " distinct names answered NXDOMAIN to one client within 5 min (" +
               std::to_string(static_cast<int>(ratio * 100)) + "% of its answers; threshold " + std::to_string(t) + ")";
    a.with("trigger", std::string("nxdomain_burst"))
        .with("nxdomain_5m", std::int64_t{n})
        .with("responses_5m", std::int64_t{b.responses})
        .with("nxdomain_ratio_5m", ratio)
        .with("threshold", std::int64_t{t})
        .with("threshold_ratio", s_.nxdomain_burst_ratio)
        .with("resolver_client", factor != 1.0);
    a.samples = st.samples.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, 0x4E58)));
  }

  void zone_view(const sensor::DnsEvent& ev, Context& ctx) {
    const std::string_view zone = ev.qname->registered_domain();
    auto [e, inserted] = zones_.emplace({hash(zone)}, ev.ts, [&](auto& victim) {
      victim.value.ring.each([&](Bucket& b) { b.names.release(pool_); });
    });
    ZoneState& st = e->value;
    if (inserted) {
      st.zone.set(zone);
      st.first = ev.ts;
    }
    const std::uint32_t p = period_of(ev.ts, kBucket);
    Bucket& b = st.ring.at(p, [&](Bucket& x) {
      x.names.release(pool_);
      x.adds = x.queries = x.responses = x.nxdomain = 0;
    });
    if (!b.names.add(ev.qname->hash(), pool_)) return;
    ++b.adds;
    st.samples.add(ev.qname->lower());
    st.server = ev.server();
    st.server_port = ev.server_port();
    if (!st.dirty) {
      st.dirty = true;
      dirty_zones_.push_back(hash(zone));
    }
    // With several workers the zone view is decided on the merged counts (sync()).
    if (shared_mode_) return;
    if (++st.since_check < 16) return;
    st.since_check = 0;
    const Window w = window(st.ring, p, kBuckets);
    if (w.distinct + 0.5 < static_cast<double>(s_.zone_nxdomain_1h)) return;
    raise_zone(st, w.distinct, ev.ts, ctx);
  }

  void raise_zone(const ZoneState& st, double distinct, Timestamp ts, Context& ctx) {
    ++triggers_;
    Alert a;
    a.rule = &kInfo;
    a.ts = ts;
    a.severity = Severity::high;
    a.has_server = true;  // many clients: the zone is the subject
    a.server = st.server;
    a.server_port = st.server_port;
    a.registered_domain = std::string(st.zone.view());
    a.first_seen = st.first;
    a.last_seen = ts;
    a.reason = "zone_nxdomain_1h: " + std::to_string(static_cast<std::int64_t>(distinct + 0.5)) +
               " distinct non-existent names under monitored zone " + a.registered_domain + " in 1 h, all clients" +
               " (threshold " + std::to_string(s_.zone_nxdomain_1h) + ")";
    a.with("trigger", std::string("zone_nxdomain_1h"))
        .with("distinct_nxdomain_names_1h", static_cast<std::int64_t>(distinct + 0.5))
        .with("threshold", static_cast<std::int64_t>(s_.zone_nxdomain_1h));
    a.samples = st.samples.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(st.zone.view(), 0x5A)));
  }

 public:
  void sync(SharedView& shared, Context& ctx) override {
    shared_mode_ = true;
    const std::uint32_t p = period_of(ctx.now, kBucket);
    for (const std::uint64_t zh : dirty_zones_) {
      auto* e = zones_.find({zh});
      if (e == nullptr) continue;
      ZoneState& st = e->value;
      st.dirty = false;
      // Push this worker's names of the recent periods; the shared side keeps the maximum
      // of each register, so pushing a period again is harmless.
      bool first = false;
      double est = 0;
      for (std::uint32_t q = p >= 1 ? p - 1 : p; q <= p; ++q) {
        Sketch s;
        bool any = false;
        st.ring.recent(q, 1, [&](const Bucket& b) {
          b.names.merge_into(s, pool_);
          any = true;
        });
        if (!any) continue;
        bool f = false;
        est = shared.sync_zone(zh, q, kBuckets, s, static_cast<double>(s_.zone_nxdomain_1h), this, f);
        first = first || f;
      }
      if (first) raise_zone(st, est, ctx.now, ctx);
    }
    dirty_zones_.clear();
  }

 private:

  EnumerationSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<Key, State> keys_;
  sensor::LruTable<Key, Candidate> candidates_;
  sensor::LruTable<ClientKey, NxState> nx_;
  sensor::LruTable<ZoneKey, ZoneState> zones_;
  SketchPool pool_;
  CountMin gate_;
  Timestamp next_decay_ = 0;
  std::uint64_t evicted_ = 0, candidate_evicted_ = 0, nx_evicted_ = 0, triggers_ = 0;
  std::uint8_t promote_at_ = kCandidateNames;
  std::vector<std::uint64_t> dirty_zones_;
  bool shared_mode_ = false;
};

}  // namespace

const RuleInfo& enumeration_info() { return kInfo; }
std::unique_ptr<Detector> make_enumeration(const EnumerationSettings& s) { return std::make_unique<Enumeration>(s); }

}  // namespace dnsvigil::detect::rules
