// Threat-intel lists (detect/intel.hpp): list parsing (comments, blank lines, CRLF, bad lines
// named by file:line), IPv4/IPv6 CIDR lookups with nested prefixes, domain suffix matching by
// text and by a question name's suffix hashes, alert tagging, and the intel_match rule in the
// engine (one alert per (client, indicator), silent without lists).
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "detect_fixture.hpp"
#include "dns_builder.hpp"
#include "dnsvigil/detect/engine.hpp"
#include "dnsvigil/detect/intel.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/types.hpp"
#include "dnsvigil/sensor/names.hpp"

using namespace dnsvigil;
using namespace dnsvigil::detect;
using dnsvigil::test::Wire;
using namespace dnsvigil::detect_test;
using Kind = IntelLists::Kind;

namespace {


std::shared_ptr<IntelLists> lists(std::string_view ips, std::string_view domains, std::vector<std::string>* problems = nullptr) {
  auto l = std::make_shared<IntelLists>();
  std::vector<std::string> p;
  if (!ips.empty()) l->add(Kind::ip, "/etc/dnsvigil/ips.txt", ips, p);
  if (!domains.empty()) l->add(Kind::domain, "/etc/dnsvigil/domains.txt", domains, p);
  l->finish();
  if (problems != nullptr) *problems = p;
  else CHECK(p.empty());
  return l;
}

std::string found(const IntelLists& l, std::string_view what) {
  const Indicator* i = nullptr;
  if (const auto a = sensor::IpAddr::parse(what)) i = l.find(*a);
  else i = l.find(what);
  return i == nullptr ? "" : i->text;
}



std::unique_ptr<Event> query(std::string_view name, std::string_view client, std::string_view server, Timestamp ts = kT0,
                             bool response = false) {
  Wire w;
  w.header(7, response ? 0x8180 : 0x0100, 1, 0, 0, 0);
  w.name(name).qtc(dnsparse::rrtype::A);
  auto e = parsed(w);
  auto& ev = e->ev;
  ev.ts = ts;
  ev.transport = sensor::Transport::udp;
  ev.src = ip(response ? server : client);
  ev.dst = ip(response ? client : server);
  ev.sport = response ? 53 : 40000;
  ev.dport = response ? 40000 : 53;
  ev.ip_version = static_cast<std::uint8_t>(ev.src.family());
  ev.matched = response;
  return e;
}

struct Sink : AlertSink {
  std::vector<Alert> alerts;
  void emit(const Alert& a) override { alerts.push_back(a); }
  [[nodiscard]] std::vector<const Alert*> of(std::string_view rule) const {
    std::vector<const Alert*> out;
    for (const auto& a : alerts)
      if (a.rule->name == rule) out.push_back(&a);
    return out;
  }
};

template <class V>
const V* evidence(const Alert& a, std::string_view key) {
  for (const auto& [k, v] : a.evidence)
    if (k == key) return std::get_if<V>(&v);
  return nullptr;
}

// Every rule but intel_match (and rogue_resolver, to see tagging of another rule) off; rules
// being added next to this one (issue 7) too, once they exist.
template <class S>
void disable_other_new_rules(S& s) {
  if constexpr (requires { s.answer_change.enabled; }) s.answer_change.enabled = false;
  if constexpr (requires { s.spoofed_response.enabled; }) s.spoofed_response.enabled = false;
}
DetectorSettings intel_settings(std::shared_ptr<const IntelLists> l) {
  DetectorSettings s;
  s.zone_transfer.enabled = s.enumeration.enabled = s.recon_sweep.enabled = false;
  s.tunneling.enabled = s.beaconing.enabled = s.cache_snooping.enabled = s.resolver_switch.enabled = false;
  disable_other_new_rules(s);
  s.network.resolvers = {*sensor::Prefix::parse("10.20.0.53")};
  s.intel.lists = std::move(l);
  return s;
}

}  // namespace

