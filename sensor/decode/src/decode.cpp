#include "dnsvigil/sensor/decode.hpp"

namespace dnsvigil::sensor {

using dnsparse::load_be16;
using dnsparse::load_be32;

namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86DD, kEtherVlan = 0x8100, kEtherQinQ = 0x88A8,
                        kEtherQinQOld = 0x9100, kEtherTeb = 0x6558, kEtherErspan2 = 0x88BE, kEtherErspan3 = 0x22EB;
constexpr std::uint16_t kPortVxlan = 4789, kPortGreUdp = 4754;
constexpr std::uint16_t kPortDns = 53;

// What every decoding step needs: where to count drops, and which ports carry DNS (a datagram
// from a DNS port is DNS even when it goes to a tunnel port).
struct Ctx {
  Counters& counters;
  const PortSet* dns_ports;
  void add(Counter k) noexcept { counters.add(k); }
  [[nodiscard]] bool dns_port(std::uint16_t p) const noexcept {
    return dns_ports != nullptr ? dns_ports->test(p) : p == kPortDns;
  }
};

Decoded ip(Bytes data, Packet& out, Ctx& c) noexcept;
Decoded transport(std::uint8_t proto, Bytes data, Packet& out, Ctx& c) noexcept;

Decoded decode_ethernet(Bytes data, Packet& out, Ctx& c) noexcept;

// Dispatches on an EtherType (after any VLAN tags).
Decoded by_ethertype(std::uint16_t type, Bytes data, Packet& out, Ctx& c) noexcept {
  switch (type) {
    case kEtherIpv4:
    case kEtherIpv6: return ip(data, out, c);
    default: c.add(Counter::l2_not_ip); return Decoded::dropped;
  }
}

// VLAN tags followed by an EtherType; `type` is the EtherType already read.
Decoded after_ethertype(std::uint16_t type, Bytes data, Packet& out, Ctx& c) noexcept {
  while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld) {
    if (data.size() < 4) {
      c.add(Counter::l2_truncated);
      return Decoded::dropped;
    }
    if (out.vlan_count == kMaxVlanTags) {
      c.add(Counter::l2_too_many_vlan_tags);
      return Decoded::dropped;
    }
    out.vlan[out.vlan_count++] = load_be16(data.data()) & 0x0FFF;
    type = load_be16(data.data() + 2);
    data = data.subspan(4);
  }
  return by_ethertype(type, data, out, c);
}

Decoded decode_ethernet(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 14) {
    c.add(Counter::l2_truncated);
    return Decoded::dropped;
  }
  return after_ethertype(load_be16(data.data() + 12), data.subspan(14), out, c);
}

// 802.2 LLC with a SNAP header carrying an EtherType (RFC 1042): AA AA 03 + OUI + type.
Decoded decode_llc_snap(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 8) {
    c.add(Counter::l2_truncated);
    return Decoded::dropped;
  }
  if (data[0] != 0xAA || data[1] != 0xAA || data[2] != 0x03) {
    c.add(Counter::l2_not_ip);
    return Decoded::dropped;
  }
  return after_ethertype(load_be16(data.data() + 6), data.subspan(8), out, c);
}

// IEEE 802.11 data frames (unencrypted): MAC header, then LLC/SNAP.
Decoded decode_80211(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 24) {
    c.add(Counter::l2_truncated);
    return Decoded::dropped;
  }
  const unsigned type = (data[0] >> 2) & 3U, subtype = (data[0] >> 4) & 0xFU;
  const std::uint8_t flags = data[1];
  // Only data frames carry IP; protected (encrypted) frames cannot be read.
  if (type != 2 || (subtype & 0x4U) != 0 || (flags & 0x40U) != 0) {
    c.add(Counter::l2_not_ip);
    return Decoded::dropped;
  }
  std::size_t hlen = 24;
  if ((flags & 0x03U) == 0x03U) hlen += 6;  // ToDS and FromDS: a fourth address
  if (subtype & 0x8U) {                     // QoS data: QoS control, and HT control with Order
    hlen += 2;
    if (flags & 0x80U) hlen += 4;
  }
  if (data.size() < hlen) {
    c.add(Counter::l2_truncated);
    return Decoded::dropped;
  }
  return decode_llc_snap(data.subspan(hlen), out, c);
}

