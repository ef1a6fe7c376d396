#include "dnsvigil/capture/fanout.hpp"

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dnsvigil/capture/source.hpp"

namespace dnsvigil::capture {

namespace {

// Loads at SKF_NET_OFF + n read octet n of the network header wherever skb->data stands: the
// kernel runs fan-out programs before packet_rcv() has pushed the link header back, so plain
// offsets would mean the IP header for received packets and the Ethernet header for sent ones.
constexpr std::uint32_t net(std::int32_t offset) noexcept {
  return static_cast<std::uint32_t>(SKF_NET_OFF + offset);
}

constexpr std::uint32_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86DD, kEtherVlan = 0x8100, kEtherQinQ = 0x88A8;
constexpr std::uint32_t kProtoTcp = 6, kProtoUdp = 17;
constexpr std::uint32_t kIpv6HopByHop = 0, kIpv6Routing = 43, kIpv6Fragment = 44, kIpv6DestOpts = 60;
// Tags left in the data once the kernel has moved the outer one to skb metadata: QinQ's inner
// tag, and one more for safety (the sensor's own decoder also stops at two).
constexpr int kMaxTagsInData = 2;
// IPv6 extension headers stepped over before giving up on the ports (each costs 11 instructions;
// real DNS traffic has none, or a Fragment header).
constexpr int kMaxIpv6Extensions = 3;
constexpr std::uint32_t kIpv4FragmentBits = 0x3FFF;  // MF flag and fragment offset (RFC 791)

// A small assembler with forward labels: classic BPF jumps only forward, conditional ones at
// most 255 instructions, so the program is laid out with each conditional target close by and
// far targets reached through `ja` (32-bit offset).
class Assembler {
 public:
  using Label = std::size_t;
  static constexpr Label kNext = static_cast<Label>(-1);  // fall through

  Label label() {
    at_.push_back(kUnbound);
    return at_.size() - 1;
  }
  void bind(Label l) { at_[l] = code_.size(); }
  void op(std::uint16_t code, std::uint32_t k = 0) { code_.push_back(sock_filter{code, 0, 0, k}); }
  // To `yes` when the condition holds, else to `no`.
  void jump(std::uint16_t cond, std::uint32_t k, Label yes, Label no = kNext) {
    fixups_.push_back({code_.size(), yes, no});
    op(static_cast<std::uint16_t>(BPF_JMP | cond | BPF_K), k);
  }
  void ja(Label to) {
    fixups_.push_back({code_.size(), to, kNext});
    op(BPF_JMP | BPF_JA);
  }

  std::vector<sock_filter> finish() {
    for (const Fixup& f : fixups_) {
      sock_filter& insn = code_[f.at];
      const auto distance = [&](Label l) -> std::size_t {
        if (l == kNext) return 0;
        if (at_[l] == kUnbound || at_[l] <= f.at) throw std::logic_error("fanout_program: bad label");
        return at_[l] - f.at - 1;
      };
      if (BPF_OP(insn.code) == BPF_JA) {
        insn.k = static_cast<std::uint32_t>(distance(f.yes));
        continue;
      }
      const std::size_t jt = distance(f.yes), jf = distance(f.no);
      if (jt > 255 || jf > 255) throw std::logic_error("fanout_program: conditional jump out of reach");
      insn.jt = static_cast<std::uint8_t>(jt);
      insn.jf = static_cast<std::uint8_t>(jf);
    }
    return std::move(code_);
  }

