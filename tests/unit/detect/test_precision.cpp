// Precision (#13) through the detection engine and the policy, on synthetic events: learned
// client roles and their narrow exemptions, enumeration's evidence gates, nxdomain_burst on
// distinct names, tunneling's word / payload gates and binary labels, beaconing's clockwork and
// jittered regimes, precedence (one activity, one alert), zero-configuration rogue_resolver,
// and spoofed_response's one-way reflection.
#include <catch2/catch.hpp>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "detect_fixture.hpp"
#include "dns_builder.hpp"
#include "dnsvigil/detect/engine.hpp"
#include "dnsvigil/detect/policy.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/types.hpp"
#include "dnsvigil/sensor/services.hpp"

using namespace dnsvigil;
using namespace dnsvigil::detect;
using dnsvigil::test::Wire;
using namespace dnsvigil::detect_test;
namespace rrtype = dnsvigil::dnsparse::rrtype;
namespace rcode = dnsvigil::dnsparse::rcode;

namespace {

constexpr Timestamp kMs = kSec / 1000;

// What a message looks like on the wire and where it travelled.
struct Msg {
  Timestamp ts = kT0;
  std::string client = "10.0.0.20", server = "10.0.0.53";
  std::string name = "www.example.com";
  std::uint16_t qtype = rrtype::A;
  bool rd = true, response = false;
  std::uint16_t rcode = 0;
  int txt_octets = 0;  // responses: one TXT answer with this many RDATA octets (2..256)
  std::string target = {};  // responses: one CNAME answer (PTR for a PTR question) naming this
  std::uint16_t client_port = 40000;
  bool matched = true, duplicate = false, conflicting = false;  // responses
};

// The message parsed, its name split and classified with the built-in service catalogue.
std::unique_ptr<Event> make(const Msg& m) {
  Wire w;
  std::uint16_t flags = m.rd ? 0x0100 : 0;
  if (m.response) flags = static_cast<std::uint16_t>(flags | 0x8000 | 0x0080 | m.rcode);
  const bool txt = m.response && m.txt_octets > 1;
  const bool target = m.response && !m.target.empty();
  w.header(0x4242, flags, 1, txt || target ? 1 : 0, 0, 0);
  w.name(m.name).qtc(m.qtype);
  if (target) {
    w.name(m.name).rr_fixed(m.qtype == rrtype::PTR ? rrtype::PTR : rrtype::CNAME, 1, 60);
    w.name(m.target).fix_rdlength();
  } else if (txt) {
    w.name(m.name).rr_fixed(rrtype::TXT, 1, 60);
    w.cstr(std::string(static_cast<std::size_t>(m.txt_octets - 1), 'v'));
    w.fix_rdlength();
  }
  static const auto services = sensor::ServiceCatalogue::builtin();
  auto e = std::make_unique<Event>();
  e->wire = w.b;
  REQUIRE(dnsparse::Message::parse(dnsparse::Bytes{e->wire}, e->msg) == dnsparse::Error::ok);
  e->qname.set(e->msg, &psl(), services.get());
  auto& ev = e->ev;
  ev.msg = &e->msg;
  ev.qname = &e->qname;
  ev.size = e->wire.size();
  ev.ts = m.ts;
  ev.src = ip(m.response ? m.server : m.client);
  ev.dst = ip(m.response ? m.client : m.server);
  ev.sport = m.response ? 53 : m.client_port;
  ev.dport = m.response ? m.client_port : 53;
  ev.ip_version = static_cast<std::uint8_t>(ev.src.family());
  if (m.response) {
    ev.matched = m.matched;
    ev.duplicate = m.duplicate;
    ev.conflicting = m.conflicting;
    ev.query_ts = m.matched ? m.ts - kMs : 0;
  }
  return e;
}

struct Sink : AlertSink {
  std::vector<Alert> alerts;  // fresh alerts (summaries left out)
  void emit(const Alert& a) override {
    if (!a.summary) alerts.push_back(a);
  }
  [[nodiscard]] std::vector<Alert> of(std::string_view rule, std::string_view trigger = {}) const {
    std::vector<Alert> v;
    for (const auto& a : alerts)
      if (a.rule->name == rule && (trigger.empty() || evidence_text(a, "trigger") == trigger)) v.push_back(a);
    return v;
  }
};

// Feeds one event, then a tick at its packet time (as the pipeline does) unless `tick` is false.
void feed(Engine& engine, const Msg& m, bool tick = true) {
  const auto e = make(m);
  engine.on_event(e->ev);
  if (tick) engine.on_tick(m.ts);
}
// A query and, when `rc` >= 0, its response 1 ms later.
void ask(Engine& engine, Msg q, int rc = -1) {
  feed(engine, q);
  if (rc < 0) return;
  q.response = true;
  q.rcode = static_cast<std::uint16_t>(rc);
  q.ts += kMs;
  feed(engine, q);
}

// Settings with only the named rules enabled.
DetectorSettings only(std::initializer_list<std::string_view> rules) {
  DetectorSettings s;
  const std::map<std::string_view, CommonSettings*> all{
      {"zone_transfer", &s.zone_transfer},     {"enumeration", &s.enumeration},
      {"recon_sweep", &s.recon_sweep},         {"rogue_resolver", &s.rogue_resolver},
      {"tunneling", &s.tunneling},             {"beaconing", &s.beaconing},
      {"cache_snooping", &s.cache_snooping},   {"resolver_switch", &s.resolver_switch},
      {"answer_change", &s.answer_change},     {"spoofed_response", &s.spoofed_response},
      {"intel_match", &s.intel_match}};
  for (const auto& [name, c] : all) c->enabled = std::find(rules.begin(), rules.end(), name) != rules.end();
  return s;
}

// The alert's evidence trigger, which its message starts with.
void check_trigger(const Alert& a, const std::string& trigger) {
  CHECK(evidence_text(a, "trigger") == trigger);
  CHECK(a.reason.rfind(trigger + ":", 0) == 0);
}

// 120 distinct word-list-like labels ("dev", "test01", "vpn-eu", ...).
std::string word(int i) {
  static const char* pre[] = {"dev", "test", "prod", "stage", "mail", "vpn",
                              "web", "api",  "app",  "db",    "git",  "portal"};
  static const char* suf[] = {"", "01", "-eu", "-us", "east", "west", "new", "old", "backup", "int"};
  return std::string(pre[i % 12]) + suf[(i / 12) % 10];
}
// Random labels from a seeded generator: base32 (of random octets) and hexadecimal.
std::string random_label(std::mt19937& rng, std::size_t n, std::string_view alphabet) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
  return s;
}
std::string b32(std::mt19937& rng, std::size_t n = 26) {
  return random_label(rng, n, "abcdefghijklmnopqrstuvwxyz234567");
}
std::string hexl(std::mt19937& rng) { return random_label(rng, 32, "0123456789abcdef"); }
// A random registered domain (DGA-like): 14 letters under .com.
std::string dga(std::mt19937& rng) { return random_label(rng, 14, "abcdefghijklmnopqrstuvwxyz") + ".com"; }