// BSD NULL / LOOP: a 4-octet address family whose byte order depends on the capturing host;
// the IP version nibble that follows is unambiguous, so it decides.
Decoded decode_null(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 5) {
    c.add(Counter::l2_truncated);
    return Decoded::dropped;
  }
  const unsigned v = data[4] >> 4;
  if (v != 4 && v != 6) {
    c.add(Counter::l2_not_ip);
    return Decoded::dropped;
  }
  return ip(data.subspan(4), out, c);
}

std::uint16_t ipv4_checksum(Bytes hdr) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < hdr.size(); i += 2) sum += load_be16(hdr.data() + i);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

Decoded decode_ipv4(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 20) {
    c.add(Counter::ipv4_truncated);
    return Decoded::dropped;
  }
  const std::size_t ihl = std::size_t{data[0] & 0x0Fu} * 4;
  const std::size_t total = load_be16(data.data() + 2);
  if ((data[0] >> 4) != 4 || ihl < 20 || total < ihl) {
    c.add(Counter::ipv4_bad_header);
    return Decoded::dropped;
  }
  if (data.size() < ihl) {
    c.add(Counter::ipv4_truncated);
    return Decoded::dropped;
  }
  if (total > data.size()) {
    // The snap length or the capture cut the packet: its transport payload is incomplete.
    c.add(Counter::ip_snaplen_cut);
    return Decoded::dropped;
  }
  if (ipv4_checksum(data.first(ihl)) != 0) c.add(Counter::ipv4_bad_checksum);
  out.ip_version = 4;
  out.src = IpAddr::v4(data.data() + 12);
  out.dst = IpAddr::v4(data.data() + 16);
  out.proto = data[9];
  const std::uint16_t frag = load_be16(data.data() + 6);
  const Bytes payload = data.subspan(ihl, total - ihl);  // drops Ethernet padding
  out.more_fragments = (frag & 0x2000) != 0;
  out.frag_offset = static_cast<std::uint16_t>((frag & 0x1FFF) * 8);
  if (out.more_fragments || out.frag_offset != 0) {
    out.fragment = true;
    out.frag_id = load_be16(data.data() + 4);
    out.payload = payload;
    return Decoded::fragment;
  }
  return transport(out.proto, payload, out, c);
}

bool ipv6_extension(std::uint8_t next) noexcept {
  return next == 0 || next == 43 || next == 44 || next == 51 || next == 60;
}

// Walks IPv6 extension headers from `next` to the upper layer. Also used after reassembly: the
// fragmentable part may begin with extension headers (RFC 8200 §4.5), and there a second
// fragment header is an error.
Decoded ipv6_headers(std::uint8_t next, Bytes rest, Packet& out, Ctx& c, bool reassembled) noexcept {
  for (unsigned n = 0;; ++n) {
    if (n > kMaxIpv6Extensions) {
      c.add(Counter::ipv6_bad_extension);
      return Decoded::dropped;
    }
    std::size_t len = 0;
    switch (next) {
      case 0:   // hop-by-hop
      case 43:  // routing
      case 60:  // destination options
        if (rest.size() < 8) break;
        len = (std::size_t{rest[1]} + 1) * 8;
        break;
      case 51:  // authentication header
        if (rest.size() < 8) break;
        len = (std::size_t{rest[1]} + 2) * 4;
        break;
      case 44: {  // fragment
        if (rest.size() < 8 || reassembled) break;
        const std::uint16_t off = load_be16(rest.data() + 2);
        out.proto = rest[0];
        out.frag_offset = off & 0xFFF8;
        out.more_fragments = (off & 1) != 0;
        out.frag_id = load_be32(rest.data() + 4);
        // An atomic fragment (offset 0, M=0; RFC 6946) is a whole packet.
        if (out.frag_offset != 0 || out.more_fragments) {
          out.fragment = true;
          out.payload = rest.subspan(8);
          return Decoded::fragment;
        }
        next = rest[0];
        rest = rest.subspan(8);
        continue;
      }
      default:
        out.proto = next;
        return transport(next, rest, out, c);
    }
    if (len == 0 || len > rest.size()) {
      c.add(Counter::ipv6_bad_extension);
      return Decoded::dropped;
    }
    next = rest[0];
    rest = rest.subspan(len);
  }
}

