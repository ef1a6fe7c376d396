// Allowlists and client roles (detect/policy.hpp): client and server CIDRs (IPv4 and IPv6),
// registered domains and their subdomains, roles (resolver, secondary, mail server, scanner),
// and resolvers learned from traffic.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "detect_fixture.hpp"
#include "dns_builder.hpp"
#include "dnsvigil/detect/policy.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/names.hpp"

using namespace dnsvigil;
using namespace dnsvigil::detect;
using dnsvigil::test::Wire;
using namespace dnsvigil::detect_test;

namespace {



std::unique_ptr<Event> dns(bool response, std::string_view client, std::string_view server, std::string_view name,
                           bool rd = true, Timestamp ts = kT0) {
  Wire w;
  const std::uint16_t flags = static_cast<std::uint16_t>((response ? 0x8080 : 0) | (rd ? 0x0100 : 0));
  w.header(0x1234, flags, 1, 0, 0, 0);
  w.name(name).qtc(1);
  auto e = parsed(w);
  e->ev.ts = ts;
  e->ev.src = ip(response ? server : client);
  e->ev.dst = ip(response ? client : server);
  e->ev.sport = response ? 53 : 40000;
  e->ev.dport = response ? 40000 : 53;
  e->ev.ip_version = static_cast<std::uint8_t>(e->ev.src.family());
  return e;
}

}  // namespace

// ----------------------------------------------------------------------------- CIDR prefixes

TEST_CASE("allowlist: IPv4 CIDRs", "[allowlist][prefix]") {
  const Prefixes p(pfxs({"192.0.2.0/24", "10.0.0.0/8", "198.51.100.7", "172.16.0.0/12"}));
  CHECK(p.contains(ip("192.0.2.0")));
  CHECK(p.contains(ip("192.0.2.255")));
  CHECK_FALSE(p.contains(ip("192.0.3.1")));
  CHECK(p.contains(ip("10.255.0.1")));
  CHECK_FALSE(p.contains(ip("11.0.0.1")));
  CHECK(p.contains(ip("198.51.100.7")));  // bare address = /32
  CHECK_FALSE(p.contains(ip("198.51.100.8")));
  CHECK(p.contains(ip("172.31.255.255")));  // /12 is not on an octet boundary
  CHECK_FALSE(p.contains(ip("172.32.0.0")));
  CHECK_FALSE(p.contains(ip("2001:db8::1")));
  CHECK_FALSE(p.contains(ip("::a00:1")));  // ::10.0.0.1 (not mapped) is IPv6
  CHECK_FALSE(Prefixes().contains(ip("10.0.0.1")));
  CHECK(Prefixes().empty());
}

TEST_CASE("allowlist: IPv6 CIDRs", "[allowlist][prefix]") {
  const Prefixes p(pfxs({"2001:db8:1::/48", "fc00::/7", "2001:db8:ffff::53"}));
  CHECK(p.contains(ip("2001:db8:1::1")));
  CHECK(p.contains(ip("2001:db8:1:ffff:ffff:ffff:ffff:ffff")));
  CHECK_FALSE(p.contains(ip("2001:db8:2::1")));
  CHECK(p.contains(ip("fd12:3456::1")));
  CHECK(p.contains(ip("fc00::")));
  CHECK_FALSE(p.contains(ip("fe80::1")));
  CHECK(p.contains(ip("2001:db8:ffff::53")));  // bare address = /128
  CHECK_FALSE(p.contains(ip("2001:db8:ffff::54")));
  CHECK_FALSE(p.contains(ip("10.0.0.1")));
}

// Regression (addr.cpp Prefix::contains): IPv4 is stored as ::ffff:a.b.c.d, so an IPv6 prefix
// covering ::ffff:0:0/96 (::/0, ::/8, ::/64 ...) used to match every IPv4 address.
TEST_CASE("allowlist: an IPv6 prefix never allows IPv4 clients", "[allowlist][prefix]") {
  for (const char* text : {"::/0", "::/8", "::/64"}) {
    INFO("allowlist entry " << text);
    const Prefixes p(pfxs({text}));
    CHECK(p.contains(ip("2001:db8::1")) == (std::string_view(text) == "::/0"));
    CHECK_FALSE(p.contains(ip("203.0.113.9")));
    CHECK_FALSE(p.contains(ip("10.1.2.3")));
  }
}

// -------------------------------------------------------------------------------- Domains