 private:
  static constexpr std::size_t kUnbound = static_cast<std::size_t>(-1);
  struct Fixup {
    std::size_t at;
    Label yes, no;
  };
  std::vector<sock_filter> code_;
  std::vector<std::size_t> at_;
  std::vector<Fixup> fixups_;
};

// With X at the transport header and the protocol in M[2]: to `src` when the destination port
// is a DNS port, else to `dst` when the source port is; on other ports (DNS the sensor
// recognises by its shape) a UDP datagram whose payload has the QR bit of a DNS response goes to
// `dst`, anything else to `src`. The two `ja` at the end keep every conditional jump within the
// block.
void pick_side(Assembler& a, const std::vector<std::uint16_t>& ports, Assembler::Label src, Assembler::Label dst) {
  const Assembler::Label to_src = a.label(), to_dst = a.label(), udp = a.label();
  a.op(BPF_LD | BPF_H | BPF_IND, net(2));  // destination port
  for (const std::uint16_t p : ports) a.jump(BPF_JEQ, p, to_src);
  a.op(BPF_LD | BPF_H | BPF_IND, net(0));  // source port
  for (const std::uint16_t p : ports) a.jump(BPF_JEQ, p, to_dst);
  a.op(BPF_LD | BPF_MEM, 2);
  a.jump(BPF_JEQ, kProtoUdp, udp, to_src);
  a.bind(udp);
  a.op(BPF_LD | BPF_B | BPF_IND, net(8 + 2));  // the DNS header's flags: QR is the top bit
  a.jump(BPF_JSET, 0x80, to_dst, to_src);
  a.bind(to_src);
  a.ja(src);
  a.bind(to_dst);
  a.ja(dst);
}

}  // namespace

std::vector<sock_filter> fanout_program(const std::vector<std::uint16_t>& dns_ports, std::uint32_t workers) {
  if (workers == 0) throw CaptureError("packet fan-out needs at least one worker");
  std::vector<std::uint16_t> ports = dns_ports.empty() ? std::vector<std::uint16_t>{53} : dns_ports;
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  if (ports.size() > kMaxFanoutPorts)
    throw CaptureError("packet fan-out takes at most " + std::to_string(kMaxFanoutPorts) + " DNS ports, not " +
                       std::to_string(ports.size()));

  Assembler a;
  if (workers == 1) {
    a.op(BPF_RET | BPF_K, 0);
    return a.finish();
  }
  using Label = Assembler::Label;
  const Label v4 = a.label(), v6 = a.label(), src4 = a.label(), dst4 = a.label(), src6 = a.label(),
              dst6 = a.label(), hash = a.label();

  // EtherType: skb->protocol, which is already the inner type of a tag the kernel took off. For
  // each tag still in the data, X (the IP header's offset) moves 4 octets on and the next type
  // sits in the tag's last two octets.
  // (IPv6 is past the IPv4 block, out of a conditional jump's reach: `to_v6` leads there.)
  const Label to_v6 = a.label();
  a.op(BPF_LD | BPF_H | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL));
  for (int tags = 0; tags <= kMaxTagsInData; ++tags) {
    if (tags > 0) a.op(BPF_LD | BPF_H | BPF_ABS, net(4 * tags - 2));
    a.op(BPF_LDX | BPF_W | BPF_IMM, static_cast<std::uint32_t>(4 * tags));
    a.jump(BPF_JEQ, kEtherIpv4, v4);
    a.jump(BPF_JEQ, kEtherIpv6, to_v6);
    if (tags < kMaxTagsInData) {
      const Label tagged = a.label();
      a.jump(BPF_JEQ, kEtherVlan, tagged);
      a.jump(BPF_JEQ, kEtherQinQ, tagged);
      a.op(BPF_RET | BPF_K, 0);
      a.bind(tagged);
    } else {
      a.op(BPF_RET | BPF_K, 0);
    }
  }
  a.bind(to_v6);
  a.ja(v6);

  // IPv4. M[0] keeps the IP header's offset for the address loads at the end.
  {
    const Label transport = a.label(), fragment = a.label();
    a.bind(v4);
    a.op(BPF_STX, 0);
    a.op(BPF_LD | BPF_H | BPF_IND, net(6));  // flags, fragment offset
    a.jump(BPF_JSET, kIpv4FragmentBits, fragment);
    a.op(BPF_LD | BPF_B | BPF_IND, net(9));  // protocol
    a.op(BPF_ST, 2);
    a.jump(BPF_JEQ, kProtoUdp, transport);
    a.jump(BPF_JEQ, kProtoTcp, transport);
    a.op(BPF_RET | BPF_K, 0);
    a.bind(transport);
    // X += 4 * IHL. (`ldx 4*([k]&0xf)` would do it in one, but it has no indexed form.)
    a.op(BPF_LD | BPF_B | BPF_IND, net(0));
    a.op(BPF_ALU | BPF_AND | BPF_K, 0x0F);
    a.op(BPF_ALU | BPF_LSH | BPF_K, 2);
    a.op(BPF_ALU | BPF_ADD | BPF_X);
    a.op(BPF_MISC | BPF_TAX);
    pick_side(a, ports, src4, dst4);
    a.bind(fragment);
    a.ja(dst4);
  }

