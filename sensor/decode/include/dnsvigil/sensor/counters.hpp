// Named counters of the packet path. Every reason a packet, byte or message is not turned
// into an event has one. Ids are stable: they are metric labels and summary lines.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dnsvigil/dnsparse/error.hpp"
#include "dnsvigil/dnsparse/message.hpp"

namespace dnsvigil::sensor {

// X(id, help)
#define DNSVIGIL_COUNTERS(X)                                                                  \
  X(packets, "frames read from the capture")                                                  \
  X(bytes, "octets of captured frame data")                                                   \
  X(l2_truncated, "frames too short for their link-layer header")                            \
  X(l2_not_ip, "frames carrying something other than IPv4/IPv6 (ARP, LLDP, PPP control, ...)") \
  X(l2_too_many_vlan_tags, "frames with more than 3 VLAN tags")                               \
  X(ppp_bad_header, "PPP frames too short for their protocol field, with an invalid one (RFC 1661 2), or (PPP_SERIAL) neither HDLC-like nor Cisco HDLC framing") \
  X(pppoe_bad_header, "PPPoE frames shorter than their 6-octet header or not of version 1 type 1 (RFC 2516)") \
  X(nflog_bad_header, "NFLOG frames of a version other than 0, or whose TLVs could not be walked in either byte order") \
  X(nflog_no_payload, "NFLOG frames without the packet (a rule logging no payload, e.g. --nflog-size 0)") \
  X(pktap_bad_header, "PKTAP headers shorter than 108 octets, longer than the frame, or naming PKTAP inside") \
  X(pktap_unknown_link_type, "PKTAP frames whose inner link type dnsvigil does not decode")  \
  X(ipv4_truncated, "IPv4 packets shorter than their header or total length")               \
  X(ipv4_bad_header, "IPv4 packets with a bad version or header length")                    \
  X(ipv4_bad_checksum, "IPv4 headers with a wrong checksum (still processed)")              \
  X(ipv6_truncated, "IPv6 packets shorter than their headers or payload length")            \
  X(ipv6_bad_extension, "IPv6 extension header chains that could not be walked")            \
  X(ip_snaplen_cut, "packets cut short by the capture snap length")                          \
  X(dns_capture_truncated, "DNS messages kept from UDP datagrams the snap length cut (header and question read)") \
  X(l4_truncated, "UDP/TCP headers cut short")                                               \
  X(udp_bad_length, "UDP length field larger than the data")                                 \
  X(not_dns, "UDP/TCP packets on ports that are not DNS ports")                              \
  X(off_port_dns, "DNS packets recognised on ports that are not DNS ports (capture.dns_heuristic)") \
  X(other_protocol, "IP packets that are neither UDP nor TCP (ICMP, ...)")                  \
  X(tunnel_decapsulated, "packets taken out of GRE, ERSPAN, VXLAN, GTP-U or PPTP's enhanced GRE") \
  X(tunnel_too_deep, "tunnels nested deeper than the decapsulation limit")                   \
  X(gre_pptp_bad_header, "enhanced GRE (version 1, PPTP) headers without the key, not carrying PPP, or whose payload length overruns the packet (RFC 2637 4.1)") \
  X(gtp_bad_header, "GTP-U datagrams (UDP 2152) shorter than 8 octets, not GTPv1, or whose length or extension headers overrun the datagram (3GPP TS 29.281 5.1)") \
  X(frag_fragments, "IP fragments seen")                                                     \
  X(frag_reassembled, "datagrams reassembled from fragments")                                \
  X(frag_timeout, "incomplete datagrams expired (packet time)")                              \
  X(frag_overlap, "fragments overlapping data already received (RFC 5722 for IPv6: datagram dropped)") \
  X(frag_too_big, "datagrams whose fragments extend past 65535 octets")                     \
  X(frag_evicted, "incomplete datagrams evicted because a reassembly cap was reached")       \
  X(frag_invalid, "fragments with impossible offsets or lengths")                            \
  X(tcp_segments, "TCP segments to or from DNS ports")                                       \
  X(tcp_streams, "TCP streams (one per direction) seen")                                     \
  X(tcp_midstream, "TCP streams joined without their SYN")                                   \
  X(tcp_retransmitted_bytes, "octets already received, seen again")                         \
  X(tcp_out_of_order, "segments held until a gap before them fills")                         \
  X(tcp_gap_bytes, "octets never seen (capture loss): the stream skipped past them")        \
  X(tcp_resync_skipped_bytes, "octets skipped while looking for a DNS length prefix")       \
  X(tcp_capped_bytes, "octets dropped by the per-flow or global TCP buffer caps")            \
  X(tcp_flows_evicted, "TCP flows evicted because the flow table was full")                  \
  X(tcp_flows_expired, "TCP flows closed by idle timeout (packet time)")                     \
  X(tcp_bad_length_prefix, "DNS-over-TCP length prefixes below 12 (no room for a header)")   \
  X(tcp_truncated_bytes, "octets of an incomplete message left when a stream ended")         \
  X(dns_messages, "DNS messages parsed")                                                     \
  X(dns_queries, "DNS queries (QR=0)")                                                       \
  X(dns_responses, "DNS responses (QR=1)")                                                   \
  X(dns_parse_errors, "DNS messages dropped by a fatal parse error (see dns_error_*)")       \
  X(tx_matched, "responses matched to their query")                                          \
  X(tx_unanswered, "queries that got no response before the transaction timeout")           \
  X(tx_unsolicited, "responses with no matching query in the table")                         \
  X(tx_wrong_server, "responses to a pending query from another address than the query went to") \
  X(tx_evicted, "pending queries evicted because the transaction table was full")              \
  X(dnstap_frames, "dnstap data frames received")                                             \
  X(dnstap_messages, "dnstap messages turned into DNS events")                                \
  X(dnstap_bad_protobuf, "dnstap frames whose protobuf could not be decoded")                 \
  X(dnstap_not_message, "dnstap frames that hold no DNS message (another Dnstap type)")       \
  X(dnstap_unknown_type, "dnstap messages of a type this version does not know (decoded as far as possible)") \
  X(dnstap_unknown_protocol, "dnstap messages of an unknown socket protocol (taken as UDP)")   \
  X(dnstap_no_dns, "dnstap messages without the DNS message of their direction")              \
  X(dnstap_no_address, "dnstap messages without a client or server address (zero address used)") \
  X(dnstap_oversize, "dnstap frames too large for a worker's ring (-j N: about 66 KiB), dropped")

enum class Counter : std::uint16_t {
#define DNSVIGIL_COUNTER_ENUM(id, help) id,
  DNSVIGIL_COUNTERS(DNSVIGIL_COUNTER_ENUM)
#undef DNSVIGIL_COUNTER_ENUM
      count_
};

inline constexpr std::size_t kCounterCount = static_cast<std::size_t>(Counter::count_);

/// Stable snake_case id of a counter.
[[nodiscard]] std::string_view counter_id(Counter c) noexcept;
/// One-line description of a counter.
[[nodiscard]] std::string_view counter_help(Counter c) noexcept;

/// Plain counters owned by one pipeline (one thread); merged for reporting.
struct Counters {
  std::array<std::uint64_t, kCounterCount> values{};
  std::array<std::uint64_t, dnsparse::kErrorCount> parse_errors{};
  std::array<std::uint64_t, dnsparse::kAnomalyCount> anomalies{};

  void add(Counter c, std::uint64_t n = 1) noexcept { values[static_cast<std::size_t>(c)] += n; }
  [[nodiscard]] std::uint64_t get(Counter c) const noexcept { return values[static_cast<std::size_t>(c)]; }
  void merge(const Counters& o) noexcept {
    for (std::size_t i = 0; i < values.size(); ++i) values[i] += o.values[i];
    for (std::size_t i = 0; i < parse_errors.size(); ++i) parse_errors[i] += o.parse_errors[i];
    for (std::size_t i = 0; i < anomalies.size(); ++i) anomalies[i] += o.anomalies[i];
  }
};

}  // namespace dnsvigil::sensor