TEST_CASE("allowlist: a domain covers itself and its subdomains, not look-alikes", "[allowlist][domain]") {
  const DomainList d({"example.com", "corp.local"});
  CHECK(d.matches("example.com"));
  CHECK(d.matches("www.example.com"));
  CHECK(d.matches("a.b.c.example.com"));
  CHECK_FALSE(d.matches("badexample.com"));
  CHECK_FALSE(d.matches("example.com.evil.net"));
  CHECK_FALSE(d.matches("example.co"));
  CHECK_FALSE(d.matches("com"));
  CHECK(d.matches("dc01.corp.local"));
  CHECK_FALSE(d.matches("local"));
  CHECK_FALSE(DomainList().matches("example.com"));
  CHECK(DomainList().empty());
}

TEST_CASE("allowlist: domain entries are case-folded and lose trailing dots, empty ones are ignored",
          "[allowlist][domain]") {
  const DomainList d({"Example.COM.", "", "."});
  CHECK_FALSE(d.empty());
  CHECK(d.matches("example.com"));
  CHECK(d.matches("mail.example.com"));
  CHECK_FALSE(d.matches("example.org"));
  CHECK(DomainList({"", "."}).empty());
}

TEST_CASE("allowlist: matching a question name agrees with matching its text (also past 16 labels)",
          "[allowlist][domain]") {
  const DomainList d({"sophosxl.net", "2.0.192.in-addr.arpa"});
  const std::string deep = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.sophosxl.net";  // 22 labels
  for (const std::string& name :
       {std::string("x.sophosxl.net"), deep, std::string("sophosxl.network"), std::string("7.2.0.192.in-addr.arpa"),
        std::string("7.3.0.192.in-addr.arpa"), std::string("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.example.net")}) {
    INFO(name);
    const auto e = dns(false, "10.0.0.1", "10.0.0.53", name);
    CHECK(d.matches(*e->ev.qname) == d.matches(name));
  }
  CHECK(d.matches(*dns(false, "10.0.0.1", "10.0.0.53", deep)->ev.qname));
  CHECK(d.matches(*dns(false, "10.0.0.1", "10.0.0.53", "WWW.SophosXL.Net")->ev.qname));
}

// ------------------------------------------------------------------------------ AllowMatcher

TEST_CASE("allowlist: client CIDR, server CIDR and domain each allow an event", "[allowlist]") {
  Allowlist a;
  a.clients = pfxs({"10.1.0.0/16", "2001:db8:c::/48"});
  a.servers = pfxs({"192.0.2.53"});
  a.domains = {"example.com"};
  const AllowMatcher m(a);

  CHECK(m.allows(dns(false, "10.1.2.3", "198.51.100.1", "x.other.org")->ev));
  CHECK(m.allows(dns(false, "2001:db8:c::9", "2001:db8:53::1", "x.other.org")->ev));
  CHECK(m.allows(dns(false, "10.2.0.1", "192.0.2.53", "x.other.org")->ev));
  CHECK(m.allows(dns(false, "10.2.0.1", "198.51.100.1", "www.example.com")->ev));
  CHECK_FALSE(m.allows(dns(false, "10.2.0.1", "198.51.100.1", "x.other.org")->ev));
  CHECK_FALSE(m.allows(dns(false, "2001:db8:d::9", "2001:db8:53::1", "x.other.org")->ev));
  // In a response the client is the destination and the server the source.
  CHECK(m.allows(dns(true, "10.1.2.3", "198.51.100.1", "x.other.org")->ev));
  CHECK(m.allows(dns(true, "10.2.0.1", "192.0.2.53", "x.other.org")->ev));
  // The allowlisted server as a *client* is not allowed, nor a listed client as a server.
  CHECK_FALSE(m.allows(dns(false, "192.0.2.53", "198.51.100.1", "x.other.org")->ev));
  CHECK_FALSE(m.allows(dns(false, "10.2.0.1", "10.1.2.3", "x.other.org")->ev));
  // The root name never matches a domain entry.
  CHECK_FALSE(m.allows(dns(false, "10.2.0.1", "198.51.100.1", ".")->ev));
  // An empty allowlist allows nothing.
  CHECK_FALSE(AllowMatcher().allows(dns(false, "10.1.2.3", "192.0.2.53", "www.example.com")->ev));
}

// ----------------------------------------------------------------------------- Policy roles

