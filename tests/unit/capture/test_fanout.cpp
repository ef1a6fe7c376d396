// The kernel fan-out program (sensor/capture/src/fanout.cpp): run by a small classic-BPF
// interpreter over hand-built network-layer packets (both directions of one client on one slot,
// VLAN tags left in the data, fragments, IPv6 extension headers, spread over the slots), then,
// as root, by the kernel itself on two packet sockets of the loopback interface.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dnsvigil/capture/fanout.hpp"
#include "dnsvigil/capture/source.hpp"
#include "sensor/frame_builder.hpp"

using namespace dnsvigil;
using capture::client_slot;
using capture::fanout_program;
using sensor::IpAddr;
using Octets = std::vector<std::uint8_t>;

namespace {

// What a fan-out program sees of a packet: skb->protocol and the octets from the network header on.
struct Skb {
  std::uint16_t protocol = 0;
  Octets net;
};

// Classic BPF as the kernel runs a fan-out program, only as far as fanout_program() needs: every
// packet load must be relative to the network header (a plain offset would read different
// octets for sent and received packets), a load past the end ends the program with 0 (the
// kernel's converted program does the same), and scratch memory is read only once written.
std::uint32_t run(const std::vector<sock_filter>& prog, const Skb& skb) {
  std::uint32_t a = 0, x = 0;
  std::uint32_t mem[BPF_MEMWORDS] = {};
  bool written[BPF_MEMWORDS] = {};
  for (std::size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
      case BPF_LDX: {
        std::uint32_t v = 0;
        switch (BPF_MODE(f.code)) {
          case BPF_IMM: v = f.k; break;
          case BPF_MEM:
            REQUIRE(f.k < BPF_MEMWORDS);
            REQUIRE(written[f.k]);
            v = mem[f.k];
            break;
          case BPF_ABS:
          case BPF_IND: {
            REQUIRE(BPF_CLASS(f.code) == BPF_LD);
            if (BPF_MODE(f.code) == BPF_ABS && f.k == static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL)) {
              v = skb.protocol;
              break;
            }
            const std::int64_t off =
                std::int64_t{static_cast<std::int32_t>(f.k)} + (BPF_MODE(f.code) == BPF_IND ? std::int64_t{x} : 0);
            REQUIRE(off >= SKF_NET_OFF);
            REQUIRE(off < SKF_AD_OFF);
            const auto at = static_cast<std::size_t>(off - SKF_NET_OFF);
            const std::size_t size = BPF_SIZE(f.code) == BPF_B ? 1 : BPF_SIZE(f.code) == BPF_H ? 2 : 4;
            if (at + size > skb.net.size()) return 0;
            for (std::size_t i = 0; i < size; ++i) v = v << 8 | skb.net[at + i];
            break;
          }
          default: FAIL("load mode " << BPF_MODE(f.code));
        }
        (BPF_CLASS(f.code) == BPF_LD ? a : x) = v;
        break;
      }
      case BPF_ST:
      case BPF_STX:
        REQUIRE(f.k < BPF_MEMWORDS);
        mem[f.k] = BPF_CLASS(f.code) == BPF_ST ? a : x;
        written[f.k] = true;
        break;
      case BPF_ALU: {
        const std::uint32_t v = BPF_SRC(f.code) == BPF_X ? x : f.k;
        switch (BPF_OP(f.code)) {
          case BPF_ADD: a += v; break;
          case BPF_SUB: a -= v; break;
          case BPF_MUL: a *= v; break;
          case BPF_AND: a &= v; break;
          case BPF_OR: a |= v; break;
          case BPF_XOR: a ^= v; break;
          case BPF_LSH: REQUIRE(v < 32); a <<= v; break;
          case BPF_RSH: REQUIRE(v < 32); a >>= v; break;
          case BPF_MOD: REQUIRE(v != 0); a %= v; break;
          default: FAIL("alu op " << BPF_OP(f.code));
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(f.code) == BPF_JA) {
          pc += f.k;
          break;
        }
        REQUIRE(BPF_SRC(f.code) == BPF_K);
        bool taken = false;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ: taken = a == f.k; break;
          case BPF_JSET: taken = (a & f.k) != 0; break;
          case BPF_JGT: taken = a > f.k; break;
          case BPF_JGE: taken = a >= f.k; break;
          default: FAIL("jump op " << BPF_OP(f.code));
        }
        pc += taken ? f.jt : f.jf;
        break;
      }
      case BPF_RET: return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
      default: FAIL("class " << BPF_CLASS(f.code));
    }
  }
  FAIL("ran past the last instruction");
  return 0;
}

