// decode_frame: every link type, VLAN tags, IPv4/IPv6 (options, extension headers, fragments),
// UDP/TCP, and the tunnels (GRE, ERSPAN II/III, VXLAN, GTP-U, PPTP's enhanced GRE), with the
// counter of every drop reason.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "dnsvigil/sensor/decode.hpp"

using namespace dnsvigil::sensor;
using namespace dnsvigil::test;

namespace {

struct Run {
  Octets frame;  // owns the bytes Packet::payload points into
  Packet p;
  Counters c;
  Decoded r = Decoded::dropped;
};

Run run(int link_type, Octets frame) {
  Run d;
  d.frame = std::move(frame);
  d.r = decode_frame(link_type, Bytes{d.frame}, d.p, d.c);
  return d;
}

Octets payload_of(const Run& d) { return {d.p.payload.begin(), d.p.payload.end()}; }

// Every counter of `c` that is not zero, as "id=n" (so a failing CHECK shows all of them).
std::string nonzero(const Counters& c) {
  std::string s;
  for (std::size_t i = 0; i < kCounterCount; ++i)
    if (c.values[i] != 0) s += std::string(counter_id(static_cast<Counter>(i))) + "=" + std::to_string(c.values[i]) + " ";
  return s;
}

// The lab query as UDP/IPv4 10.20.1.11:34007 -> 10.20.0.53:53.
Octets lab_udp4(const Ipv4& ip = Ipv4{.src = "10.20.1.11", .dst = "10.20.0.53"}) {
  return ip.build(udp(34007, 53, kLabQuery));
}
// The lab query as UDP/IPv6 fd20::1:10 -> fd20::53.
Octets lab_udp6() { return Ipv6{.src = "fd20::1:10", .dst = "fd20::53"}.build(udp(41000, 53, kLabQuery)); }

// Checks that `d` is the lab query over UDP/IPv4 with nothing counted (but `tunnels`
// decapsulations).
void check_lab_v4(const Run& d, std::uint64_t tunnels = 0) {
  INFO("counters: " << nonzero(d.c));
  REQUIRE(d.r == Decoded::dns);
  CHECK(d.p.tunnel_depth == tunnels);
  CHECK(d.c.get(Counter::tunnel_decapsulated) == tunnels);
  CHECK(d.p.ip_version == 4);
  CHECK(d.p.proto == kProtoUdp);
  CHECK(d.p.src == addr("10.20.1.11"));
  CHECK(d.p.dst == addr("10.20.0.53"));
  CHECK(d.p.sport == 34007);
  CHECK(d.p.dport == 53);
  CHECK_FALSE(d.p.fragment);
  CHECK(payload_of(d) == kLabQuery);
  Counters expect;
  expect.add(Counter::tunnel_decapsulated, tunnels);
  CHECK(nonzero(d.c) == nonzero(expect));
}

void check_lab_v6(const Run& d) {
  INFO("counters: " << nonzero(d.c));
  REQUIRE(d.r == Decoded::dns);
  CHECK(d.p.ip_version == 6);
  CHECK(d.p.proto == kProtoUdp);
  CHECK(d.p.src == addr("fd20::1:10"));
  CHECK(d.p.dst == addr("fd20::53"));
  CHECK(d.p.sport == 41000);
  CHECK(d.p.dport == 53);
  CHECK(payload_of(d) == kLabQuery);
}

}  // namespace

// ------------------------------------------------------------------------------- link layers

TEST_CASE("decode: Ethernet II, the lab's real query frame", "[decode][l2]") {
  // pcaps/detect/beaconing/pos-5s-same-name.pcap frame 1, byte for byte.
  const Run d = run(dlt::kEthernet, hex(
      "02000a140035 02000a14010b 0800"                       // dst, src MAC, IPv4
      "4500005f 56530000 4011 0ed4 0a14010b 0a140035"         // IPv4, 95 octets, UDP, checksum 0ed4
      "84d7 0035 004b 7fb6"                                   // UDP 34007 -> 53, length 75
      "82d20120000100000000000105636865636b06626561636f6e0a6261646578616d706c6502696f0000010001"
      "00002904d000000000000c000a000899a05d711def44b0"));
  check_lab_v4(d);
  CHECK(d.p.vlan_count == 0);
  CHECK(d.p.tunnel_depth == 0);
}

TEST_CASE("decode: link types are the DLT values libpcap reports", "[decode][l2]") {
  for (const int t : {dlt::kNull, dlt::kEthernet, dlt::kFddi, dlt::kRaw, dlt::kRawOpenBsd, dlt::kLoop, dlt::kIeee80211,
                      dlt::kLinuxSll, dlt::kRadiotap, dlt::kIpv4, dlt::kIpv6, dlt::kLinuxSll2, dlt::kPpp,
                      dlt::kPppSerial, dlt::kPppEther, dlt::kNflog, dlt::kPktap})
    CHECK(link_type_supported(t));
  CHECK_FALSE(link_type_supported(101));  // LINKTYPE_RAW: libpcap hands out DLT_RAW instead
  CHECK_FALSE(link_type_supported(9999));
  CHECK_FALSE(link_type_supported(104));  // Cisco HDLC: only inside PPP_SERIAL
#ifdef __APPLE__
  CHECK(link_type_supported(dlt::kPktapApple));
#else
  CHECK_FALSE(link_type_supported(dlt::kPktapApple));  // DLT_USER2 off Apple systems
#endif
  const Run d = run(9999, lab_udp4());
  CHECK(d.r == Decoded::dropped);
}

TEST_CASE("decode: 802.1Q tag: the VLAN id is the low 12 bits of the TCI", "[decode][vlan]") {
  // TCI 0x6064: PCP 3, DEI 0, VID 100.
  const Run d = run(dlt::kEthernet, cat({eth(kEtherIpv4, {{0x8100, 0x6064}}), lab_udp4()}));
  check_lab_v4(d);
  CHECK(d.p.vlan_count == 1);
  CHECK(d.p.vlan[0] == 100);
}

TEST_CASE("decode: QinQ (802.1ad 0x88a8 outer + 802.1Q inner), outermost first", "[decode][vlan]") {
  const Run d = run(dlt::kEthernet, cat({eth(kEtherIpv6, {{0x88A8, 200}, {0x8100, 100}}), lab_udp6()}));
  check_lab_v6(d);
  REQUIRE(d.p.vlan_count == 2);
  CHECK(d.p.vlan[0] == 200);
  CHECK(d.p.vlan[1] == 100);

  // The pre-standard 0x9100 outer TPID is read the same way.
  const Run old = run(dlt::kEthernet, cat({eth(kEtherIpv4, {{0x9100, 0x0FFF}, {0x8100, 1}}), lab_udp4()}));
  check_lab_v4(old);
  CHECK(old.p.vlan[0] == 4095);
  CHECK(old.p.vlan[1] == 1);
}

TEST_CASE("decode: three VLAN tags are read, a fourth drops the frame", "[decode][vlan]") {
  const Run three = run(dlt::kEthernet, cat({eth(kEtherIpv4, {{0x88A8, 10}, {0x8100, 20}, {0x8100, 30}}), lab_udp4()}));
  check_lab_v4(three);
  REQUIRE(three.p.vlan_count == 3);
  CHECK(three.p.vlan[2] == 30);

  const Run four =
      run(dlt::kEthernet, cat({eth(kEtherIpv4, {{0x88A8, 10}, {0x8100, 20}, {0x8100, 30}, {0x8100, 40}}), lab_udp4()}));
  CHECK(four.r == Decoded::dropped);
  CHECK(four.c.get(Counter::l2_too_many_vlan_tags) == 1);
  CHECK(four.c.get(Counter::dns_messages) == 0);
}

TEST_CASE("decode: short and non-IP Ethernet frames", "[decode][l2]") {
  const Run tiny = run(dlt::kEthernet, hex("02000a140035 02000a14010b 08"));  // 13 octets
  CHECK(tiny.r == Decoded::dropped);
  CHECK(tiny.c.get(Counter::l2_truncated) == 1);

  // A VLAN tag cut after its TPID.
  const Run cut = run(dlt::kEthernet, hex("02000a140035 02000a14010b 8100 0064"));
  CHECK(cut.c.get(Counter::l2_truncated) == 1);

  // ARP request (who-has 10.20.0.53 tell 10.20.1.11).
  const Run arp = run(dlt::kEthernet, cat({eth(kEtherArp), hex("0001 0800 06 04 0001 02000a14010b 0a14010b"
                                                               "000000000000 0a140035")}));
  CHECK(arp.r == Decoded::dropped);
  CHECK(arp.c.get(Counter::l2_not_ip) == 1);
}

