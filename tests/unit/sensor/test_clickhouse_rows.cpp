// ClickHouse rows (clickhouse_rows.hpp): the RowBinary primitives, DNS events, unanswered queries
// and alerts encoded and read back with an independent RowBinary reader driven by the column
// types, and the column lists against packaging/clickhouse/schema.sql.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "parsed_event.hpp"
#include "dnsvigil/output/clickhouse_rows.hpp"
#include "dnsvigil/sensor/names.hpp"

using namespace dnsvigil;
using namespace dnsvigil::test;
using output::Column;
using output::RowBinary;

namespace {

using Event = ParsedEvent;

// Reads RowBinary as ClickHouse would, by column type, into text: numbers in decimal,
// FixedString(16) as an address, Enum8 as its name, NULL as "NULL", arrays as "[a|b]".
class Reader {
 public:
  explicit Reader(std::string_view data) : d_(data) {}

  std::map<std::string, std::string> row(std::span<const Column> cols) {
    std::map<std::string, std::string> r;
    for (const Column& c : cols) r[std::string(c.name)] = value(c.type);
    return r;
  }
  [[nodiscard]] bool at_end() const { return pos_ == d_.size(); }

 private:
  std::uint8_t byte() {
    REQUIRE(pos_ < d_.size());
    return static_cast<std::uint8_t>(d_[pos_++]);
  }
  std::uint64_t le(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t{byte()} << (8 * i);
    return v;
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      REQUIRE(shift < 64);
      const std::uint8_t b = byte();
      v |= std::uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
  }
  std::string value(std::string_view t) {
    const auto inner = [&](std::string_view prefix) { return t.substr(prefix.size(), t.size() - prefix.size() - 1); };
    if (t == "UInt8") return std::to_string(le(1));
    if (t == "UInt16") return std::to_string(le(2));
    if (t == "UInt32" || t == "DateTime") return std::to_string(le(4));
    if (t == "UInt64") return std::to_string(le(8));
    if (t == "Int64") return std::to_string(static_cast<std::int64_t>(le(8)));
    if (t == "String") {
      const std::uint64_t n = varint();
      REQUIRE(n <= d_.size() - pos_);
      std::string s(d_.substr(pos_, n));
      pos_ += n;
      return s;
    }
    if (t == "FixedString(16)") {
      REQUIRE(16 <= d_.size() - pos_);
      sensor::IpAddr a;
      std::memcpy(a.bytes.data(), d_.data() + pos_, 16);
      pos_ += 16;
      return a.text();
    }
    if (t.starts_with("Enum8(")) {
      const auto v = static_cast<std::int8_t>(byte());
      // Enum8('a' = 1, 'b' = 2)
      std::string_view body = inner("Enum8(");
      while (!body.empty()) {
        const auto q1 = body.find('\''), q2 = body.find('\'', q1 + 1), eq = body.find('=', q2);
        const auto comma = body.find(',', eq);
        const int num = std::stoi(std::string(body.substr(eq + 1, comma - eq - 1)));
        if (num == v) return std::string(body.substr(q1 + 1, q2 - q1 - 1));
        if (comma == std::string_view::npos) break;
        body = body.substr(comma + 1);
      }
      FAIL("enum value " << int{v} << " not in " << t);
    }
    if (t.starts_with("Nullable(")) {
      const std::uint8_t marker = byte();
      REQUIRE(marker <= 1);
      return marker == 1 ? "NULL" : value(inner("Nullable("));
    }
    if (t.starts_with("Array(")) {
      const std::uint64_t n = varint();
      std::string s = "[";
      for (std::uint64_t i = 0; i < n; ++i) s += (i == 0 ? "" : "|") + value(inner("Array("));
      return s + "]";
    }
    FAIL("type " << t << " unknown to the test reader");
    return {};
  }

