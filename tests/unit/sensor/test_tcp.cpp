// TcpReassembler: DNS-over-TCP framing across segments, retransmissions, reordering, gaps and
// resynchronisation, mid-stream joins, FIN/RST/idle cleanup, and the flow and byte caps.
// Payloads are DNS messages; everything delivered must parse and equal what was sent.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "dnsvigil/sensor/tcp.hpp"

using namespace dnsvigil::sensor;
using namespace dnsvigil::test;

namespace {

constexpr Timestamp kSec = kNanosPerSecond;
constexpr std::uint8_t kData = tcpflag::PSH | tcpflag::ACK;

struct Recorder final : TcpMessageSink {
  std::vector<Octets> msgs;
  std::vector<Timestamp> times;
  std::vector<std::uint16_t> dports;
  void on_tcp_message(Bytes msg, const Packet& pkt, Timestamp ts) override {
    msgs.emplace_back(msg.begin(), msg.end());
    times.push_back(ts);
    dports.push_back(pkt.dport);
  }
};

// One direction of a connection: server 10.20.0.10:53 -> client 10.20.1.10:`client_port`.
// Keeps the payload bytes alive for the Packets it makes.
struct Dir {
  std::uint16_t client_port = 40000;
  std::uint32_t isn = 1000;
  std::deque<Octets> keep;

  Packet seg(std::uint32_t rel_seq, const Octets& data, std::uint8_t flags = kData) {
    keep.push_back(data);
    Packet p;
    p.ip_version = 4;
    p.proto = kProtoTcp;
    p.src = addr("10.20.0.10");
    p.dst = addr("10.20.1.10");
    p.sport = 53;
    p.dport = client_port;
    p.seq = isn + rel_seq;  // rel_seq 0 is the SYN; data starts at 1
    p.ack = 1;
    p.tcp_flags = flags;
    p.payload = Bytes{keep.back()};
    return p;
  }
  Packet syn() { return seg(0, {}, tcpflag::SYN | tcpflag::ACK); }
};

Octets part(const Octets& b, std::size_t from, std::size_t to) {
  return {b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(std::min(to, b.size()))};
}

// Distinct DNS responses of various sizes (name and answer count vary).
Octets msg(int i, std::uint16_t answers = 3) {
  return response(static_cast<std::uint16_t>(0x1000 + i), "host" + std::to_string(i) + ".example.com", 1, answers);
}

bool all_parse(const Recorder& r) {
  return std::all_of(r.msgs.begin(), r.msgs.end(), [](const Octets& m) { return parses(m); });
}

std::uint64_t count(const Counters& c, Counter k) { return c.get(k); }

}  // namespace

TEST_CASE("tcp: several messages in one segment, framed in place", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 1 * kSec);
  const Octets seg = cat({framed(kLabResponse), framed(kNsWithGlue), framed(msg(1))});
  t.add(d.seg(1, seg), 2 * kSec);
  REQUIRE(r.msgs.size() == 3);
  CHECK(r.msgs[0] == kLabResponse);
  CHECK(r.msgs[1] == kNsWithGlue);
  CHECK(r.msgs[2] == msg(1));
  CHECK(r.times == std::vector<Timestamp>{2 * kSec, 2 * kSec, 2 * kSec});
  CHECK(r.dports[0] == 40000);
  CHECK(t.bytes_held() == 0);  // nothing copied
  CHECK(t.flows() == 1);
  CHECK(count(c, Counter::tcp_segments) == 2);
  CHECK(count(c, Counter::tcp_streams) == 1);
  CHECK(count(c, Counter::tcp_midstream) == 0);
}

TEST_CASE("tcp: one message across many segments (the length prefix split too)", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 0);
  const Octets m = msg(7, 150);  // 2.4 kB
  const Octets f = framed(m);
  REQUIRE(f.size() > 2000);
  // 1 octet (half the prefix), then 10-octet pieces.
  t.add(d.seg(1, part(f, 0, 1)), 1);
  CHECK(t.bytes_held() == 1);
  std::uint32_t pos = 1;
  Timestamp ts = 2;
  while (pos < f.size()) {
    CHECK(r.msgs.empty());
    t.add(d.seg(1 + pos, part(f, pos, pos + 10)), ts++);
    pos += 10;
  }
  REQUIRE(r.msgs.size() == 1);
  CHECK(r.msgs[0] == m);
  CHECK(r.times[0] == ts - 1);  // the segment that completed it
  CHECK(t.bytes_held() == 0);
  CHECK(all_parse(r));
}

