// Registered domains as the detectors key on them (QueryName::registered_domain / domain_hash,
// split by libpsl in sensor/names.hpp), with the special cases of DETECTION.md: reverse names
// grouped by /24 and /64, names that are themselves a public suffix, private-section suffixes,
// unknown TLDs, case, and a configured list file.
#include <catch2/catch.hpp>

#include <xxhash.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

#include "detect_fixture.hpp"
#include "dns_builder.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/names.hpp"

using namespace dnsvigil;
using dnsvigil::test::Wire;

namespace {

// The question name of an A query for `name` (wire octets; no escapes), split by `psl`.
struct Name {
  std::vector<std::uint8_t> wire;
  dnsparse::Message msg;
  sensor::QueryName q;
  Name(std::string_view name, sensor::DomainSplitter& psl) {
    Wire w;
    w.header(1, 0x0100, 1, 0, 0, 0);
    w.name(name).qtc(1);
    wire = w.b;
    REQUIRE(dnsparse::Message::parse(dnsparse::Bytes{wire}, msg) == dnsparse::Error::ok);
    q.set(msg, &psl);
  }
};

std::string registered(std::string_view name, sensor::DomainSplitter& psl = detect_test::psl()) {
  const auto n = std::make_unique<Name>(name, psl);
  return std::string(n->q.registered_domain());
}
std::uint64_t domain_hash(std::string_view name) {
  const auto n = std::make_unique<Name>(name, detect_test::psl());
  return n->q.domain_hash();
}
std::uint64_t xxh(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// The 32 nibbles of 2001:db8:aaaa:bbbb::<host> in ip6.arpa order, host in the last nibble.
std::string ip6_reverse(char net_nibble, char host_nibble) {
  // 2001:0db8:aaaa:bbb<net>:0000:0000:0000:000<host>
  const std::string hex = std::string("20010db8aaaabbb") + net_nibble + "000000000000000" + host_nibble;
  std::string out;
  for (auto it = hex.rbegin(); it != hex.rend(); ++it) {
    out += *it;
    out += '.';
  }
  return out + "ip6.arpa";
}

}  // namespace

TEST_CASE("domains: eTLD+1 from the PSL, one key per registered domain whatever the case", "[domains][psl]") {
  CHECK(registered("www.example.com") == "example.com");
  CHECK(registered("a.b.c.example.co.uk") == "example.co.uk");
  CHECK(registered("WWW.Example.COM") == "example.com");
  // Rules key on domain_hash: equal for every name under the domain and in any case, and
  // equal to the hash of the registered domain text (what allowlists and shared views use).
  CHECK(domain_hash("WWW.Example.COM") == domain_hash("mail.example.com"));
  CHECK(domain_hash("example.com") == xxh("example.com"));
  CHECK(domain_hash("x.example.co.uk") == xxh("example.co.uk"));
  CHECK(domain_hash("www.example.com") != domain_hash("www.example.org"));
  // Never "last two labels" for everything: co.uk names are not one domain.
  CHECK(domain_hash("a.example.co.uk") != domain_hash("a.other.co.uk"));
}

TEST_CASE("domains: in-addr.arpa groups by the /24, ip6.arpa by the /64", "[domains][psl][reverse]") {
  CHECK(registered("7.2.0.192.in-addr.arpa") == "2.0.192.in-addr.arpa");
  CHECK(domain_hash("7.2.0.192.in-addr.arpa") == domain_hash("200.2.0.192.in-addr.arpa"));
  CHECK(domain_hash("7.2.0.192.in-addr.arpa") != domain_hash("7.3.0.192.in-addr.arpa"));
  CHECK(domain_hash("7.2.0.192.in-addr.arpa") == xxh("2.0.192.in-addr.arpa"));
  // A sweep of a /16 gives 256 keys, not one (the PSL alone would give "192.in-addr.arpa").
  CHECK(registered("1.1.168.192.in-addr.arpa") != registered("1.2.168.192.in-addr.arpa"));

  const std::string a = ip6_reverse('0', '1'), b = ip6_reverse('0', 'f'), c = ip6_reverse('1', '1');
  CHECK(registered(a) == "0.b.b.b.a.a.a.a.8.b.d.0.1.0.0.2.ip6.arpa");
  CHECK(registered(a) == registered(b));  // same /64
  CHECK(registered(a) != registered(c));  // next /64
}

// Regression (names.cpp QueryName::set): domain_hash() came from the precomputed suffix hashes
// (at most 16), and an ip6.arpa registered domain has 18 labels, so every reverse IPv6 name was
// its own "domain" for the rules keyed on (client, domain_hash).
TEST_CASE("domains: ip6.arpa names of one /64 share one domain key", "[domains][psl][reverse]") {
  const std::string a = ip6_reverse('0', '1'), b = ip6_reverse('0', 'f');
  REQUIRE(registered(a) == registered(b));
  CHECK(domain_hash(a) == domain_hash(b));
  CHECK(domain_hash(a) == xxh("0.b.b.b.a.a.a.a.8.b.d.0.1.0.0.2.ip6.arpa"));
}

TEST_CASE("domains: a public suffix alone is its own registered domain", "[domains][psl]") {
  CHECK(registered("co.uk") == "co.uk");
  CHECK(registered("com") == "com");
  CHECK(domain_hash("co.uk") == xxh("co.uk"));
  CHECK(domain_hash("co.uk") != domain_hash("uk"));
}

TEST_CASE("domains: private-section suffixes separate their customers", "[domains][psl]") {
  // github.io and blogspot.com are in the PSL's private section: each customer is a domain.
  CHECK(registered("www.alice.github.io") == "alice.github.io");
  CHECK(domain_hash("x.alice.github.io") != domain_hash("x.bob.github.io"));
  CHECK(registered("a.alice.blogspot.com") == "alice.blogspot.com");
}

TEST_CASE("domains: names without a known public suffix take the last two labels", "[domains][psl]") {
  CHECK(registered("dc01.corp.local") == "corp.local");
  CHECK(registered("a.b.pirate.sea") == "pirate.sea");
  CHECK(registered("wpad.lan") == "wpad.lan");
  CHECK(registered("localhost") == "localhost");
  CHECK(domain_hash("x.corp.local") == xxh("corp.local"));
}

TEST_CASE("domains: names from the wire have no trailing dot, the root has no registered domain",
          "[domains][psl]") {
  const auto n = std::make_unique<Name>("Mail.Example.COM.", detect_test::psl());
  CHECK(n->q.lower() == "mail.example.com");
  CHECK(n->q.registered_domain() == "example.com");
  const auto root = std::make_unique<Name>(".", detect_test::psl());
  CHECK(root->q.registered_domain().empty());
  CHECK(root->q.subdomain().empty());
}

TEST_CASE("domains: a configured list file replaces the system list", "[domains][psl]") {
  // A tiny list in the PSL's .dat format: "com", a private suffix under it, and a wildcard.
  char path[] = "/tmp/dnsvigil-test-psl-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream f(path);
    f << "// test list\ncom\n"
         "// ===BEGIN PRIVATE DOMAINS===\nhosting.com\n*.lab\n"
         "// ===END PRIVATE DOMAINS===\n";
  }
  sensor::DomainSplitter custom{std::string(path)};
  std::remove(path);
  CHECK(custom.source() == path);
  CHECK(registered("a.b.hosting.com", custom) == "b.hosting.com");
  CHECK(registered("a.b.hosting.com") == "hosting.com");  // the system list has no such rule
  CHECK(registered("x.y.z.lab", custom) == "y.z.lab");    // wildcard rule
  // uk/co.uk are not in this list: the implicit "*" rule gives the last two labels.
  CHECK(registered("www.example.co.uk", custom) == "co.uk");
  CHECK(registered("www.example.co.uk") == "example.co.uk");
  // Reverse names keep their special case whatever the list.
  CHECK(registered("4.3.2.1.in-addr.arpa", custom) == "3.2.1.in-addr.arpa");
  CHECK_THROWS_AS(sensor::DomainSplitter(std::string("/nonexistent/psl.dat")), std::runtime_error);
}
