// Kernel fan-out of live capture by DNS client (issue 16): N packet sockets on one interface in
// one PACKET_FANOUT group, whose classic-BPF program picks each packet's socket from the
// address of the DNS client, so that all of a client's traffic reaches one worker.
//
// Which side is the client:
//   - UDP or TCP with the destination port in dns_ports: the source (a query, or a client's TCP
//     segment);
//   - otherwise with the source port in dns_ports: the destination (a response);
//   - neither port a DNS port (DNS on other ports, recognised by the sensor's heuristic): for UDP
//     the destination when the payload's third octet has the top bit set (a DNS response's QR
//     bit), else the source, as the sensor judges such DNS; for TCP the source (so the server's
//     half of a TCP connection on another port goes by its server, where the offline routing,
//     which remembers the connection, takes the client);
//   - an IPv6 packet whose header chain reaches neither UDP, TCP nor a Fragment header within
//     three hop-by-hop, routing or destination-options headers: the source;
//   - an IP fragment (IPv4 MF set or offset != 0; IPv6 with a Fragment header): the destination.
//     Later pieces carry no ports, yet all pieces of a datagram must reach the one socket that
//     reassembles it, so the choice can use addresses only. DNS datagrams that fragment are
//     almost always large responses, server to client, so the destination is the client; a
//     fragmented query (rare: EDNS client data past the path MTU) goes to its server's worker;
//   - anything else (not IPv4/IPv6, IPv4 of another protocol, too short): slot 0.
// The slot is client_slot(client, workers); offline routing uses it too, so live and offline
// runs split clients alike.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "dnsvigil/sensor/addr.hpp"

namespace dnsvigil::capture {

/// Most DNS ports fanout_program() takes: each costs two instructions, and a conditional
/// classic-BPF jump reaches at most 255 instructions ahead.
inline constexpr std::size_t kMaxFanoutPorts = 100;

/// The worker of a DNS client, 0 .. workers-1: sensor::client_slot() (addr.hpp), which the
/// offline routing uses and fanout_program() computes in the kernel. One function, so that
/// unqualified calls here are not ambiguous with the one argument-dependent lookup finds.
/// (An IPv6 packet carrying IPv4-mapped addresses, which RFC 4291 keeps off the wire, is folded
/// as IPv6 by the program but as IPv4 by client_slot().)
using sensor::client_slot;

/// The classic-BPF program for PACKET_FANOUT_CBPF: returns client_slot(client, workers) for
/// each packet, the client chosen as the file comment says (`dns_ports` empty means {53}).
/// It reads relative to the network header only (the kernel runs it with skb->data at the
/// network header for received packets but at the link header for sent ones) and takes the
/// EtherType from skb->protocol; with up to two VLAN tags still in the data (the kernel moves
/// only the outer one to the metadata) it steps over them. workers == 1 gives `ret #0`.
/// Throws CaptureError with more than kMaxFanoutPorts distinct ports or workers == 0.
[[nodiscard]] std::vector<sock_filter> fanout_program(const std::vector<std::uint16_t>& dns_ports,
                                                      std::uint32_t workers);

/// Joins the bound, activated AF_PACKET socket `fd` (pcap_fileno() after pcap_activate()) to
/// fan-out group `group` of its network namespace as a PACKET_FANOUT_CBPF member, then sets the
/// group's program. The kernel numbers members in the order they join (the program's result i
/// selects the i-th; a member that leaves is replaced in its place by the last one), so workers
/// must join in order 0 .. N-1; until every worker has joined, results are taken modulo the
/// members so far, and until the first program is set every packet goes to the first member.
/// All members must be bound to the same interface. The capture filter of each socket applies
/// after the choice. Throws CaptureError (one line with the errno text) when the kernel refuses;
/// a socket leaves a group only by closing, so close `fd` then.
void join_fanout(int fd, std::uint16_t group, const std::vector<sock_filter>& program);

}  // namespace dnsvigil::capture
