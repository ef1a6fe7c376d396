// spoofed_response — T1557 (issue 7): forged DNS responses on the wire. Four signs, each its own
// trigger:
//   conflicting_answers  two responses to one query (sent once) whose answer records differ: the
//                        race an off-path attacker has to win against the real server
//   txid_mismatch        a burst of responses with one question toward one client port that
//                        match no query: transaction ids being guessed (Kaminsky-style poisoning)
//   wrong_source         a response that answers a pending query but comes from another address
//                        than the query went to
//   reflection           a flood of responses toward one address that asked nothing: its address
//                        was spoofed in queries to open resolvers or authoritative servers
// The sensor's transaction table (sensor/decode/src/transactions.cpp) does the matching; this
// rule keeps state only for clients that receive unsolicited responses.
#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

const RuleInfo kInfo{
    "spoofed_response", "dnsvigil-0010",
    "DNS responses that look forged: two different answers to one query, bursts of responses with guessed "
    "transaction ids, a response from another address than the query went to, or a flood of responses toward a "
    "host that asked nothing (reflection).",
    {"TA0006", "Credential Access", "T1557", "Adversary-in-the-Middle", "", ""}};

// Questions and servers remembered per client and window.
constexpr std::size_t kQuestions = 4, kServers = 8;

struct Question {
  std::uint32_t hash, count;
};
struct State {
  Timestamp start;  // start of the current window (the first unsolicited response in it)
  std::uint32_t unsolicited;
  std::uint32_t servers[kServers];
  std::uint8_t nservers;  // distinct servers, saturating at kServers
  bool txid_raised, reflection_raised;
  Question questions[kQuestions];
  Samples<5> samples;
};

enum class Trigger : std::uint8_t { conflicting_answers, txid_mismatch, wrong_source, reflection };
constexpr std::string_view kTriggerNames[] = {"conflicting_answers", "txid_mismatch", "wrong_source", "reflection"};

class SpoofedResponse final : public Detector {
 public:
  explicit SpoofedResponse(const SpoofedResponseSettings& s) : s_(s), allow_(s.allow), clients_(s.max_keys) {}

