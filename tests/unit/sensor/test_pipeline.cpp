// Pipeline end to end on built frames: UDP query/response matching, fragmented answers, TCP,
// non-DNS ports, parse errors by id, unanswered queries on packet time, and the JSON of every
// event (checked with json_check.hpp).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "json_check.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil::sensor;
using namespace dnsvigil::test;
namespace dp = dnsvigil::dnsparse;

namespace {

constexpr Timestamp kSec = kNanosPerSecond;
constexpr Timestamp kT0 = 1'795'458'981 * kSec + 854'506'000;  // the lab capture's first frame
constexpr std::uint8_t kData = tcpflag::PSH | tcpflag::ACK;

struct Seen {
  Timestamp ts;
  IpAddr src, dst;
  std::uint16_t sport, dport;
  Transport transport;
  bool response, matched, duplicate, fragmented, has_vlan;
  std::uint16_t vlan;
  std::uint8_t input;
  Timestamp latency;
  std::string qname, registered;
  std::size_t size;
  std::uint16_t id;
  std::string json;
};

// Records every event (copying what outlives the call) and formats it as ECS JSON.
struct Sink final : EventSink {
  std::vector<Seen> events;
  std::vector<std::string> unanswered;
  std::vector<Timestamp> ticks;
  dnsvigil::output::Json j;
  void on_event(const DnsEvent& ev) override {
    dnsvigil::output::write_event_json(ev, j);
    events.push_back({ev.ts, ev.src, ev.dst, ev.sport, ev.dport, ev.transport, ev.is_response(), ev.matched,
                      ev.duplicate, ev.fragmented, ev.has_vlan, ev.vlan, ev.input, ev.latency(),
                      std::string(ev.qname->text()), std::string(ev.qname->registered_domain()), ev.size,
                      ev.msg->header().id, std::string(j.line())});
  }
  std::vector<std::uint8_t> unanswered_input;
  void on_unanswered(const UnansweredQuery& q) override {
    unanswered.emplace_back(q.name);
    unanswered_input.push_back(q.input);
  }
  void on_tick(Timestamp now) override { ticks.push_back(now); }
};

// The lab's two real frames (pcaps/detect/beaconing/pos-5s-same-name.pcap, frames 1 and 2).
const Octets kLabFrame1 = hex(
    "02000a140035 02000a14010b 0800 4500005f 56530000 4011 0ed4 0a14010b 0a140035 84d7 0035 004b 7fb6"
    "82d20120000100000000000105636865636b06626561636f6e0a6261646578616d706c6502696f0000010001"
    "00002904d000000000000c000a000899a05d711def44b0");
const Octets kLabFrame2 = hex(
    "02000a14010b 02000a140035 0800 4500007f fe0c0000 4011 66fa 0a140035 0a14010b 0035 84d7 006b 636f"
    "82d28180000100010000000105636865636b06626561636f6e0a6261646578616d706c6502696f0000010001"
    "c00c000100010000012c0004c633644400002904d000000000001c000a001899a05d711def44b0010000006b0487a54096849e98589d58");

void frame(Pipeline& p, const Octets& f, Timestamp ts, int link = dlt::kEthernet, std::uint8_t input = 0) {
  p.on_frame(link, ts, Bytes{f}, input);
}

void all_json_valid(const Sink& s) {
  for (const Seen& e : s.events) {
    const auto r = json::parse(e.json);
    INFO(e.json);
    INFO(r.error);
    CHECK(r.ok);
  }
}

}  // namespace

TEST_CASE("pipeline: the lab's UDP query and answer give two events, the answer matched", "[pipeline]") {
  Sink s;
  Pipeline p(PipelineOptions{}, s);
  frame(p, kLabFrame1, kT0, dlt::kEthernet, 2);
  frame(p, kLabFrame2, kT0 + 2'742'000, dlt::kEthernet, 2);
  REQUIRE(s.events.size() == 2);
  const Seen& q = s.events[0];
  const Seen& r = s.events[1];
  CHECK_FALSE(q.response);
  CHECK(q.src == addr("10.20.1.11"));
  CHECK(q.sport == 34007);
  CHECK(q.qname == "check.beacon.badexample.io");
  CHECK(q.registered == "badexample.io");
  CHECK(q.input == 2);
  CHECK(q.size == 67);
  CHECK(r.response);
  CHECK(r.matched);
  CHECK_FALSE(r.duplicate);
  CHECK(r.latency == 2'742'000);
  CHECK(r.transport == Transport::udp);
  CHECK_FALSE(r.fragmented);
  CHECK(r.size == 99);
  const Counters& c = p.counters();
  CHECK(c.get(Counter::packets) == 2);
  CHECK(c.get(Counter::bytes) == kLabFrame1.size() + kLabFrame2.size());
  CHECK(c.get(Counter::dns_messages) == 2);
  CHECK(c.get(Counter::dns_queries) == 1);
  CHECK(c.get(Counter::dns_responses) == 1);
  CHECK(c.get(Counter::tx_matched) == 1);
  CHECK(p.now() == kT0 + 2'742'000);
  all_json_valid(s);
  const auto doc = json::parse(r.json).value;
  CHECK(doc["event"]["duration"].integer() == 2'742'000);
  CHECK(doc["dns"]["resolved_ip"].at(0).text == "198.51.100.68");
  // A replayed answer is a duplicate.
  frame(p, kLabFrame2, kT0 + 3'000'000);
  REQUIRE(s.events.size() == 3);
  CHECK(s.events[2].duplicate);
}

