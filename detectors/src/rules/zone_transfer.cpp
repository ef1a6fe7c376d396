// zone_transfer — T1590.002: AXFR/IXFR (TCP or UDP) by a client that is not a sanctioned
// secondary, one alert per attempt once its outcome is known; and ANY sweeps.
#include "dnsvigil/detect/rules.hpp"

#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/window.hpp"
#include "dnsvigil/dnsparse/rdata.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

using dnsparse::rrtype::ANY;
using dnsparse::rrtype::AXFR;
using dnsparse::rrtype::IXFR;
using dnsparse::rrtype::SOA;

const RuleInfo kInfo{
    "zone_transfer", "dnsvigil-0001",
    "A zone transfer (AXFR/IXFR over TCP or UDP) requested by a host that is not a sanctioned secondary, or a "
    "sweep of ANY queries: the zone's whole contents may have been disclosed.",
    {"TA0043", "Reconnaissance", "T1590", "Gather Victim Network Information", "T1590.002", "DNS"}};

struct XferKey {
  IpAddr client, server;
  std::uint16_t client_port, server_port, id;
  std::uint8_t transport, pad;
};
struct XferState {
  Timestamp first, last;
  std::uint32_t messages, records, bytes, soas;
  std::uint32_t serial_first, serial_last, serial_asked;
  std::uint16_t qtype, rcode;
  bool query_seen, responded, has_serial_asked;
  FixedText<96> zone;
};
struct ClientKey {
  IpAddr client;
};
struct AnyBucket {
  std::uint32_t count;
};
struct AnyState {
  Ring<2, AnyBucket> ring;
  Samples<5> names;
  Timestamp first;
};

constexpr Timestamp kAnyBucket = 5 * kMinute;

class ZoneTransfer final : public Detector {
 public:
  explicit ZoneTransfer(const ZoneTransferSettings& s)
      : s_(s), allow_(s.allow), xfers_(std::min<std::uint64_t>(s.max_keys, 16384)), any_(s.max_keys) {}

