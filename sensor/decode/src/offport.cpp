#include "dnsvigil/sensor/offport.hpp"

namespace dnsvigil::sensor {

namespace {

constexpr std::uint16_t kClassIn = 1;
constexpr std::uint16_t kTypeOpt = 41;

// Protocols that borrow the DNS message format on ports of their own: NetBIOS name service
// (also to a WINS server anywhere), LLMNR, and multicast DNS (whose unicast answers stay on the
// local link). Their traffic is local name resolution, not DNS sent to a resolver.
bool netbios_or_llmnr(std::uint16_t port) noexcept { return port == 137 || port == 5355; }
constexpr std::uint16_t kMdnsPort = 5353;

}  // namespace

bool parse_off_port_mode(std::string_view text, OffPortMode& out) noexcept {
  if (text == "off") out = OffPortMode::off;
  else if (text == "external") out = OffPortMode::external;
  else if (text == "all") out = OffPortMode::all;
  else return false;
  return true;
}

int strict_dns(Bytes wire, dnsparse::Message& m) noexcept {
  // 12-octet header, the root name at least, type and class.
  if (wire.size() < 17) return 0;
  if (dnsparse::Message::parse(wire, m) != dnsparse::Error::ok) return 0;
  const dnsparse::Header& h = m.header();
  // Any anomaly (trailing octets, counts that do not match, the Z bit, a non-printable name,
  // an unusual class, a misplaced OPT ...) means random octets that happened to parse.
  if (!m.anomalies().empty() || h.opcode() != 0 || h.qdcount != 1 || m.parsed_end() != wire.size()) return 0;
  if (m.question().klass != kClassIn || m.question().type == 0) return 0;
  if (h.qr()) return h.rcode() <= 5 ? 2 : 0;  // NOERROR .. REFUSED
  if (h.rcode() != 0 || h.ancount != 0 || h.nscount != 0 || h.arcount > 1) return 0;
  if (h.arcount == 1 && !(m.has_edns() && m.opt_record().type == kTypeOpt)) return 0;
  return 1;
}

OffPortDns::OffPortDns(OffPortMode mode, const PrefixSet& internal, std::size_t max_servers)
    : mode_(mode), internal_(internal), tcp_servers_(max_servers) {}

bool OffPortDns::server_allowed(const IpAddr& server, std::uint16_t port) const noexcept {
  if (is_special(server) || netbios_or_llmnr(port)) return false;
  // Outside the internal space (the private ranges when none is configured): a resolver out
  // there, 5353 included. Inside, only with `all`, and not multicast DNS's port.
  const bool outside = internal_.empty() ? !is_private(server) : !internal_.contains(server);
  return outside || (mode_ == OffPortMode::all && port != kMdnsPort);
}

OffPortDns::Side OffPortDns::classify(const Packet& pkt, Timestamp now, dnsparse::Message& scratch) noexcept {
  if (mode_ == OffPortMode::off || pkt.payload.empty()) return Side::none;
  if (pkt.proto == kProtoUdp) {
    switch (strict_dns(pkt.payload, scratch)) {
      case 1: return server_allowed(pkt.dst, pkt.dport) ? Side::client_src : Side::none;
      case 2: return server_allowed(pkt.src, pkt.sport) ? Side::client_dst : Side::none;
      default: return Side::none;
    }
  }
  if (pkt.proto != kProtoTcp) return Side::none;
  // A connection already recognised, either way.
  if (tcp_servers_.touch(Endpoint{pkt.dst, pkt.dport, 0}, now) != nullptr) return Side::client_src;
  if (tcp_servers_.touch(Endpoint{pkt.src, pkt.sport, 0}, now) != nullptr) return Side::client_dst;
  // The first data segment: a length prefix and one whole query.
  const Bytes p = pkt.payload;
  if (p.size() < 2 || (std::size_t{p[0]} << 8 | p[1]) != p.size() - 2) return Side::none;
  if (strict_dns(p.subspan(2), scratch) != 1 || !server_allowed(pkt.dst, pkt.dport)) return Side::none;
  (void)tcp_servers_.emplace(Endpoint{pkt.dst, pkt.dport, 0}, now, [](const auto&) {});
  return Side::client_src;
}

}  // namespace dnsvigil::sensor
