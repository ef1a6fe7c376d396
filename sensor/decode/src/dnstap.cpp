#include "dnsvigil/sensor/dnstap.hpp"

#include <array>

namespace dnsvigil::sensor {

std::string_view dnstap_type_name(std::uint32_t type) noexcept {
  static constexpr std::array<std::string_view, 15> kNames = {
      "UNKNOWN",           "AUTH_QUERY",     "AUTH_RESPONSE",  "RESOLVER_QUERY",     "RESOLVER_RESPONSE",
      "CLIENT_QUERY",      "CLIENT_RESPONSE", "FORWARDER_QUERY", "FORWARDER_RESPONSE", "STUB_QUERY",
      "STUB_RESPONSE",     "TOOL_QUERY",      "TOOL_RESPONSE",   "UPDATE_QUERY",       "UPDATE_RESPONSE"};
  return type < kNames.size() ? kNames[type] : kNames[0];
}

std::string_view dns_protocol_name(DnsProtocol p) noexcept {
  switch (p) {
    case DnsProtocol::dns: return "dns";
    case DnsProtocol::dot: return "dot";
    case DnsProtocol::doh: return "doh";
    case DnsProtocol::doq: return "doq";
    case DnsProtocol::dnscrypt: return "dnscrypt";
  }
  return "dns";
}

}  // namespace dnsvigil::sensor
