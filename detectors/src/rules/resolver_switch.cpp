// resolver_switch — T1584.002 (issue 7): a client with an established history of using the
// sanctioned resolvers starts sending DNS to another server. The wire analogue of the Elastic
// rule's registry branch (NameServer changed by a DNS changer, a rogue DHCP server, malware).
//
// Complementary to rogue_resolver: that rule already reports every query to an unsanctioned
// server it covers (public servers; internal ones too with its private_servers switch) and adds
// "switched_from" evidence. resolver_switch reports only the servers rogue_resolver leaves
// out, so one switch never gives two alerts: by default the internal and private servers that
// are not sanctioned resolvers (a rogue resolver on a compromised internal host, a forgotten
// dnsmasq, a client pointed at an authoritative server).
#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/dnsparse/text.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

const RuleInfo kInfo{
    "resolver_switch", "dnsvigil-0008",
    "An internal host that had been resolving through the sanctioned resolvers started sending DNS to another "
    "server that is not a sanctioned resolver (its DNS settings were changed: DNS changer malware, a rogue DHCP "
    "server, or a rogue resolver inside the network).",
    {"TA0042", "Resource Development", "T1584", "Compromise Infrastructure", "T1584.002", "DNS Server"}};

// New servers tracked per client at once (the least recently used slot is reused beyond).
constexpr std::size_t kServers = 4;

struct NewServer {
  IpAddr server;
  Timestamp first, last, last_raise;
  std::uint32_t queries;
  std::uint16_t port;
  bool after_history;  // the client's history was established when this server was first used
  bool reported;
};
struct State {
  // History with the sanctioned resolvers.
  Timestamp hist_first, hist_last;
  std::uint64_t hist_queries;
  IpAddr hist_server;  // the sanctioned resolver used last
  NewServer servers[kServers];
};

// Repeated queries to a reported server re-raise at most this often (for the summary counts).
constexpr Timestamp kRaiseEvery = kMinute;

class ResolverSwitch final : public Detector {
 public:
  ResolverSwitch(const ResolverSwitchSettings& s, const RogueResolverSettings& rogue)
      : s_(s), allow_(s.allow), clients_(s.max_keys) {
    for (const std::uint16_t p : s.ports) ports_[p] = true;
    // What rogue_resolver reports (with "switched_from" evidence) is left to it.
    if (rogue.enabled) {
      for (const std::uint16_t p : rogue.ports) rogue_ports_[p] = true;
      rogue_private_ = rogue.private_servers;
    }
  }

  const RuleInfo& info() const noexcept override { return kInfo; }

