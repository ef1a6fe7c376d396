#include "dnsvigil/output/clickhouse_rows.hpp"

#include <cstdio>
#include <limits>
#include <utility>

#include "dnsvigil/dnsparse/rdata.hpp"
#include "dnsvigil/dnsparse/text.hpp"
#include "dnsvigil/dnsparse/types.hpp"
#include "dnsvigil/output/alert_text.hpp"
#include "dnsvigil/output/event_json.hpp"

namespace dnsvigil::output {

using namespace dnsvigil::dnsparse;

namespace {

// Keep in the order the encoders below write, and in step with packaging/clickhouse/schema.sql
// (test_clickhouse_rows checks both).
constexpr Column kEventColumns[] = {
    {"timestamp", "DateTime"},
    {"timestamp_ns", "UInt32"},
    {"observer_name", "String"},
    {"interface", "String"},
    {"server_identity", "String"},
    {"server_version", "String"},
    {"dnstap_type", "String"},
    {"unanswered", "UInt8"},
    {"duration_ns", "Int64"},
    {"transport", "Enum8('udp' = 1, 'tcp' = 2)"},
    {"protocol", "String"},
    {"ip_version", "UInt8"},
    {"vlan", "Nullable(UInt16)"},
    {"source_ip", "FixedString(16)"},
    {"source_port", "UInt16"},
    {"destination_ip", "FixedString(16)"},
    {"destination_port", "UInt16"},
    {"dns_id", "UInt16"},
    {"dns_type", "Enum8('query' = 1, 'answer' = 2)"},
    {"op_code", "String"},
    {"flag_aa", "UInt8"},
    {"flag_tc", "UInt8"},
    {"flag_rd", "UInt8"},
    {"flag_ra", "UInt8"},
    {"flag_ad", "UInt8"},
    {"flag_cd", "UInt8"},
    {"flag_do", "UInt8"},
    {"response_code", "String"},
    {"question_name", "String"},
    {"question_type", "String"},
    {"question_class", "String"},
    {"registered_domain", "String"},
    {"subdomain", "String"},
    {"top_level_domain", "String"},
    {"answers.name", "Array(String)"},
    {"answers.type", "Array(String)"},
    {"answers.class", "Array(String)"},
    {"answers.ttl", "Array(UInt32)"},
    {"answers.data", "Array(String)"},
    {"resolved_ip", "Array(FixedString(16))"},
    {"answers_count", "UInt16"},
    {"authorities_count", "UInt16"},
    {"additionals_count", "UInt16"},
    {"size", "UInt32"},
    {"encrypted", "UInt8"},
    {"fragmented", "UInt8"},
    {"off_port", "UInt8"},
    {"unsolicited", "UInt8"},
    {"wrong_server", "UInt8"},
    {"duplicate_response", "UInt8"},
    {"conflicting_answer", "UInt8"},
    {"service_kind", "String"},
    {"service_domain", "String"},
    {"anomalies", "Array(String)"},
    {"edns", "UInt8"},
    {"edns_udp_size", "UInt16"},
    {"edns_version", "UInt8"},
    {"edns_client_subnet", "String"},
    {"edns_cookie", "UInt8"},
    {"edns_nsid", "UInt8"},
    {"edns_padding", "Nullable(UInt16)"},
    {"name_truncated", "UInt8"},
    {"given_up", "Nullable(DateTime)"},
};

constexpr Column kAlertColumns[] = {
    {"timestamp", "DateTime"},
    {"timestamp_ns", "UInt32"},
    {"observer_name", "String"},
    {"observer_hostname", "String"},
    {"version", "String"},
    {"rule_name", "String"},
    {"rule_id", "String"},
    {"rule_description", "String"},
    {"severity", "Enum8('low' = 1, 'medium' = 2, 'high' = 3, 'critical' = 4)"},
    {"severity_score", "UInt8"},
    {"message", "String"},
    {"tactic_id", "String"},
    {"tactic_name", "String"},
    {"technique_id", "String"},
    {"technique_name", "String"},
    {"subtechnique_id", "String"},
    {"subtechnique_name", "String"},
    {"source_ip", "Nullable(FixedString(16))"},
    {"source_port", "UInt16"},
    {"destination_ip", "Nullable(FixedString(16))"},
    {"destination_port", "UInt16"},
    {"transport", "String"},
    {"question_name", "String"},
    {"registered_domain", "String"},
    {"question_type", "String"},
    {"first_seen", "Nullable(DateTime)"},
    {"last_seen", "Nullable(DateTime)"},
    {"summary", "UInt8"},
    {"suppressed", "UInt64"},
    {"client_role", "String"},
    {"related.rule", "Array(String)"},
    {"related.trigger", "Array(String)"},
    {"related.message", "Array(String)"},
    {"evidence.key", "Array(String)"},
    {"evidence.value", "Array(String)"},
    {"samples", "Array(String)"},
    {"intel.indicator", "Array(String)"},
    {"intel.list", "Array(String)"},
    {"intel.matched", "Array(String)"},
    {"intel.field", "Array(String)"},
    {"intel.type", "Array(String)"},
};


}  // namespace

std::span<const Column> event_columns() noexcept { return kEventColumns; }
std::span<const Column> alert_columns() noexcept { return kAlertColumns; }

std::string column_list(std::span<const Column> cols) {
  std::string s = "(";
  for (const Column& c : cols) {
    if (s.size() > 1) s += ", ";
    s += '`';
    s += c.name;
    s += '`';
  }
  return s + ")";
}

void RowBinary::date_time(sensor::Timestamp ts) {
  const std::int64_t sec = ts / sensor::kNanosPerSecond;
  constexpr std::int64_t kMax = std::numeric_limits<std::uint32_t>::max();
  u32(static_cast<std::uint32_t>(sec < 0 ? 0 : sec > kMax ? kMax : sec));
}

void RowBinary::nanos(sensor::Timestamp ts) {
  const std::int64_t ns = ts % sensor::kNanosPerSecond;
  u32(static_cast<std::uint32_t>(ns < 0 ? 0 : ns));
}

// 256 KiB: a TXT RDATA of 65535 octets prints at most four times larger (as in Json).
RowEncoder::RowEncoder() : scratch_(256u << 10) {}

void RowEncoder::event(const sensor::DnsEvent& ev, std::string_view observer, std::string_view interface,
                       std::string& out) {
  const Message& m = *ev.msg;
  const Header& h = m.header();
  const bool response = h.qr();
  const bool dnstap = ev.dnstap != 0;
  RowBinary r(out);
  TextWriter w(std::span<char>(scratch_.data(), scratch_.size()));
  r.date_time(ev.ts);
  r.nanos(ev.ts);
  r.str(observer);
  r.str(dnstap ? std::string_view{} : interface);
  r.str(dnstap ? ev.server_identity : std::string_view{});
  r.str(dnstap ? ev.server_version : std::string_view{});
  r.str(dnstap ? sensor::dnstap_type_name(ev.dnstap) : std::string_view{});
  r.boolean(false);  // unanswered
  r.u64(static_cast<std::uint64_t>(response && ev.matched ? ev.latency() : 0));
  r.i8(ev.transport == sensor::Transport::udp ? 1 : 2);
  r.str(sensor::dns_protocol_name(ev.protocol));
  r.u8(ev.ip_version);
  if (ev.has_vlan) {
    r.present();
    r.u16(ev.vlan);
  } else {
    r.null();
  }
  r.address(ev.src);
  r.u16(ev.sport);
  r.address(ev.dst);
  r.u16(ev.dport);
  r.u16(h.id);
  r.i8(response ? 2 : 1);
  r.str(Mnemonic::op(h.opcode()).view());
  r.boolean(h.aa());
  r.boolean(h.tc());
  r.boolean(h.rd());
  r.boolean(h.ra());
  r.boolean(h.ad());
  r.boolean(h.cd());
  r.boolean(m.has_edns() && m.edns().value.do_bit);
  r.str(response ? Mnemonic::rcode(m.rcode()).view() : std::string_view{});
  if (m.has_question()) {
    const RecordView& q = m.question();
    const sensor::QueryName& n = *ev.qname;
    r.str(n.text());
    r.str(Mnemonic::type(q.type).view());
    r.str(Mnemonic::klass(q.klass).view());
    r.str(n.registered_domain());
    r.str(n.subdomain());
    r.str(n.top_level_domain());
  } else {
    for (int i = 0; i < 6; ++i) r.str({});
  }
  // answers.*: five arrays of one length, each walking the answer section again (a re-walk of a
  // validated section is cheap; answers are few).
  const std::uint64_t answers = m.count(Section::answer);
  r.varint(answers);
  for (const RecordView& rr : m.records(Section::answer)) {
    w.truncate(0);
    (void)write_name_text(m.wire(), rr.name, w);
    r.str(w.view());
  }
  r.varint(answers);
  for (const RecordView& rr : m.records(Section::answer)) r.str(Mnemonic::type(rr.type).view());
  r.varint(answers);
  for (const RecordView& rr : m.records(Section::answer)) r.str(Mnemonic::klass(rr.klass).view());
  r.varint(answers);
  for (const RecordView& rr : m.records(Section::answer)) r.u32(rr.ttl);
  r.varint(answers);
  for (const RecordView& rr : m.records(Section::answer)) {
    w.truncate(0);
    write_record_data(m, rr, w);
    r.str(w.view());
  }
  std::uint64_t ips = 0;
  for (const RecordView& rr : m.records(Section::answer))
    if ((rr.type == rrtype::A && rr.rdlength == 4) || (rr.type == rrtype::AAAA && rr.rdlength == 16)) ++ips;
  r.varint(ips);
  for (const RecordView& rr : m.records(Section::answer)) {
    if (rr.type == rrtype::A && rr.rdlength == 4) {
      r.address(sensor::IpAddr::v4(rdata::a(m, rr).value.data()));
    } else if (rr.type == rrtype::AAAA && rr.rdlength == 16) {
      r.address(sensor::IpAddr::v6(rdata::aaaa(m, rr).value.data()));
    }
  }
  r.u16(static_cast<std::uint16_t>(answers));
  r.u16(static_cast<std::uint16_t>(m.count(Section::authority)));
  r.u16(static_cast<std::uint16_t>(m.count(Section::additional)));
  r.u32(static_cast<std::uint32_t>(ev.size));
  r.boolean(ev.encrypted());
  r.boolean(ev.fragmented);
  r.boolean(ev.off_port);
  r.boolean(response && !ev.matched && !ev.wrong_server);
  r.boolean(ev.wrong_server);
  r.boolean(ev.duplicate);
  r.boolean(ev.conflicting);
  if (const sensor::Service* sv = ev.qname->service()) {
    r.str(sensor::service_kind_name(sv->kind));
    r.str(sv->domain);
  } else {
    r.str({});
    r.str({});
  }
  std::uint64_t anomalies = 0;
  m.anomalies().for_each([&](Anomaly) { ++anomalies; });
  r.varint(anomalies);
  m.anomalies().for_each([&](Anomaly a) { r.str(anomaly_id(a)); });
  // EDNS: an option repeated in one OPT record counts once (its first occurrence), as in the JSON.
  const auto e = m.edns();
  std::string_view subnet;
  bool cookie = false, nsid = false, has_padding = false;
  std::uint16_t padding = 0;
  if (e.ok()) {
    const auto opts = rdata::edns_options(m);
    if (opts.ok()) {
      w.truncate(0);
      for (const rdata::EdnsOption o : opts.value) {
        if (o.code == ednsopt::CLIENT_SUBNET && subnet.empty()) {
          const auto cs = rdata::client_subnet(o.data);
          if (!cs.ok()) continue;
          if (cs.value.family == 1) {
            write_ipv4(std::span<const std::uint8_t, 4>(cs.value.address.data(), 4), w);
          } else {
            write_ipv6(std::span<const std::uint8_t, 16>(cs.value.address), w);
          }
          w.put('/');
          w.put_uint(cs.value.source_prefix);
          subnet = w.view();
        } else if (o.code == ednsopt::COOKIE) {
          cookie = true;
        } else if (o.code == ednsopt::NSID) {
          nsid = true;
        } else if (o.code == ednsopt::PADDING && !has_padding) {
          has_padding = true;
          padding = static_cast<std::uint16_t>(o.data.size());
        }
      }
    }
  }
  r.boolean(e.ok());
  r.u16(e.ok() ? e.value.udp_size : 0);
  r.u8(e.ok() ? e.value.version : 0);
  r.str(subnet);
  r.boolean(cookie);
  r.boolean(nsid);
  if (has_padding) {
    r.present();
    r.u16(padding);
  } else {
    r.null();
  }
  r.boolean(false);  // name_truncated
  r.null();          // given_up
}

void RowEncoder::unanswered(const sensor::UnansweredQuery& q, std::string_view observer, std::string& out) {
  RowBinary r(out);
  r.date_time(q.query_ts);
  r.nanos(q.query_ts);
  r.str(observer);
  for (int i = 0; i < 4; ++i) r.str({});  // interface, server_identity, server_version, dnstap_type
  r.boolean(true);                          // unanswered
  r.u64(0);                                 // duration_ns
  r.i8(q.transport == sensor::Transport::udp ? 1 : 2);
  r.str("dns");
  r.u8(q.client.is_v4() ? 4 : 6);
  r.null();  // vlan
  r.address(q.client);
  r.u16(q.client_port);
  r.address(q.server);
  r.u16(q.server_port);
  r.u16(q.id);
  r.i8(1);  // query
  r.str({});  // op_code: not kept for unanswered queries
  for (int i = 0; i < 7; ++i) r.boolean(false);
  r.str({});  // response_code
  r.str(q.name);
  r.str(Mnemonic::type(q.qtype).view());
  r.str(Mnemonic::klass(q.qclass).view());
  for (int i = 0; i < 3; ++i) r.str({});  // registered_domain, subdomain, top_level_domain
  for (int i = 0; i < 6; ++i) r.varint(0);  // answers.* and resolved_ip
  for (int i = 0; i < 3; ++i) r.u16(0);     // section counts
  r.u32(0);                                 // size
  for (int i = 0; i < 7; ++i) r.boolean(false);
  r.str({});
  r.str({});
  r.varint(0);  // anomalies
  r.boolean(false);
  r.u16(0);
  r.u8(0);
  r.str({});
  r.boolean(false);
  r.boolean(false);
  r.null();  // edns_padding
  r.boolean(q.name_cut);
  r.present();
  r.date_time(q.expired_ts);
}

void RowEncoder::alert(const detect::Alert& a, std::string_view observer, std::string_view hostname,
                       std::string_view version, std::string& out) {
  const detect::RuleInfo& rule = *a.rule;
  RowBinary r(out);
  r.date_time(a.ts);
  r.nanos(a.ts);
  r.str(observer);
  r.str(hostname);
  r.str(version);
  r.str(rule.name);
  r.str(rule.id);
  r.str(rule.description);
  r.i8(static_cast<std::int8_t>(static_cast<int>(a.severity) + 1));
  r.u8(static_cast<std::uint8_t>(detect::severity_score(a.severity)));
  r.str(a.reason);
  r.str(rule.mitre.tactic_id);
  r.str(rule.mitre.tactic_name);
  r.str(rule.mitre.technique_id);
  r.str(rule.mitre.technique_name);
  r.str(rule.mitre.subtechnique_id);
  r.str(rule.mitre.subtechnique_name);
  if (a.has_client) {
    r.present();
    r.address(a.client);
  } else {
    r.null();
  }
  r.u16(a.has_client ? a.client_port : 0);
  if (a.has_server) {
    r.present();
    r.address(a.server);
  } else {
    r.null();
  }
  r.u16(a.has_server ? a.server_port : 0);
  r.str(a.transport);
  r.str(a.qname);
  r.str(a.registered_domain);
  r.str(a.qtype != 0 ? Mnemonic::type(a.qtype).view() : std::string_view{});
  for (const sensor::Timestamp t : {a.first_seen, a.last_seen}) {
    if (t != 0) {
      r.present();
      r.date_time(t);
    } else {
      r.null();
    }
  }
  r.boolean(a.summary);
  r.u64(a.summary ? a.suppressed : 0);
  r.str(a.client_role);
  r.varint(a.related.size());
  for (const auto& rel : a.related) r.str(rel.rule);
  r.varint(a.related.size());
  for (const auto& rel : a.related) r.str(rel.trigger);
  r.varint(a.related.size());
  for (const auto& rel : a.related) r.str(rel.reason);
  r.varint(a.evidence.size());
  for (const auto& [k, v] : a.evidence) r.str(k);
  r.varint(a.evidence.size());
  for (const auto& [k, v] : a.evidence) r.str(evidence_text(v, {}));
  r.varint(a.samples.size());
  for (const auto& s : a.samples) r.str(s);
  r.varint(a.intel.size());
  for (const auto& m : a.intel) r.str(m.indicator);
  r.varint(a.intel.size());
  for (const auto& m : a.intel) r.str(m.list);
  r.varint(a.intel.size());
  for (const auto& m : a.intel) r.str(m.matched);
  r.varint(a.intel.size());
  for (const auto& m : a.intel) r.str(m.field);
  r.varint(a.intel.size());
  for (const auto& m : a.intel) r.str(m.type);
}

}  // namespace dnsvigil::output
