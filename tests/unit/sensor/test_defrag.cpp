// Defragmenter: IPv4/IPv6 reassembly, overlap policies, invalid and oversized fragments,
// expiry on packet time, and the datagram and byte caps. Fragments go through decode_frame.
#include <catch2/catch.hpp>
#include <limits>

#include <deque>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "dnsvigil/sensor/decode.hpp"
#include "dnsvigil/sensor/defrag.hpp"

using namespace dnsvigil::sensor;
using namespace dnsvigil::test;

namespace {

constexpr Timestamp kSec = kNanosPerSecond;

// A 1298-octet answer to big.example.com TXT: five TXT records of 240 octets (too big for one
// 576-octet path, which is how the lab's frag4.pcap was made).
Octets big_txt_response() {
  Wire w;
  w.header(0x4a4a, 0x8580, 1, 5, 0, 0);  // QR AA RD RA
  w.name("big.example.com").qtc(16);
  for (int i = 0; i < 5; ++i) {
    w.ptr(12).rr_fixed(16, 1, 3600);
    w.cstr(std::string(240, static_cast<char>('a' + i))).fix_rdlength();
  }
  return w.b;
}

// The UDP datagram (header + DNS) that gets fragmented.
const Octets kDatagram = udp(53, 34007, big_txt_response());

Octets slice(const Octets& b, std::size_t from, std::size_t to) {
  return {b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(std::min(to, b.size()))};
}

// Owns fragment frames and the Packets decoded from them (payloads point into the frames).
struct Frags {
  std::deque<Octets> frames;
  Counters decode_counters;