  void prefetch(const sensor::DnsEvent& ev, bool slots) const noexcept override {
    if (!ev.is_response()) clients_.prefetch({ev.src}, slots);
  }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (ev.is_response() || !ports_[ev.dport] || ev.msg->header().opcode() != 0) return;
    if (allow_.allows(ev)) return;
    check(ev.ts, ev.src, ev.dst, ev.dport, ev.transport, &ev, ctx);
  }

  void on_flow(const sensor::FlowEvent& f, Context& ctx) override {
    if (!ports_[f.dport]) return;
    if (allow_.clients.contains(f.src) || allow_.servers.contains(f.dst)) return;
    check(f.ts, f.src, f.dst, f.dport, f.transport, nullptr, ctx);
  }

  DetectorStats stats() const override { return one_table_stats(kInfo, clients_, evicted_, triggers_); }

 private:
  // True when rogue_resolver reports queries from an internal client to `server` (mirrors its
  // "sanctioned" test with network.resolvers configured).
  bool rogue_reports(const IpAddr& server, std::uint16_t port, const Context& ctx) const noexcept {
    if (!rogue_ports_[port]) return false;
    if (rogue_private_) return true;
    return !sensor::is_private(server) && !ctx.policy.internal(server);
  }

  bool established(const State& st) const noexcept {
    return st.hist_queries >= s_.history_queries && st.hist_last - st.hist_first >= s_.history_span;
  }

  void check(Timestamp ts, const IpAddr& client, const IpAddr& server, std::uint16_t port,
             sensor::Transport transport, const sensor::DnsEvent* ev, Context& ctx) {
    // Needs the sanctioned list: without it every internal server may be a resolver not yet learned.
    if (!ctx.policy.resolvers_configured()) return;
    // Internal clients only; resolvers' upstream, secondaries' refreshes and scanners are their job.
    if (!ctx.policy.internal(client) || ctx.policy.resolver(client) || ctx.policy.secondary(client) ||
        ctx.policy.scanner(client))
      return;
    if (ctx.policy.configured_resolver(server)) {
      auto* e = clients_.emplace({client}, ts, [&](auto&) { ++evicted_; }).first;
      State& st = e->value;
      // A history idle for a whole period is forgotten: the client starts over.
      if (st.hist_queries == 0 || ts - st.hist_last > s_.period) {
        st.hist_first = ts;
        st.hist_queries = 0;
      }
      st.hist_last = ts;
      st.hist_server = server;
      ++st.hist_queries;
      return;
    }
    if (sensor::is_special(server) || rogue_reports(server, port, ctx)) return;

    auto* e = clients_.find({client});
    // No history at all: not a switch (rogue_resolver.private_servers covers standing use).
    if (e == nullptr) return;
    clients_.use(e, ts);
    State& st = e->value;
    NewServer* slot = nullptr;
    NewServer* victim = &st.servers[0];
    for (auto& n : st.servers) {
      if (n.queries != 0 && n.server == server) slot = &n;
      if (n.queries == 0 || n.last < victim->last) victim = &n;
    }
    if (slot != nullptr && ts - slot->last > s_.period) slot->queries = 0;  // idle a period: new use
    if (slot == nullptr || slot->queries == 0) {
      if (slot == nullptr) slot = victim;
      *slot = NewServer{};
      slot->server = server;
      slot->first = ts;
      slot->port = port;
      // The switch must come after an established history with the sanctioned resolvers.
      slot->after_history = established(st) && ts - st.hist_last <= s_.period;
    }
    slot->last = ts;
    ++slot->queries;
    if (!slot->after_history || slot->queries < s_.min_queries) return;
    if (slot->reported && ts - slot->last_raise < kRaiseEvery) return;
    slot->reported = true;
    slot->last_raise = ts;

    ++triggers_;
    Alert a;
    if (ev != nullptr) {
      a = alert_for(kInfo, *ev, Severity::medium);
    } else {
      a.rule = &kInfo;
      a.ts = ts;
      a.severity = Severity::medium;
      a.has_client = a.has_server = true;
      a.client = client;
      a.server = server;
      a.server_port = port;
      a.transport = transport == sensor::Transport::udp ? "udp" : "tcp";
    }
    a.first_seen = slot->first;
    a.last_seen = ts;
    const bool internal = ctx.policy.internal(server) || sensor::is_private(server);
    a.reason = "host switched from sanctioned resolver " + text_of(st.hist_server) + " (" +
               std::to_string(st.hist_queries) + " queries since " + text_time(st.hist_first) + ") to " +
               std::string(internal ? "internal" : "external") + " DNS server " + text_of(server) +
               ", which is not a sanctioned resolver";
    a.with("trigger", std::string("switch"))
        .with("switched_from", text_of(st.hist_server))
        .with("sanctioned_queries", static_cast<std::int64_t>(st.hist_queries))
        .with("sanctioned_first_seen", text_time(st.hist_first))
        .with("last_sanctioned_use", text_time(st.hist_last))
        .with("queries", static_cast<std::int64_t>(slot->queries))
        .with("port", static_cast<std::int64_t>(port))
        .with("internal_server", internal);
    if (ev != nullptr && !ev->qname->empty()) a.samples.push_back(std::string(ev->qname->lower()));
    // Once per (client, server) per period; the summary at its end carries the final counts.
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, hash(server))), s_.period);
  }

  ResolverSwitchSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<ClientKey, State> clients_;
  bool ports_[65536] = {};
  bool rogue_ports_[65536] = {};
  bool rogue_private_ = false;
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& resolver_switch_info() { return kInfo; }
std::unique_ptr<Detector> make_resolver_switch(const ResolverSwitchSettings& s, const RogueResolverSettings& rogue) {
  return std::make_unique<ResolverSwitch>(s, rogue);
}

}  // namespace dnsvigil::detect::rules
