// QueryName and DomainSplitter: presentation text, case folding, and the registered domain /
// subdomain / public suffix split (system Public Suffix List, plus the DNS special cases).
#include <catch2/catch.hpp>

#include <libpsl.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "dnsvigil/sensor/names.hpp"

using namespace dnsvigil::sensor;
using namespace dnsvigil::test;

namespace {

// One splitter for the file: it loads the system list (/usr/share/publicsuffix).
DomainSplitter& splitter() {
  static DomainSplitter s;
  return s;
}

struct Split {
  std::string text, lower, registered, subdomain, tld;
  unsigned labels = 0;
};

// A query for `wire_name` (written as a Wire name, or as raw labels) put through QueryName.
Split split_of(const Octets& query_msg, DomainSplitter* sp = &splitter()) {
  dnsvigil::dnsparse::Message m;
  REQUIRE(dnsvigil::dnsparse::Message::parse(dnsvigil::dnsparse::Bytes{query_msg}, m) == dnsvigil::dnsparse::Error::ok);
  QueryName q;
  q.set(m, sp);
  return {std::string(q.text()), std::string(q.lower()), std::string(q.registered_domain()), std::string(q.subdomain()),
          std::string(q.top_level_domain()), q.labels()};
}

Split split_of(std::string_view name) { return split_of(query(1, name)); }

}  // namespace

TEST_CASE("names: the system Public Suffix List is loaded", "[names]") {
  CHECK_FALSE(splitter().source().empty());
  CHECK(splitter().source().find("libpsl built-in") == std::string::npos);
}

TEST_CASE("names: www.example.com", "[names]") {
  const Split s = split_of("www.example.com");
  CHECK(s.text == "www.example.com");
  CHECK(s.labels == 3);
  CHECK(s.registered == "example.com");
  CHECK(s.subdomain == "www");
  CHECK(s.tld == "com");
}

TEST_CASE("names: a two-label public suffix (co.uk)", "[names]") {
  const Split s = split_of("a.b.example.co.uk");
  CHECK(s.registered == "example.co.uk");
  CHECK(s.subdomain == "a.b");
  CHECK(s.tld == "co.uk");

  // The suffix alone: the whole name is the "registered domain", no subdomain.
  const Split alone = split_of("co.uk");
  CHECK(alone.registered == "co.uk");
  CHECK(alone.subdomain.empty());
  CHECK(alone.tld == "co.uk");
}

TEST_CASE("names: an unknown TLD takes the last two labels (the PSL's implicit * rule)", "[names]") {
  const Split s = split_of("dc01.corp.local");
  CHECK(s.registered == "corp.local");
  CHECK(s.subdomain == "dc01");
  CHECK(s.tld == "local");
  const Split two = split_of("corp.local");
  CHECK(two.registered == "corp.local");
  CHECK(two.subdomain.empty());
  // A single label is its own suffix.
  const Split one = split_of("localhost");
  CHECK(one.registered == "localhost");
  CHECK(one.tld == "localhost");
}

TEST_CASE("names: PSL private section (github.io) and wildcard/exception rules", "[names]") {
  // public_suffix_list.dat, "// GitHub, Inc." in the private section: github.io is a suffix.
  const Split s = split_of("foo.github.io");
  CHECK(s.registered == "foo.github.io");
  CHECK(s.subdomain.empty());
  CHECK(s.tld == "github.io");
  const Split deeper = split_of("www.foo.github.io");
  CHECK(deeper.registered == "foo.github.io");
  CHECK(deeper.subdomain == "www");
  // "*.ck" with the exception "!www.ck".
  CHECK(split_of("a.b.foo.ck").registered == "b.foo.ck");
  CHECK(split_of("a.b.foo.ck").tld == "foo.ck");
  CHECK(split_of("a.www.ck").registered == "www.ck");
  CHECK(split_of("a.www.ck").tld == "ck");
}

TEST_CASE("names: in-addr.arpa groups by /24", "[names][reverse]") {
  const Split s = split_of("4.3.2.1.in-addr.arpa");
  CHECK(s.registered == "3.2.1.in-addr.arpa");
  CHECK(s.subdomain == "4");
  CHECK(s.tld == "in-addr.arpa");
  // Shorter reverse names are their own registered domain.
  CHECK(split_of("2.1.in-addr.arpa").registered == "2.1.in-addr.arpa");
  CHECK(split_of("3.2.1.in-addr.arpa").registered == "3.2.1.in-addr.arpa");
  // Something under a /32 reverse name (RFC 2317 style) still groups by the /24.
  CHECK(split_of("x.4.3.2.1.in-addr.arpa").registered == "3.2.1.in-addr.arpa");
}

