// DNS on ports that are not DNS ports (capture.dns_heuristic): the strict message check, the
// server-address rule of each mode, TCP connections recognised from their first segment, and
// the pipeline's events and counters.
#include <catch2/catch.hpp>

#include <vector>

#include "frame_builder.hpp"
#include "dnsvigil/sensor/offport.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil::sensor;
using namespace dnsvigil::test;

namespace {

constexpr Timestamp kT0 = 1'795'458'981 * kNanosPerSecond;

Octets query(std::uint16_t flags = 0x0100, std::uint16_t klass = 1) {
  Wire w;
  w.header(0x1234, flags, 1, 0, 0, 0).name("www.example.com").qtc(1, klass);
  return w.b;
}

Octets response() {
  Wire w;
  w.header(0x1234, 0x8180, 1, 1, 0, 0).name("www.example.com").qtc(1);
  w.ptr(12).rr_fixed(1, 1, 300).bytes({192, 0, 2, 1}).fix_rdlength();
  return w.b;
}

Packet udp_packet(std::string_view src, std::string_view dst, std::uint16_t sport, std::uint16_t dport, const Octets& p) {
  Packet pkt;
  pkt.proto = kProtoUdp;
  pkt.src = addr(src);
  pkt.dst = addr(dst);
  pkt.sport = sport;
  pkt.dport = dport;
  pkt.payload = Bytes{p};
  return pkt;
}

PrefixSet internal_net() {
  PrefixSet s;
  s.add(*Prefix::parse("10.0.0.0/8"));
  return s;
}

struct Events final : EventSink {
  std::vector<DnsEvent> seen;
  void on_event(const DnsEvent& ev) override { seen.push_back(ev); }
};

}  // namespace

TEST_CASE("offport: the strict check takes whole standard queries and responses only", "[offport]") {
  dnsvigil::dnsparse::Message m;
  CHECK(strict_dns(Bytes{query()}, m) == 1);
  CHECK(strict_dns(Bytes{response()}, m) == 2);
  CHECK(strict_dns(Bytes{kLabQuery}, m) == 1);  // with an OPT record
  CHECK(strict_dns(Bytes{kLabResponse}, m) == 2);

  Octets trailing = query();
  trailing.push_back(0);
  CHECK(strict_dns(Bytes{trailing}, m) == 0);
  CHECK(strict_dns(Bytes{query(0x0900)}, m) == 0);     // opcode 1 (IQUERY)
  CHECK(strict_dns(Bytes{query(0x0140)}, m) == 0);     // Z bit
  CHECK(strict_dns(Bytes{query(0x0100, 3)}, m) == 0);  // class CH
  Wire two;
  two.header(1, 0x0100, 2, 0, 0, 0).name("a.example").qtc(1).name("b.example").qtc(1);
  CHECK(strict_dns(Bytes{two.b}, m) == 0);
  Wire with_answer;
  with_answer.header(1, 0x0100, 1, 1, 0, 0).name("a.example").qtc(1).ptr(12).rr_fixed(1, 1, 1).bytes({1, 2, 3, 4}).fix_rdlength();
  CHECK(strict_dns(Bytes{with_answer.b}, m) == 0);
  Wire servfail_query;
  servfail_query.header(1, 0x0102, 1, 0, 0, 0).name("a.example").qtc(1);
  CHECK(strict_dns(Bytes{servfail_query.b}, m) == 0);
  // Octets that are no DNS at all: a QUIC-like datagram and a short one.
  Octets noise(64);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<std::uint8_t>(i * 37 + 11);
  CHECK(strict_dns(Bytes{noise}, m) == 0);
  CHECK(strict_dns(Bytes{Octets{0, 1, 0, 0, 0, 1}}, m) == 0);
}

