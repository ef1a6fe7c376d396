#include "dnsvigil/output/event_json.hpp"

#include <utility>

#include "dnsvigil/dnsparse/rdata.hpp"
#include "dnsvigil/dnsparse/text.hpp"
#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::output {

using namespace dnsvigil::dnsparse;
using sensor::DnsEvent;

namespace {

void timestamp(Json& j, std::string_view key, sensor::Timestamp ts) {
  j.key(key).str_with([&](TextWriter& w) { sensor::write_rfc3339(ts, w); });
}

// The capture interface (a live -i, or a pcapng file's if_name), when the input has a name.
void ingress(Json& j, std::string_view interface) {
  if (interface.empty()) return;
  j.key("observer").begin_object().key("ingress").begin_object().key("interface").begin_object();
  j.kv("name", interface);
  j.end_object().end_object().end_object();
}

void endpoint(Json& j, std::string_view key, const sensor::IpAddr& ip, std::uint16_t port) {
  j.key(key).begin_object();
  j.key("ip").str_with([&](TextWriter& w) { ip.write(w); });
  j.kv("port", std::uint64_t{port});
  j.end_object();
}

void header_flags(Json& j, const Message& m) {
  const Header& h = m.header();
  j.key("header_flags").begin_array();
  if (h.aa()) j.str("AA");
  if (h.tc()) j.str("TC");
  if (h.rd()) j.str("RD");
  if (h.ra()) j.str("RA");
  if (h.ad()) j.str("AD");
  if (h.cd()) j.str("CD");
  if (m.has_edns() && m.edns().value.do_bit) j.str("DO");
  j.end_array();
}

void rdata_text(Json& j, const Message& m, const RecordView& rr) {
  j.key("data").str_with([&](TextWriter& w) { write_record_data(m, rr, w); });
}

void edns(Json& j, const Message& m) {
  const auto e = m.edns();
  if (!e.ok()) return;
  j.key("edns").begin_object();
  j.kv("udp_size", std::uint64_t{e.value.udp_size});
  j.kv("version", std::uint64_t{e.value.version});
  j.kvb("do", e.value.do_bit);
  const auto opts = rdata::edns_options(m);
  if (opts.ok()) {
    // An option repeated in one OPT record is reported once (its first occurrence): JSON object
    // keys must be unique.
    bool subnet = false, cookie = false, nsid = false, padding = false;
    const auto first = [](bool& seen) { return !std::exchange(seen, true); };
    for (const rdata::EdnsOption o : opts.value) {
      if (o.code == ednsopt::CLIENT_SUBNET) {
        const auto cs = rdata::client_subnet(o.data);
        if (!cs.ok() || !first(subnet)) continue;
        j.key("client_subnet").str_with([&](TextWriter& w) {
          if (cs.value.family == 1) {
            write_ipv4(std::span<const std::uint8_t, 4>(cs.value.address.data(), 4), w);
          } else {
            write_ipv6(std::span<const std::uint8_t, 16>(cs.value.address), w);
          }
          w.put('/');
          w.put_uint(cs.value.source_prefix);
        });
      } else if (o.code == ednsopt::COOKIE && first(cookie)) {
        j.kvb("cookie", true);
      } else if (o.code == ednsopt::NSID && first(nsid)) {
        j.kvb("nsid", true);
      } else if (o.code == ednsopt::PADDING && first(padding)) {
        j.kv("padding", std::uint64_t{o.data.size()});
      }
    }
  }
  j.end_object();
}

}  // namespace

void write_record_data(const Message& m, const RecordView& rr, TextWriter& w) {
  const std::size_t start = w.size();
  if (write_rdata_text(m, rr, w) == Error::ok) return;
  // Malformed RDATA: the octets (RFC 3597 form) rather than nothing.
  w.truncate(start);
  const Bytes raw = rdata::raw(m, rr);
  w.put("\\# ");
  w.put_uint(raw.size());
  if (!raw.empty()) {
    w.put(' ');
    w.put_hex(raw, false);
  }
}