TEST_CASE("names: ip6.arpa groups by /64 (16 nibbles)", "[names][reverse]") {
  // fd20::1:10 -> 0.1.0.0.1.0.0.0 ... 0.2.d.f.ip6.arpa (32 nibbles).
  const std::string name = "0.1.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.d.f.ip6.arpa";
  const Split s = split_of(name);
  CHECK(s.registered == "0.0.0.0.0.0.0.0.0.0.0.0.0.2.d.f.ip6.arpa");
  CHECK(s.subdomain == "0.1.0.0.1.0.0.0.0.0.0.0.0.0.0.0");
  CHECK(s.tld == "ip6.arpa");
  CHECK(s.labels == 34);
  CHECK(split_of("0.2.d.f.ip6.arpa").registered == "0.2.d.f.ip6.arpa");
}

TEST_CASE("names: names with escaped octets take the last two labels", "[names]") {
  // A label holding a '.' and one holding 0x07: presentation "we\.ird.\007x.example.co.uk".
  Wire w;
  w.header(1, 0x0100, 1, 0, 0, 0);
  w.u8(6).text("we.ird").u8(2).u8(0x07).u8('x').name("example.co.uk").qtc(1);
  const Split s = split_of(w.b);
  CHECK(s.text == "we\\.ird.\\007x.example.co.uk");
  CHECK(s.labels == 5);
  // The PSL cannot judge escaped names: documented fallback to the last two labels.
  CHECK(s.registered == "co.uk");
  CHECK(s.tld == "uk");
  CHECK(s.subdomain == "we\\.ird.\\007x.example");
}

TEST_CASE("names: the root name", "[names]") {
  const Split s = split_of(query(1, "."));
  CHECK(s.text == ".");
  CHECK(s.labels == 0);
  CHECK(s.registered.empty());
  CHECK(s.subdomain.empty());
  CHECK(s.tld.empty());
}

TEST_CASE("names: text() keeps the wire case, lower() folds ASCII only", "[names]") {
  Wire w;
  w.header(1, 0x0100, 1, 0, 0, 0);
  w.u8(3).text("WwW").u8(4).u8('C').u8(0xC9).text("Fe").u8(7).text("ExAmPlE").u8(3).text("COM").u8(0).qtc(1);
  const Split s = split_of(w.b);
  CHECK(s.text == "WwW.C\\201Fe.ExAmPlE.COM");
  CHECK(s.lower == "www.c\\201fe.example.com");
  CHECK(s.registered == "example.com");  // escaped: last two labels, lower case
  CHECK(s.tld == "com");

  const Split mixed = split_of("MAIL.Example.CO.UK");
  CHECK(mixed.text == "MAIL.Example.CO.UK");
  CHECK(mixed.lower == "mail.example.co.uk");
  CHECK(mixed.registered == "example.co.uk");
  CHECK(mixed.subdomain == "mail");
}

TEST_CASE("names: repeated names hit the cache and split the same", "[names]") {
  for (int i = 0; i < 3; ++i) {
    CHECK(split_of("a.b.example.co.uk").registered == "example.co.uk");
    CHECK(split_of("www.example.com").registered == "example.com");
  }
  // Same length, different names, alternating.
  CHECK(split_of("x.example.com").registered == "example.com");
  CHECK(split_of("x.examp1e.org").registered == "examp1e.org");
  CHECK(split_of("x.example.com").tld == "com");
}

TEST_CASE("names: without a splitter, the last two labels", "[names]") {
  const Split s = split_of(query(1, "a.b.example.co.uk"), nullptr);
  CHECK(s.registered == "co.uk");
  CHECK(s.subdomain == "a.b.example");
  CHECK(s.tld == "uk");
}

TEST_CASE("names: a message without a question leaves QueryName empty", "[names]") {
  Wire w;
  w.header(1, 0x0100, 0, 0, 0, 0);
  dnsvigil::dnsparse::Message m;
  REQUIRE(dnsvigil::dnsparse::Message::parse(dnsvigil::dnsparse::Bytes{w.b}, m) == dnsvigil::dnsparse::Error::ok);
  QueryName q;
  q.set(m, &splitter());
  CHECK(q.empty());
  CHECK(q.text().empty());
  CHECK(q.registered_domain().empty());
}