  // IPv6: X walks the header chain; A holds the type of the header at X.
  {
    const Label transport = a.label(), no_ports = a.label(), fragment = a.label();
    a.bind(v6);
    a.op(BPF_STX, 0);
    a.op(BPF_MISC | BPF_TXA);
    a.op(BPF_ALU | BPF_ADD | BPF_K, 40);
    a.op(BPF_MISC | BPF_TAX);
    a.op(BPF_LD | BPF_B | BPF_IND, net(6 - 40));  // the fixed header's Next Header
    for (int i = 0; i <= kMaxIpv6Extensions; ++i) {
      a.jump(BPF_JEQ, kIpv6Fragment, fragment);
      a.jump(BPF_JEQ, kProtoUdp, transport);
      a.jump(BPF_JEQ, kProtoTcp, transport);
      if (i == kMaxIpv6Extensions) break;
      const Label skip = a.label();
      a.jump(BPF_JEQ, kIpv6HopByHop, skip);
      a.jump(BPF_JEQ, kIpv6Routing, skip);
      a.jump(BPF_JEQ, kIpv6DestOpts, skip, no_ports);
      // These three share a layout: Next Header, then the length in 8-octet units past the first 8.
      a.bind(skip);
      a.op(BPF_LD | BPF_B | BPF_IND, net(0));
      a.op(BPF_ST, 1);
      a.op(BPF_LD | BPF_B | BPF_IND, net(1));
      a.op(BPF_ALU | BPF_LSH | BPF_K, 3);
      a.op(BPF_ALU | BPF_ADD | BPF_K, 8);
      a.op(BPF_ALU | BPF_ADD | BPF_X);
      a.op(BPF_MISC | BPF_TAX);
      a.op(BPF_LD | BPF_MEM, 1);
    }
    a.bind(no_ports);
    a.ja(src6);
    a.bind(fragment);
    a.ja(dst6);
    a.bind(transport);
    a.op(BPF_ST, 2);  // the protocol
    pick_side(a, ports, src6, dst6);
  }

  // The client's address, folded to 32 bits in A.
  a.bind(src4);
  a.op(BPF_LDX | BPF_W | BPF_MEM, 0);
  a.op(BPF_LD | BPF_W | BPF_IND, net(12));
  a.ja(hash);
  a.bind(dst4);
  a.op(BPF_LDX | BPF_W | BPF_MEM, 0);
  a.op(BPF_LD | BPF_W | BPF_IND, net(16));
  a.ja(hash);
  const auto fold6 = [&](std::int32_t at) {
    a.op(BPF_LDX | BPF_W | BPF_MEM, 0);
    for (std::uint32_t w = 0; w < 3; ++w) {
      a.op(BPF_LD | BPF_W | BPF_IND, net(at + static_cast<std::int32_t>(4 * w)));
      a.op(BPF_ST, 1 + w);
    }
    a.op(BPF_LD | BPF_W | BPF_IND, net(at + 12));
    for (std::uint32_t w = 0; w < 3; ++w) {
      a.op(BPF_LDX | BPF_W | BPF_MEM, 1 + w);
      a.op(BPF_ALU | BPF_XOR | BPF_X);
    }
  };
  a.bind(src6);
  fold6(8);
  a.ja(hash);
  a.bind(dst6);
  fold6(24);

  // client_slot()'s mix; A and X are 32 bits wide, so the product wraps as it does there.
  a.bind(hash);
  for (int round = 0; round < 2; ++round) {
    if (round == 1) a.op(BPF_ALU | BPF_MUL | BPF_K, 0x45d9f3bU);
    a.op(BPF_MISC | BPF_TAX);
    a.op(BPF_ALU | BPF_RSH | BPF_K, 16);
    a.op(BPF_ALU | BPF_XOR | BPF_X);
  }
  a.op(BPF_ALU | BPF_MOD | BPF_K, workers);
  a.op(BPF_RET | BPF_A);
  return a.finish();
}

void join_fanout(int fd, std::uint16_t group, const std::vector<sock_filter>& program) {
  if (program.empty() || program.size() > BPF_MAXINSNS)
    throw CaptureError("packet fan-out: program of " + std::to_string(program.size()) + " instructions");
  // The program belongs to the group, and PACKET_FANOUT_DATA is refused (EINVAL) from a socket
  // that is not yet a member: join first. Every member sets it again; the last one wins, and
  // they are all the same.
  const int type_id = group | PACKET_FANOUT_CBPF << 16;
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &type_id, sizeof type_id) != 0) {
    const int e = errno;
    throw CaptureError("cannot join packet fan-out group " + std::to_string(group) + ": " + std::strerror(e) +
                       (e == EINVAL ? " (the group exists with another mode or interface, or the socket is not bound)"
                                    : ""));
  }
  const sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &prog, sizeof prog) != 0) {
    const int e = errno;
    throw CaptureError("cannot set the program of packet fan-out group " + std::to_string(group) + ": " +
                       std::strerror(e));
  }
}

}  // namespace dnsvigil::capture