TEST_CASE("decode: Linux cooked capture v1 (SLL)", "[decode][l2]") {
  const Octets sll4 = hex(
      "0004"              // packet type: sent by us (outgoing)
      "0001"              // ARPHRD_ETHER
      "0006"              // link-layer address length
      "02000a14010b 0000" // address, padded to 8 octets
      "0800");            // protocol: IPv4
  check_lab_v4(run(dlt::kLinuxSll, cat({sll4, lab_udp4()})));

  const Octets sll6 = hex("0000 0001 0006 02000a140035 0000 86dd");  // to us, IPv6
  check_lab_v6(run(dlt::kLinuxSll, cat({sll6, lab_udp6()})));

  // Loopback: ARPHRD_LOOPBACK (772), zero address, IPv4.
  const Octets lo = hex("0000 0304 0006 000000000000 0000 0800");
  check_lab_v4(run(dlt::kLinuxSll, cat({lo, lab_udp4()})));

  const Run short_hdr = run(dlt::kLinuxSll, hex("0000 0001 0006 02000a14"));
  CHECK(short_hdr.c.get(Counter::l2_truncated) == 1);
}

TEST_CASE("decode: Linux cooked capture v2 (SLL2)", "[decode][l2]") {
  const Octets sll2 = hex(
      "0800"              // protocol: IPv4
      "0000"              // reserved
      "00000003"          // interface index
      "0001"              // ARPHRD_ETHER
      "04"                // packet type: outgoing
      "06"                // address length
      "02000a14010b 0000"); // address, padded to 8 octets
  check_lab_v4(run(dlt::kLinuxSll2, cat({sll2, lab_udp4()})));
  const Octets sll2_v6 = hex("86dd 0000 00000003 0001 00 06 02000a140035 0000");
  check_lab_v6(run(dlt::kLinuxSll2, cat({sll2_v6, lab_udp6()})));
  // An 802.1Q tag left in the stream (protocol 0x8100).
  const Run tagged = run(dlt::kLinuxSll2, cat({hex("8100 0000 00000003 0001 00 06 02000a14010b 0000 0064 0800"), lab_udp4()}));
  check_lab_v4(tagged);
  CHECK(tagged.p.vlan[0] == 100);
}

TEST_CASE("decode: raw IP link types (DLT_RAW 12 and 14, LINKTYPE_IPV4/IPV6)", "[decode][l2]") {
  check_lab_v4(run(dlt::kRaw, lab_udp4()));
  check_lab_v4(run(dlt::kRawOpenBsd, lab_udp4()));
  check_lab_v4(run(dlt::kIpv4, lab_udp4()));
  check_lab_v6(run(dlt::kRaw, lab_udp6()));
  check_lab_v6(run(dlt::kIpv6, lab_udp6()));

  const Run empty = run(dlt::kRaw, {});
  CHECK(empty.c.get(Counter::l2_truncated) == 1);
  const Run v5 = run(dlt::kRaw, hex("5000 0000"));  // version nibble 5
  CHECK(v5.c.get(Counter::l2_not_ip) == 1);
}

TEST_CASE("decode: BSD NULL and LOOP headers in either byte order", "[decode][l2]") {
  check_lab_v4(run(dlt::kNull, cat({hex("02000000"), lab_udp4()})));  // AF_INET, little-endian host
  check_lab_v4(run(dlt::kNull, cat({hex("00000002"), lab_udp4()})));  // AF_INET, big-endian host
  check_lab_v4(run(dlt::kLoop, cat({hex("00000002"), lab_udp4()})));  // LOOP: network order
  check_lab_v6(run(dlt::kNull, cat({hex("18000000"), lab_udp6()})));  // AF_INET6 = 24 (NetBSD/OpenBSD)
  check_lab_v6(run(dlt::kNull, cat({hex("1c000000"), lab_udp6()})));  // AF_INET6 = 28 (FreeBSD)
  check_lab_v6(run(dlt::kNull, cat({hex("1e000000"), lab_udp6()})));  // AF_INET6 = 30 (macOS)
  check_lab_v6(run(dlt::kLoop, cat({hex("00000018"), lab_udp6()})));

  const Run not_ip = run(dlt::kNull, hex("02000000 00112233"));
  CHECK(not_ip.c.get(Counter::l2_not_ip) == 1);
  const Run cut = run(dlt::kNull, hex("02000000"));
  CHECK(cut.c.get(Counter::l2_truncated) == 1);
}

TEST_CASE("decode: FDDI with 802.2 LLC/SNAP", "[decode][l2]") {
  const Octets fddi = hex(
      "50"              // frame control: asynchronous LLC frame
      "02000a140035"    // destination
      "02000a14010b");  // source
  check_lab_v4(run(dlt::kFddi, cat({fddi, llc_snap(kEtherIpv4), lab_udp4()})));
  check_lab_v6(run(dlt::kFddi, cat({fddi, llc_snap(kEtherIpv6), lab_udp6()})));
  // LLC without SNAP (DSAP 0x42, spanning tree) is not IP.
  const Run stp = run(dlt::kFddi, cat({fddi, hex("424203 0000 0000 00")}));
  CHECK(stp.c.get(Counter::l2_not_ip) == 1);
}

namespace {
// 802.11 MAC header for a data frame: frame control, duration, three addresses, sequence.
Octets wifi(std::uint8_t fc0, std::uint8_t flags) {
  Wire w;
  w.u8(fc0).u8(flags);                             // frame control: type/subtype, flags
  w.u16(0x2c00);                                   // duration
  w.bytes({0x02, 0x00, 0x0a, 0x14, 0x01, 0x0b});   // address 1 (receiver)
  w.bytes({0x02, 0x00, 0x0a, 0x14, 0x00, 0x01});   // address 2 (BSSID / transmitter)
  w.bytes({0x02, 0x00, 0x0a, 0x14, 0x00, 0x35});   // address 3
  w.u16(0x1230);                                   // sequence control
  return w.b;
}
}  // namespace

TEST_CASE("decode: 802.11 data frames (plain, QoS, QoS+HT control, four addresses)", "[decode][l2]") {
  // Data (type 2, subtype 0), FromDS.
  check_lab_v4(run(dlt::kIeee80211, cat({wifi(0x08, 0x02), llc_snap(kEtherIpv4), lab_udp4()})));
  // QoS data (subtype 8), ToDS: two octets of QoS control before LLC.
  check_lab_v4(run(dlt::kIeee80211, cat({wifi(0x88, 0x01), hex("0000"), llc_snap(kEtherIpv4), lab_udp4()})));
  // QoS data with the Order flag (0x80): four more octets of HT control.
  check_lab_v6(
      run(dlt::kIeee80211, cat({wifi(0x88, 0x81), hex("0600"), hex("0000000c"), llc_snap(kEtherIpv6), lab_udp6()})));
  // ToDS + FromDS (WDS): a fourth address.
  check_lab_v4(
      run(dlt::kIeee80211, cat({wifi(0x08, 0x03), hex("02000a140099"), llc_snap(kEtherIpv4), lab_udp4()})));
}

TEST_CASE("decode: 802.11 frames that carry no readable IP", "[decode][l2]") {
  // Protected (WPA) data frame.
  CHECK(run(dlt::kIeee80211, cat({wifi(0x08, 0x42), llc_snap(kEtherIpv4), lab_udp4()})).c.get(Counter::l2_not_ip) == 1);
  // Null function (subtype 4): no data.
  CHECK(run(dlt::kIeee80211, wifi(0x48, 0x01)).c.get(Counter::l2_not_ip) == 1);
  // Beacon (management).
  CHECK(run(dlt::kIeee80211, cat({wifi(0x80, 0x00), Octets(40, 0)})).c.get(Counter::l2_not_ip) == 1);
  // Shorter than a data header.
  CHECK(run(dlt::kIeee80211, hex("0802 0000 02000a14010b")).c.get(Counter::l2_truncated) == 1);
}