// `n` names `label(i).domain` from `client`, one every `step`, answered with `rc` (-1: none).
template <class Label>
void sweep(Engine& engine, const std::string& client, const std::string& domain, int n, Timestamp from,
           Timestamp step, int rc, Label label, std::uint16_t qtype = rrtype::A) {
  for (int i = 0; i < n; ++i)
    ask(engine, {.ts = from + i * step, .client = client, .name = label(i) + "." + domain, .qtype = qtype}, rc);
}

// Sender-policy lookups (MX, apex TXT, _dmarc TXT, DKIM TXT) of `domains` sender<i>.com, and
// `checks` blocklist lookups under zen.spamhaus.org.
void mail_traffic(Policy& p, const std::string& client, int domains, int checks) {
  Timestamp t = kT0;
  for (int i = 0; i < domains; ++i) {
    const std::string d = "sender" + std::to_string(i) + ".com";
    for (const auto& [name, type] : std::initializer_list<std::pair<std::string, std::uint16_t>>{
             {d, rrtype::MX}, {d, rrtype::TXT}, {"_dmarc." + d, rrtype::TXT}, {"sel._domainkey." + d, rrtype::TXT}})
      p.observe(make({.ts = t += kSec, .client = client, .name = name, .qtype = type})->ev);
  }
  for (int i = 0; i < checks; ++i)
    p.observe(make({.ts = t += kSec, .client = client, .name = std::to_string(i + 2) + ".0.0.127.zen.spamhaus.org"})
                  ->ev);
}

// `n` PTR lookups of 10.20.<net>.1 ... by 10.0.0.7, one a second.
void ptr_sweep(Policy& p, int n, int net = 1) {
  for (int i = 1; i <= n; ++i)
    p.observe(make({.ts = kT0 + i * kSec, .client = "10.0.0.7",
                    .name = std::to_string(i) + "." + std::to_string(net) + ".20.10.in-addr.arpa",
                    .qtype = rrtype::PTR})->ev);
}

}  // namespace

// ---- 1. roles learned from traffic -------------------------------------------------------

TEST_CASE("precision: a mail server is learned from sender-policy lookups and blocklist checks",
          "[precision][roles]") {
  const DetectorSettings s;
  const IpAddr mta = ip("10.0.0.25");
  SECTION("sender-policy lookups of 5 domains alone, or 4 domains and 3 checks: no role") {
    Policy p(s), q(s);
    mail_traffic(p, "10.0.0.25", 5, 0);
    mail_traffic(q, "10.0.0.25", 4, 3);
    CHECK((p.roles(mta) & kRoleMailServer) == 0);
    CHECK(p.learned_roles().mail_servers == 0);
    CHECK_FALSE(q.mail_server(mta));
  }
  SECTION("5 domains and 3 distinct zen.spamhaus.org checks: mail_server") {
    Policy p(s);
    mail_traffic(p, "10.0.0.25", 5, 2);
    CHECK_FALSE(p.mail_server(mta));
    mail_traffic(p, "10.0.0.25", 0, 3);
    CHECK((p.roles(mta) & kRoleMailServer) != 0);
    CHECK(p.learned_roles().mail_servers == 1);
    CHECK(role_names(p.roles(mta)) == "mail_server");
    CHECK(p.roles(ip("10.0.0.26")) == 0);
  }
  SECTION("PTR lookups of outside addresses count as checks, of internal ones not") {
    Policy p(s);
    mail_traffic(p, "10.0.0.25", 5, 0);
    const auto ptr = [&](const std::string& zone) {
      for (int i = 1; i <= 3; ++i)
        p.observe(make({.client = "10.0.0.25", .name = std::to_string(i) + zone, .qtype = rrtype::PTR})->ev);
    };
    ptr(".5.20.10.in-addr.arpa");
    CHECK_FALSE(p.mail_server(mta));
    ptr(".113.0.203.in-addr.arpa");
    CHECK(p.mail_server(mta));
    CHECK(p.learned_roles().mail_servers == 1);
  }
  SECTION("roles.learn = false learns nothing") {
    DetectorSettings off;
    off.roles.learn = false;
    Policy p(off);
    mail_traffic(p, "10.0.0.25", 6, 4);
    ptr_sweep(p, 100);
    CHECK(p.roles(mta) == 0);
    CHECK(p.roles(ip("10.0.0.7")) == 0);
    CHECK(p.learned_roles().mail_servers == 0);
    CHECK(p.learned_roles().monitoring == 0);
  }
}