// ---- packets ------------------------------------------------------------------------------

constexpr std::uint16_t kClientPort = 40000;

Octets l4(bool tcp, std::uint16_t sport, std::uint16_t dport, bool response = false) {
  Octets msg = test::query(0x1234, "www.example.com");
  if (response) msg[2] |= 0x80;  // QR
  return tcp ? test::tcp(sport, dport, 1, 1, 0x18, test::framed(msg)) : test::udp(sport, dport, msg);
}

// An IP packet from `src` to `dst` carrying `payload` (next header / protocol `proto`).
Skb ip(const IpAddr& src, const IpAddr& dst, std::uint8_t proto, const Octets& payload) {
  const std::string s = src.text(), d = dst.text();
  if (src.is_v4()) {
    test::Ipv4 h;
    h.src = s, h.dst = d, h.proto = proto;
    return {test::kEtherIpv4, h.build(payload)};
  }
  test::Ipv6 h;
  h.src = s, h.dst = d, h.next = proto;
  return {test::kEtherIpv6, h.build(payload)};
}

Skb query(const IpAddr& client, const IpAddr& server, bool tcp, std::uint16_t port = 53) {
  return ip(client, server, tcp ? 6 : 17, l4(tcp, kClientPort, port));
}
Skb response(const IpAddr& client, const IpAddr& server, bool tcp, std::uint16_t port = 53) {
  return ip(server, client, tcp ? 6 : 17, l4(tcp, port, kClientPort, true));
}

// The packet with `tags` VLAN tags left in its data (the kernel took the outer one off into the
// metadata, so skb->protocol is the first tag's TPID).
Skb tagged(Skb s, int tags) {
  Octets head;
  std::uint16_t type = s.protocol;
  for (int i = 0; i < tags; ++i) {
    const std::uint16_t tci = static_cast<std::uint16_t>(100 + i);
    Octets tag{static_cast<std::uint8_t>(tci >> 8), static_cast<std::uint8_t>(tci), static_cast<std::uint8_t>(type >> 8),
               static_cast<std::uint8_t>(type)};
    head.insert(head.begin(), tag.begin(), tag.end());
    type = i == tags - 1 ? 0x88A8 : 0x8100;
  }
  head.insert(head.end(), s.net.begin(), s.net.end());
  return {type, head};
}

IpAddr random_v4(std::mt19937& rng) {
  std::uint8_t b[4];
  for (auto& o : b) o = static_cast<std::uint8_t>(rng());
  return IpAddr::v4(b);
}
IpAddr random_v6(std::mt19937& rng) {
  std::uint8_t b[16];
  for (auto& o : b) o = static_cast<std::uint8_t>(rng());
  b[0] = 0x20;  // global unicast: never the IPv4-mapped form
  return IpAddr::v6(b);
}

const IpAddr kServer4 = test::addr("192.0.2.53"), kServer6 = test::addr("2001:db8::53");

// Closes a file descriptor at the end of its scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Two packet sockets on the loopback interface, members of one fan-out group with `prog`.
struct Taps {
  Fd fd[2];
  int lo = static_cast<int>(if_nametoindex("lo"));

  // False, with a warning, where this process may not open packet sockets.
  bool open(std::uint16_t group, const std::vector<sock_filter>& prog) {
    if (geteuid() != 0) {
      WARN("skipped: packet sockets need root");
      return false;
    }
    REQUIRE(lo > 0);
    for (Fd& t : fd) {
      t.fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
      if (t.fd < 0) {
        WARN("skipped: no packet socket: " << std::strerror(errno));
        return false;
      }
      int buf = 8 << 20;
      ::setsockopt(t.fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
      sockaddr_ll ll{};
      ll.sll_family = AF_PACKET;
      ll.sll_protocol = htons(ETH_P_ALL);
      ll.sll_ifindex = lo;
      REQUIRE(::bind(t.fd, reinterpret_cast<const sockaddr*>(&ll), sizeof ll) == 0);
      REQUIRE_NOTHROW(capture::join_fanout(t.fd, group, prog));
    }
    return true;
  }

  // Hands every queued frame to on(socket, frame, size, sll_pkttype) until `quiet_ms` pass
  // with none, or (once done() holds) 5 ms do: nothing can block for long.
  template <class On, class Done>
  void drain(int quiet_ms, On&& on, Done&& done) {
    for (;;) {
      pollfd p[2] = {{fd[0].fd, POLLIN, 0}, {fd[1].fd, POLLIN, 0}};
      if (::poll(p, 2, done() ? 5 : quiet_ms) <= 0) return;
      for (int s = 0; s < 2; ++s) {
        std::uint8_t f[2048];
        sockaddr_ll from{};
        socklen_t fl = sizeof from;
        ssize_t n;
        while ((n = ::recvfrom(fd[s].fd, f, sizeof f, 0, reinterpret_cast<sockaddr*>(&from), &fl)) > 0) {
          on(s, f, static_cast<std::size_t>(n), from.sll_pkttype);
          fl = sizeof from;
        }
      }
    }
  }
};

}  // namespace

