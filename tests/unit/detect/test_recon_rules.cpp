// cache_snooping and resolver_switch (issue 7) through the detection engine, on synthetic
// queries and responses: the threshold and window of RD=0 names, every exemption (RD=1,
// non-resolver servers, monitored zones, authoritative role, resolver and scanner clients),
// cache hits; the established history, the deferral to rogue_resolver and the sanctioned
// resolvers never being a "new server"; recon_sweep's samples. The lab captures
// (pcaps/detect/{cache_snooping,resolver_switch,recon_sweep}/) test them on real traffic.
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

// The lab's addresses: sanctioned resolvers, a probing/switching workstation, another
// workstation (the rogue internal server), an internal authoritative-only server.
const std::string kResolver = "10.20.0.53", kResolver2 = "10.20.0.54";
const std::string kClient = "10.20.1.12", kRogue = "10.20.1.13", kAuth = "10.20.0.10";




// What a message looks like on the wire and where it travelled.
struct Msg {
  Timestamp ts = kT0;
  std::string client = kClient, server = kResolver;
  std::string name = "www.example.com";
  bool rd = false;
  bool response = false;
  std::uint16_t rcode = 0;
  int answers = 0;  // A records in the answer section (responses)
  std::uint16_t server_port = 53;
  std::uint16_t qtype = rrtype::A;
};

std::unique_ptr<Event> make(const Msg& m) {
  Wire w;
  std::uint16_t flags = m.rd ? 0x0100 : 0;
  if (m.response) flags = static_cast<std::uint16_t>(flags | 0x8000 | 0x0080 | m.rcode);  // QR RA rcode
  w.header(0x1234, flags, 1, static_cast<std::uint16_t>(m.answers), 0, 0);
  w.name(m.name).qtc(m.qtype);
  for (int i = 0; i < m.answers; ++i) {
    w.name(m.name).rr_fixed(rrtype::A, 1, 300);
    w.bytes({198, 51, 100, static_cast<std::uint8_t>(10 + i)});
    w.fix_rdlength();
  }
  auto e = parsed(w);
  auto& ev = e->ev;
  ev.ts = m.ts;
  ev.transport = sensor::Transport::udp;
  ev.src = ip(m.response ? m.server : m.client);
  ev.dst = ip(m.response ? m.client : m.server);
  ev.sport = m.response ? m.server_port : 40000;
  ev.dport = m.response ? 40000 : m.server_port;
  ev.ip_version = static_cast<std::uint8_t>(ev.src.family());
  ev.matched = m.response;
  ev.query_ts = m.response ? m.ts - kSec / 100 : 0;
  return e;
}

struct Sink : AlertSink {
  std::vector<Alert> alerts;
  void emit(const Alert& a) override {
    if (!a.summary) alerts.push_back(a);
  }
  [[nodiscard]] std::vector<Alert> of(std::string_view rule) const {
    std::vector<Alert> v;
    for (const auto& a : alerts)
      if (a.rule->name == rule) v.push_back(a);
    return v;
  }
};


void feed(Engine& engine, const Msg& m) {
  const auto e = make(m);
  engine.on_event(e->ev);
  engine.on_tick(e->ev.ts);
}

// Only `rule` (plus rogue_resolver when `rogue`), with the lab's sanctioned resolvers and
// monitored zone.
DetectorSettings only(std::string_view rule, bool rogue = false) {
  DetectorSettings s;
  s.zone_transfer.enabled = s.enumeration.enabled = s.recon_sweep.enabled = false;
  s.tunneling.enabled = s.beaconing.enabled = s.answer_change.enabled = s.spoofed_response.enabled = false;
  if constexpr (requires { s.intel_match.enabled; }) s.intel_match.enabled = false;
  s.recon_sweep.enabled = rule == "recon_sweep";
  s.cache_snooping.enabled = rule == "cache_snooping";
  s.resolver_switch.enabled = rule == "resolver_switch";
  s.rogue_resolver.enabled = rogue;
  s.network.resolvers = pfxs({"10.20.0.53/32", "10.20.0.54/32"});
  s.network.monitored_zones = {"example.org"};
  return s;
}