TEST_CASE("policy: internal networks, secondaries, mail servers and scanners from settings", "[allowlist][policy]") {
  DetectorSettings s;
  s.network.secondaries = pfxs({"10.0.0.2"});
  s.network.mail_servers = pfxs({"10.0.25.0/24"});
  s.network.scanners = pfxs({"2001:db8:5ca::/48"});
  const Policy p(s);
  // Default internal space: RFC 1918 and ULA.
  CHECK(p.internal(ip("10.9.9.9")));
  CHECK(p.internal(ip("172.20.0.1")));
  CHECK(p.internal(ip("192.168.1.1")));
  CHECK(p.internal(ip("fd00::1")));
  CHECK_FALSE(p.internal(ip("8.8.8.8")));
  CHECK_FALSE(p.internal(ip("2001:db8::1")));
  CHECK(p.secondary(ip("10.0.0.2")));
  CHECK_FALSE(p.secondary(ip("10.0.0.3")));
  CHECK(p.mail_server(ip("10.0.25.7")));
  CHECK_FALSE(p.mail_server(ip("10.0.26.7")));
  CHECK(p.scanner(ip("2001:db8:5ca::1")));
  CHECK_FALSE(p.scanner(ip("10.0.25.7")));
  CHECK(p.role() == Role::tap);
}

TEST_CASE("policy: configured resolvers are the only resolvers (nothing is learned)", "[allowlist][policy]") {
  DetectorSettings s;
  s.network.resolvers = pfxs({"10.0.0.53"});
  Policy p(s);
  CHECK(p.resolvers_configured());
  CHECK(p.resolver(ip("10.0.0.53")));
  // 10.0.0.54 answers many internal clients, but the configuration wins.
  for (int c = 1; c <= 10; ++c) p.observe(dns(true, "10.0.1." + std::to_string(c), "10.0.0.54", "example.com")->ev);
  CHECK_FALSE(p.resolver(ip("10.0.0.54")));
  CHECK(p.learned_resolvers() == 0);
}

TEST_CASE("policy: a server answering many internal clients is learned as a resolver", "[allowlist][policy]") {
  DetectorSettings s;
  REQUIRE(s.rogue_resolver.learn_min_clients == 3);
  Policy p(s);
  // Two distinct clients, many times: never (the client count is a sketch of distinct clients).
  for (int i = 0; i < 20; ++i) p.observe(dns(true, i % 2 ? "10.0.1.1" : "10.0.1.2", "10.0.0.53", "example.com")->ev);
  CHECK_FALSE(p.resolver(ip("10.0.0.53")));
  CHECK(p.learned_resolvers() == 0);
  // Eight distinct clients: learned.
  for (int c = 3; c <= 8; ++c) p.observe(dns(true, "10.0.1." + std::to_string(c), "10.0.0.53", "example.com")->ev);
  CHECK(p.resolver(ip("10.0.0.53")));
  CHECK(p.learned_resolvers() == 1);
  // Answers to external clients or from external servers teach nothing.
  for (int c = 1; c <= 10; ++c) p.observe(dns(true, "203.0.113." + std::to_string(c), "10.0.0.54", "example.com")->ev);
  for (int c = 1; c <= 10; ++c) p.observe(dns(true, "10.0.1." + std::to_string(c), "198.51.100.53", "example.com")->ev);
  CHECK_FALSE(p.resolver(ip("10.0.0.54")));
  CHECK_FALSE(p.resolver(ip("198.51.100.53")));
  CHECK(p.learned_resolvers() == 1);
}

// The distinct-client count is a 256-register sketch (SharedView::ClientSketch): 10.0.1.1 and
// 10.0.1.3, which shared a register of the earlier 32-register one, are told apart.
TEST_CASE("policy: exactly learn_min_clients distinct internal clients are enough to learn a resolver",
          "[allowlist][policy]") {
  DetectorSettings s;
  Policy p(s);
  for (const char* c : {"10.0.1.1", "10.0.1.2", "10.0.1.3"}) p.observe(dns(true, c, "10.0.0.53", "example.com")->ev);
  CHECK(p.resolver(ip("10.0.0.53")));
}

TEST_CASE("policy: an internal host resolving iteratively (RD=0 to outside servers) is a resolver",
          "[allowlist][policy]") {
  DetectorSettings s;
  Policy p(s);
  p.observe(dns(false, "10.0.0.60", "192.5.6.30", "example.com", false)->ev);
  p.observe(dns(false, "10.0.0.60", "192.5.6.30", "example.com", false)->ev);
  CHECK_FALSE(p.resolver(ip("10.0.0.60")));
  p.observe(dns(false, "10.0.0.60", "199.43.135.53", "example.com", false)->ev);
  CHECK(p.resolver(ip("10.0.0.60")));
  // Stub queries (RD=1) never make a resolver.
  for (int i = 0; i < 10; ++i) p.observe(dns(false, "10.0.0.61", "8.8.8.8", "example.com", true)->ev);
  CHECK_FALSE(p.resolver(ip("10.0.0.61")));
}