TEST_CASE("fanout: client_slot is capture's name for sensor::client_slot", "[fanout]") {
  const IpAddr a = test::addr("198.51.100.7"), b = test::addr("2001:db8:1:2::99");
  // The definition written out: fold, mix, remainder.
  const auto mix = [](std::uint32_t h, std::uint32_t n) {
    h ^= h >> 16;
    h *= 0x45d9f3bU;
    h ^= h >> 16;
    return h % n;
  };
  CHECK(client_slot(a, 7) == mix(0xC6336407, 7));
  CHECK(client_slot(b, 7) == mix(0x20010db8 ^ 0x00010002 ^ 0 ^ 0x99, 7));
  CHECK(client_slot(a, 1) == 0);
  CHECK(client_slot(a, 5) == sensor::client_slot(a, 5));
}

TEST_CASE("fanout: both directions of a client on its slot, UDP and TCP, IPv4 and IPv6", "[fanout]") {
  std::mt19937 rng(16);
  for (const std::uint32_t n : {2u, 3u, 4u, 16u}) {
    const auto prog = fanout_program({53}, n);
    for (int i = 0; i < 200; ++i) {
      const bool v6 = i % 2 == 1, tcp = i % 4 >= 2;
      const IpAddr client = v6 ? random_v6(rng) : random_v4(rng);
      const IpAddr& server = v6 ? kServer6 : kServer4;
      INFO(client.text() << (tcp ? " TCP" : " UDP") << ", " << n << " workers");
      const std::uint32_t want = client_slot(client, n);
      CHECK(run(prog, query(client, server, tcp)) == want);
      CHECK(run(prog, response(client, server, tcp)) == want);
    }
  }
}

TEST_CASE("fanout: DNS ports, other ports, IPv4 options", "[fanout]") {
  const IpAddr client = test::addr("10.1.2.3"), server = test::addr("10.9.9.9");
  const auto prog = fanout_program({53, 853, 5353}, 16);
  const std::uint32_t c = client_slot(client, 16), s = client_slot(server, 16);
  REQUIRE(c != s);  // else the checks below could not tell the sides apart
  CHECK(run(prog, response(client, server, false, 5353)) == c);
  CHECK(run(prog, response(client, server, true, 853)) == c);
  CHECK(run(prog, query(client, server, true, 853)) == c);
  // Neither port a DNS port: UDP by the QR bit (a response goes to its destination), TCP by
  // the source.
  CHECK(run(prog, query(client, server, false, 8053)) == c);
  CHECK(run(prog, response(client, server, false, 8053)) == c);
  CHECK(run(prog, query(client, server, true, 8053)) == c);
  CHECK(run(prog, response(client, server, true, 8053)) == s);
  CHECK(run(prog, ip(server, client, 17, test::udp(8053, kClientPort, test::query(7, "x.example")))) == s);
  // Both ports DNS ports (server to server): the destination port decides, the source is the client.
  CHECK(run(prog, ip(client, server, 17, test::udp(53, 53, {}))) == c);
  // The ports sit past IPv4 options (IHL 7).
  test::Ipv4 h;
  h.src = "10.9.9.9", h.dst = "10.1.2.3", h.options = Octets(8, 1);  // 8 x NOP
  CHECK(run(prog, Skb{test::kEtherIpv4, h.build(test::udp(53, kClientPort, {}))}) == c);
  // Empty dns_ports means port 53.
  CHECK(run(fanout_program({}, 16), response(client, server, false)) == c);
}