TEST_CASE("decode: radiotap in front of 802.11", "[decode][l2]") {
  const Octets rt8 = hex(
      "00"         // version
      "00"         // pad
      "0800"       // length 8, little-endian
      "00000000"); // present flags: nothing
  check_lab_v4(run(dlt::kRadiotap, cat({rt8, wifi(0x08, 0x02), llc_snap(kEtherIpv4), lab_udp4()})));

  // 18 octets: present = flags (0x02), rate (0x04), channel (0x08), antenna signal (0x20);
  // flags 0, rate 1 Mb/s, channel 2412 MHz (flags 0x00a0), -42 dBm, padding.
  const Octets rt18 = hex("00 00 1200 2e000000" "00 02 6c09 a000 d6" "000000");
  REQUIRE(rt18.size() == 18);
  check_lab_v6(run(dlt::kRadiotap, cat({rt18, wifi(0x88, 0x01), hex("0000"), llc_snap(kEtherIpv6), lab_udp6()})));

  // A radiotap length past the frame, and one below the 8-octet minimum.
  CHECK(run(dlt::kRadiotap, hex("0000 ff00 00000000 0802")).c.get(Counter::l2_truncated) == 1);
  CHECK(run(dlt::kRadiotap, hex("0000 0400 00000000 0802")).c.get(Counter::l2_truncated) == 1);
}

// ------------------------------------------------------------------------------------- IPv4

TEST_CASE("decode: IPv4 with options: the payload starts after IHL*4", "[decode][ipv4]") {
  // Router Alert (RFC 2113): type 0x94, length 4, value 0.
  const Octets ip = lab_udp4(Ipv4{.src = "10.20.1.11", .dst = "10.20.0.53", .options = hex("94040000")});
  REQUIRE(ip[0] == 0x46);  // IHL 6
  check_lab_v4(run(dlt::kRaw, ip));
  // 40 octets of options: NOPs and an EOL (IHL 15).
  Octets opts(39, 0x01);
  opts.push_back(0x00);
  const Octets ip15 = lab_udp4(Ipv4{.src = "10.20.1.11", .dst = "10.20.0.53", .options = opts});
  REQUIRE(ip15[0] == 0x4F);
  check_lab_v4(run(dlt::kRaw, ip15));
}

TEST_CASE("decode: bad IPv4 header lengths", "[decode][ipv4]") {
  // IHL 4 (16 octets): below the minimum.
  const Run ihl4 = run(dlt::kRaw, lab_udp4(Ipv4{.ihl = 4}));
  CHECK(ihl4.r == Decoded::dropped);
  CHECK(ihl4.c.get(Counter::ipv4_bad_header) == 1);
  // Total length smaller than the header.
  CHECK(run(dlt::kRaw, lab_udp4(Ipv4{.total_length = 19})).c.get(Counter::ipv4_bad_header) == 1);
  // IHL 15 (60 octets) but only 40 octets captured.
  const Run cut = run(dlt::kRaw, Ipv4{.total_length = 60, .ihl = 15}.build(Octets(20, 0)));
  CHECK(cut.c.get(Counter::ipv4_truncated) == 1);
  // Fewer than 20 octets.
  CHECK(run(dlt::kRaw, hex("4500 0014 0000 0000 4011")).c.get(Counter::ipv4_truncated) == 1);
}

TEST_CASE("decode: IPv4 total length beyond the captured data counts ip_snaplen_cut", "[decode][ipv4]") {
  // A UDP datagram goes on with what was captured, marked cut (tests/unit/sensor/test_cut.cpp).
  const Run d = run(dlt::kRaw, lab_udp4(Ipv4{.total_length = 1500}));
  CHECK(d.r == Decoded::dns);
  CHECK(d.c.get(Counter::ip_snaplen_cut) == 1);
  CHECK(d.c.get(Counter::ipv4_truncated) == 0);
  // A TCP segment is dropped.
  const Run t = run(dlt::kRaw, Ipv4{.proto = kProtoTcp, .total_length = 1500}.build(tcp(53, 40000, 1, 1, tcpflag::ACK, Octets(8, 0))));
  CHECK(t.r == Decoded::dropped);
  CHECK(t.c.get(Counter::ip_snaplen_cut) == 1);
}

TEST_CASE("decode: Ethernet padding is cut off by the IPv4 total length", "[decode][ipv4]") {
  // A pure ACK (IPv4 20 + TCP 20) is 54 octets with Ethernet: padded to the 60-octet minimum.
  Octets frame = cat({eth(kEtherIpv4), Ipv4{.proto = kProtoTcp}.build(tcp(53, 40000, 1000, 2000, tcpflag::ACK, {}))});
  REQUIRE(frame.size() == 54);
  frame.resize(60, 0x00);
  const Run d = run(dlt::kEthernet, frame);
  REQUIRE(d.r == Decoded::dns);
  CHECK(d.p.proto == kProtoTcp);
  CHECK(d.p.payload.empty());  // not the 6 padding octets

  // A root NS query (`dig . NS +noedns`, 17 octets) in a 60-octet frame: 1 octet of padding.
  const Octets root_ns = hex("1d6e 0100 0001 0000 0000 0000 00 0002 0001");
  Octets f2 = cat({eth(kEtherIpv4), Ipv4{}.build(udp(5353, 53, root_ns))});
  f2.push_back(0xAB);
  const Run d2 = run(dlt::kEthernet, f2);
  REQUIRE(d2.r == Decoded::dns);
  CHECK(payload_of(d2) == root_ns);
}

TEST_CASE("decode: a bad IPv4 header checksum is counted, the packet still processed", "[decode][ipv4]") {
  const Run d = run(dlt::kRaw, lab_udp4(Ipv4{.src = "10.20.1.11", .dst = "10.20.0.53", .bad_checksum = true}));
  REQUIRE(d.r == Decoded::dns);
  CHECK(d.c.get(Counter::ipv4_bad_checksum) == 1);
  CHECK(payload_of(d) == kLabQuery);
  // With options the checksum covers them too: a correct one counts nothing.
  CHECK(run(dlt::kRaw, lab_udp4(Ipv4{.options = hex("94040000")})).c.get(Counter::ipv4_bad_checksum) == 0);
}

TEST_CASE("decode: IPv4 fragments are handed over undecoded", "[decode][ipv4][frag]") {
  const Octets dgram = udp(53, 34007, kLabResponse);
  const Octets first(dgram.begin(), dgram.begin() + 48);
  const Run a = run(dlt::kRaw, Ipv4{.id = 0xBEEF, .mf = true}.build(first));
  REQUIRE(a.r == Decoded::fragment);
  CHECK(a.p.fragment);
  CHECK(a.p.more_fragments);
  CHECK(a.p.frag_offset == 0);
  CHECK(a.p.frag_id == 0xBEEF);
  CHECK(a.p.proto == kProtoUdp);
  CHECK(a.p.sport == 0);  // the UDP header is not decoded from a fragment
  CHECK(payload_of(a) == first);

  const Octets rest(dgram.begin() + 48, dgram.end());
  const Run b = run(dlt::kRaw, Ipv4{.id = 0xBEEF, .frag_offset = 48}.build(rest));
  REQUIRE(b.r == Decoded::fragment);
  CHECK_FALSE(b.p.more_fragments);
  CHECK(b.p.frag_offset == 48);
  CHECK(payload_of(b) == rest);
}

// ------------------------------------------------------------------------------------- IPv6

TEST_CASE("decode: IPv6 with hop-by-hop and destination options", "[decode][ipv6]") {
  const Octets pkt = Ipv6{.src = "fd20::1:10", .dst = "fd20::53", .next = 0}.build(cat({
      ext_options(60),         // hop-by-hop, 8 octets -> destination options
      ext_options(17, 1),      // destination options, 16 octets -> UDP
      udp(41000, 53, kLabQuery)}));
  check_lab_v6(run(dlt::kRaw, pkt));
  // Routing header (43) type 0 with no addresses left.
  const Octets rt = Ipv6{.src = "fd20::1:10", .dst = "fd20::53", .next = 43}.build(
      cat({hex("11 00 00 00 00000000"), udp(41000, 53, kLabQuery)}));
  check_lab_v6(run(dlt::kRaw, rt));
}

