// enumeration — T1590.002 / T1596.001: many distinct names under one registered domain from one
// client (brute-force subdomain discovery), NXDOMAIN bursts, and a zone-wide view for
// monitored zones (attackers spread their guesses over many resolvers).
#include <memory>

#include "common.hpp"
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
// A key earns full state once the pre-filter has seen it this many times in a decay period.
constexpr std::uint16_t kAdmit = 3;
constexpr Timestamp kDecay = 10 * kMinute;

struct Key {
  IpAddr client;
  std::uint64_t domain;
};
struct Bucket {
  Distinct names;
  std::uint32_t adds, queries, responses, nxdomain;
};
struct State {
  Ring<kBuckets, Bucket> ring;
  FixedText<96> domain;
  Samples<5> samples;
  Timestamp first;
  std::uint32_t since_check;
  std::uint32_t checked_upper;  // upper bound at the last full check
};
struct ClientKey {
  IpAddr client;
};
struct NxState {
  Ring<1, std::uint32_t> ring;  // NXDOMAIN answers in the current 5-minute bucket
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

class Enumeration final : public Detector {
 public:
  explicit Enumeration(const EnumerationSettings& s)
      : s_(s), allow_(s.allow), keys_(s.max_keys), nx_(s.max_keys), zones_(1024), pool_(s.sketch_pool) {}

  const RuleInfo& info() const noexcept override { return kInfo; }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (ev.qname->empty() || allow_.allows(ev)) return;
    const IpAddr& client = ev.client();
    if (exempt_recon_client(ctx.policy, client)) return;
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
      b.adds = b.queries = b.responses = b.nxdomain = 0;
    };

    if (!ev.is_response()) {
      auto* e = keys_.find(k);
      if (e == nullptr) {
        if (gate_.add(hash(client, k.domain)) < kAdmit) return;
        e = keys_.emplace(k, ev.ts, [&](auto& victim) {
                   ++evicted_;
                   victim.value.ring.each(reset);
                 }).first;
        e->value.domain.set(domain);
        e->value.first = ev.ts;
      } else {
        keys_.use(e, ev.ts);
      }
      State& st = e->value;
      Bucket& b = st.ring.at(p, reset);
      ++b.queries;
      if (b.names.add(ev.qname->hash(), pool_)) {
        ++b.adds;
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
    }
    if (!nx) return;
    nx_burst(ev, client, factor, ctx);
    if (ctx.policy.monitored(*ev.qname)) zone_view(ev, ctx);
  }

  DetectorStats stats() const override {
    DetectorStats st;
    st.rule = kInfo.name;
    table_stats(st, keys_, evicted_);
    table_stats(st, nx_, 0);
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
    std::uint32_t upper = 0;
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
    std::string trigger;
    if (w1h.distinct + 0.5 >= tany) {
      trigger = "distinct_any";
    } else if (w1h.distinct + 0.5 >= t1h) {
      trigger = "distinct_1h";
    } else if (w10.distinct + 0.5 >= t10 && ratio10 >= s_.nxdomain_ratio) {
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
    a.reason = std::to_string(d1h) + " distinct names under " + a.registered_domain + " in 1 h (" +
               std::to_string(d10) + " in 10 min, " + std::to_string(static_cast<int>(ratio10 * 100)) +
               "% NXDOMAIN) from one client";
    a.with("trigger", trigger)
        .with("distinct_names_10m", d10)
        .with("distinct_names_1h", d1h)
        .with("queries_1h", static_cast<std::int64_t>(w1h.queries))
        .with("nxdomain_1h", static_cast<std::int64_t>(w1h.nxdomain))
        .with("nxdomain_ratio_10m", ratio10)
        .with("threshold_10m", static_cast<std::int64_t>(t10))
        .with("threshold_1h", static_cast<std::int64_t>(t1h))
        .with("threshold_any", static_cast<std::int64_t>(tany))
        .with("resolver_client", factor != 1.0);
    a.samples = st.samples.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.client(), hash(st.domain.view()))));
  }

  void nx_burst(const sensor::DnsEvent& ev, const IpAddr& client, double factor, Context& ctx) {
    // Per client, whatever the domain (DGA-like lookups of many unregistered domains).
    if (gate_.add(hash(client, 0x4E58)) < kAdmit) return;
    auto [e, inserted] = nx_.emplace({client}, ev.ts, [](auto&) {});
    NxState& st = e->value;
    if (inserted) st.first = ev.ts;
    std::uint32_t& n = st.ring.at(period_of(ev.ts, kBucket), [](std::uint32_t& c) { c = 0; });
    ++n;
    st.samples.add(ev.qname->lower());
    const auto t = static_cast<std::uint32_t>(static_cast<double>(s_.nxdomain_burst) * factor);
    if (n != t) return;  // fire once when crossing; suppression summarises the rest
    ++triggers_;
    Alert a = alert_for(kInfo, ev, Severity::medium);
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    a.reason = std::to_string(n) + " NXDOMAIN answers to one client within 5 min";
    a.with("trigger", std::string("nxdomain_burst"))
        .with("nxdomain_5m", std::int64_t{n})
        .with("threshold", std::int64_t{t})
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
    a.reason = std::to_string(static_cast<std::int64_t>(distinct + 0.5)) +
               " distinct non-existent names under monitored zone " + a.registered_domain + " in 1 h, all clients";
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
  sensor::LruTable<ClientKey, NxState> nx_;
  sensor::LruTable<ZoneKey, ZoneState> zones_;
  SketchPool pool_;
  CountMin gate_;
  Timestamp next_decay_ = 0;
  std::uint64_t evicted_ = 0, triggers_ = 0;
  std::vector<std::uint64_t> dirty_zones_;
  bool shared_mode_ = false;
};

}  // namespace

const RuleInfo& enumeration_info() { return kInfo; }
std::unique_ptr<Detector> make_enumeration(const EnumerationSettings& s) { return std::make_unique<Enumeration>(s); }

}  // namespace dnsvigil::detect::rules