TEST_CASE("precision: monitoring hosts and container nodes are learned; configured roles show",
          "[precision][roles]") {
  const DetectorSettings s;
  SECTION("64 distinct PTR names in 10 min: monitoring; 20: not") {
    Policy p(s), q(s);
    ptr_sweep(p, 64);
    ptr_sweep(q, 20);
    CHECK((p.roles(ip("10.0.0.7")) & kRoleMonitoring) != 0);
    CHECK(p.learned_roles().monitoring == 1);
    CHECK(q.roles(ip("10.0.0.7")) == 0);
    CHECK(q.learned_roles().monitoring == 0);
  }
  const auto expand = [](Policy& p, int bases) {
    const char* base[] = {"api.github.com", "www.example.org", "registry.example.net"};
    for (int i = 0; i < bases; ++i)
      for (const char* suffix : {".default.svc.cluster.local", ".svc.cluster.local"})
        p.observe(make({.client = "10.0.0.8", .name = std::string(base[i]) + suffix})->ev);
  };
  SECTION("3 names tried with two search suffixes: container node; 2: not") {
    Policy p(s), q(s);
    expand(p, 3);
    expand(q, 2);
    CHECK((p.roles(ip("10.0.0.8")) & kRoleContainerNode) != 0);
    CHECK(p.learned_roles().container_nodes == 1);
    CHECK(q.roles(ip("10.0.0.8")) == 0);
    CHECK(q.learned_roles().container_nodes == 0);
  }
  SECTION("configured roles") {
    DetectorSettings c;
    c.roles.monitoring = pfxs({"10.0.1.0/24"});
    c.roles.container_nodes = pfxs({"10.0.2.5/32"});
    c.network.mail_servers = pfxs({"10.0.3.25/32"});
    c.network.scanners = pfxs({"10.0.4.9/32"});
    c.network.resolvers = pfxs({"10.0.0.53/32"});
    Policy p(c);
    CHECK(p.roles(ip("10.0.1.77")) == kRoleMonitoring);
    CHECK(p.roles(ip("10.0.2.5")) == kRoleContainerNode);
    CHECK(p.roles(ip("10.0.3.25")) == kRoleMailServer);
    CHECK(p.mail_server(ip("10.0.3.25")));
    CHECK(p.roles(ip("10.0.4.9")) == kRoleScanner);
    CHECK(p.roles(ip("10.0.0.53")) == kRoleResolver);
    CHECK(p.roles(ip("10.0.2.6")) == 0);
    CHECK(role_names(p.roles(ip("10.0.1.77"))) == "monitoring");
    CHECK(p.learned_roles().mail_servers + p.learned_roles().monitoring + p.learned_roles().container_nodes == 0);
  }
}

TEST_CASE("precision: exactly 64 distinct PTR names make a monitoring host, whatever the names",
          "[precision][roles]") {
  // The same sweep of 64 addresses in 20 different /24 networks: each is 64 distinct PTR names
  // in 10 min, counted exactly (a 256-bit linear counter used first decided about half of the
  // sweeps either way at exactly the threshold).
  std::string missed;
  for (int net = 0; net < 20; ++net) {
    Policy p{DetectorSettings{}};
    ptr_sweep(p, 64, net);
    if ((p.roles(ip("10.0.0.7")) & kRoleMonitoring) == 0) missed += " 10.20." + std::to_string(net) + ".0/24";
  }
  INFO("sweeps of 64 names not learned as monitoring:" << missed);
  CHECK(missed.empty());
}

// ---- 2. role exemptions are narrow ---------------------------------------------------------

TEST_CASE("precision: a learned mail server may sweep sender policies but not brute-force a zone",
          "[precision][exemptions]") {
  DetectorSettings s = only({"recon_sweep", "enumeration"});
  s.precedence_hold = 0;
  Sink sink;
  Engine engine(s, sink);
  // Learned: sender-policy lookups of 5 domains and 3 blocklist checks.
  Timestamp t = kT0;
  for (int i = 0; i < 5; ++i)
    feed(engine,
         {.ts = t += kSec, .client = "10.0.0.25", .name = "sender" + std::to_string(i) + ".com", .qtype = rrtype::MX});
  for (int i = 0; i < 3; ++i)
    feed(engine, {.ts = t += kSec, .client = "10.0.0.25", .name = std::to_string(i + 2) + ".0.0.127.zen.spamhaus.org"});
  REQUIRE(engine.policy().mail_server(ip("10.0.0.25")));
  CHECK(engine.policy().learned_roles().mail_servers == 1);
  const auto policy_sweep = [&](const std::string& client) {
    for (int i = 0; i < 25; ++i) {
      const std::string d = "target" + std::to_string(i) + ".com";
      feed(engine, {.ts = t += kSec, .client = client, .name = d, .qtype = rrtype::TXT});
      feed(engine, {.ts = t += kSec, .client = client, .name = d, .qtype = rrtype::MX});
      feed(engine, {.ts = t += kSec, .client = client, .name = "_dmarc." + d, .qtype = rrtype::TXT});
    }
  };
  policy_sweep("10.0.0.25");
  CHECK(sink.of("recon_sweep").empty());
  policy_sweep("10.0.0.26");  // a plain client
  const auto recon = sink.of("recon_sweep");
  REQUIRE(recon.size() == 1);
  CHECK(recon[0].client == ip("10.0.0.26"));
  check_trigger(recon[0], "domains_10m");
  CHECK(recon[0].client_role.empty());
  // The mail server brute-forcing one zone: 60 word-list names answered NXDOMAIN.
  sweep(engine, "10.0.0.25", "victim.example", 60, t + kSec, 200 * kMs, rcode::NXDOMAIN, word);
  engine.finish();
  const auto enumeration = sink.of("enumeration");
  REQUIRE_FALSE(enumeration.empty());
  CHECK(enumeration[0].client == ip("10.0.0.25"));
  CHECK(enumeration[0].registered_domain == "victim.example");
  CHECK(enumeration[0].client_role == "mail_server");
}

// ---- 3. enumeration evidence gates ---------------------------------------------------------