TEST_CASE("intel lists: comments, blank lines, CRLF and entry normalisation", "[intel]") {
  const auto l = lists("# C2 servers\n\n198.51.100.53   # tunnel\r\n203.0.113.0/24\n2001:DB8:66::/48\n10.1.2.3/8\n",
                       "# domains\nBadExample.IO.\n  evil.example.net  \r\n_dmarc.example.org # service label\n");
  REQUIRE(l->lists().size() == 2);
  CHECK(l->lists()[0].name == "ips.txt");
  CHECK(l->lists()[0].entries == 4);
  CHECK_FALSE(l->lists()[0].domains);
  CHECK(l->lists()[1].name == "domains.txt");
  CHECK(l->lists()[1].entries == 3);
  CHECK(l->lists()[1].domains);
  // Full-length prefixes print as addresses; host bits are masked off.
  CHECK(found(*l, "198.51.100.53") == "198.51.100.53");
  CHECK(found(*l, "203.0.113.77") == "203.0.113.0/24");
  CHECK(found(*l, "2001:db8:66:1::9") == "2001:db8:66::/48");
  CHECK(found(*l, "10.200.0.1") == "10.0.0.0/8");
  CHECK(found(*l, "badexample.io") == "badexample.io");
  CHECK(found(*l, "evil.example.net") == "evil.example.net");
  CHECK(found(*l, "_dmarc.example.org") == "_dmarc.example.org");
  CHECK_FALSE(l->empty());
}

TEST_CASE("intel lists: IPv4 and IPv6 CIDR lookups, nested prefixes, boundaries", "[intel]") {
  const auto l = lists("10.0.0.0/8\n10.1.0.0/16\n10.1.2.0/24\n192.0.2.255\n2001:db8::/32\n2001:db8:1::/48\n::/0\n", "");
  CHECK(found(*l, "10.1.2.3") == "10.1.2.0/24");  // most specific
  CHECK(found(*l, "10.1.3.1") == "10.1.0.0/16");  // after the /24: its parent
  CHECK(found(*l, "10.2.0.1") == "10.0.0.0/8");   // after the /16: the grandparent
  CHECK(found(*l, "10.255.255.255") == "10.0.0.0/8");
  CHECK(found(*l, "11.0.0.0") == "");
  CHECK(found(*l, "9.255.255.255") == "");
  CHECK(found(*l, "192.0.2.255") == "192.0.2.255");
  CHECK(found(*l, "192.0.2.254") == "");
  CHECK(found(*l, "2001:db8:1::5") == "2001:db8:1::/48");
  CHECK(found(*l, "2001:db8:2::5") == "2001:db8::/32");
  CHECK(found(*l, "2001:db9::1") == "::/0");
  // ::/0 is an IPv6 entry: it does not swallow IPv4 (mapped) addresses, and IPv4 entries
  // never match IPv6 addresses.
  CHECK(found(*l, "8.8.8.8") == "");
  const auto v4only = lists("0.0.0.0/0\n", "");
  CHECK(found(*v4only, "8.8.8.8") == "0.0.0.0/0");
  CHECK(found(*v4only, "::ffff:0:808:808") == "");
  CHECK(found(*v4only, "2001:db8::1") == "");
}

TEST_CASE("intel lists: disjoint prefixes and many entries", "[intel]") {
  // 4096 /32s and a covering /20 around them: every lookup walks to the right entry.
  std::string text = "172.16.0.0/20\n";
  for (int i = 0; i < 4096; i += 2) text += "172.16." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "\n";
  const auto l = lists(text, "");
  CHECK(l->lists()[0].entries == 2049);
  CHECK(found(*l, "172.16.3.4") == "172.16.3.4");
  CHECK(found(*l, "172.16.3.5") == "172.16.0.0/20");
  CHECK(found(*l, "172.16.16.0") == "");
}