TEST_CASE("fanout: VLAN tags left in the data", "[fanout]") {
  std::mt19937 rng(8021);
  const auto prog = fanout_program({53}, 4);
  for (int i = 0; i < 50; ++i) {
    const bool v6 = i % 2 == 1;
    const IpAddr client = v6 ? random_v6(rng) : random_v4(rng);
    const IpAddr& server = v6 ? kServer6 : kServer4;
    const std::uint32_t want = client_slot(client, 4);
    for (const int tags : {1, 2}) {
      CHECK(run(prog, tagged(query(client, server, false), tags)) == want);
      CHECK(run(prog, tagged(response(client, server, true), tags)) == want);
    }
  }
  // The 802.1Q TPID under 802.1Q (not 802.1ad) counts as well.
  const IpAddr client = test::addr("10.1.2.3");
  Skb s = tagged(response(client, kServer4, false), 1);
  s.protocol = 0x8100;
  CHECK(run(prog, s) == client_slot(client, 4));
  // A third tag is not looked into.
  CHECK(run(prog, tagged(response(client, kServer4, false), 3)) == 0);
}

TEST_CASE("fanout: IPv4 fragments go by destination", "[fanout]") {
  const IpAddr client = test::addr("10.1.2.3"), server = test::addr("10.9.9.9");
  const auto prog = fanout_program({53}, 16);
  const std::uint32_t c = client_slot(client, 16);
  REQUIRE(c != client_slot(server, 16));
  test::Ipv4 first;
  first.src = "10.9.9.9", first.dst = "10.1.2.3", first.mf = true;
  CHECK(run(prog, Skb{test::kEtherIpv4, first.build(test::udp(53, kClientPort, Octets(1472, 0)))}) == c);
  test::Ipv4 later = first;
  later.mf = false, later.frag_offset = 1480;
  CHECK(run(prog, Skb{test::kEtherIpv4, later.build(Octets(300, 0xAB))}) == c);
  // A middle piece whose octets look like ports of a query.
  later.mf = true;
  CHECK(run(prog, Skb{test::kEtherIpv4, later.build(test::udp(kClientPort, 53, {}))}) == c);
  // A fragmented query goes to its server's slot (the documented exception).
  first.src = "10.1.2.3", first.dst = "10.9.9.9";
  CHECK(run(prog, Skb{test::kEtherIpv4, first.build(test::udp(kClientPort, 53, Octets(1472, 0)))}) ==
        client_slot(server, 16));
}

TEST_CASE("fanout: IPv6 extension headers and fragments", "[fanout]") {
  const IpAddr client = test::addr("2001:db8:c::1"), server = test::addr("2001:db8:5::53");
  const auto prog = fanout_program({53}, 16);
  const std::uint32_t c = client_slot(client, 16), s = client_slot(server, 16);
  REQUIRE(c != s);
  test::Ipv6 h;
  h.src = "2001:db8:5::53", h.dst = "2001:db8:c::1";
  const auto v6 = [&](std::uint8_t next, const Octets& payload) {
    h.next = next;
    return run(prog, Skb{test::kEtherIpv6, h.build(payload)});
  };
  const Octets resp = test::udp(53, kClientPort, {});
  // Fragment header, first and later pieces, also behind a hop-by-hop header.
  CHECK(v6(44, test::cat({test::ext_fragment(17, 0, true, 7), resp})) == c);
  CHECK(v6(44, test::ext_fragment(17, 1448, false, 7)) == c);
  CHECK(v6(0, test::cat({test::ext_options(44), test::ext_fragment(17, 1448, false, 7)})) == c);
  // Hop-by-hop, destination options (a longer one) and routing headers are stepped over.
  CHECK(v6(0, test::cat({test::ext_options(60), test::ext_options(17, 2), resp})) == c);
  CHECK(v6(60, test::cat({test::ext_options(43), test::ext_options(6), test::tcp(53, kClientPort, 1, 1, 0x10, {})})) ==
        c);
  // Past three of them, or past one the program does not know (AH): no ports, so the source.
  CHECK(v6(0, test::cat({test::ext_options(60), test::ext_options(60), test::ext_options(17), resp})) == c);
  CHECK(v6(0, test::cat({test::ext_options(60), test::ext_options(60), test::ext_options(60), test::ext_options(17),
                         resp})) == s);
  CHECK(v6(51, test::cat({test::ext_ah(17), resp})) == s);
}