TEST_CASE("precision: enumeration needs word-list names that fail, or an unpopular domain",
          "[precision][enumeration]") {
  // 120 distinct names under `domain` from one client, one every `step`, answered `rc` (-1: none).
  struct Case {
    const char* what;
    std::string domain;
    Timestamp step;
    int rc;
    bool hashes;  // 32-hex labels instead of word-list ones
    std::string trigger;
  };
  const Case cases[] = {
      {"word-list names answered NOERROR", "bigcorp.com", 10 * kSec, rcode::NOERROR, false, ""},
      {"word-list names answered NXDOMAIN", "bigcorp.com", 10 * kSec, rcode::NXDOMAIN, false, "distinct_10m_nxdomain"},
      {"NXDOMAIN names spread over the hour", "bigcorp.com", 30 * kSec, rcode::NXDOMAIN, false, "distinct_1h"},
      {"hash labels answered NXDOMAIN", "bigcorp.com", 10 * kSec, rcode::NXDOMAIN, true, ""},
      {"word-list names under a catalogued service", "malware.hash.cymru.com", 10 * kSec, rcode::NXDOMAIN, false, ""},
      {"hash labels under a catalogued service", "malware.hash.cymru.com", 200 * kMs, rcode::NXDOMAIN, true, ""},
      {"queries only, a domain 25 other clients use", "popular-site.com", kSec, -1, false, ""},
      {"queries only, an unpopular domain", "quiet-site.com", kSec, -1, false, "distinct_1h"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.what) {
      Sink sink;
      Engine engine(only({"enumeration"}), sink);
      for (int k = 1; k <= 25; ++k)
        feed(engine, {.ts = kT0, .client = "10.0.9." + std::to_string(k), .name = "www.popular-site.com"});
      std::mt19937 rng(7);
      sweep(engine, "10.0.0.30", c.domain, 120, kT0 + kSec, c.step, c.rc,
            [&](int i) { return c.hashes ? hexl(rng) : word(i); });
      engine.finish();
      const auto a = sink.of("enumeration");
      if (c.trigger.empty()) {
        CHECK(a.empty());
      } else {
        REQUIRE(a.size() == 1);
        check_trigger(a[0], c.trigger);
        CHECK(a[0].registered_domain == c.domain);
      }
    }
  }
}

// ---- 4. nxdomain_burst counts distinct names ------------------------------------------------

TEST_CASE("precision: nxdomain_burst counts distinct failed names, not repeats", "[precision][nxdomain_burst]") {
  Sink sink;
  Engine engine(only({"enumeration"}), sink);
  SECTION("one ACME challenge polled 100 times: no burst") {
    for (int i = 0; i < 100; ++i)
      ask(engine, {.ts = kT0 + i * kSec, .name = "_acme-challenge.www.example.com", .qtype = rrtype::TXT},
          rcode::NXDOMAIN);
    engine.finish();
    CHECK(sink.alerts.empty());
  }
  SECTION("one plain name answered NXDOMAIN 100 times: no burst") {
    for (int i = 0; i < 100; ++i)
      ask(engine, {.ts = kT0 + i * kSec / 2, .name = "printer.corp-example.com"}, rcode::NXDOMAIN);
    engine.finish();
    CHECK(sink.alerts.empty());
  }
  SECTION("60 random registered domains answered NXDOMAIN: burst") {
    std::mt19937 rng(11);
    for (int i = 0; i < 60; ++i)
      ask(engine, {.ts = kT0 + i * kSec, .name = dga(rng)}, rcode::NXDOMAIN);
    engine.finish();
    const auto a = sink.of("enumeration");
    REQUIRE(a.size() == 1);
    check_trigger(a[0], "nxdomain_burst");
    CHECK(std::stoi(evidence_text(a[0], "nxdomain_5m")) >= 50);
  }
}

// ---- 5. tunneling ----------------------------------------------------------------------------

namespace {
// 60 distinct TXT names under wordy.net in one clock minute, each answered with `octets` of TXT.
template <class Label>
void txt_minute(Engine& engine, Label label, int octets) {
  const Timestamp minute = (kT0 / kMinute + 1) * kMinute;
  for (int i = 0; i < 60; ++i) {
    Msg q{.ts = minute + i * 500 * kMs, .name = label(i) + ".wordy.net", .qtype = rrtype::TXT};
    feed(engine, q);
    q.response = true;
    q.ts += kMs;
    q.txt_octets = octets;
    feed(engine, q);
  }
}
DetectorSettings tunnel_rate_only() {
  DetectorSettings s = only({"tunneling"});
  s.tunneling.suspicious_10m = 100000;  // the TXT/NULL rate alone is under test
  return s;
}
}  // namespace

TEST_CASE("precision: txt_null_rate needs encoded names or TXT payload", "[precision][tunneling]") {
  Sink sink;
  Engine engine(tunnel_rate_only(), sink);
  std::mt19937 rng(3);
  SECTION("short word labels, 10-octet answers: no alert") {
    txt_minute(engine, word, 10);
    CHECK(sink.alerts.empty());
  }
  SECTION("base32 labels, 10-octet answers: txt_null_rate") {
    txt_minute(engine, [&](int) { return b32(rng); }, 10);
    const auto a = sink.of("tunneling");
    REQUIRE(a.size() == 1);
    check_trigger(a[0], "txt_null_rate");
  }
  SECTION("short word labels, 200-octet answers: txt_null_rate") {
    txt_minute(engine, word, 200);
    const auto a = sink.of("tunneling");
    REQUIRE(a.size() == 1);
    check_trigger(a[0], "txt_null_rate");
    CHECK(a[0].registered_domain == "wordy.net");
  }
}

TEST_CASE("precision: NULL queries with binary labels raise binary_names_10m", "[precision][tunneling]") {
  Sink sink;
  Engine engine(only({"tunneling"}), sink);
  for (int i = 0; i < 4; ++i) {
    std::string label;
    for (char c = 1; c <= 7; ++c) label += c;
    label += static_cast<char>(0x10 + i);
    feed(engine, {.ts = kT0 + i * kSec, .name = label + ".badexample.org", .qtype = rrtype::NULL_});
    if (i < 3) CHECK(sink.alerts.empty());
  }
  const auto a = sink.of("tunneling");
  REQUIRE(a.size() == 1);
  check_trigger(a[0], "binary_names_10m");
  CHECK(a[0].severity == Severity::high);
  CHECK(evidence_text(a[0], "binary_names_10m") == "4");
  CHECK(a[0].registered_domain == "badexample.org");
}

