// Presentation format: real BIND 9.18 responses, formatted by dnsparse, must read exactly as
// `dig +short` printed them for the same response.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

#include "dns_builder.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/text.hpp"
#include "dnsvigil/dnsparse/types.hpp"

using namespace dnsvigil::dnsparse;
using dnsvigil::test::hex;
using dnsvigil::test::Wire;

namespace {

struct Case {
  const char* what;
  const char* wire_hex;  // UDP payload captured with tcpdump on loopback
  const char* dig;       // `dig +short` output for the same query (one line per answer)
};

// Lab zone example.com on BIND 9.18.49 (signed with dnssec-signzone, ECDSA P-256), queried with
// `dig +nocookie +noedns +norecurse`; expected text from `dig +short +nosplit`.
const Case kCases[] = {
    {"TXT with two strings",
     "5b1384000001000100020002076578616d706c6503636f6d0000100001c00c0010000100000e10001d0e763d73706631"
     "206d78202d616c6c0d7365636f6e6420737472696e67c00c0002000100000e100006036e7332c00cc00c000200010000"
     "0e100006036e7331c00cc0640001000100000e100004c0000201c0520001000100000e100004c0000202",
     "\"v=spf1 mx -all\" \"second string\""},
    {"SRV",
     "6dec84000001000100020003045f736970045f746370076578616d706c6503636f6d0000210001c00c0021000100000e"
     "100017000a003c13c403736970076578616d706c6503636f6d00c03d0002000100000e100006036e7332c03dc03d0002"
     "000100000e100006036e7331c03dc0390001000100000e100004c0000205c0680001000100000e100004c0000201c056"
     "0001000100000e100004c0000202",
     "10 60 5060 sip.example.com."},
    {"CAA",
     "f15884000001000100020002076578616d706c6503636f6d0001010001c00c0101000100000e10001600056973737565"
     "6c657473656e63727970742e6f7267c00c0002000100000e100006036e7332c00cc00c0002000100000e100006036e73"
     "31c00cc05d0001000100000e100004c0000201c04b0001000100000e100004c0000202",
     "0 issue \"letsencrypt.org\""},
    {"HTTPS with alpn, port and address hints",
     "3b648400000100010002000203737663076578616d706c6503636f6d0000410001c00c0041000100000e10002f000100"
     "000100060268320268330003000220fb00040004c00002500006001020010db8000000000000000000000080c0100002"
     "000100000e100006036e7332c010c0100002000100000e100006036e7331c010c07a0001000100000e100004c0000201"
     "c0680001000100000e100004c0000202",
     "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.80 ipv6hint=2001:db8::80"},
    {"NAPTR",
     "026684000001000100020002016e076578616d706c6503636f6d0000230001c00c0023000100000e1000260064000a01"
     "53075349502b44325500045f736970045f756470076578616d706c6503636f6d00c00e0002000100000e100006036e73"
     "32c00ec00e0002000100000e100006036e7331c00ec06f0001000100000e100004c0000201c05d0001000100000e1000"
     "04c0000202",
     "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."},
    {"SOA",
     "447184000001000100020002076578616d706c6503636f6d0000060001c00c0006000100000e100027036e7331c00c0a"
     "686f73746d6173746572c00c78a3f17500001c2000000e10001275000000012cc00c0002000100000e100002c029c00c"
     "0002000100000e100006036e7332c00cc0290001000100000e100004c0000201c06a0001000100000e100004c0000202",
     "ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"},
    {"AAAA",
     "1c6e8400000100010002000203777777076578616d706c6503636f6d00001c0001c00c001c000100000e10001020010d"
     "b8000000000000000000000080c0100002000100000e100006036e7331c010c0100002000100000e100006036e7332c0"
     "10c0490001000100000e100004c0000201c05b0001000100000e100004c0000202",
     "2001:db8::80"},
    {"CNAME then A",
     "10208400000100020002000205616c696173076578616d706c6503636f6d0000010001c00c0005000100000e10000603"
     "777777c012c02f0001000100000e100004c0000250c0120002000100000e100006036e7332c012c0120002000100000e"
     "100006036e7331c012c0630001000100000e100004c0000201c0510001000100000e100004c0000202",
     "www.example.com.\n192.0.2.80"},
    {"RRSIG (ECDSA P-256, real signature)",
     "8dac8400000100030002000203777777076578616d706c6503636f6d00002e0001c00c002e000100000e10005f00010d"
     "0300000e106b2c01876b047487b5cf076578616d706c6503636f6d0017d7615d683f14ec50c25b8dcb03cdd7bfa2ca58"
     "0f04fe33aa15526861631bf0aa01d336ae60db7fcc78e21255eebca497842f2f23ab8fa9015c4f17d7134f36c00c002e"
     "000100000e10005f001c0d0300000e106b2c01876b047487b5cf076578616d706c6503636f6d005512932568915e0e07"
     "3167ac8423553bf06e867bf8706c5d1a5288b265e0ebc6b5669df3bf7326359ef102229a67b992b251f87bfc255cb7f6"
     "471fde6f5fb4ffc00c002e00010000012c005f002f0d030000012c6b2c01876b047487b5cf076578616d706c6503636f"
     "6d00dc14e773910aca934b31b44530ee5e250d2df955c3c44c22fea7c83cba4a36b0f66b28aa82eba6c3594dc168b9d9"
     "7811320d6b2c662ce6e00d775c8ed2b62833c1150002000100000e100006036e7331c115c1150002000100000e100006"
     "036e7332c115c16e0001000100000e100004c0000201c1800001000100000e100004c0000202",
     "A 13 3 3600 20261223171447 20261123171447 46543 example.com. F9dhXWg/FOxQwluNywPN17+iylgPBP4zqhVSaGFjG/CqAdM2rmDbf8x44hJV7rykl4QvLyOrj6kBXE8X1xNPNg==\nAAAA 13 3 3600 20261223171447 20261123171447 46543 example.com. VRKTJWiRXg4HMWeshCNVO/Buhnv4cGxdGlKIsmXg68a1Zp3zv3MmNZ7xAiKaZ7mSslH4e/wlXLf2Rx/eb1+0/w==\nNSEC 13 3 300 20261223171447 20261123171447 46543 example.com. 3BTnc5EKypNLMbRFMO5eJQ0t+VXDxEwi/qfIPLpKNrD2ayiqguumw1lNwWi52XgRMg1rLGYs5uANd1yO0rYoMw=="},
    {"DNSKEY (KSK and ZSK; BIND rotates RRset order, this is the captured one)",
     "088384000001000200000000076578616d706c6503636f6d0000300001c00c0030000100000e1000440101030d644ff8"
     "aad1930d247de0e18747600b7acc48f3e015adc10d382530b2d9775d9544bea9565171566461fac3e8b3b9ffea9942b2"
     "8bfa27f64ad92a9d6193c5b894c00c0030000100000e1000440100030dda608ccbc158231d7d1e1c59118ced812680d3"
     "104c3f0de7635779b0a7487651c43be0a1840712ba87e8aa7327385aa03eb13c36a23a99175015fc710f727d3a",
     "257 3 13 ZE/4qtGTDSR94OGHR2ALesxI8+AVrcENOCUwstl3XZVEvqlWUXFWZGH6w+izuf/qmUKyi/on9krZKp1hk8W4lA==\n256 3 13 2mCMy8FYIx19HhxZEYztgSaA0xBMPw3nY1d5sKdIdlHEO+ChhAcSuofoqnMnOFqgPrE8NqI6mRdQFfxxD3J9Og=="},
    {"NSEC with a type bitmap",
     "ad0584000001000100020002076578616d706c6503636f6d00002f0001c00c002f00010000012c0023045f736970045f"
     "746370076578616d706c6503636f6d00000722018000000380010140c00c0002000100000e100006036e7332c00cc00c"
     "0002000100000e100006036e7331c00cc06a0001000100000e100004c0000201c0580001000100000e100004c0000202",
     "_sip._tcp.example.com. NS SOA MX TXT RRSIG NSEC DNSKEY CAA"},
};

std::string answers_text(const std::vector<std::uint8_t>& wire, TextOptions opt) {
  Message m;
  REQUIRE(Message::parse(Bytes{wire}, m) == Error::ok);
  CHECK(m.anomalies().empty());
  std::string out;
  std::array<char, 1024> buf{};
  for (const RecordView& rr : m.records(Section::answer)) {
    const auto r = rdata_to_text(m, rr, buf, opt);
    REQUIRE(r.ok());
    if (!out.empty()) out += '\n';
    out.append(buf.data(), r.value);
  }
  return out;
}

}  // namespace

