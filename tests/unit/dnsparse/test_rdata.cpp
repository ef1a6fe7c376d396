// Typed RDATA accessors: layouts, names inside RDATA, and their errors.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dns_builder.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/rdata.hpp"
#include "dnsvigil/dnsparse/text.hpp"
#include "dnsvigil/dnsparse/types.hpp"

using namespace dnsvigil::dnsparse;
using dnsvigil::test::hex;
using dnsvigil::test::Wire;

namespace {

// A response with question "example.com" at 12 and one answer whose RDATA the test writes.
struct OneAnswer {
  Wire w;
  Message m;
  explicit OneAnswer(std::uint16_t type) {
    w.header(1, 0x8400, 1, 1, 0, 0).name("example.com").qtc(type);
    w.ptr(12).rr_fixed(type, 1, 300);
  }
  const RecordView& finish() {
    w.fix_rdlength();
    REQUIRE(Message::parse(Bytes{w.b}, m) == Error::ok);
    REQUIRE(m.count(Section::answer) == 1);
    rr = *m.records(Section::answer).begin();
    return rr;
  }
  std::string name_at(rdata::NameRef n) const {
    std::array<char, limits::kMaxNameText> buf{};
    const auto r = name_to_text(m.wire(), n.offset, buf);
    REQUIRE(r.ok());
    return {buf.data(), r.value};
  }
  RecordView rr;
};

std::string str(Bytes b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("A and AAAA need exactly 4 and 16 octets", "[rdata]") {
  OneAnswer a(rrtype::A);
  a.w.bytes({10, 1, 2, 3});
  const auto r = rdata::a(a.m, a.finish());
  REQUIRE(r.ok());
  CHECK(r.value == std::array<std::uint8_t, 4>{10, 1, 2, 3});
  CHECK(rdata::aaaa(a.m, a.rr).error == Error::wrong_type);

  OneAnswer bad(rrtype::AAAA);
  bad.w.bytes({1, 2, 3, 4});
  CHECK(rdata::aaaa(bad.m, bad.finish()).error == Error::bad_rdata);
}

TEST_CASE("NS/CNAME/PTR/DNAME: one compressed name filling the RDATA", "[rdata]") {
  OneAnswer c(rrtype::CNAME);
  c.w.name_labels("www").ptr(12);
  const auto r = rdata::single_name(c.m, c.finish());
  REQUIRE(r.ok());
  CHECK(c.name_at(r.value) == "www.example.com");

  // A name followed by junk inside the RDATA is not a CNAME.
  OneAnswer junk(rrtype::CNAME);
  junk.w.name("x").u8(7);
  CHECK(rdata::single_name(junk.m, junk.finish()).error == Error::bad_rdata);
  CHECK(junk.m.anomalies().test(Anomaly::rdata_malformed));

  // The in-place part of the name may not run past RDLENGTH into the next record.
  Wire w;
  w.header(1, 0x8400, 1, 2, 0, 0).name("a.com").qtc(5);
  w.ptr(12).u16(5).u16(1).u32(60).u16(2).u8(1).u8('x');  // RDLENGTH 2 but the label needs a root
  w.ptr(12).rr_fixed(1, 1, 60).bytes({0, 1, 2, 3}).fix_rdlength();
  Message m;
  REQUIRE(Message::parse(Bytes{w.b}, m) == Error::ok);
  CHECK(rdata::single_name(m, *m.records(Section::answer).begin()).error == Error::truncated);
}

TEST_CASE("MX, SRV, SOA, NAPTR fields", "[rdata]") {
  OneAnswer mx(rrtype::MX);
  mx.w.u16(10).name_labels("mail").ptr(12);
  const auto m = rdata::mx(mx.m, mx.finish());
  REQUIRE(m.ok());
  CHECK(m.value.preference == 10);
  CHECK(mx.name_at(m.value.exchange) == "mail.example.com");

  OneAnswer srv(rrtype::SRV);
  srv.w.u16(1).u16(2).u16(5060).name("sip.example.com");
  const auto s = rdata::srv(srv.m, srv.finish());
  REQUIRE(s.ok());
  CHECK(s.value.priority == 1);
  CHECK(s.value.weight == 2);
  CHECK(s.value.port == 5060);
  CHECK(srv.name_at(s.value.target) == "sip.example.com");

  OneAnswer soa(rrtype::SOA);
  soa.w.name_labels("ns1").ptr(12).name_labels("hostmaster").ptr(12).u32(2024010101).u32(7200).u32(3600).u32(1209600).u32(300);
  const auto o = rdata::soa(soa.m, soa.finish());
  REQUIRE(o.ok());
  CHECK(soa.name_at(o.value.mname) == "ns1.example.com");
  CHECK(soa.name_at(o.value.rname) == "hostmaster.example.com");
  CHECK(o.value.serial == 2024010101U);
  CHECK(o.value.minimum == 300);

  OneAnswer soa_short(rrtype::SOA);
  soa_short.w.u8(0).u8(0).u32(1);
  CHECK(rdata::soa(soa_short.m, soa_short.finish()).error == Error::bad_rdata);

  OneAnswer n(rrtype::NAPTR);
  n.w.u16(100).u16(10).cstr("S").cstr("SIP+D2U").cstr("").name("_sip._udp.example.com");
  const auto na = rdata::naptr(n.m, n.finish());
  REQUIRE(na.ok());
  CHECK(na.value.order == 100);
  CHECK(str(na.value.flags) == "S");
  CHECK(str(na.value.services) == "SIP+D2U");
  CHECK(na.value.regexp.empty());
  CHECK(n.name_at(na.value.replacement) == "_sip._udp.example.com");
}

TEST_CASE("TXT yields every character-string and rejects overruns", "[rdata]") {
  OneAnswer t(rrtype::TXT);
  t.w.cstr("v=spf1 -all").cstr("").cstr("third");
  const auto r = rdata::txt(t.m, t.finish());
  REQUIRE(r.ok());
  std::vector<std::string> got;
  for (const Bytes s : r.value) got.push_back(str(s));
  CHECK(got == std::vector<std::string>{"v=spf1 -all", "", "third"});

  OneAnswer over(rrtype::TXT);
  over.w.u8(10).text("abc");
  CHECK(rdata::txt(over.m, over.finish()).error == Error::bad_rdata);

  OneAnswer empty(rrtype::TXT);
  CHECK(rdata::txt(empty.m, empty.finish()).error == Error::bad_rdata);
}

TEST_CASE("CAA tag and value", "[rdata]") {
  OneAnswer c(rrtype::CAA);
  c.w.u8(128).cstr("issue").text("ca.example.net");
  const auto r = rdata::caa(c.m, c.finish());
  REQUIRE(r.ok());
  CHECK(r.value.flags == 128);
  CHECK(str(r.value.tag) == "issue");
  CHECK(str(r.value.value) == "ca.example.net");
  OneAnswer empty_tag(rrtype::CAA);
  empty_tag.w.u8(0).u8(0).text("x");
  CHECK(rdata::caa(empty_tag.m, empty_tag.finish()).error == Error::bad_rdata);
}

TEST_CASE("SVCB/HTTPS: SvcParams as views, with per-key checks", "[rdata]") {
  OneAnswer h(rrtype::HTTPS);
  h.w.u16(1).u8(0);                                 // priority 1, target "."
  h.w.u16(1).u16(6).cstr("h2").cstr("h3");          // alpn
  h.w.u16(3).u16(2).u16(8443);                      // port
  h.w.u16(4).u16(4).bytes({192, 0, 2, 80});         // ipv4hint
  const auto r = rdata::svcb(h.m, h.finish());
  REQUIRE(r.ok());
  CHECK(r.value.priority == 1);
  std::vector<std::uint16_t> keys;
  for (const rdata::SvcParam p : r.value.params) keys.push_back(p.key);
  CHECK(keys == std::vector<std::uint16_t>{1, 3, 4});

  SECTION("alpn length too long (zeek svcb-alpn-malformed-len-too-long)") {
    OneAnswer b(rrtype::HTTPS);
    b.w.u16(1).u8(0).u16(1).u16(3).u8(5).text("h2");
    CHECK(rdata::svcb(b.m, b.finish()).error == Error::bad_rdata);
  }
  SECTION("port of three octets (zeek svcb-port-malformed)") {
    OneAnswer b(rrtype::HTTPS);
    b.w.u16(1).u8(0).u16(3).u16(3).bytes({0, 80, 0});
    CHECK(rdata::svcb(b.m, b.finish()).error == Error::bad_rdata);
  }
  SECTION("keys out of order") {
    OneAnswer b(rrtype::SVCB);
    b.w.u16(1).u8(0).u16(3).u16(2).u16(443).u16(1).u16(3).cstr("h2");
    CHECK(rdata::svcb(b.m, b.finish()).error == Error::bad_rdata);
  }
}

TEST_CASE("DNSKEY key tag matches dnssec-keygen", "[rdata][dnssec]") {
  // Keys made with BIND 9.18 `dnssec-keygen -a ECDSAP256SHA256 -n ZONE example.com`
  // (file Kexample.com.+013+46543) and `-a RSASHA256 -b 1024 -f KSK` (+008+43711).
  const auto ecdsa = hex(
      "0100030dda608ccbc158231d7d1e1c59118ced812680d3104c3f0de7635779b0a7487651c43be0a1840712ba87e8"
      "aa7327385aa03eb13c36a23a99175015fc710f727d3a");
  const auto rsa = hex(
      "0101030803010001aac82b28598f1dab18cc4904c8cfc1a5d60e2521c44ae825b8b99976e2e4cb20445062ab7b92"
      "1e1548f472a10bd9d00aaf61cc896f70d7b728d188c46fbefb1d90d7a1ca3e60a73c4d08363e34971b870d66be93"
      "468ebdaec0398cd9e62b8375fd5aba1b623a24e4a467bd8a5b42b1f05796a37a613152a09e894e743df610a9");
  CHECK(rdata::key_tag(Bytes{ecdsa}) == 46543);
  CHECK(rdata::key_tag(Bytes{rsa}) == 43711);

  OneAnswer k(rrtype::DNSKEY);
  k.w.b.insert(k.w.b.end(), ecdsa.begin(), ecdsa.end());
  const auto r = rdata::dnskey(k.m, k.finish());
  REQUIRE(r.ok());
  CHECK(r.value.flags == 256);
  CHECK(r.value.protocol == 3);
  CHECK(r.value.algorithm == 13);
  CHECK(r.value.public_key.size() == 64);
  CHECK(r.value.key_tag == 46543);
}

TEST_CASE("DS, RRSIG, NSEC, NSEC3 key fields", "[rdata][dnssec]") {
  // DS from `dnssec-dsfromkey -2` of the ECDSA key above.
  OneAnswer d(rrtype::DS);
  d.w.u16(46543).u8(13).u8(2);
  for (const auto b : hex("5D92CBED7F36097127D15F50DA67C8561100AD502B882E1A6E5180EED0338C3B")) d.w.u8(b);
  const auto ds = rdata::ds(d.m, d.finish());
  REQUIRE(ds.ok());
  CHECK(ds.value.key_tag == 46543);
  CHECK(ds.value.digest_type == 2);
  CHECK(ds.value.digest.size() == 32);

  OneAnswer s(rrtype::RRSIG);
  s.w.u16(rrtype::A).u8(13).u8(2).u32(300).u32(1700003600).u32(1700000000).u16(46543).ptr(12).bytes({1, 2, 3});
  const auto sig = rdata::rrsig(s.m, s.finish());
  REQUIRE(sig.ok());
  CHECK(sig.value.type_covered == rrtype::A);
  CHECK(sig.value.labels == 2);
  CHECK(sig.value.key_tag == 46543);
  CHECK(s.name_at(sig.value.signer) == "example.com");
  CHECK(sig.value.signature.size() == 3);

  OneAnswer n(rrtype::NSEC);
  // next "a.example.com", types A(1) NS(2) SOA(6) RRSIG(46) NSEC(47) in window 0, CAA(257) in window 1.
  n.w.name("a.example.com").bytes({0, 6, 0x62, 0, 0, 0, 0, 0x03}).bytes({1, 1, 0x40});
  const auto ns = rdata::nsec(n.m, n.finish());
  REQUIRE(ns.ok());
  std::vector<std::uint16_t> types;
  ns.value.types.for_each([&](std::uint16_t t) { types.push_back(t); });
  CHECK(types == std::vector<std::uint16_t>{1, 2, 6, 46, 47, 257});

  OneAnswer bad(rrtype::NSEC);
  bad.w.name("a.example.com").bytes({1, 1, 0x40, 0, 1, 0x40});  // windows not ascending
  CHECK(rdata::nsec(bad.m, bad.finish()).error == Error::bad_rdata);

  OneAnswer n3(rrtype::NSEC3);
  n3.w.u8(1).u8(1).u16(0).u8(2).bytes({0xab, 0xcd}).u8(3).bytes({1, 2, 3}).bytes({0, 1, 0x40});
  const auto h = rdata::nsec3(n3.m, n3.finish());
  REQUIRE(h.ok());
  CHECK(h.value.hash_algorithm == 1);
  CHECK(h.value.flags == 1);
  CHECK(h.value.salt.size() == 2);
  CHECK(h.value.next_hashed.size() == 3);
}

TEST_CASE("TSIG fields", "[rdata]") {
  OneAnswer t(rrtype::TSIG);
  t.w.name("hmac-sha256").u16(0).u32(1700000000).u16(300).u16(2).bytes({9, 9}).u16(77).u16(0).u16(0);
  const auto r = rdata::tsig(t.m, t.finish());
  REQUIRE(r.ok());
  CHECK(t.name_at(r.value.algorithm) == "hmac-sha256");
  CHECK(r.value.time_signed == 1700000000U);
  CHECK(r.value.fudge == 300);
  CHECK(r.value.mac.size() == 2);
  CHECK(r.value.original_id == 77);
}

TEST_CASE("EDNS Client Subnet and cookie options", "[rdata][edns]") {
  // ECS 192.0.2.0/24 scope 0: three address octets.
  const auto ecs = hex("0001 18 00 c00002");
  const auto r = rdata::client_subnet(Bytes{ecs});
  REQUIRE(r.ok());
  CHECK(r.value.family == 1);
  CHECK(r.value.source_prefix == 24);
  CHECK(r.value.address[0] == 192);
  CHECK(r.value.address[2] == 2);
  CHECK(r.value.address[3] == 0);
  // IPv6 /56: seven octets.
  CHECK(rdata::client_subnet(Bytes{hex("0002 38 00 20010db8000000")}).ok());
  // Unknown family, prefix longer than the family, wrong address length.
  CHECK(rdata::client_subnet(Bytes{hex("0003 08 00 0a")}).error == Error::bad_rdata);
  CHECK(rdata::client_subnet(Bytes{hex("0001 21 00 0a000000 00")}).error == Error::bad_rdata);
  CHECK(rdata::client_subnet(Bytes{hex("0001 08 00 0a00")}).error == Error::bad_rdata);
  // Source prefix 0 with no address octets is how clients opt out (RFC 7871 §7.1.2).
  CHECK(rdata::client_subnet(Bytes{hex("0001 00 00")}).ok());

  CHECK(rdata::cookie(Bytes{hex("0102030405060708")}).ok());
  CHECK(rdata::cookie(Bytes{hex("0102030405060708 0102030405060708")}).value.server.size() == 8);
  CHECK(rdata::cookie(Bytes{hex("01020304050607")}).error == Error::bad_rdata);
  CHECK(rdata::cookie(Bytes{hex("0102030405060708 01020304")}).error == Error::bad_rdata);
}

TEST_CASE("padding option and raw RDATA of unknown types", "[rdata][edns]") {
  Wire w;
  w.header(1, 0, 1, 0, 0, 1).name("a.com").qtc(1);
  w.u8(0).rr_fixed(41, 1232, 0x00008000U).u16(ednsopt::PADDING).u16(5).bytes({0, 0, 0, 0, 0}).fix_rdlength();
  Message m;
  REQUIRE(Message::parse(Bytes{w.b}, m) == Error::ok);
  CHECK(m.edns().value.do_bit);
  const auto opts = rdata::edns_options(m);
  REQUIRE(opts.ok());
  const rdata::EdnsOption o = *opts.value.begin();
  CHECK(o.code == ednsopt::PADDING);
  CHECK(o.data.size() == 5);

  OneAnswer u(65280);  // private-use type
  u.w.bytes({0xde, 0xad});
  const RecordView& rr = u.finish();
  CHECK(rdata::raw(u.m, rr).size() == 2);
  CHECK(rdata::validate(u.m, rr) == Error::ok);
}