TEST_CASE("decode: IPv6 authentication header", "[decode][ipv6]") {
  const Octets pkt = Ipv6{.src = "fd20::1:10", .dst = "fd20::53", .next = 51}.build(
      cat({ext_ah(17, 12), udp(41000, 53, kLabQuery)}));  // AH with a 12-octet ICV: 24 octets
  check_lab_v6(run(dlt::kRaw, pkt));
}

TEST_CASE("decode: IPv6 fragment header: first, non-first and atomic fragments", "[decode][ipv6][frag]") {
  const Octets dgram = udp(53, 41000, kLabResponse);
  const Octets head(dgram.begin(), dgram.begin() + 64);
  const Run first = run(dlt::kRaw, Ipv6{.next = 0}.build(cat({ext_options(44), ext_fragment(17, 0, true, 0xdeadbeef), head})));
  REQUIRE(first.r == Decoded::fragment);
  CHECK(first.p.fragment);
  CHECK(first.p.more_fragments);
  CHECK(first.p.frag_offset == 0);
  CHECK(first.p.frag_id == 0xdeadbeef);
  CHECK(first.p.proto == kProtoUdp);
  CHECK(payload_of(first) == head);

  const Octets tail(dgram.begin() + 64, dgram.end());
  const Run second = run(dlt::kRaw, Ipv6{.next = 44}.build(cat({ext_fragment(17, 64, false, 0xdeadbeef), tail})));
  REQUIRE(second.r == Decoded::fragment);
  CHECK_FALSE(second.p.more_fragments);
  CHECK(second.p.frag_offset == 64);
  CHECK(payload_of(second) == tail);

  // Atomic fragment (RFC 6946): offset 0 and M=0 is a whole packet.
  const Run atomic = run(dlt::kRaw, Ipv6{.src = "fd20::1:10", .dst = "fd20::53", .next = 44}.build(
                                        cat({ext_fragment(17, 0, false, 7), udp(41000, 53, kLabQuery)})));
  check_lab_v6(atomic);
  CHECK_FALSE(atomic.p.fragment);
}

TEST_CASE("decode: IPv6 extension chains: 8 headers walked, 9 given up, overruns counted", "[decode][ipv6]") {
  const auto chain = [](int n) {
    Octets ext;
    for (int i = 0; i < n; ++i) ext = cat({ext, ext_options(i + 1 == n ? 17 : 60)});
    return Ipv6{.src = "fd20::1:10", .dst = "fd20::53", .next = 60}.build(cat({ext, udp(41000, 53, kLabQuery)}));
  };
  check_lab_v6(run(dlt::kRaw, chain(8)));
  const Run nine = run(dlt::kRaw, chain(9));
  CHECK(nine.r == Decoded::dropped);
  CHECK(nine.c.get(Counter::ipv6_bad_extension) == 1);

  // Destination options claiming 64 octets in a 16-octet payload.
  const Run over = run(dlt::kRaw, Ipv6{.next = 60}.build(hex("11 07 0000 00000000 0000000000000000")));
  CHECK(over.c.get(Counter::ipv6_bad_extension) == 1);
}

TEST_CASE("decode: IPv6 payload length: zero, beyond the data, and trailing padding", "[decode][ipv6]") {
  CHECK(run(dlt::kRaw, Ipv6{.payload_length = 0}.build(udp(1, 53, kLabQuery))).c.get(Counter::ipv6_truncated) == 1);
  CHECK(run(dlt::kRaw, Ipv6{.payload_length = 1000}.build(udp(1, 53, kLabQuery))).c.get(Counter::ip_snaplen_cut) == 1);
  CHECK(run(dlt::kRaw, hex("6000 0000 0008 1140")).c.get(Counter::ipv6_truncated) == 1);
  // Octets after the payload length are not part of the packet.
  Octets pkt = Ipv6{.next = kProtoTcp}.build(tcp(53, 40000, 1, 2, tcpflag::ACK, {}));
  pkt.insert(pkt.end(), {0xde, 0xad, 0xbe, 0xef});
  const Run d = run(dlt::kRaw, pkt);
  REQUIRE(d.r == Decoded::dns);
  CHECK(d.p.payload.empty());
}

// -------------------------------------------------------------------------------- UDP / TCP

TEST_CASE("decode: UDP length field", "[decode][udp]") {
  // Longer than the IP payload.
  const Run big = run(dlt::kRaw, Ipv4{}.build(udp(34007, 53, kLabQuery, 500)));
  CHECK(big.r == Decoded::dropped);
  CHECK(big.c.get(Counter::udp_bad_length) == 1);
  // Below the 8-octet header.
  CHECK(run(dlt::kRaw, Ipv4{}.build(udp(34007, 53, kLabQuery, 7))).c.get(Counter::udp_bad_length) == 1);
  // Shorter than the IP payload: the UDP length wins.
  const Run shorter = run(dlt::kRaw, Ipv4{}.build(udp(34007, 53, kLabQuery, 8 + 12)));
  REQUIRE(shorter.r == Decoded::dns);
  CHECK(payload_of(shorter) == Octets(kLabQuery.begin(), kLabQuery.begin() + 12));
  // Fewer than 8 octets of UDP header.
  CHECK(run(dlt::kRaw, Ipv4{}.build(hex("84d7 0035 00"))).c.get(Counter::l4_truncated) == 1);
}

TEST_CASE("decode: TCP header with options; data offset bounds", "[decode][tcp]") {
  const Octets opts = hex(
      "020405b4"                     // MSS 1460
      "0101"                         // NOP NOP
      "080a 0001e240 00000000");     // timestamps
  const Octets msg = framed(kLabQuery);
  const Run d = run(dlt::kRaw, Ipv4{.proto = kProtoTcp}.build(
                                   tcp(40000, 53, 0x01020304, 0xa0b0c0d0, tcpflag::PSH | tcpflag::ACK, msg, opts)));
  REQUIRE(d.r == Decoded::dns);
  CHECK(d.p.proto == kProtoTcp);
  CHECK(d.p.sport == 40000);
  CHECK(d.p.dport == 53);
  CHECK(d.p.seq == 0x01020304);
  CHECK(d.p.ack == 0xa0b0c0d0);
  CHECK(d.p.tcp_flags == (tcpflag::PSH | tcpflag::ACK));
  CHECK(payload_of(d) == msg);

  // Data offset 4 (16 octets) is below the minimum.
  Octets bad = tcp(40000, 53, 1, 2, tcpflag::ACK, msg);
  bad[12] = 0x40;
  CHECK(run(dlt::kRaw, Ipv4{.proto = kProtoTcp}.build(bad)).c.get(Counter::l4_truncated) == 1);
  // Data offset 15 (60 octets) in a 24-octet segment.
  Octets over = tcp(40000, 53, 1, 2, tcpflag::ACK, hex("00000000"));
  over[12] = 0xF0;
  CHECK(run(dlt::kRaw, Ipv4{.proto = kProtoTcp}.build(over)).c.get(Counter::l4_truncated) == 1);
  // Fewer than 20 octets.
  CHECK(run(dlt::kRaw, Ipv4{.proto = kProtoTcp}.build(hex("9c40 0035 00000001"))).c.get(Counter::l4_truncated) == 1);
}

TEST_CASE("decode: other IP protocols are counted", "[decode]") {
  // ICMP echo request.
  const Run icmp = run(dlt::kRaw, Ipv4{.proto = 1}.build(hex("0800 f7ff 0000 0000")));
  CHECK(icmp.r == Decoded::dropped);
  CHECK(icmp.c.get(Counter::other_protocol) == 1);
  CHECK(icmp.p.proto == 1);
}

// ----------------------------------------------------------------------------------- tunnels

namespace {
// GRE header (RFC 2784/2890): flags|version, protocol, then checksum/key/sequence as flagged.
Octets gre(std::uint16_t flags, std::uint16_t proto) {
  Wire w;
  w.u16(flags).u16(proto);                    // C|R|K|S flags and version, protocol type
  if (flags & 0x8000) w.u16(0x1234).u16(0);   // checksum, reserved
  if (flags & 0x2000) w.u32(0x0000abcd);      // key
  if (flags & 0x1000) w.u32(42);              // sequence number
  return w.b;
}
// The outer IPv4 packet of a tunnel between two routers.
Octets outer(std::uint8_t proto, const Octets& payload) {
  return Ipv4{.src = "198.51.100.1", .dst = "198.51.100.2", .proto = proto, .id = 7}.build(payload);
}
}  // namespace