TEST_CASE("tcp: retransmissions (whole and partly overlapping) are not delivered twice", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 0);
  const Octets s = cat({framed(msg(1)), framed(msg(2)), framed(msg(3))});
  const std::size_t a = framed(msg(1)).size(), b = a + framed(msg(2)).size();
  t.add(d.seg(1, part(s, 0, a)), 1);
  t.add(d.seg(1, part(s, 0, a)), 2);  // whole retransmission
  CHECK(count(c, Counter::tcp_retransmitted_bytes) == a);
  REQUIRE(r.msgs.size() == 1);
  // A segment that repeats the last 10 octets of msg 1 and carries msg 2 and half of msg 3.
  t.add(d.seg(1 + static_cast<std::uint32_t>(a - 10), part(s, a - 10, b + 20)), 3);
  CHECK(count(c, Counter::tcp_retransmitted_bytes) == a + 10);
  REQUIRE(r.msgs.size() == 2);
  CHECK(r.msgs[1] == msg(2));
  // The rest of msg 3, repeating 5 octets already buffered.
  t.add(d.seg(1 + static_cast<std::uint32_t>(b + 15), part(s, b + 15, s.size())), 4);
  CHECK(count(c, Counter::tcp_retransmitted_bytes) == a + 15);
  REQUIRE(r.msgs.size() == 3);
  CHECK(r.msgs[2] == msg(3));
}

TEST_CASE("tcp: out-of-order segments are held until the gap fills", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 0);
  const Octets s = cat({framed(msg(1)), framed(msg(2)), framed(msg(3)), framed(msg(4))});
  // Four segments of 40 octets ... delivered 1, 3, 4, 2.
  std::vector<Octets> segs;
  for (std::size_t p = 0; p < s.size(); p += 40) segs.push_back(part(s, p, p + 40));
  REQUIRE(segs.size() >= 4);
  t.add(d.seg(1, segs[0]), 1);
  for (std::size_t i = 2; i < segs.size(); ++i) t.add(d.seg(static_cast<std::uint32_t>(1 + 40 * i), segs[i]), 2);
  CHECK(count(c, Counter::tcp_out_of_order) == segs.size() - 2);
  CHECK(r.msgs.empty());
  t.add(d.seg(41, segs[1]), 3);
  REQUIRE(r.msgs.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(r.msgs[static_cast<std::size_t>(i)] == msg(i + 1));
  CHECK(t.bytes_held() == 0);
  CHECK(count(c, Counter::tcp_gap_bytes) == 0);
}

TEST_CASE("tcp: a missing segment: FIN gives the gap up and resynchronises on what follows", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 0);
  const Octets f1 = framed(msg(1)), f2 = framed(msg(2)), f3 = framed(msg(3)), f4 = framed(msg(4));
  std::uint32_t seq = 1;
  t.add(d.seg(seq, f1), 1);
  seq += static_cast<std::uint32_t>(f1.size());
  // The segment with msg 2 is lost by the capture.
  seq += static_cast<std::uint32_t>(f2.size());
  t.add(d.seg(seq, f3), 2);
  seq += static_cast<std::uint32_t>(f3.size());
  t.add(d.seg(seq, f4), 3);
  seq += static_cast<std::uint32_t>(f4.size());
  CHECK(r.msgs.size() == 1);
  t.add(d.seg(seq, {}, tcpflag::FIN | tcpflag::ACK), 4);
  REQUIRE(r.msgs.size() == 3);
  CHECK(r.msgs[1] == msg(3));
  CHECK(r.msgs[2] == msg(4));
  CHECK(count(c, Counter::tcp_gap_bytes) == f2.size());
  CHECK(count(c, Counter::tcp_resync_skipped_bytes) == 0);
  CHECK(t.flows() == 0);
  CHECK(t.bytes_held() == 0);
}