// ---- cache_snooping -----------------------------------------------------------------------

// `n` distinct RD=0 queries (probe0.example.com ...) from `client` to `server`, one every
// `step` starting at `from`.
void probes(Engine& engine, int n, Timestamp from = kT0, Timestamp step = kSec, const std::string& client = kClient,
            const std::string& server = kResolver, const std::string& prefix = "probe", bool rd = false,
            const std::string& zone = "example.com") {
  for (int i = 0; i < n; ++i)
    feed(engine, {.ts = from + i * step, .client = client, .server = server,
                  .name = prefix + std::to_string(i) + "." + zone, .rd = rd});
}

}  // namespace

TEST_CASE("cache_snooping: 10 distinct RD=0 names to a sanctioned resolver alert once", "[detect][cache_snooping]") {
  Sink sink;
  Engine engine(only("cache_snooping"), sink);
  probes(engine, 9);
  CHECK(sink.alerts.empty());
  probes(engine, 1, kT0 + 9 * kSec, kSec, kClient, kResolver, "tenth");
  REQUIRE(sink.alerts.size() == 1);
  const Alert& a = sink.alerts[0];
  CHECK(a.rule->name == "cache_snooping");
  CHECK(a.severity == Severity::medium);
  CHECK(a.client == ip(kClient));
  CHECK(a.server == ip(kResolver));
  CHECK(evidence_text(a, "distinct_names") == "10");
  CHECK(evidence_text(a, "threshold") == "10");
  CHECK(evidence_text(a, "window_s") == "600");
  CHECK(evidence_text(a, "queries") == "10");
  CHECK(evidence_text(a, "cache_hits") == "0");
  CHECK(evidence_text(a, "resolver") == kResolver);
  CHECK(a.first_seen == kT0);
  CHECK(a.last_seen == kT0 + 9 * kSec);
  // Later probes are suppressed (they feed the summary), not new alerts.
  probes(engine, 10, kT0 + 20 * kSec, kSec, kClient, kResolver, "more");
  CHECK(sink.alerts.size() == 1);
}

TEST_CASE("cache_snooping: 9 distinct names, or one name asked many times, stay silent", "[detect][cache_snooping]") {
  Sink sink;
  Engine engine(only("cache_snooping"), sink);
  probes(engine, 9);
  // Repeats of names already asked add no distinct name.
  probes(engine, 9, kT0 + 10 * kSec);
  for (int i = 0; i < 10; ++i) feed(engine, {.ts = kT0 + (30 + i) * kSec, .name = "probe0.example.com"});
  CHECK(sink.alerts.empty());
}

TEST_CASE("cache_snooping: RD=1 queries never count", "[detect][cache_snooping]") {
  Sink sink;
  Engine engine(only("cache_snooping"), sink);
  probes(engine, 20, kT0, kSec, kClient, kResolver, "recursive", true);
  CHECK(sink.alerts.empty());
  // 9 RD=0 names plus RD=1 ones: still below the threshold.
  probes(engine, 9, kT0 + 30 * kSec);
  probes(engine, 5, kT0 + 40 * kSec, kSec, kClient, kResolver, "again", true);
  CHECK(sink.alerts.empty());
}

TEST_CASE("cache_snooping: RD=0 to a server that is not a sanctioned resolver never counts",
          "[detect][cache_snooping]") {
  Sink sink;
  Engine engine(only("cache_snooping"), sink);
  probes(engine, 20, kT0, kSec, kClient, kAuth, "iter");
  probes(engine, 20, kT0 + 30 * kSec, kSec, kClient, "198.51.100.53", "public");
  CHECK(sink.alerts.empty());
  probes(engine, 9, kT0 + 60 * kSec);
  probes(engine, 5, kT0 + 70 * kSec, kSec, kClient, kAuth, "iter2");
  CHECK(sink.alerts.empty());
}