TEST_CASE("offport: which servers count in each mode", "[offport]") {
  dnsvigil::dnsparse::Message m;
  const Octets q = query();
  const Octets r = response();
  OffPortDns external(OffPortMode::external, internal_net());
  CHECK(external.classify(udp_packet("10.1.1.1", "198.51.100.7", 40000, 8053, q), kT0, m) == OffPortDns::Side::client_src);
  CHECK(external.classify(udp_packet("198.51.100.7", "10.1.1.1", 8053, 40000, r), kT0, m) == OffPortDns::Side::client_dst);
  // An internal server, multicast DNS, a response-shaped datagram from a client's port to a
  // server: only `all` takes the internal server, and never on mDNS/LLMNR/NetBIOS ports.
  CHECK(external.classify(udp_packet("10.1.1.1", "10.2.2.2", 40000, 8053, q), kT0, m) == OffPortDns::Side::none);
  CHECK(external.classify(udp_packet("10.1.1.1", "224.0.0.251", 5353, 5353, q), kT0, m) == OffPortDns::Side::none);
  OffPortDns all(OffPortMode::all, internal_net());
  CHECK(all.classify(udp_packet("10.1.1.1", "10.2.2.2", 40000, 8053, q), kT0, m) == OffPortDns::Side::client_src);
  CHECK(all.classify(udp_packet("10.1.1.1", "10.2.2.2", 5353, 5353, q), kT0, m) == OffPortDns::Side::none);
  CHECK(all.classify(udp_packet("10.1.1.1", "10.1.255.255", 137, 137, q), kT0, m) == OffPortDns::Side::none);
  CHECK(all.classify(udp_packet("10.1.1.1", "224.0.0.252", 50000, 5355, q), kT0, m) == OffPortDns::Side::none);
  CHECK(external.classify(udp_packet("10.1.1.1", "198.51.100.7", 137, 137, q), kT0, m) == OffPortDns::Side::none);
  // An outside server on 5353 is a resolver on an odd port, not multicast DNS.
  CHECK(external.classify(udp_packet("10.1.1.1", "198.51.100.7", 40000, 5353, q), kT0, m) == OffPortDns::Side::client_src);
  OffPortDns off(OffPortMode::off, internal_net());
  CHECK_FALSE(off.enabled());
  CHECK(off.classify(udp_packet("10.1.1.1", "198.51.100.7", 40000, 8053, q), kT0, m) == OffPortDns::Side::none);
  // Without network.internal, the private ranges are inside.
  OffPortDns bare(OffPortMode::external, PrefixSet{});
  CHECK(bare.classify(udp_packet("10.1.1.1", "192.168.1.1", 40000, 8053, q), kT0, m) == OffPortDns::Side::none);
  CHECK(bare.classify(udp_packet("10.1.1.1", "198.51.100.7", 40000, 8053, q), kT0, m) == OffPortDns::Side::client_src);
}

TEST_CASE("offport: a TCP connection is DNS from its first query segment on, both ways", "[offport]") {
  dnsvigil::dnsparse::Message m;
  OffPortDns d(OffPortMode::external, internal_net());
  const Octets q = framed(query());
  const Octets r = framed(response());
  Packet a = udp_packet("10.1.1.1", "198.51.100.7", 40000, 8053, q);
  a.proto = kProtoTcp;
  Packet b = udp_packet("198.51.100.7", "10.1.1.1", 8053, 40000, r);
  b.proto = kProtoTcp;
  // The response alone does not open a connection: queries do.
  CHECK(d.classify(b, kT0, m) == OffPortDns::Side::none);
  CHECK(d.classify(a, kT0, m) == OffPortDns::Side::client_src);
  CHECK(d.classify(b, kT0, m) == OffPortDns::Side::client_dst);
  // The rest of the connection, whatever its segments hold.
  Packet fin = udp_packet("10.1.1.1", "198.51.100.7", 40000, 8053, Octets{1});
  fin.proto = kProtoTcp;
  CHECK(d.classify(fin, kT0, m) == OffPortDns::Side::client_src);
  // A length prefix that does not match the segment is not the start of a DNS connection.
  Octets bad = q;
  bad[1] = static_cast<std::uint8_t>(bad[1] + 1);
  Packet c = udp_packet("10.1.1.2", "198.51.100.8", 40001, 9000, bad);
  c.proto = kProtoTcp;
  CHECK(d.classify(c, kT0, m) == OffPortDns::Side::none);
}

TEST_CASE("offport: the pipeline turns DNS on port 8053 into marked events, and leaves mDNS alone", "[offport][pipeline]") {
  PipelineOptions o;
  o.internal = internal_net();
  Events s;
  Pipeline p(o, s);
  const auto send = [&](std::string_view src, std::string_view dst, std::uint16_t sport, std::uint16_t dport,
                        const Octets& msg, Timestamp ts) {
    const Octets f = cat({eth(kEtherIpv4), Ipv4{.src = src, .dst = dst}.build(udp(sport, dport, msg))});
    p.on_frame(dlt::kEthernet, ts, Bytes{f});
  };
  send("10.1.1.1", "198.51.100.7", 40000, 8053, query(), kT0);
  send("198.51.100.7", "10.1.1.1", 8053, 40000, response(), kT0 + 1000);
  send("10.1.1.1", "224.0.0.251", 5353, 5353, query(), kT0 + 2000);
  send("10.1.1.1", "198.51.100.7", 40000, 53, query(), kT0 + 3000);
  REQUIRE(s.seen.size() == 3);
  CHECK(s.seen[0].off_port);
  CHECK(s.seen[1].off_port);
  CHECK(s.seen[1].matched);  // the transaction table pairs them like any other
  CHECK_FALSE(s.seen[2].off_port);
  CHECK(p.counters().get(Counter::off_port_dns) == 2);
  CHECK(p.counters().get(Counter::not_dns) == 1);

  o.off_port = OffPortMode::off;
  Events s2;
  Pipeline p2(o, s2);
  const Octets f = cat({eth(kEtherIpv4), Ipv4{.src = "10.1.1.1", .dst = "198.51.100.7"}.build(udp(40000, 8053, query()))});
  p2.on_frame(dlt::kEthernet, kT0, Bytes{f});
  CHECK(s2.seen.empty());
  CHECK(p2.counters().get(Counter::not_dns) == 1);
}