TEST_CASE("tcp: a gap inside a message drops the partial message and resyncs at the next", "[tcp][resync]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 0);
  const Octets m1 = msg(1, 20);
  const Octets s = cat({framed(m1), framed(msg(2)), framed(msg(3))});
  const std::size_t l1 = framed(m1).size();
  // The first 100 octets of msg 1 arrive; octets 100..200 are lost; the rest arrives in
  // 5-octet segments, more than kMaxHeldSegments (64) behind the gap: the gap is given up.
  t.add(d.seg(1, part(s, 0, 100)), 1);
  std::size_t p = 200;
  while (p < s.size()) {
    t.add(d.seg(static_cast<std::uint32_t>(1 + p), part(s, p, p + 5)), 2);
    p += 5;
  }
  CHECK(count(c, Counter::tcp_gap_bytes) == 100);
  CHECK(count(c, Counter::tcp_truncated_bytes) == 100);  // the partial msg 1 before the gap
  // What follows the gap: the rest of msg 1 (skipped), then msg 2 and msg 3.
  CHECK(count(c, Counter::tcp_resync_skipped_bytes) == l1 - 200);
  REQUIRE(r.msgs.size() == 2);
  CHECK(r.msgs[0] == msg(2));
  CHECK(r.msgs[1] == msg(3));
}

TEST_CASE("tcp: a stream joined mid-way at a message boundary", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.seg(5000, cat({framed(kNsWithGlue), framed(msg(2))})), 1);
  REQUIRE(r.msgs.size() == 2);
  CHECK(r.msgs[0] == kNsWithGlue);
  CHECK(r.msgs[1] == msg(2));
  CHECK(count(c, Counter::tcp_midstream) == 1);
  CHECK(count(c, Counter::tcp_resync_skipped_bytes) == 0);
  t.add(d.seg(5000 + static_cast<std::uint32_t>(framed(kNsWithGlue).size() + framed(msg(2)).size()), framed(msg(3))), 2);
  REQUIRE(r.msgs.size() == 3);
  CHECK(count(c, Counter::tcp_midstream) == 1);
}

TEST_CASE("tcp: a stream joined in the middle of a message resyncs on the next one", "[tcp][resync]") {
  // The capture starts inside the lab's real response (101 octets framed); the real query and
  // the NS answer follow, then ten more queries. The resync must skip exactly the rest of the
  // first message and deliver everything after it, and never deliver bytes that are not a
  // message that was sent.
  const Octets f1 = framed(kLabResponse);
  std::vector<Octets> after{kNsWithGlue, kLabQuery};
  for (int i = 0; i < 10; ++i) after.push_back(query(static_cast<std::uint16_t>(i), "q" + std::to_string(i) + ".example.com"));
  Octets tail;
  for (const Octets& m : after) tail = cat({tail, framed(m)});
  for (const std::size_t cut : {1UL, 3UL, 6UL, 30UL, 60UL, 95UL}) {
    INFO("joined at octet " << cut << " of the first message");
    Counters c;
    Recorder r;
    TcpReassembler t(TcpLimits{}, c, r);
    Dir d;
    const Octets s = cat({part(f1, cut, f1.size()), tail});
    // In 200-octet segments (the first holds the join and the first whole messages).
    for (std::size_t p = 0; p < s.size(); p += 200) t.add(d.seg(static_cast<std::uint32_t>(777 + p), part(s, p, p + 200)), 1);
    CHECK(count(c, Counter::tcp_midstream) == 1);
    CHECK(count(c, Counter::tcp_resync_skipped_bytes) == f1.size() - cut);
    CHECK(r.msgs.size() == after.size());
    if (r.msgs.size() == after.size()) CHECK(r.msgs == after);
    std::size_t foreign = 0;  // delivered "messages" that were never sent
    for (const Octets& m : r.msgs) foreign += std::find(after.begin(), after.end(), m) == after.end() ? 1U : 0U;
    CHECK(foreign == 0);
    CHECK(t.bytes_held() == 0);
  }
}