TEST_CASE("decode: GRE carrying IPv4, with and without checksum/key/sequence", "[decode][tunnel]") {
  for (const int flags : {0x0000, 0x2000, 0x3000, 0xB000}) {
    INFO("GRE flags " << flags);
    const Run d = run(dlt::kEthernet, cat({eth(kEtherIpv4), outer(kProtoGre, cat({gre(static_cast<std::uint16_t>(flags), 0x0800), lab_udp4()}))}));
    check_lab_v4(d, 1);
  }
  // IPv6 inside GRE.
  const Run v6 = run(dlt::kRaw, outer(kProtoGre, cat({gre(0x2000, 0x86DD), lab_udp6()})));
  check_lab_v6(v6);
  // GRE versions 2-7 are unassigned (version 1, PPTP's, has its own test case).
  const Run v2 = run(dlt::kRaw, outer(kProtoGre, cat({hex("0002 0800"), lab_udp4()})));
  CHECK(v2.c.get(Counter::other_protocol) == 1);
  // Cut inside the key field.
  CHECK(run(dlt::kRaw, outer(kProtoGre, hex("2000 0800 0000"))).c.get(Counter::l4_truncated) == 1);
}

TEST_CASE("decode: GRE transparent Ethernet bridging (0x6558) with an inner VLAN", "[decode][tunnel]") {
  const Run d = run(dlt::kRaw, outer(kProtoGre, cat({gre(0x0000, 0x6558), eth(kEtherIpv4, {{0x8100, 77}}), lab_udp4()})));
  REQUIRE(d.r == Decoded::dns);
  CHECK(d.p.src == addr("10.20.1.11"));
  CHECK(d.p.vlan_count == 1);
  CHECK(d.p.vlan[0] == 77);
  CHECK(payload_of(d) == kLabQuery);
}

TEST_CASE("decode: ERSPAN type I, II and III", "[decode][tunnel]") {
  const Octets inner = cat({eth(kEtherIpv4), lab_udp4()});
  // Type I: GRE 0x88BE without a sequence number, Ethernet right after GRE.
  check_lab_v4(run(dlt::kRaw, outer(kProtoGre, cat({gre(0x0000, 0x88BE), inner}))), 1);
  // Type II: GRE with S, then the 8-octet ERSPAN II header.
  const Octets erspan2 = hex(
      "1064"         // version 1, VLAN 100
      "0001"         // COS 0, En 0, T 0, session id 1
      "00000005");   // reserved, index 5
  REQUIRE(erspan2.size() == 8);
  const Run d2 = run(dlt::kRaw, outer(kProtoGre, cat({gre(0x1000, 0x88BE), erspan2, inner})));
  REQUIRE(d2.r == Decoded::dns);
  CHECK(payload_of(d2) == kLabQuery);
  CHECK(d2.p.src == addr("10.20.1.11"));
  // Type III: GRE 0x22EB, the 12-octet header; O=0.
  const Octets erspan3 = hex(
      "2064 0001"    // version 2, VLAN 100; COS, BSO, T, session 1
      "5f3a9c10"     // timestamp
      "0000 0000");  // SGT, P|FT|HW ID|D|Gra|O=0
  const Run d3 = run(dlt::kRaw, outer(kProtoGre, cat({gre(0x1000, 0x22EB), erspan3, inner})));
  REQUIRE(d3.r == Decoded::dns);
  CHECK(payload_of(d3) == kLabQuery);
  // Type III with O=1: an 8-octet platform-specific sub-header follows.
  const Octets erspan3o = hex("2064 0001 5f3a9c10 0000 0001 0000000000000003");
  const Run d4 = run(dlt::kRaw, outer(kProtoGre, cat({gre(0x1000, 0x22EB), erspan3o, inner})));
  REQUIRE(d4.r == Decoded::dns);
  CHECK(payload_of(d4) == kLabQuery);
  // ERSPAN II cut inside its header.
  CHECK(run(dlt::kRaw, outer(kProtoGre, cat({gre(0x1000, 0x88BE), hex("1064")}))).c.get(Counter::l4_truncated) == 1);
}

TEST_CASE("decode: VXLAN (UDP 4789) carrying Ethernet", "[decode][tunnel]") {
  const Octets vxlan = hex(
      "08 000000"    // flags: I (VNI valid), reserved
      "001234 00");  // VNI 0x1234, reserved
  const Run d = run(dlt::kEthernet, cat({eth(kEtherIpv4), outer(kProtoUdp, udp(51000, 4789, cat({vxlan, eth(kEtherIpv6), lab_udp6()})))}));
  check_lab_v6(d);
  CHECK(d.p.tunnel_depth == 1);
  CHECK(d.c.get(Counter::tunnel_decapsulated) == 1);

  // Without the I flag it is not VXLAN: an ordinary UDP packet to port 4789.
  const Octets not_vxlan = cat({hex("00000000 00123400"), Octets(20, 0)});
  const Run u = run(dlt::kRaw, outer(kProtoUdp, udp(51000, 4789, not_vxlan)));
  REQUIRE(u.r == Decoded::dns);
  CHECK(u.p.dport == 4789);
  CHECK(u.p.tunnel_depth == 0);
  CHECK(payload_of(u) == not_vxlan);
}

TEST_CASE("decode: GRE in UDP (RFC 8086, port 4754)", "[decode][tunnel]") {
  check_lab_v4(run(dlt::kRaw, outer(kProtoUdp, udp(50000, 4754, cat({gre(0, 0x0800), lab_udp4()})))), 1);
}

TEST_CASE("decode: tunnels nest up to kMaxTunnelDepth", "[decode][tunnel]") {
  const auto nest = [](int depth) {
    Octets pkt = lab_udp4();
    for (int i = 0; i < depth; ++i) pkt = outer(kProtoGre, cat({gre(0, 0x0800), pkt}));
    return pkt;
  };
  const Run three = run(dlt::kRaw, nest(3));
  REQUIRE(three.r == Decoded::dns);
  CHECK(three.p.tunnel_depth == 3);
  CHECK(three.c.get(Counter::tunnel_decapsulated) == 3);
  CHECK(payload_of(three) == kLabQuery);

  const Run four = run(dlt::kRaw, nest(4));
  CHECK(four.r == Decoded::dropped);
  CHECK(four.c.get(Counter::tunnel_too_deep) == 1);
}

TEST_CASE("decode: an IPv4 fragment inside a tunnel is reported with the inner addresses", "[decode][tunnel][frag]") {
  const Octets dgram = udp(53, 34007, kLabResponse);
  const Octets head(dgram.begin(), dgram.begin() + 48);
  const Run d = run(dlt::kRaw, outer(kProtoGre, cat({gre(0, 0x0800),
                                                     Ipv4{.src = "10.20.0.53", .dst = "10.20.1.11", .id = 99, .mf = true}.build(head)})));
  REQUIRE(d.r == Decoded::fragment);
  CHECK(d.p.src == addr("10.20.0.53"));
  CHECK(d.p.frag_id == 99);
  CHECK(payload_of(d) == head);
}

TEST_CASE("decode: the packet inside a tunnel has its own VLAN tags", "[decode][tunnel][vlan]") {
  // decode.cpp tunnel(): "The inner packet starts afresh: its own VLAN tags and addresses."
  // Outer frame: one 802.1Q tag (VLAN 10); VXLAN; inner frame: three tags of its own (the
  // most one frame may carry). The inner frame alone is within kMaxVlanTags.
  const Octets vxlan = hex("08000000 00000100");
  const Run d = run(dlt::kEthernet,
                    cat({eth(kEtherIpv4, {{0x8100, 10}}),
                         outer(kProtoUdp, udp(51000, 4789, cat({vxlan, eth(kEtherIpv4, {{0x88A8, 1}, {0x8100, 2}, {0x8100, 3}}), lab_udp4()})))}));
  INFO("counters: " << nonzero(d.c));
  CHECK(d.r == Decoded::dns);
  CHECK(d.c.get(Counter::l2_too_many_vlan_tags) == 0);
}

// ----------------------------------------------------------------- PPP, PPPoE, NFLOG, PKTAP

