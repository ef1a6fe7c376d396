// IpAddr, Prefix, PrefixSet, is_private, is_special.
#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "frame_builder.hpp"
#include "dnsvigil/sensor/addr.hpp"

using namespace dnsvigil::sensor;
using dnsvigil::test::addr;

namespace {

std::string text(const IpAddr& a) {
  std::array<char, 64> buf{};
  dnsvigil::dnsparse::TextWriter w(buf);
  a.write(w);
  return std::string(w.view());
}

Prefix pfx(std::string_view s) {
  const auto p = Prefix::parse(s);
  INFO("prefix " << s);
  REQUIRE(p.has_value());
  return *p;
}

}  // namespace

TEST_CASE("addr: parse IPv4, IPv6 and reject the rest", "[addr]") {
  const auto v4 = IpAddr::parse("192.0.2.1");
  REQUIRE(v4);
  CHECK(v4->is_v4());
  CHECK(v4->family() == 4);
  CHECK(v4->v4_bytes()[0] == 192);
  CHECK(v4->v4_bytes()[3] == 1);
  CHECK(text(*v4) == "192.0.2.1");

  const auto v6 = IpAddr::parse("2001:DB8:0:0:0:0:0:1");
  REQUIRE(v6);
  CHECK_FALSE(v6->is_v4());
  CHECK(v6->family() == 6);
  CHECK(v6->bytes[0] == 0x20);
  CHECK(v6->bytes[15] == 1);
  CHECK(text(*v6) == "2001:db8::1");  // RFC 5952

  // An IPv4-mapped IPv6 address is the IPv4 address.
  const auto mapped = IpAddr::parse("::ffff:192.0.2.1");
  REQUIRE(mapped);
  CHECK(mapped->is_v4());
  CHECK(*mapped == *v4);

  // v4() and v6() from wire octets.
  const std::uint8_t four[4] = {10, 20, 0, 53};
  CHECK(IpAddr::v4(four) == addr("10.20.0.53"));
  const auto six = dnsvigil::test::ip6("fd20::53");
  CHECK(IpAddr::v6(six.data()) == addr("fd20::53"));

  for (const char* bad : {"", "1.2.3", "256.1.1.1", "1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4", "::g", "1:2:3:4:5:6:7:8:9",
                          "2001:db8::1::2", "example.com", "10.0.0.0/8",
                          "0000000000000000000000000000000000000000000000000000000000000000000000"}) {
    INFO("input '" << bad << "'");
    CHECK_FALSE(IpAddr::parse(bad).has_value());
  }
}

TEST_CASE("addr: prefix parsing masks the base and checks the length", "[addr]") {
  CHECK(pfx("10.1.2.3/8").base == addr("10.0.0.0"));
  CHECK(pfx("10.1.2.3/8").bits == 96 + 8);
  CHECK(pfx("192.0.2.1").bits == 128);  // a bare address is /32
  CHECK(pfx("2001:db8::1").bits == 128);
  CHECK(pfx("2001:db8:ffff::/33").base == addr("2001:db8:8000::"));
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/a", "10.0.0.0/-1", "10.0.0.0/0008",
                          "nonsense/8", "/8"}) {
    INFO("input '" << bad << "'");
    CHECK_FALSE(Prefix::parse(bad).has_value());
  }
}

TEST_CASE("addr: prefix contains at /0, /7, /8, /32 and /128", "[addr]") {
  const Prefix all4 = pfx("0.0.0.0/0");
  CHECK(all4.contains(addr("0.0.0.0")));
  CHECK(all4.contains(addr("255.255.255.255")));

  const Prefix all6 = pfx("::/0");
  CHECK(all6.contains(addr("2001:db8::1")));
  CHECK(all6.contains(addr("::")));

  const Prefix ula = pfx("fc00::/7");
  CHECK(ula.contains(addr("fc00::1")));
  CHECK(ula.contains(addr("fd20::53")));
  CHECK_FALSE(ula.contains(addr("fe00::1")));
  CHECK_FALSE(ula.contains(addr("fbff:ffff::1")));

  const Prefix two = pfx("3.0.0.0/7");  // 2.0.0.0 - 3.255.255.255
  CHECK(two.base == addr("2.0.0.0"));
  CHECK(two.contains(addr("2.255.0.1")));
  CHECK_FALSE(two.contains(addr("4.0.0.0")));
  CHECK_FALSE(two.contains(addr("1.255.255.255")));

  const Prefix ten = pfx("10.0.0.0/8");
  CHECK(ten.contains(addr("10.255.255.255")));
  CHECK_FALSE(ten.contains(addr("11.0.0.0")));
  CHECK_FALSE(ten.contains(addr("9.255.255.255")));

  const Prefix host = pfx("10.20.0.53/32");
  CHECK(host.contains(addr("10.20.0.53")));
  CHECK_FALSE(host.contains(addr("10.20.0.52")));

  const Prefix host6 = pfx("fd20::53/128");
  CHECK(host6.contains(addr("fd20::53")));
  CHECK_FALSE(host6.contains(addr("fd20::52")));
}