TEST_CASE("fanout: what is not UDP or TCP over IP goes to slot 0", "[fanout]") {
  const IpAddr client = test::addr("10.1.2.3");
  const auto prog = fanout_program({53}, 16);
  REQUIRE(client_slot(client, 16) != 0);
  const Skb r = response(client, kServer4, false);
  CHECK(run(prog, r) != 0);
  CHECK(run(prog, Skb{test::kEtherArp, Octets(28, 0)}) == 0);
  CHECK(run(prog, ip(kServer4, client, 1, Octets(36, 0))) == 0);  // ICMP
  CHECK(run(prog, Skb{test::kEtherIpv4, Octets(r.net.begin(), r.net.begin() + 12)}) == 0);  // cut in the IP header
  CHECK(run(prog, Skb{test::kEtherIpv4, Octets(r.net.begin(), r.net.begin() + 22)}) == 0);  // cut in the UDP header
  CHECK(run(prog, Skb{test::kEtherIpv6, Octets(30, 0x60)}) == 0);
  CHECK(run(prog, Skb{0, {}}) == 0);
}

TEST_CASE("fanout: clients spread evenly over the slots", "[fanout]") {
  constexpr int kClients = 20000;
  for (const bool v6 : {false, true}) {
    for (const std::uint32_t n : {2u, 3u, 4u, 16u}) {
      std::mt19937 rng(n * 2 + (v6 ? 1 : 0));
      const auto prog = fanout_program({53}, n);
      std::vector<int> per(n);
      for (int i = 0; i < kClients; ++i) {
        const IpAddr client = v6 ? random_v6(rng) : random_v4(rng);
        const std::uint32_t got = run(prog, query(client, v6 ? kServer6 : kServer4, false));
        REQUIRE(got == client_slot(client, n));
        ++per[got];
      }
      const double even = double{kClients} / n;
      for (std::uint32_t i = 0; i < n; ++i) {
        INFO((v6 ? "IPv6, " : "IPv4, ") << n << " workers, slot " << i << ": " << per[i] << " clients");
        CHECK(per[i] > 0.9 * even);
        CHECK(per[i] < 1.1 * even);
      }
    }
  }
}

TEST_CASE("fanout: program size and arguments", "[fanout]") {
  const auto one = fanout_program({53}, 1);
  REQUIRE(one.size() == 1);
  CHECK(run(one, response(test::addr("10.1.2.3"), kServer4, false)) == 0);
  CHECK_THROWS_AS(fanout_program({53}, 0), capture::CaptureError);
  // The most ports: every conditional jump still within reach, and the last port matched.
  std::vector<std::uint16_t> ports;
  for (std::uint16_t p = 0; p < capture::kMaxFanoutPorts; ++p) ports.push_back(static_cast<std::uint16_t>(1000 + p));
  const auto big = fanout_program(ports, 16);
  CHECK(big.size() <= BPF_MAXINSNS);
  const IpAddr client = test::addr("2001:db8:c::1");
  CHECK(run(big, tagged(response(client, kServer6, true, ports.back()), 2)) == client_slot(client, 16));
  ports.push_back(53);
  CHECK_THROWS_AS(fanout_program(ports, 16), capture::CaptureError);
  // Duplicates count once.
  CHECK(fanout_program({53, 53, 53}, 4).size() == fanout_program({53}, 4).size());
}