TEST_CASE("precision: long natural-language labels are not encoded data", "[precision][tunneling]") {
  static const char* kWords[] = {"bijzonderbeschermingsfonds", "ontwikkelingssamenwerking", "verantwoordelijkheden",
                                 "onderwijsinstellingen",      "gemeenteraadsverkiezingen", "telecommunicatiebedrijven",
                                 "internationalisation",       "responsibilities",          "departementaleoverheid",
                                 "ziekenhuisorganisatie",      "verzekeringsmaatschappij",  "universiteitsbibliotheek"};
  Sink sink;
  Engine engine(only({"tunneling"}), sink);
  for (int i = 0; i < 12; ++i) feed(engine, {.ts = kT0 + i * kSec, .name = std::string(kWords[i]) + ".example.com"});
  CHECK(sink.alerts.empty());
  // Control: 12 random labels of the same lengths under another domain.
  std::mt19937 rng(5);
  for (int i = 0; i < 12; ++i)
    feed(engine, {.ts = kT0 + (20 + i) * kSec, .name = b32(rng, std::string(kWords[i]).size()) + ".example.net"});
  const auto a = sink.of("tunneling");
  REQUIRE(a.size() == 1);
  check_trigger(a[0], "encoded_names_10m");
  CHECK(a[0].registered_domain == "example.net");
}

TEST_CASE("precision: cluster.local names never count for tunneling; DKIM selectors only by what they carry",
          "[precision][tunneling]") {
  std::mt19937 rng(9);
  std::vector<std::string> labels;
  for (int i = 0; i < 30; ++i) labels.push_back(b32(rng, 30) + "." + b32(rng, 20));
  const auto run = [&](const std::string& suffix, std::uint16_t qtype) {
    Sink sink;
    Engine engine(only({"tunneling"}), sink);
    for (std::size_t i = 0; i < labels.size(); ++i)
      feed(engine, {.ts = kT0 + static_cast<Timestamp>(i) * kSec, .name = labels[i] + suffix, .qtype = qtype});
    engine.finish();
    return sink.alerts;
  };
  CHECK(run(".default.svc.cluster.local", rrtype::A).empty());
  // Data in front of _domainkey is still data: the per-domain trigger judges the labels, only
  // the seed rule (which counts long names) leaves standard service names out.
  std::vector<std::string> dkim_triggers;
  for (const auto& a : run("._domainkey.y.com", rrtype::TXT)) dkim_triggers.push_back(evidence_text(a, "trigger"));
  CHECK(dkim_triggers == std::vector<std::string>{"encoded_names_10m"});
  // Real selectors of many senders, long names all (a mail server verifying signatures): nothing.
  {
    Sink sink;
    Engine engine(only({"tunneling"}), sink);
    for (int i = 0; i < 30; ++i)
      feed(engine, {.ts = kT0 + i * kSec,
                    .name = "selector1-sender" + std::to_string(i) + "-com._domainkey.sender" + std::to_string(i) +
                            ".onmicrosoft.com",
                    .qtype = rrtype::TXT});
    engine.finish();
    CHECK(sink.alerts.empty());
  }
  // Control: the same names under an ordinary domain raise both the per-domain and the seed rule.
  const auto control = run(".default.svc.tunnel-example.com", rrtype::A);
  std::vector<std::string> triggers;
  for (const auto& a : control) triggers.push_back(evidence_text(a, "trigger"));
  CHECK(std::count(triggers.begin(), triggers.end(), "encoded_names_10m") == 1);
  CHECK(std::count(triggers.begin(), triggers.end(), "seed_esql_rule") == 1);
}

// ---- 6. beaconing ----------------------------------------------------------------------------

namespace {
DetectorSettings beacon_only() {
  DetectorSettings s = only({"beaconing"});
  s.precedence_hold = 0;
  return s;
}
// Lookups of `name` by `client` at `times`; the 1-based lookup at which the first alert left (0: none).
std::size_t beacon(Engine& engine, Sink& sink, const std::vector<Timestamp>& times, const std::string& name,
                   const std::string& client = "10.0.0.40") {
  std::size_t first = 0;
  for (std::size_t i = 0; i < times.size(); ++i) {
    feed(engine, {.ts = times[i], .client = client, .name = name});
    if (first == 0 && !sink.of("beaconing").empty()) first = i + 1;
  }
  return first;
}
std::vector<Timestamp> clockwork(int n, Timestamp from = kT0) {
  std::vector<Timestamp> t;
  for (int i = 0; i < n; ++i) t.push_back(from + i * 5 * kSec + ((i % 3) - 1) * 20 * kMs);
  return t;
}
}  // namespace

TEST_CASE("precision: a 5 s clock alerts as clockwork at the 10th lookup", "[precision][beaconing]") {
  Sink sink;
  Engine engine(beacon_only(), sink);
  CHECK(beacon(engine, sink, clockwork(10), "check.beacon.badexample.io") == 10);
  const auto a = sink.of("beaconing");
  REQUIRE(a.size() == 1);
  CHECK(evidence_text(a[0], "regularity") == "clockwork");
  CHECK(a[0].registered_domain == "badexample.io");
  check_trigger(a[0], "domain_interval");  // the domain view of a fixed name raises first
}

namespace {
// 40 lookups of a 60 s beacon with 0-50 % jitter: sleep = 60 s x (1 - U(0, 0.5)), as the lab's
// Cobalt-Strike-style beacon (pcaps/lab/make-beaconing.sh), or 60 s x (1 + U(0, 0.5)).
std::vector<Timestamp> jittered(unsigned seed, bool shorter = true) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(0.0, 0.5);
  std::vector<Timestamp> times{kT0};
  while (times.size() < 40)
    times.push_back(times.back() + static_cast<Timestamp>(60e9 * (shorter ? 1.0 - jitter(rng) : 1.0 + jitter(rng))));
  return times;
}
}  // namespace

TEST_CASE("precision: a 60 s beacon with 0-50 % jitter alerts only from the 36th lookup", "[precision][beaconing]") {
  for (const unsigned seed : {1u, 2u, 3u}) {
    Sink sink;
    Engine engine(beacon_only(), sink);
    const std::size_t first = beacon(engine, sink, jittered(seed), "update.badexample.io");
    INFO("seed " << seed << ": first alert at lookup " << first);
    CHECK(first >= 36);
    CHECK(first <= 40);
    if (first != 0) CHECK(evidence_text(sink.of("beaconing")[0], "regularity") == "jittered");
  }
}