TEST_CASE("tcp: a length prefix below 12 is counted and the stream resyncs", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 0);
  t.add(d.seg(1, cat({hex("0005 0102030405"), framed(msg(1))})), 1);
  REQUIRE(r.msgs.size() == 1);
  CHECK(r.msgs[0] == msg(1));
  CHECK(count(c, Counter::tcp_bad_length_prefix) == 1);
  CHECK(count(c, Counter::tcp_resync_skipped_bytes) == 7);
}

TEST_CASE("tcp: both directions are separate streams", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir server;
  // The client's direction: 10.20.1.10:40000 -> 10.20.0.10:53.
  Packet q = server.seg(1, framed(kLabQuery));
  std::swap(q.src, q.dst);
  std::swap(q.sport, q.dport);
  Packet qsyn = server.seg(0, {}, tcpflag::SYN);
  std::swap(qsyn.src, qsyn.dst);
  std::swap(qsyn.sport, qsyn.dport);
  t.add(qsyn, 0);
  t.add(server.syn(), 1);
  t.add(q, 2);
  t.add(server.seg(1, framed(kLabResponse)), 3);
  REQUIRE(r.msgs.size() == 2);
  CHECK(r.msgs[0] == kLabQuery);
  CHECK(r.dports[0] == 53);
  CHECK(r.msgs[1] == kLabResponse);
  CHECK(t.flows() == 2);
  CHECK(count(c, Counter::tcp_streams) == 2);
}

TEST_CASE("tcp: FIN and RST close the stream; a partial message is counted", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 0);
  const Octets f = framed(msg(1));
  t.add(d.seg(1, part(f, 0, 20)), 1);
  CHECK(t.bytes_held() == 20);
  t.add(d.seg(21, {}, tcpflag::FIN | tcpflag::ACK), 2);
  CHECK(t.flows() == 0);
  CHECK(t.bytes_held() == 0);
  CHECK(count(c, Counter::tcp_truncated_bytes) == 20);
  CHECK(r.msgs.empty());

  Dir e;
  e.client_port = 40001;
  t.add(e.syn(), 3);
  t.add(e.seg(1, cat({framed(msg(2)), part(f, 0, 30)})), 4);
  CHECK(r.msgs.size() == 1);
  t.add(e.seg(1 + static_cast<std::uint32_t>(framed(msg(2)).size()) + 30, {}, tcpflag::RST), 5);
  CHECK(t.flows() == 0);
  CHECK(t.bytes_held() == 0);
  CHECK(count(c, Counter::tcp_truncated_bytes) == 50);

  // A FIN that carries the last message delivers it.
  Dir g;
  g.client_port = 40002;
  t.add(g.syn(), 6);
  t.add(g.seg(1, framed(msg(3)), tcpflag::FIN | tcpflag::PSH | tcpflag::ACK), 7);
  REQUIRE(r.msgs.size() == 2);
  CHECK(r.msgs[1] == msg(3));
  CHECK(t.flows() == 0);
}

TEST_CASE("tcp: a new SYN on the same 4-tuple starts a clean stream", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir d;
  t.add(d.syn(), 0);
  t.add(d.seg(1, part(framed(msg(1)), 0, 25)), 1);
  d.isn = 900000;  // the port is reused with another ISN
  t.add(d.syn(), 2);
  CHECK(t.bytes_held() == 0);
  t.add(d.seg(1, framed(msg(2))), 3);
  REQUIRE(r.msgs.size() == 1);
  CHECK(r.msgs[0] == msg(2));
}

