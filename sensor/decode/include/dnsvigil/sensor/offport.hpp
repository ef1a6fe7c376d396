// DNS on ports that are not DNS ports: a resolver on 5353, 8053 or UDP 443 (some anti-virus
// "secure DNS" products), recognised by a strict check of the message itself
// (capture.dns_heuristic, docs/configuration.md).
#pragma once

#include <cstdint>
#include <string_view>

#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/decode.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::sensor {

/// Where DNS is looked for on ports outside capture.dns_ports.
enum class OffPortMode : std::uint8_t {
  off,       ///< never
  external,  ///< when the server's address is outside network.internal (the default)
  all,       ///< whatever the server's address
};

/// Parses a capture.dns_heuristic value ("off", "external", "all"); false when unknown.
[[nodiscard]] bool parse_off_port_mode(std::string_view text, OffPortMode& out) noexcept;

/// Recognises DNS on ports that are not DNS ports. A UDP datagram is DNS when its payload is
/// one whole standard query or response: opcode QUERY, one question of class IN, every record
/// parsing to the last octet with no anomaly at all, and a query with no answer or authority
/// records and at most an OPT record. A TCP connection is DNS from its first data segment, a
/// length prefix and one such query; the server's address and port are then remembered (a
/// bounded table), so the rest of the connection, both ways, is DNS too. Servers at special
/// addresses (multicast, broadcast, link-local, loopback: mDNS and LLMNR queries) and the
/// DNS-shaped protocols of the local link (NetBIOS name service 137, LLMNR 5355) never count;
/// internal servers count with `all` only, and then not on multicast DNS's port 5353.
class OffPortDns {
 public:
  enum class Side : std::uint8_t {
    none,        ///< not DNS
    client_src,  ///< DNS, and the source is the client (a query, or the client's side of a connection)
    client_dst,  ///< DNS, and the destination is the client (a response)
  };

  OffPortDns(OffPortMode mode, const PrefixSet& internal, std::size_t max_servers = 4096);

  /// Judges a decoded UDP or TCP packet whose ports are not DNS ports, seen at `now`.
  /// `scratch` is parsed into.
  [[nodiscard]] Side classify(const Packet& pkt, Timestamp now, dnsparse::Message& scratch) noexcept;
  [[nodiscard]] bool enabled() const noexcept { return mode_ != OffPortMode::off; }

 private:
  struct Endpoint {
    IpAddr addr;
    std::uint16_t port = 0;
    std::uint16_t pad = 0;
  };
  struct Seen {
    std::uint8_t used;
  };
  [[nodiscard]] bool server_allowed(const IpAddr& server, std::uint16_t port) const noexcept;

  OffPortMode mode_;
  PrefixSet internal_;
  LruTable<Endpoint, Seen> tcp_servers_;
};

/// The strict check of one DNS message (the payload of a UDP datagram, or a TCP message without
/// its length prefix): 1 when it is a standard query, 2 a standard response, 0 neither.
[[nodiscard]] int strict_dns(Bytes wire, dnsparse::Message& scratch) noexcept;

}  // namespace dnsvigil::sensor