  Packet v4(std::uint16_t id, std::size_t from, std::size_t to, bool mf, const Octets& data = kDatagram,
            std::string_view src = "10.20.0.10") {
    frames.push_back(Ipv4{.src = src, .dst = "10.20.1.10", .id = id, .mf = mf,
                          .frag_offset = static_cast<std::uint16_t>(from)}
                         .build(slice(data, from, to)));
    return decode(frames.back());
  }
  Packet v6(std::uint32_t id, std::size_t from, std::size_t to, bool mf, const Octets& data = kDatagram) {
    frames.push_back(Ipv6{.src = "fd20::10", .dst = "fd20::1:10", .next = 44}.build(
        cat({ext_fragment(17, static_cast<std::uint16_t>(from), mf, id), slice(data, from, to)})));
    return decode(frames.back());
  }
  Packet decode(const Octets& f) {
    Packet p;
    const Decoded r = decode_frame(dlt::kRaw, Bytes{f}, p, decode_counters);
    REQUIRE(r == Decoded::fragment);
    return p;
  }
};

Octets to_octets(Bytes b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("defrag: IPv4 fragments in order complete the datagram", "[defrag]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  CHECK(d.add(f.v4(1, 0, 400, true), 0, proto).empty());
  CHECK(d.pending() == 1);
  CHECK(d.bytes_held() == 400);
  CHECK(d.add(f.v4(1, 400, 800, true), 1, proto).empty());
  CHECK(d.add(f.v4(1, 800, 1200, true), 2, proto).empty());
  CHECK(d.bytes_held() == 1200);
  const Bytes whole = d.add(f.v4(1, 1200, kDatagram.size(), false), 3, proto);
  REQUIRE(whole.size() == kDatagram.size());
  CHECK(to_octets(whole) == kDatagram);
  CHECK(proto == kProtoUdp);
  CHECK(d.pending() == 0);
  CHECK(d.bytes_held() == 0);
  CHECK(c.get(Counter::frag_fragments) == 4);
  CHECK(c.get(Counter::frag_reassembled) == 1);

  // What comes out decodes as UDP and the DNS inside parses.
  Packet p;
  Counters c2;
  REQUIRE(decode_transport(proto, whole, p, c2) == Decoded::dns);
  CHECK(p.sport == 53);
  CHECK(to_octets(p.payload) == big_txt_response());
  CHECK(parses(to_octets(p.payload)));
}

TEST_CASE("defrag: IPv4 fragments out of order (last first)", "[defrag]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  CHECK(d.add(f.v4(9, 1200, kDatagram.size(), false), 0, proto).empty());
  CHECK(d.bytes_held() == kDatagram.size());  // the buffer reaches the highest offset at once
  CHECK(d.add(f.v4(9, 400, 800, true), 0, proto).empty());
  CHECK(d.add(f.v4(9, 0, 400, true), 0, proto).empty());
  const Bytes whole = d.add(f.v4(9, 800, 1200, true), 0, proto);
  CHECK(to_octets(whole) == kDatagram);
  CHECK(c.get(Counter::frag_reassembled) == 1);
}

TEST_CASE("defrag: IPv6 fragments complete the datagram", "[defrag][ipv6]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  CHECK(d.add(f.v6(0x1234567, 648, kDatagram.size(), false), 0, proto).empty());
  CHECK(d.add(f.v6(0x1234567, 0, 648, true), 0, proto).empty() == false);
  CHECK(proto == kProtoUdp);
  CHECK(c.get(Counter::frag_reassembled) == 1);
  CHECK(d.pending() == 0);
}

TEST_CASE("defrag: fragments of different datagrams do not mix", "[defrag]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  CHECK(d.add(f.v4(1, 0, 648, true), 0, proto).empty());
  CHECK(d.add(f.v4(2, 648, kDatagram.size(), false), 0, proto).empty());                          // other id
  CHECK(d.add(f.v4(1, 648, kDatagram.size(), false, kDatagram, "10.20.0.11"), 0, proto).empty());  // other source
  CHECK(d.pending() == 3);
  CHECK(c.get(Counter::frag_reassembled) == 0);
}

TEST_CASE("defrag: IPv4 duplicates and overlaps are counted; the first copy of each octet wins", "[defrag]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  // An exact duplicate.
  CHECK(d.add(f.v4(3, 0, 400, true), 0, proto).empty());
  CHECK(d.add(f.v4(3, 0, 400, true), 0, proto).empty());
  CHECK(c.get(Counter::frag_overlap) == 1);
  CHECK(d.pending() == 1);

  // An overlapping fragment with other content: octets 200..600, all 'X'. 200..400 is already
  // here (kept); 400..600 is new (taken), so the later real fragment loses there.
  Octets forged = kDatagram;
  std::fill(forged.begin() + 200, forged.begin() + 600, 'X');
  CHECK(d.add(f.v4(3, 200, 600, true, forged), 0, proto).empty());
  CHECK(c.get(Counter::frag_overlap) == 2);
  CHECK(d.add(f.v4(3, 400, 1200, true), 0, proto).empty());
  CHECK(c.get(Counter::frag_overlap) == 3);
  const Bytes whole = d.add(f.v4(3, 1200, kDatagram.size(), false), 0, proto);
  REQUIRE(whole.size() == kDatagram.size());
  Octets expect = kDatagram;
  std::fill(expect.begin() + 400, expect.begin() + 600, 'X');
  CHECK(to_octets(whole) == expect);
  CHECK(c.get(Counter::frag_reassembled) == 1);
}

TEST_CASE("defrag: an IPv6 overlap drops the whole datagram (RFC 5722)", "[defrag][ipv6]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  CHECK(d.add(f.v6(77, 0, 400, true), 0, proto).empty());
  CHECK(d.add(f.v6(77, 0, 400, true), 0, proto).empty());  // duplicate
  CHECK(c.get(Counter::frag_overlap) == 1);
  CHECK(d.pending() == 0);
  CHECK(d.bytes_held() == 0);
  // The rest arrives: it starts a new, incomplete datagram; nothing is reassembled.
  CHECK(d.add(f.v6(77, 400, 800, true), 0, proto).empty());
  CHECK(d.add(f.v6(77, 800, kDatagram.size(), false), 0, proto).empty());
  CHECK(c.get(Counter::frag_reassembled) == 0);
  CHECK(d.pending() == 1);
}

TEST_CASE("defrag: a non-final fragment must carry a multiple of 8 octets", "[defrag]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  CHECK(d.add(f.v4(4, 0, 404, true), 0, proto).empty());
  CHECK(c.get(Counter::frag_invalid) == 1);
  CHECK(d.pending() == 0);
  CHECK(d.add(f.v4(4, 400, 400, true), 0, proto).empty());  // empty, MF set
  CHECK(c.get(Counter::frag_invalid) == 2);
  // The last fragment may have any length.
  CHECK(d.add(f.v4(4, 400, 403, false), 0, proto).empty());
  CHECK(c.get(Counter::frag_invalid) == 2);
  CHECK(d.pending() == 1);
}

TEST_CASE("defrag: fragments that disagree on the end of the datagram are invalid", "[defrag]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  CHECK(d.add(f.v4(5, 800, 1000, false), 0, proto).empty());  // datagram ends at 1000
  CHECK(d.add(f.v4(5, 800, 1016, false), 0, proto).empty());  // ... no, at 1016
  CHECK(c.get(Counter::frag_invalid) == 1);
  CHECK(d.pending() == 0);

  CHECK(d.add(f.v4(6, 800, 1000, false), 0, proto).empty());
  CHECK(d.add(f.v4(6, 1000, 1200, true), 0, proto).empty());  // data past the end
  CHECK(c.get(Counter::frag_invalid) == 2);
  CHECK(d.pending() == 0);

  CHECK(d.add(f.v4(7, 1000, 1200, true), 0, proto).empty());
  CHECK(d.add(f.v4(7, 400, 800, false), 0, proto).empty());  // ends before data already seen
  CHECK(c.get(Counter::frag_invalid) == 3);
  CHECK(d.pending() == 0);
  CHECK(d.bytes_held() == 0);
}

TEST_CASE("defrag: fragments reaching past 65535 octets are too big", "[defrag]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  const Octets junk(70000, 0x5A);
  // Offset 8191 * 8 = 65528 with 8 octets ends at 65536.
  CHECK(d.add(f.v4(8, 65528, 65536, false, junk), 0, proto).empty());
  CHECK(c.get(Counter::frag_too_big) == 1);
  CHECK(d.pending() == 0);
  // Ending exactly at 65535 is allowed.
  CHECK(d.add(f.v4(8, 65528, 65535, false, junk), 0, proto).empty());
  CHECK(c.get(Counter::frag_too_big) == 1);
  CHECK(d.pending() == 1);
  // IPv6 the same.
  CHECK(d.add(f.v6(8, 65528, 65540, false, junk), 0, proto).empty());
  CHECK(c.get(Counter::frag_too_big) == 2);
}

TEST_CASE("defrag: expire_all gives up every datagram, at any packet time", "[defrag]") {
  // End of input. Packet time may be near the end of what a Timestamp holds (fuzz_frame got
  // there: finish() added a year to it, which overflowed).
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  const Timestamp late = std::numeric_limits<Timestamp>::max() - kSec;
  CHECK(d.add(f.v4(1, 0, 400, true), late, proto).empty());
  CHECK(d.add(f.v6(2, 0, 400, true), late, proto).empty());
  CHECK(d.pending() == 2);
  d.expire_all();
  CHECK(d.pending() == 0);
  CHECK(c.get(Counter::frag_timeout) == 2);
  CHECK(d.bytes_held() == 0);
}

TEST_CASE("defrag: incomplete datagrams expire on packet time", "[defrag]") {
  Counters c;
  DefragLimits lim;
  lim.timeout = 30 * kSec;
  Defragmenter d(lim, c);
  Frags f;
  std::uint8_t proto = 0;
  const Timestamp t0 = 1'700'000'000 * kSec;
  CHECK(d.add(f.v4(1, 0, 400, true), t0, proto).empty());
  CHECK(d.add(f.v4(2, 0, 400, true), t0 + 10 * kSec, proto).empty());
  CHECK(d.add(f.v4(2, 400, 800, true), t0 + 20 * kSec, proto).empty());  // touched again at +20 s
  d.expire(t0 + 29 * kSec);
  CHECK(d.pending() == 2);
  CHECK(c.get(Counter::frag_timeout) == 0);
  d.expire(t0 + 31 * kSec);  // id 1 was last touched 31 s ago
  CHECK(d.pending() == 1);
  CHECK(c.get(Counter::frag_timeout) == 1);
  CHECK(d.bytes_held() == 800);
  d.expire(t0 + 51 * kSec);
  CHECK(d.pending() == 0);
  CHECK(c.get(Counter::frag_timeout) == 2);
  CHECK(d.bytes_held() == 0);
  // A late fragment of an expired datagram starts afresh and does not complete it.
  CHECK(d.add(f.v4(1, 400, kDatagram.size(), false), t0 + 52 * kSec, proto).empty());
  CHECK(c.get(Counter::frag_reassembled) == 0);
}

TEST_CASE("defrag: max_datagrams evicts the least recently used datagram", "[defrag]") {
  Counters c;
  DefragLimits lim;
  lim.max_datagrams = 2;
  Defragmenter d(lim, c);
  Frags f;
  std::uint8_t proto = 0;
  for (std::uint16_t id = 1; id <= 3; ++id) CHECK(d.add(f.v4(id, 0, 648, true), id, proto).empty());
  CHECK(d.pending() == 2);
  CHECK(c.get(Counter::frag_evicted) == 1);
  CHECK(d.bytes_held() == 2 * 648);
  // 2 and 3 are still there; 1 was evicted.
  CHECK_FALSE(d.add(f.v4(3, 648, kDatagram.size(), false), 4, proto).empty());
  CHECK_FALSE(d.add(f.v4(2, 648, kDatagram.size(), false), 5, proto).empty());
  CHECK(d.add(f.v4(1, 648, kDatagram.size(), false), 6, proto).empty());
  CHECK(c.get(Counter::frag_reassembled) == 2);
}

TEST_CASE("defrag: max_bytes evicts the oldest datagrams until a new fragment fits", "[defrag]") {
  Counters c;
  DefragLimits lim;
  lim.max_bytes = 1000;
  Defragmenter d(lim, c);
  Frags f;
  std::uint8_t proto = 0;
  CHECK(d.add(f.v4(1, 0, 400, true), 1, proto).empty());
  CHECK(d.add(f.v4(2, 0, 400, true), 2, proto).empty());
  CHECK(d.bytes_held() == 800);
  CHECK(d.add(f.v4(3, 0, 400, true), 3, proto).empty());  // 1200 > 1000: datagram 1 goes
  CHECK(c.get(Counter::frag_evicted) == 1);
  CHECK(d.pending() == 2);
  CHECK(d.bytes_held() == 800);
  CHECK(d.bytes_held() <= lim.max_bytes);
  // A fragment that alone is beyond the budget: every other datagram goes, then it does too.
  CHECK(d.add(f.v4(4, 0, 1200, true), 4, proto).empty());
  CHECK(d.pending() == 0);
  CHECK(d.bytes_held() == 0);
  CHECK(c.get(Counter::frag_evicted) == 4);
}

TEST_CASE("defrag: the reassembled span stays valid until the next add()", "[defrag]") {
  Counters c;
  Defragmenter d(DefragLimits{}, c);
  Frags f;
  std::uint8_t proto = 0;
  const Octets other = udp(53, 5555, response(0x77, "other.example.com", 1, 60));
  REQUIRE(other.size() > 800);
  // Datagram 2 is in progress while datagram 1 completes.
  CHECK(d.add(f.v4(2, 0, 400, true, other), 0, proto).empty());
  CHECK(d.add(f.v4(1, 0, 648, true), 0, proto).empty());
  const Bytes one = d.add(f.v4(1, 648, kDatagram.size(), false), 0, proto);
  REQUIRE(!one.empty());
  // expire() and the accessors do not recycle the completed buffer.
  d.expire(0);
  CHECK(d.pending() == 1);
  CHECK(to_octets(one) == kDatagram);
  // Datagram 3 completes right after (reusing the freed buffer); both results are right.
  CHECK(d.add(f.v4(3, 400, other.size(), false, other), 0, proto).empty());
  const Bytes three = d.add(f.v4(3, 0, 400, true, other), 0, proto);
  CHECK(to_octets(three) == other);
  const Bytes two = d.add(f.v4(2, 400, other.size(), false, other), 0, proto);
  CHECK(to_octets(two) == other);
  CHECK(c.get(Counter::frag_reassembled) == 3);
  CHECK(d.bytes_held() == 0);
}