TEST_CASE("addr: IPv4 prefixes never match IPv6 addresses", "[addr]") {
  for (const char* p : {"0.0.0.0/0", "10.0.0.0/8", "0.0.0.0/32"}) {
    INFO("prefix " << p);
    CHECK_FALSE(pfx(p).contains(addr("::")));
    CHECK_FALSE(pfx(p).contains(addr("2001:db8::1")));
    CHECK_FALSE(pfx(p).contains(addr("a00::")));  // 0a00:: starts like 10.0.0.0
  }
}

TEST_CASE("addr: IPv6 prefixes never match IPv4 addresses", "[addr][!mayfail]") {
  // IPv4 is stored as ::ffff:a.b.c.d, so an IPv6 prefix shorter than /81 that covers
  // ::ffff:0:0/96 (such as ::/0 or ::/8) also matches every IPv4 address.
  for (const char* p : {"::/0", "::/8", "::/64", "2001:db8::/32"}) {
    INFO("prefix " << p);
    CHECK_FALSE(pfx(p).contains(addr("10.20.0.53")));
    CHECK_FALSE(pfx(p).contains(addr("8.8.8.8")));
  }
}

TEST_CASE("addr: PrefixSet", "[addr]") {
  PrefixSet s;
  CHECK(s.empty());
  CHECK_FALSE(s.contains(addr("10.0.0.1")));
  CHECK(s.add(pfx("10.0.0.0/8")));
  CHECK(s.add(pfx("fd20::/16")));
  CHECK(s.size() == 2);
  CHECK(s.contains(addr("10.9.9.9")));
  CHECK(s.contains(addr("fd20::1:10")));
  CHECK_FALSE(s.contains(addr("192.168.1.1")));
  CHECK_FALSE(s.contains(addr("fd21::1")));
  CHECK(s[1].base == addr("fd20::"));
  // Full at kMax.
  PrefixSet full;
  for (std::size_t i = 0; i < PrefixSet::kMax; ++i) CHECK(full.add(pfx("192.0.2." + std::to_string(i % 256))));
  CHECK_FALSE(full.add(pfx("198.51.100.1")));
  CHECK(full.size() == PrefixSet::kMax);
}

TEST_CASE("addr: is_private (RFC 1918, RFC 6598, ULA)", "[addr]") {
  for (const char* a : {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1", "100.64.0.1",
                        "100.127.255.255", "fc00::1", "fd20::53"}) {
    INFO(a);
    CHECK(is_private(addr(a)));
  }
  for (const char* a : {"9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255",
                        "192.169.0.0", "100.63.255.255", "100.128.0.0", "8.8.8.8", "fe80::1", "2001:db8::1", "::1",
                        "127.0.0.1"}) {
    INFO(a);
    CHECK_FALSE(is_private(addr(a)));
  }
}

TEST_CASE("addr: is_special (loopback, link-local, multicast, unspecified)", "[addr]") {
  for (const char* a : {"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.255.254", "169.254.1.1", "224.0.0.251",
                        "239.255.255.250", "255.255.255.255", "::", "::1", "fe80::1", "febf::1", "ff02::fb",
                        "::ffff:127.0.0.1"}) {
    INFO(a);
    CHECK(is_special(addr(a)));
  }
  // Documentation ranges are used in labs: not special. Nor are private or public addresses.
  for (const char* a : {"192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1", "10.0.0.1", "8.8.8.8",
                        "169.253.255.255", "223.255.255.255", "fec0::1", "::2", "fd00::1"}) {
    INFO(a);
    CHECK_FALSE(is_special(addr(a)));
  }
}
