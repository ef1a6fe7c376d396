// rogue_resolver — T1584.002 (seed 003): an internal client sends DNS (UDP/TCP 53, DoT on TCP
// 853) to a server that is not a sanctioned resolver. Sanctioned resolvers' own upstream
// traffic never alerts; a client that used the sanctioned resolvers and then another server
// carries that as evidence (the wire analogue of the seed's registry branch).
#include <memory>
#include <vector>

#include "common.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

const RuleInfo kInfo{
    "rogue_resolver", "dnsvigil-0004",
    "An internal host sent DNS to a server that is not a sanctioned resolver (a public resolver, or a resolver "
    "under an attacker's control): resolution that bypasses the organisation's DNS policy and monitoring.",
    {"TA0042", "Resource Development", "T1584", "Compromise Infrastructure", "T1584.002", "DNS Server"}};

struct State {
  IpAddr servers[8];          // distinct rogue servers this period
  std::uint8_t nservers;
  bool aggregated;
  Timestamp period_start;
  Timestamp last_sanctioned;  // last query to a sanctioned resolver
  IpAddr sanctioned;          // which one
  Timestamp first;
  Timestamp last_raise;
  std::uint64_t queries;      // to rogue servers this period
};

// Repeated queries to an already reported server raise at most this often (the engine's
// suppression then folds them into the summary).
constexpr Timestamp kRaiseEvery = kMinute;

// Zero configuration: queries to outside servers seen before the site's de-facto resolvers are
// known wait here until they are (or until the pair ages out).
struct PairKey {
  IpAddr client, server;
};
struct Pending {
  Timestamp first;
  std::uint16_t sport, dport;
  sensor::Transport transport;
  bool encrypted;
  FixedText<96> qname;
};
constexpr std::size_t kPending = 4096;

class RogueResolver final : public Detector {
 public:
  explicit RogueResolver(const RogueResolverSettings& s)
      : s_(s), allow_(s.allow), clients_(s.max_keys), pending_(kPending) {
    for (const std::uint16_t p : s.ports) ports_[p] = true;
  }

  const RuleInfo& info() const noexcept override { return kInfo; }