TEST_CASE("names: a PSL file that cannot be loaded is an exception at startup", "[names]") {
  CHECK_THROWS_AS(DomainSplitter("/nonexistent/public_suffix_list.dat"), std::runtime_error);
  DomainSplitter from_file("/usr/share/publicsuffix/public_suffix_list.dat");
  CHECK(from_file.source() == "/usr/share/publicsuffix/public_suffix_list.dat");
  dnsvigil::dnsparse::Message m;
  const Octets q = query(1, "foo.github.io");
  REQUIRE(dnsvigil::dnsparse::Message::parse(dnsvigil::dnsparse::Bytes{q}, m) == dnsvigil::dnsparse::Error::ok);
  QueryName n;
  n.set(m, &from_file);
  CHECK(n.registered_domain() == "foo.github.io");
}

// ------------------------------------------------------- the suffix-keyed cache against libpsl

namespace {

// libpsl's own answer for a whole name, as offsets: the oracle the splitter must reproduce.
DomainSplit oracle(const psl_ctx_t* psl, const std::string& name) {
  const char* reg = psl_registrable_domain(psl, name.c_str());
  const char* suf = psl_unregistrable_domain(psl, name.c_str());
  const auto off = [&](const char* p, std::size_t none) {
    return static_cast<std::uint16_t>(p != nullptr ? static_cast<std::size_t>(p - name.c_str()) : none);
  };
  return {off(reg, 0), off(suf, name.size())};
}

}  // namespace

TEST_CASE("names: the split keyed by rule suffixes is libpsl's split of the whole name, for names at and "
          "around every rule of the system list", "[names][psl]") {
  const std::string list = "/usr/share/publicsuffix/public_suffix_list.dat";
  std::ifstream in(list);
  if (!in) {
    WARN("skipped: no " << list << " (Debian package publicsuffix)");
    return;
  }
  psl_ctx_t* psl = psl_load_file(list.c_str());
  REQUIRE(psl != nullptr);
  DomainSplitter sp(list);
  REQUIRE(sp.keyed_by_suffix());

  // Names at every ASCII rule, one and two labels below it, under its wildcard, at and under its
  // exception; the same labels recur under many rules, so later names meet cache entries that
  // earlier ones made. Plus registered domains under common suffixes with many hosts each.
  std::vector<std::string> names;
  std::string line;
  std::size_t rules = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("//", 0) == 0) continue;
    std::string r = line.substr(0, line.find_first_of(" \t\r"));
    if (r.empty() || std::any_of(r.begin(), r.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
      continue;
    ++rules;
    if (r[0] == '!') r.erase(0, 1);
    if (r.rfind("*.", 0) == 0) r = "w" + r.substr(1);
    if (r.size() >= 4 && r.compare(r.size() - 4, 4, "arpa") == 0) continue;  // the reverse special cases
    for (const char* pre : {"", "x.", "y.x.", "s3.", "www.", "city.", "blogspot.", "xn--p1ai."}) names.push_back(pre + r);
  }
  REQUIRE(rules > 5000);
  for (const char* sfx : {"com", "co.uk", "github.io", "kawasaki.jp", "city.kawasaki.jp", "amazonaws.com",
                          "s3.amazonaws.com", "compute.amazonaws.com", "ck", "www.ck", "local"})
    for (int d = 0; d < 50; ++d)
      for (int h = 0; h < 4; ++h)
        names.push_back("h" + std::to_string(h) + ".d" + std::to_string(d) + "." + sfx);

  std::size_t checked = 0, mismatched = 0;
  for (int pass = 0; pass < 2; ++pass) {  // the second pass, reversed, finds the cache full of other names
    if (pass == 1) std::reverse(names.begin(), names.end());
    for (const std::string& n : names) {
      const DomainSplit want = oracle(psl, n);
      const DomainSplit got = sp.split(n);
      ++checked;
      if (got.registered != want.registered || got.suffix != want.suffix) {
        if (++mismatched <= 10) {
          INFO(n << ": registered at " << got.registered << " (libpsl " << want.registered << "), suffix at "
                 << got.suffix << " (libpsl " << want.suffix << ")");
          CHECK(false);
        }
      }
    }
  }
  CHECK(mismatched == 0);
  CHECK(checked > 100000);
  psl_free(psl);
}