void write_event_json(const DnsEvent& ev, Json& j, std::string_view interface) {
  const Message& m = *ev.msg;
  const Header& h = m.header();
  const bool response = h.qr();
  j.clear();
  j.begin_object();
  timestamp(j, "@timestamp", ev.ts);

  j.key("event").begin_object();
  j.kv("kind", "event");
  j.key("category").begin_array().str("network").end_array();
  j.key("type").begin_array().str("protocol").end_array();
  j.kv("dataset", "dnsvigil.dns");
  if (response && ev.matched) j.key("duration").num(static_cast<std::int64_t>(ev.latency()));
  j.end_object();

  j.key("network").begin_object();
  j.kv("transport", ev.transport == sensor::Transport::udp ? "udp" : "tcp");
  j.kv("protocol", sensor::dns_protocol_name(ev.protocol));
  j.kv("type", ev.ip_version == 4 ? "ipv4" : "ipv6");
  if (ev.has_vlan) j.key("vlan").begin_object().kv("id", std::uint64_t{ev.vlan}).end_object();
  j.end_object();
  // A DNS server's own log (dnstap): the server is the observer.
  if (ev.dnstap != 0 && (!ev.server_identity.empty() || !ev.server_version.empty())) {
    j.key("observer").begin_object();
    if (!ev.server_identity.empty()) j.kv("name", ev.server_identity);
    if (!ev.server_version.empty()) j.kv("version", ev.server_version);
    j.end_object();
  } else if (ev.dnstap == 0) {
    ingress(j, interface);
  }

  endpoint(j, "source", ev.src, ev.sport);
  endpoint(j, "destination", ev.dst, ev.dport);

  j.key("dns").begin_object();
  j.kv("id", std::uint64_t{h.id});
  j.kv("type", response ? "answer" : "query");
  j.kv("op_code", Mnemonic::op(h.opcode()).view());
  header_flags(j, m);
  if (response) j.kv("response_code", Mnemonic::rcode(m.rcode()).view());
  // The snap length cut the datagram: the records below are those before the cut.
  if (ev.capture_truncated) j.kvb("capture_truncated", true);
  if (m.has_question()) {
    const RecordView& q = m.question();
    const sensor::QueryName& n = *ev.qname;
    j.key("question").begin_object();
    j.kv("name", n.text());
    j.kv("type", Mnemonic::type(q.type).view());
    j.kv("class", Mnemonic::klass(q.klass).view());
    if (!n.registered_domain().empty()) j.kv("registered_domain", n.registered_domain());
    if (!n.subdomain().empty()) j.kv("subdomain", n.subdomain());
    if (!n.top_level_domain().empty()) j.kv("top_level_domain", n.top_level_domain());
    j.end_object();
  }
  if (m.count(Section::answer) != 0) {
    j.key("answers").begin_array();
    for (const RecordView& rr : m.records(Section::answer)) {
      j.begin_object();
      j.key("name").str_with([&](TextWriter& w) { (void)write_name_text(m.wire(), rr.name, w); });
      j.kv("type", Mnemonic::type(rr.type).view());
      j.kv("class", Mnemonic::klass(rr.klass).view());
      j.kv("ttl", std::uint64_t{rr.ttl});
      rdata_text(j, m, rr);
      j.end_object();
    }
    j.end_array();
    bool any_ip = false;
    for (const RecordView& rr : m.records(Section::answer)) {
      if (rr.type != rrtype::A && rr.type != rrtype::AAAA) continue;
      if (rr.rdlength != (rr.type == rrtype::A ? 4 : 16)) continue;
      if (!any_ip) j.key("resolved_ip").begin_array();
      any_ip = true;
      j.str_with([&](TextWriter& w) {
        if (rr.type == rrtype::A) {
          write_ipv4(rdata::a(m, rr).value, w);
        } else {
          write_ipv6(rdata::aaaa(m, rr).value, w);
        }
      });
    }
    if (any_ip) j.end_array();
  }
  // A cut message: the counts the header announced (the records before the cut are listed).
  const bool cut = ev.capture_truncated;
  j.kv("answers_count", std::uint64_t{cut ? h.ancount : m.count(Section::answer)});
  j.kv("authorities_count", std::uint64_t{cut ? h.nscount : m.count(Section::authority)});
  j.kv("additionals_count", std::uint64_t{cut ? h.arcount : m.count(Section::additional)});
  j.end_object();

  j.key("dnsvigil").begin_object();
  j.kv("size", std::uint64_t{ev.size});
  if (ev.dnstap != 0) j.kv("dnstap_type", sensor::dnstap_type_name(ev.dnstap));
  if (ev.encrypted()) j.kvb("encrypted", true);
  if (ev.fragmented) j.kvb("fragmented", true);
  if (ev.off_port) j.kvb("off_port", true);
  if (response && !ev.matched && !ev.wrong_server) j.kvb("unsolicited", true);
  if (ev.wrong_server) j.kvb("wrong_server", true);
  if (ev.duplicate) j.kvb("duplicate_response", true);
  if (ev.conflicting) j.kvb("conflicting_answer", true);
  if (const sensor::Service* sv = ev.qname->service()) {
    j.key("service").begin_object();
    j.kv("kind", sensor::service_kind_name(sv->kind));
    j.kv("domain", sv->domain);
    j.end_object();
  }
  if (!m.anomalies().empty()) {
    j.key("anomalies").begin_array();
    m.anomalies().for_each([&](Anomaly a) { j.str(anomaly_id(a)); });
    j.end_array();
  }
  edns(j, m);
  j.end_object();
  j.end_object();
}

void write_unanswered_json(const sensor::UnansweredQuery& q, Json& j, std::string_view interface) {
  j.clear();
  j.begin_object();
  timestamp(j, "@timestamp", q.query_ts);
  j.key("event").begin_object();
  j.kv("kind", "event");
  j.key("category").begin_array().str("network").end_array();
  j.key("type").begin_array().str("protocol").end_array();
  j.kv("dataset", "dnsvigil.dns");
  j.kv("action", "dns-unanswered");
  j.kv("outcome", "failure");
  j.end_object();
  j.key("network").begin_object();
  j.kv("transport", q.transport == sensor::Transport::udp ? "udp" : "tcp");
  j.kv("protocol", "dns");
  j.kv("type", q.client.is_v4() ? "ipv4" : "ipv6");
  j.end_object();
  ingress(j, interface);
  endpoint(j, "source", q.client, q.client_port);
  endpoint(j, "destination", q.server, q.server_port);
  j.key("dns").begin_object();
  j.kv("id", std::uint64_t{q.id});
  j.kv("type", "query");
  j.key("question").begin_object();
  j.kv("name", q.name);
  j.kv("type", Mnemonic::type(q.qtype).view());
  j.kv("class", Mnemonic::klass(q.qclass).view());
  j.end_object();
  j.end_object();
  j.key("dnsvigil").begin_object();
  j.kvb("unanswered", true);
  if (q.name_cut) j.kvb("name_truncated", true);
  timestamp(j, "given_up", q.expired_ts);
  j.end_object();
  j.end_object();
}

}  // namespace dnsvigil::output
