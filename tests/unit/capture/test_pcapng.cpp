// pcapng block reader (sensor/capture/src/pcapng.cpp) and the pcapng file source: hand-built
// blocks in both byte orders, several interfaces and sections, every packet block kind, the
// skipped blocks, and malformed input (each an error with its offset, or a named counter).
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "capture/pcapng_builder.hpp"
#include "dnsvigil/capture/pcapng.hpp"
#include "dnsvigil/capture/source.hpp"
#include "dnsvigil/sensor/decode.hpp"
#include "sensor/frame_builder.hpp"

using namespace dnsvigil;
using capture::PcapngPacket;
using capture::PcapngReader;
using test::Pcapng;
using Octets = std::vector<std::uint8_t>;

namespace {

using Next = PcapngReader::Next;

const Octets kFrameA{0xAA, 0xBB, 0xCC};              // 3 octets: padding follows
const Octets kFrameB{1, 2, 3, 4, 5, 6, 7, 8};       // a multiple of 4

struct Got {
  sensor::Timestamp ts;
  Octets data;
  std::uint32_t wire;
  std::uint32_t iface;
};

// Every packet, then the final result.
Next read_all(PcapngReader& r, std::vector<Got>& out) {
  PcapngPacket p;
  for (;;) {
    const Next n = r.next(p);
    if (n != Next::packet) return n;
    out.push_back({p.ts, Octets(p.data.begin(), p.data.end()), p.wire_len, p.interface});
  }
}

Next read_bytes(const Octets& file, std::vector<Got>& out, std::string* error = nullptr,
                capture::PcapngStats* stats = nullptr) {
  PcapngReader r{dnsparse::Bytes{file}};
  const Next n = read_all(r, out);
  if (error != nullptr) *error = r.error();
  if (stats != nullptr) *stats = r.stats();
  return n;
}

std::string error_of(const Octets& file) {
  std::vector<Got> got;
  std::string e;
  CHECK(read_bytes(file, got, &e) == Next::error);
  return e;
}

// Two interfaces that libpcap 1.10 refuses together: Ethernet with a 262144 snap length and raw
// IP (LINKTYPE_RAW) with 96, named, the second in nanoseconds.
Pcapng two_interfaces(bool be) {
  Pcapng f;
  f.shb(be);
  f.idb(1, 262144, test::cat({f.opt_name("veth-a"), f.opt_end()}));
  f.idb(101, 96, test::cat({f.opt_name("veth-b"), f.opt_tsresol(9), f.opt_end()}));
  f.epb(0, 1'700'000'000'123456ULL, kFrameA);         // microseconds (the default)
  f.epb(1, 1'700'000'001'000000007ULL, kFrameB, 200);  // nanoseconds; 200 on the wire
  f.epb(0, 1'700'000'002'000000ULL, kFrameB);
  return f;
}

}  // namespace

TEST_CASE("pcapng: two interfaces with their own link type, snap length, name and resolution", "[pcapng]") {
  for (const bool be : {false, true}) {
    INFO((be ? "big" : "little") << "-endian section");
    const Pcapng f = two_interfaces(be);
    PcapngReader r{dnsparse::Bytes{f.out}};
    REQUIRE(r.headers() == Next::packet);
    REQUIRE(r.interfaces().size() == 2);
    CHECK(r.interface(0).link_type == sensor::dlt::kEthernet);
    CHECK(r.interface(0).snaplen == 262144);
    CHECK(r.interface(0).name == "veth-a");
    CHECK(r.interface(1).file_link_type == 101);
    CHECK(r.interface(1).link_type == sensor::dlt::kRaw);  // LINKTYPE_RAW 101 is DLT_RAW 12
    CHECK(r.interface(1).supported);
    CHECK(r.interface(1).snaplen == 96);
    CHECK(r.interface(1).name == "veth-b");
    CHECK(r.interface(1).index == 1);
    std::vector<Got> got;
    REQUIRE(read_all(r, got) == Next::end);
    REQUIRE(got.size() == 3);
    CHECK(got[0].ts == 1'700'000'000'123456000LL);
    CHECK(got[0].data == kFrameA);
    CHECK(got[0].iface == 0);
    CHECK(got[1].ts == 1'700'000'001'000000007LL);
    CHECK(got[1].data == kFrameB);
    CHECK(got[1].wire == 200);
    CHECK(got[1].iface == 1);
    CHECK(got[2].ts == 1'700'000'002'000000000LL);
    CHECK(got[2].iface == 0);
    CHECK(r.stats().sections == 1);
    CHECK(r.stats().interfaces == 2);
    CHECK(r.stats().packets == 3);
    CHECK(r.error().empty());
  }
}