TEST_CASE("precision: jittered beacons are caught by the 40th lookup nearly always; earlier only as clockwork",
          "[precision][beaconing]") {
  // 100 seeds of each jitter model. The two-window rule needs 36 lookups; by chance a few
  // jittered series are as regular as a clock over their first 9 intervals and alert then,
  // labelled "clockwork" (still a beacon). Two windows within 40 lookups miss some series: the
  // figures in docs/detectors.md (beaconing) are 89 % by lookup 36, 97 % by 40 and 99.3 % by 48 for
  // shortened sleeps, and 100 % by lookup 36 for lengthened ones.
  for (const bool shorter : {true, false}) {
    std::string early_jittered;
    int caught = 0;
    for (unsigned seed = 1; seed <= 100; ++seed) {
      Sink sink;
      Engine engine(beacon_only(), sink);
      const std::size_t first = beacon(engine, sink, jittered(seed, shorter), "update.badexample.io");
      caught += first != 0;
      if (first != 0 && first < 36 && evidence_text(sink.of("beaconing")[0], "regularity") != "clockwork")
        early_jittered += " " + std::to_string(seed) + "@" + std::to_string(first);
    }
    INFO("sleep = 60 s x (1 " << (shorter ? "-" : "+") << " U(0, 0.5)); caught by lookup 40: " << caught
                              << "/100; jittered alerts before lookup 36:" << early_jittered);
    CHECK(early_jittered.empty());
    CHECK(caught >= 90);
  }
}

TEST_CASE("precision: Poisson lookups never look like a beacon", "[precision][beaconing]") {
  for (const unsigned seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    std::mt19937 rng(seed);
    std::exponential_distribution<double> gap(1.0 / 4.0);  // mean 4 s
    std::vector<Timestamp> times{kT0};
    while (times.size() < 500) times.push_back(times.back() + static_cast<Timestamp>(gap(rng) * 1e9) + kMs);
    DetectorSettings s = beacon_only();
    s.beaconing.burst = kSec;
    Sink sink;
    Engine engine(s, sink);
    INFO("seed " << seed);
    CHECK(beacon(engine, sink, times, "www.browsed-site.com") == 0);
  }
}

TEST_CASE("precision: catalogued, non-public and popular names are not scored", "[precision][beaconing]") {
  Sink sink;
  Engine engine(beacon_only(), sink);
  for (int c = 1; c <= 25; ++c)
    feed(engine, {.ts = kT0, .client = "10.0.9." + std::to_string(c), .name = "www.popular-site.com"});
  CHECK(beacon(engine, sink, clockwork(20, kT0 + kSec), "check.sophosxl.net") == 0);
  CHECK(beacon(engine, sink, clockwork(20, kT0 + kSec), "check.beacon.corp") == 0);
  CHECK(beacon(engine, sink, clockwork(20, kT0 + kSec), "api.popular-site.com") == 0);
  CHECK(beacon(engine, sink, clockwork(20, kT0 + kSec), "check.badexample.io") == 10);  // control
}

// ---- 7. precedence: one activity, one alert ----------------------------------------------------

TEST_CASE("precision: tunneling explains the enumeration of the same client and domain", "[precision][precedence]") {
  Sink sink;
  Engine engine(only({"enumeration", "tunneling"}), sink);
  std::mt19937 rng(13);
  sweep(engine, "10.0.0.50", "victim-corp.com", 30, kT0, 200 * kMs, rcode::NXDOMAIN, word);
  CHECK(sink.alerts.empty());  // the enumeration alert is held
  sweep(engine, "10.0.0.50", "victim-corp.com", 10, kT0 + 7 * kSec, 200 * kMs, -1, [&](int) { return b32(rng); });
  engine.finish();
  REQUIRE(sink.alerts.size() == 1);
  const Alert& a = sink.alerts[0];
  CHECK(a.rule->name == "tunneling");
  check_trigger(a, "encoded_names_10m");
  REQUIRE(a.related.size() == 1);
  CHECK(a.related[0].rule == "enumeration");
  CHECK(a.related[0].trigger == "distinct_10m_nxdomain");
  CHECK(a.related[0].reason.rfind("distinct_10m_nxdomain:", 0) == 0);
  CHECK(engine.folded() >= 1);
}

TEST_CASE("precision: an NXDOMAIN burst is context of the enumeration that follows it", "[precision][precedence]") {
  const auto run = [](Timestamp hold, Sink& sink) {
    DetectorSettings s = only({"enumeration"});
    s.precedence_hold = hold;
    auto engine = std::make_unique<Engine>(s, sink);
    std::mt19937 rng(17);
    for (int i = 0; i < 60; ++i)
      ask(*engine, {.ts = kT0 + i * 200 * kMs, .client = "10.0.0.60", .name = dga(rng)}, rcode::NXDOMAIN);
    sweep(*engine, "10.0.0.60", "victim.example", 30, kT0 + 13 * kSec, 200 * kMs, rcode::NXDOMAIN, word);
    engine->finish();
    return engine;
  };
  SECTION("held: one enumeration alert with the burst as related") {
    Sink sink;
    const auto engine = run(30 * kSec, sink);
    REQUIRE(sink.alerts.size() == 1);
    const Alert& a = sink.alerts[0];
    check_trigger(a, "distinct_10m_nxdomain");
    REQUIRE(a.related.size() == 1);
    CHECK(a.related[0].rule == "enumeration");
    CHECK(a.related[0].trigger == "nxdomain_burst");
    CHECK(engine->folded() == 1);
  }
  SECTION("precedence_hold = 0: both go out") {
    Sink sink;
    const auto engine = run(0, sink);
    CHECK(sink.of("enumeration", "nxdomain_burst").size() == 1);
    CHECK(sink.of("enumeration", "distinct_10m_nxdomain").size() == 1);
    CHECK(sink.alerts.size() == 2);
    CHECK(engine->folded() == 0);
  }
}

TEST_CASE("precision: an unexplained enumeration alert goes out after the hold", "[precision][precedence]") {
  Sink sink;
  Engine engine(only({"enumeration"}), sink);
  sweep(engine, "10.0.0.70", "victim.example", 30, kT0, 200 * kMs, rcode::NXDOMAIN, word);
  const Timestamp raised = kT0 + 29 * 200 * kMs;  // the 30th name
  engine.on_tick(raised + 29 * kSec);
  CHECK(sink.alerts.empty());
  feed(engine, {.ts = raised + 31 * kSec, .client = "10.0.0.71", .name = "www.example.com"});
  REQUIRE(sink.alerts.size() == 1);
  check_trigger(sink.alerts[0], "distinct_10m_nxdomain");
  CHECK(sink.alerts[0].ts == raised);
  CHECK(sink.alerts[0].related.empty());
  CHECK(engine.folded() == 0);
}