TEST_CASE("pipeline: a fragmented UDP answer gives one event marked fragmented", "[pipeline][frag]") {
  Sink s;
  Pipeline p(PipelineOptions{}, s);
  // dig +bufsize=4096 big.example.com TXT; the answer (1298 octets) crosses a 576-octet path.
  const Octets q = query(0x4a4a, "big.example.com", 16);
  frame(p, cat({eth(kEtherIpv4), Ipv4{.src = "10.20.1.10", .dst = "10.20.0.10"}.build(udp(34999, 53, q))}), kT0);
  Wire w;
  w.header(0x4a4a, 0x8580, 1, 5, 0, 0).name("big.example.com").qtc(16);
  for (int i = 0; i < 5; ++i) w.ptr(12).rr_fixed(16, 1, 3600).cstr(std::string(240, 'x')).fix_rdlength();
  const Octets dgram = udp(53, 34999, w.b);
  for (std::size_t off = 0; off < dgram.size(); off += 552) {
    const Octets chunk(dgram.begin() + static_cast<std::ptrdiff_t>(off),
                       dgram.begin() + static_cast<std::ptrdiff_t>(std::min(off + 552, dgram.size())));
    const bool more = off + 552 < dgram.size();
    frame(p, cat({eth(kEtherIpv4), Ipv4{.src = "10.20.0.10", .dst = "10.20.1.10", .id = 0x7777, .mf = more,
                                        .frag_offset = static_cast<std::uint16_t>(off)}
                                       .build(chunk)}),
          kT0 + 1000 + static_cast<Timestamp>(off));
  }
  REQUIRE(s.events.size() == 2);
  const Seen& r = s.events[1];
  CHECK(r.response);
  CHECK(r.fragmented);
  CHECK(r.matched);
  CHECK(r.size == w.b.size());
  CHECK(r.sport == 53);
  CHECK(r.dport == 34999);
  CHECK_FALSE(s.events[0].fragmented);
  CHECK(p.counters().get(Counter::frag_fragments) == 3);
  CHECK(p.counters().get(Counter::frag_reassembled) == 1);
  CHECK(p.fragments_pending() == 0);
  all_json_valid(s);
  CHECK(json::parse(r.json).value["dnsvigil"]["fragmented"].b);

  // The same over IPv6 (fragment header), on a raw-IP link.
  Sink s6;
  Pipeline p6(PipelineOptions{}, s6);
  for (std::size_t off = 0; off < dgram.size(); off += 1232) {
    const Octets chunk(dgram.begin() + static_cast<std::ptrdiff_t>(off),
                       dgram.begin() + static_cast<std::ptrdiff_t>(std::min(off + 1232, dgram.size())));
    frame(p6, Ipv6{.src = "fd20::10", .dst = "fd20::1:10", .next = 44}.build(
                  cat({ext_fragment(17, static_cast<std::uint16_t>(off), off + 1232 < dgram.size(), 0x51), chunk})),
          kT0, dlt::kRaw);
  }
  REQUIRE(s6.events.size() == 1);
  CHECK(s6.events[0].fragmented);
  CHECK_FALSE(s6.events[0].matched);
  CHECK(s6.events[0].src == addr("fd20::10"));
}