Decoded decode_ipv6(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 40) {
    c.add(Counter::ipv6_truncated);
    return Decoded::dropped;
  }
  const std::size_t plen = load_be16(data.data() + 4);
  if (plen == 0 || plen > data.size() - 40) {
    // Payload length 0 is a jumbogram (RFC 2675), which DNS never needs.
    c.add(plen == 0 ? Counter::ipv6_truncated : Counter::ip_snaplen_cut);
    return Decoded::dropped;
  }
  out.ip_version = 6;
  out.src = IpAddr::v6(data.data() + 8);
  out.dst = IpAddr::v6(data.data() + 24);
  return ipv6_headers(data[6], data.subspan(40, plen), out, c, false);
}

Decoded tunnel(Packet& out, Ctx& c) noexcept {
  if (out.tunnel_depth == kMaxTunnelDepth) {
    c.add(Counter::tunnel_too_deep);
    return Decoded::dropped;
  }
  ++out.tunnel_depth;
  c.add(Counter::tunnel_decapsulated);
  // The inner packet starts afresh: its own VLAN tags (and their kMaxVlanTags budget) and
  // addresses. The outer tags belong to the tunnel's transport network, not to the DNS traffic.
  out.fragment = false;
  out.vlan_count = 0;
  for (std::uint16_t& v : out.vlan) v = 0;
  return Decoded::dns;
}

// GRE (RFC 2784/2890), carrying IP, Ethernet (0x6558) or ERSPAN II/III.
Decoded decode_gre(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 4) {
    c.add(Counter::l4_truncated);
    return Decoded::dropped;
  }
  const std::uint16_t flags = load_be16(data.data());
  const std::uint16_t proto = load_be16(data.data() + 2);
  if ((flags & 0x0007) != 0) {  // version 1 is PPTP's enhanced GRE: no IP inside to decode
    c.add(Counter::other_protocol);
    return Decoded::dropped;
  }
  std::size_t hlen = 4;
  if (flags & 0x8000) hlen += 4;  // checksum + reserved
  if (flags & 0x2000) hlen += 4;  // key
  const bool seq = (flags & 0x1000) != 0;
  if (seq) hlen += 4;
  if (data.size() < hlen) {
    c.add(Counter::l4_truncated);
    return Decoded::dropped;
  }
  Bytes inner = data.subspan(hlen);
  if (tunnel(out, c) == Decoded::dropped) return Decoded::dropped;
  switch (proto) {
    case kEtherTeb: return decode_ethernet(inner, out, c);
    case kEtherErspan2:
      // ERSPAN type I has no sequence number and no ERSPAN header; type II has 8 octets.
      if (!seq) return decode_ethernet(inner, out, c);
      if (inner.size() < 8) break;
      return decode_ethernet(inner.subspan(8), out, c);
    case kEtherErspan3: {
      if (inner.size() < 12) break;
      // The O bit (last bit of the 12-octet header) announces an 8-octet platform sub-header.
      const std::size_t h = (inner[11] & 0x01) ? 20 : 12;
      if (inner.size() < h) break;
      return decode_ethernet(inner.subspan(h), out, c);
    }
    default: return by_ethertype(proto, inner, out, c);
  }
  c.add(Counter::l4_truncated);
  return Decoded::dropped;
}

Decoded ip(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.empty()) {
    c.add(Counter::l2_truncated);
    return Decoded::dropped;
  }
  switch (data[0] >> 4) {
    case 4: return decode_ipv4(data, out, c);
    case 6: return decode_ipv6(data, out, c);
    default: c.add(Counter::l2_not_ip); return Decoded::dropped;
  }
}

