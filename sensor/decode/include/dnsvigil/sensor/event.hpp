// DnsEvent: one parsed DNS message with its packet context; what detectors and outputs consume.
#pragma once

#include <cstdint>
#include <string_view>

#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/dnstap.hpp"
#include "dnsvigil/sensor/names.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::sensor {

enum class Transport : std::uint8_t { udp, tcp };

/// One DNS message seen on the wire. Valid only during the EventSink call that delivers it.
struct DnsEvent {
  Timestamp ts = 0;            ///< packet time of the packet that completed the message
  IpAddr src, dst;
  std::uint16_t sport = 0, dport = 0;
  Transport transport = Transport::udp;
  std::uint8_t ip_version = 4;
  std::uint16_t vlan = 0;      ///< outermost VLAN id (when has_vlan)
  bool has_vlan = false;
  bool fragmented = false;     ///< the message arrived in IP fragments
  bool off_port = false;       ///< DNS recognised on ports outside capture.dns_ports (capture.dns_heuristic)
  bool capture_truncated = false;  ///< the snap length cut the datagram: records after the cut are missing
  std::uint8_t input = 0;      ///< index of the capture source (-i / -r order)
  // dnstap (when the event came from a DNS server's log rather than a capture).
  std::uint8_t dnstap = 0;     ///< its dnstap Message.Type (sensor/dnstap.hpp), 0 for captured messages
  DnsProtocol protocol = DnsProtocol::dns;  ///< DNS over TLS, HTTPS, QUIC, DNSCrypt (dnstap only)
  std::string_view server_identity, server_version;  ///< dnstap identity and version of the logging server
  const dnsparse::Message* msg = nullptr;
  const QueryName* qname = nullptr;  ///< first question's name (empty when none)
  std::size_t size = 0;        ///< DNS message octets
  // Transaction (responses only).
  bool matched = false;        ///< a query with the same 5-tuple, id and question was seen
  bool duplicate = false;      ///< a second response to an already answered query
  bool conflicting = false;    ///< a duplicate whose answer records differ from the first answer's
                               ///< (the query was sent once: not a retransmission's second answer)
  bool wrong_server = false;   ///< answers a pending query that went to `queried_server`, not to src
  Timestamp query_ts = 0;      ///< when matched: the query's packet time
  IpAddr queried_server;       ///< when wrong_server

  [[nodiscard]] bool is_response() const noexcept { return msg->header().qr(); }
  /// The side that asked: the source of a query, the destination of a response.
  [[nodiscard]] const IpAddr& client() const noexcept { return is_response() ? dst : src; }
  [[nodiscard]] std::uint16_t client_port() const noexcept { return is_response() ? dport : sport; }
  [[nodiscard]] const IpAddr& server() const noexcept { return is_response() ? src : dst; }
  [[nodiscard]] std::uint16_t server_port() const noexcept { return is_response() ? sport : dport; }
  /// The message travelled encrypted (DoT, DoH, DoQ, DNSCrypt: known from dnstap only).
  [[nodiscard]] bool encrypted() const noexcept { return protocol != DnsProtocol::dns; }
  /// A recursive server's own upstream work (dnstap RESOLVER_* and FORWARDER_* messages): it
  /// shows the server is a resolver and is no client's behaviour.
  [[nodiscard]] bool upstream() const noexcept { return dnstap >= 3 && dnstap <= 8 && dnstap != 5 && dnstap != 6; }
  /// Query-to-response latency in nanoseconds (0 unless matched).
  [[nodiscard]] Timestamp latency() const noexcept { return matched ? ts - query_ts : 0; }
};

/// A query that got no response within the transaction timeout.
struct UnansweredQuery {
  Timestamp query_ts = 0;
  Timestamp expired_ts = 0;     ///< packet time at which it was given up
  IpAddr client, server;
  std::uint16_t client_port = 0, server_port = 0;
  Transport transport = Transport::udp;
  std::uint16_t id = 0;
  std::uint16_t qtype = 0, qclass = 0;
  std::string_view name;        ///< lower case; cut to kMaxStoredName octets (see name_cut)
  bool name_cut = false;
  std::uint8_t input = 0;       ///< the query's DnsEvent::input
};

/// A packet to a watched port that carries no readable DNS (DNS over TLS on 853, DoQ): the
/// start of a TCP connection (SYN) or any UDP datagram.
struct FlowEvent {
  Timestamp ts = 0;
  IpAddr src, dst;
  std::uint16_t sport = 0, dport = 0;
  Transport transport = Transport::tcp;
  std::uint8_t ip_version = 4;
};

/// Receives events from a Pipeline. Called on the pipeline's thread.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const DnsEvent& ev) = 0;
  /// `ev` comes next (its transaction fields not yet set): a sink may start loading the state it
  /// will need, to overlap the memory latency with the transaction table's work.
  virtual void prefetch(const DnsEvent& /*ev*/) noexcept {}
  virtual void on_unanswered(const UnansweredQuery& /*q*/) {}
  virtual void on_flow(const FlowEvent& /*f*/) {}
  /// Packet time advanced to `now` (at most once per second of packet time, and at the end).
  virtual void on_tick(Timestamp /*now*/) {}
};

}  // namespace dnsvigil::sensor
