// Link, network and transport decoding of captured frames (no libpcap: link types are the
// DLT numbers libpcap reports, so tests and fuzz targets feed raw frames).
#pragma once

#include <bitset>
#include <cstdint>
#include <string_view>

#include "dnsvigil/dnsparse/wire.hpp"
#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/counters.hpp"

namespace dnsvigil::sensor {

using dnsparse::Bytes;

/// libpcap DLT_* values of the link types dnsvigil decodes.
namespace dlt {
inline constexpr int kNull = 0;         ///< BSD loopback, host-order AF_ value
inline constexpr int kEthernet = 1;     ///< Ethernet II, 802.1Q / 802.1ad tags, PPPoE sessions
inline constexpr int kPpp = 9;          ///< PPP (RFC 1661), with or without the HDLC address/control octets
inline constexpr int kFddi = 10;        ///< FDDI with 802.2 LLC/SNAP
inline constexpr int kRaw = 12;         ///< raw IPv4/IPv6 (Linux value; LINKTYPE_RAW 101 in files)
inline constexpr int kRawOpenBsd = 14;  ///< DLT_RAW on OpenBSD
inline constexpr int kLoop = 108;       ///< OpenBSD loopback, network-order AF_ value
inline constexpr int kIeee80211 = 105;  ///< 802.11 frames (monitor mode), LLC/SNAP data
inline constexpr int kLinuxSll = 113;   ///< Linux cooked capture v1 ("any")
inline constexpr int kRadiotap = 127;   ///< 802.11 with a radiotap header
inline constexpr int kIpv4 = 228;
inline constexpr int kIpv6 = 229;
inline constexpr int kLinuxSll2 = 276;  ///< Linux cooked capture v2 ("any", libpcap >= 1.10)
inline constexpr int kPppSerial = 50;   ///< PPP in HDLC-like framing (RFC 1662) or Cisco HDLC (LINKTYPE_PPP_HDLC)
inline constexpr int kPppEther = 51;    ///< PPPoE session stage (RFC 2516) without the Ethernet header
inline constexpr int kNflog = 239;      ///< Linux netfilter log ("nflog:N" interfaces): TLVs, one holding the IP packet
inline constexpr int kPktap = 258;      ///< Apple PKTAP (LINKTYPE_PKTAP): metadata header, then a frame of its own DLT
inline constexpr int kPktapApple = 149; ///< DLT_PKTAP as libpcap numbers it on Apple systems (DLT_USER2 elsewhere)
}  // namespace dlt

/// True for the link types in namespace dlt that libpcap hands out on this system: dlt::kPktapApple
/// only on Apple systems (elsewhere 149 is the user-defined DLT_USER2, which dnsvigil refuses).
/// decode_frame() decodes every type in namespace dlt wherever it runs.
[[nodiscard]] bool link_type_supported(int link_type) noexcept;

/// Most capture pseudo-headers (PKTAP) in front of a frame's own link layer: a PKTAP header
/// naming PKTAP again as the inner link type is refused (pktap_bad_header).
inline constexpr unsigned kMaxCaptureHeaders = 1;
/// Least PKTAP header length: the fields up to pth_ecomm (Apple's net/pktap.h, version 1);
/// newer headers are longer and say so in pth_length.
inline constexpr std::size_t kPktapMinHeader = 108;
/// Most GTP-U extension headers walked (each is at least 4 octets, so the datagram bounds the
/// walk anyway; real traffic carries one or two: PDU session container, PDCP PDU number).
inline constexpr unsigned kMaxGtpExtensions = 16;

/// Most VLAN tags read from one frame (802.1ad outer + 802.1Q inner + one more).
inline constexpr std::size_t kMaxVlanTags = 3;
/// Most tunnel layers (GRE, ERSPAN, VXLAN, GTP-U, PPTP's enhanced GRE) taken off one packet.
inline constexpr unsigned kMaxTunnelDepth = 3;
/// IPv6 extension headers walked before giving up (hop-by-hop, routing, fragment, dest, AH).
inline constexpr unsigned kMaxIpv6Extensions = 8;

inline constexpr std::uint8_t kProtoTcp = 6, kProtoUdp = 17, kProtoGre = 47;

/// TCP flag bits.
namespace tcpflag {
inline constexpr std::uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;
}

/// A decoded packet: addresses, transport, and where the payload is. All spans point into the
/// captured frame (or into a reassembly buffer).
struct Packet {
  // Link layer.
  std::uint16_t vlan[kMaxVlanTags] = {};
  std::uint8_t vlan_count = 0;
  std::uint8_t tunnel_depth = 0;
  // Network layer.
  std::uint8_t ip_version = 0;
  std::uint8_t proto = 0;          ///< upper-layer protocol after IPv6 extension headers
  IpAddr src, dst;
  bool fragment = false;           ///< an IP fragment: `payload` is its data, L4 not decoded
  bool more_fragments = false;
  std::uint16_t frag_offset = 0;   ///< octets
  std::uint32_t frag_id = 0;
  // Transport layer (when not a fragment).
  std::uint16_t sport = 0, dport = 0;
  std::uint32_t seq = 0, ack = 0;  ///< TCP
  std::uint8_t tcp_flags = 0;
  Bytes payload;                   ///< UDP/TCP payload, or the fragment's data
  bool cut = false;                ///< a UDP datagram cut by the snap length: `payload` is its start
};

/// Outcome of decoding one frame.
enum class Decoded : std::uint8_t {
  dns,       ///< a UDP or TCP packet ready for the DNS layer (ports not yet checked)
  fragment,  ///< an IP fragment for the defragmenter
  dropped,   ///< not usable; the reason was counted
};

/// A set of UDP/TCP ports (bit p set: port p is in the set).
using PortSet = std::bitset<65536>;

/// Decodes a captured frame of link type `link_type` down to the transport payload, taking off
/// up to kMaxTunnelDepth tunnel layers. Every reason to drop is counted in `c`.
/// UDP tunnels (VXLAN 4789, GRE-in-UDP 4754, GTP-U 2152) are recognised by destination port, except for
/// datagrams whose source port is a DNS port (`dns_ports`; nullptr: port 53 only), which are
/// DNS answers to a client that happened to pick that port.
[[nodiscard]] Decoded decode_frame(int link_type, Bytes frame, Packet& out, Counters& c,
                                   const PortSet* dns_ports = nullptr) noexcept;

/// Decodes a transport header and payload of protocol `proto` (after IP, or after reassembly).
/// Tunnels inside are taken off as in decode_frame.
[[nodiscard]] Decoded decode_transport(std::uint8_t proto, Bytes data, Packet& out, Counters& c,
                                       const PortSet* dns_ports = nullptr) noexcept;

/// Decodes an IPv4 or IPv6 packet (version from the first nibble).
[[nodiscard]] Decoded decode_ip(Bytes data, Packet& out, Counters& c, const PortSet* dns_ports = nullptr) noexcept;

}  // namespace dnsvigil::sensor
