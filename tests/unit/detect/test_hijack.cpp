// answer_change and spoofed_response (issue 7) through the detection engine, on synthetic
// responses built record by record: learning and its period, each trigger, pools, declared
// values, escalation; conflicting/wrong-server/unsolicited markers and the one-way-view gate.
// The lab captures (pcaps/detect/{answer_change,spoofed_response}/) test them on real traffic.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "detect_fixture.hpp"
#include "dns_builder.hpp"
#include "dnsvigil/detect/engine.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/types.hpp"
#include "dnsvigil/sensor/names.hpp"

using namespace dnsvigil;
using namespace dnsvigil::detect;
using dnsvigil::test::Wire;
using namespace dnsvigil::detect_test;
namespace rrtype = dnsvigil::dnsparse::rrtype;

namespace {



// One record of a response: owner, type, TTL and value (an address, or a target name).
struct Rec {
  std::string owner;
  std::uint16_t type;
  std::string value;
  std::uint32_t ttl = 3600;
};


void rdata(Wire& w, const Rec& r) {
  if (r.type == rrtype::A || r.type == rrtype::AAAA) {
    const auto a = ip(r.value);
    const std::size_t from = r.type == rrtype::A ? 12 : 0;
    for (std::size_t i = from; i < 16; ++i) w.u8(a.bytes[i]);
  } else if (r.type == rrtype::MX) {
    w.u16(10).name(r.value);
  } else {
    w.name(r.value);
  }
}

// A NOERROR response for `qname`/`qtype` with `answers` and `authority` records, from `server`
// to `client` (AA when `aa`).
std::unique_ptr<Event> response(Timestamp ts, const std::string& qname, std::uint16_t qtype,
                                const std::vector<Rec>& answers, const std::vector<Rec>& authority = {},
                                bool aa = true, std::string client = "10.20.1.10", std::string server = "10.20.0.53") {
  Wire w;
  w.header(0x4242, static_cast<std::uint16_t>(0x8180 | (aa ? 0x0400 : 0)), 1,
           static_cast<std::uint16_t>(answers.size()), static_cast<std::uint16_t>(authority.size()), 0);
  w.name(qname).qtc(qtype);
  for (const auto* section : {&answers, &authority})
    for (const Rec& r : *section) {
      w.name(r.owner).rr_fixed(r.type, 1, r.ttl);
      rdata(w, r);
      w.fix_rdlength();
    }
  auto e = parsed(w);
  auto& ev = e->ev;
  ev.ts = ts;
  ev.src = ip(server);
  ev.dst = ip(client);
  ev.sport = 53;
  ev.dport = 40000;
  ev.ip_version = 4;
  ev.matched = true;
  ev.query_ts = ts - kSec / 100;
  return e;
}

struct Sink : AlertSink {
  std::vector<Alert> alerts;
  void emit(const Alert& a) override {
    if (!a.summary) alerts.push_back(a);
  }
};


void feed(Engine& engine, const Event& e) {
  engine.on_event(e.ev);
  engine.on_tick(e.ev.ts);
}

// Only the rule under test, with the lab's monitored zone.
DetectorSettings only(bool answer_change) {
  DetectorSettings s;
  s.zone_transfer.enabled = s.enumeration.enabled = s.recon_sweep.enabled = s.rogue_resolver.enabled = false;
  s.tunneling.enabled = s.beaconing.enabled = s.cache_snooping.enabled = s.resolver_switch.enabled = false;
  if constexpr (requires { s.intel_match.enabled; }) s.intel_match.enabled = false;
  s.answer_change.enabled = answer_change;
  s.spoofed_response.enabled = !answer_change;
  s.network.monitored_zones = {"example.org"};
  s.answer_change.learning_period = 60 * kSec;
  return s;
}

const std::vector<Rec> kApexNs{{"example.org", rrtype::NS, "ns1.example.org"},
                               {"example.org", rrtype::NS, "ns2.example.org"}};

// Lookups of www (A) and the apex NS every 10 s from `from` to `to`.
void lookups(Engine& engine, Timestamp from, Timestamp to, const std::string& www, const std::vector<Rec>& ns = kApexNs,
             std::uint32_t ttl = 3600) {
  for (Timestamp t = from; t < to; t += 10 * kSec) {
    feed(engine, *response(t, "www.example.org", rrtype::A, {{"www.example.org", rrtype::A, www, ttl}}, kApexNs));
    feed(engine, *response(t + kSec, "example.org", rrtype::NS, ns));
  }
}

}  // namespace