TEST_CASE("precision: a beacon to a domain with an active tunneling alert is folded", "[precision][precedence]") {
  Sink sink;
  Engine engine(only({"tunneling", "beaconing"}), sink);
  std::mt19937 rng(19);
  for (int i = 0; i < 10; ++i)
    feed(engine, {.ts = kT0 + i * 200 * kMs, .client = "10.0.0.80", .name = b32(rng) + ".badexample.io"});
  REQUIRE(sink.of("tunneling").size() == 1);
  const std::uint64_t before = engine.folded();
  for (const Timestamp t : clockwork(12, kT0 + kMinute))
    feed(engine, {.ts = t, .client = "10.0.0.80", .name = "check.badexample.io"});
  engine.finish();
  CHECK(sink.of("beaconing").empty());
  CHECK(engine.folded() > before);
  CHECK(sink.alerts.size() == 1);
}

// ---- 8. zero-configuration rogue_resolver -------------------------------------------------------

namespace {
void use(Engine& engine, const std::string& client, const std::string& server, Timestamp ts, bool tick = true) {
  feed(engine, {.ts = ts, .client = client, .server = server, .name = "www.example.com"}, tick);
}
// Without ticks: 10.0.0.1 asks 9.9.9.9 before any baseline, then 10.0.0.1 ... 10.0.0.<clients>
// use 198.51.100.53.
void deviation_first(Engine& engine, int clients) {
  use(engine, "10.0.0.1", "9.9.9.9", kT0, false);
  for (int c = 1; c <= clients; ++c) use(engine, "10.0.0." + std::to_string(c), "198.51.100.53", kT0 + c * kSec, false);
}
}  // namespace

TEST_CASE("precision: without network.resolvers, only deviations from the site's resolver alert",
          "[precision][rogue_resolver]") {
  Sink sink;
  DetectorSettings s = only({"rogue_resolver"});
  SECTION("5 clients use 198.51.100.53, one also 9.9.9.9: one deviation") {
    Engine engine(s, sink);
    for (int c = 1; c <= 5; ++c) use(engine, "10.0.0." + std::to_string(c), "198.51.100.53", kT0 + c * kSec);
    use(engine, "10.0.0.1", "9.9.9.9", kT0 + 10 * kSec);
    engine.finish();
    REQUIRE(sink.alerts.size() == 1);
    const Alert& a = sink.alerts[0];
    CHECK(a.server == ip("9.9.9.9"));
    CHECK(a.client == ip("10.0.0.1"));
    check_trigger(a, "deviation");
    CHECK(evidence_text(a, "defacto_resolver") == "198.51.100.53");
  }
  SECTION("8.8.8.8 as the only resolver of 6 clients, or of a single client: no alert") {
    Engine engine(s, sink), single(s, sink);
    for (int c = 1; c <= 6; ++c) use(engine, "10.0.0." + std::to_string(c), "8.8.8.8", kT0 + c * kSec);
    for (int i = 0; i < 10; ++i) use(single, "10.0.0.1", "8.8.8.8", kT0 + i * kSec);
    engine.finish();
    single.on_tick(kT0 + kHour);
    single.finish();
    CHECK(sink.alerts.empty());
  }
  SECTION("a deviation before the baseline is reported on a later tick") {
    Engine engine(s, sink);
    deviation_first(engine, 5);
    CHECK(sink.alerts.empty());
    engine.on_tick(kT0 + 10 * kSec);
    REQUIRE(sink.alerts.size() == 1);
    const Alert& a = sink.alerts[0];
    CHECK(a.server == ip("9.9.9.9"));
    CHECK(a.client == ip("10.0.0.1"));
    check_trigger(a, "deviation");
    CHECK(a.ts == kT0 + 10 * kSec);
    CHECK(a.first_seen == kT0);
  }
  SECTION("with network.resolvers the unsanctioned_server trigger stays") {
    s.network.resolvers = pfxs({"10.0.0.53/32"});
    Engine engine(s, sink);
    for (int c = 1; c <= 5; ++c) use(engine, "10.0.0." + std::to_string(c), "10.0.0.53", kT0 + c * kSec);
    CHECK(sink.alerts.empty());
    use(engine, "10.0.0.1", "8.8.8.8", kT0 + 10 * kSec);
    REQUIRE(sink.alerts.size() == 1);
    check_trigger(sink.alerts[0], "unsanctioned_server");
    CHECK(sink.alerts[0].server == ip("8.8.8.8"));
  }
}

TEST_CASE("precision: three clients of one outside server establish the zero-configuration baseline",
          "[precision][rogue_resolver]") {
  // 3 = learn_min_clients clients (10.0.0.1, .2, .3) of 198.51.100.53.
  Sink sink;
  Engine engine(only({"rogue_resolver"}), sink);
  deviation_first(engine, 3);
  engine.on_tick(kT0 + 10 * kSec);
  const auto defacto = engine.policy().defacto_resolvers();
  INFO("de-facto resolvers learned: " << defacto.size());
  CHECK(engine.policy().usage(ip("9.9.9.9")).baseline);
  REQUIRE(sink.alerts.size() == 1);
  CHECK(sink.alerts[0].server == ip("9.9.9.9"));
  check_trigger(sink.alerts[0], "deviation");
}

// ---- 9. spoofed_response: one-way reflection -----------------------------------------------------

namespace {
// `n` unsolicited responses to 10.0.0.99 within 9 s from `servers` servers, for `questions` names.
void flood(Engine& engine, int n, int servers, int questions) {
  std::mt19937 rng(23);
  for (int i = 0; i < n; ++i) {
    const std::string name = questions >= n ? "q" + std::to_string(i) + ".example.com"
                                            : (i % questions == 0 ? "example.com" : "isc.org");
    feed(engine, {.ts = kT0 + i * 15 * kMs, .client = "10.0.0.99",
                  .server = "203.0.113." + std::to_string(1 + i % servers), .name = name, .qtype = rrtype::ANY,
                  .response = true,
                  .client_port = static_cast<std::uint16_t>(1024 + rng() % 60000), .matched = false});
  }
}
}  // namespace

