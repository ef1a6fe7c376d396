#include "dnsvigil/sensor/decode.hpp"

#include <cstring>

namespace dnsvigil::sensor {

using dnsparse::load_be16;
using dnsparse::load_be32;

namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86DD, kEtherVlan = 0x8100, kEtherQinQ = 0x88A8,
                        kEtherQinQOld = 0x9100, kEtherTeb = 0x6558, kEtherErspan2 = 0x88BE, kEtherErspan3 = 0x22EB,
                        kEtherPppoeSession = 0x8864, kEtherPpp = 0x880B;
constexpr std::uint16_t kPortVxlan = 4789, kPortGreUdp = 4754, kPortGtpu = 2152;
// PPP protocol numbers (RFC 1661 §2, IANA "PPP DLL Protocol Numbers").
constexpr std::uint16_t kPppIpv4 = 0x0021, kPppIpv6 = 0x0057;
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
Decoded decode_pppoe(Bytes data, Packet& out, Ctx& c) noexcept;

// Dispatches on an EtherType (after any VLAN tags).
Decoded by_ethertype(std::uint16_t type, Bytes data, Packet& out, Ctx& c) noexcept {
  switch (type) {
    case kEtherIpv4:
    case kEtherIpv6: return ip(data, out, c);
    case kEtherPppoeSession: return decode_pppoe(data, out, c);
    default: c.add(Counter::l2_not_ip); return Decoded::dropped;
  }
}

Decoded bad(Counter k, Ctx& c) noexcept {
  c.add(k);
  return Decoded::dropped;
}

// PPP (RFC 1661 §2): the HDLC address and control octets FF 03 (RFC 1662 §3.1) unless
// Address-and-Control-Field-Compression left them out, then the protocol field: two octets, or
// one with Protocol-Field-Compression. The field is unambiguous because its last octet is odd
// and any first octet of two is even; FF (odd) can only be the HDLC address.
Decoded decode_ppp(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() >= 2 && data[0] == 0xFF && data[1] == 0x03) data = data.subspan(2);
  if (data.empty()) return bad(Counter::ppp_bad_header, c);
  std::uint16_t proto = data[0];
  if ((data[0] & 0x01) != 0) {
    data = data.subspan(1);
  } else {
    if (data.size() < 2 || (data[1] & 0x01) == 0) return bad(Counter::ppp_bad_header, c);
    proto = load_be16(data.data());
    data = data.subspan(2);
  }
  switch (proto) {
    case kPppIpv4:
    case kPppIpv6: return ip(data, out, c);
    default: return bad(Counter::l2_not_ip, c);  // LCP, IPCP, CCP, compressed or encrypted data, ...
  }
}

// DLT_PPP_SERIAL: PPP in HDLC-like framing, or Cisco HDLC (RFC 1547 §4.3.1: address 0x0F
// unicast or 0x8F broadcast, control 0x00, then an EtherType).
Decoded decode_ppp_serial(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() >= 4 && (data[0] == 0x0F || data[0] == 0x8F) && data[1] == 0x00)
    return by_ethertype(load_be16(data.data() + 2), data.subspan(4), out, c);
  if (data.size() < 2 || data[0] != 0xFF || data[1] != 0x03) return bad(Counter::ppp_bad_header, c);
  return decode_ppp(data, out, c);
}

// PPPoE session stage (RFC 2516 §4): version 1 and type 1 in one octet, code 0x00, session id,
// length of the PPP frame that follows. Discovery packets (PADI, PADO, ...) carry no IP.
Decoded decode_pppoe(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 6 || data[0] != 0x11) return bad(Counter::pppoe_bad_header, c);
  if (data[1] != 0x00) return bad(Counter::l2_not_ip, c);
  // A length beyond the frame is left to the IP layer, which tells a snap length cut
  // (ip_snaplen_cut); a shorter one drops Ethernet padding.
  const std::size_t len = load_be16(data.data() + 4);
  data = data.subspan(6);
  return decode_ppp(data.first(len < data.size() ? len : data.size()), out, c);
}