TEST_CASE("pipeline: DNS over TCP: query and two answers in one segment, matched", "[pipeline][tcp]") {
  Sink s;
  Pipeline p(PipelineOptions{}, s);
  const auto c2s = [](std::uint32_t seq, std::uint8_t flags, const Octets& data) {
    return cat({eth(kEtherIpv4), Ipv4{.src = "10.20.1.10", .dst = "10.20.0.10", .proto = kProtoTcp}.build(
                                     tcp(40000, 53, seq, 0, flags, data))});
  };
  const auto s2c = [](std::uint32_t seq, std::uint8_t flags, const Octets& data) {
    return cat({eth(kEtherIpv4), Ipv4{.src = "10.20.0.10", .dst = "10.20.1.10", .proto = kProtoTcp}.build(
                                     tcp(53, 40000, seq, 0, flags, data))});
  };
  const Octets q1 = query(0x0101, "example.com", 2), q2 = query(0x0202, "www.example.com", 1);
  const Octets r1 = kNsWithGlue;  // id f98c: does not answer q1 (0x0101) -> unsolicited
  const Octets r2 = response(0x0202, "www.example.com", 1, 2);
  frame(p, c2s(100, tcpflag::SYN, {}), kT0);
  frame(p, s2c(900, tcpflag::SYN | tcpflag::ACK, {}), kT0 + 1);
  frame(p, c2s(101, kData, cat({framed(q1), framed(q2)})), kT0 + 2);
  frame(p, s2c(901, kData, cat({framed(r1), framed(r2)})), kT0 + 5000);
  frame(p, c2s(101 + static_cast<std::uint32_t>(framed(q1).size() + framed(q2).size()), tcpflag::FIN | tcpflag::ACK, {}), kT0 + 6000);
  REQUIRE(s.events.size() == 4);
  for (const Seen& e : s.events) CHECK(e.transport == Transport::tcp);
  CHECK(s.events[2].id == 0xf98c);
  CHECK_FALSE(s.events[2].matched);
  CHECK(s.events[3].matched);
  CHECK(s.events[3].latency == 5000 - 2);
  CHECK(p.counters().get(Counter::tcp_segments) == 5);
  CHECK(p.counters().get(Counter::tx_unsolicited) == 1);
  CHECK(p.tcp_flows() == 1);  // the server's direction is still open
  p.finish();
  CHECK(p.tcp_flows() == 0);
  REQUIRE(s.unanswered.size() == 1);
  CHECK(s.unanswered[0] == "example.com");
  all_json_valid(s);
}

TEST_CASE("pipeline: frames decoded elsewhere (on_decoded, the -j N dispatcher's handoff) give what on_frame gives",
          "[pipeline][workers]") {
  // UDP query and answer, a TCP exchange, a frame on another port and one that does not decode.
  const auto tcp_frame = [](const char* src, const char* dst, std::uint16_t sp, std::uint16_t dp, std::uint32_t seq,
                            std::uint8_t flags, const Octets& data) {
    return cat({eth(kEtherIpv4), Ipv4{.src = src, .dst = dst, .proto = kProtoTcp}.build(tcp(sp, dp, seq, 0, flags, data))});
  };
  const Octets q = query(0x0303, "www.example.com", 1), r = response(0x0303, "www.example.com", 1, 2);
  const std::vector<Octets> frames = {
      kLabFrame1,
      kLabFrame2,
      tcp_frame("10.20.1.10", "10.20.0.10", 40000, 53, 100, tcpflag::SYN, {}),
      tcp_frame("10.20.0.10", "10.20.1.10", 53, 40000, 900, tcpflag::SYN | tcpflag::ACK, {}),
      tcp_frame("10.20.1.10", "10.20.0.10", 40000, 53, 101, kData, framed(q)),
      tcp_frame("10.20.0.10", "10.20.1.10", 53, 40000, 901, kData, framed(r)),
      tcp_frame("10.20.1.10", "10.20.0.10", 40001, 443, 5, tcpflag::SYN, {}),
      Octets(kLabFrame1.begin(), kLabFrame1.begin() + 20),  // cut inside the IP header
  };
  Sink whole, handed;
  Pipeline a(PipelineOptions{}, whole), b(PipelineOptions{}, handed);
  Counters dispatcher;  // what the dispatcher's decoding counts
  Timestamp ts = kT0;
  for (const Octets& f : frames) {
    ts += 1000;
    frame(a, f, ts);
    Packet pkt;
    if (decode_frame(dlt::kEthernet, Bytes{f}, pkt, dispatcher) == Decoded::dns) {
      b.on_decoded(pkt, f.size(), ts);
    } else {
      dispatcher.add(Counter::packets);
      dispatcher.add(Counter::bytes, f.size());
    }
  }
  a.finish();
  b.finish();
  REQUIRE(whole.events.size() == 4);
  REQUIRE(handed.events.size() == whole.events.size());
  for (std::size_t i = 0; i < whole.events.size(); ++i) CHECK(handed.events[i].json == whole.events[i].json);
  CHECK(handed.unanswered == whole.unanswered);
  Counters sum = b.counters();
  sum.merge(dispatcher);
  CHECK(sum.values == a.counters().values);
  CHECK(sum.parse_errors == a.counters().parse_errors);
  CHECK(sum.anomalies == a.counters().anomalies);
  CHECK(a.counters().get(Counter::not_dns) == 1);
}