Decoded transport(std::uint8_t proto, Bytes data, Packet& out, Ctx& c) noexcept {
  // A reassembled IPv6 datagram whose fragment header announced an extension header.
  if (out.ip_version == 6 && ipv6_extension(proto)) return ipv6_headers(proto, data, out, c, true);
  out.proto = proto;
  switch (proto) {
    case kProtoUdp: {
      if (data.size() < 8) {
        c.add(Counter::l4_truncated);
        return Decoded::dropped;
      }
      const std::size_t len = load_be16(data.data() + 4);
      if (len < 8 || len > data.size()) {
        c.add(Counter::udp_bad_length);
        return Decoded::dropped;
      }
      out.sport = load_be16(data.data());
      out.dport = load_be16(data.data() + 2);
      out.payload = data.subspan(8, len - 8);
      // Tunnels are recognised by their destination port, but a DNS answer goes to whatever
      // port the client picked, 4789 and 4754 included: a datagram from a DNS port is DNS.
      if (c.dns_port(out.sport)) return Decoded::dns;
      if (out.dport == kPortVxlan) {
        // VXLAN (RFC 7348): 8-octet header with the I flag, then an Ethernet frame.
        if (out.payload.size() < 8 || (out.payload[0] & 0x08) == 0) return Decoded::dns;
        if (tunnel(out, c) == Decoded::dropped) return Decoded::dropped;
        return decode_ethernet(out.payload.subspan(8), out, c);
      }
      if (out.dport == kPortGreUdp) return decode_gre(out.payload, out, c);
      return Decoded::dns;
    }
    case kProtoTcp: {
      if (data.size() < 20) {
        c.add(Counter::l4_truncated);
        return Decoded::dropped;
      }
      const std::size_t off = std::size_t{data[12]} >> 4 << 2;
      if (off < 20 || off > data.size()) {
        c.add(Counter::l4_truncated);
        return Decoded::dropped;
      }
      out.sport = load_be16(data.data());
      out.dport = load_be16(data.data() + 2);
      out.seq = load_be32(data.data() + 4);
      out.ack = load_be32(data.data() + 8);
      out.tcp_flags = data[13];
      out.payload = data.subspan(off);
      return Decoded::dns;
    }
    case kProtoGre:
      return decode_gre(data, out, c);
    default:
      c.add(Counter::other_protocol);
      return Decoded::dropped;
  }
}

Decoded link(int link_type, Bytes frame, Packet& out, Ctx& c) noexcept {
  switch (link_type) {
    case dlt::kEthernet: return decode_ethernet(frame, out, c);
    case dlt::kLinuxSll:
      // 16 octets: packet type, ARPHRD, address length, 8 address octets, protocol.
      if (frame.size() < 16) break;
      return after_ethertype(load_be16(frame.data() + 14), frame.subspan(16), out, c);
    case dlt::kLinuxSll2:
      // 20 octets: protocol, reserved, interface index, ARPHRD, packet type, address length, address.
      if (frame.size() < 20) break;
      return after_ethertype(load_be16(frame.data()), frame.subspan(20), out, c);
    case dlt::kNull:
    case dlt::kLoop: return decode_null(frame, out, c);
    case dlt::kFddi:
      // Frame control + destination + source (13 octets), then LLC/SNAP.
      if (frame.size() < 13) break;
      return decode_llc_snap(frame.subspan(13), out, c);
    case dlt::kIeee80211: return decode_80211(frame, out, c);
    case dlt::kRadiotap: {
      // Radiotap: version, pad, then the little-endian length of the whole radiotap header.
      if (frame.size() < 4) break;
      const std::size_t len = frame[2] | std::size_t{frame[3]} << 8;
      if (len < 8 || len > frame.size()) break;
      return decode_80211(frame.subspan(len), out, c);
    }
    case dlt::kRaw:
    case dlt::kRawOpenBsd:
    case dlt::kIpv4:
    case dlt::kIpv6: return ip(frame, out, c);
    default: break;
  }
  c.add(Counter::l2_truncated);
  return Decoded::dropped;
}

}  // namespace

bool link_type_supported(int t) noexcept {
  switch (t) {
    case dlt::kNull: case dlt::kEthernet: case dlt::kRaw: case dlt::kRawOpenBsd: case dlt::kLoop:
    case dlt::kLinuxSll: case dlt::kIpv4: case dlt::kIpv6: case dlt::kLinuxSll2: case dlt::kFddi:
    case dlt::kIeee80211: case dlt::kRadiotap:
      return true;
    default:
      return false;
  }
}

Decoded decode_ip(Bytes data, Packet& out, Counters& c, const PortSet* dns_ports) noexcept {
  Ctx ctx{c, dns_ports};
  return ip(data, out, ctx);
}

Decoded decode_transport(std::uint8_t proto, Bytes data, Packet& out, Counters& c, const PortSet* dns_ports) noexcept {
  Ctx ctx{c, dns_ports};
  return transport(proto, data, out, ctx);
}

Decoded decode_frame(int link_type, Bytes frame, Packet& out, Counters& c, const PortSet* dns_ports) noexcept {
  Ctx ctx{c, dns_ports};
  return link(link_type, frame, out, ctx);
}

}  // namespace dnsvigil::sensor
