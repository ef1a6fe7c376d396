// Message parsing: header, sections, record views, EDNS, errors and every anomaly.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dns_builder.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/rdata.hpp"
#include "dnsvigil/dnsparse/types.hpp"

using namespace dnsvigil::dnsparse;
using dnsvigil::test::hex;
using dnsvigil::test::Wire;

namespace {

// Real query from `dig @127.0.0.1 www.example.com A +cookie` (BIND 9.18.49 dig):
// id aedd, flags 0120 (RD, AD), QD=1 AR=1; www.example.com A IN; OPT udp 1232 with an
// 8-octet client COOKIE (option 10).
const std::vector<std::uint8_t> kQuery = hex(
    "aedd 0120 0001 0000 0000 0001"
    "03777777 076578616d706c65 03636f6d 00 0001 0001"
    "00 0029 04d0 00000000 000c 000a 0008 779124100affbe13");

// Real answer from BIND 9.18.49 to kQuery: AA, one A record (name compressed to offset 12),
// OPT with client + server cookie.
const std::vector<std::uint8_t> kAnswer = hex(
    "aedd 8500 0001 0001 0000 0001"
    "03777777076578616d706c6503636f6d00 0001 0001"
    "c00c 0001 0001 00000e10 0004 c0000250"
    "00 0029 04d0 00000000 001c 000a 0018 779124100affbe13 010000006b04821891b1d2b4e40313fd");

// Real answer from BIND 9.18.49 to `dig example.com NS +noedns`: 2 NS + 2 glue A records.
const std::vector<std::uint8_t> kNsWithGlue = hex(
    "f98c85000001000200000002076578616d706c6503636f6d0000020001c00c0002000100000e100006036e7331c00c"
    "c00c0002000100000e100006036e7332c00cc0290001000100000e100004c0000201c03b0001000100000e100004c0000202");

Message parse_ok(const std::vector<std::uint8_t>& b) {
  Message m;
  const Error e = Message::parse(Bytes{b}, m);
  INFO("error " << error_id(e));
  REQUIRE(e == Error::ok);
  return m;
}

std::vector<std::string> anomalies(const Message& m) {
  std::vector<std::string> out;
  m.anomalies().for_each([&](Anomaly a) { out.emplace_back(anomaly_id(a)); });
  return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("a real query: header, question and EDNS", "[message]") {
  const Message m = parse_ok(kQuery);
  const Header& h = m.header();
  CHECK(h.id == 0xaedd);
  CHECK_FALSE(h.qr());
  CHECK(h.opcode() == opcode::QUERY);
  CHECK(h.rd());
  CHECK(h.ad());
  CHECK(m.has_question());
  CHECK(m.question().type == rrtype::A);
  CHECK(m.question().klass == rrclass::IN);
  CHECK(m.question().name == 12);
  CHECK(m.qname_wire_len() == 17);
  CHECK(m.qname_labels() == 3);
  CHECK(m.count(Section::question) == 1);
  CHECK(m.count(Section::additional) == 1);
  REQUIRE(m.has_edns());
  const auto e = m.edns();
  REQUIRE(e.ok());
  CHECK(e.value.udp_size == 1232);
  CHECK(e.value.version == 0);
  CHECK_FALSE(e.value.do_bit);
  const auto opts = rdata::edns_options(m);
  REQUIRE(opts.ok());
  int n = 0;
  for (const rdata::EdnsOption o : opts.value) {
    CHECK(o.code == ednsopt::COOKIE);
    CHECK(o.data.size() == 8);
    ++n;
  }
  CHECK(n == 1);
  CHECK(anomalies(m).empty());
  CHECK(m.parsed_end() == kQuery.size());
}

TEST_CASE("a real answer: record views point into the message", "[message]") {
  const Message m = parse_ok(kAnswer);
  CHECK(m.header().qr());
  CHECK(m.header().aa());
  CHECK(m.rcode() == rcode::NOERROR);
  REQUIRE(m.count(Section::answer) == 1);
  const RecordView rr = *m.records(Section::answer).begin();
  CHECK(rr.name == 33);
  CHECK(rr.type == rrtype::A);
  CHECK(rr.klass == rrclass::IN);
  CHECK(rr.ttl == 3600);
  CHECK(rr.rdlength == 4);
  CHECK(rr.section == Section::answer);
  const auto a = rdata::a(m, rr);
  REQUIRE(a.ok());
  CHECK(a.value == std::array<std::uint8_t, 4>{192, 0, 2, 80});
  const auto opts = rdata::edns_options(m);
  REQUIRE(opts.ok());
  const auto c = rdata::cookie((*opts.value.begin()).data);
  REQUIRE(c.ok());
  CHECK(c.value.client.size() == 8);
  CHECK(c.value.server.size() == 16);
  CHECK(anomalies(m).empty());
}

TEST_CASE("sections iterate in wire order with their own section tag", "[message]") {
  const Message m = parse_ok(kNsWithGlue);
  std::vector<std::uint16_t> types;
  for (const Section s : {Section::question, Section::answer, Section::authority, Section::additional})
    for (const RecordView& rr : m.records(s)) {
      CHECK(rr.section == s);
      types.push_back(rr.type);
    }
  CHECK(types == std::vector<std::uint16_t>{rrtype::NS, rrtype::NS, rrtype::NS, rrtype::A, rrtype::A});
  CHECK_FALSE(m.has_edns());
}

TEST_CASE("fatal: fewer than 12 octets", "[message][error]") {
  const auto b = hex("aedd 0120 0001 0000 0000 00");
  Message m;
  CHECK(Message::parse(Bytes{b}, m) == Error::header_truncated);
}

TEST_CASE("fatal: a broken first question", "[message][error]") {
  Message m;
  // Question name is a forward pointer (as in suricata-verify dns-forward-pointer).
  const auto fwd = Wire{}.header(1, 0, 1, 0, 0, 0).ptr(20).qtc(1).b;
  CHECK(Message::parse(Bytes{fwd}, m) == Error::pointer_forward);
  // Question name fine but type/class cut off.
  const auto cut = Wire{}.header(1, 0, 1, 0, 0, 0).name("a.b").u8(0).b;
  CHECK(Message::parse(Bytes{cut}, m) == Error::truncated);
}

TEST_CASE("fatal: more than 65535 octets", "[message][error]") {
  std::vector<std::uint8_t> big(70000, 0);
  Message m;
  CHECK(Message::parse(Bytes{big}, m) == Error::message_too_large);
}

TEST_CASE("anomaly count_mismatch: header counts are never trusted", "[message][anomaly]") {
  // QDCOUNT=10 with one question (zeek conn-count-too-large), ANCOUNT=65535 with nothing.
  const auto b = Wire{}.header(7, 0x0100, 10, 65535, 0, 0).name("example.com").qtc(1).b;
  const Message m = parse_ok(b);
  CHECK(m.count(Section::question) == 1);
  CHECK(m.count(Section::answer) == 0);
  CHECK(anomalies(m) == Names{"count_mismatch", "qdcount_not_one"});
}

TEST_CASE("anomaly trailing_bytes", "[message][anomaly]") {
  auto b = kQuery;
  b.insert(b.end(), {0, 0, 0, 0});  // as dnscap dnspad.pcap
  const Message m = parse_ok(b);
  CHECK(anomalies(m) == Names{"trailing_bytes"});
  CHECK(m.parsed_end() == kQuery.size());
}

TEST_CASE("anomaly z_bit_set", "[message][anomaly]") {
  const auto b = Wire{}.header(1, 0x0140, 1, 0, 0, 0).name("a.com").qtc(1).b;
  CHECK(anomalies(parse_ok(b)) == Names{"z_bit_set"});
}

TEST_CASE("anomaly qdcount_not_one: zero questions in a QUERY", "[message][anomaly]") {
  const auto b = Wire{}.header(1, 0x8000, 0, 0, 0, 0).b;
  const Message m = parse_ok(b);
  CHECK_FALSE(m.has_question());
  CHECK(anomalies(m) == Names{"qdcount_not_one"});
}

TEST_CASE("anomaly rr_malformed: records before the bad one stay", "[message][anomaly]") {
  Wire w;
  w.header(1, 0x8000, 1, 2, 0, 0).name("a.com").qtc(1);
  w.ptr(12).rr_fixed(1, 1, 60).bytes({1, 2, 3, 4}).fix_rdlength();
  w.ptr(300).rr_fixed(1, 1, 60).bytes({1, 2, 3, 4}).fix_rdlength();  // forward pointer
  const Message m = parse_ok(w.b);
  CHECK(m.count(Section::answer) == 1);
  CHECK(anomalies(m) == Names{"rr_malformed"});
  // RDLENGTH beyond the end of the message.
  Wire w2;
  w2.header(1, 0x8000, 1, 1, 0, 0).name("a.com").qtc(1).ptr(12).u16(1).u16(1).u32(60).u16(50).bytes({1, 2});
  const Message m2 = parse_ok(w2.b);
  CHECK(m2.count(Section::answer) == 0);
  CHECK(anomalies(m2) == Names{"rr_malformed"});
}

TEST_CASE("anomaly rdata_malformed: an A record of five octets", "[message][anomaly]") {
  Wire w;
  w.header(1, 0x8000, 1, 1, 0, 0).name("a.com").qtc(1);
  w.ptr(12).rr_fixed(1, 1, 60).bytes({1, 2, 3, 4, 5}).fix_rdlength();
  const Message m = parse_ok(w.b);
  CHECK(m.count(Section::answer) == 1);
  CHECK(anomalies(m) == Names{"rdata_malformed"});
}

TEST_CASE("anomalies of OPT placement and owner", "[message][anomaly]") {
  SECTION("opt_multiple") {
    Wire w;
    w.header(1, 0, 1, 0, 0, 2).name("a.com").qtc(1);
    w.u8(0).rr_fixed(41, 1232, 0).fix_rdlength();
    w.u8(0).rr_fixed(41, 512, 0).fix_rdlength();
    const Message m = parse_ok(w.b);
    CHECK(anomalies(m) == Names{"opt_multiple"});
    CHECK(m.edns().value.udp_size == 1232);  // the first one counts
  }
  SECTION("opt_misplaced") {
    Wire w;
    w.header(1, 0x8000, 1, 1, 0, 0).name("a.com").qtc(1);
    w.u8(0).rr_fixed(41, 1232, 0).fix_rdlength();
    CHECK(anomalies(parse_ok(w.b)) == Names{"opt_misplaced"});
  }
  SECTION("opt_bad_owner") {
    Wire w;
    w.header(1, 0, 1, 0, 0, 1).name("a.com").qtc(1);
    w.ptr(12).rr_fixed(41, 1232, 0).fix_rdlength();
    CHECK(anomalies(parse_ok(w.b)) == Names{"opt_bad_owner"});
  }
}

TEST_CASE("anomaly edns_option_malformed", "[message][anomaly]") {
  SECTION("an option overrunning the OPT RDATA (zeek dns-edns-bad-length)") {
    Wire w;
    w.header(1, 0, 1, 0, 0, 1).name("a.com").qtc(1);
    w.u8(0).rr_fixed(41, 1232, 0).u16(10).u16(20).bytes({1, 2, 3, 4}).fix_rdlength();
    CHECK(anomalies(parse_ok(w.b)) == Names{"edns_option_malformed"});
  }
  SECTION("an ECS option whose address is longer than its prefix allows") {
    Wire w;
    w.header(1, 0, 1, 0, 0, 1).name("a.com").qtc(1);
    w.u8(0).rr_fixed(41, 1232, 0).u16(8).u16(8).u16(1).u8(8).u8(0).bytes({10, 0, 0, 0}).fix_rdlength();
    CHECK(anomalies(parse_ok(w.b)) == Names{"edns_option_malformed"});
  }
  SECTION("a cookie of 9 octets") {
    Wire w;
    w.header(1, 0, 1, 0, 0, 1).name("a.com").qtc(1);
    w.u8(0).rr_fixed(41, 1232, 0).u16(10).u16(9).bytes({1, 2, 3, 4, 5, 6, 7, 8, 9}).fix_rdlength();
    CHECK(anomalies(parse_ok(w.b)) == Names{"edns_option_malformed"});
  }
}

TEST_CASE("anomaly tsig_not_last", "[message][anomaly]") {
  Wire w;
  w.header(1, 0, 1, 0, 0, 2).name("a.com").qtc(1);
  // TSIG (hmac-sha256.) with an empty MAC, then an OPT after it.
  w.name("k").rr_fixed(250, 255, 0).name("hmac-sha256").u16(0).u32(1700000000).u16(300).u16(0).u16(1).u16(0).u16(0).fix_rdlength();
  w.u8(0).rr_fixed(41, 1232, 0).fix_rdlength();
  const Message m = parse_ok(w.b);
  CHECK(m.has_tsig());
  CHECK(anomalies(m) == Names{"tsig_not_last"});
}

TEST_CASE("anomaly opcode_unassigned", "[message][anomaly]") {
  // Opcode 9 (suricata-verify dns-invalid-opcode).
  const auto b = Wire{}.header(1, 9 << 11, 1, 0, 0, 0).name("a.com").qtc(1).b;
  CHECK(anomalies(parse_ok(b)) == Names{"opcode_unassigned"});
}

TEST_CASE("anomaly qname_non_printable", "[message][anomaly]") {
  Wire w;
  w.header(1, 0, 1, 0, 0, 0).u8(3).bytes({'a', 0x00, 0xff}).name("com").qtc(1);
  CHECK(anomalies(parse_ok(w.b)) == Names{"qname_non_printable"});
  Wire dot;
  dot.header(1, 0, 1, 0, 0, 0).u8(3).text("a.b").name("com").qtc(1);
  CHECK(anomalies(parse_ok(dot.b)) == Names{"qname_non_printable"});
  // Underscore and hyphen are ordinary.
  const auto ok = Wire{}.header(1, 0, 1, 0, 0, 0).name("_sip._tcp.my-host.com").qtc(33).b;
  CHECK(anomalies(parse_ok(ok)).empty());
}

TEST_CASE("anomaly query_has_answers", "[message][anomaly]") {
  Wire w;
  w.header(1, 0, 1, 1, 0, 0).name("a.com").qtc(1);
  w.ptr(12).rr_fixed(1, 1, 60).bytes({1, 2, 3, 4}).fix_rdlength();
  CHECK(anomalies(parse_ok(w.b)) == Names{"query_has_answers"});
}

TEST_CASE("anomaly qclass_unusual", "[message][anomaly]") {
  const auto b = Wire{}.header(1, 0, 1, 0, 0, 0).name("a.com").qtc(1, 42).b;
  CHECK(anomalies(parse_ok(b)) == Names{"qclass_unusual"});
  const auto ch = Wire{}.header(1, 0, 1, 0, 0, 0).name("version.bind").qtc(16, 3).b;
  CHECK(anomalies(parse_ok(ch)).empty());
}

TEST_CASE("anomaly ttl_high_bit", "[message][anomaly]") {
  Wire w;
  w.header(1, 0x8000, 1, 1, 0, 0).name("a.com").qtc(1);
  w.ptr(12).rr_fixed(1, 1, 0x80000001U).bytes({1, 2, 3, 4}).fix_rdlength();
  CHECK(anomalies(parse_ok(w.b)) == Names{"ttl_high_bit"});
}

TEST_CASE("UPDATE deletes with empty RDATA are not malformed", "[message]") {
  // RFC 2136: zone section SOA, update section "delete RRset" with class ANY and RDLENGTH 0.
  Wire w;
  w.header(1, 5 << 11, 1, 0, 1, 0).name("example.com").qtc(6);
  w.name("host.example.com").rr_fixed(1, 255, 0).fix_rdlength();
  const Message m = parse_ok(w.b);
  CHECK(anomalies(m).empty());
  CHECK(m.count(Section::authority) == 1);
}

TEST_CASE("extended RCODE combines OPT and header bits", "[message]") {
  // Header RCODE 0, OPT extended RCODE 1 -> 16 (BADVERS).
  Wire w;
  w.header(1, 0x8000, 1, 0, 0, 1).name("a.com").qtc(1);
  w.u8(0).rr_fixed(41, 1232, 0x01000000U).fix_rdlength();
  const Message m = parse_ok(w.b);
  CHECK(m.rcode() == rcode::BADVERS);
  CHECK(m.edns().value.ext_rcode == 1);
}

TEST_CASE("anomaly and error ids are unique snake_case", "[message]") {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < kAnomalyCount; ++i) ids.emplace_back(anomaly_id(static_cast<Anomaly>(i)));
  for (std::size_t i = 0; i < kErrorCount; ++i) ids.emplace_back(error_id(static_cast<Error>(i)));
  for (const auto& id : ids) {
    INFO(id);
    CHECK(id != "unknown");
    CHECK(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos);
  }
  std::sort(ids.begin(), ids.end());
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
}
