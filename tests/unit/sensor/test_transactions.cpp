// TransactionTable: query/response matching on 5-tuple, id and question; duplicates, zone
// transfers, unanswered queries on expiry (with their name), and eviction.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "dnsvigil/sensor/names.hpp"
#include "dnsvigil/sensor/transactions.hpp"

using namespace dnsvigil::sensor;
using namespace dnsvigil::test;
namespace dp = dnsvigil::dnsparse;

namespace {

constexpr Timestamp kSec = kNanosPerSecond;
constexpr Timestamp kT0 = 1'795'458'981 * kSec + 854'506'000;  // the lab query's packet time

// A DnsEvent over its own parsed message (points into this object: do not move it).
struct Ev {
  Octets wire;
  dp::Message msg;
  QueryName qname;
  DnsEvent ev;

  Ev(Octets w, Timestamp ts, bool from_client, Transport t = Transport::udp, std::uint16_t client_port = 34007)
      : wire(std::move(w)) {
    REQUIRE(dp::Message::parse(dp::Bytes{wire}, msg) == dp::Error::ok);
    qname.set(msg, nullptr);
    ev.ts = ts;
    ev.msg = &msg;
    ev.qname = &qname;
    ev.transport = t;
    const IpAddr client = addr("10.20.1.11"), server = addr("10.20.0.53");
    ev.src = from_client ? client : server;
    ev.dst = from_client ? server : client;
    ev.sport = from_client ? client_port : 53;
    ev.dport = from_client ? 53 : client_port;
  }
  Ev(const Ev&) = delete;
};

struct Sink final : EventSink {
  struct Unanswered {
    Timestamp query_ts, expired_ts;
    IpAddr client, server;
    std::uint16_t client_port, server_port, id, qtype, qclass;
    Transport transport;
    std::string name;
    bool cut;
  };
  std::vector<Unanswered> unanswered;
  void on_event(const DnsEvent&) override {}
  void on_unanswered(const UnansweredQuery& q) override {
    unanswered.push_back({q.query_ts, q.expired_ts, q.client, q.server, q.client_port, q.server_port, q.id, q.qtype,
                          q.qclass, q.transport, std::string(q.name), q.name_cut});
  }
};

}  // namespace

TEST_CASE("transactions: the lab's query and answer match, with the query time", "[tx]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q(kLabQuery, kT0, true);
  Ev r(kLabResponse, kT0 + 2'742'000, false);
  t.on_query(q.ev);
  CHECK(t.pending() == 1);
  const auto m = t.on_response(r.ev);
  CHECK(m.matched);
  CHECK_FALSE(m.duplicate);
  CHECK(m.query_ts == kT0);
  CHECK(c.get(Counter::tx_matched) == 1);
  CHECK(c.get(Counter::tx_unsolicited) == 0);
  // The answered query leaves the pending table; a record of it stays for duplicates.
  CHECK(t.pending() == 0);
  CHECK(t.answered() == 1);
}

TEST_CASE("transactions: a response that differs in question, port, id or transport is unsolicited", "[tx]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q(query(0x1234, "www.example.com", 1), kT0, true);
  t.on_query(q.ev);
  Ev other_name(response(0x1234, "www.example.net", 1), kT0 + 1, false);
  Ev other_type(response(0x1234, "www.example.com", 28), kT0 + 1, false);
  Ev other_id(response(0x1235, "www.example.com", 1), kT0 + 1, false);
  Ev other_port(response(0x1234, "www.example.com", 1), kT0 + 1, false, Transport::udp, 34008);
  Ev over_tcp(response(0x1234, "www.example.com", 1), kT0 + 1, false, Transport::tcp);
  for (Ev* r : {&other_name, &other_type, &other_id, &other_port, &over_tcp}) CHECK_FALSE(t.on_response(r->ev).matched);
  CHECK(c.get(Counter::tx_unsolicited) == 5);
  CHECK(c.get(Counter::tx_matched) == 0);
  // Case differs (0x20 randomisation): still the same question.
  Ev mixed(response(0x1234, "WwW.ExAmPlE.CoM", 1), kT0 + 2, false);
  CHECK(t.on_response(mixed.ev).matched);
  CHECK(c.get(Counter::tx_matched) == 1);
}

