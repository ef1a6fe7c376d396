// intel_match — T1071.004 (issue 7 item 5): DNS that touches an indicator of the configured
// threat-intel lists: a question name under a listed domain, a query to (or answer from) a listed
// server address, or DNS sent by a listed address. Lists name known command-and-control and
// tunnel infrastructure; resolving such a name or talking DNS to such a server is the DNS
// leg of application-layer C2. One alert per (client, indicator) per suppression period; the
// counts of later matches reach its summary. Silent while no list is configured.
#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/intel.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/dnsparse/text.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

const RuleInfo kInfo{
    "intel_match", "dnsvigil-0011",
    "DNS touched an indicator of a configured threat-intel list: a question name under a listed domain, a query "
    "to or answer from a listed server address, or DNS sent by a listed address.",
    {"TA0011", "Command and Control", "T1071", "Application Layer Protocol", "T1071.004", "DNS"}};

// What matched, in the order an event is checked.
enum class Kind : std::uint8_t { domain, server, client };

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::domain: return "domain";
    case Kind::server: return "server";
    case Kind::client: return "client";
  }
  return "domain";
}

struct Key {
  IpAddr client;
  std::uint32_t indicator;  // IntelLists entry id
  std::uint8_t kind;
  std::uint8_t pad[3];
};
struct State {
  Timestamp first, last;
  std::uint32_t queries, responses, connections;
  Samples<5> names;
};

class IntelMatch final : public Detector {
 public:
  IntelMatch(const IntelMatchSettings& s, std::shared_ptr<const IntelLists> lists)
      : allow_(s.allow), lists_(std::move(lists)), pairs_(s.max_keys) {}

  const RuleInfo& info() const noexcept override { return kInfo; }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (!lists_ || lists_->empty() || allow_.allows(ev)) return;
    // Cheap when nothing matches: suffix hashes of the name (precomputed by the pipeline) and
    // two binary searches over the address ranges.
    if (!ev.qname->empty())
      if (const Indicator* i = lists_->find(*ev.qname)) hit(ev, ctx, *i, Kind::domain);
    if (const Indicator* i = lists_->find(ev.server())) hit(ev, ctx, *i, Kind::server);
    if (const Indicator* i = lists_->find(ev.client())) hit(ev, ctx, *i, Kind::client);
  }

  // Encrypted DNS (DoT) connection attempts: no name, but the server or client may be listed.
  void on_flow(const sensor::FlowEvent& f, Context& ctx) override {
    if (!lists_ || lists_->empty()) return;
    if (allow_.clients.contains(f.src) || allow_.servers.contains(f.dst)) return;
    if (const Indicator* i = lists_->find(f.dst)) flow_hit(f, ctx, *i, Kind::server);
    if (const Indicator* i = lists_->find(f.src)) flow_hit(f, ctx, *i, Kind::client);
  }

  DetectorStats stats() const override { return one_table_stats(kInfo, pairs_, evicted_, triggers_); }

 private:
  State& state(const IpAddr& client, const Indicator& i, Kind kind, Timestamp ts) {
    Key k{};
    k.client = client;
    k.indicator = lists_->id_of(i);
    k.kind = static_cast<std::uint8_t>(kind);
    auto [e, inserted] = pairs_.emplace(k, ts, [&](auto&) { ++evicted_; });
    if (inserted) e->value.first = ts;
    e->value.last = ts;
    return e->value;
  }

  void hit(const sensor::DnsEvent& ev, Context& ctx, const Indicator& i, Kind kind) {
    State& st = state(ev.client(), i, kind, ev.ts);
    ++(ev.is_response() ? st.responses : st.queries);
    if (!ev.qname->empty()) st.names.add(ev.qname->lower());
    // A resolver asking for a listed name does it for a user (whose own query is reported when
    // the sensor sees it); a listed host that only sends DNS is often an Internet scanner.
    const bool forwarded = ctx.client_resolver;
    const Severity sev = (kind == Kind::client || forwarded) ? Severity::medium : Severity::high;
    Alert a = alert_for(kInfo, ev, sev);
    std::string what;
    switch (kind) {
      case Kind::domain: what = "question name " + a.qname + " is under listed domain "; break;
      case Kind::server: what = "DNS with listed server " + text_of(ev.server()) + " matches "; break;
      case Kind::client: what = "DNS from listed address " + text_of(ev.client()) + " matches "; break;
    }
    a.reason = "threat intel: " + what + i.text + " (" + lists_->list_of(i).name + ")";
    if (forwarded && kind != Kind::client) a.reason += "; the client is a resolver (forwarding for its users)";
    raise(std::move(a), ctx, i, kind, st, forwarded);
  }

  void flow_hit(const sensor::FlowEvent& f, Context& ctx, const Indicator& i, Kind kind) {
    State& st = state(f.src, i, kind, f.ts);
    ++st.connections;
    Alert a;
    a.rule = &kInfo;
    a.ts = f.ts;
    a.severity = kind == Kind::client ? Severity::medium : Severity::high;
    a.has_client = a.has_server = true;
    a.client = f.src;
    a.client_port = f.sport;
    a.server = f.dst;
    a.server_port = f.dport;
    a.transport = f.transport == sensor::Transport::udp ? "udp" : "tcp";
    a.reason = "threat intel: encrypted DNS connection " + std::string(kind == Kind::server ? "to listed server " : "from listed address ") +
               text_of(kind == Kind::server ? f.dst : f.src) + " matches " + i.text + " (" + lists_->list_of(i).name + ")";
    raise(std::move(a), ctx, i, kind, st, false);
  }

  void raise(Alert&& a, Context& ctx, const Indicator& i, Kind kind, const State& st, bool forwarded) {
    ++triggers_;
    a.first_seen = st.first;
    a.last_seen = st.last;
    a.with("trigger", std::string(kind_name(kind)) + "_match")
        .with("indicator", i.text)
        .with("list", lists_->list_of(i).name)
        .with("match", std::string(kind_name(kind)))
        .with("queries", static_cast<std::int64_t>(st.queries))
        .with("responses", static_cast<std::int64_t>(st.responses));
    if (st.connections != 0) a.with("encrypted_connections", static_cast<std::int64_t>(st.connections));
    if (forwarded) a.with("client_is_resolver", true);
    a.samples = st.names.list(ctx.samples);
    // One alert per (client, indicator) per suppression period; later matches feed its summary.
    const std::uint64_t key = rule_key(kInfo, hash(a.client, lists_->id_of(i)));
    ctx.raiser.raise(std::move(a), key);
  }

  AllowMatcher allow_;
  std::shared_ptr<const IntelLists> lists_;
  sensor::LruTable<Key, State> pairs_;
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& intel_match_info() { return kInfo; }
std::unique_ptr<Detector> make_intel_match(const IntelMatchSettings& s, const IntelSettings& intel) {
  return std::make_unique<IntelMatch>(s, intel.lists);
}

}  // namespace dnsvigil::detect::rules
