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
#include "dnsvigil/detect/sketch.hpp"
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
  std::uint32_t previous;  // the window before, when it ended where this one began (else 0)
  std::uint32_t previous_servers;  // and its distinct servers
  std::uint32_t servers[kServers];
  std::uint8_t nservers;  // distinct servers, saturating at kServers
  bool txid_raised, reflection_raised;
  Question questions[kQuestions];  // by question and client port (guessing aims at one port)
  Question asked[kQuestions];      // by question only (a reflection repeats a few amplifying ones)
  Hll<6> server_sketch;            // distinct servers past kServers
  std::uint64_t octets;
  Samples<5> samples;
};

// Counts `q` in a small space-saving table: a free slot, or the least counted one is reused.
Question& count_in(Question (&table)[kQuestions], std::uint32_t q) noexcept {
  Question* slot = &table[0];
  for (Question& c : table) {
    if (c.count != 0 && c.hash == q) {
      slot = &c;
      break;
    }
    if (c.count < slot->count) slot = &c;
  }
  if (slot->hash != q || slot->count == 0) *slot = {q, 0};
  ++slot->count;
  return *slot;
}

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
    a.reason = "conflicting_answers: two responses with different answers to one query for " + std::string(ev.qname->lower()) +
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
    a.reason = "wrong_source: response for " + std::string(ev.qname->lower()) + " to " + text_of(ev.client()) + " came from " +
               text_of(ev.server()) + ", but the query went to " + text_of(ev.queried_server);
    a.with("queried_server", text_of(ev.queried_server)).with("answers", answer_addresses(*ev.msg));
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.client(), hash(ev.server(), 1))));
  }

  void unsolicited(const sensor::DnsEvent& ev, Context& ctx) {
    // Where the sensor sees one direction only (see on_tick) every response is unsolicited:
    // only a reflection, with its own evidence (many servers, a few repeated questions), is
    // judged there.
    const bool two_way = last_matched_ != 0 && ev.ts <= last_matched_ + 2 * s_.window;
    const IpAddr& client = ev.client();
    auto [e, inserted] = clients_.emplace({client}, ev.ts, [&](auto&) { ++evicted_; });
    State& st = e->value;
    if (inserted || ev.ts >= st.start + s_.window) {
      const bool adjacent = !inserted && ev.ts < st.start + 2 * s_.window;
      const std::uint32_t previous = adjacent ? st.unsolicited : 0;
      const auto previous_servers = adjacent ? static_cast<std::uint32_t>(servers_of(st) + 0.5) : 0;
      st = State{};
      st.start = ev.ts;
      st.previous = previous;
      st.previous_servers = previous_servers;
    }
    ++st.unsolicited;
    st.octets += ev.size;
    const std::uint64_t server_hash = hash(ev.server());
    const auto server = static_cast<std::uint32_t>(server_hash);
    if (std::find(st.servers, st.servers + st.nservers, server) == st.servers + st.nservers && st.nservers < kServers)
      st.servers[st.nservers++] = server;
    st.server_sketch.add(server_hash);
    st.samples.add(ev.qname->lower());

    // The count of this question to this client port. Guessing targets the one port a query
    // waits on; a reflection flood's responses go to whatever ports the spoofed queries carried.
    const std::uint64_t type_port = std::uint64_t{ev.msg->question().type} << 16 | ev.client_port();
    const auto q = static_cast<std::uint32_t>(ev.qname->hash() ^ (type_port * 0x9E3779B97F4A7C15ULL));
    const Question& slot = count_in(st.questions, q);
    const std::uint64_t type = std::uint64_t{ev.msg->question().type} << 16;
    count_in(st.asked, static_cast<std::uint32_t>(ev.qname->hash() ^ (type * 0x9E3779B97F4A7C15ULL)));

    if (!two_way) {
      one_way_reflection(ev, st, ctx);
      return;
    }
    if (!st.txid_raised && slot.count >= s_.txid_mismatch) {
      st.txid_raised = true;
      Alert a = make(ev, Trigger::txid_mismatch, Severity::high);
      a.first_seen = st.start;
      a.reason = "txid_mismatch: " + std::to_string(slot.count) + " responses for " + std::string(ev.qname->lower()) + " to " +
                 text_of(client) + " port " + std::to_string(ev.client_port()) + " matched no query within " +
                 window_text() + " (transaction ids being guessed)";
      a.with("responses", static_cast<std::int64_t>(slot.count))
          .with("threshold", static_cast<std::int64_t>(s_.txid_mismatch))
          .with("answers", answer_addresses(*ev.msg));
      ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, 2)));
    }
    if (const std::uint32_t n = recent(st, ev.ts); !st.reflection_raised && n >= s_.reflection) {
      st.reflection_raised = true;
      Alert a = make(ev, Trigger::reflection, Severity::medium);
      a.first_seen = st.start;
      a.reason = "reflection: " + std::to_string(n) + " responses from " + std::to_string(st.nservers) +
                 (st.nservers == kServers ? "+" : "") + " servers to " + text_of(client) +
                 ", which sent no matching query, within " + window_text() + " (threshold " +
                 std::to_string(s_.reflection) + ")";
      reflection_evidence(a, st, n);
      a.samples = st.samples.list(ctx.samples);
      ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, 3)));
    }
  }

  // Distinct servers of this window: exact up to kServers, then the sketch.
  static double servers_of(const State& st) {
    return st.nservers < kServers ? st.nservers : std::max<double>(kServers, st.server_sketch.estimate());
  }
  // Of this window or the one before it (the sliding count's other part), whichever had more.
  static double recent_servers(const State& st) {
    return std::max(servers_of(st), static_cast<double>(st.previous_servers));
  }
  // Share of the responses that repeat the few most asked questions.
  static double top_share(const State& st) {
    std::uint64_t top = 0;
    for (const Question& c : st.asked) top += c.count;
    return st.unsolicited ? static_cast<double>(top) / static_cast<double>(st.unsolicited) : 0.0;
  }
  // Responses in the last window, sliding: this window's count and the previous window's weighted
  // by how much of it the last `window` still covers (fixed windows let a flood that straddles
  // their boundary split under the threshold: 505 responses within 10 s counted 497 and 253).
  std::uint32_t recent(const State& st, Timestamp now) const {
    const Timestamp into = std::min<Timestamp>(now - st.start, s_.window);
    return st.unsolicited + static_cast<std::uint32_t>(static_cast<double>(st.previous) *
                                                       static_cast<double>(s_.window - into) /
                                                       static_cast<double>(s_.window));
  }
  void reflection_evidence(Alert& a, const State& st, std::uint32_t responses) const {
    a.with("responses", static_cast<std::int64_t>(responses))
        .with("servers", static_cast<std::int64_t>(recent_servers(st) + 0.5))
        .with("top_questions_share", top_share(st))
        .with("mean_octets", st.unsolicited ? static_cast<double>(st.octets) / st.unsolicited : 0.0)
        .with("threshold", static_cast<std::int64_t>(s_.reflection))
        .with("threshold_servers", static_cast<std::int64_t>(s_.reflection_servers));
  }

  // A reflection seen from one side: the flood of responses from many different servers is
  // the whole attack, so it is judged even where queries are not visible. What keeps a busy
  // resolver's inbound answers (also from many servers, also without visible queries) apart:
  // a reflection repeats a few amplifying questions.
  void one_way_reflection(const sensor::DnsEvent& ev, State& st, Context& ctx) {
    const std::uint32_t n = recent(st, ev.ts);
    if (st.reflection_raised || n < s_.reflection) return;
    const double servers = recent_servers(st);
    if (servers + 0.5 < static_cast<double>(s_.reflection_servers) || top_share(st) < 0.5) return;
    st.reflection_raised = true;
    Alert a = make(ev, Trigger::reflection, Severity::medium);
    a.first_seen = st.start;
    a.reason = "reflection: " + std::to_string(n) + " unsolicited responses from about " +
               std::to_string(static_cast<std::int64_t>(servers + 0.5)) + " servers to " + text_of(ev.client()) +
               " within " + window_text() + ", " + std::to_string(static_cast<int>(top_share(st) * 100)) +
               "% of them for the same few questions (thresholds " + std::to_string(s_.reflection) + " responses, " +
               std::to_string(s_.reflection_servers) + " servers; queries not visible here)";
    reflection_evidence(a, st, n);
    a.with("one_way", true);
    a.samples = st.samples.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.client(), 3)));
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