TEST_CASE("cache_snooping: names inside the monitored zones do not count", "[detect][cache_snooping]") {
  Sink sink;
  Engine engine(only("cache_snooping"), sink);
  probes(engine, 15, kT0, kSec, kClient, kResolver, "host", false, "example.org");
  CHECK(sink.alerts.empty());
  probes(engine, 9, kT0 + 20 * kSec);
  probes(engine, 5, kT0 + 30 * kSec, kSec, kClient, kResolver, "more", false, "example.org");
  CHECK(sink.alerts.empty());
  // The tenth name outside them alerts: 10 distinct, not 10 + the monitored ones.
  probes(engine, 1, kT0 + 40 * kSec, kSec, kClient, kResolver, "tenth");
  REQUIRE(sink.alerts.size() == 1);
  CHECK(evidence_text(sink.alerts[0], "distinct_names") == "10");
  CHECK(evidence_text(sink.alerts[0], "queries") == "10");
}

TEST_CASE("cache_snooping: silent when the sensor watches an authoritative server", "[detect][cache_snooping]") {
  Sink sink;
  DetectorSettings s = only("cache_snooping");
  s.network.role = Role::authoritative;
  Engine engine(s, sink);
  probes(engine, 20);
  CHECK(sink.alerts.empty());
}

TEST_CASE("cache_snooping: resolvers and scanners as clients are exempt", "[detect][cache_snooping]") {
  Sink sink;
  DetectorSettings s = only("cache_snooping");
  s.network.scanners = pfxs({"10.20.1.200/32"});
  Engine engine(s, sink);
  // A sanctioned resolver asking another without recursion (forwarder, iterative traffic).
  probes(engine, 20, kT0, kSec, kResolver2, kResolver);
  // An authorised scanner.
  probes(engine, 20, kT0, kSec, "10.20.1.200", kResolver);
  CHECK(sink.alerts.empty());
  // The same probes from an ordinary workstation do alert.
  probes(engine, 10, kT0 + 30 * kSec, kSec, "10.20.1.201", kResolver);
  REQUIRE(sink.alerts.size() == 1);
  CHECK(sink.alerts[0].client == ip("10.20.1.201"));
}

TEST_CASE("cache_snooping: only names inside the window count", "[detect][cache_snooping]") {
  SECTION("one name every 70 s: at most 9 inside 10 min, never an alert") {
    Sink sink;
    Engine engine(only("cache_snooping"), sink);
    probes(engine, 30, kT0, 70 * kSec);
    CHECK(sink.alerts.empty());
  }
  SECTION("one name every 60 s: the tenth is inside 10 min of the first") {
    Sink sink;
    Engine engine(only("cache_snooping"), sink);
    probes(engine, 10, kT0, 60 * kSec);
    REQUIRE(sink.alerts.size() == 1);
    CHECK(evidence_text(sink.alerts[0], "distinct_names") == "10");
    CHECK(sink.alerts[0].last_seen == kT0 + 540 * kSec);
  }
  SECTION("a shorter window from the settings") {
    Sink sink;
    DetectorSettings s = only("cache_snooping");
    s.cache_snooping.window = 5 * kMinute;
    Engine engine(s, sink);
    probes(engine, 30, kT0, 35 * kSec);  // 300 / 35: at most 9 names inside 5 min
    CHECK(sink.alerts.empty());
  }
  SECTION("a new episode after a pause restarts the counts") {
    Sink sink;
    Engine engine(only("cache_snooping"), sink);
    probes(engine, 9);
    probes(engine, 10, kT0 + 20 * kMinute, kSec, kClient, kResolver, "later");
    REQUIRE(sink.alerts.size() == 1);
    CHECK(evidence_text(sink.alerts[0], "distinct_names") == "10");
    CHECK(evidence_text(sink.alerts[0], "queries") == "10");
    CHECK(sink.alerts[0].first_seen == kT0 + 20 * kMinute);
  }
}

