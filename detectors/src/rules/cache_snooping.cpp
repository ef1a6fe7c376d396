// cache_snooping — T1590.002 (issue 7, the playbook's "non-recursive lookups"): a client asks a
// sanctioned recursive resolver many distinct names with RD=0. A non-recursive query makes the
// resolver answer from its cache only, so the answers tell the asker which names the
// organisation's users resolved recently (which SaaS, which partners, which security vendors).
// Stub resolvers always set RD; resolvers, secondaries and the names the resolver itself serves
// (monitored zones) are exempt, and the rule is off where the sensor watches an authoritative
// server (network.role), where RD=0 is how every query arrives.
#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/dnsparse/text.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

const RuleInfo kInfo{
    "cache_snooping", "dnsvigil-0007",
    "A client asked a sanctioned recursive resolver many distinct names without recursion (RD=0): the answers "
    "come from the resolver's cache only and reveal which names the organisation resolved recently (DNS cache "
    "snooping).",
    {"TA0043", "Reconnaissance", "T1590", "Gather Victim Network Information", "T1590.002", "DNS"}};

// Names remembered per client: the window's distinct count is exact up to this many (the
// schema caps the threshold here).
constexpr std::size_t kNames = 32;

struct Seen {
  std::uint32_t hash;     // low bits of the name's XXH3
  std::uint32_t seconds;  // packet time of the last RD=0 query for it, in seconds
};
struct State {
  Seen names[kNames];
  Timestamp first;        // first RD=0 query of the current episode
  IpAddr resolver;        // last resolver probed
  std::uint32_t queries;  // RD=0 queries in the episode
  std::uint32_t answered; // RD=0 responses with answer records (cache hits) in the episode
  Samples<5> samples;
};

std::uint32_t seconds_of(Timestamp t) noexcept { return static_cast<std::uint32_t>(t / kNanosPerSecond); }

class CacheSnooping final : public Detector {
 public:
  explicit CacheSnooping(const CacheSnoopingSettings& s) : s_(s), allow_(s.allow), clients_(s.max_keys) {
    window_s_ = static_cast<std::uint32_t>(std::max<Timestamp>(s.window / kNanosPerSecond, 1));
    threshold_ = static_cast<std::size_t>(std::clamp<std::uint64_t>(s.distinct_names, 2, kNames));
  }

  const RuleInfo& info() const noexcept override { return kInfo; }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    const auto& h = ev.msg->header();
    if (h.rd() || h.opcode() != 0 || ev.qname->empty()) return;
    if (ctx.policy.role() == Role::authoritative) return;
    const IpAddr& client = ev.client();
    const IpAddr& server = ev.server();
    if (!ctx.policy.resolver(server)) return;
    if (ctx.client_resolver || ctx.policy.resolver(client) || ctx.policy.secondary(client) ||
        exempt_recon_client(ctx.policy, client))
      return;
    if (allow_.allows(ev) || ctx.policy.monitored(*ev.qname)) return;

    if (ev.is_response()) {
      // Cache hits as evidence: only for clients already probing (no state for others).
      auto* e = clients_.find({client});
      if (e != nullptr && ev.msg->header().ancount > 0 && ev.msg->header().rcode() == 0) ++e->value.answered;
      return;
    }

    const std::uint32_t now = seconds_of(ev.ts);
    const std::uint32_t cutoff = now >= window_s_ ? now - window_s_ : 0;
    auto [e, inserted] = clients_.emplace({client}, ev.ts, [&](auto&) { ++evicted_; });
    State& st = e->value;
    // Fresh entries (inside the window), and the slot for this name.
    std::size_t fresh = 0, slot = kNames, oldest = 0;
    const auto hname = static_cast<std::uint32_t>(ev.qname->hash());
    for (std::size_t i = 0; i < kNames; ++i) {
      const Seen& n = st.names[i];
      const bool live = n.seconds != 0 && n.seconds > cutoff;
      if (live) ++fresh;
      if (live && n.hash == hname) slot = i;
      if (n.seconds < st.names[oldest].seconds) oldest = i;
    }
    if (fresh == 0) {
      // A new episode: nothing of the previous one is inside the window any more.
      st.first = ev.ts;
      st.queries = 0;
      st.answered = 0;
      st.samples = {};
    }
    if (slot == kNames) {
      slot = oldest;
      ++fresh;
    }
    st.names[slot] = {hname, now};
    st.resolver = server;
    ++st.queries;
    st.samples.add(ev.qname->lower());
    if (fresh < threshold_) return;

    ++triggers_;
    Alert a = alert_for(kInfo, ev, Severity::medium);
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    a.reason = "cache snooping: " + std::to_string(fresh) + " distinct names asked of sanctioned resolver " +
               text_of(server) + " without recursion (RD=0) within " + std::to_string(window_s_) + " s";
    a.with("trigger", std::string("rd0_names"))
        .with("distinct_names", static_cast<std::int64_t>(fresh))
        .with("threshold", static_cast<std::int64_t>(threshold_))
        .with("window_s", static_cast<std::int64_t>(window_s_))
        .with("queries", static_cast<std::int64_t>(st.queries))
        .with("cache_hits", static_cast<std::int64_t>(st.answered))
        .with("resolver", text_of(st.resolver));
    a.samples = st.samples.list(ctx.samples);
    // One alert per client per suppression period; later probes feed its summary.
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client)));
  }

  DetectorStats stats() const override { return one_table_stats(kInfo, clients_, evicted_, triggers_); }

 private:
  CacheSnoopingSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<ClientKey, State> clients_;
  std::uint32_t window_s_ = 600;
  std::size_t threshold_ = 10;
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& cache_snooping_info() { return kInfo; }
std::unique_ptr<Detector> make_cache_snooping(const CacheSnoopingSettings& s) {
  return std::make_unique<CacheSnooping>(s);
}

}  // namespace dnsvigil::detect::rules
