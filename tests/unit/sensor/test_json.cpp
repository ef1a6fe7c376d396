// Json writer (escaping, nesting), write_rfc3339, and the ECS documents of write_event_json and
// write_unanswered_json, checked with a strict JSON parser (json_check.hpp).
#include <catch2/catch.hpp>

#include <array>
#include <climits>
#include <string>

#include "frame_builder.hpp"
#include "parsed_event.hpp"
#include "json_check.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/output/json.hpp"
#include "dnsvigil/sensor/names.hpp"
#include "dnsvigil/sensor/time.hpp"

using namespace dnsvigil;
using namespace dnsvigil::test;
using output::Json;
using sensor::Timestamp;
using K = json::Value::Kind;

namespace {

std::string str_json(std::string_view s) {
  Json j;
  j.str(s);
  return std::string(j.line());
}

std::string rfc3339(Timestamp ts) {
  std::array<char, 64> buf{};
  dnsparse::TextWriter w(buf);
  sensor::write_rfc3339(ts, w);
  return std::string(w.view());
}

using Event = ParsedEvent;

json::Value parse_ok(std::string_view line) {
  const json::Result r = json::parse(line);
  INFO("line: " << line);
  INFO("error: " << r.error);
  REQUIRE(r.ok);
  CHECK(line.find('\n') == std::string_view::npos);  // one document per line
  return r.value;
}

}  // namespace

// ------------------------------------------------------------------------------------ Json

TEST_CASE("json: quotes, backslashes and control octets are escaped", "[json]") {
  CHECK(str_json("plain") == "\"plain\"");
  CHECK(str_json("a\"b") == "\"a\\\"b\"");
  CHECK(str_json("c:\\dir\\") == "\"c:\\\\dir\\\\\"");
  CHECK(str_json(std::string_view("\x00\x01\n\r\t\x1f", 6)) == "\"\\u0000\\u0001\\u000a\\u000d\\u0009\\u001f\"");
  CHECK(str_json("\x7f") == "\"\\u007f\"");
  CHECK(str_json("</script>") == "\"</script>\"");
  CHECK(str_json("") == "\"\"");
}

TEST_CASE("json: valid UTF-8 is kept, invalid octets become \\u00XX", "[json]") {
  // é (2 octets), € (3), 😀 (4), U+10FFFF (the last code point).
  const std::string good = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
  CHECK(str_json(good) == "\"" + good + "\"");

  CHECK(str_json("\xFF") == "\"\\u00ff\"");                        // never valid
  CHECK(str_json("\x80") == "\"\\u0080\"");                        // lone continuation
  CHECK(str_json("\xC3") == "\"\\u00c3\"");                        // truncated 2-octet sequence
  CHECK(str_json("\xE2\x82") == "\"\\u00e2\\u0082\"");             // truncated 3-octet sequence
  CHECK(str_json("\xC0\xAF") == "\"\\u00c0\\u00af\"");             // overlong '/'
  CHECK(str_json("\xE0\x80\xAF") == "\"\\u00e0\\u0080\\u00af\"");  // overlong, 3 octets
  CHECK(str_json("\xED\xA0\x80") == "\"\\u00ed\\u00a0\\u0080\"");  // UTF-16 surrogate D800
  CHECK(str_json("\xF4\x90\x80\x80") == "\"\\u00f4\\u0090\\u0080\\u0080\"");  // past U+10FFFF
  CHECK(str_json("\xF8\x88\x80\x80\x80") == "\"\\u00f8\\u0088\\u0080\\u0080\\u0080\"");  // 5-octet form
  CHECK(str_json("a\xC3(b") == "\"a\\u00c3(b\"");                  // bad continuation, the next octet kept
}

TEST_CASE("json: every single octet gives valid JSON that decodes to the octet's code point", "[json]") {
  for (int b = 0; b < 256; ++b) {
    INFO("octet " << b);
    const std::string in(1, static_cast<char>(b));
    const json::Value v = parse_ok(str_json(in));
    REQUIRE(v.is(K::string));
    std::string expect;
    if (b < 0x80) {
      expect = in;
    } else {  // U+0080..U+00FF in UTF-8
      expect += static_cast<char>(0xC0 | b >> 6);
      expect += static_cast<char>(0x80 | (b & 0x3F));
    }
    CHECK(v.text == expect);
  }
}

