// Test helper: builds link, network and transport headers field by field (each field written
// with a comment naming it), plus real DNS messages captured in the project's lab, so frame
// fixtures read like the RFC layouts. Tests only; allocation is fine here.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dns_builder.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/addr.hpp"

namespace dnsvigil::test {

using Octets = std::vector<std::uint8_t>;

/// Concatenates octet strings.
inline Octets cat(std::initializer_list<Octets> parts) {
  Octets out;
  for (const Octets& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// A parsed address (the test fails loudly on a typo: parse() must succeed).
inline sensor::IpAddr addr(std::string_view text) {
  const auto a = sensor::IpAddr::parse(text);
  if (!a) throw std::invalid_argument("bad address in test: " + std::string(text));
  return *a;
}
/// The 4 wire octets of an IPv4 address.
inline Octets ip4(std::string_view text) {
  const auto a = addr(text);
  return {a.bytes.begin() + 12, a.bytes.end()};
}
/// The 16 wire octets of an IPv6 address.
inline Octets ip6(std::string_view text) {
  const auto a = addr(text);
  return {a.bytes.begin(), a.bytes.end()};
}

// ------------------------------------------------------------------------------------------ L2

inline constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86DD, kEtherArp = 0x0806;

/// Ethernet II: destination MAC, source MAC, then the tags and the EtherType.
/// `tags` are (TPID, TCI) pairs written in order (outermost first).
inline Octets eth(std::uint16_t ethertype, std::initializer_list<std::pair<std::uint16_t, std::uint16_t>> tags = {}) {
  Wire w;
  w.bytes({0x02, 0x00, 0x0a, 0x14, 0x00, 0x35});  // destination MAC
  w.bytes({0x02, 0x00, 0x0a, 0x14, 0x01, 0x0b});  // source MAC
  for (const auto& [tpid, tci] : tags) w.u16(tpid).u16(tci);  // 802.1Q/802.1ad tag: TPID, PCP|DEI|VID
  w.u16(ethertype);                                            // EtherType
  return w.b;
}

/// 802.2 LLC + SNAP (RFC 1042): DSAP AA, SSAP AA, control 03 (UI), OUI 000000, EtherType.
inline Octets llc_snap(std::uint16_t ethertype) {
  Wire w;
  w.bytes({0xAA, 0xAA, 0x03});    // DSAP, SSAP, control
  w.bytes({0x00, 0x00, 0x00});    // OUI (encapsulated Ethernet)
  w.u16(ethertype);               // EtherType
  return w.b;
}

// ------------------------------------------------------------------------------------------ L3

/// IPv4 header fields; build() writes them in RFC 791 order with a correct checksum.
struct Ipv4 {
  std::string_view src = "192.0.2.10";
  std::string_view dst = "192.0.2.53";
  std::uint8_t proto = 17;
  std::uint16_t id = 0x1234;
  bool mf = false;
  std::uint16_t frag_offset = 0;  ///< octets (a multiple of 8)
  Octets options{};               ///< a multiple of 4 octets
  int total_length = -1;          ///< -1: header + payload
  int ihl = -1;                   ///< header length in 32-bit words; -1: from the options
  bool bad_checksum = false;

  [[nodiscard]] Octets build(const Octets& payload) const {
    const std::size_t hlen = 20 + options.size();
    const auto words = static_cast<std::uint8_t>(ihl >= 0 ? ihl : static_cast<int>(hlen / 4));
    const auto total = static_cast<std::uint16_t>(total_length >= 0 ? total_length : static_cast<int>(hlen + payload.size()));
    Wire w;
    w.u8(static_cast<std::uint8_t>(0x40 | words));  // version 4, IHL
    w.u8(0);                                        // DSCP, ECN
    w.u16(total);                                   // total length
    w.u16(id);                                      // identification
    w.u16(static_cast<std::uint16_t>((mf ? 0x2000 : 0) | frag_offset / 8));  // flags (MF), fragment offset
    w.u8(64);                                       // TTL
    w.u8(proto);                                    // protocol
    w.u16(0);                                       // header checksum (filled below)
    for (const std::uint8_t b : ip4(src)) w.u8(b);  // source address
    for (const std::uint8_t b : ip4(dst)) w.u8(b);  // destination address
    w.b.insert(w.b.end(), options.begin(), options.end());
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < w.b.size(); i += 2) sum += std::uint32_t{w.b[i]} << 8 | w.b[i + 1];
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    auto csum = static_cast<std::uint16_t>(~sum);
    if (bad_checksum) csum = static_cast<std::uint16_t>(csum ^ 0x5A5A);
    w.b[10] = static_cast<std::uint8_t>(csum >> 8);
    w.b[11] = static_cast<std::uint8_t>(csum);
    w.b.insert(w.b.end(), payload.begin(), payload.end());
    return w.b;
  }
};

/// IPv6 fixed header (RFC 8200 §3); `payload` includes any extension headers.
struct Ipv6 {
  std::string_view src = "2001:db8::10";
  std::string_view dst = "2001:db8::53";
  std::uint8_t next = 17;
  int payload_length = -1;  ///< -1: payload size

  [[nodiscard]] Octets build(const Octets& payload) const {
    Wire w;
    w.u32(0x60000000);  // version 6, traffic class 0, flow label 0
    w.u16(static_cast<std::uint16_t>(payload_length >= 0 ? payload_length : static_cast<int>(payload.size())));  // payload length
    w.u8(next);         // next header
    w.u8(64);           // hop limit
    for (const std::uint8_t b : ip6(src)) w.u8(b);  // source address
    for (const std::uint8_t b : ip6(dst)) w.u8(b);  // destination address
    w.b.insert(w.b.end(), payload.begin(), payload.end());
    return w.b;
  }
};

/// IPv6 hop-by-hop (0) or destination options (60) header: next header, length in 8-octet
/// units beyond the first, then PadN filling the rest.
inline Octets ext_options(std::uint8_t next, std::uint8_t extra_units = 0) {
  Wire w;
  w.u8(next).u8(extra_units);                           // next header, Hdr Ext Len
  const std::size_t pad = 6 + std::size_t{extra_units} * 8;
  w.u8(1).u8(static_cast<std::uint8_t>(pad - 2));        // PadN option: type 1, length
  for (std::size_t i = 2; i < pad; ++i) w.u8(0);         // PadN data
  return w.b;
}

/// IPv6 fragment header (RFC 8200 §4.5): next header, reserved, offset|M, identification.
inline Octets ext_fragment(std::uint8_t next, std::uint16_t offset_octets, bool more, std::uint32_t id) {
  Wire w;
  w.u8(next).u8(0);                                                          // next header, reserved
  w.u16(static_cast<std::uint16_t>((offset_octets & 0xFFF8) | (more ? 1 : 0)));  // fragment offset, res, M
  w.u32(id);                                                                 // identification
  return w.b;
}

/// IPv6 authentication header (RFC 4302): next, payload len (4-octet units minus 2), reserved,
/// SPI, sequence number, ICV of `icv` octets.
inline Octets ext_ah(std::uint8_t next, std::size_t icv = 12) {
  Wire w;
  w.u8(next);                                           // next header
  w.u8(static_cast<std::uint8_t>((12 + icv) / 4 - 2));  // payload len
  w.u16(0);                                             // reserved
  w.u32(0x00000100);                                    // SPI
  w.u32(1);                                             // sequence number
  for (std::size_t i = 0; i < icv; ++i) w.u8(0xEE);     // ICV
  return w.b;
}

// ------------------------------------------------------------------------------------------ L4

/// UDP header (RFC 768), checksum 0 (not checked by the sensor). length -1: 8 + payload.
inline Octets udp(std::uint16_t sport, std::uint16_t dport, const Octets& payload, int length = -1) {
  Wire w;
  w.u16(sport).u16(dport);  // source port, destination port
  w.u16(static_cast<std::uint16_t>(length >= 0 ? length : static_cast<int>(8 + payload.size())));  // length
  w.u16(0);                 // checksum
  w.b.insert(w.b.end(), payload.begin(), payload.end());
  return w.b;
}

/// TCP header (RFC 9293) with `options` (a multiple of 4 octets).
inline Octets tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                  const Octets& payload, const Octets& options = {}) {
  Wire w;
  w.u16(sport).u16(dport);  // ports
  w.u32(seq).u32(ack);      // sequence, acknowledgment numbers
  w.u8(static_cast<std::uint8_t>((20 + options.size()) / 4 << 4));  // data offset, reserved
  w.u8(flags);              // flags
  w.u16(65535);             // window
  w.u16(0).u16(0);          // checksum, urgent pointer
  w.b.insert(w.b.end(), options.begin(), options.end());
  w.b.insert(w.b.end(), payload.begin(), payload.end());
  return w.b;
}

/// A 2-octet length prefix + message (RFC 1035 §4.2.2).
inline Octets framed(const Octets& msg) {
  Wire w;
  w.u16(static_cast<std::uint16_t>(msg.size()));
  w.b.insert(w.b.end(), msg.begin(), msg.end());
  return w.b;
}

// ------------------------------------------------------------------------------------------ DNS

/// Real query from the lab (pcaps/detect/beaconing/pos-5s-same-name.pcap, frame 1): client
/// 10.20.1.11:34007 -> resolver 10.20.0.53:53, id 82d2, RD+AD, check.beacon.badexample.io A IN,
/// OPT udp 1232 with an 8-octet client COOKIE.
inline const Octets kLabQuery = hex(
    "82d2 0120 0001 0000 0000 0001"
    "05636865636b 06626561636f6e 0a6261646578616d706c65 02696f 00 0001 0001"
    "00 0029 04d0 00000000 000c 000a 0008 99a05d711def44b0");

/// Its real answer (frame 2): id 82d2, QR RD RA, A 198.51.100.68 TTL 300, OPT with the cookies.
inline const Octets kLabResponse = hex(
    "82d2 8180 0001 0001 0000 0001"
    "05636865636b06626561636f6e0a6261646578616d706c6502696f00 0001 0001"
    "c00c 0001 0001 0000012c 0004 c6336444"
    "00 0029 04d0 00000000 001c 000a 0018 99a05d711def44b0 010000006b0487a54096849e98589d58");

/// Real answer from BIND 9.18.49 to `dig example.com NS +noedns`: 2 NS + 2 glue A records.
inline const Octets kNsWithGlue = hex(
    "f98c85000001000200000002076578616d706c6503636f6d0000020001c00c0002000100000e100006036e7331c00c"
    "c00c0002000100000e100006036e7332c00cc0290001000100000e100004c0000201c03b0001000100000e100004c0000202");

/// A query for `name` type `qtype` (RD), no EDNS.
inline Octets query(std::uint16_t id, std::string_view name, std::uint16_t qtype = 1) {
  Wire w;
  w.header(id, 0x0100, 1, 0, 0, 0);  // RD
  w.name(name).qtc(qtype);
  return w.b;
}

/// A response to query(id, name, qtype) with `answers` A records 192.0.2.N (name compressed).
inline Octets response(std::uint16_t id, std::string_view name, std::uint16_t qtype = 1, std::uint16_t answers = 1) {
  Wire w;
  w.header(id, 0x8180, 1, answers, 0, 0);  // QR RD RA
  w.name(name).qtc(qtype);
  for (std::uint16_t i = 0; i < answers; ++i) {
    w.ptr(12).rr_fixed(1, 1, 300);
    w.bytes({192, 0, 2, static_cast<std::uint8_t>(i)}).fix_rdlength();
  }
  return w.b;
}

/// True when `b` parses as a DNS message without a fatal error.
inline bool parses(const Octets& b) {
  dnsparse::Message m;
  return dnsparse::Message::parse(dnsparse::Bytes{b}, m) == dnsparse::Error::ok;
}

}  // namespace dnsvigil::test