  void prefetch(const sensor::DnsEvent& ev, bool slots) const noexcept override {
    if (!ev.is_response()) clients_.prefetch({ev.src}, slots);
  }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    // DNS ports, DNS recognised on other ports (capture.dns_heuristic: a resolver on 8053), and
    // whatever a server's dnstap logs (DNS by definition, on any port).
    if (ev.is_response() || !(ports_[ev.dport] || ev.off_port || ev.dnstap != 0) || allow_.allows(ev)) return;
    // Without a configured resolver list, RD=0 queries are iterative resolution by a resolver
    // (the policy learns it), not a host using someone else's resolver.
    if (!ctx.policy.resolvers_configured() && !ev.msg->header().rd()) return;
    // An ACME client asks the zone's authoritative servers directly (RD=0) whether its
    // challenge record is there yet: no resolver is used.
    if (ctx.name->acme && !ev.msg->header().rd()) return;
    // Encrypted: DoT, DoH, DoQ as a server's dnstap reports them, or port 853 (RFC 7858).
    check(ev.ts, ev.src, ev.dst, ev.sport, ev.dport, ev.transport, ev.encrypted() || ev.dport == 853, &ev, ctx);
  }

  void on_flow(const sensor::FlowEvent& f, Context& ctx) override {
    if (!ports_[f.dport]) return;
    if (allow_.clients.contains(f.src) || allow_.servers.contains(f.dst)) return;
    // A connection attempt to a watched port (DoT 853): its DNS is not readable.
    check(f.ts, f.src, f.dst, f.sport, f.dport, f.transport, true, nullptr, ctx);
  }

  void on_tick(Context& ctx) override {
    // Zero configuration: judge the waiting pairs once the de-facto resolvers are known.
    if (ctx.policy.resolvers_configured() || pending_.size() == 0) return;
    if (!ctx.policy.usage(IpAddr{}).baseline) {
      pending_.expire(ctx.now - s_.period, [](auto&) {});
      return;
    }
    std::vector<std::pair<PairKey, Pending>> due;
    pending_.drain([&](auto& e) { due.emplace_back(e.key, e.value); });
    for (const auto& [k, p] : due) {
      if (ctx.policy.usage(k.server).defacto) continue;
      deviation_sample_ = p.qname.str();
      check(ctx.now, k.client, k.server, p.sport, p.dport, p.transport, p.encrypted, nullptr, ctx, p.first);
    }
    deviation_sample_.clear();
  }

  DetectorStats stats() const override { return one_table_stats(kInfo, clients_, evicted_, triggers_); }

 private:
  enum class Verdict : std::uint8_t { sanctioned, rogue, wait };

  Verdict judge(const IpAddr& server, const Context& ctx) const noexcept {
    if (ctx.policy.resolver(server)) return Verdict::sanctioned;
    if (sensor::is_special(server)) return Verdict::sanctioned;
    if (!ctx.policy.resolvers_configured()) {
      // Zero configuration. Internal servers count as sanctioned; an outside server is fine
      // when it is one of the site's de-facto resolvers (used by many of the internal clients,
      // like the public resolver a whole small office uses), rogue when the client's peers do
      // not use it, and undecided until enough clients have been seen.
      if (ctx.policy.internal(server) || sensor::is_private(server)) return Verdict::sanctioned;
      const Policy::Usage u = ctx.policy.usage(server);
      if (!u.baseline) return Verdict::wait;
      return u.defacto ? Verdict::sanctioned : Verdict::rogue;
    }
    if (!s_.private_servers && (sensor::is_private(server) || ctx.policy.internal(server))) return Verdict::sanctioned;
    return Verdict::rogue;
  }

  void check(Timestamp ts, const IpAddr& client, const IpAddr& server, std::uint16_t sport, std::uint16_t dport,
             sensor::Transport transport, bool encrypted, const sensor::DnsEvent* ev, Context& ctx,
             Timestamp since = 0) {
    // Only internal clients, and never a resolver's own upstream traffic.
    if (!ctx.policy.internal(client) || ctx.policy.resolver(client)) return;
    const Verdict v = judge(server, ctx);
    if (v == Verdict::wait) {
      auto [p, inserted] = pending_.emplace({client, server}, ts, [](auto&) {});
      if (inserted) {
        p->value.first = ts;
        p->value.sport = sport;
        p->value.dport = dport;
        p->value.transport = transport;
        p->value.encrypted = encrypted;
        p->value.qname.set(ev != nullptr ? ev->qname->lower() : std::string_view{});
      }
      return;
    }
    const bool ok = v == Verdict::sanctioned;
    auto* e = clients_.find({client});
    if (ok) {
      // Remember sanctioned use (only for servers that are resolvers, not any internal host).
      if (ctx.policy.resolver(server) || (!ctx.policy.resolvers_configured() && !ctx.policy.internal(server))) {
        if (e == nullptr) e = clients_.emplace({client}, ts, [&](auto&) { ++evicted_; }).first;
        e->value.last_sanctioned = ts;
        e->value.sanctioned = server;
      }
      return;
    }
    if (e == nullptr) e = clients_.emplace({client}, ts, [&](auto&) { ++evicted_; }).first;
    clients_.use(e, ts);
    State& st = e->value;
    // A new period starts with this query (also when the entry exists from sanctioned use
    // only): `first` is the first unsanctioned query of the period the alert reports.
    if (st.period_start == 0 || ts - st.period_start >= s_.period) {
      st.period_start = ts;
      st.first = since != 0 ? since : ts;
      st.nservers = 0;
      st.aggregated = false;
      st.queries = 0;
    }
    bool known = false;
    for (std::uint8_t i = 0; i < st.nservers; ++i) known = known || st.servers[i] == server;
    if (!known && st.nservers < 8) st.servers[st.nservers++] = server;
    ++st.queries;
    if (known && ts - st.last_raise < kRaiseEvery) return;
    st.last_raise = ts;

    ++triggers_;
    Alert a;
    if (ev != nullptr) {
      a = alert_for(kInfo, *ev, Severity::medium);
    } else {
      a.rule = &kInfo;
      a.ts = ts;
      a.has_client = a.has_server = true;
      a.client = client;
      a.server = server;
      a.client_port = sport;
      a.server_port = dport;
      a.transport = transport == sensor::Transport::udp ? "udp" : "tcp";
      a.severity = Severity::medium;
    }
    a.first_seen = st.first;
    a.last_seen = ts;
    std::string server_text = text_of(server);
    const bool learned = !ctx.policy.resolvers_configured();
    const std::string port_text = "port " + std::to_string(dport);
    const std::string what = encrypted ? "encrypted DNS (" + port_text + ")" : dport != 53 ? "DNS on " + port_text : "DNS";
    a.reason = learned ? "deviation: internal host sent " + what + " to " + server_text +
                             ", which its peers do not use as a resolver"
                       : "unsanctioned_server: internal host sent " + what + " to " + server_text +
                             ", which is not a sanctioned resolver";
    a.with("trigger", std::string(learned ? "deviation" : "unsanctioned_server"))
        .with("port", static_cast<std::int64_t>(dport))
        .with("encrypted", encrypted)
        .with("queries", static_cast<std::int64_t>(st.queries));
    if (learned) {
      // What the zero-configuration policy learned, and how to pin it.
      const Policy::Usage u = ctx.policy.usage(server);
      a.with("server_clients", static_cast<std::int64_t>(u.clients + 0.5))
          .with("defacto_resolver", text_of(u.top))
          .with("defacto_resolver_clients", static_cast<std::int64_t>(u.top_clients + 0.5));
      a.reason += " (the site's resolver is " + text_of(u.top) + ", used by " +
                  std::to_string(static_cast<std::int64_t>(u.top_clients + 0.5)) + " clients; set network.resolvers to pin it)";
    }
    if (st.last_sanctioned != 0) {
      a.with("switched_from", text_of(st.sanctioned)).with("last_sanctioned_use", text_time(st.last_sanctioned));
      a.reason += " (it used sanctioned resolver " + text_of(st.sanctioned) + " before)";
    }
    if (ev != nullptr && !ev->qname->empty()) a.samples.push_back(std::string(ev->qname->lower()));
    if (ev == nullptr && !deviation_sample_.empty()) a.samples.push_back(deviation_sample_);
    // One alert per (client, server) per period.
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, hash(server))), s_.period);

    if (st.nservers >= s_.aggregate_servers && !st.aggregated) {
      st.aggregated = true;
      Alert g;
      g.rule = &kInfo;
      g.ts = ts;
      g.severity = Severity::high;
      g.has_client = true;
      g.client = client;
      g.first_seen = st.first;
      g.last_seen = ts;
      std::vector<std::string> list;
      for (std::uint8_t i = 0; i < st.nservers; ++i) list.push_back(text_of(st.servers[i]));
      g.reason = "internal host used " + std::to_string(st.nservers) + " resolvers that are not sanctioned";
      g.with("trigger", std::string("many_resolvers"))
          .with("servers", list)
          .with("threshold", static_cast<std::int64_t>(s_.aggregate_servers));
      ctx.raiser.raise(std::move(g), rule_key(kInfo, hash(client, 0xA9)), s_.period);
    }
  }

  RogueResolverSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<ClientKey, State> clients_;
  sensor::LruTable<PairKey, Pending> pending_;
  std::string deviation_sample_;  // the waiting pair's question name, while judged on a tick
  bool ports_[65536] = {};
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& rogue_resolver_info() { return kInfo; }
std::unique_ptr<Detector> make_rogue_resolver(const RogueResolverSettings& s) {
  return std::make_unique<RogueResolver>(s);
}

}  // namespace dnsvigil::detect::rules