TEST_CASE("tcp: idle streams expire on packet time; held data behind a gap is delivered", "[tcp]") {
  Counters c;
  Recorder r;
  TcpLimits lim;
  lim.idle_timeout = 60 * kSec;
  TcpReassembler t(lim, c, r);
  Dir a, b;
  b.client_port = 40001;
  const Timestamp t0 = 1'700'000'000 * kSec;
  // a: msg 1 lost, msg 2 held behind the hole.
  t.add(a.syn(), t0);
  t.add(a.seg(1 + static_cast<std::uint32_t>(framed(msg(1)).size()), framed(msg(2))), t0 + 1 * kSec);
  // b: a partial message, active later.
  t.add(b.syn(), t0 + 30 * kSec);
  t.add(b.seg(1, part(framed(msg(3)), 0, 10)), t0 + 30 * kSec);
  CHECK(r.msgs.empty());
  t.expire(t0 + 60 * kSec);  // a last seen 59 s before: kept
  CHECK(t.flows() == 2);
  t.expire(t0 + 62 * kSec);
  CHECK(t.flows() == 1);
  CHECK(count(c, Counter::tcp_flows_expired) == 1);
  REQUIRE(r.msgs.size() == 1);
  CHECK(r.msgs[0] == msg(2));
  CHECK(r.times[0] == t0 + 1 * kSec);  // delivered with the stream's last packet time
  CHECK(count(c, Counter::tcp_gap_bytes) == framed(msg(1)).size());
  t.expire(t0 + 91 * kSec);
  CHECK(t.flows() == 0);
  CHECK(count(c, Counter::tcp_flows_expired) == 2);
  CHECK(count(c, Counter::tcp_truncated_bytes) == 10);
  CHECK(t.bytes_held() == 0);
}

TEST_CASE("tcp: flush() delivers what lies behind holes and closes every stream", "[tcp]") {
  Counters c;
  Recorder r;
  TcpReassembler t(TcpLimits{}, c, r);
  Dir a;
  t.add(a.syn(), 0);
  t.add(a.seg(1 + 100, framed(msg(5))), 1);
  CHECK(r.msgs.empty());
  t.flush();
  REQUIRE(r.msgs.size() == 1);
  CHECK(r.msgs[0] == msg(5));
  CHECK(t.flows() == 0);
  CHECK(t.bytes_held() == 0);
}

TEST_CASE("tcp: per-flow cap on out-of-order data", "[tcp][caps]") {
  Counters c;
  Recorder r;
  TcpLimits lim;
  lim.max_flow_bytes = 1000;
  TcpReassembler t(lim, c, r);
  Dir d;
  t.add(d.syn(), 0);
  const Octets f = framed(msg(1, 120));  // ~2 kB
  REQUIRE(f.size() > 1600);
  t.add(d.seg(1, part(f, 0, 700)), 1);  // 700 in order, waiting for the rest
  CHECK(t.bytes_held() == 700);
  // 400 octets after a hole: 700 + 400 > 1000, dropped.
  t.add(d.seg(1 + 800, part(f, 800, 1200)), 2);
  CHECK(count(c, Counter::tcp_capped_bytes) == 400);
  CHECK(count(c, Counter::tcp_out_of_order) == 0);
  CHECK(t.bytes_held() == 700);
  // 200 octets fit (900 <= 1000) and are held.
  t.add(d.seg(1 + 1300, part(f, 1300, 1500)), 3);
  CHECK(count(c, Counter::tcp_out_of_order) == 1);
  CHECK(t.bytes_held() == 900);
  CHECK(t.bytes_held() <= lim.max_flow_bytes);
  CHECK(r.msgs.empty());
}

TEST_CASE("tcp: global cap: a tail that does not fit is dropped, what was framed in place is delivered",
          "[tcp][caps]") {
  Counters c;
  Recorder r;
  TcpLimits lim;
  lim.max_total_bytes = 250;
  TcpReassembler t(lim, c, r);
  Dir a, b;
  b.client_port = 40001;
  t.add(a.syn(), 0);
  t.add(b.syn(), 0);
  const Octets big = framed(msg(1, 10));  // 197 octets
  REQUIRE(big.size() == 197);
  t.add(a.seg(1, part(big, 0, 80)), 1);  // 80 held
  CHECK(t.bytes_held() == 80);
  // b: a whole message (framed in place, no copy) and 200 octets of the next: no room for them.
  const Octets next = framed(msg(2, 15));
  t.add(b.seg(1, cat({framed(kLabQuery), part(next, 0, 200)})), 2);
  REQUIRE(r.msgs.size() == 1);
  CHECK(r.msgs[0] == kLabQuery);
  CHECK(count(c, Counter::tcp_capped_bytes) == 200);
  CHECK(t.bytes_held() == 80);
  // a finishes its message: 80 + 117 fits.
  t.add(a.seg(81, part(big, 80, big.size())), 3);
  CHECK(count(c, Counter::tcp_capped_bytes) == 200);
  REQUIRE(r.msgs.size() == 2);
  CHECK(r.msgs[1] == msg(1, 10));
  CHECK(t.bytes_held() == 0);
}