  std::string_view d_;
  std::size_t pos_ = 0;
};

std::map<std::string, std::string> one_row(const std::string& data, std::span<const Column> cols) {
  Reader r(data);
  auto row = r.row(cols);
  CHECK(r.at_end());  // the row has exactly the columns' values
  return row;
}

// The columns of a CREATE TABLE in schema.sql: Nested(...) expanded into name.field Array(T),
// ALIAS and MATERIALIZED columns left out (not inserted).
std::vector<std::pair<std::string, std::string>> sql_columns(const std::string& sql, const std::string& table) {
  const auto start = sql.find("CREATE TABLE IF NOT EXISTS " + table + "\n");
  REQUIRE(start != std::string::npos);
  const auto open = sql.find('(', start), engine = sql.find("\n) ENGINE", start);
  REQUIRE(engine != std::string::npos);
  std::vector<std::pair<std::string, std::string>> cols;
  std::istringstream lines(sql.substr(open + 1, engine - open - 1));
  std::string line;
  while (std::getline(lines, line)) {
    if (const auto c = line.find("--"); c != std::string::npos) line.erase(c);
    while (!line.empty() && (line.back() == ' ' || line.back() == ',')) line.pop_back();
    const auto b = line.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    line.erase(0, b);
    if (line.find(" ALIAS ") != std::string::npos || line.find(" MATERIALIZED ") != std::string::npos) continue;
    const auto sp = line.find(' ');
    REQUIRE(sp != std::string::npos);
    std::string name = line.substr(0, sp), type = line.substr(sp + 1);
    if (const auto d = type.find(" DEFAULT "); d != std::string::npos) type.erase(d);
    if (type.starts_with("Nested(")) {
      std::string fields = type.substr(7, type.size() - 8);
      std::istringstream f(fields);
      std::string field;
      while (std::getline(f, field, ',')) {
        field.erase(0, field.find_first_not_of(' '));
        const auto fs = field.find(' ');
        cols.emplace_back(name + "." + field.substr(0, fs), "Array(" + field.substr(fs + 1) + ")");
      }
    } else {
      cols.emplace_back(name, type);
    }
  }
  return cols;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

detect::RuleInfo kRule{"enumeration", "dnsvigil-0002", "Subdomain brute force",
                       {"TA0043", "Reconnaissance", "T1590", "Gather Victim Network Information", "T1590.002", "DNS"}};

}  // namespace

TEST_CASE("clickhouse rows: RowBinary primitives", "[clickhouse]") {
  std::string out;
  RowBinary r(out);
  r.varint(0);
  r.varint(127);
  r.varint(128);
  r.varint(300);
  r.varint(std::uint64_t{1} << 35);
  CHECK(out == std::string("\x00\x7f\x80\x01\xac\x02\x80\x80\x80\x80\x80\x01", 12));
  out.clear();
  r.u16(0x1234);
  r.u32(0xA1B2C3D4);
  r.u64(0x0102030405060708);
  r.i8(-1);
  CHECK(out == std::string("\x34\x12\xd4\xc3\xb2\xa1\x08\x07\x06\x05\x04\x03\x02\x01\xff", 15));
  out.clear();
  r.str("abc");
  r.str("");
  CHECK(out == std::string("\x03" "abc" "\x00", 5));
  out.clear();
  // DateTime is UInt32 seconds: before 1970 clamps to 0, past 2106 to the largest value.
  r.date_time(1'795'458'981 * sensor::kNanosPerSecond + 857'248'000);
  r.nanos(1'795'458'981 * sensor::kNanosPerSecond + 857'248'000);
  r.date_time(-5 * sensor::kNanosPerSecond);
  r.date_time(5'000'000'000 * sensor::kNanosPerSecond);
  Reader rd(out);
  const Column cols[] = {{"a", "DateTime"}, {"b", "UInt32"}, {"c", "DateTime"}, {"d", "DateTime"}};
  const auto row = rd.row(cols);
  CHECK(rd.at_end());
  CHECK(row.at("a") == "1795458981");
  CHECK(row.at("b") == "857248000");
  CHECK(row.at("c") == "0");
  CHECK(row.at("d") == "4294967295");
}

TEST_CASE("clickhouse rows: the column list of an INSERT", "[clickhouse]") {
  const Column cols[] = {{"a", "UInt8"}, {"answers.name", "Array(String)"}};
  CHECK(output::column_list(cols) == "(`a`, `answers.name`)");
  // No column twice.
  for (const auto list : {output::event_columns(), output::alert_columns()}) {
    std::map<std::string_view, int> seen;
    for (const Column& c : list) CHECK(++seen[c.name] == 1);
  }
}

TEST_CASE("clickhouse rows: the lab's matched answer, as the JSON has it", "[clickhouse]") {
  Event e(kLabResponse);
  e.ev.ts = 1'795'458'981 * sensor::kNanosPerSecond + 857'248'000;
  e.ev.src = addr("10.20.0.53");
  e.ev.dst = addr("10.20.1.11");
  e.ev.sport = 53;
  e.ev.dport = 34007;
  e.ev.matched = true;
  e.ev.query_ts = 1'795'458'981 * sensor::kNanosPerSecond + 854'506'000;
  output::RowEncoder enc;
  std::string out;
  enc.event(e.ev, "sensor-1", "eth1", out);
  const auto r = one_row(out, output::event_columns());
  CHECK(r.at("timestamp") == "1795458981");
  CHECK(r.at("timestamp_ns") == "857248000");
  CHECK(r.at("observer_name") == "sensor-1");
  CHECK(r.at("interface") == "eth1");
  CHECK(r.at("server_identity").empty());
  CHECK(r.at("dnstap_type").empty());
  CHECK(r.at("unanswered") == "0");
  CHECK(r.at("duration_ns") == "2742000");
  CHECK(r.at("transport") == "udp");
  CHECK(r.at("protocol") == "dns");
  CHECK(r.at("ip_version") == "4");
  CHECK(r.at("vlan") == "NULL");
  CHECK(r.at("source_ip") == "10.20.0.53");
  CHECK(r.at("source_port") == "53");
  CHECK(r.at("destination_ip") == "10.20.1.11");
  CHECK(r.at("destination_port") == "34007");
  CHECK(r.at("dns_id") == std::to_string(0x82d2));
  CHECK(r.at("dns_type") == "answer");
  CHECK(r.at("op_code") == "QUERY");
  CHECK(r.at("flag_rd") == "1");
  CHECK(r.at("flag_ra") == "1");
  CHECK(r.at("flag_aa") == "0");
  CHECK(r.at("flag_do") == "0");
  CHECK(r.at("response_code") == "NOERROR");
  CHECK(r.at("question_name") == "check.beacon.badexample.io");
  CHECK(r.at("question_type") == "A");
  CHECK(r.at("question_class") == "IN");
  CHECK(r.at("registered_domain") == "badexample.io");
  CHECK(r.at("subdomain") == "check.beacon");
  CHECK(r.at("top_level_domain") == "io");
  CHECK(r.at("answers.name") == "[check.beacon.badexample.io]");
  CHECK(r.at("answers.type") == "[A]");
  CHECK(r.at("answers.class") == "[IN]");
  CHECK(r.at("answers.ttl") == "[300]");
  CHECK(r.at("answers.data") == "[198.51.100.68]");
  CHECK(r.at("resolved_ip") == "[198.51.100.68]");
  CHECK(r.at("answers_count") == "1");
  CHECK(r.at("authorities_count") == "0");
  CHECK(r.at("additionals_count") == "1");
  CHECK(r.at("size") == "99");
  CHECK(r.at("unsolicited") == "0");
  CHECK(r.at("anomalies") == "[]");
  CHECK(r.at("edns") == "1");
  CHECK(r.at("edns_udp_size") == "1232");
  CHECK(r.at("edns_version") == "0");
  CHECK(r.at("edns_cookie") == "1");
  CHECK(r.at("edns_padding") == "NULL");
  CHECK(r.at("given_up") == "NULL");
}

TEST_CASE("clickhouse rows: an unmatched response and an IPv6 TCP query with a VLAN, back to back", "[clickhouse]") {
  Event a(kNsWithGlue);
  a.ev.src = addr("10.20.0.10");
  a.ev.dst = addr("10.20.1.10");
  a.ev.fragmented = true;
  Event q(kLabQuery);
  q.ev.src = addr("fd20::1:10");
  q.ev.dst = addr("fd20::53");
  q.ev.ip_version = 6;
  q.ev.transport = sensor::Transport::tcp;
  q.ev.has_vlan = true;
  q.ev.vlan = 100;
  output::RowEncoder enc;
  std::string out;
  enc.event(a.ev, "s", {}, out);
  enc.event(q.ev, "s", {}, out);
  Reader rd(out);
  const auto r1 = rd.row(output::event_columns());
  const auto r2 = rd.row(output::event_columns());
  CHECK(rd.at_end());
  CHECK(r1.at("duration_ns") == "0");
  CHECK(r1.at("unsolicited") == "1");
  CHECK(r1.at("fragmented") == "1");
  CHECK(r1.at("flag_aa") == "1");
  CHECK(r1.at("answers.data") == "[ns1.example.com|ns2.example.com]");
  CHECK(r1.at("resolved_ip") == "[]");  // glue is in the additional section
  CHECK(r1.at("additionals_count") == "2");
  CHECK(r1.at("edns") == "0");
  CHECK(r2.at("dns_type") == "query");
  CHECK(r2.at("response_code").empty());
  CHECK(r2.at("answers.name") == "[]");
  CHECK(r2.at("flag_rd") == "1");
  CHECK(r2.at("flag_ad") == "1");
  CHECK(r2.at("transport") == "tcp");
  CHECK(r2.at("ip_version") == "6");
  CHECK(r2.at("vlan") == "100");
  CHECK(r2.at("source_ip") == "fd20::1:10");
  CHECK(r2.at("destination_ip") == "fd20::53");
  CHECK(r2.at("unsolicited") == "0");
}

TEST_CASE("clickhouse rows: hostile names and RDATA are kept as octets", "[clickhouse]") {
  Wire w;
  w.header(0xbad0, 0x81c0, 1, 1, 0, 1);  // QR RD RA Z
  w.u8(4).text("a\"b\\").u8(3).u8('\n').u8(0xFF).u8('.').name("evil.example").qtc(16);
  w.ptr(12).rr_fixed(16, 1, 60);
  w.u8(6).bytes({'x', 0x00, '"', 0x1b, 0xC3, 0x28}).fix_rdlength();
  w.u8(0).u16(41).u16(1232).u32(0).u16(11);
  w.u16(8).u16(7).u16(1).u8(24).u8(0).bytes({198, 51, 100});
  w.u8(0xAA);
  Event e(w.b);
  output::RowEncoder enc;
  std::string out;
  enc.event(e.ev, "s", {}, out);
  const auto r = one_row(out, output::event_columns());
  CHECK(r.at("question_name") == std::string(e.qname.text()));
  CHECK(r.at("answers.type") == "[TXT]");
  CHECK(r.at("answers.data") == "[\"x\\000\\\"\\027\\195(\"]");
  CHECK(r.at("edns_client_subnet") == "198.51.100.0/24");
  CHECK(r.at("anomalies") == "[trailing_bytes|z_bit_set|qname_non_printable]");
}

TEST_CASE("clickhouse rows: an unanswered query", "[clickhouse]") {
  sensor::UnansweredQuery q;
  q.query_ts = 1'000 * sensor::kNanosPerSecond + 7;
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
  output::RowEncoder enc;
  std::string out;
  enc.unanswered(q, "s", out);
  const auto r = one_row(out, output::event_columns());
  CHECK(r.at("timestamp") == "1000");
  CHECK(r.at("timestamp_ns") == "7");
  CHECK(r.at("unanswered") == "1");
  CHECK(r.at("dns_type") == "query");
  CHECK(r.at("source_ip") == "10.20.1.10");
  CHECK(r.at("source_port") == "5555");
  CHECK(r.at("destination_ip") == "10.20.0.53");
  CHECK(r.at("dns_id") == "4242");
  CHECK(r.at("question_name") == "very.long.example.com");
  CHECK(r.at("question_type") == "AAAA");
  CHECK(r.at("name_truncated") == "1");
  CHECK(r.at("given_up") == "1005");
}

TEST_CASE("clickhouse rows: alerts with and without their optional parts", "[clickhouse]") {
  detect::Alert a;
  a.rule = &kRule;
  a.ts = 1'795'458'981 * sensor::kNanosPerSecond + 5;
  a.severity = detect::Severity::high;
  a.reason = "distinct_1h: 150 names";
  a.has_client = true;
  a.client = addr("10.20.1.66");
  a.client_port = 4000;
  a.has_server = true;
  a.server = addr("fd20::53");
  a.server_port = 53;
  a.transport = "udp";
  a.qname = "x.example.com";
  a.registered_domain = "example.com";
  a.qtype = 1;
  a.first_seen = 1'795'458'900 * sensor::kNanosPerSecond;
  a.last_seen = 1'795'458'981 * sensor::kNanosPerSecond;
  a.with("trigger", std::string("distinct_1h")).with("names", std::int64_t{150}).with("ratio", 0.875);
  a.with("flag", true).with("list", std::vector<std::string>{"a\"b", "c"});
  a.samples = {"www.example.com", "mail.example.com"};
  a.intel.push_back({"example.com", "bad.txt", "x.example.com", "dns.question.name", "domain-name"});
  a.client_role = "resolver";
  a.related.push_back({"recon_sweep", "qtypes", "swept"});
  a.summary = true;
  a.suppressed = 3;
  output::RowEncoder enc;
  std::string out;
  enc.alert(a, "site-a", "host-a", "0.1.0", out);
  detect::Alert b;
  b.rule = &kRule;
  b.ts = 10 * sensor::kNanosPerSecond;
  enc.alert(b, "site-a", "host-a", "0.1.0", out);
  Reader rd(out);
  const auto r = rd.row(output::alert_columns());
  const auto s = rd.row(output::alert_columns());
  CHECK(rd.at_end());
  CHECK(r.at("timestamp") == "1795458981");
  CHECK(r.at("timestamp_ns") == "5");
  CHECK(r.at("observer_name") == "site-a");
  CHECK(r.at("observer_hostname") == "host-a");
  CHECK(r.at("version") == "0.1.0");
  CHECK(r.at("rule_name") == "enumeration");
  CHECK(r.at("rule_id") == "dnsvigil-0002");
  CHECK(r.at("severity") == "high");
  CHECK(r.at("severity_score") == "73");
  CHECK(r.at("message") == "distinct_1h: 150 names");
  CHECK(r.at("subtechnique_id") == "T1590.002");
  CHECK(r.at("source_ip") == "10.20.1.66");
  CHECK(r.at("source_port") == "4000");
  CHECK(r.at("destination_ip") == "fd20::53");
  CHECK(r.at("question_type") == "A");
  CHECK(r.at("first_seen") == "1795458900");
  CHECK(r.at("last_seen") == "1795458981");
  CHECK(r.at("summary") == "1");
  CHECK(r.at("suppressed") == "3");
  CHECK(r.at("client_role") == "resolver");
  CHECK(r.at("related.rule") == "[recon_sweep]");
  CHECK(r.at("related.trigger") == "[qtypes]");
  CHECK(r.at("related.message") == "[swept]");
  CHECK(r.at("evidence.key") == "[trigger|names|ratio|flag|list]");
  CHECK(r.at("evidence.value") == "[distinct_1h|150|0.875|true|[\"a\\\"b\",\"c\"]]");
  CHECK(r.at("samples") == "[www.example.com|mail.example.com]");
  CHECK(r.at("intel.indicator") == "[example.com]");
  CHECK(r.at("intel.field") == "[dns.question.name]");
  CHECK(r.at("intel.type") == "[domain-name]");
  CHECK(s.at("severity") == "medium");
  CHECK(s.at("source_ip") == "NULL");
  CHECK(s.at("destination_ip") == "NULL");
  CHECK(s.at("source_port") == "0");
  CHECK(s.at("question_type").empty());
  CHECK(s.at("first_seen") == "NULL");
  CHECK(s.at("summary") == "0");
  CHECK(s.at("evidence.key") == "[]");
}

TEST_CASE("clickhouse rows: packaging/clickhouse/schema.sql has exactly the columns inserted", "[clickhouse]") {
  const std::string sql = read_file(std::string(DNSVIGIL_SOURCE_DIR) + "/packaging/clickhouse/schema.sql");
  for (const auto& [table, cols] : {std::pair{std::string("dns_events"), output::event_columns()},
                                    std::pair{std::string("dns_alerts"), output::alert_columns()}}) {
    INFO("table " << table);
    const auto have = sql_columns(sql, table);
    REQUIRE(have.size() == cols.size());
    for (std::size_t i = 0; i < cols.size(); ++i) {
      CHECK(have[i].first == cols[i].name);
      CHECK(have[i].second == cols[i].type);
    }
  }
}