  const RuleInfo& info() const noexcept override { return kInfo; }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (!ev.msg->has_question() && !ev.is_response()) return;
    if (allow_.allows(ev)) return;
    const std::uint16_t qtype = ev.msg->has_question() ? ev.msg->question().type : 0;
    if (!ev.is_response()) {
      if (qtype == AXFR || qtype == IXFR) on_transfer_query(ev, ctx);
      if (qtype == ANY) on_any(ev, ctx);
      return;
    }
    on_response(ev, ctx);
  }

  void on_unanswered(const sensor::UnansweredQuery& q, Context& ctx) override {
    if (q.qtype != AXFR && q.qtype != IXFR) return;
    XferKey k{q.client, q.server, q.client_port, q.server_port, q.id, static_cast<std::uint8_t>(q.transport), 0};
    if (auto* e = xfers_.find(k)) {
      finish(e->key, e->value, ctx, "no_response");
      xfers_.erase(e);
    }
  }

  void on_tick(Context& ctx) override {
    // A transfer that has been quiet for transfer_idle is over (complete or cut).
    xfers_.expire(ctx.now - s_.transfer_idle, [&](auto& e) { finish(e.key, e.value, ctx, nullptr); });
  }

  DetectorStats stats() const override {
    DetectorStats st;
    st.rule = kInfo.name;
    table_stats(st, xfers_, evicted_);
    table_stats(st, any_, 0);
    st.triggers = triggers_;
    return st;
  }

 private:
  static XferKey key_of(const sensor::DnsEvent& ev) {
    return {ev.client(), ev.server(), ev.client_port(), ev.server_port(), ev.msg->header().id,
            static_cast<std::uint8_t>(ev.transport), 0};
  }

  void on_transfer_query(const sensor::DnsEvent& ev, Context& ctx) {
    if (ctx.policy.secondary(ev.src) || exempt_recon_client(ctx.policy, ev.src)) return;
    auto [e, inserted] = xfers_.emplace(key_of(ev), ev.ts, [&](auto& victim) {
      ++evicted_;
      finish(victim.key, victim.value, ctx, nullptr);
    });
    if (!inserted) return;
    XferState& x = e->value;
    x.first = x.last = ev.ts;
    x.qtype = ev.msg->question().type;
    x.query_seen = true;
    x.zone.set(ev.qname->lower());
    // IXFR queries carry the client's current SOA in the authority section (RFC 1995 §3).
    for (const auto& rr : ev.msg->records(dnsparse::Section::authority)) {
      if (rr.type != SOA) continue;
      const auto soa = dnsparse::rdata::soa(*ev.msg, rr);
      if (soa.ok()) {
        x.serial_asked = soa.value.serial;
        x.has_serial_asked = true;
      }
    }
  }

  void on_response(const sensor::DnsEvent& ev, Context& ctx) {
    // Messages of a transfer carry its AXFR/IXFR question or none (RFC 5936 §2.2): any other
    // response needs no lookup.
    if (ev.msg->has_question() && ev.msg->question().type != AXFR && ev.msg->question().type != IXFR) return;
    const XferKey k = key_of(ev);
    auto* e = xfers_.find(k);
    if (e == nullptr) {
      // The query was not seen (asymmetric tap, capture started late): start from the answer.
      if (!ev.msg->has_question()) return;
      const std::uint16_t qtype = ev.msg->question().type;
      if (qtype != AXFR && qtype != IXFR) return;
      if (ctx.policy.secondary(k.client) || exempt_recon_client(ctx.policy, k.client)) return;
      e = xfers_.emplace(k, ev.ts, [&](auto& victim) {
                  ++evicted_;
                  finish(victim.key, victim.value, ctx, nullptr);
                }).first;
      e->value.first = ev.ts;
      e->value.qtype = qtype;
      e->value.zone.set(ev.qname->lower());
    }
    xfers_.use(e, ev.ts);
    XferState& x = e->value;
    x.last = ev.ts;
    x.responded = true;
    ++x.messages;
    x.bytes += static_cast<std::uint32_t>(ev.size);
    x.rcode = ev.msg->rcode();
    for (const auto& rr : ev.msg->records(dnsparse::Section::answer)) {
      ++x.records;
      if (rr.type != SOA) continue;
      const auto soa = dnsparse::rdata::soa(*ev.msg, rr);
      if (!soa.ok()) continue;
      if (x.soas++ == 0) x.serial_first = soa.value.serial;
      x.serial_last = soa.value.serial;
    }
    const char* outcome = nullptr;
    if (x.rcode != dnsparse::rcode::NOERROR) {
      outcome = x.rcode == dnsparse::rcode::REFUSED || x.rcode == dnsparse::rcode::NOTAUTH ? "refused" : "failed";
    } else if (x.qtype == AXFR && x.soas >= 2) {
      outcome = "transferred";  // RFC 5936: the zone ends with its SOA again
    } else if (x.qtype == IXFR && (x.soas >= 2 ? x.serial_last == x.serial_first : x.records == 1 && x.soas == 1)) {
      // A lone SOA (RFC 1995 §2, §4): the asker is up to date, unless the server's serial is
      // newer than the one asked (RFC 1982 order), which means "ask again over TCP".
      const bool newer = x.has_serial_asked && static_cast<std::int32_t>(x.serial_last - x.serial_asked) > 0;
      outcome = x.soas >= 2 ? "transferred" : newer ? "newer_serial" : "up_to_date";
    } else if (x.qtype == IXFR && ev.transport == sensor::Transport::udp) {
      outcome = ev.msg->header().tc() ? "truncated" : "transferred";
    }
    if (outcome != nullptr) {
      finish(e->key, x, ctx, outcome);
      xfers_.erase(e);
    }
  }

  void finish(const XferKey& k, const XferState& x, Context& ctx, const char* outcome) {
    ++triggers_;
    std::string out = outcome != nullptr ? outcome : (!x.responded ? "no_response" : x.records > 0 ? "partial" : "failed");
    const bool leaked = x.records > 1 && (out == "transferred" || out == "partial");
    Alert a;
    a.rule = &kInfo;
    a.ts = x.last;
    a.severity = leaked ? Severity::high : Severity::medium;
    a.has_client = a.has_server = true;
    a.client = k.client;
    a.server = k.server;
    a.client_port = k.client_port;
    a.server_port = k.server_port;
    a.transport = k.transport == 0 ? "udp" : "tcp";
    a.qname = x.zone.str();
    a.registered_domain = a.qname;
    a.qtype = x.qtype;
    a.first_seen = x.first;
    a.last_seen = x.last;
    const bool insider = ctx.policy.internal(k.client);
    a.reason = type_text(x.qtype) + " of " + a.qname + " by " + (insider ? "internal" : "external") +
               " host that is not a sanctioned secondary: " + out;
    if (leaked) a.reason += " (" + std::to_string(x.records) + " records, " + std::to_string(x.bytes) + " octets)";
    a.with("trigger", type_text(x.qtype) == "IXFR" ? std::string("ixfr_request") : std::string("axfr_request"))
        .with("outcome", out)
        .with("insider", insider)
        .with("messages", std::int64_t{x.messages})
        .with("records", std::int64_t{x.records})
        .with("bytes", std::int64_t{x.bytes})
        .with("response_code", std::string(dnsparse::Mnemonic::rcode(x.rcode).view()))
        .with("query_seen", x.query_seen);
    if (x.soas != 0) a.with("serial_first", std::int64_t{x.serial_first}).with("serial_last", std::int64_t{x.serial_last});
    if (x.has_serial_asked) a.with("serial_asked", std::int64_t{x.serial_asked});
    const std::uint64_t key = rule_key(kInfo, hash(k.client, hash(k.server, hash(x.zone.view()))));
    ctx.raiser.raise(std::move(a), key);
  }

  void on_any(const sensor::DnsEvent& ev, Context& ctx) {
    if (exempt_recon_client(ctx.policy, ev.src) || ctx.client_resolver) return;
    auto [e, inserted] = any_.emplace({ev.src}, ev.ts, [](auto&) {});
    AnyState& st = e->value;
    if (inserted) st.first = ev.ts;
    st.ring.at(period_of(ev.ts, kAnyBucket), [](AnyBucket& b) { b.count = 0; }).count++;
    st.names.add(ev.qname->lower());
    std::uint64_t n = 0;
    st.ring.recent(period_of(ev.ts, kAnyBucket), 2, [&](const AnyBucket& b) { n += b.count; });
    if (n < s_.any_sweep) return;
    ++triggers_;
    Alert a = alert_for(kInfo, ev, Severity::low);
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    a.reason = std::to_string(n) + " ANY queries in 10 min from one client (sweep threshold " +
               std::to_string(s_.any_sweep) + ")";
    a.with("trigger", std::string("any_sweep"))
        .with("outcome", std::string("any_sweep"))
        .with("any_queries_10m", static_cast<std::int64_t>(n))
        .with("threshold", static_cast<std::int64_t>(s_.any_sweep));
    a.samples = st.names.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.src, 0xA11)));
  }

  ZoneTransferSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<XferKey, XferState> xfers_;
  sensor::LruTable<ClientKey, AnyState> any_;
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& zone_transfer_info() { return kInfo; }
std::unique_ptr<Detector> make_zone_transfer(const ZoneTransferSettings& s) { return std::make_unique<ZoneTransfer>(s); }

}  // namespace dnsvigil::detect::rules