TEST_CASE("cache_snooping: cache_hits counts NOERROR RD=0 responses with answers to a probing client",
          "[detect][cache_snooping]") {
  Sink sink;
  Engine engine(only("cache_snooping"), sink);
  // A client that never probed gets answers: it has no entry, nothing is counted for it.
  for (int i = 0; i < 5; ++i)
    feed(engine, {.ts = kT0 + i * kSec, .client = "10.20.1.30", .name = "early" + std::to_string(i) + ".example.com",
                  .response = true, .answers = 1});
  for (int i = 0; i < 9; ++i) {
    const Timestamp t = kT0 + 10 * kSec + i * kSec;
    const std::string name = "probe" + std::to_string(i) + ".example.com";
    feed(engine, {.ts = t, .name = name});
    Msg r{.ts = t + kSec / 10, .name = name, .response = true};
    if (i < 4) r.answers = 2;          // cached: a hit
    else if (i < 6) r.rcode = 3;       // NXDOMAIN: no hit
    else if (i < 8) r.answers = 0;     // NOERROR without answers: no hit
    else {
      r.answers = 1;                   // an RD=1 response: not counted
      r.rd = true;
    }
    feed(engine, r);
  }
  // A response from a server that is not a resolver: not counted.
  feed(engine, {.ts = kT0 + 19 * kSec, .server = kAuth, .name = "x.example.com", .response = true, .answers = 1});
  feed(engine, {.ts = kT0 + 20 * kSec, .name = "probe9.example.com"});
  // The other client now probes; its earlier answers never counted.
  probes(engine, 10, kT0 + 30 * kSec, kSec, "10.20.1.30", kResolver);
  const auto alerts = sink.of("cache_snooping");
  REQUIRE(alerts.size() == 2);
  CHECK(alerts[0].client == ip(kClient));
  CHECK(evidence_text(alerts[0], "cache_hits") == "4");
  CHECK(alerts[1].client == ip("10.20.1.30"));
  CHECK(evidence_text(alerts[1], "cache_hits") == "0");
}

// ---- resolver_switch ----------------------------------------------------------------------

namespace {

// `n` RD=1 queries from `client` to `server`, one every `step` from `from`.
void queries(Engine& engine, int n, Timestamp from, Timestamp step, const std::string& server,
             const std::string& client = kClient, std::uint16_t port = 53) {
  for (int i = 0; i < n; ++i)
    feed(engine, {.ts = from + i * step, .client = client, .server = server,
                  .name = "q" + std::to_string(i) + ".example.com", .rd = true, .server_port = port});
}

// An established history: 10 queries to the sanctioned resolver over 63 s (from .. from + 63 s).
void history(Engine& engine, const std::string& client = kClient, const std::string& resolver = kResolver,
             Timestamp from = kT0) {
  queries(engine, 10, from, 7 * kSec, resolver, client);
}

}  // namespace

TEST_CASE("resolver_switch: an established client switching to an internal server alerts once",
          "[detect][resolver_switch]") {
  Sink sink;
  Engine engine(only("resolver_switch"), sink);
  history(engine);
  queries(engine, 1, kT0 + 100 * kSec, kSec, kRogue);
  CHECK(sink.alerts.empty());  // below min_queries (2)
  queries(engine, 4, kT0 + 101 * kSec, kSec, kRogue);
  REQUIRE(sink.alerts.size() == 1);
  const Alert& a = sink.alerts[0];
  CHECK(a.rule->name == "resolver_switch");
  CHECK(a.severity == Severity::medium);
  CHECK(a.client == ip(kClient));
  CHECK(a.server == ip(kRogue));
  CHECK(evidence_text(a, "switched_from") == kResolver);
  CHECK(evidence_text(a, "sanctioned_queries") == "10");
  CHECK(evidence_text(a, "queries") == "2");
  CHECK(evidence_text(a, "port") == "53");
  CHECK(evidence_text(a, "internal_server") == "true");
  CHECK_FALSE(evidence_text(a, "sanctioned_first_seen").empty());
  CHECK_FALSE(evidence_text(a, "last_sanctioned_use").empty());
  CHECK(a.first_seen == kT0 + 100 * kSec);
  CHECK(a.last_seen == kT0 + 101 * kSec);
}