TEST_CASE("pipeline: packets on other ports are counted not_dns; dns_ports is configurable", "[pipeline]") {
  const Octets mdns = cat({eth(kEtherIpv4), Ipv4{.dst = "224.0.0.251"}.build(udp(5353, 5353, kLabQuery))});
  Sink s;
  Pipeline p(PipelineOptions{}, s);
  frame(p, mdns, kT0);
  CHECK(s.events.empty());
  CHECK(p.counters().get(Counter::not_dns) == 1);
  CHECK(p.counters().get(Counter::dns_messages) == 0);

  PipelineOptions o;
  o.dns_ports = {53, 5353};
  Sink s2;
  Pipeline p2(o, s2);
  frame(p2, mdns, kT0);
  REQUIRE(s2.events.size() == 1);
  CHECK(s2.events[0].dport == 5353);
  // Either port on 53 is enough.
  frame(p, cat({eth(kEtherIpv4), Ipv4{}.build(udp(53, 61000, kLabResponse))}), kT0 + 1);
  CHECK(s.events.size() == 1);
}

TEST_CASE("pipeline: DNS parse errors are counted by id", "[pipeline]") {
  Sink s;
  Pipeline p(PipelineOptions{}, s);
  const auto send = [&](const Octets& payload) { frame(p, Ipv4{}.build(udp(34007, 53, payload)), kT0, dlt::kRaw); };
  send(hex("82d2 0120 00"));  // 5 octets: no header
  Wire fwd;                   // question name = pointer forward to itself
  fwd.header(1, 0x0100, 1, 0, 0, 0).ptr(12).qtc(1);
  send(fwd.b);
  Wire label;  // 0x40 label type
  label.header(1, 0x0100, 1, 0, 0, 0).u8(0x41).text("x").u8(0).qtc(1);
  send(label.b);
  CHECK(s.events.empty());
  const Counters& c = p.counters();
  CHECK(c.get(Counter::dns_parse_errors) == 3);
  CHECK(c.parse_errors[static_cast<std::size_t>(dp::Error::header_truncated)] == 1);
  CHECK(c.parse_errors[static_cast<std::size_t>(dp::Error::pointer_forward)] == 1);
  CHECK(c.parse_errors[static_cast<std::size_t>(dp::Error::label_type)] == 1);
  CHECK(c.get(Counter::dns_messages) == 0);
  // Anomalies of parsed messages are counted too.
  Wire z;
  z.header(2, 0x0140, 1, 0, 0, 0).name("example.com").qtc(1).u8(0xEE);  // Z bit, trailing octet
  send(z.b);
  CHECK(c.anomalies[static_cast<std::size_t>(dp::Anomaly::z_bit_set)] == 1);
  CHECK(c.anomalies[static_cast<std::size_t>(dp::Anomaly::trailing_bytes)] == 1);
}

TEST_CASE("pipeline: unanswered queries are reported as packet time passes, and at finish", "[pipeline]") {
  PipelineOptions o;
  o.transactions.timeout = 2 * kSec;
  Sink s;
  Pipeline p(o, s);
  const Timestamp t0 = 1'700'000'000 * kSec;
  frame(p, Ipv4{}.build(udp(1111, 53, query(1, "first.example.com"))), t0, dlt::kRaw);
  frame(p, Ipv4{}.build(udp(1112, 53, query(2, "second.example.com"))), t0 + 1 * kSec + 1, dlt::kRaw);
  CHECK(s.unanswered.empty());
  // Any packet (even one that is not DNS) moves packet time: at t0 + 3.5 s the first query is
  // 3.5 s old (> 2 s), the second 2.5 s.
  frame(p, hex("02000a140035 02000a14010b 0806"), t0 + 3 * kSec + 500'000'000);
  CHECK(s.unanswered == std::vector<std::string>{"first.example.com", "second.example.com"});
  CHECK(p.counters().get(Counter::tx_unanswered) == 2);
  CHECK_FALSE(s.ticks.empty());
  CHECK(p.transactions_pending() == 0);

  // An unanswered query keeps its input (the interface it came from, named in its JSON).
  frame(p, Ipv4{}.build(udp(1113, 53, query(3, "third.example.com"))), t0 + 4 * kSec, dlt::kRaw, 7);
  p.finish();
  CHECK(s.unanswered.back() == "third.example.com");
  CHECK(s.unanswered_input == std::vector<std::uint8_t>{0, 0, 7});
  CHECK(s.ticks.back() == t0 + 4 * kSec);
}