TEST_CASE("transactions: a second answer to an answered query is flagged duplicate", "[tx]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q(kLabQuery, kT0, true);
  t.on_query(q.ev);
  Ev r1(kLabResponse, kT0 + 1000, false);
  Ev r2(kLabResponse, kT0 + 2000, false);
  CHECK_FALSE(t.on_response(r1.ev).duplicate);
  const auto m2 = t.on_response(r2.ev);
  CHECK(m2.matched);
  CHECK(m2.duplicate);
  CHECK(m2.query_ts == kT0);
  CHECK(c.get(Counter::tx_matched) == 1);
}

TEST_CASE("transactions: a duplicate with other answer records is conflicting, a reordered one is not", "[tx][spoof]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q(query(0x1234, "www.example.com"), kT0, true);
  t.on_query(q.ev);
  // Two A records 192.0.2.0 and .1; the same set with the records swapped (servers rotate RRsets)
  // and a TTL counted down; then a set with one record only (what a forger sends).
  Octets two = response(0x1234, "www.example.com", 1, 2);
  Octets swapped = two;
  const std::size_t last = swapped.size() - 1, prev = last - 16;  // last octet of each address
  std::swap(swapped[last], swapped[prev]);
  swapped[prev - 7] = 0x01;  // TTL of the first record 300 -> 257 + ...: still the same set
  Ev r1(two, kT0 + 1000, false);
  Ev r2(swapped, kT0 + 2000, false);
  Ev r3(response(0x1234, "www.example.com", 1, 1), kT0 + 3000, false);
  CHECK_FALSE(t.on_response(r1.ev).duplicate);
  const auto m2 = t.on_response(r2.ev);
  CHECK(m2.duplicate);
  CHECK_FALSE(m2.conflicting);
  const auto m3 = t.on_response(r3.ev);
  CHECK(m3.duplicate);
  CHECK(m3.conflicting);
}

TEST_CASE("transactions: answers of a retransmitted query may differ without conflict", "[tx][spoof]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q1(query(0x1234, "www.example.com"), kT0, true);
  Ev q2(query(0x1234, "www.example.com"), kT0 + kSec, true);
  t.on_query(q1.ev);
  t.on_query(q2.ev);
  Ev r1(response(0x1234, "www.example.com", 1, 2), kT0 + kSec + 1000, false);
  Ev r2(response(0x1234, "www.example.com", 1, 1), kT0 + kSec + 2000, false);
  CHECK(t.on_response(r1.ev).matched);
  const auto m2 = t.on_response(r2.ev);
  CHECK(m2.duplicate);
  CHECK_FALSE(m2.conflicting);
}

TEST_CASE("transactions: a response from another address is wrong_server and leaves the query pending", "[tx][spoof]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q(query(0x1234, "www.example.com"), kT0, true);
  t.on_query(q.ev);
  Ev forged(response(0x1234, "www.example.com"), kT0 + 500, false);
  forged.ev.src = addr("10.20.0.99");
  const auto m = t.on_response(forged.ev);
  CHECK_FALSE(m.matched);
  CHECK(m.wrong_server);
  CHECK(m.queried_server == addr("10.20.0.53"));
  CHECK(m.query_ts == kT0);
  CHECK(c.get(Counter::tx_wrong_server) == 1);
  CHECK(t.pending() == 1);
  // The real answer still matches.
  Ev real(response(0x1234, "www.example.com"), kT0 + 900, false);
  const auto mr = t.on_response(real.ev);
  CHECK(mr.matched);
  CHECK_FALSE(mr.wrong_server);
  CHECK(t.pending() == 0);
}

TEST_CASE("transactions: a query sent to two servers from one port and id may be answered by either", "[tx][spoof]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q1(query(0x1234, "www.example.com"), kT0, true);
  Ev q2(query(0x1234, "www.example.com"), kT0 + kSec, true);
  q2.ev.dst = addr("10.20.0.54");
  t.on_query(q1.ev);
  t.on_query(q2.ev);
  Ev r(response(0x1234, "www.example.com"), kT0 + kSec + 500, false);
  r.ev.src = addr("10.20.0.54");
  const auto m = t.on_response(r.ev);
  CHECK(m.matched);
  CHECK_FALSE(m.wrong_server);
}