TEST_CASE("tcp: global cap hit while a partial message is buffered never yields a spliced message",
          "[tcp][caps]") {
  // Flow a buffers the first 40 octets of a message; flow b fills the global budget; the rest
  // of a's message arrives and is dropped for lack of room (deliver(), buffered path:
  // take = 0). When room comes back, a's next segment must not be glued onto the 40 stale
  // octets as if nothing had been dropped.
  Counters c;
  Recorder r;
  TcpLimits lim;
  lim.max_total_bytes = 200;
  TcpReassembler t(lim, c, r);
  Dir a, b;
  b.client_port = 40001;
  t.add(a.syn(), 0);
  t.add(b.syn(), 0);
  const Octets m1 = msg(1, 4);     // 99 octets, 101 framed
  const Octets m2 = kLabQuery;     // 67 octets
  const Octets m3 = msg(3, 1);
  const Octets fa = cat({framed(m1), framed(m2), framed(m3)});
  const std::size_t l1 = framed(m1).size();
  t.add(a.seg(1, part(fa, 0, 40)), 1);
  t.add(b.seg(1, part(framed(msg(9, 10)), 0, 150)), 2);  // 190 of 200 held
  CHECK(t.bytes_held() == 190);
  t.add(a.seg(41, part(fa, 40, l1)), 3);                  // the rest of m1: no room
  CHECK(count(c, Counter::tcp_capped_bytes) == l1 - 40);
  t.add(b.seg(151, {}, tcpflag::RST), 4);                 // room again
  t.add(a.seg(1 + static_cast<std::uint32_t>(l1), part(fa, l1, fa.size())), 5);
  INFO("messages delivered: " << r.msgs.size());
  for (const Octets& m : r.msgs) {
    CHECK((m == m2 || m == m3));  // never 38 octets of m1 followed by m2 and m3
  }
  CHECK(all_parse(r));
}

TEST_CASE("tcp: per-flow cap covers in-order and out-of-order data together", "[tcp][caps]") {
  // TcpLimits::max_flow_bytes: "octets buffered per direction (in order + held out of order)";
  // the config minimum is 65536. A 65000-octet message arrives in order up to 49000 while
  // 25000 octets after a hole (its tail and the next message) are held.
  Counters c;
  Recorder r;
  TcpLimits lim;
  lim.max_flow_bytes = 65536;
  TcpReassembler t(lim, c, r);
  Dir d;
  t.add(d.syn(), 0);
  Wire w;  // one 65000-octet message: a TXT answer padded with one big NULL record
  w.header(1, 0x8180, 1, 1, 0, 0).name("big.example.com").qtc(10);
  w.ptr(12).rr_fixed(10, 1, 0);
  while (w.size() < 65000) w.u8(0);
  w.fix_rdlength();
  const Octets s = cat({framed(w.b), framed(msg(2)), Octets(20000, 0)});
  for (std::size_t p = 0; p < 40000; p += 1000) t.add(d.seg(static_cast<std::uint32_t>(1 + p), part(s, p, p + 1000)), 1);
  for (std::size_t p = 50000; p < 75000; p += 1000) t.add(d.seg(static_cast<std::uint32_t>(1 + p), part(s, p, p + 1000)), 2);
  for (std::size_t p = 40000; p < 49000; p += 1000) t.add(d.seg(static_cast<std::uint32_t>(1 + p), part(s, p, p + 1000)), 3);
  CHECK(t.bytes_held() <= lim.max_flow_bytes);
}