// The kernel runs the program: two packet sockets on the loopback interface in one fan-out
// group, DNS-like datagrams between 200 clients (127.0.0.2 ..) and a server on 127.0.0.1. Each
// datagram passes twice, sent (skb->data at the link header) and received (at the network
// header); all four copies of a client's query and response must reach socket
// client_slot(client, 2), and no other.
TEST_CASE("fanout: the kernel sends each client to its socket (loopback sockets, root)", "[fanout][kernel]") {
  Fd server{::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)};
  REQUIRE(server.fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(server.fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(server.fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  const std::uint16_t port = ntohs(sa.sin_port);  // the "DNS port" of this test

  Taps taps;
  const auto group = static_cast<std::uint16_t>(0x4000 | (getpid() & 0x3FFF));
  const auto prog = fanout_program({port}, 2);
  if (!taps.open(group, prog)) return;
  // A second join is refused, with a message.
  CHECK_THROWS_WITH(capture::join_fanout(taps.fd[0].fd, group, prog), Catch::Contains("fan-out group"));

  std::map<std::uint32_t, std::array<int, 2>> seen;  // client address -> copies on each socket
  int outgoing = 0, incoming = 0;
  const auto on = [&](int s, const std::uint8_t* f, std::size_t n, int pkttype) {
    // Loopback frames: a 14-octet Ethernet header, then IPv4 (IHL 5 from the stack), then UDP.
    if (n < 14 + 28 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 17) return;
    const std::uint8_t* ip4 = f + 14;
    const auto sport = static_cast<std::uint16_t>(ip4[20] << 8 | ip4[21]);
    const auto dport = static_cast<std::uint16_t>(ip4[22] << 8 | ip4[23]);
    if (sport != port && dport != port) return;  // another process's traffic
    std::uint32_t client;
    std::memcpy(&client, ip4 + (dport == port ? 12 : 16), 4);
    ++seen[ntohl(client)][static_cast<std::size_t>(s)];
    ++(pkttype == PACKET_OUTGOING ? outgoing : incoming);
  };

  constexpr int kClients = 200;
  for (int i = 0; i < kClients; ++i) {
    sockaddr_in ca{};
    ca.sin_family = AF_INET;
    ca.sin_addr.s_addr = htonl(0x7F000002u + static_cast<std::uint32_t>(i));
    // An ephemeral port, but not the server's: from port to port, the source is the client both
    // ways. (Another such port is in use when tests run side by side.)
    Fd c;
    do {
      if (c.fd >= 0) ::close(c.fd);
      c.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      REQUIRE(c.fd >= 0);
      ca.sin_port = 0;
      REQUIRE(::bind(c.fd, reinterpret_cast<const sockaddr*>(&ca), sizeof ca) == 0);
      len = sizeof ca;
      REQUIRE(::getsockname(c.fd, reinterpret_cast<sockaddr*>(&ca), &len) == 0);
    } while (ntohs(ca.sin_port) == port);
    const char q[] = "query";
    REQUIRE(::sendto(c.fd, q, sizeof q, 0, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == sizeof q);
    pollfd p{server.fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 1000) == 1);
    char buf[64];
    REQUIRE(::recv(server.fd, buf, sizeof buf, 0) == sizeof q);
    const char r[] = "response";
    REQUIRE(::sendto(server.fd, r, sizeof r, 0, reinterpret_cast<const sockaddr*>(&ca), sizeof ca) == sizeof r);
    if (i % 20 == 19) taps.drain(20, on, [] { return false; });
  }
  taps.drain(200, on, [] { return false; });

  CHECK(seen.size() == kClients);
  int on_socket[2] = {0, 0};
  for (const auto& [client, per] : seen) {
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(client >> 24), static_cast<std::uint8_t>(client >> 16),
                               static_cast<std::uint8_t>(client >> 8), static_cast<std::uint8_t>(client)};
    const std::uint32_t want = client_slot(IpAddr::v4(b), 2);
    INFO("client " << IpAddr::v4(b).text() << ": " << per[0] << " + " << per[1] << " copies, slot " << want);
    CHECK(per[want] == 4);  // query and response, each sent and received
    CHECK(per[1 - want] == 0);
    ++on_socket[want];
  }
  CHECK(on_socket[0] > 0);
  CHECK(on_socket[1] > 0);
  CHECK(outgoing == 2 * kClients);
  CHECK(incoming == 2 * kClients);
}

// The kernel on hand-built frames, sent through a third packet socket on the loopback
// interface: each frame is seen sent (skb->protocol as given, all tags in the data) and
// received (the outer tag moved to the metadata); both copies must reach socket
// client_slot(client, 2). Covers what the loopback stack cannot send: IPv6 from many
// addresses, VLAN tags (one and two), fragments, extension headers, TCP.
TEST_CASE("fanout: the kernel agrees on hand-built frames (loopback injection, root)", "[fanout][kernel]") {
  Taps taps;
  const auto prog = fanout_program({53}, 2);
  if (!taps.open(static_cast<std::uint16_t>(0x8000 | (getpid() & 0x3FFF)), prog)) return;
  Fd out{::socket(AF_PACKET, SOCK_RAW, 0)};  // protocol 0: sends only
  REQUIRE(out.fd >= 0);
  // Frames of this test are told from other traffic (this test in another process too) by
  // their source MAC, which holds the process ID. The destination is another host's, so the
  // stack drops them once the taps have seen them.
  const auto pid = static_cast<std::uint32_t>(getpid());
  const Octets kSrcMac{0x02, 0x66, static_cast<std::uint8_t>(pid >> 24), static_cast<std::uint8_t>(pid >> 16),
                       static_cast<std::uint8_t>(pid >> 8), static_cast<std::uint8_t>(pid)};
  const Octets kDstMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x35};

  // Sends `s` with `tags` VLAN tags (802.1ad outside 802.1Q) and returns the copies per socket.
  const auto send = [&](const Skb& s, int tags) {
    Octets frame = kDstMac;
    frame.insert(frame.end(), kSrcMac.begin(), kSrcMac.end());
    for (int i = 0; i < tags; ++i) {
      const std::uint16_t tpid = i == 0 && tags == 2 ? 0x88A8 : 0x8100;
      frame.insert(frame.end(), {static_cast<std::uint8_t>(tpid >> 8), static_cast<std::uint8_t>(tpid), 0x00,
                                 static_cast<std::uint8_t>(10 + i)});
    }
    frame.insert(frame.end(), {static_cast<std::uint8_t>(s.protocol >> 8), static_cast<std::uint8_t>(s.protocol)});
    frame.insert(frame.end(), s.net.begin(), s.net.end());
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = taps.lo;
    ll.sll_protocol = htons(static_cast<std::uint16_t>(frame[12] << 8 | frame[13]));
    ll.sll_halen = 6;
    std::memcpy(ll.sll_addr, kDstMac.data(), 6);
    REQUIRE(::sendto(out.fd, frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&ll), sizeof ll) ==
            static_cast<ssize_t>(frame.size()));
    std::array<int, 2> got{};
    taps.drain(
        1000,
        [&](int sock, const std::uint8_t* f, std::size_t n, int) {
          if (n >= 12 && std::memcmp(f + 6, kSrcMac.data(), 6) == 0) ++got[static_cast<std::size_t>(sock)];
        },
        [&] { return got[0] + got[1] >= 2; });
    return got;
  };

  std::mt19937 rng(2);
  int per_socket[2] = {0, 0};
  for (int i = 0; i < 48; ++i) {
    const bool v6 = i % 2 == 1, tcp = i % 4 >= 2;
    const int tags = i / 4 % 3;
    const IpAddr client = v6 ? random_v6(rng) : random_v4(rng);
    const IpAddr& server = v6 ? kServer6 : kServer4;
    const std::uint32_t want = client_slot(client, 2);
    ++per_socket[want];
    const std::string c = client.text(), sv = server.text();
    INFO(c << (tcp ? " TCP" : " UDP") << ", " << tags << " tags, slot " << want);

    std::vector<std::pair<const char*, Skb>> frames{{"query", query(client, server, tcp)},
                                                    {"response", response(client, server, tcp)}};
    if (v6) {
      test::Ipv6 h;
      h.src = sv, h.dst = c, h.next = 44;
      frames.emplace_back("first fragment",
                          Skb{test::kEtherIpv6, h.build(test::cat({test::ext_fragment(17, 0, true, 9),
                                                                   test::udp(53, kClientPort, Octets(600, 0))}))});
      frames.emplace_back("later fragment", Skb{test::kEtherIpv6, h.build(test::ext_fragment(17, 1448, false, 9))});
      h.next = 0;
      frames.emplace_back("hop-by-hop", Skb{test::kEtherIpv6, h.build(test::cat({test::ext_options(17),
                                                                                 test::udp(53, kClientPort, {})}))});
    } else {
      test::Ipv4 h;
      h.src = sv, h.dst = c, h.mf = true;
      frames.emplace_back("first fragment", Skb{test::kEtherIpv4, h.build(test::udp(53, kClientPort, Octets(600, 0)))});
      h.mf = false, h.frag_offset = 1480;
      frames.emplace_back("later fragment", Skb{test::kEtherIpv4, h.build(Octets(200, 0))});
    }
    for (const auto& [what, skb] : frames) {
      INFO(what);
      REQUIRE(run(prog, skb) == want);  // the interpreter agrees, so a difference is the kernel's
      const std::array<int, 2> got = send(skb, tags);
      CHECK(got[want] == 2);  // sent and received
      CHECK(got[1 - want] == 0);
    }
  }
  CHECK(per_socket[0] > 0);
  CHECK(per_socket[1] > 0);
}