TEST_CASE("transactions: a retransmitted query keeps the first query's time", "[tx]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q1(kLabQuery, kT0, true);
  Ev q2(kLabQuery, kT0 + 1 * kSec, true);
  t.on_query(q1.ev);
  t.on_query(q2.ev);
  CHECK(t.pending() == 1);
  Ev r(kLabResponse, kT0 + 1 * kSec + 500, false);
  CHECK(t.on_response(r.ev).query_ts == kT0);
}

TEST_CASE("transactions: every message of a zone transfer matches, none is a duplicate", "[tx][axfr]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Ev q(query(0xaf01, "example.com", 252), kT0, true, Transport::tcp);
  t.on_query(q.ev);
  // First message with the question; continuation messages without one (RFC 5936 §2.2).
  Ev first(response(0xaf01, "example.com", 252, 5), kT0 + 1, false, Transport::tcp);
  Wire cont;
  cont.header(0xaf01, 0x8400, 0, 1, 0, 0).name("www.example.com").rr_fixed(1, 1, 60).bytes({192, 0, 2, 1}).fix_rdlength();
  std::vector<std::unique_ptr<Ev>> rest;
  for (int i = 0; i < 5; ++i) rest.push_back(std::make_unique<Ev>(cont.b, kT0 + 2 + i, false, Transport::tcp));
  const auto m = t.on_response(first.ev);
  CHECK(m.matched);
  CHECK(m.transfer);
  CHECK_FALSE(m.duplicate);
  for (auto& r : rest) {
    const auto mm = t.on_response(r->ev);
    CHECK(mm.matched);
    CHECK(mm.transfer);
    CHECK_FALSE(mm.duplicate);
  }
  CHECK(c.get(Counter::tx_matched) == 1);
  CHECK(c.get(Counter::tx_unsolicited) == 0);

  // A question-less response to an ordinary query does not match.
  Ev q2(query(0xaf01, "example.com", 1), kT0, true, Transport::udp);
  t.on_query(q2.ev);
  Ev stray(cont.b, kT0 + 1, false, Transport::udp);
  CHECK_FALSE(t.on_response(stray.ev).matched);
}

TEST_CASE("transactions: unanswered queries are reported on expiry with their name", "[tx]") {
  Counters c;
  TransactionLimits lim;
  lim.timeout = 5 * kSec;
  TransactionTable t(lim, c);
  Sink sink;
  Ev q(query(0x4242, "Beacon.Example.COM", 28), kT0, true);
  Ev answered_q(kLabQuery, kT0, true, Transport::udp, 40000);
  Ev answered_r(kLabResponse, kT0 + 10, false, Transport::udp, 40000);
  t.on_query(q.ev);
  t.on_query(answered_q.ev);
  (void)t.on_response(answered_r.ev);
  CHECK(t.pending() == 1);  // the answered one is no longer pending
  t.expire(kT0 + 5 * kSec, sink);  // not older than the timeout yet
  CHECK(sink.unanswered.empty());
  CHECK(t.pending() == 1);
  CHECK(t.answered() == 1);
  t.expire(kT0 + 5 * kSec + 1, sink);
  CHECK(t.pending() == 0);
  CHECK(t.answered() == 1);  // kept for `timeout` after its answer (kT0 + 10)
  t.expire(kT0 + 5 * kSec + 11, sink);
  CHECK(t.answered() == 0);
  REQUIRE(sink.unanswered.size() == 1);  // the answered one leaves silently
  const auto& u = sink.unanswered[0];
  CHECK(u.name == "beacon.example.com");
  CHECK_FALSE(u.cut);
  CHECK(u.query_ts == kT0);
  CHECK(u.expired_ts == kT0 + 5 * kSec + 1);
  CHECK(u.client == addr("10.20.1.11"));
  CHECK(u.server == addr("10.20.0.53"));
  CHECK(u.client_port == 34007);
  CHECK(u.server_port == 53);
  CHECK(u.id == 0x4242);
  CHECK(u.qtype == 28);
  CHECK(u.qclass == 1);
  CHECK(u.transport == Transport::udp);
  CHECK(c.get(Counter::tx_unanswered) == 1);
}