TEST_CASE("resolver_switch: switched_from names the sanctioned resolver used last", "[detect][resolver_switch]") {
  Sink sink;
  Engine engine(only("resolver_switch"), sink);
  history(engine);
  queries(engine, 1, kT0 + 70 * kSec, kSec, kResolver2);
  queries(engine, 2, kT0 + 100 * kSec, kSec, kRogue);
  REQUIRE(sink.alerts.size() == 1);
  CHECK(evidence_text(sink.alerts[0], "switched_from") == kResolver2);
  CHECK(evidence_text(sink.alerts[0], "sanctioned_queries") == "11");
}

TEST_CASE("resolver_switch: no established history, no alert", "[detect][resolver_switch]") {
  SECTION("3 sanctioned queries") {
    Sink sink;
    Engine engine(only("resolver_switch"), sink);
    queries(engine, 3, kT0, kSec, kResolver);
    queries(engine, 10, kT0 + 10 * kSec, kSec, kRogue);
    CHECK(sink.alerts.empty());
  }
  SECTION("10 sanctioned queries, but within 9 s (history_span 1 min)") {
    Sink sink;
    Engine engine(only("resolver_switch"), sink);
    queries(engine, 10, kT0, kSec, kResolver);
    queries(engine, 10, kT0 + 20 * kSec, kSec, kRogue);
    CHECK(sink.alerts.empty());
  }
  SECTION("no sanctioned query at all (standing configuration)") {
    Sink sink;
    Engine engine(only("resolver_switch"), sink);
    queries(engine, 20, kT0, 7 * kSec, kRogue);
    CHECK(sink.alerts.empty());
  }
  SECTION("the other server was in use before the history was established") {
    Sink sink;
    Engine engine(only("resolver_switch"), sink);
    queries(engine, 1, kT0, kSec, kResolver);
    queries(engine, 1, kT0 + 1 * kSec, kSec, kRogue);
    history(engine);
    queries(engine, 5, kT0 + 100 * kSec, kSec, kRogue);
    CHECK(sink.alerts.empty());
  }
}

TEST_CASE("resolver_switch: the sanctioned resolvers are never new servers", "[detect][resolver_switch]") {
  Sink sink;
  Engine engine(only("resolver_switch"), sink);
  history(engine);
  queries(engine, 20, kT0 + 100 * kSec, kSec, kResolver2);
  queries(engine, 20, kT0 + 200 * kSec, kSec, kResolver);
  CHECK(sink.alerts.empty());
}

