// Datagrams cut by the capture's snap length: a UDP answer keeps its header, question and the
// records before the cut (marked capture_truncated, matched, no cut-caused anomaly, never a
// "conflicting" duplicate); cut fragments and cut TCP segments are counted and dropped.
#include <catch2/catch.hpp>

#include <vector>

#include "frame_builder.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil::sensor;
using namespace dnsvigil::test;

namespace {

constexpr Timestamp kT0 = 1'795'458'981 * kNanosPerSecond;

struct Seen {
  bool response, cut, matched, duplicate, conflicting;
  std::uint16_t answers;
  std::uint32_t anomalies;
};

struct Events final : EventSink {
  std::vector<Seen> seen;
  void on_event(const DnsEvent& ev) override {
    seen.push_back({ev.is_response(), ev.capture_truncated, ev.matched, ev.duplicate, ev.conflicting,
                    ev.msg->count(dnsvigil::dnsparse::Section::answer), ev.msg->anomalies().bits()});
  }
};

// A response with three A records (16 octets each after the question).
Octets three_answers() {
  Wire w;
  w.header(0x4242, 0x8180, 1, 3, 0, 0).name("www.example.com").qtc(1);
  for (std::uint8_t i = 1; i <= 3; ++i) w.ptr(12).rr_fixed(1, 1, 300).bytes({192, 0, 2, i}).fix_rdlength();
  return w.b;
}

Octets query() {
  Wire w;
  w.header(0x4242, 0x0100, 1, 0, 0, 0).name("www.example.com").qtc(1);
  return w.b;
}

// The first `keep` octets of a frame, as a capture with that snap length holds it.
Octets cut(const Octets& frame, std::size_t keep) { return Octets(frame.begin(), frame.begin() + static_cast<long>(keep)); }

}  // namespace

TEST_CASE("cut: a UDP answer cut after its first record is an event with what was captured", "[cut][pipeline]") {
  Events s;
  Pipeline p(PipelineOptions{}, s);
  const Octets q = cat({eth(kEtherIpv4), Ipv4{.src = "192.0.2.10", .dst = "192.0.2.53"}.build(udp(40000, 53, query()))});
  const Octets r = cat({eth(kEtherIpv4), Ipv4{.src = "192.0.2.53", .dst = "192.0.2.10"}.build(udp(53, 40000, three_answers()))});
  // Ethernet 14 + IPv4 20 + UDP 8 + header 12 + question 21 + one record 16, and 5 octets of the second.
  const std::size_t keep = 14 + 20 + 8 + 12 + 21 + 16 + 5;
  REQUIRE(keep < r.size());
  p.on_frame(dlt::kEthernet, kT0, Bytes{q});
  const Octets rc = cut(r, keep);
  p.on_frame(dlt::kEthernet, kT0 + 1000, Bytes{rc});
  REQUIRE(s.seen.size() == 2);
  const Seen& a = s.seen[1];
  CHECK(a.response);
  CHECK(a.cut);
  CHECK(a.matched);
  CHECK(a.answers == 1);
  CHECK(a.anomalies == 0);
  CHECK_FALSE(s.seen[0].cut);
  CHECK(p.counters().get(Counter::ip_snaplen_cut) == 1);
  CHECK(p.counters().get(Counter::dns_capture_truncated) == 1);
  // The same answer again, whole: a duplicate, not a conflicting answer.
  p.on_frame(dlt::kEthernet, kT0 + 2000, Bytes{r});
  REQUIRE(s.seen.size() == 3);
  CHECK(s.seen[2].duplicate);
  CHECK_FALSE(s.seen[2].conflicting);
  CHECK_FALSE(s.seen[2].cut);
}

TEST_CASE("cut: IPv6 answers too; a cut inside the question leaves no event", "[cut][pipeline]") {
  Events s;
  Pipeline p(PipelineOptions{}, s);
  const Octets r = cat({eth(kEtherIpv6), Ipv6{.src = "2001:db8::53", .dst = "2001:db8::10"}.build(udp(53, 40000, three_answers()))});
  p.on_frame(dlt::kEthernet, kT0, Bytes{cut(r, r.size() - 3)});
  REQUIRE(s.seen.size() == 1);
  CHECK(s.seen[0].cut);
  CHECK(s.seen[0].answers == 2);
  // Ethernet 14 + IPv6 40 + UDP 8 + header 12 + 5 octets of the name.
  p.on_frame(dlt::kEthernet, kT0 + 1, Bytes{cut(r, 14 + 40 + 8 + 12 + 5)});
  CHECK(s.seen.size() == 1);
  CHECK(p.counters().get(Counter::dns_parse_errors) == 1);
  CHECK(p.counters().get(Counter::ip_snaplen_cut) == 2);
}

TEST_CASE("cut: fragments and TCP segments cut by the snap length are counted and dropped", "[cut][pipeline]") {
  Events s;
  Pipeline p(PipelineOptions{}, s);
  Octets payload = udp(53, 40000, three_answers());
  payload.resize(48);  // a first fragment's 48 octets (a multiple of 8)
  const Octets frag = cat({eth(kEtherIpv4), Ipv4{.src = "192.0.2.53", .dst = "192.0.2.10", .mf = true}.build(payload)});
  p.on_frame(dlt::kEthernet, kT0, Bytes{cut(frag, frag.size() - 10)});
  const Octets seg = cat({eth(kEtherIpv4), Ipv4{.src = "192.0.2.53", .dst = "192.0.2.10", .proto = 6}.build(
                                               tcp(53, 40000, 1, 1, tcpflag::PSH | tcpflag::ACK, framed(three_answers())))});
  p.on_frame(dlt::kEthernet, kT0 + 1, Bytes{cut(seg, seg.size() - 10)});
  CHECK(s.seen.empty());
  CHECK(p.counters().get(Counter::ip_snaplen_cut) == 2);
  CHECK(p.counters().get(Counter::frag_fragments) == 0);
  CHECK(p.counters().get(Counter::tcp_segments) == 0);
}