TEST_CASE("json: nested objects and arrays get their commas", "[json]") {
  Json j;
  j.begin_object();
  j.kv("a", std::uint64_t{1});
  j.key("b").begin_array().num(std::uint64_t{1}).num(std::int64_t{-2});
  j.begin_object().kvb("c", true).end_object();
  j.begin_array().end_array();
  j.str("x").raw("null");
  j.end_array();
  j.key("d").begin_object().end_object();
  j.key("e").begin_object().key("f").begin_object().kv("g", "h").end_object().kvb("i", false).end_object();
  j.kv("max", std::uint64_t{UINT64_MAX});
  j.key("min").num(std::int64_t{INT64_MIN});
  j.end_object();
  CHECK(j.line() ==
        "{\"a\":1,\"b\":[1,-2,{\"c\":true},[],\"x\",null],\"d\":{},\"e\":{\"f\":{\"g\":\"h\"},\"i\":false},"
        "\"max\":18446744073709551615,\"min\":-9223372036854775808}");
  parse_ok(j.line());

  // clear() starts a fresh line: no stray comma, depth back to 0.
  j.clear();
  j.begin_array().num(std::uint64_t{7}).end_array();
  CHECK(j.line() == "[7]");
  j.clear();
  j.begin_object().kv("k", "v").end_object();
  CHECK(j.line() == "{\"k\":\"v\"}");
}

TEST_CASE("json: str_with formats into scratch, then escapes", "[json]") {
  Json j;
  j.begin_object();
  j.key("t").str_with([](dnsparse::TextWriter& w) { w.put("a\"b"); w.put_uint(42); });
  j.end_object();
  CHECK(j.line() == "{\"t\":\"a\\\"b42\"}");
}

TEST_CASE("json: lines far past the initial buffer grow without losing a member", "[json]") {
  // The writer reserves each value's worst case (six octets per escaped octet) and grows its
  // buffer in place; under ASan an off-by-one in a reservation is an overrun of an exactly
  // sized block. Members of every kind, some longer than the whole initial buffer.
  Json j;
  std::string expect = "{";
  j.begin_object();
  for (int i = 0; i < 600; ++i) {
    const std::string k = "k" + std::to_string(i);
    const std::string ctl(static_cast<std::size_t>(i * 7 % 900), '\x01');  // 6 octets each in JSON
    if (i != 0) expect += ',';
    switch (i % 4) {
      case 0:
        j.kv(k, ctl);
        expect += "\"" + k + "\":\"";
        for (std::size_t n = 0; n < ctl.size(); ++n) expect += "\\u0001";
        expect += '"';
        break;
      case 1:
        j.key(k).num(std::int64_t{-i});
        expect += "\"" + k + "\":" + std::to_string(-i);
        break;
      case 2:
        j.key(k).begin_array().str("a\"").raw("null").end_array();
        expect += "\"" + k + "\":[\"a\\\"\",null]";
        break;
      default:
        j.kvb(k, true);
        expect += "\"" + k + "\":true";
        break;
    }
  }
  j.end_object();
  expect += '}';
  REQUIRE(expect.size() > 90 * 4096);
  CHECK(j.line() == expect);
  parse_ok(j.line());
  // After clear() the grown buffer is reused and the old line is gone.
  j.clear();
  j.begin_array().end_array();
  CHECK(j.line() == "[]");
}

TEST_CASE("json: nesting deeper than the writer's 32 tracked levels stays valid", "[json]") {
  // Json tracks the comma state of 32 levels; the comma rule (none after an opening bracket,
  // one after any value or close) keeps deeper documents valid too.
  Json k;
  for (int i = 0; i < 40; ++i) k.begin_array().num(std::uint64_t{1}).begin_object().end_object();
  for (int i = 0; i < 40; ++i) k.begin_object().key("k").begin_array().end_array().end_object().end_array();
  const json::Value v = parse_ok(k.line());
  const json::Value* p = &v;
  int depth = 0;
  while (p->is(K::array) && p->items.size() >= 2 && p->at(2).is(K::array)) {
    p = &p->at(2);
    ++depth;
  }
  CHECK(depth == 39);
}