TEST_CASE("intel lists: domain suffixes match the domain and every name under it", "[intel]") {
  const auto l = lists("", "badexample.io\nc2.example.net\nexample.net\n");
  CHECK(found(*l, "badexample.io") == "badexample.io");
  CHECK(found(*l, "check.beacon.badexample.io") == "badexample.io");
  CHECK(found(*l, "notbadexample.io") == "");
  CHECK(found(*l, "badexample.io.evil.com") == "");
  CHECK(found(*l, "io") == "");
  // The most specific entry wins.
  CHECK(found(*l, "x.c2.example.net") == "c2.example.net");
  CHECK(found(*l, "www.example.net") == "example.net");

  SECTION("from a question name's precomputed suffix hashes, as on the packet path") {
    for (const auto& [name, want] : std::vector<std::pair<std::string, std::string>>{
             {"check.beacon.BadExample.IO", "badexample.io"},
             {"badexample.io", "badexample.io"},
             {"x.c2.example.net", "c2.example.net"},
             {"www.example.net", "example.net"},
             {"notbadexample.io", ""},
             {"example.com", ""},
             // deeper than the 16 precomputed suffixes: the text path
             {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.badexample.io", "badexample.io"}}) {
      const auto e = query(name, "10.20.1.11", "10.20.0.53");
      const Indicator* i = l->find(*e->ev.qname);
      CHECK((i == nullptr ? std::string() : i->text) == want);
    }
  }
}

TEST_CASE("intel lists: bad lines are named by file and line and skipped", "[intel]") {
  std::vector<std::string> p;
  const auto l = lists("198.51.100.53\nnot-an-address\n10.0.0.0/33\n\n2001:db8::/129\n",
                       "ok.example\n*.wild.example\nhttp://evil.example/x\n192.0.2.1\na..b\n" + std::string(64, 'a') +
                           ".example\nbücher.example\n.lead\n",
                       &p);
  REQUIRE(p.size() == 10);
  CHECK(p[0].rfind("/etc/dnsvigil/ips.txt:2: 'not-an-address': not an IP address", 0) == 0);
  CHECK(p[1].rfind("/etc/dnsvigil/ips.txt:3: '10.0.0.0/33'", 0) == 0);
  CHECK(p[2].rfind("/etc/dnsvigil/ips.txt:5: '2001:db8::/129'", 0) == 0);
  CHECK(p[3].rfind("/etc/dnsvigil/domains.txt:2: '*.wild.example': write the domain without '*.'", 0) == 0);
  CHECK(p[4].find("domains.txt:3:") != std::string::npos);
  CHECK(p[4].find("URL") != std::string::npos);
  CHECK(p[5].find("domains.txt:4:") != std::string::npos);
  CHECK(p[5].find("intel.ip_files") != std::string::npos);
  CHECK(p[6].find("domains.txt:5:") != std::string::npos);
  CHECK(p[7].find("longer than 63") != std::string::npos);
  CHECK(p[8].find("punycode") != std::string::npos);
  CHECK(p[9].find("domains.txt:8:") != std::string::npos);
  // The good lines still load.
  CHECK(l->lists()[0].entries == 1);
  CHECK(l->lists()[1].entries == 1);
  CHECK(found(*l, "www.ok.example") == "ok.example");
}

TEST_CASE("intel lists: a flood of bad lines is reported with a cap", "[intel]") {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "junk line\n";
  std::vector<std::string> p;
  (void)lists(text, "", &p);
  REQUIRE(p.size() == IntelLists::kMaxProblems + 1);
  CHECK(p.back() == "/etc/dnsvigil/ips.txt: 80 more bad lines not shown");
}

TEST_CASE("intel lists: files are read, and missing or unreadable ones are problems", "[intel]") {
  const auto dir = std::filesystem::temp_directory_path() / ("dnsvigil-intel-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto good = (dir / "c2.txt").string();
  std::ofstream(good) << "# lab\nbadexample.io\n";
  const auto empty = (dir / "empty.txt").string();
  std::ofstream(empty) << "";
  IntelLists l;
  std::vector<std::string> p;
  l.add_file(Kind::domain, good, p);
  l.add_file(Kind::domain, empty, p);
  l.add_file(Kind::ip, (dir / "missing.txt").string(), p);
  l.add_file(Kind::ip, dir.string(), p);
  l.finish();
  REQUIRE(p.size() == 2);
  CHECK(p[0].find("missing.txt: cannot read the list file") != std::string::npos);
  CHECK(p[1].find(dir.string() + ": cannot read the list file: not a regular file") != std::string::npos);
  REQUIRE(l.lists().size() == 2);
  CHECK(l.lists()[0].name == "c2.txt");
  CHECK(l.lists()[1].entries == 0);  // an empty list is valid
  CHECK(found(l, "x.badexample.io") == "badexample.io");
  std::filesystem::remove_all(dir);
}

TEST_CASE("intel lists: nothing configured matches nothing", "[intel]") {
  IntelLists l;
  l.finish();
  CHECK(l.empty());
  CHECK(l.find(ip("8.8.8.8")) == nullptr);
  CHECK(l.find(std::string_view("badexample.io")) == nullptr);
  const auto e = query("badexample.io", "10.20.1.11", "10.20.0.53");
  CHECK(l.find(*e->ev.qname) == nullptr);
}

TEST_CASE("intel tags: client, server and question name of any alert", "[intel]") {
  const auto l = lists("10.20.1.66\n2001:db8:53::/48\n", "badexample.io\n");
  Alert a;
  a.has_client = a.has_server = true;
  a.client = ip("10.20.1.66");
  a.server = ip("2001:db8:53::1");
  a.qname = "check.beacon.badexample.io";
  tag_alert(*l, a);
  REQUIRE(a.intel.size() == 3);
  CHECK(a.intel[0].field == "source.ip");
  CHECK(a.intel[0].type == "ipv4-addr");
  CHECK(a.intel[0].indicator == "10.20.1.66");
  CHECK(a.intel[0].list == "ips.txt");
  CHECK(a.intel[1].field == "destination.ip");
  CHECK(a.intel[1].type == "ipv6-addr");
  CHECK(a.intel[1].indicator == "2001:db8:53::/48");
  CHECK(a.intel[1].matched == "2001:db8:53::1");
  CHECK(a.intel[2].field == "dns.question.name");
  CHECK(a.intel[2].type == "domain-name");
  CHECK(a.intel[2].matched == "check.beacon.badexample.io");
  CHECK(a.intel[2].list == "domains.txt");

  Alert zone;  // a zone-wide alert: no client, no question name, only a registered domain
  zone.registered_domain = "badexample.io";
  tag_alert(*l, zone);
  REQUIRE(zone.intel.size() == 1);
  CHECK(zone.intel[0].field == "dns.question.registered_domain");

  Alert clean;
  clean.has_client = true;
  clean.client = ip("10.20.1.10");
  clean.qname = "example.com";
  tag_alert(*l, clean);
  CHECK(clean.intel.empty());
}

TEST_CASE("intel_match: one alert per (client, indicator), with kind, list and counts", "[intel][engine]") {
  Sink sink;
  Engine engine(intel_settings(lists("198.51.100.53\n", "badexample.io\n")), sink);
  // A workstation looks up a listed name three times (query and response), via the resolver.
  std::vector<std::unique_ptr<Event>> evs;
  for (int i = 0; i < 3; ++i) {
    const Timestamp t = kT0 + i * 5 * kNanosPerSecond;
    evs.push_back(query("check.beacon.badexample.io", "10.20.1.11", "10.20.0.53", t));
    evs.push_back(query("check.beacon.badexample.io", "10.20.1.11", "10.20.0.53", t + 1000, true));
  }
  // The resolver asks the listed server; the listed server sends a query of its own.
  evs.push_back(query("t1.badexample.org", "10.20.0.53", "198.51.100.53", kT0 + 20 * kNanosPerSecond));
  evs.push_back(query("example.com", "198.51.100.53", "10.20.0.10", kT0 + 21 * kNanosPerSecond));
  // Nothing listed.
  evs.push_back(query("example.com", "10.20.1.12", "10.20.0.53", kT0 + 22 * kNanosPerSecond));
  for (const auto& e : evs) {
    engine.on_event(e->ev);
    engine.on_tick(e->ev.ts);
  }
  engine.finish();
  const auto fresh = [&] {
    std::vector<const Alert*> out;
    for (const auto* a : sink.of("intel_match"))
      if (!a->summary) out.push_back(a);
    return out;
  }();
  REQUIRE(fresh.size() == 3);
  const Alert& dom = *fresh[0];
  CHECK(dom.rule->id == "dnsvigil-0011");
  CHECK(dom.client == ip("10.20.1.11"));
  CHECK(dom.severity == Severity::high);
  CHECK(*evidence<std::string>(dom, "indicator") == "badexample.io");
  CHECK(*evidence<std::string>(dom, "list") == "domains.txt");
  CHECK(*evidence<std::string>(dom, "match") == "domain");
  CHECK(*evidence<std::int64_t>(dom, "queries") == 1);
  REQUIRE(dom.intel.size() == 1);  // tagged by the engine like every other alert
  CHECK(dom.intel[0].indicator == "badexample.io");

  const Alert& srv = *fresh[1];
  CHECK(srv.client == ip("10.20.0.53"));
  CHECK(*evidence<std::string>(srv, "match") == "server");
  CHECK(*evidence<std::string>(srv, "indicator") == "198.51.100.53");
  CHECK(*evidence<bool>(srv, "client_is_resolver"));
  CHECK(srv.severity == Severity::medium);

  const Alert& cli = *fresh[2];
  CHECK(cli.client == ip("198.51.100.53"));
  CHECK(*evidence<std::string>(cli, "match") == "client");

  // The later matches of the first pair reach its summary with the counts.
  const auto all = sink.of("intel_match");
  const Alert* summary = nullptr;
  for (const auto* a : all)
    if (a->summary && a->client == ip("10.20.1.11")) summary = a;
  REQUIRE(summary != nullptr);
  CHECK(summary->suppressed == 5);
  CHECK(*evidence<std::int64_t>(*summary, "queries") == 3);
  CHECK(*evidence<std::int64_t>(*summary, "responses") == 3);

  bool reported = false;
  for (const auto& s : engine.stats())
    if (s.rule == "intel_match") {
      reported = true;
      CHECK(s.keys == 3);
      CHECK(s.triggers == 8);
    }
  CHECK(reported);
}

TEST_CASE("intel_match: silent without lists, and honours its allowlist", "[intel][engine]") {
  const auto e = query("check.beacon.badexample.io", "10.20.1.11", "10.20.0.53");
  {
    Sink sink;
    Engine engine(intel_settings(nullptr), sink);
    engine.on_event(e->ev);
    engine.finish();
    CHECK(sink.alerts.empty());
  }
  {
    Sink sink;
    Engine engine(intel_settings(lists("", "# nothing yet\n")), sink);
    engine.on_event(e->ev);
    engine.finish();
    CHECK(sink.alerts.empty());
  }
  {
    Sink sink;
    auto s = intel_settings(lists("", "badexample.io\n"));
    s.intel_match.allow.clients = {*sensor::Prefix::parse("10.20.1.0/24")};
    Engine engine(s, sink);
    engine.on_event(e->ev);
    engine.finish();
    CHECK(sink.alerts.empty());
  }
}

TEST_CASE("intel tags reach another rule's alerts", "[intel][engine]") {
  Sink sink;
  auto s = intel_settings(lists("8.8.8.8\n", ""));
  s.intel_match.enabled = false;
  Engine engine(s, sink);
  // rogue_resolver: an internal client asks an outside server directly.
  const auto q = query("microsoft.com", "10.20.1.10", "8.8.8.8");
  const auto r = query("microsoft.com", "10.20.1.10", "8.8.8.8", kT0 + 1000, true);
  engine.on_event(q->ev);
  engine.on_event(r->ev);
  engine.finish();
  const auto rogue = sink.of("rogue_resolver");
  REQUIRE_FALSE(rogue.empty());
  REQUIRE(rogue[0]->intel.size() == 1);
  CHECK(rogue[0]->intel[0].field == "destination.ip");
  CHECK(rogue[0]->intel[0].indicator == "8.8.8.8");
  CHECK(rogue[0]->intel[0].list == "ips.txt");
}