TEST_CASE("resolver_switch: a switch to a public server is left to rogue_resolver when it is enabled",
          "[detect][resolver_switch]") {
  SECTION("rogue_resolver enabled: it reports 9.9.9.9, resolver_switch is silent") {
    Sink sink;
    Engine engine(only("resolver_switch", true), sink);
    history(engine);
    queries(engine, 5, kT0 + 100 * kSec, kSec, "9.9.9.9");
    CHECK(sink.of("resolver_switch").empty());
    const auto rogue = sink.of("rogue_resolver");
    REQUIRE_FALSE(rogue.empty());
    CHECK(evidence_text(rogue[0], "switched_from") == kResolver);
    // An internal server is not rogue_resolver's (private_servers off): resolver_switch reports it.
    queries(engine, 2, kT0 + 200 * kSec, kSec, kRogue);
    const auto sw = sink.of("resolver_switch");
    REQUIRE(sw.size() == 1);
    CHECK(sw[0].server == ip(kRogue));
  }
  SECTION("rogue_resolver disabled: resolver_switch reports the external server") {
    Sink sink;
    Engine engine(only("resolver_switch", false), sink);
    history(engine);
    queries(engine, 5, kT0 + 100 * kSec, kSec, "9.9.9.9");
    REQUIRE(sink.alerts.size() == 1);
    CHECK(sink.alerts[0].server == ip("9.9.9.9"));
    CHECK(evidence_text(sink.alerts[0], "switched_from") == kResolver);
    CHECK(evidence_text(sink.alerts[0], "internal_server") == "false");
  }
  SECTION("rogue_resolver with private_servers: it reports internal servers too") {
    Sink sink;
    DetectorSettings s = only("resolver_switch", true);
    s.rogue_resolver.private_servers = true;
    Engine engine(s, sink);
    history(engine);
    queries(engine, 5, kT0 + 100 * kSec, kSec, kRogue);
    CHECK(sink.of("resolver_switch").empty());
  }
  SECTION("rogue_resolver enabled on other ports only: resolver_switch keeps port 53") {
    Sink sink;
    DetectorSettings s = only("resolver_switch", true);
    s.rogue_resolver.ports = {853};
    Engine engine(s, sink);
    history(engine);
    queries(engine, 5, kT0 + 100 * kSec, kSec, "9.9.9.9");
    REQUIRE(sink.of("resolver_switch").size() == 1);
  }
}

TEST_CASE("resolver_switch: silent without network.resolvers, and for resolver or scanner clients",
          "[detect][resolver_switch]") {
  SECTION("no sanctioned list") {
    Sink sink;
    DetectorSettings s = only("resolver_switch");
    s.network.resolvers.clear();
    Engine engine(s, sink);
    history(engine);
    queries(engine, 5, kT0 + 100 * kSec, kSec, kRogue);
    CHECK(sink.alerts.empty());
  }
  SECTION("a scanner and a resolver as clients") {
    Sink sink;
    DetectorSettings s = only("resolver_switch");
    s.network.scanners = pfxs({"10.20.1.200/32"});
    Engine engine(s, sink);
    history(engine, "10.20.1.200");
    queries(engine, 5, kT0 + 100 * kSec, kSec, kRogue, "10.20.1.200");
    history(engine, kResolver2, kResolver, kT0 + 200 * kSec);
    queries(engine, 5, kT0 + 300 * kSec, kSec, kAuth, kResolver2);
    CHECK(sink.alerts.empty());
    // An ordinary client with the same traffic alerts.
    history(engine, "10.20.1.201", kResolver, kT0 + 400 * kSec);
    queries(engine, 5, kT0 + 500 * kSec, kSec, kRogue, "10.20.1.201");
    REQUIRE(sink.alerts.size() == 1);
    CHECK(sink.alerts[0].client == ip("10.20.1.201"));
  }
}

// ---- recon_sweep --------------------------------------------------------------------------

TEST_CASE("recon_sweep: four record types of one domain alert, with 'name TYPE' samples, long ones cut",
          "[detect][recon_sweep]") {
  // Samples hold 64 characters; a longer "name TYPE" text is cut there and marked "...".
  const std::string long_name = std::string(60, 'a') + ".example.com";
  Sink out;
  Engine engine(only("recon_sweep"), out);
  const std::uint16_t types[] = {rrtype::MX, rrtype::TXT, rrtype::NS, rrtype::SOA};
  for (int i = 0; i < 4; ++i) {
    Msg m;
    m.rd = true;
    m.ts = kT0 + i * kSec;
    m.name = i == 0 ? long_name : "example.com";
    m.qtype = types[i];
    feed(engine, m);
  }
  // A recon_sweep alert waits precedence_hold for a tunneling alert that would explain it.
  CHECK(out.of("recon_sweep").empty());
  engine.finish();
  const auto alerts = out.of("recon_sweep");
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].registered_domain == "example.com");
  CHECK(alerts[0].samples ==
        std::vector<std::string>{long_name.substr(0, 64) + "...", "example.com TXT", "example.com NS", "example.com SOA"});
}