  const RuleInfo& info() const noexcept override { return kInfo; }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (!ev.is_response()) return;
    if (ev.matched && !ev.conflicting) {
      matched_now_ = true;
      return;
    }
    if (allow_.allows(ev)) return;
    if (ev.conflicting) {
      if (s_.conflicting_answers) conflicting(ev, ctx);
    } else if (ev.wrong_server) {
      if (s_.wrong_source) wrong_source(ev, ctx);
    } else {
      unsolicited(ev, ctx);
    }
  }

  void on_tick(Context& ctx) override {
    // The unsolicited counts mean something only where the sensor sees queries: a tap that
    // carries one direction only makes every response unsolicited. Matched responses within
    // the last two windows say both directions are visible.
    if (matched_now_) last_matched_ = ctx.now;
    matched_now_ = false;
  }

  DetectorStats stats() const override { return one_table_stats(kInfo, clients_, evicted_, triggers_); }

 private:
  Alert make(const sensor::DnsEvent& ev, Trigger t, Severity sev) {
    ++triggers_;
    Alert a = alert_for(kInfo, ev, sev);
    a.first_seen = a.last_seen = ev.ts;
    a.with("trigger", std::string(kTriggerNames[static_cast<int>(t)]));
    return a;
  }

  void conflicting(const sensor::DnsEvent& ev, Context& ctx) {
    Alert a = make(ev, Trigger::conflicting_answers, Severity::high);
    a.first_seen = ev.query_ts;
    a.reason = "two responses with different answers to one query for " + std::string(ev.qname->lower()) +
               " from " + text_of(ev.server()) + " to " + text_of(ev.client()) + " (a spoofed response racing the "
               "real one)";
    a.with("answers", answer_addresses(*ev.msg))
        .with("response_code", static_cast<std::int64_t>(ev.msg->rcode()))
        .with("latency_ms", static_cast<std::int64_t>((ev.ts - ev.query_ts) / 1'000'000));
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.client(), ev.qname->hash())));
  }

  void wrong_source(const sensor::DnsEvent& ev, Context& ctx) {
    const bool answers = ev.msg->header().ancount > 0;
    Alert a = make(ev, Trigger::wrong_source, answers ? Severity::high : Severity::medium);
    a.first_seen = ev.query_ts;
    a.reason = "response for " + std::string(ev.qname->lower()) + " to " + text_of(ev.client()) + " came from " +
               text_of(ev.server()) + ", but the query went to " + text_of(ev.queried_server);
    a.with("queried_server", text_of(ev.queried_server)).with("answers", answer_addresses(*ev.msg));
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.client(), hash(ev.server(), 1))));
  }

  void unsolicited(const sensor::DnsEvent& ev, Context& ctx) {
    if (last_matched_ == 0 || ev.ts > last_matched_ + 2 * s_.window) return;  // one-way view: see on_tick
    const IpAddr& client = ev.client();
    auto [e, inserted] = clients_.emplace({client}, ev.ts, [&](auto&) { ++evicted_; });
    State& st = e->value;
    if (inserted || ev.ts >= st.start + s_.window) {
      st = State{};
      st.start = ev.ts;
    }
    ++st.unsolicited;
    const auto server = static_cast<std::uint32_t>(hash(ev.server()));
    if (std::find(st.servers, st.servers + st.nservers, server) == st.servers + st.nservers && st.nservers < kServers)
      st.servers[st.nservers++] = server;
    st.samples.add(ev.qname->lower());

    // The count of this question to this client port (a free slot, or the least counted one is
    // reused). Guessing targets the one port a query waits on; a reflection flood's responses
    // go to whatever ports the spoofed queries carried.
    const std::uint64_t type_port = std::uint64_t{ev.msg->question().type} << 16 | ev.client_port();
    const auto q = static_cast<std::uint32_t>(ev.qname->hash() ^ (type_port * 0x9E3779B97F4A7C15ULL));
    Question* slot = &st.questions[0];
    for (Question& c : st.questions) {
      if (c.count != 0 && c.hash == q) {
        slot = &c;
        break;
      }
      if (c.count < slot->count) slot = &c;
    }
    if (slot->hash != q || slot->count == 0) *slot = {q, 0};
    ++slot->count;

    if (!st.txid_raised && slot->count >= s_.txid_mismatch) {
      st.txid_raised = true;
      Alert a = make(ev, Trigger::txid_mismatch, Severity::high);
      a.first_seen = st.start;
      a.reason = std::to_string(slot->count) + " responses for " + std::string(ev.qname->lower()) + " to " +
                 text_of(client) + " port " + std::to_string(ev.client_port()) + " matched no query within " +
                 window_text() + " (transaction ids being guessed)";
      a.with("responses", static_cast<std::int64_t>(slot->count))
          .with("threshold", static_cast<std::int64_t>(s_.txid_mismatch))
          .with("answers", answer_addresses(*ev.msg));
      ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, 2)));
    }
    if (!st.reflection_raised && st.unsolicited >= s_.reflection) {
      st.reflection_raised = true;
      Alert a = make(ev, Trigger::reflection, Severity::medium);
      a.first_seen = st.start;
      a.reason = std::to_string(st.unsolicited) + " responses from " + std::to_string(st.nservers) +
                 (st.nservers == kServers ? "+" : "") + " servers to " + text_of(client) +
                 ", which sent no matching query, within " + window_text() + " (reflection)";
      a.with("responses", static_cast<std::int64_t>(st.unsolicited))
          .with("servers", static_cast<std::int64_t>(st.nservers))
          .with("threshold", static_cast<std::int64_t>(s_.reflection));
      a.samples = st.samples.list(ctx.samples);
      ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, 3)));
    }
  }

  std::string window_text() const { return std::to_string(s_.window / kNanosPerSecond) + " s"; }

  SpoofedResponseSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<ClientKey, State> clients_;
  bool matched_now_ = false;
  Timestamp last_matched_ = 0;
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& spoofed_response_info() { return kInfo; }
std::unique_ptr<Detector> make_spoofed_response(const SpoofedResponseSettings& s) {
  return std::make_unique<SpoofedResponse>(s);
}

}  // namespace dnsvigil::detect::rules