// ----------------------------------------------------------------------------- RFC 3339

TEST_CASE("time: RFC 3339 with nanoseconds", "[time]") {
  constexpr Timestamp s = sensor::kNanosPerSecond;
  CHECK(rfc3339(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(rfc3339(1) == "1970-01-01T00:00:00.000000001Z");
  CHECK(rfc3339(1'706'702'400'123'456'789) == "2024-01-31T12:00:00.123456789Z");
  CHECK(rfc3339(1'795'458'981 * s + 857'248'000) == "2026-11-23T18:36:21.857248000Z");  // the lab response
  // Before 2000, a leap day, the 32-bit rollover and after it, a non-leap century year.
  CHECK(rfc3339(946'684'799 * s + 999'999'999) == "1999-12-31T23:59:59.999999999Z");
  CHECK(rfc3339(946'684'800 * s) == "2000-01-01T00:00:00.000000000Z");
  CHECK(rfc3339(951'782'400 * s) == "2000-02-29T00:00:00.000000000Z");
  CHECK(rfc3339(2'147'483'647 * s) == "2038-01-19T03:14:07.000000000Z");
  CHECK(rfc3339(2'147'483'648 * s + 500'000'000) == "2038-01-19T03:14:08.500000000Z");
  CHECK(rfc3339(4'107'542'400 * s) == "2100-03-01T00:00:00.000000000Z");
  // Before 1970 (negative packet time from a broken clock) and the end of int64.
  CHECK(rfc3339(-1) == "1969-12-31T23:59:59.999999999Z");
  CHECK(rfc3339(-315'619'200 * s) == "1960-01-01T00:00:00.000000000Z");
  CHECK(rfc3339(INT64_MAX) == "2262-04-11T23:47:16.854775807Z");
}

// ------------------------------------------------------------------------- event documents

TEST_CASE("event json: the lab's real answer, matched, as ECS", "[json][event]") {
  Event e(kLabResponse);
  e.ev.ts = 1'795'458'981 * sensor::kNanosPerSecond + 857'248'000;
  e.ev.src = addr("10.20.0.53");
  e.ev.dst = addr("10.20.1.11");
  e.ev.sport = 53;
  e.ev.dport = 34007;
  e.ev.matched = true;
  e.ev.query_ts = 1'795'458'981 * sensor::kNanosPerSecond + 854'506'000;
  Json j;
  output::write_event_json(e.ev, j);
  const json::Value v = parse_ok(j.line());

  CHECK(v["@timestamp"].text == "2026-11-23T18:36:21.857248000Z");
  CHECK(v["event"]["kind"].text == "event");
  CHECK(v["event"]["category"].strings() == std::vector<std::string>{"network"});
  CHECK(v["event"]["type"].strings() == std::vector<std::string>{"protocol"});
  CHECK(v["event"]["dataset"].text == "dnsvigil.dns");
  CHECK(v["event"]["duration"].integer() == 2'742'000);  // nanoseconds
  CHECK(v["network"]["transport"].text == "udp");
  CHECK(v["network"]["protocol"].text == "dns");
  CHECK(v["network"]["type"].text == "ipv4");
  CHECK_FALSE(v["network"]["vlan"].exists());
  CHECK(v["source"]["ip"].text == "10.20.0.53");
  CHECK(v["source"]["port"].integer() == 53);
  CHECK(v["destination"]["ip"].text == "10.20.1.11");
  CHECK(v["destination"]["port"].integer() == 34007);

  const json::Value& dns = v["dns"];
  CHECK(dns["id"].integer() == 0x82d2);
  CHECK(dns["type"].text == "answer");
  CHECK(dns["op_code"].text == "QUERY");
  CHECK(dns["response_code"].text == "NOERROR");
  CHECK(dns["header_flags"].strings() == std::vector<std::string>{"RD", "RA"});
  CHECK(dns["question"]["name"].text == "check.beacon.badexample.io");
  CHECK(dns["question"]["type"].text == "A");
  CHECK(dns["question"]["class"].text == "IN");
  CHECK(dns["question"]["registered_domain"].text == "badexample.io");
  CHECK(dns["question"]["subdomain"].text == "check.beacon");
  CHECK(dns["question"]["top_level_domain"].text == "io");
  REQUIRE(dns["answers"].items.size() == 1);
  const json::Value& a = dns["answers"].at(0);
  CHECK(a["name"].text == "check.beacon.badexample.io");
  CHECK(a["type"].text == "A");
  CHECK(a["class"].text == "IN");
  CHECK(a["ttl"].integer() == 300);
  CHECK(a["data"].text == "198.51.100.68");
  CHECK(dns["resolved_ip"].strings() == std::vector<std::string>{"198.51.100.68"});
  CHECK(dns["answers_count"].integer() == 1);
  CHECK(dns["authorities_count"].integer() == 0);
  CHECK(dns["additionals_count"].integer() == 1);

  const json::Value& own = v["dnsvigil"];
  CHECK(own["size"].integer() == 99);
  CHECK_FALSE(own["unsolicited"].exists());
  CHECK_FALSE(own["fragmented"].exists());
  CHECK_FALSE(own["anomalies"].exists());
  CHECK(own["edns"]["udp_size"].integer() == 1232);
  CHECK(own["edns"]["version"].integer() == 0);
  CHECK(own["edns"]["do"].is(K::boolean));
  CHECK_FALSE(own["edns"]["do"].b);
  CHECK(own["edns"]["cookie"].b);
  CHECK(v.keys() == std::vector<std::string>{"@timestamp", "event", "network", "source", "destination", "dns", "dnsvigil"});
}

TEST_CASE("event json: an unmatched response and a query", "[json][event]") {
  Event r(kNsWithGlue);
  r.ev.src = addr("10.20.0.10");
  r.ev.dst = addr("10.20.1.10");
  r.ev.fragmented = true;
  Json j;
  output::write_event_json(r.ev, j);
  const json::Value v = parse_ok(j.line());
  CHECK_FALSE(v["event"]["duration"].exists());
  CHECK(v["dnsvigil"]["unsolicited"].b);
  CHECK(v["dnsvigil"]["fragmented"].b);
  CHECK(v["dns"]["header_flags"].strings() == std::vector<std::string>{"AA", "RD"});
  CHECK(v["dns"]["answers"].items.size() == 2);
  CHECK(v["dns"]["answers"].at(1)["data"].text == "ns2.example.com");
  CHECK_FALSE(v["dns"]["resolved_ip"].exists());  // glue is in the additional section
  CHECK(v["dns"]["additionals_count"].integer() == 2);
  CHECK_FALSE(v["dnsvigil"]["edns"].exists());

  Event q(kLabQuery);
  q.ev.src = addr("fd20::1:10");
  q.ev.dst = addr("fd20::53");
  q.ev.ip_version = 6;
  q.ev.transport = sensor::Transport::tcp;
  q.ev.has_vlan = true;
  q.ev.vlan = 100;
  output::write_event_json(q.ev, j);
  const json::Value w = parse_ok(j.line());
  CHECK(w["dns"]["type"].text == "query");
  CHECK_FALSE(w["dns"]["response_code"].exists());
  CHECK_FALSE(w["dns"]["answers"].exists());
  CHECK(w["dns"]["header_flags"].strings() == std::vector<std::string>{"RD", "AD"});
  CHECK(w["network"]["transport"].text == "tcp");
  CHECK(w["network"]["type"].text == "ipv6");
  CHECK(w["network"]["vlan"]["id"].integer() == 100);
  CHECK(w["source"]["ip"].text == "fd20::1:10");
  CHECK_FALSE(w["dnsvigil"]["unsolicited"].exists());
}

TEST_CASE("event json: hostile names and RDATA stay valid JSON", "[json][event]") {
  // Question name labels holding '"', '\', a newline, 0xff and a '.'; a TXT answer with
  // control and non-UTF-8 octets; an ECS option; anomalies (Z bit set, trailing bytes).
  Wire w;
  w.header(0xbad0, 0x81c0, 1, 1, 0, 1);  // QR RD RA Z
  w.u8(4).text("a\"b\\").u8(3).u8('\n').u8(0xFF).u8('.').name("evil.example").qtc(16);
  w.ptr(12).rr_fixed(16, 1, 60);
  w.u8(6).bytes({'x', 0x00, '"', 0x1b, 0xC3, 0x28}).fix_rdlength();
  w.u8(0).u16(41).u16(1232).u32(0).u16(11);                    // OPT: root, udp 1232, RDLENGTH 11
  w.u16(8).u16(7).u16(1).u8(24).u8(0).bytes({198, 51, 100});   // ECS: family 1, /24, scope 0, 198.51.100
  w.u8(0xAA);                                                  // trailing octet
  Event e(w.b);
  e.ev.src = addr("10.20.0.53");
  e.ev.dst = addr("10.20.1.11");
  Json j;
  output::write_event_json(e.ev, j);
  const json::Value v = parse_ok(j.line());
  // The JSON string decodes back to the presentation text of the name.
  CHECK(v["dns"]["question"]["name"].text == std::string(e.qname.text()));
  CHECK(v["dns"]["question"]["name"].text == "a\\\"b\\\\.\\010\\255\\..evil.example");
  CHECK(v["dns"]["answers"].at(0)["type"].text == "TXT");
  CHECK(v["dnsvigil"]["edns"]["client_subnet"].text == "198.51.100.0/24");
  CHECK(v["dnsvigil"]["anomalies"].strings() == std::vector<std::string>{"trailing_bytes", "z_bit_set", "qname_non_printable"});
}

TEST_CASE("event json: an unanswered query, with a cut name", "[json][event]") {
  sensor::UnansweredQuery q;
  q.query_ts = 1'000 * sensor::kNanosPerSecond;
  q.expired_ts = 1'005 * sensor::kNanosPerSecond + 1;
  q.client = addr("10.20.1.10");
  q.server = addr("10.20.0.53");
  q.client_port = 5555;
  q.server_port = 53;
  q.id = 4242;
  q.qtype = 28;
  q.qclass = 1;
  q.name = "very.long.example.com";
  q.name_cut = true;
  Json j;
  output::write_unanswered_json(q, j);
  const json::Value v = parse_ok(j.line());
  CHECK(v["@timestamp"].text == "1970-01-01T00:16:40.000000000Z");
  CHECK(v["event"]["action"].text == "dns-unanswered");
  CHECK(v["event"]["outcome"].text == "failure");
  CHECK(v["source"]["ip"].text == "10.20.1.10");
  CHECK(v["source"]["port"].integer() == 5555);
  CHECK(v["destination"]["ip"].text == "10.20.0.53");
  CHECK(v["dns"]["id"].integer() == 4242);
  CHECK(v["dns"]["question"]["name"].text == "very.long.example.com");
  CHECK(v["dns"]["question"]["type"].text == "AAAA");
  CHECK(v["dnsvigil"]["unanswered"].b);
  CHECK(v["dnsvigil"]["name_truncated"].b);
  CHECK(v["dnsvigil"]["given_up"].text == "1970-01-01T00:16:45.000000001Z");
  CHECK_FALSE(v["observer"].exists());
  q.name_cut = false;
  output::write_unanswered_json(q, j, "eth1");
  const json::Value named = parse_ok(j.line());
  CHECK_FALSE(named["dnsvigil"]["name_truncated"].exists());
  CHECK(named["observer"]["ingress"]["interface"]["name"].text == "eth1");
}

TEST_CASE("json_check: the validator itself rejects what it must", "[json]") {
  for (const char* bad : {"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{\"a\":1,\"a\":2}", "\"\x01\"", "\"\\x\"",
                          "\"\\ud800\"", "\"\\udc00\"", "01", "1.", "-", "1e", "tru", "[1] 2", "\"\xC3\"",
                          "\"\xED\xA0\x80\""}) {
    INFO("input '" << bad << "'");
    CHECK_FALSE(json::parse(bad).ok);
  }
  const json::Result r = json::parse(" {\"a\":[1,-2.5e+3,true,false,null,\"\\u00e9\\ud83d\\ude00\"]} ");
  REQUIRE(r.ok);
  CHECK(r.value["a"].at(5).text == "\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(r.value["a"].at(1).text == "-2.5e+3");
}