TEST_CASE("answer_change: values learned in the learning period are the baseline; a later new one alerts",
          "[detect][answer_change]") {
  Sink sink;
  Engine engine(only(true), sink);
  lookups(engine, kT0, kT0 + 50 * kSec, "198.51.100.80");
  // A second address inside the learning period is learned, not reported.
  lookups(engine, kT0 + 50 * kSec, kT0 + 60 * kSec, "198.51.100.81");
  CHECK(sink.alerts.empty());
  lookups(engine, kT0 + 70 * kSec, kT0 + 100 * kSec, "198.51.100.80");
  CHECK(sink.alerts.empty());
  // After learning: a new address alerts once, however often it is answered.
  lookups(engine, kT0 + 100 * kSec, kT0 + 200 * kSec, "203.0.113.80");
  REQUIRE(sink.alerts.size() == 1);
  const Alert& a = sink.alerts[0];
  CHECK(a.rule->name == "answer_change");
  CHECK(evidence_text(a, "trigger") == "new_address");
  CHECK(evidence_text(a, "record_name") == "www.example.org");
  CHECK(evidence_text(a, "value") == "203.0.113.80");
  CHECK(evidence_text(a, "zone") == "example.org");
  CHECK(a.severity == Severity::medium);
}

TEST_CASE("answer_change: a new name is learned, not reported; names outside the zones are ignored",
          "[detect][answer_change]") {
  Sink sink;
  Engine engine(only(true), sink);
  lookups(engine, kT0, kT0 + 100 * kSec, "198.51.100.80");
  feed(engine, *response(kT0 + 120 * kSec, "shop.example.org", rrtype::A, {{"shop.example.org", rrtype::A, "198.51.100.90"}}));
  feed(engine, *response(kT0 + 120 * kSec, "www.example.net", rrtype::A, {{"www.example.net", rrtype::A, "198.51.100.90"}}));
  feed(engine, *response(kT0 + 300 * kSec, "www.example.net", rrtype::A, {{"www.example.net", rrtype::A, "203.0.113.1"}}));
  CHECK(sink.alerts.empty());
}

TEST_CASE("answer_change: a hijack (new NS, glue, address) is high, and several changes escalate",
          "[detect][answer_change]") {
  Sink sink;
  Engine engine(only(true), sink);
  const auto glue = [&](Timestamp t, const std::string& a) {
    feed(engine, *response(t, "ns1.example.org", rrtype::A, {{"ns1.example.org", rrtype::A, a}}, kApexNs));
  };
  for (Timestamp t = kT0; t < kT0 + 100 * kSec; t += 10 * kSec) glue(t, "10.20.0.10");
  lookups(engine, kT0, kT0 + 100 * kSec, "198.51.100.80");
  REQUIRE(sink.alerts.empty());
  const std::vector<Rec> hijacked{{"example.org", rrtype::NS, "ns1.example.org"},
                                  {"example.org", rrtype::NS, "ns1.attacker-dns.net"}};
  lookups(engine, kT0 + 100 * kSec, kT0 + 110 * kSec, "198.51.100.80", hijacked);
  glue(kT0 + 115 * kSec, "203.0.113.53");
  lookups(engine, kT0 + 120 * kSec, kT0 + 130 * kSec, "203.0.113.80", hijacked);
  REQUIRE(sink.alerts.size() == 3);
  CHECK(evidence_text(sink.alerts[0], "trigger") == "new_nameserver");
  CHECK(evidence_text(sink.alerts[0], "value") == "ns1.attacker-dns.net");
  CHECK(sink.alerts[0].severity == Severity::high);
  CHECK(evidence_text(sink.alerts[1], "trigger") == "new_glue");
  CHECK(evidence_text(sink.alerts[1], "value") == "203.0.113.53");
  CHECK(evidence_text(sink.alerts[2], "trigger") == "new_address");
  CHECK(evidence_text(sink.alerts[2], "zone_changes_1h") == "3");
  CHECK(sink.alerts[2].severity == Severity::high);  // medium, escalated by the third change
}