TEST_CASE("tcp: max_flows evicts the least recently used stream", "[tcp][caps]") {
  Counters c;
  Recorder r;
  TcpLimits lim;
  lim.max_flows = 2;
  TcpReassembler t(lim, c, r);
  Dir a, b, e;
  b.client_port = 40001;
  e.client_port = 40002;
  const Octets f = framed(msg(1));
  t.add(a.syn(), 0);
  t.add(a.seg(1, part(f, 0, 10)), 1);
  t.add(b.syn(), 2);
  t.add(b.seg(1, part(f, 0, 12)), 3);
  t.add(a.seg(11, part(f, 10, 15)), 4);  // a used after b: b is now the oldest
  t.add(e.syn(), 5);
  CHECK(t.flows() == 2);
  CHECK(count(c, Counter::tcp_flows_evicted) == 1);
  CHECK(count(c, Counter::tcp_truncated_bytes) == 12);  // b's partial message
  CHECK(t.bytes_held() == 15);
  // a still completes its message.
  t.add(a.seg(16, part(f, 15, f.size())), 6);
  REQUIRE(r.msgs.size() == 1);
  CHECK(r.msgs[0] == msg(1));
}

namespace {
// A zone transfer answer message: the first carries the question and the SOA; each carries
// `n` records (A and TXT of varying size), like BIND's 16 kB AXFR messages.
Octets axfr_message(int i) {
  const auto n = static_cast<std::uint16_t>(1 + (i * 37) % 120);
  Wire w;
  w.header(0xaf01, 0x8480, i == 0 ? 1 : 0, n, 0, 0);  // QR AA
  if (i == 0) w.name("example.com").qtc(252);
  for (std::uint16_t k = 0; k < n; ++k) {
    w.name("h" + std::to_string(i) + "-" + std::to_string(k) + ".example.com");
    if (k % 3 == 0) {
      w.rr_fixed(16, 1, 3600).cstr(std::string(static_cast<std::size_t>(10 + (i + k) % 200), 't')).fix_rdlength();
    } else {
      w.rr_fixed(1, 1, 3600).bytes({10, 20, static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(k)}).fix_rdlength();
    }
  }
  return w.b;
}
}  // namespace

TEST_CASE("tcp: a large AXFR-like stream comes out whole, in order, through reordering and retransmission",
          "[tcp][axfr]") {
  std::vector<Octets> msgs;
  Octets stream;
  for (int i = 0; i < 300; ++i) {
    msgs.push_back(axfr_message(i));
    const Octets f = framed(msgs.back());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  REQUIRE(stream.size() > 400000);
  for (const bool disorder : {false, true}) {
    INFO("reordered and retransmitted: " << disorder);
    Counters c;
    Recorder r;
    TcpReassembler t(TcpLimits{}, c, r);
    Dir d;
    t.add(d.syn(), 0);
    std::vector<std::pair<std::uint32_t, Octets>> segs;
    for (std::size_t p = 0; p < stream.size(); p += 1448) segs.emplace_back(static_cast<std::uint32_t>(1 + p), part(stream, p, p + 1448));
    REQUIRE(segs.size() > 280);
    if (disorder) {
      // Swap neighbours every 5 segments; repeat every 7th segment later on.
      for (std::size_t i = 0; i + 1 < segs.size(); i += 5) std::swap(segs[i], segs[i + 1]);
      std::vector<std::pair<std::uint32_t, Octets>> with_dups;
      for (std::size_t i = 0; i < segs.size(); ++i) {
        with_dups.push_back(segs[i]);
        if (i % 7 == 6) with_dups.push_back(segs[i - 3]);
      }
      segs = with_dups;
    }
    Timestamp ts = 0;
    for (const auto& [seq, data] : segs) t.add(d.seg(seq, data), ++ts);
    t.add(d.seg(1 + static_cast<std::uint32_t>(stream.size()), {}, tcpflag::FIN | tcpflag::ACK), ++ts);
    REQUIRE(r.msgs.size() == msgs.size());
    CHECK(r.msgs == msgs);
    CHECK(all_parse(r));
    CHECK(count(c, Counter::tcp_gap_bytes) == 0);
    CHECK(count(c, Counter::tcp_resync_skipped_bytes) == 0);
    CHECK(count(c, Counter::tcp_capped_bytes) == 0);
    CHECK(count(c, Counter::tcp_truncated_bytes) == 0);
    CHECK(t.bytes_held() == 0);
    CHECK((count(c, Counter::tcp_retransmitted_bytes) > 0) == disorder);
  }
}