std::uint16_t load_host16(const std::uint8_t* p, bool swapped) noexcept {
  std::uint16_t v = 0;
  std::memcpy(&v, p, 2);
  return swapped ? static_cast<std::uint16_t>(v << 8 | v >> 8) : v;
}

enum class TlvWalk : std::uint8_t { bad, no_payload, payload };

// Walks NFLOG TLVs (each: length including its 4 octets, type, value padded to 4 octets) to
// the payload TLV.
TlvWalk nflog_payload(Bytes tlvs, bool swapped, Bytes& payload) noexcept {
  constexpr std::uint16_t kNfulaPayload = 9;      // linux/netfilter/nfnetlink_log.h
  constexpr std::uint16_t kNlaTypeMask = 0x3FFF;  // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
  while (!tlvs.empty()) {
    if (tlvs.size() < 4) return TlvWalk::bad;
    const std::size_t len = load_host16(tlvs.data(), swapped);
    const std::uint16_t type = load_host16(tlvs.data() + 2, swapped) & kNlaTypeMask;
    if (len < 4) return TlvWalk::bad;
    if (type == kNfulaPayload) {
      // The snap length may cut the payload TLV: the IP layer counts what is missing.
      payload = tlvs.subspan(4, (len < tlvs.size() ? len : tlvs.size()) - 4);
      return TlvWalk::payload;
    }
    if (len > tlvs.size()) return TlvWalk::bad;
    const std::size_t step = (len + 3) & ~std::size_t{3};  // the last TLV may go unpadded
    tlvs = tlvs.subspan(step < tlvs.size() ? step : tlvs.size());
  }
  return TlvWalk::no_payload;
}

