// A dnstap message as the packet path takes it: what a DNS server logged about one DNS message
// it received or sent (dnstap.info). The protobuf and Frame Streams decoding live in
// sensor/dnstap/; this is the plain result, pointing into the decoder's buffers.
#pragma once

#include <cstdint>
#include <string_view>

#include "dnsvigil/dnsparse/wire.hpp"
#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::sensor {

/// dnstap Message.Type values.
namespace dnstap_type {
inline constexpr std::uint8_t auth_query = 1, auth_response = 2, resolver_query = 3, resolver_response = 4,
                              client_query = 5, client_response = 6, forwarder_query = 7, forwarder_response = 8,
                              stub_query = 9, stub_response = 10, tool_query = 11, tool_response = 12,
                              update_query = 13, update_response = 14, last = 14;
}  // namespace dnstap_type

/// "CLIENT_QUERY", ... ("UNKNOWN" for values this version does not know).
[[nodiscard]] std::string_view dnstap_type_name(std::uint32_t type) noexcept;

/// How the DNS message travelled (dnstap SocketProtocol, reduced).
enum class DnsProtocol : std::uint8_t { dns, dot, doh, doq, dnscrypt };
/// "dns", "dot", "doh", "doq", "dnscrypt".
[[nodiscard]] std::string_view dns_protocol_name(DnsProtocol p) noexcept;

struct DnstapMessage {
  std::uint32_t type = 0;             ///< Message.Type as sent (unknown values kept)
  std::uint32_t socket_protocol = 0;  ///< SocketProtocol as sent (0: absent)
  bool has_query_address = false, has_response_address = false;
  IpAddr query_address, response_address;
  std::uint16_t query_port = 0, response_port = 0;
  Timestamp query_time = 0, response_time = 0;  ///< 0: absent
  dnsparse::Bytes query_message, response_message;
  std::string_view identity, version;  ///< of the server that logged it (may be empty)
};

}  // namespace dnsvigil::sensor