TEST_CASE("answer_change: a public name now pointing inside is internal_address", "[detect][answer_change]") {
  Sink sink;
  Engine engine(only(true), sink);
  lookups(engine, kT0, kT0 + 100 * kSec, "198.51.100.81");
  lookups(engine, kT0 + 100 * kSec, kT0 + 110 * kSec, "10.20.9.9");
  REQUIRE(sink.alerts.size() == 1);
  CHECK(evidence_text(sink.alerts[0], "trigger") == "internal_address");
  CHECK(sink.alerts[0].severity == Severity::high);
}

TEST_CASE("answer_change: a sharp drop of the authoritative TTL alerts once; cached countdowns do not",
          "[detect][answer_change]") {
  Sink sink;
  Engine engine(only(true), sink);
  lookups(engine, kT0, kT0 + 100 * kSec, "198.51.100.80");
  // A resolver's cached answer (AA clear) with its TTL counted down to 30 s: not a drop.
  feed(engine, *response(kT0 + 101 * kSec, "www.example.org", rrtype::A, {{"www.example.org", rrtype::A, "198.51.100.80", 30}},
                         {}, false));
  CHECK(sink.alerts.empty());
  lookups(engine, kT0 + 110 * kSec, kT0 + 150 * kSec, "198.51.100.80", kApexNs, 60);
  REQUIRE(sink.alerts.size() == 1);
  CHECK(evidence_text(sink.alerts[0], "trigger") == "ttl_drop");
  CHECK(evidence_text(sink.alerts[0], "ttl") == "60");
  CHECK(evidence_text(sink.alerts[0], "learned_ttl") == "3600");
  CHECK(sink.alerts[0].severity == Severity::low);
}

TEST_CASE("answer_change: a rotating pool larger than the value set is not judged", "[detect][answer_change]") {
  Sink sink;
  Engine engine(only(true), sink);
  for (int i = 0; i < 12; ++i)
    lookups(engine, kT0 + i * 5 * kSec, kT0 + i * 5 * kSec + 1, "198.51.100." + std::to_string(10 + i));
  lookups(engine, kT0 + 100 * kSec, kT0 + 110 * kSec, "198.51.100.99");
  CHECK(sink.alerts.empty());
}

TEST_CASE("answer_change: declared name servers alert at once; declared address space never does",
          "[detect][answer_change]") {
  Sink sink;
  DetectorSettings s = only(true);
  s.answer_change.nameservers = {"ns1.example.org.", "NS2.example.org"};
  s.answer_change.allowed_addresses = {*sensor::Prefix::parse("203.0.113.0/24")};
  Engine engine(s, sink);
  lookups(engine, kT0, kT0 + 30 * kSec, "198.51.100.80");
  CHECK(sink.alerts.empty());  // declared names match whatever their case and trailing dot
  lookups(engine, kT0 + 30 * kSec, kT0 + 40 * kSec, "198.51.100.80",
          {{"example.org", rrtype::NS, "ns1.example.org"}, {"example.org", rrtype::NS, "ns9.example.org"}});
  REQUIRE(sink.alerts.size() == 1);  // inside the learning period
  CHECK(evidence_text(sink.alerts[0], "trigger") == "new_nameserver");
  lookups(engine, kT0 + 100 * kSec, kT0 + 110 * kSec, "203.0.113.80");
  CHECK(sink.alerts.size() == 1);
}