TEST_CASE("RDATA text matches dig +short on real BIND responses", "[text]") {
  for (const Case& c : kCases) {
    INFO(c.what);
    CHECK(answers_text(hex(c.wire_hex), TextOptions{true}) == c.dig);
  }
}

TEST_CASE("without trailing dots, names in RDATA end without one", "[text]") {
  CHECK(answers_text(hex(kCases[1].wire_hex), {}) == "10 60 5060 sip.example.com");
}

TEST_CASE("IPv6 text follows RFC 5952", "[text]") {
  const auto six = [](std::initializer_list<std::uint8_t> b) {
    std::array<std::uint8_t, 16> a{};
    std::copy(b.begin(), b.end(), a.begin());
    std::array<char, 64> buf{};
    TextWriter w(buf);
    write_ipv6(a, w);
    return std::string(w.view());
  };
  CHECK(six({}) == "::");
  CHECK(six({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}) == "::1");
  CHECK(six({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}) == "2001:db8::1:0:0:1");
  CHECK(six({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}) == "2001:db8:0:1:1:1:1:1");
  CHECK(six({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}) == "::ffff:192.0.2.1");
  CHECK(six({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) == "fe80::");
}

TEST_CASE("TXT escapes quotes, backslashes and non-printable octets", "[text]") {
  Wire w;
  w.header(1, 0x8400, 1, 1, 0, 0).name("a.com").qtc(16);
  w.ptr(12).rr_fixed(16, 1, 60).u8(6).bytes({'a', '"', '\\', 0x00, 0xC3, 0xA9}).fix_rdlength();
  Message m;
  REQUIRE(Message::parse(Bytes{w.b}, m) == Error::ok);
  std::array<char, 64> buf{};
  const auto r = rdata_to_text(m, *m.records(Section::answer).begin(), buf);
  REQUIRE(r.ok());
  CHECK(std::string(buf.data(), r.value) == "\"a\\\"\\\\\\000\\195\\169\"");
}

TEST_CASE("unknown types use the RFC 3597 generic form", "[text]") {
  Wire w;
  w.header(1, 0x8400, 1, 1, 0, 0).name("a.com").qtc(65280);
  w.ptr(12).rr_fixed(65280, 1, 60).bytes({0x0a, 0x0b, 0x0c}).fix_rdlength();
  Message m;
  REQUIRE(Message::parse(Bytes{w.b}, m) == Error::ok);
  std::array<char, 64> buf{};
  const auto r = rdata_to_text(m, *m.records(Section::answer).begin(), buf);
  REQUIRE(r.ok());
  CHECK(std::string(buf.data(), r.value) == "\\# 3 0a0b0c");
}

TEST_CASE("DNSSEC records print as dig does", "[text][dnssec]") {
  // RRSIG with expiration 2023-11-14 22:13:20 UTC (1700000000) and a 3-octet signature.
  Wire w;
  w.header(1, 0x8400, 1, 2, 0, 0).name("example.com").qtc(46);
  w.ptr(12).rr_fixed(46, 1, 300).u16(1).u8(13).u8(2).u32(300).u32(1700000000).u32(1699990000).u16(46543).ptr(12).bytes({1, 2, 3}).fix_rdlength();
  w.ptr(12).rr_fixed(50, 1, 300).u8(1).u8(0).u16(0).u8(0).u8(5).bytes({0, 0, 0, 0, 1}).bytes({0, 1, 0x40}).fix_rdlength();
  Message m;
  REQUIRE(Message::parse(Bytes{w.b}, m) == Error::ok);
  std::vector<std::string> got;
  std::array<char, 256> buf{};
  for (const RecordView& rr : m.records(Section::answer)) {
    const auto r = rdata_to_text(m, rr, buf, {true});
    REQUIRE(r.ok());
    got.emplace_back(buf.data(), r.value);
  }
  // 1699990000 is 2023-11-14 19:26:40 UTC; base32hex of 00 00 00 00 01 is 00000001.
  CHECK(got[0] == "A 13 2 300 20231114221320 20231114192640 46543 example.com. AQID");
  CHECK(got[1] == "1 0 0 - 00000001 A");
}

TEST_CASE("mnemonics and generic forms", "[text]") {
  CHECK(Mnemonic::type(1).view() == "A");
  CHECK(Mnemonic::type(65).view() == "HTTPS");
  CHECK(Mnemonic::type(65280).view() == "TYPE65280");
  CHECK(Mnemonic::klass(3).view() == "CH");
  CHECK(Mnemonic::klass(42).view() == "CLASS42");
  CHECK(Mnemonic::op(5).view() == "UPDATE");
  CHECK(Mnemonic::rcode(3).view() == "NXDOMAIN");
  CHECK(Mnemonic::rcode(12).view() == "RCODE12");
  CHECK(type_from_name("aaaa") == 28);
  CHECK(type_from_name("TYPE999") == 999);
  CHECK(type_from_name("nonsense") == 0);
}

TEST_CASE("output that does not fit reports buffer_too_small", "[text]") {
  const auto wire = hex(kCases[0].wire_hex);
  Message m;
  REQUIRE(Message::parse(Bytes{wire}, m) == Error::ok);
  std::array<char, 8> small{};
  CHECK(rdata_to_text(m, *m.records(Section::answer).begin(), small).error == Error::buffer_too_small);
}