TEST_CASE("precision: a reflection is judged on a one-way view", "[precision][spoofed_response]") {
  Sink sink;
  Engine engine(only({"spoofed_response"}), sink);
  SECTION("600 responses from 40 servers for 2 questions: reflection") {
    flood(engine, 600, 40, 2);
    const auto a = sink.of("spoofed_response");
    REQUIRE(a.size() == 1);
    check_trigger(a[0], "reflection");
    CHECK(evidence_text(a[0], "one_way") == "true");
    CHECK(std::stoi(evidence_text(a[0], "servers")) >= 20);
    CHECK(a[0].client == ip("10.0.0.99"));
  }
  SECTION("600 distinct questions (a resolver's inbound answers): none") {
    flood(engine, 600, 40, 600);
    CHECK(sink.alerts.empty());
  }
  SECTION("only 10 servers: none") {
    flood(engine, 600, 10, 2);
    CHECK(sink.alerts.empty());
  }
}

TEST_CASE("precision: a duplicate of an answered response is not spoofing", "[precision][spoofed_response]") {
  Sink sink;
  Engine engine(only({"spoofed_response"}), sink);
  Msg r{.ts = kT0, .client = "10.0.0.20", .server = "10.0.0.53", .name = "www.example.com", .response = true};
  feed(engine, r);  // matched: both directions visible
  r.duplicate = true;
  for (int i = 1; i <= 20; ++i) {  // as unsolicited ones, 10 would make a txid_mismatch
    r.ts += 5 * kMs;
    feed(engine, r);
  }
  CHECK(sink.alerts.empty());
  r.ts += 5 * kMs;
  r.conflicting = true;  // control: a duplicate with different answers
  feed(engine, r);
  REQUIRE(sink.alerts.size() == 1);
  check_trigger(sink.alerts[0], "conflicting_answers");
}

// ---- ACME DNS-01 polling ---------------------------------------------------------------------

TEST_CASE("precision: an ACME client polling its challenges is no beacon and uses no rogue resolver",
          "[precision][acme]") {
  // As lego does it (pcaps/detect/precision/acme-dns01-polling.pcap): every 3 s the zone's NS
  // through the resolver, then the challenge TXT at the zone's authoritative server (RD=0).
  const auto poll = [](Engine& engine, bool acme) {
    for (int i = 0; i < 20; ++i) {
      const Timestamp t = kT0 + i * 3 * kSec;
      if (acme) feed(engine, {.ts = t, .client = "10.0.0.41", .name = "_acme-challenge.www.examplecorp-shop.com",
                              .qtype = rrtype::TXT});
      feed(engine, {.ts = t + kMs, .client = "10.0.0.41", .name = "examplecorp-shop.com", .qtype = rrtype::NS});
      if (acme)
        feed(engine, {.ts = t + 2 * kMs, .client = "10.0.0.41", .server = "198.51.100.20",
                      .name = "_acme-challenge.www.examplecorp-shop.com", .qtype = rrtype::TXT, .rd = false});
    }
    engine.finish();
  };
  DetectorSettings s = only({"beaconing", "rogue_resolver"});
  s.network.resolvers = pfxs({"10.0.0.53/32"});
  {
    Sink sink;
    Engine engine(s, sink);
    poll(engine, true);
    CHECK(sink.alerts.empty());
  }
  {
    // Control: the same NS lookups on the same clock without the challenge are a beacon.
    Sink sink;
    Engine engine(s, sink);
    poll(engine, false);
    CHECK(sink.of("beaconing").size() >= 1);
  }
  {
    // Control: an RD=0 query of another name to the outside server is still judged.
    Sink sink;
    Engine engine(s, sink);
    feed(engine, {.ts = kT0, .client = "10.0.0.41", .server = "198.51.100.20", .name = "www.examplecorp-shop.com",
                  .rd = false});
    engine.finish();
    CHECK(sink.of("rogue_resolver").size() == 1);
  }
}

TEST_CASE("precision: names a PTR or CNAME answer gave the client are not its choice", "[precision][traits]") {
  Policy p(DetectorSettings{});
  const auto hash_of = [](const std::string& name) { return make({.name = name})->qname.hash(); };
  // A DKIM check of a SendGrid signature: the selector is a CNAME to SendGrid's key.
  const std::string dkim_target = "s1.domainkey.u1346.wl091.sendgrid.example";
  p.observe(make({.client = "10.0.0.25", .name = "s1._domainkey.shop.example", .qtype = rrtype::TXT,
                  .response = true, .target = dkim_target})->ev);
  CHECK(p.from_answer(ip("10.0.0.25"), hash_of(dkim_target), kT0 + 5 * kSec));
  CHECK_FALSE(p.from_answer(ip("10.0.0.26"), hash_of(dkim_target), kT0 + 5 * kSec));  // another client
  CHECK_FALSE(p.from_answer(ip("10.0.0.25"), hash_of(dkim_target), kT0 + 121 * kSec)); // two minutes later
  // Forward confirmation: the name a PTR answer gave.
  p.observe(make({.client = "10.0.0.25", .name = "7.100.51.198.in-addr.arpa", .qtype = rrtype::PTR,
                  .response = true, .target = "mx7.sender.example"})->ev);
  CHECK(p.from_answer(ip("10.0.0.25"), hash_of("mx7.sender.example"), kT0 + kSec));
  // The question's own name is not remembered, nor are names of other answer types.
  CHECK_FALSE(p.from_answer(ip("10.0.0.25"), hash_of("s1._domainkey.shop.example"), kT0 + kSec));
  p.observe(make({.client = "10.0.0.25", .name = "shop.example", .qtype = rrtype::TXT, .response = true,
                  .txt_octets = 40})->ev);
  CHECK_FALSE(p.from_answer(ip("10.0.0.25"), hash_of("shop.example"), kT0 + kSec));
}