TEST_CASE("pcapng: several sections, each in its own byte order; interface ids restart, indexes go on", "[pcapng]") {
  Pcapng f;
  f.shb(false).idb(1, 0, f.opt_name("eth0")).epb(0, 1'000'000, kFrameA);
  f.shb(true).idb(113, 65535).idb(1, 1500, f.opt_name("eth1")).epb(1, 2'000'000, kFrameB).epb(0, 3'000'000, kFrameA);
  PcapngReader r{dnsparse::Bytes{f.out}};
  PcapngPacket p;
  REQUIRE(r.next(p) == Next::packet);
  CHECK(p.interface == 0);
  CHECK(r.interface(0).index == 0);
  REQUIRE(r.next(p) == Next::packet);
  CHECK(p.ts == 2'000'000'000);
  CHECK(p.interface == 1);
  CHECK(r.interfaces().size() == 2);
  CHECK(r.interface(1).index == 2);  // third IDB of the file
  CHECK(r.interface(1).name == "eth1");
  CHECK(r.interface(0).link_type == sensor::dlt::kLinuxSll);
  REQUIRE(r.next(p) == Next::packet);
  CHECK(Octets(p.data.begin(), p.data.end()) == kFrameA);
  CHECK(r.next(p) == Next::end);
  CHECK(r.stats().sections == 2);
}

TEST_CASE("pcapng: if_tsresol (powers of 10 and of 2) and if_tsoffset", "[pcapng]") {
  Pcapng f;
  f.shb(false);
  f.idb(1, 0, test::cat({f.opt_tsresol(3), f.opt_end()}));                          // milliseconds
  f.idb(1, 0, test::cat({f.opt_tsresol(0x80 | 10), f.opt_end()}));                  // 2^-10 s
  f.idb(1, 0, test::cat({f.opt_tsresol(12), f.opt_tsoffset(100), f.opt_end()}));    // picoseconds, +100 s
  f.idb(1, 0, test::cat({f.opt_tsresol(0), f.opt_tsoffset(-5), f.opt_end()}));      // seconds, -5 s
  f.epb(0, 1500, kFrameA);
  f.epb(1, 3 * 1024 + 512, kFrameA);
  f.epb(2, 7'000'000'000'123ULL, kFrameA);
  f.epb(3, 10, kFrameA);
  std::vector<Got> got;
  REQUIRE(read_bytes(f.out, got) == Next::end);
  REQUIRE(got.size() == 4);
  CHECK(got[0].ts == 1'500'000'000);
  CHECK(got[1].ts == 3'500'000'000);
  CHECK(got[2].ts == 107'000'000'000);  // 7 s + 123 ps (below a nanosecond) + 100 s
  CHECK(got[3].ts == 5'000'000'000);
}

TEST_CASE("pcapng: time stamps outside 1970..2106 (what pcap can express) are clamped and counted", "[pcapng]") {
  Pcapng f;
  f.shb(false);
  f.idb(1, 0, test::cat({f.opt_tsoffset(-10), f.opt_end()}));
  f.idb(1, 0, test::cat({f.opt_tsresol(0), f.opt_end()}));  // seconds
  f.epb(0, 1'000'000, kFrameA);                               // 1 s - 10 s
  f.epb(1, 1ULL << 62, kFrameA);                              // 2^62 seconds
  std::vector<Got> got;
  capture::PcapngStats st;
  REQUIRE(read_bytes(f.out, got, nullptr, &st) == Next::end);
  REQUIRE(got.size() == 2);
  CHECK(got[0].ts == 0);
  CHECK(got[1].ts == capture::kPcapngMaxTimestamp);
  CHECK(st.time_clamped == 2);
}

TEST_CASE("pcapng: Simple Packet Blocks: interface 0's snap length, the previous time stamp", "[pcapng]") {
  Pcapng f;
  f.shb(false).idb(1, 4);
  f.epb(0, 5'000'000, kFrameB);
  f.spb(8, kFrameB);  // 8 on the wire, 4 captured (the snap length)
  f.spb(2, {9, 9});   // shorter than the snap length
  std::vector<Got> got;
  capture::PcapngStats st;
  REQUIRE(read_bytes(f.out, got, nullptr, &st) == Next::end);
  REQUIRE(got.size() == 3);
  CHECK(got[1].data == Octets{1, 2, 3, 4});
  CHECK(got[1].wire == 8);
  CHECK(got[1].ts == 5'000'000'000);
  CHECK(got[2].data == Octets{9, 9});
  CHECK(st.no_timestamp == 2);
}

TEST_CASE("pcapng: obsolete Packet Blocks", "[pcapng]") {
  Pcapng f;
  f.shb(true).idb(1, 0).idb(101, 0).pb(1, 42'000'000, kFrameA);
  std::vector<Got> got;
  REQUIRE(read_bytes(f.out, got) == Next::end);
  REQUIRE(got.size() == 1);
  CHECK(got[0].iface == 1);
  CHECK(got[0].ts == 42'000'000'000);
  CHECK(got[0].data == kFrameA);
}

TEST_CASE("pcapng: NRB, ISB, DSB, custom and unknown blocks are skipped and counted", "[pcapng]") {
  Pcapng f;
  f.shb(false).idb(1, 0);
  f.block(4, {0, 0, 0, 0});        // NRB with nrb_record_end only
  f.epb(0, 1, kFrameA);
  f.block(5, Octets(20, 0));       // ISB
  f.block(0x0A, Octets(8, 0));     // DSB
  f.block(0x00000BAD, Octets(8, 7));
  f.block(0x40000BAD, Octets(4, 7));
  f.block(0x12345678, {});
  f.epb(0, 2, kFrameA);
  std::vector<Got> got;
  capture::PcapngStats st;
  REQUIRE(read_bytes(f.out, got, nullptr, &st) == Next::end);
  CHECK(got.size() == 2);
  CHECK(st.blocks_skipped == 6);
}

TEST_CASE("pcapng: packets of an unsupported link type are skipped and counted", "[pcapng]") {
  Pcapng f;
  f.shb(false).idb(220, 0).idb(1, 0);  // LINKTYPE_USB_LINUX_MMAPPED, Ethernet
  f.epb(0, 1, kFrameA).epb(1, 2, kFrameB).epb(0, 3, kFrameA);
  std::vector<Got> got;
  capture::PcapngStats st;
  REQUIRE(read_bytes(f.out, got, nullptr, &st) == Next::end);
  REQUIRE(got.size() == 1);
  CHECK(got[0].iface == 1);
  CHECK(st.unsupported_link == 2);
}

TEST_CASE("pcapng: a packet longer than 262144 octets is cut to it and counted", "[pcapng]") {
  Pcapng f;
  f.shb(false).idb(1, 0).epb(0, 1, Octets(capture::kMaxFrame + 10, 0x55));
  std::vector<Got> got;
  capture::PcapngStats st;
  REQUIRE(read_bytes(f.out, got, nullptr, &st) == Next::end);
  REQUIRE(got.size() == 1);
  CHECK(got[0].data.size() == capture::kMaxFrame);
  CHECK(got[0].wire == capture::kMaxFrame + 10);
  CHECK(st.oversized == 1);
}

TEST_CASE("pcapng: malformed IDB options are counted, the options before them kept", "[pcapng]") {
  SECTION("an option running past the block") {
    Pcapng f;
    f.shb(false);
    Octets opts = f.opt_name("wlan0");
    Pcapng::put16(opts, false, 9);    // if_tsresol
    Pcapng::put16(opts, false, 200);  // ... 200 octets long, in a block that has 4
    Pcapng::put32(opts, false, 0);
    f.idb(1, 0, opts).epb(0, 7, kFrameA);
    std::vector<Got> got;
    PcapngReader r{dnsparse::Bytes{f.out}};
    REQUIRE(read_all(r, got) == Next::end);
    CHECK(r.interface(0).name == "wlan0");
    CHECK(r.interface(0).ts_resol == 6);
    CHECK(r.stats().bad_options == 1);
    CHECK(got.size() == 1);
  }
  SECTION("if_tsresol of the wrong size") {
    Pcapng f;
    f.shb(false).idb(1, 0, f.opt(9, {6, 6})).epb(0, 7, kFrameA);
    std::vector<Got> got;
    capture::PcapngStats st;
    REQUIRE(read_bytes(f.out, got, nullptr, &st) == Next::end);
    CHECK(st.bad_options == 1);
  }
  SECTION("a name with a NUL, cut at kMaxInterfaceName") {
    Pcapng f;
    f.shb(false).idb(1, 0, f.opt(2, {'e', 't', 'h', '0', 0})).idb(1, 0, f.opt_name(std::string(400, 'x')));
    PcapngReader r{dnsparse::Bytes{f.out}};
    REQUIRE(r.headers() == Next::end);
    CHECK(r.interface(0).name == "eth0");
    CHECK(r.interface(1).name.size() == capture::kMaxInterfaceName);
  }
}

TEST_CASE("pcapng: malformed blocks are errors naming the offset and the fault", "[pcapng][malformed]") {
  Pcapng ok;
  ok.shb(false).idb(1, 0);
  const std::size_t after_headers = ok.out.size();

  SECTION("empty input") { CHECK(error_of({}).find("no Section Header Block") != std::string::npos); }
  SECTION("the first block is not an SHB") {
    Pcapng f;
    f.idb(1, 0);
    CHECK(error_of(f.out).find("first block") != std::string::npos);
  }
  SECTION("wrong byte-order magic") {
    Pcapng f;
    f.shb(false);
    f.out[8] = 0x99;
    CHECK(error_of(f.out).find("byte-order magic") != std::string::npos);
  }
  SECTION("version 2") {
    Pcapng f;
    f.shb(false, 2, 0);
    CHECK(error_of(f.out).find("version 2.0") != std::string::npos);
  }
  SECTION("file cut inside a block") {
    Pcapng f = ok;
    f.epb(0, 1, kFrameB);
    f.out.erase(f.out.end() - 5, f.out.end());
    const std::string e = error_of(f.out);
    CHECK(e.find("ends inside a block") != std::string::npos);
    CHECK(e.find("offset " + std::to_string(after_headers)) != std::string::npos);
  }
  SECTION("file cut inside a block header") {
    Pcapng f = ok;
    f.raw({6, 0, 0});
    CHECK(error_of(f.out).find("block header") != std::string::npos);
  }
  SECTION("length below 12, not a multiple of 4, above the bound") {
    for (const std::uint32_t len : {0u, 8u, 30u, capture::kPcapngMaxBlock + 4}) {
      Pcapng f = ok;
      Pcapng::put32(f.out, false, 6);
      Pcapng::put32(f.out, false, len);
      f.raw(Octets(32, 0));
      INFO("length " << len);
      CHECK_FALSE(error_of(f.out).empty());
    }
  }
  SECTION("trailing length differs") {
    Pcapng f = ok;
    f.epb(0, 1, kFrameB);
    f.out.back() = 0x7F;
    CHECK(error_of(f.out).find("trailing length") != std::string::npos);
  }
  SECTION("EPB names an interface the section lacks") {
    Pcapng f = ok;
    f.epb(1, 1, kFrameA);
    CHECK(error_of(f.out).find("names interface 1") != std::string::npos);
  }
  SECTION("SPB without any interface") {
    Pcapng f;
    f.shb(false).spb(4, kFrameB);
    CHECK(error_of(f.out).find("names interface 0") != std::string::npos);
  }
  SECTION("EPB captured length larger than its data") {
    Pcapng f = ok;
    f.epb(0, 1, kFrameB, 0, 100);
    CHECK(error_of(f.out).find("holds 8 octets of packet data but says 100") != std::string::npos);
  }
  SECTION("EPB captured length near 2^32 (no wrap-around)") {
    Pcapng f = ok;
    f.epb(0, 1, kFrameB, 0, 0xFFFFFFFF);
    CHECK_FALSE(error_of(f.out).empty());
  }
  SECTION("blocks shorter than their fixed part") {
    for (const std::uint32_t type : {1u, 2u, 3u, 6u}) {
      Pcapng f = ok;
      f.block(type, {});
      INFO("type " << type);
      CHECK(error_of(f.out).find("at least") != std::string::npos);
    }
    Pcapng f;
    f.shb(false);
    f.block(0x0A0D0D0A, {0x4D, 0x3C, 0x2B, 0x1A});
    CHECK(error_of(f.out).find("at least 28") != std::string::npos);
  }
  SECTION("unsupported time-stamp resolution") {
    Pcapng f;
    f.shb(false).idb(1, 0, f.opt_tsresol(20));
    CHECK(error_of(f.out).find("10^-20") != std::string::npos);
    Pcapng g;
    g.shb(false).idb(1, 0, g.opt_tsresol(0x80 | 64));
    CHECK(error_of(g.out).find("2^-64") != std::string::npos);
  }
  SECTION("more interfaces than kPcapngMaxInterfaces") {
    Pcapng f;
    f.shb(false);
    for (std::size_t i = 0; i <= capture::kPcapngMaxInterfaces; ++i) f.idb(1, 0);
    CHECK(error_of(f.out).find("more than 4096 interfaces") != std::string::npos);
  }
  SECTION("an error stays: every later call returns it") {
    Pcapng f = ok;
    f.epb(3, 1, kFrameA).epb(0, 1, kFrameA);
    PcapngReader r{dnsparse::Bytes{f.out}};
    PcapngPacket p;
    CHECK(r.next(p) == Next::error);
    CHECK(r.next(p) == Next::error);
    CHECK(r.headers() == Next::error);
  }
}

TEST_CASE("pcapng: headers() stops in front of the first packet and next() reads it", "[pcapng]") {
  const Pcapng f = two_interfaces(false);
  PcapngReader r{dnsparse::Bytes{f.out}};
  REQUIRE(r.headers() == Next::packet);
  REQUIRE(r.headers() == Next::packet);  // again: still in front of it
  std::vector<Got> got;
  CHECK(read_all(r, got) == Next::end);
  CHECK(got.size() == 3);
}

TEST_CASE("pcapng: from a pipe written a few octets at a time, with a prefix already read", "[pcapng]") {
  Pcapng f = two_interfaces(true);
  f.epb(0, 1, Octets(3u << 20, 0x11));  // a block larger than one read chunk
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::thread writer([&] {
    std::size_t pos = 4;
    while (pos < f.out.size()) {
      const std::size_t n = std::min<std::size_t>(pos < 4096 ? 7 : 65536, f.out.size() - pos);
      if (::write(fds[1], f.out.data() + pos, n) != static_cast<ssize_t>(n)) break;
      pos += n;
    }
    ::close(fds[1]);
  });
  PcapngReader r{fds[0], dnsparse::Bytes{f.out.data(), 4}};
  std::vector<Got> got;
  CHECK(read_all(r, got) == Next::end);
  writer.join();
  ::close(fds[0]);
  REQUIRE(got.size() == 4);
  CHECK(got[1].data == kFrameB);
  CHECK(got[3].data.size() == capture::kMaxFrame);  // cut
}

TEST_CASE("pcapng: a file of many small blocks through a descriptor reads as from memory", "[pcapng]") {
  // The descriptor reader's buffer starts small and grows with each refill: blocks straddle
  // every refill boundary on the way to the largest chunk.
  Pcapng f = two_interfaces(false);
  for (std::uint32_t i = 0; i < 40000; ++i)
    f.epb(i % 2, 1'700'000'003'000000ULL + i, Octets(20 + i % 301, static_cast<std::uint8_t>(i)));
  REQUIRE(f.out.size() > (4u << 20));
  std::vector<Got> want;
  REQUIRE(read_bytes(f.out, want) == Next::end);
  FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  REQUIRE(std::fwrite(f.out.data(), 1, f.out.size(), tmp) == f.out.size());
  REQUIRE(std::fflush(tmp) == 0);
  const int fd = ::open(("/proc/self/fd/" + std::to_string(::fileno(tmp))).c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  Octets head(4);
  REQUIRE(::read(fd, head.data(), 4) == 4);
  PcapngReader r{fd, dnsparse::Bytes{head}};
  std::vector<Got> got;
  CHECK(read_all(r, got) == Next::end);
  ::close(fd);
  std::fclose(tmp);
  REQUIRE(got.size() == want.size());
  REQUIRE(got.size() == 40003);
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].ts == want[i].ts);
    CHECK(got[i].data == want[i].data);
    CHECK(got[i].iface == want[i].iface);
    if (got[i].data != want[i].data) break;
  }
}

TEST_CASE("pcapng: the format check", "[pcapng]") {
  const Octets shb{0x0A, 0x0D, 0x0D, 0x0A};
  CHECK(capture::looks_like_pcapng(shb));
  CHECK_FALSE(capture::looks_like_pcapng(Octets{0xD4, 0xC3, 0xB2, 0xA1}));  // pcap, little-endian
  CHECK_FALSE(capture::looks_like_pcapng(Octets{0x0A, 0x0D}));
  CHECK(capture::dlt_of_linktype(101) == 12);
  CHECK(capture::dlt_of_linktype(1) == 1);
  CHECK(capture::dlt_of_linktype(276) == 276);
}

// ------------------------------------------------------------------------------------ Source

namespace {

struct Recorder final : capture::FrameHandler {
  std::vector<std::pair<std::uint32_t, int>> interfaces;  // (index, link type) per on_interface
  std::vector<std::string> names;
  std::vector<std::pair<int, std::size_t>> frames;         // (link type then in force, size)
  int link = -1;
  void on_frame(sensor::Timestamp, dnsparse::Bytes frame, std::uint32_t) override { frames.emplace_back(link, frame.size()); }
  void on_interface(const capture::Interface& i) override {
    interfaces.emplace_back(i.index, i.link_type);
    names.emplace_back(i.name);
    link = i.link_type;
  }
};

std::string temp_file(const Octets& data) {
  char path[] = "/tmp/dnsvigil-test-pcapng-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  ::close(fd);
  return path;
}

int drain(capture::Source& s, Recorder& rec) {
  int total = 0;
  for (int n; (n = s.dispatch(rec, 2)) >= 0;) total += n;
  return total;
}

}  // namespace

TEST_CASE("pcapng source: each frame comes with its interface's link type; BPF per link type", "[pcapng][source]") {
  const Octets dns = test::udp(40000, 53, test::query(7, "example.org"));
  const Octets other = test::udp(40000, 123, Octets(48, 0));
  const Octets ip_dns = test::Ipv4{}.build(dns), ip_other = test::Ipv4{}.build(other);
  Pcapng f;
  f.shb(false);
  f.idb(1, 262144, test::cat({f.opt_name("eth0"), f.opt_end()}));
  f.idb(101, 128, test::cat({f.opt_name("tun0"), f.opt_end()}));
  f.epb(0, 1, test::cat({test::eth(test::kEtherIpv4), ip_dns}));
  f.epb(1, 2, ip_dns);
  f.epb(1, 3, ip_other);
  f.epb(0, 4, test::cat({test::eth(test::kEtherIpv4), ip_other}));
  f.epb(0, 5, test::cat({test::eth(test::kEtherIpv4), ip_dns}));
  const std::string path = temp_file(f.out);

  SECTION("no filter") {
    auto src = capture::Source::open_file(path, "");
    CHECK(src->link_type() == sensor::dlt::kEthernet);
    Recorder rec;
    CHECK(drain(*src, rec) == 5);
    CHECK(rec.interfaces == std::vector<std::pair<std::uint32_t, int>>{{0, 1}, {1, 12}, {0, 1}});
    CHECK(rec.names == std::vector<std::string>{"eth0", "tun0", "eth0"});
    REQUIRE(rec.frames.size() == 5);
    CHECK(rec.frames[1] == std::pair<int, std::size_t>{12, ip_dns.size()});
    CHECK(src->notes().empty());
  }
  SECTION("'udp port 53' compiled for Ethernet and for raw IP") {
    auto src = capture::Source::open_file(path, "udp port 53");
    Recorder rec;
    CHECK(drain(*src, rec) == 3);
    REQUIRE(rec.frames.size() == 3);
    CHECK(rec.frames[0].first == 1);
    CHECK(rec.frames[1] == std::pair<int, std::size_t>{12, ip_dns.size()});
    CHECK(rec.frames[2].first == 1);
  }
  SECTION("a bad filter is an error at open") {
    CHECK_THROWS_AS(capture::Source::open_file(path, "udp port"), capture::CaptureError);
  }
  ::unlink(path.c_str());
}

TEST_CASE("pcapng source: errors at open and while reading", "[pcapng][source]") {
  SECTION("only unsupported link types: refused at open like a pcap file") {
    Pcapng f;
    f.shb(false).idb(220, 0).epb(0, 1, kFrameA);
    const std::string path = temp_file(f.out);
    CHECK_THROWS_WITH(capture::Source::open_file(path, ""), Catch::Contains("unsupported link type"));
    ::unlink(path.c_str());
  }
  SECTION("a broken block after good packets: they are delivered, then the error") {
    Pcapng f;
    f.shb(false).idb(1, 0).epb(0, 1, kFrameA).epb(0, 2, kFrameA).epb(5, 3, kFrameA);
    const std::string path = temp_file(f.out);
    auto src = capture::Source::open_file(path, "");
    Recorder rec;
    CHECK_THROWS_WITH(drain(*src, rec), Catch::Contains("names interface 5"));
    CHECK(rec.frames.size() == 2);
    ::unlink(path.c_str());
  }
  SECTION("skipped interfaces are noted") {
    Pcapng f;
    f.shb(false).idb(1, 0).idb(220, 0).epb(1, 1, kFrameA).epb(0, 2, kFrameA);
    const std::string path = temp_file(f.out);
    auto src = capture::Source::open_file(path, "");
    Recorder rec;
    CHECK(drain(*src, rec) == 1);
    CHECK(src->notes().find("1 packets of interfaces with unsupported link types") != std::string::npos);
    ::unlink(path.c_str());
  }
}

TEST_CASE("capture files: pcap still goes through libpcap", "[pcapng][source]") {
  // A little-endian microsecond pcap header (snaplen 65535, Ethernet) and one record.
  Octets f;
  Pcapng::put32(f, false, 0xA1B2C3D4);
  Pcapng::put16(f, false, 2);
  Pcapng::put16(f, false, 4);
  Pcapng::put32(f, false, 0);
  Pcapng::put32(f, false, 0);
  Pcapng::put32(f, false, 65535);
  Pcapng::put32(f, false, 1);
  Pcapng::put32(f, false, 10);   // seconds
  Pcapng::put32(f, false, 5);    // microseconds
  Pcapng::put32(f, false, 3);    // captured
  Pcapng::put32(f, false, 3);    // original
  f.insert(f.end(), kFrameA.begin(), kFrameA.end());
  const std::string path = temp_file(f);
  auto src = capture::Source::open_file(path, "");
  Recorder rec;
  CHECK(drain(*src, rec) == 1);
  CHECK(rec.interfaces.empty());  // one interface: link_type() says it
  CHECK(src->link_type() == 1);
  ::unlink(path.c_str());
}