namespace {
// The PPP header in front of a packet: HDLC address/control when `acf`, then the protocol
// field in two octets, or one when `pfc` (Protocol-Field-Compression, RFC 1661 §6.5).
Octets ppp(std::uint16_t proto, bool acf = true, bool pfc = false) {
  Wire w;
  if (acf) w.bytes({0xFF, 0x03});                // address (all stations), control (UI)
  if (pfc) w.u8(static_cast<std::uint8_t>(proto)); // protocol, compressed
  else w.u16(proto);                             // protocol
  return w.b;
}
constexpr std::uint16_t kPppIp = 0x0021, kPppIpv6 = 0x0057, kPppLcp = 0xC021;

// PPPoE session header (RFC 2516 §4): VER=1 TYPE=1, CODE 0, SESSION_ID, LENGTH of the PPP frame.
Octets pppoe(std::size_t ppp_len, std::uint8_t code = 0x00, std::uint8_t ver_type = 0x11) {
  Wire w;
  w.u8(ver_type).u8(code);                      // version|type, code (0: session data)
  w.u16(0x2a17);                                // session id
  w.u16(static_cast<std::uint16_t>(ppp_len));   // length
  return w.b;
}

// One NFLOG TLV in this host's byte order (or the other one), padded to 4 octets.
Octets nflog_tlv(std::uint16_t type, const Octets& value, bool swapped = false, bool pad = true, int length = -1) {
  const auto len = static_cast<std::uint16_t>(length >= 0 ? length : static_cast<int>(4 + value.size()));
  std::uint16_t f[2] = {len, type};
  if (swapped)
    for (std::uint16_t& v : f) v = static_cast<std::uint16_t>(v << 8 | v >> 8);
  Octets o(4);
  std::memcpy(o.data(), f, 4);                  // length, type (host order)
  o.insert(o.end(), value.begin(), value.end());
  while (pad && o.size() % 4 != 0) o.push_back(0);
  return o;
}
// NFLOG header: family AF_INET, version 0, resource id (group 5, big-endian); then the TLVs
// the kernel writes for `iptables -j NFLOG --nflog-group 5 --nflog-prefix dns` before the
// payload: packet header (hw protocol 0x0800, hook 3 = OUTPUT), prefix, uid, gid.
Octets nflog_head(bool swapped = false, std::uint8_t version = 0) {
  return cat({hex("02"), Octets{version}, hex("0005"),
              nflog_tlv(1, hex("0800 03 00"), swapped),          // NFULA_PACKET_HDR
              nflog_tlv(10, hex("646e7300"), swapped),           // NFULA_PREFIX "dns"
              nflog_tlv(11, hex("00000000"), swapped),           // NFULA_UID 0
              nflog_tlv(14, hex("00000000"), swapped)});         // NFULA_GID 0
}

// PKTAP header (Apple net/pktap.h, little-endian): pth_length, pth_type_next (1: packet),
// pth_dlt, interface name, flags, protocol family, pre/post lengths, pid, command, ... padded
// with zeros to `len` octets.
Octets pktap(std::uint32_t inner_dlt, std::uint32_t len = 108, std::uint32_t type_next = 1,
             std::size_t size = 0) {
  Octets o(size != 0 ? size : len, 0);
  const auto put = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) o[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  put(0, len);         // pth_length
  put(4, type_next);   // pth_type_next
  put(8, inner_dlt);   // pth_dlt
  std::memcpy(o.data() + 12, "en0", 3);  // pth_ifname
  put(40, 2);          // pth_protocol_family: PF_INET
  put(52, 4242);       // pth_pid
  std::memcpy(o.data() + 56, "dig", 3);  // pth_comm
  return o;
}
}  // namespace

TEST_CASE("decode: PPP (DLT_PPP 9) with and without address/control, with protocol-field compression", "[decode][l2][ppp]") {
  check_lab_v4(run(dlt::kPpp, cat({ppp(kPppIp), lab_udp4()})));                       // FF 03 00 21
  check_lab_v4(run(dlt::kPpp, cat({ppp(kPppIp, false), lab_udp4()})));                // 00 21 (ACFC)
  check_lab_v4(run(dlt::kPpp, cat({ppp(kPppIp, true, true), lab_udp4()})));           // FF 03 21 (PFC)
  check_lab_v4(run(dlt::kPpp, cat({ppp(kPppIp, false, true), lab_udp4()})));          // 21 (both)
  check_lab_v6(run(dlt::kPpp, cat({ppp(kPppIpv6), lab_udp6()})));
  check_lab_v6(run(dlt::kPpp, cat({ppp(kPppIpv6, false, true), lab_udp6()})));

  // LCP (and every other non-IP protocol) is counted like ARP on Ethernet.
  const Run lcp = run(dlt::kPpp, cat({ppp(kPppLcp), hex("01 01 0004")}));
  CHECK(lcp.r == Decoded::dropped);
  CHECK(lcp.c.get(Counter::l2_not_ip) == 1);

  // Malformed: nothing after address/control, an empty frame, a two-octet protocol field whose
  // last octet is even (RFC 1661 §2), one even octet.
  for (const Octets& bad : {hex("ff03"), Octets{}, hex("0020 4500"), hex("00")}) {
    const Run d = run(dlt::kPpp, bad);
    INFO("counters: " << nonzero(d.c));
    CHECK(d.r == Decoded::dropped);
    CHECK(d.c.get(Counter::ppp_bad_header) == 1);
  }
  // A truncated IP packet after a good PPP header is the IP layer's to count.
  const Octets v4 = lab_udp4();
  const Run cut = run(dlt::kPpp, cat({ppp(kPppIp), Octets(v4.begin(), v4.begin() + 12)}));
  CHECK(cut.c.get(Counter::ipv4_truncated) == 1);
}

TEST_CASE("decode: PPP_SERIAL (50): HDLC-like framing and Cisco HDLC", "[decode][l2][ppp]") {
  check_lab_v4(run(dlt::kPppSerial, cat({ppp(kPppIp), lab_udp4()})));
  check_lab_v4(run(dlt::kPppSerial, cat({ppp(kPppIp, true, true), lab_udp4()})));
  // Cisco HDLC (RFC 1547 §4.3.1): address 0x0F unicast / 0x8F broadcast, control 0, EtherType.
  check_lab_v4(run(dlt::kPppSerial, cat({hex("0f00 0800"), lab_udp4()})));
  check_lab_v6(run(dlt::kPppSerial, cat({hex("8f00 86dd"), lab_udp6()})));
  const Run slarp = run(dlt::kPppSerial, cat({hex("8f00 8035"), Octets(20, 0)}));  // SLARP keepalive
  CHECK(slarp.c.get(Counter::l2_not_ip) == 1);

  // HDLC-like framing always starts FF 03 (RFC 1662 §3.1): no other start is valid here.
  for (const Octets& bad : {cat({ppp(kPppIp, false), lab_udp4()}), hex("ff"), hex("ff00 0021"), hex("0f"), Octets{}}) {
    const Run d = run(dlt::kPppSerial, bad);
    INFO("counters: " << nonzero(d.c));
    CHECK(d.r == Decoded::dropped);
    CHECK(d.c.get(Counter::ppp_bad_header) == 1);
  }
}

TEST_CASE("decode: PPPoE sessions (DLT_PPP_ETHER 51, EtherType 0x8864)", "[decode][l2][ppp]") {
  const Octets v4 = cat({ppp(kPppIp, false), lab_udp4()});
  check_lab_v4(run(dlt::kPppEther, cat({pppoe(v4.size()), v4})));
  const Octets v6 = cat({ppp(kPppIpv6, false, true), lab_udp6()});
  check_lab_v6(run(dlt::kPppEther, cat({pppoe(v6.size()), v6})));
  // On Ethernet, with a VLAN tag (as a DSL access network has it) and Ethernet padding after it.
  const Run eth_tagged = run(dlt::kEthernet, cat({eth(0x8864, {{0x8100, 7}}), pppoe(v4.size()), v4, Octets(6, 0)}));
  check_lab_v4(eth_tagged);
  CHECK(eth_tagged.p.vlan[0] == 7);

  // The PPPoE length delimits the PPP frame: one cut into the IP packet leaves it short.
  const Run short_len = run(dlt::kPppEther, cat({pppoe(30), v4}));
  CHECK(short_len.c.get(Counter::ip_snaplen_cut) == 1);
  // Discovery stage (PADI 0x09) carries no IP.
  const Run padi = run(dlt::kPppEther, cat({pppoe(4, 0x09), hex("0101 0000")}));
  CHECK(padi.c.get(Counter::l2_not_ip) == 1);
  // Version/type other than 1/1, and a header cut short.
  for (const Octets& bad : {cat({pppoe(v4.size(), 0x00, 0x21), v4}), hex("1100 2a17 00")}) {
    const Run d = run(dlt::kPppEther, bad);
    INFO("counters: " << nonzero(d.c));
    CHECK(d.r == Decoded::dropped);
    CHECK(d.c.get(Counter::pppoe_bad_header) == 1);
  }
}

