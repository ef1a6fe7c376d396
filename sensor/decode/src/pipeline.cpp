#include "dnsvigil/sensor/pipeline.hpp"

namespace dnsvigil::sensor {

Pipeline::Pipeline(const PipelineOptions& options, EventSink& sink, Share share)
    : front_(share.index == 0 ? c_ : others_),
      share_(share),
      sink_(sink),
      tick_(options.tick > 0 ? options.tick : kNanosPerSecond),
      splitter_(options.psl_file),
      services_(options.services),
      defrag_(options.defrag, front_),
      tcp_(options.tcp, c_, *this),
      tx_(options.transactions, c_),
      off_port_(options.off_port, options.internal) {
  for (const std::uint16_t p : options.dns_ports) ports_.set(p);
  for (const std::uint16_t p : options.watch_ports) watch_.set(p);
}

Pipeline::~Pipeline() = default;

void Pipeline::advance(Timestamp ts) noexcept {
  // Packet time only moves forward; a slightly older packet (capture reordering) keeps `now_`.
  if (ts > now_) now_ = ts;
  if (now_ < next_tick_) return;
  if (next_tick_ != 0) {
    defrag_.expire(now_);
    tcp_.expire(now_);
    tx_.expire(now_, sink_);
    sink_.on_tick(now_);
  }
  next_tick_ = now_ - now_ % tick_ + tick_;
}

void Pipeline::on_frame(int link_type, Timestamp ts, Bytes frame, std::uint8_t input) noexcept {
  front_.add(Counter::packets);
  front_.add(Counter::bytes, frame.size());
  advance(ts);
  input_ = input;
  Packet pkt;
  switch (decode_frame(link_type, frame, pkt, front_, &ports_)) {
    case Decoded::dropped: return;
    case Decoded::fragment: {
      std::uint8_t proto = 0;
      const Bytes whole = defrag_.add(pkt, ts, proto);
      if (whole.empty()) return;
      pkt.fragment = false;
      if (decode_transport(proto, whole, pkt, front_, &ports_) != Decoded::dns || !mine(pkt, ts)) return;
      fragmented_ = true;
      on_transport(pkt, ts);
      fragmented_ = false;
      return;
    }
    case Decoded::dns:
      if (mine(pkt, ts)) on_transport(pkt, ts);
      return;
  }
}

// A Share's choice: the client's worker. DNS on other ports is judged here, once, for every
// packet (its table of TCP servers then learns from all traffic, as one worker's would), and
// on_transport() uses the judgement.
bool Pipeline::mine(const Packet& pkt, Timestamp ts) noexcept {
  if (share_.count <= 1) return true;
  bool to_dst = !ports_.test(pkt.dport) && ports_.test(pkt.sport);
  routed_ = false;
  if (!ports_.test(pkt.dport) && !ports_.test(pkt.sport) && off_port_.enabled()) {
    routed_side_ = off_port_.classify(pkt, ts, msg_);
    routed_ = true;
    to_dst = routed_side_ == OffPortDns::Side::client_dst;
  }
  return client_slot(to_dst ? pkt.dst : pkt.src, share_.count) == share_.index;
}

void Pipeline::on_reassembled(const Packet& meta, Bytes transport, Timestamp ts, std::uint8_t input) noexcept {
  advance(ts);
  input_ = input;
  Packet pkt = meta;
  pkt.fragment = false;
  if (decode_transport(meta.proto, transport, pkt, c_, &ports_) != Decoded::dns) return;
  fragmented_ = true;
  on_transport(pkt, ts);
  fragmented_ = false;
}

void Pipeline::on_decoded(const Packet& pkt, std::size_t frame_size, Timestamp ts, std::uint8_t input) noexcept {
  c_.add(Counter::packets);
  c_.add(Counter::bytes, frame_size);
  advance(ts);
  input_ = input;
  Packet p = pkt;
  on_transport(p, ts);
}

void Pipeline::on_transport(Packet& pkt, Timestamp ts) noexcept {
  if (!ports_.test(pkt.sport) && !ports_.test(pkt.dport) && !off_port(pkt, ts)) {
    c_.add(Counter::not_dns);
    const bool syn = pkt.proto == kProtoTcp && (pkt.tcp_flags & (tcpflag::SYN | tcpflag::ACK)) == tcpflag::SYN;
    if (watch_.test(pkt.dport) && (syn || pkt.proto == kProtoUdp)) {
      FlowEvent f;
      f.ts = ts;
      f.src = pkt.src;
      f.dst = pkt.dst;
      f.sport = pkt.sport;
      f.dport = pkt.dport;
      f.transport = pkt.proto == kProtoTcp ? Transport::tcp : Transport::udp;
      f.ip_version = pkt.ip_version;
      sink_.on_flow(f);
    }
    return;
  }
  if (pkt.proto == kProtoTcp) {
    tcp_.add(pkt, ts);
  } else {
    on_dns(pkt.payload, pkt, ts, Transport::udp);
  }
}

// DNS on a port that is not a DNS port (capture.dns_heuristic), counted.
bool Pipeline::off_port(const Packet& pkt, Timestamp ts) noexcept {
  if (!off_port_.enabled()) return false;
  const OffPortDns::Side side = routed_ ? routed_side_ : off_port_.classify(pkt, ts, msg_);
  routed_ = false;
  if (side == OffPortDns::Side::none) return false;
  c_.add(Counter::off_port_dns);
  return true;
}

void Pipeline::on_tcp_message(Bytes msg, const Packet& pkt, Timestamp ts) { on_dns(msg, pkt, ts, Transport::tcp); }

void Pipeline::on_dnstap(const DnstapMessage& m, std::uint8_t input) noexcept {
  // A Share keeps the messages of its clients (the query side's address).
  if (share_.count > 1 && client_slot(m.query_address, share_.count) != share_.index) return;
  c_.add(Counter::dnstap_frames);
  input_ = input;
  if (m.type == 0 || m.type > dnstap_type::last) c_.add(Counter::dnstap_unknown_type);
  // Odd types are queries, even ones responses; an unknown type is taken by the message it holds.
  bool query = m.type % 2 == 1;
  if (m.type == 0 || m.type > dnstap_type::last) query = m.response_message.empty();
  const Bytes wire = query ? m.query_message : m.response_message;
  if (wire.empty()) {
    c_.add(Counter::dnstap_no_dns);
    return;
  }
  Transport transport = Transport::udp;
  protocol_ = DnsProtocol::dns;
  switch (m.socket_protocol) {
    case 1: break;                                                              // UDP
    case 2: transport = Transport::tcp; break;                                  // TCP
    case 3: transport = Transport::tcp; protocol_ = DnsProtocol::dot; break;    // DOT
    case 4: transport = Transport::tcp; protocol_ = DnsProtocol::doh; break;    // DOH (HTTP/2)
    case 5: protocol_ = DnsProtocol::dnscrypt; break;                           // DNSCryptUDP
    case 6: transport = Transport::tcp; protocol_ = DnsProtocol::dnscrypt; break;  // DNSCryptTCP
    case 7: protocol_ = DnsProtocol::doq; break;                                // DOQ
    default: c_.add(Counter::dnstap_unknown_protocol); break;
  }
  if (!m.has_query_address || !m.has_response_address) c_.add(Counter::dnstap_no_address);
  // The client is the query side, the server the response side, whichever way this one went.
  Packet pkt;
  pkt.src = query ? m.query_address : m.response_address;
  pkt.dst = query ? m.response_address : m.query_address;
  pkt.sport = query ? m.query_port : m.response_port;
  pkt.dport = query ? m.response_port : m.query_port;
  pkt.ip_version = static_cast<std::uint8_t>(m.has_query_address ? m.query_address.family() : m.response_address.family());
  pkt.proto = transport == Transport::tcp ? kProtoTcp : kProtoUdp;
  // The server's time of the message, not its arrival here.
  Timestamp ts = query ? m.query_time : m.response_time;
  if (ts == 0) ts = query ? m.response_time : m.query_time;
  if (ts == 0) ts = now_;
  advance(ts);
  c_.add(Counter::dnstap_messages);
  dnstap_ = &m;
  on_dns(wire, pkt, ts, transport);
  dnstap_ = nullptr;
  protocol_ = DnsProtocol::dns;
}

void Pipeline::on_dns(Bytes wire, const Packet& pkt, Timestamp ts, Transport transport) noexcept {
  // The transaction table's index lines load while the message is parsed (ID and QR read raw).
  if (wire.size() >= 3)
    tx_.prefetch(pkt, static_cast<std::uint16_t>(wire[0] << 8 | wire[1]), (wire[2] & 0x80) != 0, transport, false);
  const dnsparse::Error err = dnsparse::Message::parse(wire, msg_);
  if (err != dnsparse::Error::ok) {
    c_.add(Counter::dns_parse_errors);
    ++c_.parse_errors[static_cast<std::size_t>(err)];
    return;
  }
  c_.add(Counter::dns_messages);
  if (pkt.cut) {
    // What the snap length cut off is the capture's loss, not the message's fault.
    c_.add(Counter::dns_capture_truncated);
    msg_.clear_anomaly(dnsparse::Anomaly::rr_malformed);
    msg_.clear_anomaly(dnsparse::Anomaly::count_mismatch);
  }
  qname_.set(msg_, &splitter_, services_.get());

  DnsEvent ev;
  ev.ts = ts;
  ev.src = pkt.src;
  ev.dst = pkt.dst;
  ev.sport = pkt.sport;
  ev.dport = pkt.dport;
  ev.transport = transport;
  ev.ip_version = pkt.ip_version;
  ev.has_vlan = pkt.vlan_count != 0;
  ev.vlan = pkt.vlan[0];
  ev.fragmented = fragmented_;
  ev.off_port = dnstap_ == nullptr && !ports_.test(pkt.sport) && !ports_.test(pkt.dport);
  ev.capture_truncated = pkt.cut;
  ev.input = input_;
  if (dnstap_ != nullptr) {
    // Unknown types (0, or newer than this version) are 0xFF: still from dnstap.
    const bool known = dnstap_->type >= 1 && dnstap_->type <= dnstap_type::last;
    ev.dnstap = static_cast<std::uint8_t>(known ? dnstap_->type : 0xFF);
    ev.protocol = protocol_;
    ev.server_identity = dnstap_->identity;
    ev.server_version = dnstap_->version;
  }
  ev.msg = &msg_;
  ev.qname = &qname_;
  ev.size = wire.size();
  // Table lines are fetched in two rounds (index, then entry) spread over the work below, so
  // the cache misses of the transaction table and of every rule overlap.
  sink_.prefetch(ev);
  tx_.prefetch(pkt, msg_.header().id, msg_.header().qr(), transport, true);
  if (msg_.header().qr()) {
    c_.add(Counter::dns_responses);
    const TransactionTable::Match m = tx_.on_response(ev);
    ev.matched = m.matched;
    ev.duplicate = m.duplicate;
    ev.conflicting = m.conflicting;
    ev.wrong_server = m.wrong_server;
    ev.query_ts = m.query_ts;
    ev.queried_server = m.queried_server;
    // RFC 5936 §2.2.1: the messages of a zone transfer after the first may have QDCOUNT 0. The
    // parser cannot tell them from crafted question-less responses; a TCP response matched to a
    // pending AXFR/IXFR query can.
    if (m.transfer && transport == Transport::tcp && msg_.header().qdcount == 0)
      msg_.clear_anomaly(dnsparse::Anomaly::qdcount_not_one);
  } else {
    c_.add(Counter::dns_queries);
    tx_.on_query(ev);
  }
  msg_.anomalies().for_each([&](dnsparse::Anomaly a) { ++c_.anomalies[static_cast<std::size_t>(a)]; });
  sink_.on_event(ev);
}

void Pipeline::finish() noexcept {
  tcp_.flush();
  tx_.flush(now_, sink_);
  defrag_.expire_all();
  sink_.on_tick(now_);
}

}  // namespace dnsvigil::sensor
