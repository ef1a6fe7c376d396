// What the name-keyed rules learn about a question name before judging it (detect/policy.hpp,
// features.hpp): name_traits (catalogued services, allowlists, blocklist-style reversed
// addresses, standard service names, ACME, public TLDs, search-list expansions),
// standard_service_name, reverse_address and role_names; word-list labels (wordlike_label,
// NameFeatures::words_only); and the de-facto resolvers of select_defacto (detect/shared.hpp).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "detect_fixture.hpp"
#include "dns_builder.hpp"
#include "dnsvigil/detect/features.hpp"
#include "dnsvigil/detect/policy.hpp"
#include "dnsvigil/detect/shared.hpp"
#include "dnsvigil/sensor/services.hpp"

using namespace dnsvigil;
using namespace dnsvigil::detect;
using namespace dnsvigil::detect_test;
using dnsvigil::test::Wire;

namespace {

// An A query for `name`, split by the system list and classified by the built-in catalogue.
std::unique_ptr<Event> named(std::string_view name) {
  Wire w;
  w.header(0x4242, 0x0100, 1, 0, 0, 0);
  w.name(name).qtc(1);
  auto e = parsed(w);
  e->qname.set(e->msg, &psl(), sensor::ServiceCatalogue::builtin().get());
  return e;
}

NameTraits traits(std::string_view name, const DomainList& allow = DomainList()) {
  const auto e = named(name);
  return name_traits(e->qname, allow);
}

// reverse_address as text ("" when the name is no reverse name).
std::string reversed(std::string_view lower) {
  sensor::IpAddr a;
  return reverse_address(lower, a) ? a.text() : std::string();
}

// The words_only feature of a name whose subdomain is its first label(s) before example.com.
bool words_only(std::string_view sub, std::size_t entropy_from = 16) {
  const std::string lower = std::string(sub) + ".example.com";
  return name_features(lower, sub, 3, entropy_from).words_only;
}

using Used = std::vector<std::pair<sensor::IpAddr, double>>;

std::vector<std::string> servers(const Used& v) {
  std::vector<std::string> out;
  for (const auto& [a, n] : v) out.push_back(a.text());
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------ name_traits

TEST_CASE("traits: catalogued services and allowlisted domains", "[traits]") {
  const NameTraits dnsbl = traits("1.2.0.127.zen.spamhaus.org");
  REQUIRE(dnsbl.service != nullptr);
  CHECK(dnsbl.service->domain == "zen.spamhaus.org");
  CHECK(dnsbl.service->kind == sensor::ServiceKind::blocklist);
  CHECK(dnsbl.benign());

  const NameTraits cdn = traits("d1234abcd.cloudfront.net");
  REQUIRE(cdn.service != nullptr);
  CHECK(cdn.service->kind == sensor::ServiceKind::cdn);

  const NameTraits plain = traits("www.example.com");
  CHECK(plain.service == nullptr);
  CHECK_FALSE(plain.allowlisted);
  CHECK_FALSE(plain.reversed_ip);
  CHECK_FALSE(plain.service_label);
  CHECK_FALSE(plain.acme);
  CHECK(plain.public_tld);
  CHECK(plain.expansion == 0);
  CHECK_FALSE(plain.benign());

  const DomainList allow({"Example.NET."});
  CHECK(traits("a.b.example.net", allow).allowlisted);
  CHECK(traits("example.net", allow).allowlisted);
  CHECK(traits("a.example.net", allow).benign());
  CHECK_FALSE(traits("example.network", allow).allowlisted);
  CHECK_FALSE(traits("notexample.net", allow).allowlisted);
}

TEST_CASE("traits: reversed addresses in front of a zone outside .arpa", "[traits]") {
  CHECK(traits("1.2.3.4.dnsbl.example.com").reversed_ip);
  CHECK(traits("255.0.10.0.rbl.example.org").reversed_ip);
  CHECK(traits("4.3.2.1.bl.corp.local").reversed_ip);
  CHECK(traits("4.3.2.1.bl.corp.local").benign());
  // Not four octets 0..255 without leading zeros.
  CHECK_FALSE(traits("256.2.3.4.dnsbl.example.com").reversed_ip);
  CHECK_FALSE(traits("01.2.3.4.dnsbl.example.com").reversed_ip);
  CHECK_FALSE(traits("1.2.3.dnsbl.example.com").reversed_ip);
  CHECK_FALSE(traits("1.2.3.x4.dnsbl.example.com").reversed_ip);
  CHECK_FALSE(traits("1234.2.3.4.dnsbl.example.com").reversed_ip);
  CHECK_FALSE(traits("1.2.3.4").reversed_ip);  // no zone after the address
  // The reverse tree is not a blocklist.
  CHECK_FALSE(traits("4.3.2.1.in-addr.arpa").reversed_ip);

  // 32 nibbles (an IPv6 address) in front of a zone; 31 are not enough. (Leading letters, so
  // that no four decimal nibbles read as a reversed IPv4 address.)
  std::string nibbles;
  for (int i = 0; i < 32; ++i) nibbles += std::string(1, "fedcba9876543210"[i % 16]) + ".";
  CHECK(traits(nibbles + "zen.spamhaus.org").reversed_ip);
  CHECK(traits(nibbles + "dnsbl.example.com").reversed_ip);
  CHECK_FALSE(traits(nibbles.substr(2) + "dnsbl.example.com").reversed_ip);
  CHECK_FALSE(traits(nibbles + "ip6.arpa").reversed_ip);
  std::string bad = nibbles;
  bad[20] = 'g';  // the 11th nibble is no hex digit
  CHECK_FALSE(traits(bad + "dnsbl.example.com").reversed_ip);
}

TEST_CASE("traits: a zone whose last label merely ends in 'arpa' is not the reverse tree", "[traits]") {
  // policy.hpp: a reversed address "under a zone other than .arpa"; bl.localarpa is one.
  CHECK(traits("4.3.2.1.bl.localarpa").reversed_ip);
}

TEST_CASE("traits: service labels, ACME, public TLDs and search-list expansions", "[traits]") {
  CHECK(traits("sel1._domainkey.example.com").service_label);
  CHECK(traits("_dmarc.example.com").service_label);
  const NameTraits acme = traits("_acme-challenge.www.example.com");
  CHECK(acme.acme);
  CHECK(acme.service_label);
  CHECK_FALSE(acme.benign());  // a service name is not benign by itself
  CHECK_FALSE(traits("acme-challenge.example.com").acme);
  CHECK_FALSE(traits("www._acme-challenge.example.com").acme);

  CHECK_FALSE(traits("redis.default.svc.cluster.local").public_tld);
  CHECK_FALSE(traits("host.corp").public_tld);
  CHECK(traits("bbc.co.uk").public_tld);

  const std::string k8s = "api.github.com.default.svc.cluster.local";
  const NameTraits exp = traits(k8s);
  CHECK(exp.expansion == k8s.find("default"));
  CHECK_FALSE(exp.public_tld);
  CHECK(traits("www.example.org.corp.example.com").expansion == std::string_view("www.example.org.").size());

  // An empty question name has the defaults.
  sensor::QueryName none;
  const NameTraits t = name_traits(none, DomainList({"example.com"}));
  CHECK(t.service == nullptr);
  CHECK_FALSE(t.allowlisted);
  CHECK(t.public_tld);
}

TEST_CASE("traits: standard service names", "[traits]") {
  for (const std::string_view n :
       {"sel._domainkey.example.com", "s1024._domainkey.mail.example.org", "_dmarc.example.com", "_mta-sts.example.com",
        "_smtp._tls.example.com", "_acme-challenge.example.com", "_spf.example.com", "_bimi.example.com",
        "_ldap._tcp.dc.example.com", "_sip._udp.x", "_kerberos._tcp.example.com", "_xmpp._sctp.example.com",
        "_autodiscover._tcp.example.com"}) {
    INFO(n);
    CHECK(standard_service_name(n));
  }
  for (const std::string_view n : {"_foo.example.com", "www.example.com", "", "_ldap", "_ldap._tcp", "_ldap._tcpx.example.com",
                                   "ldap._tcp.example.com", "domainkey.example.com", "x.dmarc.example.com"}) {
    INFO(n);
    CHECK_FALSE(standard_service_name(n));
  }
}

TEST_CASE("traits: reverse_address", "[traits]") {
  CHECK(reversed("4.3.2.1.in-addr.arpa") == "1.2.3.4");
  CHECK(reversed("0.0.0.0.in-addr.arpa") == "0.0.0.0");
  CHECK(reversed("255.100.20.10.in-addr.arpa") == "10.20.100.255");
  // RFC 3596, section 2.5: 4321:0:1:2:3:4:567:89ab.
  const std::string v6 = "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa";
  sensor::IpAddr a;
  REQUIRE(reverse_address(v6, a));
  CHECK(a == ip("4321:0:1:2:3:4:567:89ab"));
  CHECK(reversed("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa") == ip("2001:db8::1").text());

  // Wrong label counts, octets out of range or with leading zeros, other zones.
  for (const std::string_view n :
       {"3.2.1.in-addr.arpa", "5.4.3.2.1.in-addr.arpa", "256.1.1.1.in-addr.arpa", "01.1.1.1.in-addr.arpa",
        "1.1.1.00.in-addr.arpa", "a.1.1.1.in-addr.arpa", "1.1.1.-1.in-addr.arpa", "4.3.2.1.in-addr.example",
        "4.3.2.1.ip6.arpa", "in-addr.arpa", "", "x.4.3.2.1.in-addr.arpa"}) {
    INFO(n);
    CHECK(reversed(n).empty());
  }
  CHECK(reversed(v6.substr(2)).empty());                        // 31 nibbles
  CHECK(reversed("0." + v6).empty());                            // 33 nibbles
  CHECK(reversed("g" + v6.substr(1)).empty());                   // not a hex digit
  CHECK(reversed("bb" + v6.substr(1)).empty());                  // two characters in a label
  CHECK(reversed(v6.substr(0, v6.size() - 9) + ".in-addr.arpa").empty());
}

TEST_CASE("traits: role_names", "[traits]") {
  CHECK(role_names(0).empty());
  CHECK(role_names(kRoleScanner) == "scanner");
  CHECK(role_names(kRoleMailServer | kRoleResolver) == "resolver,mail_server");
  CHECK(role_names(kRoleContainerNode | kRoleMonitoring) == "monitoring,container_node");
  CHECK(role_names(kRoleResolver | kRoleMailServer | kRoleMonitoring | kRoleContainerNode | kRoleScanner) ==
        "resolver,mail_server,monitoring,container_node,scanner");
}

// ---------------------------------------------------------------------------- word lists

TEST_CASE("traits: labels of brute-force word lists", "[traits]") {
  for (const std::string_view l : {"www", "vpn", "mail2", "dev-api", "ns1", "1", "01", "2024", "_ldap", "intranet",
                                   "x7k29q4m", "a1b2", "deadbeef", "abcdef012", "abcdefghijklmnopqrstuvwx"}) {
    INFO(l);
    CHECK(wordlike_label(l));
  }
  for (const std::string_view l : {"", "abcdefghijklmnopqrstuvwxy", "a8f3c2d19e7b6a5f", "abcdef012345", "12345",
                                   "a1b23", "x7k29q4m1", "www.example", "*", "a*b", "mail\\032x", "a_b", "__x",
                                   "WWW", "caf\xc3\xa9"}) {
    INFO(l);
    CHECK_FALSE(wordlike_label(l));
  }
}

TEST_CASE("traits: a label with neither a letter nor a digit is no word-list entry", "[traits]") {
  // features.hpp: "at least one letter" (short numbers aside, per the code's comment).
  for (const std::string_view l : {"-", "---", "_", "_-"}) {
    INFO(l);
    CHECK_FALSE(wordlike_label(l));
  }
}

TEST_CASE("traits: words_only tells long words from long data labels", "[traits]") {
  CHECK(words_only("bijzonderbeschermingsfonds"));
  CHECK(words_only("informationtechnology"));
  CHECK(words_only("www.informationtechnology"));
  CHECK_FALSE(words_only("mfrggzdfmztwq2lknnwg23tpobyxe43u"));  // base32
  CHECK_FALSE(words_only("xqzrtplmnbvcxwqrtzplkjhgfd"));        // no vowels, long consonant runs
  CHECK_FALSE(words_only("a8f3c2d19e7b6a5fa8f3c2d1"));           // hex
  // Each condition on its own: letters only, a quarter vowels, at most 4 consonants in a row.
  CHECK_FALSE(words_only("informationtechn0logy"));
  CHECK_FALSE(words_only("bcdfabcdfabcdfabcdfa"));  // runs of 4, but a fifth vowels
  CHECK(words_only("bcdfabcdfabcdfabcdfaaa"));      // runs of 4, 6 vowels in 22
  CHECK_FALSE(words_only("eaeaeastrchtrkeaeaea"));  // vowels enough, 8 consonants in a row
  CHECK_FALSE(words_only("informationtechnology.xqzrtplmnbvcxwqrtzplkjhgfd"));  // one data label is enough
  CHECK_FALSE(words_only("xqzrtplmnbvcxwqrtzplkjhgfd.informationtechnology"));
  // No label reaches entropy_from: nothing to judge.
  CHECK(words_only("x7k29q.a8f3c2d19e7b"));
  CHECK(words_only("xqzrtplmnbvcxwqrtzplkjhgfd", 27));
  CHECK_FALSE(words_only("xqzrtplmnbvcxwqrtzplkjhgfd", 26));
  // No subdomain.
  CHECK(name_features("example.com", "", 2, 16).words_only);

  // The other features of the base32 label.
  const NameFeatures f = name_features("mfrggzdfmztwq2lknnwg23tpobyxe43u.example.com", "mfrggzdfmztwq2lknnwg23tpobyxe43u", 3, 16);
  CHECK(f.base32);
  CHECK_FALSE(f.hex);
  CHECK(f.longest_label == 32);
  CHECK(f.subdomain_length == 32);
  CHECK(f.entropy > 0.5);
}

// ------------------------------------------------------------------------- select_defacto

TEST_CASE("traits: select_defacto keeps the most used servers", "[traits]") {
  const auto a = [](std::string_view t) { return ip(t); };
  // Most used first; a share of the top server's clients and min_clients both apply.
  const Used used = {{a("10.0.0.4"), 4}, {a("10.0.0.1"), 10}, {a("10.0.0.3"), 2}, {a("10.0.0.2"), 6}};
  CHECK(servers(select_defacto(used, 3, 0.5)) == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(servers(select_defacto(used, 3, 0.25)) == std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.4"});
  CHECK(servers(select_defacto(used, 5, 0.0)) == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(servers(select_defacto(used, 1, 1.0)) == std::vector<std::string>{"10.0.0.1"});
  const Used top = select_defacto(used, 3, 0.5);
  REQUIRE(top.size() == 2);
  CHECK(top[0].second == 10);
  CHECK(top[1].second == 6);
  // Exactly the share and exactly min_clients are enough.
  CHECK(servers(select_defacto({{a("10.0.0.1"), 8}, {a("10.0.0.2"), 4}}, 4, 0.5)).size() == 2);

  // Too few clients at the top server: no baseline yet.
  CHECK(select_defacto(used, 11, 0.5).empty());
  CHECK(select_defacto({{a("10.0.0.1"), 2}, {a("10.0.0.2"), 1}}, 3, 0.1).empty());
  CHECK(select_defacto({}, 1, 0.5).empty());

  // Ties are ordered by address.
  const Used tied = {{a("10.0.0.9"), 5}, {a("fd00::53"), 5}, {a("10.0.0.2"), 5}, {a("10.0.0.5"), 7}};
  CHECK(servers(select_defacto(tied, 3, 0.5)) ==
        std::vector<std::string>{"10.0.0.5", "10.0.0.2", "10.0.0.9", ip("fd00::53").text()});
}