TEST_CASE("decode: NFLOG (239): the payload TLV, in either byte order", "[decode][l2][nflog]") {
  check_lab_v4(run(dlt::kNflog, cat({nflog_head(), nflog_tlv(9, lab_udp4())})));
  check_lab_v6(run(dlt::kNflog, cat({nflog_head(), nflog_tlv(9, lab_udp6())})));
  // TLVs after the payload (NFULA_HWHEADER ...) and an unpadded last TLV change nothing.
  check_lab_v4(run(dlt::kNflog, cat({nflog_head(), nflog_tlv(9, lab_udp4()), nflog_tlv(17, hex("0001"))})));
  check_lab_v4(run(dlt::kNflog, cat({nflog_head(), nflog_tlv(9, lab_udp4(), false, false)})));
  // A file from a host of the other byte order that libpcap did not turn around.
  check_lab_v4(run(dlt::kNflog, cat({nflog_head(true), nflog_tlv(9, lab_udp4(), true)})));
  // NLA_F_NET_BYTEORDER / NLA_F_NESTED bits on the type are not part of it.
  check_lab_v4(run(dlt::kNflog, cat({nflog_head(), nflog_tlv(0x4009, lab_udp4())})));

  // The snap length cut the payload TLV: the IP layer counts it.
  const Octets whole = cat({nflog_head(), nflog_tlv(9, lab_udp4())});
  const Run cut = run(dlt::kNflog, Octets(whole.begin(), whole.end() - 20));
  CHECK(cut.c.get(Counter::ip_snaplen_cut) == 1);

  // No payload TLV (--nflog-size 0).
  const Run none = run(dlt::kNflog, nflog_head());
  CHECK(none.r == Decoded::dropped);
  CHECK(none.c.get(Counter::nflog_no_payload) == 1);

  // Malformed: a version other than 0, a header cut short, a TLV length below 4 or past the end
  // in both byte orders, a TLV header cut short.
  for (const Octets& bad : {cat({nflog_head(false, 1), nflog_tlv(9, lab_udp4())}), hex("0200 00"),
                            cat({nflog_head(), nflog_tlv(11, hex("00000000"), false, true, 2), nflog_tlv(9, lab_udp4())}),
                            cat({hex("02000005"), nflog_tlv(11, hex("00000000"), false, true, 0x4141)}),
                            cat({nflog_head(), hex("0800")})}) {
    const Run d = run(dlt::kNflog, bad);
    INFO("counters: " << nonzero(d.c));
    CHECK(d.r == Decoded::dropped);
    CHECK(d.c.get(Counter::nflog_bad_header) == 1);
  }
}

TEST_CASE("decode: PKTAP (258, and 149 as Apple numbers it) around a frame of its own link type", "[decode][l2][pktap]") {
  check_lab_v4(run(dlt::kPktap, cat({pktap(dlt::kEthernet), eth(kEtherIpv4), lab_udp4()})));
  check_lab_v4(run(dlt::kPktapApple, cat({pktap(dlt::kEthernet), eth(kEtherIpv4), lab_udp4()})));
  check_lab_v6(run(dlt::kPktap, cat({pktap(dlt::kNull), hex("1e000000"), lab_udp6()})));  // lo0 / utun: NULL
  check_lab_v4(run(dlt::kPktap, cat({pktap(dlt::kRaw), lab_udp4()})));
  check_lab_v4(run(dlt::kPktap, cat({pktap(dlt::kPpp), ppp(kPppIp), lab_udp4()})));
  // A longer (newer) header: pth_length says where the frame starts.
  check_lab_v4(run(dlt::kPktap, cat({pktap(dlt::kEthernet, 156), eth(kEtherIpv4), lab_udp4()})));

  // Not a packet record.
  const Run none = run(dlt::kPktap, cat({pktap(dlt::kEthernet, 108, 0), eth(kEtherIpv4), lab_udp4()}));
  CHECK(none.c.get(Counter::l2_not_ip) == 1);
  // Inner link types dnsvigil does not decode (Cisco HDLC, a 32-bit value past any DLT).
  for (const std::uint32_t t : {104U, 0xFFFFFFFFU}) {
    const Run d = run(dlt::kPktap, cat({pktap(t), lab_udp4()}));
    CHECK(d.r == Decoded::dropped);
    CHECK(d.c.get(Counter::pktap_unknown_link_type) == 1);
  }
  // Malformed: pth_length below 108, past the frame, a frame shorter than any header, PKTAP
  // inside PKTAP (either number).
  const Octets inner = cat({eth(kEtherIpv4), lab_udp4()});
  for (const Octets& bad : {cat({pktap(dlt::kEthernet, 100, 1, 108), inner}), pktap(dlt::kEthernet, 4000, 1, 200),
                            Octets(60, 0), cat({pktap(dlt::kPktap), pktap(dlt::kEthernet), inner}),
                            cat({pktap(dlt::kPktapApple), pktap(dlt::kEthernet), inner})}) {
    const Run d = run(dlt::kPktap, bad);
    INFO("counters: " << nonzero(d.c));
    CHECK(d.r == Decoded::dropped);
    CHECK(d.c.get(Counter::pktap_bad_header) == 1);
  }
}

// ----------------------------------------------------------------------- PPTP, GTP-U

namespace {
// Enhanced GRE (RFC 2637 §4.1): flags K (+S, +A) and version 1, protocol 0x880B, payload length
// and call id, sequence and acknowledgement numbers as flagged.
Octets gre_pptp(std::size_t payload_len, bool seq = true, bool ack = true, std::uint16_t extra_flags = 0,
                std::uint16_t proto = 0x880B) {
  Wire w;
  w.u16(static_cast<std::uint16_t>(0x2000 | (seq ? 0x1000 : 0) | (ack ? 0x0080 : 0) | extra_flags | 1));  // C R K S s Recur A Flags Ver
  w.u16(proto);                                      // protocol type: PPP
  w.u16(static_cast<std::uint16_t>(payload_len));    // key (high): payload length
  w.u16(0x4001);                                     // key (low): peer's call id
  if (seq) w.u32(17);                                // sequence number
  if (ack) w.u32(16);                                // acknowledgement number
  return w.b;
}

// GTPv1-U header (3GPP TS 29.281 §5.1): flags (version 1, PT 1, E S PN), message type, length
// of what follows the first 8 octets, TEID; `opt`: sequence number, N-PDU number, next
// extension type, and the extension headers.
Octets gtpu(const Octets& payload, std::uint8_t flags = 0x30, std::uint8_t type = 255, const Octets& opt = {},
            int length = -1) {
  Wire w;
  w.u8(flags).u8(type);                                      // flags, message type (255: T-PDU)
  w.u16(static_cast<std::uint16_t>(length >= 0 ? length : static_cast<int>(opt.size() + payload.size())));  // length
  w.u32(0x0000a1b2);                                         // TEID
  w.b.insert(w.b.end(), opt.begin(), opt.end());
  w.b.insert(w.b.end(), payload.begin(), payload.end());
  return w.b;
}
// A UDP datagram between two eNodeB/UPF addresses, to port 2152.
Octets gtp_outer(const Octets& gtp, std::uint16_t sport = 2152) { return outer(kProtoUdp, udp(sport, 2152, gtp)); }
}  // namespace