// NFLOG: address family, version 0, resource id (the group), then TLVs whose length and type
// are in the byte order of the host that captured them. libpcap turns a file from a host of
// the other byte order around when it reads it, so the reader's order comes first; a TLV
// chain that only walks the other way is read that way.
Decoded decode_nflog(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 4 || data[1] != 0) return bad(Counter::nflog_bad_header, c);
  const Bytes tlvs = data.subspan(4);
  Bytes payload;
  TlvWalk w = nflog_payload(tlvs, false, payload);
  if (w == TlvWalk::bad) w = nflog_payload(tlvs, true, payload);
  switch (w) {
    case TlvWalk::bad: return bad(Counter::nflog_bad_header, c);
    case TlvWalk::no_payload: return bad(Counter::nflog_no_payload, c);
    case TlvWalk::payload: break;
  }
  return ip(payload, out, c);
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
  std::size_t total = load_be16(data.data() + 2);
  if ((data[0] >> 4) != 4 || ihl < 20 || total < ihl) {
    c.add(Counter::ipv4_bad_header);
    return Decoded::dropped;
  }
  if (data.size() < ihl) {
    c.add(Counter::ipv4_truncated);
    return Decoded::dropped;
  }
  out.cut = false;
  if (total > data.size()) {
    // The snap length or the capture cut the packet: its transport payload is incomplete. A
    // whole UDP datagram may still hold a DNS header and question (Packet::cut); a fragment
    // cannot be reassembled, and transport() drops a cut TCP segment.
    c.add(Counter::ip_snaplen_cut);
    if ((load_be16(data.data() + 6) & 0x3FFF) != 0) return Decoded::dropped;
    out.cut = true;
    total = data.size();
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
          if (out.cut) return Decoded::dropped;  // a cut fragment cannot be reassembled (counted)
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
  std::size_t plen = load_be16(data.data() + 4);
  if (plen == 0) {
    // A jumbogram (RFC 2675), which DNS never needs.
    c.add(Counter::ipv6_truncated);
    return Decoded::dropped;
  }
  out.cut = false;
  if (plen > data.size() - 40) {
    // Cut by the snap length: see decode_ipv4 (the upper layers decide what is still usable).
    c.add(Counter::ip_snaplen_cut);
    out.cut = true;
    plen = data.size() - 40;
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

// PPTP's enhanced GRE (RFC 2637 §4.1): C=0 R=0 K=1, protocol 0x880B, the key field holding the
// payload length and the call id, then a sequence number (S) and an acknowledgement number (A),
// each when flagged. An acknowledgement alone has no payload.
Decoded decode_gre_pptp(std::uint16_t flags, std::uint16_t proto, Bytes data, Packet& out, Ctx& c) noexcept {
  constexpr std::uint16_t kC = 0x8000, kR = 0x4000, kK = 0x2000, kS = 0x1000, kA = 0x0080;
  if ((flags & (kC | kR | kK)) != kK || proto != kEtherPpp || data.size() < 8)
    return bad(Counter::gre_pptp_bad_header, c);
  const std::size_t payload_len = load_be16(data.data() + 4);
  const std::size_t hlen = std::size_t{8} + ((flags & kS) != 0 ? 4U : 0U) + ((flags & kA) != 0 ? 4U : 0U);
  // The outer IP packet is whole (its layer checked the captured length), so a payload length
  // past its end is a broken header, not a snap length cut.
  if (hlen > data.size() || payload_len > data.size() - hlen) return bad(Counter::gre_pptp_bad_header, c);
  if (payload_len == 0) return bad(Counter::l2_not_ip, c);
  if (tunnel(out, c) == Decoded::dropped) return Decoded::dropped;
  return decode_ppp(data.subspan(hlen, payload_len), out, c);
}

// GTP-U (3GPP TS 29.281 §5): version 1 and PT 1 in the flags octet, message type, length of
// what follows the 8 mandatory octets, TEID; with any of E, S, PN the sequence number, N-PDU
// number and next extension header type (4 octets); with E, extension headers, each a length
// in 4-octet units, its content and the next type. A T-PDU (type 255) carries the user's packet;
// other messages (echo, error indication, end marker) are signalling, left as plain UDP.
Decoded decode_gtpu(Bytes data, Packet& out, Ctx& c) noexcept {
  constexpr std::uint8_t kTpdu = 255;
  if (data.size() < 8 || (data[0] & 0xF0) != 0x30) return bad(Counter::gtp_bad_header, c);
  const std::size_t len = load_be16(data.data() + 2);
  if (len > data.size() - 8) return bad(Counter::gtp_bad_header, c);
  if (data[1] != kTpdu) return Decoded::dns;
  Bytes rest = data.subspan(8, len);
  if ((data[0] & 0x07) != 0) {
    if (rest.size() < 4) return bad(Counter::gtp_bad_header, c);
    std::uint8_t next = rest[3];
    rest = rest.subspan(4);
    for (unsigned n = 0; (data[0] & 0x04) != 0 && next != 0; ++n) {
      if (n == kMaxGtpExtensions || rest.empty()) return bad(Counter::gtp_bad_header, c);
      const std::size_t elen = std::size_t{rest[0]} * 4;
      if (elen == 0 || elen > rest.size()) return bad(Counter::gtp_bad_header, c);
      next = rest[elen - 1];
      rest = rest.subspan(elen);
    }
  }
  if (tunnel(out, c) == Decoded::dropped) return Decoded::dropped;
  return ip(rest, out, c);
}

// GRE (RFC 2784/2890), carrying IP, Ethernet (0x6558) or ERSPAN II/III; version 1 is PPTP's.
Decoded decode_gre(Bytes data, Packet& out, Ctx& c) noexcept {
  if (data.size() < 4) {
    c.add(Counter::l4_truncated);
    return Decoded::dropped;
  }
  const std::uint16_t flags = load_be16(data.data());
  const std::uint16_t proto = load_be16(data.data() + 2);
  if ((flags & 0x0007) == 1) return decode_gre_pptp(flags, proto, data, out, c);
  if ((flags & 0x0007) != 0) {  // versions 2-7 are unassigned
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
      std::size_t len = load_be16(data.data() + 4);
      // A datagram cut by the snap length keeps what was captured of its payload.
      if (out.cut && len > data.size()) len = data.size();
      if (len < 8 || len > data.size()) {
        c.add(Counter::udp_bad_length);
        return Decoded::dropped;
      }
      out.sport = load_be16(data.data());
      out.dport = load_be16(data.data() + 2);
      out.payload = data.subspan(8, len - 8);
      // Tunnels are recognised by their destination port, but a DNS answer goes to whatever
      // port the client picked, 4789, 4754 and 2152 included: a datagram from a DNS port is DNS.
      if (c.dns_port(out.sport)) return Decoded::dns;
      if (out.dport == kPortVxlan) {
        // VXLAN (RFC 7348): 8-octet header with the I flag, then an Ethernet frame.
        if (out.payload.size() < 8 || (out.payload[0] & 0x08) == 0) return Decoded::dns;
        if (tunnel(out, c) == Decoded::dropped) return Decoded::dropped;
        return decode_ethernet(out.payload.subspan(8), out, c);
      }
      if (out.dport == kPortGreUdp) return decode_gre(out.payload, out, c);
      if (out.dport == kPortGtpu) return decode_gtpu(out.payload, out, c);
      return Decoded::dns;
    }
    case kProtoTcp: {
      // A segment cut by the snap length would corrupt its stream (ip_snaplen_cut counted it).
      if (out.cut) return Decoded::dropped;
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

Decoded link(int link_type, Bytes frame, Packet& out, Ctx& c, unsigned depth) noexcept;

bool decodable(int t) noexcept {
  switch (t) {
    case dlt::kNull: case dlt::kEthernet: case dlt::kRaw: case dlt::kRawOpenBsd: case dlt::kLoop:
    case dlt::kLinuxSll: case dlt::kIpv4: case dlt::kIpv6: case dlt::kLinuxSll2: case dlt::kFddi:
    case dlt::kIeee80211: case dlt::kRadiotap: case dlt::kPpp: case dlt::kPppSerial: case dlt::kPppEther:
    case dlt::kNflog: case dlt::kPktap: case dlt::kPktapApple:
      return true;
    default:
      return false;
  }
}

std::uint32_t load_le32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

// PKTAP (Apple's net/pktap.h): pth_length, pth_type_next, pth_dlt, ... in little-endian (every
// Apple host that has PKTAP is little-endian), then the frame with its own link layer.
Decoded decode_pktap(Bytes data, Packet& out, Ctx& c, unsigned depth) noexcept {
  constexpr std::uint32_t kPthTypePacket = 1;
  if (depth >= kMaxCaptureHeaders || data.size() < kPktapMinHeader) return bad(Counter::pktap_bad_header, c);
  const std::uint32_t hlen = load_le32(data.data());
  if (hlen < kPktapMinHeader || hlen > data.size()) return bad(Counter::pktap_bad_header, c);
  if (load_le32(data.data() + 4) != kPthTypePacket) return bad(Counter::l2_not_ip, c);
  const std::uint32_t inner = load_le32(data.data() + 8);
  if (inner == dlt::kPktap || inner == dlt::kPktapApple) return bad(Counter::pktap_bad_header, c);
  if (inner > 0xFFFF || !decodable(static_cast<int>(inner))) return bad(Counter::pktap_unknown_link_type, c);
  return link(static_cast<int>(inner), data.subspan(hlen), out, c, depth + 1);
}

Decoded link(int link_type, Bytes frame, Packet& out, Ctx& c, unsigned depth) noexcept {
  switch (link_type) {
    case dlt::kEthernet: return decode_ethernet(frame, out, c);
    case dlt::kPpp: return decode_ppp(frame, out, c);
    case dlt::kPppSerial: return decode_ppp_serial(frame, out, c);
    case dlt::kPppEther: return decode_pppoe(frame, out, c);
    case dlt::kNflog: return decode_nflog(frame, out, c);
    case dlt::kPktap:
    case dlt::kPktapApple: return decode_pktap(frame, out, c, depth);
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
#ifndef __APPLE__
  // libpcap elsewhere hands out PKTAP as 258; 149 there is the user-defined DLT_USER2.
  if (t == dlt::kPktapApple) return false;
#endif
  return decodable(t);
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
  return link(link_type, frame, out, ctx, 0);
}

}  // namespace dnsvigil::sensor