// --- spoofed_response

TEST_CASE("spoofed_response: conflicting answers alert; a plain duplicate does not", "[detect][spoofed_response]") {
  Sink sink;
  Engine engine(only(false), sink);
  auto dup = response(kT0, "www.example.com", rrtype::A, {{"www.example.com", rrtype::A, "10.20.2.80"}});
  dup->ev.duplicate = true;
  feed(engine, *dup);
  CHECK(sink.alerts.empty());
  auto forged = response(kT0 + kSec, "www.example.com", rrtype::A, {{"www.example.com", rrtype::A, "203.0.113.99"}});
  forged->ev.duplicate = forged->ev.conflicting = true;
  feed(engine, *forged);
  REQUIRE(sink.alerts.size() == 1);
  CHECK(evidence_text(sink.alerts[0], "trigger") == "conflicting_answers");
  CHECK(sink.alerts[0].severity == Severity::high);
  CHECK(sink.alerts[0].client == ip("10.20.1.10"));
}

TEST_CASE("spoofed_response: a response from another address names the server queried", "[detect][spoofed_response]") {
  Sink sink;
  Engine engine(only(false), sink);
  auto r = response(kT0, "www.example.com", rrtype::A, {{"www.example.com", rrtype::A, "203.0.113.99"}}, {}, false,
                    "10.20.1.10", "10.20.0.99");
  r->ev.matched = false;
  r->ev.wrong_server = true;
  r->ev.queried_server = ip("10.20.0.53");
  feed(engine, *r);
  REQUIRE(sink.alerts.size() == 1);
  CHECK(evidence_text(sink.alerts[0], "trigger") == "wrong_source");
  CHECK(evidence_text(sink.alerts[0], "queried_server") == "10.20.0.53");
  CHECK(sink.alerts[0].server == ip("10.20.0.99"));
}

namespace {
// `n` unsolicited responses to 10.20.1.10 within a second, for one name or for n names.
void unsolicited(Engine& engine, Timestamp t, int n, bool one_question) {
  for (int i = 0; i < n; ++i) {
    const std::string name = one_question ? "www.example.com" : "n" + std::to_string(i) + ".example.com";
    auto r = response(t + i * (kSec / 1000), name, rrtype::A, {{name, rrtype::A, "203.0.113.99"}}, {}, false,
                      "10.20.1.10", i % 2 == 0 ? "8.8.8.8" : "1.1.1.1");
    r->ev.matched = false;
    feed(engine, *r);
  }
}
}  // namespace

TEST_CASE("spoofed_response: guessed transaction ids and reflection floods, once per window",
          "[detect][spoofed_response]") {
  Sink sink;
  Engine engine(only(false), sink);
  // The sensor sees both directions: a matched response first.
  feed(engine, *response(kT0, "example.com", rrtype::A, {}));
  unsolicited(engine, kT0 + 2 * kSec, 9, true);
  CHECK(sink.alerts.empty());
  unsolicited(engine, kT0 + 3 * kSec, 5, true);
  REQUIRE(sink.alerts.size() == 1);
  CHECK(evidence_text(sink.alerts[0], "trigger") == "txid_mismatch");
  CHECK(evidence_text(sink.alerts[0], "responses") == "10");
  unsolicited(engine, kT0 + 4 * kSec, 600, false);
  REQUIRE(sink.alerts.size() == 2);
  CHECK(evidence_text(sink.alerts[1], "trigger") == "reflection");
  CHECK(evidence_text(sink.alerts[1], "servers") == "2");
}

TEST_CASE("spoofed_response: unsolicited responses on a one-way view do not count", "[detect][spoofed_response]") {
  Sink sink;
  Engine engine(only(false), sink);
  unsolicited(engine, kT0, 600, true);
  CHECK(sink.alerts.empty());
}