TEST_CASE("pipeline: packet time never goes back", "[pipeline]") {
  Sink s;
  Pipeline p(PipelineOptions{}, s);
  frame(p, kLabFrame1, kT0);
  frame(p, kLabFrame2, kT0 - 1000);  // reordered by the capture
  CHECK(p.now() == kT0);
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[1].ts == kT0 - 1000);
  CHECK(s.events[1].matched);
}

TEST_CASE("pipeline: VLAN id and link types reach the event", "[pipeline]") {
  Sink s;
  Pipeline p(PipelineOptions{}, s);
  frame(p, cat({eth(kEtherIpv4, {{0x88A8, 300}, {0x8100, 42}}), Ipv4{}.build(udp(34007, 53, kLabQuery))}), kT0);
  frame(p, cat({hex("0000 0001 0006 02000a14010b 0000 86dd"), Ipv6{}.build(udp(34007, 53, kLabQuery))}), kT0,
        dlt::kLinuxSll);
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0].has_vlan);
  CHECK(s.events[0].vlan == 300);  // the outermost tag
  CHECK_FALSE(s.events[1].has_vlan);
  CHECK(s.events[1].src == addr("2001:db8::10"));
  all_json_valid(s);
  CHECK(json::parse(s.events[0].json).value["network"]["vlan"]["id"].integer() == 300);
}

TEST_CASE("pipeline: a DNS answer to client port 4789 or 4754 is DNS, not a tunnel", "[pipeline][tunnel]") {
  // Resolvers pick source ports at random over 1024-65535 (Unbound's default
  // outgoing-port-permit), so answers from port 53 reach ports 4789 (VXLAN) and 4754
  // (GRE-in-UDP) too. decode_transport() decapsulates on the destination port alone: an
  // answer whose ID has bit 0x0800 set looks like a VXLAN header with the I flag, and every
  // answer to 4754 is taken for a GRE header.
  for (const std::uint16_t port : {std::uint16_t{4789}, std::uint16_t{4754}}) {
    INFO("client port " << port);
    Sink s;
    Pipeline p(PipelineOptions{}, s);
    const Octets q = query(0x4a4a, "www.example.com");  // id 4a4a: 0x4a has bit 0x08 set
    const Octets r = response(0x4a4a, "www.example.com");
    frame(p, Ipv4{.src = "10.20.0.50", .dst = "10.20.0.10"}.build(udp(port, 53, q)), kT0, dlt::kRaw);
    frame(p, Ipv4{.src = "10.20.0.10", .dst = "10.20.0.50"}.build(udp(53, port, r)), kT0 + 1000, dlt::kRaw);
    CHECK(s.events.size() == 2);
    CHECK(p.counters().get(Counter::tunnel_decapsulated) == 0);
    if (s.events.size() == 2) CHECK(s.events[1].matched);
  }
}

TEST_CASE("pipeline: IPv6 extension headers inside the fragmentable part are walked after reassembly",
          "[pipeline][frag]") {
  // RFC 8200 §4.5: the Fragmentable Part may start with extension headers (here Destination
  // Options) before the upper-layer header. The fragment header's next header is then 60,
  // and the reassembled payload must be walked like decode_ipv6() walks an unfragmented one.
  Sink s;
  Pipeline p(PipelineOptions{}, s);
  const Octets frag_part = cat({ext_options(17), udp(53, 41000, kNsWithGlue)});
  const std::size_t half = 64;
  frame(p, Ipv6{.src = "fd20::10", .dst = "fd20::1:10", .next = 44}.build(
               cat({ext_fragment(60, 0, true, 0x99), Octets(frag_part.begin(), frag_part.begin() + half)})),
        kT0, dlt::kRaw);
  frame(p, Ipv6{.src = "fd20::10", .dst = "fd20::1:10", .next = 44}.build(
               cat({ext_fragment(60, half, false, 0x99), Octets(frag_part.begin() + half, frag_part.end())})),
        kT0, dlt::kRaw);
  CHECK(p.counters().get(Counter::frag_reassembled) == 1);
  CHECK(p.counters().get(Counter::other_protocol) == 0);
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0].fragmented);
  CHECK(s.events[0].id == 0xf98c);
}