TEST_CASE("decode: PPTP's enhanced GRE (version 1) carrying PPP", "[decode][tunnel][ppp]") {
  const Octets inner = cat({ppp(kPppIp), lab_udp4()});
  check_lab_v4(run(dlt::kRaw, outer(kProtoGre, cat({gre_pptp(inner.size()), inner}))), 1);
  check_lab_v4(run(dlt::kRaw, outer(kProtoGre, cat({gre_pptp(inner.size(), true, false), inner}))), 1);
  check_lab_v4(run(dlt::kRaw, outer(kProtoGre, cat({gre_pptp(inner.size(), false, true), inner}))), 1);
  // PPP with address/control and protocol fields compressed (as most PPTP peers negotiate it).
  const Octets compressed = cat({ppp(kPppIp, false, true), lab_udp4()});
  check_lab_v4(run(dlt::kEthernet, cat({eth(kEtherIpv4), outer(kProtoGre, cat({gre_pptp(compressed.size()), compressed}))})), 1);
  const Octets v6 = cat({ppp(kPppIpv6), lab_udp6()});
  check_lab_v6(run(dlt::kRaw, outer(kProtoGre, cat({gre_pptp(v6.size()), v6}))));

  // An acknowledgement alone (payload length 0, no sequence number) carries nothing.
  const Run ack = run(dlt::kRaw, outer(kProtoGre, gre_pptp(0, false, true)));
  CHECK(ack.r == Decoded::dropped);
  CHECK(ack.c.get(Counter::l2_not_ip) == 1);
  CHECK(ack.c.get(Counter::gre_pptp_bad_header) == 0);
  // PPP control (LCP echo) inside: counted as not IP, after the tunnel.
  const Octets lcp = cat({ppp(kPppLcp), hex("09 01 0008 00000000")});
  const Run echo = run(dlt::kRaw, outer(kProtoGre, cat({gre_pptp(lcp.size()), lcp})));
  CHECK(echo.c.get(Counter::l2_not_ip) == 1);
  CHECK(echo.c.get(Counter::tunnel_decapsulated) == 1);

  // Malformed: checksum or routing present, no key, not PPP, payload length past the packet,
  // cut inside the key or the acknowledgement number, bad PPP inside.
  const std::vector<std::pair<Octets, Counter>> cases = {
      {cat({gre_pptp(inner.size(), true, true, 0x8000), inner}), Counter::gre_pptp_bad_header},
      {cat({gre_pptp(inner.size(), true, true, 0x4000), inner}), Counter::gre_pptp_bad_header},
      {cat({hex("1081 880b"), hex("00000001 00000000"), inner}), Counter::gre_pptp_bad_header},  // K clear
      {cat({gre_pptp(inner.size(), true, true, 0, 0x0800), inner}), Counter::gre_pptp_bad_header},
      {cat({gre_pptp(inner.size() + 1), inner}), Counter::gre_pptp_bad_header},
      {hex("3081 880b 0040"), Counter::gre_pptp_bad_header},
      {hex("3081 880b 0040 4001 00000011 0000"), Counter::gre_pptp_bad_header},
      {cat({gre_pptp(2), hex("0020")}), Counter::ppp_bad_header},
  };
  for (const auto& [pkt, counter] : cases) {
    const Run d = run(dlt::kRaw, outer(kProtoGre, pkt));
    INFO("counters: " << nonzero(d.c));
    CHECK(d.r == Decoded::dropped);
    CHECK(d.c.get(counter) == 1);
  }
}

TEST_CASE("decode: GTP-U (UDP 2152) T-PDUs carry the user's IP packet", "[decode][tunnel][gtp]") {
  check_lab_v4(run(dlt::kEthernet, cat({eth(kEtherIpv4), gtp_outer(gtpu(lab_udp4()))})), 1);
  check_lab_v6(run(dlt::kRaw, gtp_outer(gtpu(lab_udp6()))));
  // Sequence number present (S): the 4 optional octets follow, next extension type 0.
  check_lab_v4(run(dlt::kRaw, gtp_outer(gtpu(lab_udp4(), 0x32, 255, hex("0101 00 00")))), 1);
  // E: a PDU session container (type 0x85, 4 octets: UL PDU session information, QFI 9), then a
  // PDCP PDU number (0xC0) ending the chain.
  const Octets ext = hex(
      "0000 00 85"     // sequence number, N-PDU number, next extension: PDU session container
      "01 10 09 c0"    // length 1 (4 octets), PDU type 1 (UL), QFI 9, next: PDCP PDU number
      "01 0a 2b 00");  // length 1, PDCP number 0x0a2b, next: none
  check_lab_v4(run(dlt::kRaw, gtp_outer(gtpu(lab_udp4(), 0x34, 255, ext))), 1);
  // Octets after the GTP length (beyond the T-PDU) are not part of it.
  check_lab_v4(run(dlt::kRaw, gtp_outer(cat({gtpu(lab_udp4()), Octets(3, 0xee)}))), 1);

  // Signalling (echo request) is plain UDP on a port that is not DNS.
  const Octets echo = gtpu({}, 0x32, 1, hex("0007 00 00"));
  const Run e = run(dlt::kRaw, gtp_outer(echo));
  REQUIRE(e.r == Decoded::dns);
  CHECK(e.p.dport == 2152);
  CHECK(e.p.tunnel_depth == 0);
  CHECK(payload_of(e) == echo);
  // A DNS answer from port 53 to a client that picked port 2152 is DNS.
  const Run answer = run(dlt::kRaw, Ipv4{.src = "10.20.0.53", .dst = "10.20.1.11"}.build(udp(53, 2152, kLabResponse)));
  REQUIRE(answer.r == Decoded::dns);
  CHECK(answer.p.tunnel_depth == 0);
  CHECK(payload_of(answer) == kLabResponse);

  // Malformed: shorter than 8 octets, GTPv2 or GTP' (PT 0), a length past the datagram, flags
  // without room for the optional octets, an extension of length 0 or past the end, too many
  // extensions.
  Octets many = hex("0000 00 85");
  for (unsigned i = 0; i < kMaxGtpExtensions + 1; ++i) many.insert(many.end(), {0x01, 0x00, 0x00, 0x85});
  const std::vector<Octets> bad = {
      hex("30ff 0000 0000"),
      gtpu(lab_udp4(), 0x48),
      gtpu(lab_udp4(), 0x20),
      gtpu(lab_udp4(), 0x30, 255, {}, 200),
      gtpu({}, 0x32, 255, {}, 0),
      gtpu(lab_udp4(), 0x34, 255, hex("0000 00 85 00 00 00 00")),
      gtpu(lab_udp4(), 0x34, 255, hex("0000 00 85 02 00 00 00"), 8),
      gtpu(lab_udp4(), 0x34, 255, many),
  };
  for (const Octets& g : bad) {
    const Run d = run(dlt::kRaw, gtp_outer(g));
    INFO("counters: " << nonzero(d.c));
    CHECK(d.r == Decoded::dropped);
    CHECK(d.c.get(Counter::gtp_bad_header) == 1);
    CHECK(d.p.tunnel_depth == 0);
  }
  // The extension limit itself is fine.
  Octets limit = hex("0000 00 85");
  for (unsigned i = 0; i + 1 < kMaxGtpExtensions; ++i) limit.insert(limit.end(), {0x01, 0x00, 0x00, 0x85});
  limit.insert(limit.end(), {0x01, 0x00, 0x00, 0x00});
  check_lab_v4(run(dlt::kRaw, gtp_outer(gtpu(lab_udp4(), 0x34, 255, limit))), 1);
}

TEST_CASE("decode: the new tunnels count toward kMaxTunnelDepth", "[decode][tunnel]") {
  // GTP-U in PPTP in GTP-U in GRE: four layers, one too many.
  const Octets ppp_inner = cat({ppp(kPppIp), gtp_outer(gtpu(lab_udp4()))});
  const Octets three = outer(kProtoGre, cat({gre_pptp(ppp_inner.size()), ppp_inner}));
  const Run d3 = run(dlt::kRaw, outer(kProtoGre, cat({gre(0, 0x0800), three})));
  REQUIRE(d3.r == Decoded::dns);
  CHECK(d3.p.tunnel_depth == 3);
  const Run d4 = run(dlt::kRaw, gtp_outer(gtpu(outer(kProtoGre, cat({gre(0, 0x0800), three})))));
  CHECK(d4.r == Decoded::dropped);
  CHECK(d4.c.get(Counter::tunnel_too_deep) == 1);
}