TEST_CASE("transactions: long names are cut to kMaxStoredName and flagged", "[tx]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Sink sink;
  const std::string l60(60, 'a'), l30(30, 'b');
  // 95 octets exactly: kept whole. 96 and 120: cut to 95.
  const std::string n95 = l60 + "." + std::string(22, 'c') + ".example.com";
  const std::string n96 = l60 + "." + std::string(23, 'c') + ".example.com";
  const std::string n120 = l60 + "." + l30 + "." + std::string(16, 'd') + ".example.com";
  REQUIRE(n95.size() == 95);
  REQUIRE(n96.size() == 96);
  REQUIRE(n120.size() == 120);
  Ev a(query(1, n95), kT0, true), b(query(2, n96), kT0 + 1, true), d(query(3, n120), kT0 + 2, true);
  for (Ev* e : {&a, &b, &d}) t.on_query(e->ev);
  t.flush(kT0 + 10, sink);
  REQUIRE(sink.unanswered.size() == 3);
  CHECK(sink.unanswered[0].name == n95);
  CHECK_FALSE(sink.unanswered[0].cut);
  CHECK(sink.unanswered[1].name == n96.substr(0, kMaxStoredName));
  CHECK(sink.unanswered[1].cut);
  CHECK(sink.unanswered[2].name == n120.substr(0, kMaxStoredName));
  CHECK(sink.unanswered[2].cut);
  CHECK(t.pending() == 0);
}

TEST_CASE("transactions: a full table evicts the oldest query and counts it", "[tx]") {
  Counters c;
  TransactionLimits lim;
  lim.max_pending = 2;
  TransactionTable t(lim, c);
  Ev q1(query(1, "one.example.com"), kT0, true), q2(query(2, "two.example.com"), kT0 + 1, true),
      q3(query(3, "three.example.com"), kT0 + 2, true), q4(query(4, "four.example.com"), kT0 + 5, true);
  t.on_query(q1.ev);
  t.on_query(q2.ev);
  Ev r2(response(2, "two.example.com"), kT0 + 3, false);
  CHECK(t.on_response(r2.ev).matched);
  t.on_query(q3.ev);  // q2 was answered and left: room for q3, nothing evicted
  CHECK(c.get(Counter::tx_evicted) == 0);
  CHECK(t.pending() == 2);
  t.on_query(q4.ev);  // evicts q1 (unanswered): counted
  CHECK(c.get(Counter::tx_evicted) == 1);
  CHECK(t.pending() == 2);
  Ev r1(response(1, "one.example.com"), kT0 + 6, false);
  CHECK_FALSE(t.on_response(r1.ev).matched);
  // The answered q2 is still recognised: a second answer is a duplicate.
  Ev r2b(response(2, "two.example.com"), kT0 + 7, false);
  CHECK(t.on_response(r2b.ev).duplicate);
}

TEST_CASE("transactions: answered queries do not crowd out unanswered ones", "[tx]") {
  // A busy link: many answered queries, then one that gets no answer. The answered ones leave
  // the pending table, so the unanswered one is reported at expiry, not evicted unseen.
  Counters c;
  TransactionLimits lim;
  lim.max_pending = 8;
  TransactionTable t(lim, c);
  Sink sink;
  Ev lost(query(0x7777, "lost.example.com"), kT0, true, Transport::udp, 50000);
  t.on_query(lost.ev);
  for (int i = 0; i < 100; ++i) {
    const std::string name = "n" + std::to_string(i) + ".example.com";
    Ev q(query(static_cast<std::uint16_t>(i), name), kT0 + 1 + i, true);
    Ev r(response(static_cast<std::uint16_t>(i), name), kT0 + 2 + i, false);
    t.on_query(q.ev);
    CHECK(t.on_response(r.ev).matched);
  }
  CHECK(c.get(Counter::tx_evicted) == 0);
  CHECK(t.pending() == 1);
  CHECK(t.answered() <= lim.max_pending);
  t.expire(kT0 + 6 * kSec, sink);
  REQUIRE(sink.unanswered.size() == 1);
  CHECK(sink.unanswered[0].id == 0x7777);
  CHECK(c.get(Counter::tx_matched) == 100);
}

TEST_CASE("transactions: a query without a question is not remembered", "[tx]") {
  Counters c;
  TransactionTable t(TransactionLimits{}, c);
  Wire w;
  w.header(9, 0x0100, 0, 0, 0, 0);
  Ev q(w.b, kT0, true);
  t.on_query(q.ev);
  CHECK(t.pending() == 0);
}
