// dnsgen: deterministic synthetic DNS traffic for benchmarks, written as a pcap file
// (nanosecond magic 0xa1b23c4d, link type Ethernet) without libpcap.
//
// The traffic is what a SPAN port in front of two recursive resolvers sees: thousands of
// clients (some IPv6, some behind 802.1Q tags) asking 10.20.0.53/.54 (fd00:20::53/54 for IPv6)
// about tens of thousands of registered domains with Zipf (s = 1) popularity, a realistic qtype
// mix, answers with name compression, CNAME chains, NXDOMAIN/SERVFAIL/NODATA, EDNS, unanswered
// queries, and a few per cent over TCP (full handshakes, length-prefixed messages, FIN). Attacks
// (tunnelling, enumeration, an AXFR, a rogue resolver, a beacon) sit at fixed fractions of the
// file's packet time; floods (--flood) are mixed in proportionally to the packet count.
//
// Determinism: one xoshiro256** generator seeded through splitmix64, every distribution mapped
// by hand with integer arithmetic (no std:: distributions, no libm), output written in explicit
// little-endian order. The same arguments give the same bytes on every platform and library.
//
// Speed: one reusable frame buffer, a 4 MiB output buffer, a binary heap of pending packets and
// a free-listed transaction pool; nothing is allocated per packet once the pools are warm.
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
__extension__ typedef unsigned __int128 u128;

constexpr int kFormatVersion = 1;
constexpr u64 kNs = 1'000'000'000;
constexpr u64 kUs = 1'000;
constexpr u64 kMs = 1'000'000;

// ---------------------------------------------------------------------------------------------
// Randomness: fully specified generators and hand-written mappings.

u64 splitmix64(u64& x) noexcept {
  u64 z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

u64 rotl(u64 x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

/// xoshiro256** (Blackman & Vigna); uniform integers by multiply-shift (Lemire, without the
/// rejection step: the bias is below n / 2^64, irrelevant here and deterministic).
class Rng {
 public:
  explicit Rng(u64 seed) noexcept {
    for (auto& w : s_) w = splitmix64(seed);
  }
  u64 next() noexcept {
    const u64 r = rotl(s_[1] * 5, 7) * 9;
    const u64 t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  /// Uniform in [0, n).
  u64 below(u64 n) noexcept { return static_cast<u64>((static_cast<u128>(next()) * n) >> 64); }
  /// Uniform in [lo, hi].
  u64 between(u64 lo, u64 hi) noexcept { return lo + below(hi - lo + 1); }
  /// True with probability p / 10000.
  bool chance(u32 p) noexcept { return below(10000) < p; }
  u16 r16() noexcept { return static_cast<u16>(next() >> 48); }
  u32 r32() noexcept { return static_cast<u32>(next() >> 32); }

 private:
  std::array<u64, 4> s_{};
};

/// A cheap stream keyed by a hash: answer contents are a function of the name, so the same
/// name gets the same addresses every time, as from a real zone.
struct Mix {
  u64 x;
  u64 next() noexcept { return splitmix64(x); }
  u64 below(u64 n) noexcept { return static_cast<u64>((static_cast<u128>(next()) * n) >> 64); }
};

u64 fnv1a(const u8* p, std::size_t n, u64 h = 0xcbf29ce484222325ULL) noexcept {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

/// Picks an index from small integer weights.
template <std::size_t N>
std::size_t pick(Rng& r, const std::array<u32, N>& w) noexcept {
  u64 total = 0;
  for (const u32 x : w) total += x;
  u64 u = r.below(total);
  for (std::size_t i = 0; i < N; ++i) {
    if (u < w[i]) return i;
    u -= w[i];
  }
  return N - 1;
}

/// Zipf-Mandelbrot over ranks 0..n-1: weight of rank r is 2^40 / (r + offset) in integers
/// (s = 1 exactly, no pow), sampled by binary search over the cumulative weights.
class Zipf {
 public:
  Zipf(std::size_t n, u64 offset) : cum_(n) {
    u64 acc = 0;
    for (std::size_t r = 0; r < n; ++r) {
      acc += (u64{1} << 40) / (r + offset);
      cum_[r] = acc;
    }
  }
  std::size_t operator()(Rng& r) const noexcept {
    const u64 u = r.below(cum_.back());
    return static_cast<std::size_t>(std::upper_bound(cum_.begin(), cum_.end(), u) - cum_.begin());
  }

 private:
  std::vector<u64> cum_;
};

// ---------------------------------------------------------------------------------------------
// Byte order helpers (explicit, so the file is the same on any host).

void be16(u8* p, u32 v) noexcept {
  p[0] = static_cast<u8>(v >> 8);
  p[1] = static_cast<u8>(v);
}
void be32(u8* p, u32 v) noexcept {
  p[0] = static_cast<u8>(v >> 24);
  p[1] = static_cast<u8>(v >> 16);
  p[2] = static_cast<u8>(v >> 8);
  p[3] = static_cast<u8>(v);
}
void le32(u8* p, u32 v) noexcept {
  p[0] = static_cast<u8>(v);
  p[1] = static_cast<u8>(v >> 8);
  p[2] = static_cast<u8>(v >> 16);
  p[3] = static_cast<u8>(v >> 24);
}
void le16(u8* p, u32 v) noexcept {
  p[0] = static_cast<u8>(v);
  p[1] = static_cast<u8>(v >> 8);
}

// ---------------------------------------------------------------------------------------------
// DNS constants.

namespace qt {
constexpr u16 A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28, SRV = 33, OPT = 41,
              DS = 43, DNSKEY = 48, SVCB = 64, HTTPS = 65, AXFR = 252, CAA = 257;
}
namespace rc {
constexpr u8 NOERROR = 0, SERVFAIL = 2, NXDOMAIN = 3;
}

// ---------------------------------------------------------------------------------------------
// Names: uncompressed wire form, built label by label.

struct Name {
  std::array<u8, 256> w;
  u16 len = 0;

  void clear() noexcept { len = 0; }
  /// Appends one label (cut to 63 octets; the whole name to 254 plus the root).
  void label(const char* s, std::size_t n) noexcept {
    n = std::min<std::size_t>(n, 63);
    if (len + n + 2 > 255) return;
    w[len++] = static_cast<u8>(n);
    std::memcpy(&w[len], s, n);
    len = static_cast<u16>(len + n);
  }
  void label(std::string_view s) noexcept { label(s.data(), s.size()); }
  /// Appends labels already in wire form (no root).
  void raw(const u8* p, std::size_t n) noexcept {
    if (len + n + 1 > 255) return;
    std::memcpy(&w[len], p, n);
    len = static_cast<u16>(len + n);
  }
  /// Appends a dotted name ("a.b.c").
  void dotted(std::string_view s) noexcept {
    while (!s.empty()) {
      const std::size_t dot = s.find('.');
      label(s.substr(0, dot));
      if (dot == std::string_view::npos) break;
      s.remove_prefix(dot + 1);
    }
  }
  void root() noexcept { w[len++] = 0; }
  void copy_from(const Name& o) noexcept {
    len = o.len;
    std::memcpy(w.data(), o.w.data(), o.len);
  }
};

std::string wire_of(std::string_view dotted) {
  Name n;
  n.dotted(dotted);
  return std::string(reinterpret_cast<const char*>(n.w.data()), n.len);
}

// ---------------------------------------------------------------------------------------------
// DNS message writer with real suffix compression (RFC 1035 §4.1.4).

class Dns {
 public:
  Dns(u8* p, std::size_t cap) noexcept : p_(p), cap_(cap) {}

  void header(u16 id, u16 flags, u16 qd) noexcept {
    be16(p_, id);
    be16(p_ + 2, flags);
    be16(p_ + 4, qd);
    std::memset(p_ + 6, 0, 6);
    n_ = 12;
  }
  void counts(u32 an, u32 ns, u32 ar) noexcept {
    be16(p_ + 6, an);
    be16(p_ + 8, ns);
    be16(p_ + 10, ar);
  }
  void put16(u32 v) noexcept {
    if (room(2)) be16(p_ + n_, v), n_ += 2;
  }
  void put32(u32 v) noexcept {
    if (room(4)) be32(p_ + n_, v), n_ += 4;
  }
  void put8(u32 v) noexcept {
    if (room(1)) p_[n_++] = static_cast<u8>(v);
  }
  void bytes(const void* b, std::size_t n) noexcept {
    if (room(n)) std::memcpy(p_ + n_, b, n), n_ += n;
  }
  /// Writes a name, pointing at the longest suffix already in the message when `compress`.
  void name(const Name& nm, bool compress = true) noexcept {
    const u8* w = nm.w.data();
    const std::size_t len = nm.len;
    std::size_t pos = 0;
    const std::size_t start = n_;
    while (pos < len && w[pos] != 0) {
      if (compress) {
        const std::size_t rest = len - pos;
        for (std::size_t i = 0; i < nd_; ++i) {
          if (dict_[i].len == rest && std::memcmp(arena_.data() + dict_[i].arena, w + pos, rest) == 0) {
            bytes(w, pos);
            put16(0xC000U | dict_[i].off);
            remember(w, pos, start, len);
            return;
          }
        }
      }
      pos += 1U + w[pos];
    }
    bytes(w, len);
    remember(w, pos, start, len);
  }
  std::size_t size() const noexcept { return n_; }
  std::size_t mark() const noexcept { return n_; }
  void patch16(std::size_t at, u32 v) noexcept { be16(p_ + at, v); }
  /// Space left for rdata before `cap`.
  bool room(std::size_t n) const noexcept { return n_ + n <= cap_; }
  u8* data() noexcept { return p_; }
  /// Forgets the compression dictionary (a new message in the same buffer).
  void reset_dict() noexcept {
    nd_ = 0;
    na_ = 0;
  }

 private:
  // Registers the suffixes written in full (labels before `upto`) at their message offsets.
  void remember(const u8* w, std::size_t upto, std::size_t start, std::size_t len) noexcept {
    std::size_t pos = 0;
    while (pos < upto && nd_ < dict_.size()) {
      const std::size_t off = start + pos;
      const std::size_t rest = len - pos;
      if (off >= 0x3FFF || na_ + rest > arena_.size()) return;
      std::memcpy(arena_.data() + na_, w + pos, rest);
      dict_[nd_++] = {static_cast<u16>(off), static_cast<u16>(rest), static_cast<u16>(na_)};
      na_ += rest;
      pos += 1U + w[pos];
    }
  }
  struct Entry {
    u16 off, len, arena;
  };
  u8* p_;
  std::size_t cap_;
  std::size_t n_ = 0;
  // Left uninitialised: a message is built per packet and only entries below nd_ are read.
  std::array<Entry, 96> dict_;
  std::size_t nd_ = 0;
  std::array<u8, 8192> arena_;
  std::size_t na_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Hosts and frames.

struct Host {
  std::array<u8, 16> ip{};
  std::array<u8, 6> mac{};
  bool v6 = false;
  u8 ttl = 64;
};

Host v4host(u32 a, u32 mac_seed, u8 ttl = 64) {
  Host h;
  be32(h.ip.data(), a);
  h.mac = {0x02, 0x00, static_cast<u8>(mac_seed >> 24), static_cast<u8>(mac_seed >> 16), static_cast<u8>(mac_seed >> 8),
           static_cast<u8>(mac_seed)};
  h.ttl = ttl;
  return h;
}
Host v6host(const std::array<u16, 8>& g, u32 mac_seed, u8 ttl = 64) {
  Host h = v4host(0, mac_seed, ttl);
  for (std::size_t i = 0; i < 8; ++i) be16(&h.ip[2 * i], g[i]);
  h.v6 = true;
  return h;
}
constexpr u32 ip4(u32 a, u32 b, u32 c, u32 d) { return (a << 24) | (b << 16) | (c << 8) | d; }

u32 csum_add(u32 sum, const u8* p, std::size_t n) noexcept {
  for (; n >= 2; p += 2, n -= 2) sum += static_cast<u32>((p[0] << 8) | p[1]);
  if (n) sum += static_cast<u32>(p[0] << 8);
  return sum;
}
u16 csum_fold(u32 sum) noexcept {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<u16>(~sum & 0xFFFF);
}

constexpr u8 kTcpFin = 0x01, kTcpSyn = 0x02, kTcpPsh = 0x08, kTcpAck = 0x10;

/// Lays out Ethernet (+802.1Q) + IPv4/IPv6 + UDP/TCP headers in front of a payload that the
/// caller has already written at `payload_offset()`.
struct Frame {
  static constexpr std::size_t kCap = 70000;
  std::array<u8, kCap> buf{};

  static std::size_t l3(u16 vlan) noexcept { return vlan ? 18 : 14; }
  static std::size_t l4(u16 vlan, bool v6) noexcept { return l3(vlan) + (v6 ? 40 : 20); }
  static std::size_t udp_payload(u16 vlan, bool v6) noexcept { return l4(vlan, v6) + 8; }
  static std::size_t tcp_payload(u16 vlan, bool v6, bool syn) noexcept { return l4(vlan, v6) + (syn ? 24 : 20); }
  u8* at(std::size_t off) noexcept { return buf.data() + off; }

  std::size_t ether_ip(const Host& s, const Host& d, u16 vlan, u8 proto, std::size_t l4len, u16 ipid,
                       u16 frag = 0) noexcept {
    u8* p = buf.data();
    std::memcpy(p, d.mac.data(), 6);
    std::memcpy(p + 6, s.mac.data(), 6);
    std::size_t o = 12;
    if (vlan) {
      be16(p + 12, 0x8100);
      be16(p + 14, vlan);
      o = 16;
    }
    be16(p + o, s.v6 ? 0x86DD : 0x0800);
    u8* ip = p + o + 2;
    if (s.v6) {
      be32(ip, 0x60000000U | (static_cast<u32>(ipid) << 4));  // flow label from the id
      be16(ip + 4, static_cast<u32>(l4len));
      ip[6] = proto;
      ip[7] = s.ttl;
      std::memcpy(ip + 8, s.ip.data(), 16);
      std::memcpy(ip + 24, d.ip.data(), 16);
    } else {
      ip[0] = 0x45;
      ip[1] = 0;
      be16(ip + 2, static_cast<u32>(20 + l4len));
      be16(ip + 4, ipid);
      be16(ip + 6, frag);
      ip[8] = s.ttl;
      ip[9] = proto;
      be16(ip + 10, 0);
      std::memcpy(ip + 12, s.ip.data(), 4);
      std::memcpy(ip + 16, d.ip.data(), 4);
      be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    }
    return o + 2 + (s.v6 ? 40 : 20);
  }

  u32 pseudo(const Host& s, const Host& d, u8 proto, std::size_t l4len) const noexcept {
    u32 sum = 0;
    const std::size_t alen = s.v6 ? 16 : 4;
    sum = csum_add(sum, s.ip.data(), alen);
    sum = csum_add(sum, d.ip.data(), alen);
    return sum + proto + static_cast<u32>(l4len);
  }

  /// UDP datagram with a correct checksum. Returns the frame length.
  std::size_t udp(const Host& s, const Host& d, u16 vlan, u16 sport, u16 dport, std::size_t plen, u16 ipid) noexcept {
    const std::size_t l4len = 8 + plen;
    const std::size_t o = ether_ip(s, d, vlan, 17, l4len, ipid);
    u8* u = buf.data() + o;
    be16(u, sport);
    be16(u + 2, dport);
    be16(u + 4, static_cast<u32>(l4len));
    be16(u + 6, 0);
    u16 c = csum_fold(csum_add(pseudo(s, d, 17, l4len), u, l4len));
    be16(u + 6, c == 0 ? 0xFFFFU : u32{c});
    return o + l4len;
  }

  /// TCP segment (MSS option on SYNs) with a correct checksum. Returns the frame length.
  std::size_t tcp(const Host& s, const Host& d, u16 vlan, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags,
                  std::size_t plen, u16 ipid) noexcept {
    const bool syn = (flags & kTcpSyn) != 0;
    const std::size_t hl = syn ? 24 : 20;
    const std::size_t l4len = hl + plen;
    const std::size_t o = ether_ip(s, d, vlan, 6, l4len, ipid, s.v6 ? 0 : 0x4000);
    u8* t = buf.data() + o;
    be16(t, sport);
    be16(t + 2, dport);
    be32(t + 4, seq);
    be32(t + 8, (flags & kTcpAck) ? ack : 0);
    t[12] = static_cast<u8>((hl / 4) << 4);
    t[13] = flags;
    be16(t + 14, 64240);
    be16(t + 16, 0);
    be16(t + 18, 0);
    if (syn) {
      t[20] = 2;
      t[21] = 4;
      be16(t + 22, s.v6 ? 1440 : 1460);
    }
    be16(t + 16, csum_fold(csum_add(pseudo(s, d, 6, l4len), t, l4len)));
    return o + l4len;
  }
};

// ---------------------------------------------------------------------------------------------
// pcap output.

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path) : buf_(4u << 20) {
    f_ = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
    if (f_ == nullptr) {
      std::fprintf(stderr, "dnsgen: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
      std::exit(1);
    }
    u8 h[24];
    le32(h, 0xa1b23c4d);  // nanosecond timestamps
    le16(h + 4, 2);
    le16(h + 6, 4);
    le32(h + 8, 0);
    le32(h + 12, 0);
    le32(h + 16, 65535);  // snaplen
    le32(h + 20, 1);      // LINKTYPE_ETHERNET
    put(h, 24);
  }
  ~PcapWriter() { close(); }
  void packet(u64 ts, const u8* p, std::size_t len) noexcept {
    u8 h[16];
    le32(h, static_cast<u32>(ts / kNs));
    le32(h + 4, static_cast<u32>(ts % kNs));
    le32(h + 8, static_cast<u32>(len));
    le32(h + 12, static_cast<u32>(len));
    put(h, 16);
    put(p, len);
    ++packets_;
  }
  void close() {
    if (f_ == nullptr) return;
    flush();
    if (f_ != stdout) {
      if (std::fclose(f_) != 0) {
        std::fprintf(stderr, "dnsgen: write error: %s\n", std::strerror(errno));
        std::exit(1);
      }
    } else {
      std::fflush(f_);
    }
    f_ = nullptr;
  }
  u64 bytes() const noexcept { return bytes_; }
  u64 packets() const noexcept { return packets_; }

 private:
  void put(const u8* p, std::size_t n) noexcept {
    if (n_ + n > buf_.size()) flush();
    std::memcpy(buf_.data() + n_, p, n);
    n_ += n;
    bytes_ += n;
  }
  void flush() noexcept {
    if (n_ != 0 && std::fwrite(buf_.data(), 1, n_, f_) != n_) {
      std::fprintf(stderr, "dnsgen: write error: %s\n", std::strerror(errno));
      std::exit(1);
    }
    n_ = 0;
  }
  std::FILE* f_ = nullptr;
  std::vector<u8> buf_;
  std::size_t n_ = 0;
  u64 bytes_ = 0, packets_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The name universe: registered domains with their hosts.

struct Famous {
  const char* domain;
  const char* hosts;  // '|'-separated; an empty entry is the apex
};
// Real, popular registered domains take the top ranks (their hosts as seen in enterprise traffic).
constexpr Famous kFamous[] = {
    {"google.com", "www|mail|accounts|apis|clients4|play|drive|docs|ogs|update|fonts"},
    {"googleapis.com", "www|fonts|storage|android|content-autofill|safebrowsing|youtube"},
    {"microsoft.com", "www|login|go|settings-win.data|assets|support|v10.events.data"},
    {"gstatic.com", "www|fonts|ssl|encrypted-tbn0|connectivitycheck"},
    {"apple.com", "www|gsp-ssl.ls|mesu|configuration|init|gdmf|gs-loc"},
    {"windowsupdate.com", "ctldl|download|au|fe2.update"},
    {"office.com", "www|outlook|substrate|ecs|login|nexusrules"},
    {"facebook.com", "www|graph|edge-mqtt|static|connect"},
    {"youtube.com", "www|m|i|music|s"},
    {"amazonaws.com", "s3|ec2.us-east-1|dynamodb.eu-west-1|sqs.us-east-1|s3.dualstack.eu-west-1|kinesis.eu-central-1"},
    {"live.com", "login|outlook|account|storage"},
    {"icloud.com", "www|p32-contacts|gateway|setup|keyvalueservice"},
    {"akamaiedge.net", "e6858.dscx|e9659.dspg|e1234.a|e28578.d"},
    {"cloudfront.net", "d1a2b3c4d5e6f7|d3rtzzzsvhjdsa|dzbn8gm9ez2hk|d2c87l0yth4zbw"},
    {"doubleclick.net", "ad|stats|securepubads.g|googleads.g"},
    {"ytimg.com", "i|i9|yt3|s"},
    {"fbcdn.net", "static.xx|scontent.xx|video.xx"},
    {"googlesyndication.com", "pagead2|tpc"},
    {"google-analytics.com", "www|region1|ssl"},
    {"googletagmanager.com", "www"},
    {"github.com", "|api|codeload|collector|alive|www"},
    {"githubusercontent.com", "raw|avatars|objects"},
    {"slack.com", "app|edgeapi|wss-primary|files"},
    {"zoom.us", "www|us04web|zoom"},
    {"whatsapp.net", "mmg|media-fra3-1|g"},
    {"netflix.com", "www|api-global|ichnaea|occ-0-1"},
    {"twitter.com", "api|abs|www"},
    {"twimg.com", "abs|pbs|video"},
    {"instagram.com", "www|i|graph"},
    {"linkedin.com", "www|static|media"},
    {"cloudflare.com", "www|speed|dash"},
    {"wikipedia.org", "www|en|de|fr"},
    {"bing.com", "www|th|c|api"},
    {"yahoo.com", "www|mail|login|api"},
    {"spotify.com", "www|api|apresolve|spclient.wg"},
    {"digicert.com", "ocsp|crl3|crl4|cacerts"},
    {"lencr.org", "r3.o|x1.c|r10.o|r11.o"},
    {"msftconnecttest.com", "www|ipv6"},
    {"sentry.io", "|o450123.ingest|browser"},
    {"dropbox.com", "www|client|bolt|d"},
    {"adobe.com", "www|cc-api-data|ims-na1"},
    {"mozilla.org", "www|firefox|push|aus5"},
    {"ubuntu.com", "archive|security|ntp|motd|api.snapcraft"},
    {"debian.org", "deb|security|ftp"},
    {"bbc.co.uk", "www|static|ichef|feeds"},
    {"spiegel.de", "www|cdn"},
    {"amazon.de", "www|images-eu|completion"},
    {"heise.de", "www|heise|static"},
    {"salesforce.com", "login|www|static"},
    {"okta.com", "login|ok12static"},
};

// Host prefixes of the generated domains.
constexpr std::string_view kPrefixes[] = {
    "",       "www",   "api",    "cdn",     "mail",    "static",  "img",   "m",      "app",      "login",
    "auth",   "assets", "media", "shop",    "blog",    "news",    "status", "docs",  "support",  "portal",
    "smtp",   "images", "video", "ws",      "track",   "analytics", "edge", "accounts", "files", "secure"};

constexpr std::string_view kSyllOnset[] = {"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p",
                                           "r", "s", "t", "v", "w", "z", "br", "tr", "st", "ch", "gr", "pl"};
constexpr std::string_view kSyllNucleus[] = {"a", "e", "i", "o", "u", "a", "e", "o", "ai", "ou", "ea"};
constexpr std::string_view kSyllCoda[] = {"", "", "", "n", "r", "s", "l", "x", "m", "t"};
constexpr std::string_view kWords[] = {"tech", "cloud", "media", "shop", "labs",   "group",  "news",  "app",
                                       "data", "soft",  "web",   "games", "bank",  "travel", "health", "energy",
                                       "hub",  "works", "online", "store", "home", "auto",   "design", "finance"};

struct Tld {
  const char* name;
  u32 weight;
};
constexpr Tld kTlds[] = {{"com", 470}, {"net", 90}, {"org", 70},    {"de", 60},  {"co.uk", 40}, {"io", 35},
                         {"fr", 25},   {"nl", 20},  {"ru", 20},     {"pl", 10},  {"jp", 15},    {"info", 15},
                         {"com.br", 15}, {"it", 15}, {"es", 10},    {"ca", 10},  {"cn", 10},    {"eu", 10},
                         {"com.au", 10}, {"app", 10}, {"dev", 8},   {"ch", 8},   {"in", 8},     {"co", 8},
                         {"se", 6},    {"at", 6},   {"be", 6},      {"me", 5},   {"us", 5},     {"xyz", 5},
                         {"tv", 4},    {"biz", 4},  {"online", 3},  {"co.jp", 4}, {"cz", 4},   {"dk", 4}};

struct Domain {
  u32 off;       // into Universe::wire
  u8 len;        // wire length without the root
  u8 tld_off;    // offset of the public suffix inside the wire
  u8 nhosts;
  u32 host0;     // into Universe::host_of
  bool v6;       // has AAAA records
  bool https;    // has HTTPS records
};

class Universe {
 public:
  Universe(std::size_t n, u64 seed) {
    std::vector<std::string> prefix_wire;
    for (const auto p : kPrefixes) prefix_wire.push_back(p.empty() ? std::string() : wire_of(p));
    for (auto& p : prefix_wire) host_index(p);
    Mix m{seed ^ 0xD0A1D0A1ULL};
    u64 tld_total = 0;
    for (const auto& t : kTlds) tld_total += t.weight;
    domains_.reserve(n);
    std::string sld;
    for (std::size_t i = 0; i < n; ++i) {
      Domain d{};
      d.off = static_cast<u32>(wire_.size());
      d.host0 = static_cast<u32>(host_of_.size());
      std::string dw;
      if (i < std::size(kFamous)) {
        const std::string_view full = kFamous[i].domain;
        const std::size_t dot = full.find('.');
        dw = wire_of(full);
        d.tld_off = static_cast<u8>(dot + 1);
        std::string_view hosts = kFamous[i].hosts;
        while (true) {
          const std::size_t bar = hosts.find('|');
          const std::string_view h = hosts.substr(0, bar);
          host_of_.push_back(host_index(h.empty() ? std::string() : wire_of(h)));
          if (bar == std::string_view::npos) break;
          hosts.remove_prefix(bar + 1);
        }
        d.nhosts = static_cast<u8>(host_of_.size() - d.host0);
        d.v6 = true;
        d.https = i % 3 == 0;
      } else {
        make_sld(m, sld);
        u64 u = m.below(tld_total);
        std::size_t t = 0;
        while (u >= kTlds[t].weight) u -= kTlds[t++].weight;
        dw = wire_of(sld + "." + kTlds[t].name);
        d.tld_off = static_cast<u8>(sld.size() + 1);
        // 1..6 hosts: "www" or the apex first, then other prefixes.
        const std::size_t nh = 1 + m.below(6);
        host_of_.push_back(m.below(10) < 6 ? 1 : 0);
        for (std::size_t h = 1; h < nh; ++h) host_of_.push_back(static_cast<u32>(2 + m.below(std::size(kPrefixes) - 2)));
        d.nhosts = static_cast<u8>(nh);
        d.v6 = m.below(100) < 55;
        d.https = m.below(100) < 35;
      }
      d.len = static_cast<u8>(dw.size());
      wire_.insert(wire_.end(), dw.begin(), dw.end());
      domains_.push_back(d);
    }
  }

  std::size_t size() const noexcept { return domains_.size(); }
  const Domain& at(std::size_t i) const noexcept { return domains_[i]; }

  /// Host h (0 = most popular) of domain i appended to `n` (no root).
  void host(std::size_t i, std::size_t h, Name& n) const noexcept {
    const Domain& d = domains_[i];
    const std::string& hw = hosts_[host_of_[d.host0 + std::min<std::size_t>(h, d.nhosts - 1U)]];
    n.raw(reinterpret_cast<const u8*>(hw.data()), hw.size());
  }
  /// The registered domain i appended to `n` (no root).
  void domain(std::size_t i, Name& n) const noexcept { n.raw(&wire_[domains_[i].off], domains_[i].len); }
  /// Its public suffix.
  void suffix(std::size_t i, Name& n) const noexcept {
    const Domain& d = domains_[i];
    n.raw(&wire_[d.off + d.tld_off], d.len - d.tld_off);
  }
  /// The second-level label (without length) of domain i.
  std::string_view sld(std::size_t i) const noexcept {
    const Domain& d = domains_[i];
    return {reinterpret_cast<const char*>(&wire_[d.off + 1]), wire_[d.off]};
  }

  static void make_sld(Mix& m, std::string& s) {
    s.clear();
    const std::size_t syl = 2 + m.below(3);
    for (std::size_t k = 0; k < syl; ++k) {
      s += kSyllOnset[m.below(std::size(kSyllOnset))];
      s += kSyllNucleus[m.below(std::size(kSyllNucleus))];
      if (k + 1 == syl || m.below(4) == 0) s += kSyllCoda[m.below(std::size(kSyllCoda))];
    }
    const u64 style = m.below(100);
    if (style < 22) {
      s += kWords[m.below(std::size(kWords))];
    } else if (style < 30) {
      s = std::string(kWords[m.below(std::size(kWords))]) + "-" + s;
    } else if (style < 34) {
      s += std::to_string(m.below(99) + 1);
    }
  }

 private:
  u32 host_index(const std::string& w) {
    for (u32 i = 0; i < hosts_.size(); ++i)
      if (hosts_[i] == w) return i;
    hosts_.push_back(w);
    return static_cast<u32>(hosts_.size() - 1);
  }
  std::vector<u8> wire_;
  std::vector<Domain> domains_;
  std::vector<std::string> hosts_;  // wire form of host prefixes
  std::vector<u32> host_of_;
};

// Brute-force dictionary (the head of common subdomain wordlists).
constexpr std::string_view kDictionary[] = {
    "www", "mail", "ftp", "localhost", "webmail", "smtp", "pop", "ns1", "webdisk", "ns2", "cpanel", "whm",
    "autodiscover", "m", "imap", "test", "ns", "blog", "pop3", "dev", "www2", "admin", "forum", "news", "vpn", "ns3",
    "mail2", "new", "mysql", "old", "lists", "support", "mobile", "mx", "static", "docs", "beta", "shop", "sql",
    "secure", "demo", "cp", "calendar", "wiki", "web", "media", "email", "images", "img", "www1", "intranet",
    "portal", "video", "sip", "dns2", "api", "cdn", "stats", "dns1", "ns4", "www3", "dns", "search", "staging",
    "server", "mx1", "chat", "wap", "my", "svn", "mail1", "sites", "proxy", "ads", "host", "crm", "cms", "backup",
    "mx2", "lyncdiscover", "info", "apps", "download", "remote", "db", "forums", "store", "relay", "files",
    "newsletter", "app", "live", "owa", "en", "start", "sms", "office", "exchange", "ipv4", "help", "home",
    "library", "ftp2", "ntp", "monitor", "login", "service", "correo", "www4", "moodle", "it", "gateway", "gw",
    "i", "stat", "stage", "ldap", "tv", "ssl", "web1", "ftp1", "archive", "git", "jira", "confluence", "sso",
    "hr", "erp", "vpn2", "owa2", "citrix", "gitlab", "jenkins", "grafana", "kibana", "prometheus", "vault",
    "k8s", "registry", "nexus", "sonar", "build", "ci", "qa", "uat", "preprod", "prod", "internal", "extranet",
    "partner", "partners", "b2b", "edi", "sftp", "files2", "share", "sharepoint", "teams", "meet", "video2",
    "voip", "pbx", "asterisk", "fax", "printer", "print", "scan", "camera", "nvr", "dvr", "cctv", "door",
    "badge", "hvac", "ups", "pdu", "ilo", "idrac", "ipmi", "bmc", "esx", "esxi", "vcenter", "vsphere", "hyperv",
    "dc", "dc1", "dc2", "ad", "adfs", "sts", "radius", "nps", "wsus", "sccm", "kms", "pki", "ca", "crl", "ocsp",
    "time", "syslog", "siem", "splunk", "elk", "logs", "log", "nagios", "zabbix", "cacti", "mrtg", "netflow",
    "fw", "firewall", "router", "switch", "core", "edge", "lb", "haproxy", "nginx", "apache", "tomcat", "iis",
    "db1", "db2", "oracle", "mssql", "postgres", "redis", "mongo", "elastic", "kafka", "rabbit", "mq", "smtp2",
    "mailgw", "spam", "antispam", "av", "webproxy", "squid", "dmz", "test2", "dev2", "sandbox", "lab", "labs",
    "research", "finance", "payroll", "billing", "invoice", "pay", "payments", "checkout", "cart", "orders",
    "inventory", "warehouse", "logistics", "tracking", "crm2", "sales", "marketing", "events", "careers", "jobs"};

// Hosts of examplecorp.com that exist (answered NOERROR; listed in the AXFR).
constexpr std::string_view kCorpHosts[] = {"www",  "mail", "vpn",    "remote", "owa",  "portal", "intranet", "wiki",
                                           "git",  "jira", "confluence", "api", "dev", "test", "staging", "ns1",
                                           "ns2",  "mx",   "smtp",   "ftp",    "cdn",  "shop",   "blog",     "support",
                                           "login", "sso", "crm",    "erp",    "hr",   "dc1",    "dc2",      "adfs"};
bool corp_host_exists(std::string_view w) {
  return std::find(std::begin(kCorpHosts), std::end(kCorpHosts), w) != std::end(kCorpHosts);
}

constexpr std::string_view kAdSrv[] = {"_ldap._tcp.dc._msdcs", "_kerberos._tcp", "_ldap._tcp",
                                       "_ldap._tcp.default-first-site-name._sites", "_gc._tcp", "_kpasswd._udp",
                                       "_ldap._tcp.pdc._msdcs", "_kerberos._udp"};

// ---------------------------------------------------------------------------------------------
// Transactions and events.

enum class Kind : u8 { udp, tcp, tc_tcp, axfr, syn, frag };
enum class Outcome : u8 { answer, nodata, nxdomain, servfail, none };
enum class Style : u8 { normal, ptr, srv, tunnel, beacon, torture, axfr, corp };
enum class SoaOf : u8 { zone, tld, root };

struct Txn {
  Host c, s;
  u16 vlan;
  u16 cport, sport, id, qtype;
  Kind kind;
  Outcome outcome;
  Style style;
  SoaOf soa;
  bool flood;
  bool edns, dnssec_ok, cookie;
  u32 dom;  // domain index for normal names, else ~0
  u32 cseq, sseq, qlen, rlen;
  u64 lat, rtt;
  u32 sent;  // AXFR octets sent
  u32 segs;
  Name q;  // query name (with root)
  Name z;  // zone apex (with root): SOA/NS/MX owner
};

struct Event {
  u64 t;
  u64 seq;
  u32 txn;
  u16 step;
};
struct Later {
  bool operator()(const Event& a, const Event& b) const noexcept { return a.t != b.t ? a.t > b.t : a.seq > b.seq; }
};

// TCP step numbers (UDP uses 0 and 1).
constexpr u16 kSyn = 10, kSynAck = 11, kAck = 12, kQuery = 13, kResp = 14, kAck2 = 15, kFin = 16, kFinAck = 17,
              kLastAck = 18, kXferSeg = 20, kXferAck = 21, kXferDone = 22;

// ---------------------------------------------------------------------------------------------
// Options.

enum class Flood : u8 { none, water_torture, tcp_half_open, fragments };

struct Options {
  u64 packets = 1'000'000;
  std::string out;
  u64 seed = 1;
  u64 rate = 50'000;          // packets per second of packet time
  u64 clients = 10'000;
  u64 domains = 50'000;
  u64 start = 1709542800;     // 2024-03-04T09:00:00Z
  bool attacks = true;
  Flood flood = Flood::none;
  u64 flood_count = 0;        // 0: the kind's default
  bool quiet = false;
};

// ---------------------------------------------------------------------------------------------
// The generator.

struct Client {
  Host h;
  u16 vlan;
  u32 subnet;
};

class Generator {
 public:
  explicit Generator(const Options& o)
      : o_(o), rng_(o.seed), uni_(o.domains, o.seed), dom_zipf_(o.domains, 1), cli_zipf_(o.clients, 100),
        out_(o.out) {
    // Sanctioned resolvers and other fixed hosts.
    res4_[0] = v4host(ip4(10, 20, 0, 53), 0x53005300);
    res4_[1] = v4host(ip4(10, 20, 0, 54), 0x53005400);
    res6_[0] = v6host({0xfd00, 0x20, 0, 0, 0, 0, 0, 0x53}, 0x53005300);
    res6_[1] = v6host({0xfd00, 0x20, 0, 0, 0, 0, 0, 0x54}, 0x53005400);
    for (u32 i = 0; i < 4; ++i) mail_[i] = v4host(ip4(10, 20, 1, 25 + i), 0x25000000 + i);
    google_ = v4host(ip4(8, 8, 8, 8), 0xFEFE0001, 120);   // behind the router: the router's MAC
    outsider_ = v4host(ip4(198, 51, 100, 23), 0xFEFE0001, 52);
    // Clients: 200 per subnet; some subnets behind 802.1Q tags, some IPv6-only.
    clients_.reserve(o.clients);
    Mix m{o.seed ^ 0xC11E47ULL};
    for (u32 i = 0; i < o.clients; ++i) {
      Client c{};
      c.subnet = i / 200;
      const u32 host = i % 200;
      const u8 ttl = m.below(100) < 70 ? 128 : 64;  // Windows or Unix-like
      if (m.below(100) < 15) {
        c.h = v6host({0xfd00, 0x10, static_cast<u16>(c.subnet), 0, static_cast<u16>(m.next()), static_cast<u16>(m.next()),
                      static_cast<u16>(m.next()), static_cast<u16>(host + 1)},
                     0x10000000U + i, ttl);
      } else if (c.subnet % 10 == 7) {
        c.h = v4host(ip4(172, 16 + (c.subnet % 16), c.subnet / 16, host + 10), 0x10000000U + i, ttl);
      } else if (c.subnet % 10 == 9) {
        c.h = v4host(ip4(192, 168, c.subnet % 256, host + 10), 0x10000000U + i, ttl);
      } else {
        c.h = v4host(ip4(10, 10 + c.subnet / 64, (c.subnet % 64) * 4 + host / 250, 1 + host % 250), 0x10000000U + i, ttl);
      }
      c.vlan = c.subnet % 4 == 1 ? static_cast<u16>(100 + c.subnet % 3000) : 0;
      clients_.push_back(c);
    }
    // Rank -> client: a fixed shuffle, so heavy clients are spread over the subnets.
    by_rank_.resize(o.clients);
    for (u32 i = 0; i < o.clients; ++i) by_rank_[i] = i;
    Rng shuffle(o.seed ^ 0x5A5A5A5AULL);
    for (std::size_t i = o.clients; i > 1; --i) std::swap(by_rank_[i - 1], by_rank_[shuffle.below(i)]);

    // Packet time: a transaction is about 2.19 packets on average (answered UDP 2, unanswered 1,
    // TCP 9, truncated UDP + TCP 11), so queries start every 2.19 / rate seconds on average.
    gap_ = 219 * kNs / (100 * o.rate);
    duration_ = o.packets * kNs / o.rate;
    t0_ = o.start * kNs;
    bg_next_ = t0_;
    heap_.reserve(1 << 16);
    txns_.reserve(1 << 12);
    axfr_stream_.reserve(1 << 18);
    fill_.resize(1 << 16);
    for (auto& b : fill_) b = static_cast<u8>(rng_.next() >> 56);

    if (o.attacks) plan_attacks();
    if (o.flood != Flood::none) {
      flood_target_ = o.flood_count != 0 ? o.flood_count : (o.flood == Flood::water_torture ? 2'000'000 : 1'000'000);
      for (u32 i = 0; i < 1000 && i < o.clients; ++i) bots_.push_back(static_cast<u32>((u64{i} * o.clients) / 1000));
    }
  }

  void run() {
    const auto wall0 = std::chrono::steady_clock::now();
    while (main_packets_ < o_.packets) {
      if (flood_target_ != 0) inject_flood();
      // Start every source whose next start is due before the earliest pending packet.
      const u64 top = heap_.empty() ? ~u64{0} : heap_.front().t;
      u64 best = bg_next_;
      int src = -1;
      for (std::size_t i = 0; i < kSources; ++i)
        if (src_next_[i] < best) best = src_next_[i], src = static_cast<int>(i);
      if (best <= top) {
        if (src < 0) {
          start_background(bg_next_);
          bg_next_ += gap_ / 2 + rng_.below(gap_);
        } else {
          start_attack(src, best);
        }
        continue;
      }
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      const Event ev = heap_.back();
      heap_.pop_back();
      handle(ev);
    }
    out_.close();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    if (!o_.quiet) report(secs);
  }

 private:
  // ---- attack plan ---------------------------------------------------------------------
  enum Src { kBeacon, kTunnel, kEnum, kAxfr, kRogue, kSources };

  void plan_attacks() {
    const u64 d = duration_;
    // Beacon: >= 10 lookups with a median interval over the detector's 2 s floor.
    beacon_period_ = std::clamp<u64>(d / 14, 2050 * kMs, 300 * kNs);
    src_next_[kBeacon] = t0_ + d / 100;
    beacon_left_ = 1 + (d - d / 100) / beacon_period_;
    src_next_[kTunnel] = t0_ + d / 10;
    tunnel_left_ = std::max<u64>(40, (d / 5) / (50 * kMs));  // 20 queries/s for a fifth of the file
    src_next_[kEnum] = t0_ + d * 35 / 100;
    enum_left_ = std::size(kDictionary);
    src_next_[kAxfr] = t0_ + d / 2;
    src_next_[kRogue] = t0_ + d * 60 / 100;
    rogue_left_ = 6;
    // Attack clients: ordinary IPv4 clients (they have normal traffic too).
    beacon_client_ = v4_client_at_rank(o_.clients * 8 / 10);
    tunnel_client_ = v4_client_at_rank(o_.clients * 3 / 10);
    enum_client_ = v4_client_at_rank(o_.clients * 4 / 10);
    rogue_client_ = v4_client_at_rank(o_.clients * 15 / 100);
  }

  u32 v4_client_at_rank(u64 r) const {
    for (u64 k = 0; k < o_.clients; ++k) {
      const u32 c = by_rank_[(r + k) % o_.clients];
      if (!clients_[c].h.v6) return c;
    }
    return by_rank_[0];
  }

  // ---- pools ---------------------------------------------------------------------------
  u32 alloc() {
    if (!free_.empty()) {
      const u32 i = free_.back();
      free_.pop_back();
      return i;
    }
    txns_.emplace_back();
    return static_cast<u32>(txns_.size() - 1);
  }
  void release(u32 i) { free_.push_back(i); }
  void schedule(u64 t, u32 txn, u16 step) {
    heap_.push_back({t, seq_++, txn, step});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }

  // ---- common transaction set-up ---------------------------------------------------------
  Txn& fresh(u32& idx, const Client& cl, bool v6srv_from_client = true) {
    idx = alloc();
    Txn& t = txns_[idx];
    t.c = cl.h;
    t.vlan = cl.vlan;
    const u64 which = rng_.below(2);
    t.s = (v6srv_from_client && cl.h.v6) ? res6_[which] : res4_[which];
    t.cport = ephemeral_port(cl.h);
    t.sport = 53;
    t.id = rng_.r16();
    t.kind = Kind::udp;
    t.outcome = Outcome::answer;
    t.style = Style::normal;
    t.soa = SoaOf::zone;
    t.flood = false;
    t.edns = rng_.chance(8500);
    t.dnssec_ok = t.edns && rng_.chance(3000);
    t.cookie = t.edns && rng_.chance(2500);
    t.dom = ~0U;
    t.cseq = rng_.r32();
    t.sseq = rng_.r32();
    t.qlen = t.rlen = 0;
    t.sent = t.segs = 0;
    t.lat = latency();
    t.rtt = 150 * kUs + rng_.below(1500 * kUs);
    t.q.clear();
    t.z.clear();
    return t;
  }

  // Source ports as the client's stack picks them: Windows 49152-65535, Linux 32768-60999;
  // clients in the 172.16/12 pools sit behind NAT/VPN concentrators that use 1024-65535.
  u16 ephemeral_port(const Host& h) {
    if (!h.v6 && h.ip[0] == 172) return static_cast<u16>(1024 + rng_.below(64512));
    if (h.ttl == 128) return static_cast<u16>(49152 + rng_.below(16384));
    return static_cast<u16>(32768 + rng_.below(28232));
  }

  u64 latency() {
    const u64 u = rng_.below(100);
    if (u < 75) return 80 * kUs + rng_.below(1400 * kUs);   // cache hit
    if (u < 97) return 4 * kMs + rng_.below(46 * kMs);      // recursion
    return 50 * kMs + rng_.below(350 * kMs);                // slow authoritative
  }

  // ---- background ----------------------------------------------------------------------
  void start_background(u64 t) {
    // Query types as an enterprise resolver sees them. Infrastructure types come from the hosts
    // that ask them: MX and most TXT from the mail servers (SPF, DKIM, DMARC of senders), SOA
    // from Windows clients locating the zone of their own name for dynamic updates.
    static constexpr std::array<u32, 10> kQtypeW = {6050, 2500, 700, 300, 150, 100, 100, 50, 20, 20};
    static constexpr u16 kQtypes[] = {qt::A,   qt::AAAA, qt::HTTPS, qt::PTR, qt::SRV,
                                      qt::SOA, qt::TXT,  qt::MX,    qt::NS,  qt::SVCB};
    const u16 qtype = kQtypes[pick(rng_, kQtypeW)];
    const u32 ci = by_rank_[cli_zipf_(rng_)];
    const Client* cl = &clients_[ci];
    Client mail{};
    if (qtype == qt::MX || (qtype == qt::TXT && rng_.chance(8000))) {
      mail.h = mail_[rng_.below(4)];
      cl = &mail;
    }
    u32 idx = 0;
    Txn& x = fresh(idx, *cl);
    x.qtype = qtype;
    if (qtype == qt::PTR) {
      ptr_name(x, *cl);
    } else if (qtype == qt::SRV) {
      x.style = Style::srv;
      x.q.dotted(kAdSrv[rng_.below(std::size(kAdSrv))]);
      x.q.dotted("ad.examplecorp.com");
      x.q.root();
      x.z.dotted("ad.examplecorp.com");
      x.z.root();
    } else if (qtype == qt::SOA && cl->h.ttl == 128) {
      char b[16];
      const int n = std::snprintf(b, sizeof b, "ws-%05u", static_cast<unsigned>(ci));
      x.q.label(b, static_cast<std::size_t>(n));
      x.q.dotted("ad.examplecorp.com");
      x.q.root();
      x.z.dotted("ad.examplecorp.com");
      x.z.root();
      x.outcome = Outcome::nodata;
    } else if (rng_.chance(600)) {
      nx_name(x);
    } else {
      const std::size_t d = dom_zipf_(rng_);
      x.dom = static_cast<u32>(d);
      const bool apex = qtype == qt::MX || qtype == qt::TXT || qtype == qt::NS || qtype == qt::SOA;
      if (qtype == qt::TXT && cl == &mail) {
        // SPF at the apex, DMARC policy, DKIM keys.
        const u64 u = rng_.below(10);
        if (u < 3) {
          x.q.label("_dmarc");
          if (rng_.chance(3000)) x.outcome = Outcome::nxdomain;
        } else if (u < 6) {
          static constexpr std::string_view kSel[] = {"google", "selector1", "selector2", "s1", "k1", "default"};
          x.q.label(kSel[rng_.below(std::size(kSel))]);
          x.q.label("_domainkey");
        }
      } else if (!apex) {
        // Host h with probability 1/2^(h+1): the first host of a domain dominates.
        const u64 bits = rng_.next();
        std::size_t h = 0;
        while (h < 7 && ((bits >> h) & 1U)) ++h;
        uni_.host(d, h, x.q);
      }
      uni_.domain(d, x.q);
      x.q.root();
      uni_.domain(d, x.z);
      x.z.root();
      const Domain& dm = uni_.at(d);
      if ((qtype == qt::AAAA && !dm.v6) || (qtype == qt::HTTPS && !dm.https) || qtype == qt::SVCB)
        x.outcome = Outcome::nodata;
    }
    if (x.outcome == Outcome::answer || x.outcome == Outcome::nodata) {
      const u64 u = rng_.below(10000);
      if (u < 150) x.outcome = Outcome::none;
      else if (u < 250) x.outcome = Outcome::servfail;
    }
    if (x.outcome != Outcome::none && x.outcome != Outcome::servfail) {
      const u64 u = rng_.below(10000);
      if (u < 100) x.kind = Kind::tcp;
      else if (u < 250) x.kind = Kind::tc_tcp;
    }
    schedule(t, idx, x.kind == Kind::tcp ? kSyn : 0);
  }

  void ptr_name(Txn& x, const Client& cl) {
    x.style = Style::ptr;
    // Each client reverse-resolves a small set of internal peers.
    const u64 h = fnv1a(cl.h.ip.data(), 16, rng_.below(16));
    char b[4];
    if (cl.h.v6 && (h & 3) == 0) {
      static constexpr char kHex[] = "0123456789abcdef";
      u8 a[16] = {0xfd, 0x00, 0x00, 0x10, 0, static_cast<u8>(h >> 8), 0, 0, 0, 0, 0, 0,
                  static_cast<u8>(h >> 16), static_cast<u8>(h >> 24), static_cast<u8>(h >> 32), static_cast<u8>(h >> 40)};
      for (int i = 15; i >= 0; --i) {
        b[0] = kHex[a[i] & 15];
        x.q.label(b, 1);
        b[0] = kHex[a[i] >> 4];
        x.q.label(b, 1);
      }
      x.q.dotted("ip6.arpa");
      x.z.dotted("0.0.d.f.ip6.arpa");
    } else {
      const u32 a[4] = {10, 20 + static_cast<u32>((h >> 8) % 8), static_cast<u32>((h >> 16) % 256),
                        1 + static_cast<u32>((h >> 24) % 254)};
      for (int i = 3; i >= 0; --i) {
        const int n = std::snprintf(b, sizeof b, "%u", a[i]);
        x.q.label(b, static_cast<std::size_t>(n));
      }
      x.q.dotted("in-addr.arpa");
      x.z.dotted("10.in-addr.arpa");
    }
    x.q.root();
    x.z.root();
    if ((h >> 40) % 100 < 12) x.outcome = Outcome::nxdomain;
  }

  void nx_name(Txn& x) {
    x.outcome = Outcome::nxdomain;
    const u64 kind = rng_.below(100);
    if (kind < 40) {
      // A host that does not exist under a real domain (WPAD/ISATAP probes, typos of hosts).
      static constexpr std::string_view kNx[] = {"wpad", "isatap", "wwww", "ww", "www1", "localhost", "old", "email"};
      const std::size_t d = dom_zipf_(rng_);
      x.q.label(kNx[rng_.below(std::size(kNx))]);
      uni_.domain(d, x.q);
      uni_.domain(d, x.z);
      x.dom = static_cast<u32>(d);
    } else if (kind < 75) {
      // Browser intranet-redirect probes: 7-15 random letters, a single label.
      char b[16];
      const std::size_t n = 7 + rng_.below(9);
      for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<char>('a' + rng_.below(26));
      x.q.label(b, n);
      x.soa = SoaOf::root;
      x.qtype = qt::A;
    } else {
      // A registered domain that does not exist (typo, expired): the TLD's SOA.
      std::string s;
      Mix m{rng_.next()};
      Universe::make_sld(m, s);
      x.q.label(s);
      const std::size_t d = rng_.below(uni_.size());
      uni_.suffix(d, x.q);
      uni_.suffix(d, x.z);
      x.soa = SoaOf::tld;
    }
    x.q.root();
    x.z.root();
  }

  // ---- attacks ---------------------------------------------------------------------------
  void start_attack(int src, u64 t) {
    u32 idx = 0;
    switch (src) {
      case kBeacon: {
        Txn& x = fresh(idx, clients_[beacon_client_]);
        x.qtype = qt::A;
        x.style = Style::beacon;
        x.q.dotted("cdn-check.updsvc-telemetry.com");
        x.q.root();
        x.z.dotted("updsvc-telemetry.com");
        x.z.root();
        x.lat = 20 * kMs + rng_.below(10 * kMs);
        schedule(t, idx, 0);
        // +-2 % jitter around the period.
        src_next_[kBeacon] = --beacon_left_ == 0 ? ~u64{0} : t + beacon_period_ * 98 / 100 + rng_.below(beacon_period_ / 25);
        break;
      }
      case kTunnel: {
        Txn& x = fresh(idx, clients_[tunnel_client_]);
        x.qtype = qt::TXT;
        x.style = Style::tunnel;
        x.edns = true;
        // iodine/dnscat-like: base32 payload in two long labels, a sequence label, one domain.
        static constexpr char kB32[] = "abcdefghijklmnopqrstuvwxyz234567";
        char b[64];
        for (int lab = 0; lab < 2; ++lab) {
          const std::size_t n = lab == 0 ? 52 + rng_.below(12) : 20 + rng_.below(30);
          for (std::size_t i = 0; i < n; ++i) b[i] = kB32[rng_.below(32)];
          x.q.label(b, n);
        }
        const int n = std::snprintf(b, sizeof b, "s%04x", static_cast<unsigned>(tunnel_seq_++ & 0xFFFF));
        x.q.label(b, static_cast<std::size_t>(n));
        x.q.dotted("dnsc2-relay.net");
        x.q.root();
        x.z.dotted("dnsc2-relay.net");
        x.z.root();
        x.lat = 30 * kMs + rng_.below(40 * kMs);
        schedule(t, idx, 0);
        src_next_[kTunnel] = --tunnel_left_ == 0 ? ~u64{0} : t + 40 * kMs + rng_.below(20 * kMs);
        break;
      }
      case kEnum: {
        Txn& x = fresh(idx, clients_[enum_client_]);
        x.qtype = qt::A;
        x.edns = false;  // dictionary tools often send plain queries
        const std::string_view w = kDictionary[std::size(kDictionary) - enum_left_];
        x.q.label(w);
        x.q.dotted("examplecorp.com");
        x.q.root();
        x.z.dotted("examplecorp.com");
        x.z.root();
        x.style = Style::corp;
        x.outcome = corp_host_exists(w) ? Outcome::answer : Outcome::nxdomain;
        schedule(t, idx, 0);
        src_next_[kEnum] = --enum_left_ == 0 ? ~u64{0} : t + 5 * kMs + rng_.below(10 * kMs);
        break;
      }
      case kAxfr: {
        Client out{outsider_, 0, 0};
        Txn& x = fresh(idx, out, false);
        x.s = res4_[0];
        x.kind = Kind::axfr;
        x.qtype = qt::AXFR;
        x.style = Style::axfr;
        x.edns = false;
        x.q.dotted("examplecorp.com");
        x.q.root();
        x.z.copy_from(x.q);
        x.rtt = 30 * kMs;
        x.lat = 2 * kMs;
        schedule(t, idx, kSyn);
        src_next_[kAxfr] = ~u64{0};
        break;
      }
      case kRogue: {
        Txn& x = fresh(idx, clients_[rogue_client_]);
        x.s = google_;
        x.qtype = rogue_left_ % 2 ? qt::AAAA : qt::A;
        const std::size_t d = rogue_left_ * 3;  // popular names
        x.dom = static_cast<u32>(d);
        uni_.host(d, 0, x.q);
        uni_.domain(d, x.q);
        x.q.root();
        uni_.domain(d, x.z);
        x.z.root();
        x.lat = 8 * kMs + rng_.below(20 * kMs);
        schedule(t, idx, 0);
        src_next_[kRogue] = --rogue_left_ == 0 ? ~u64{0} : t + 300 * kMs + rng_.below(400 * kMs);
        break;
      }
      default:
        break;
    }
  }

  // ---- floods ----------------------------------------------------------------------------
  void inject_flood() {
    // Flood events are spread over 5 %..95 % of the main packets, in proportion.
    const u64 lo = o_.packets / 20, span = o_.packets * 9 / 10;
    if (main_packets_ < lo) return;
    const u64 progress = std::min(main_packets_ - lo, span);
    const u64 want = static_cast<u64>((static_cast<u128>(flood_target_) * progress) / span);
    if (flood_started_ >= want) return;
    const u64 next_t = heap_.empty() ? last_t_ + 1000 : std::max(heap_.front().t, last_t_);
    const u64 k = want - flood_started_;
    for (u64 i = 0; i < k; ++i) start_flood(last_t_ + (next_t - last_t_) * (i + 1) / (k + 1));
  }

  void start_flood(u64 t) {
    ++flood_started_;
    u32 idx = 0;
    switch (o_.flood) {
      case Flood::water_torture: {
        Txn& x = fresh(idx, clients_[bots_[rng_.below(bots_.size())]]);
        x.flood = true;
        x.qtype = rng_.chance(8000) ? qt::A : qt::AAAA;
        x.style = Style::torture;
        char b[20];
        static constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        const std::size_t n = 8 + rng_.below(9);
        for (std::size_t i = 0; i < n; ++i) b[i] = kAlnum[rng_.below(36)];
        x.q.label(b, n);
        const bool www = rng_.chance(3000);
        if (www) x.q.label("www");
        const std::string_view victim = rng_.chance(7000) ? "victim-shop.com" : "bank-example.net";
        x.q.dotted(victim);
        x.q.root();
        x.z.dotted(victim);
        x.z.root();
        const u64 u = rng_.below(100);
        x.outcome = u < 55 ? Outcome::nxdomain : u < 80 ? Outcome::servfail : Outcome::none;
        x.lat = 20 * kMs + rng_.below(1500 * kMs);  // the victim's servers are overloaded
        schedule(t, idx, 0);
        break;
      }
      case Flood::tcp_half_open: {
        Txn& x = fresh(idx, clients_[0], false);
        x.flood = true;
        x.kind = Kind::syn;
        x.c = v4host(public_ip4(), 0xFEFE0001, static_cast<u8>(40 + rng_.below(80)));
        x.vlan = 0;
        x.s = res4_[rng_.below(2)];
        x.lat = 30 * kUs + rng_.below(100 * kUs);
        schedule(t, idx, 0);
        break;
      }
      case Flood::fragments: {
        Txn& x = fresh(idx, clients_[0], false);
        x.flood = true;
        x.kind = Kind::frag;
        x.c = res4_[rng_.below(2)];                    // the resolver receives...
        x.s = v4host(public_ip4(), 0xFEFE0001, 50);   // ...a large answer from "upstream"
        x.vlan = 0;
        schedule(t, idx, 0);
        break;
      }
      case Flood::none:
        break;
    }
  }

  u32 public_ip4() {
    while (true) {
      const u32 a = rng_.r32();
      const u32 f = a >> 24;
      if (f == 0 || f == 10 || f == 127 || f == 100 || f >= 224 || (f == 172 && ((a >> 20) & 0xF) == 1) ||
          (f == 192 && ((a >> 16) & 0xFF) == 168) || (f == 169 && ((a >> 16) & 0xFF) == 254))
        continue;
      return a;
    }
  }

  // ---- packets -----------------------------------------------------------------------------
  void emit(u64 t, std::size_t len, bool flood) {
    out_.packet(t, frame_.buf.data(), len);
    last_t_ = t;
    if (flood) ++flood_packets_;
    else ++main_packets_;
  }

  void handle(const Event& ev) {
    Txn& x = txns_[ev.txn];
    const u64 t = ev.t;
    switch (x.kind) {
      case Kind::udp:
      case Kind::tc_tcp:
        if (ev.step == 0) {
          udp_query(x, t);
          if (x.outcome == Outcome::none) {
            release(ev.txn);
            ++unanswered_;
          } else {
            schedule(t + x.lat, ev.txn, 1);
          }
          return;
        }
        if (ev.step == 1) {
          const bool tc = x.kind == Kind::tc_tcp;
          udp_response(x, t, tc);
          if (tc) {
            x.id = rng_.r16();
            x.cport = ephemeral_port(x.c);
            schedule(t + x.rtt + 200 * kUs, ev.txn, kSyn);
          } else {
            release(ev.txn);
          }
          return;
        }
        tcp_step(ev, x, t);
        return;
      case Kind::tcp:
      case Kind::axfr:
        tcp_step(ev, x, t);
        return;
      case Kind::syn:
        if (ev.step == 0) {
          emit(t, frame_.tcp(x.c, x.s, 0, x.cport, 53, x.cseq, 0, kTcpSyn, 0, rng_.r16()), true);
          schedule(t + x.lat, ev.txn, 1);
        } else {
          emit(t, frame_.tcp(x.s, x.c, 0, 53, x.cport, x.sseq, x.cseq + 1, kTcpSyn | kTcpAck, 0, rng_.r16()), true);
          release(ev.txn);
        }
        return;
      case Kind::frag:
        fragment(x, t);
        release(ev.txn);
        return;
    }
  }

  /// Writes the query message at `p` (capacity `cap`); returns its length.
  std::size_t query_msg(const Txn& x, u8* p, std::size_t cap) {
    Dns m(p, cap);
    m.header(x.id, x.style == Style::axfr ? 0x0000 : 0x0100, 1);  // RD, except for zone transfers
    m.name(x.q, false);
    m.put16(x.qtype);
    m.put16(1);
    u32 ar = 0;
    if (x.edns) {
      opt(m, false, x, 0);
      ar = 1;
    }
    m.counts(0, 0, ar);
    return m.size();
  }

  void opt(Dns& m, bool response, const Txn& x, u16 ede) {
    m.put8(0);
    m.put16(qt::OPT);
    m.put16(response ? 1232 : (x.dnssec_ok ? 4096 : 1232));
    m.put32(x.dnssec_ok ? 0x8000 : 0);
    const std::size_t rdlen = m.mark();
    m.put16(0);
    if (x.cookie) {
      m.put16(10);  // COOKIE (RFC 7873): client cookie, plus the server's in responses
      m.put16(response ? 24 : 8);
      u8 c[24];
      const u64 h = fnv1a(x.c.ip.data(), 16);
      for (std::size_t i = 0; i < 24; ++i) c[i] = static_cast<u8>(h >> (8 * (i % 8)) ^ (i * 37));
      m.bytes(c, response ? 24 : 8);
    }
    if (ede != 0) {
      m.put16(15);  // Extended DNS Error (RFC 8914)
      m.put16(2);
      m.put16(ede);
    }
    m.patch16(rdlen, static_cast<u32>(m.size() - rdlen - 2));
  }

  void udp_query(Txn& x, u64 t) {
    const std::size_t off = Frame::udp_payload(x.vlan, x.c.v6);
    const std::size_t len = query_msg(x, frame_.at(off), 1400);
    emit(t, frame_.udp(x.c, x.s, x.vlan, x.cport, x.sport, len, rng_.r16()), x.flood);
  }

  void udp_response(Txn& x, u64 t, bool tc) {
    const std::size_t off = Frame::udp_payload(x.vlan, x.c.v6);
    const std::size_t len = response_msg(x, frame_.at(off), x.edns ? 1232 : 512, tc);
    emit(t, frame_.udp(x.s, x.c, x.vlan, x.sport, x.cport, len, rng_.r16()), x.flood);
  }

  void tcp_step(const Event& ev, Txn& x, u64 t) {
    const u16 v = x.vlan;
    const u32 cs = x.cseq, ss = x.sseq;
    switch (ev.step) {
      case kSyn:
        emit(t, frame_.tcp(x.c, x.s, v, x.cport, x.sport, cs, 0, kTcpSyn, 0, rng_.r16()), x.flood);
        schedule(t + 40 * kUs, ev.txn, kSynAck);
        return;
      case kSynAck:
        emit(t, frame_.tcp(x.s, x.c, v, x.sport, x.cport, ss, cs + 1, kTcpSyn | kTcpAck, 0, rng_.r16()), x.flood);
        schedule(t + x.rtt, ev.txn, kAck);
        return;
      case kAck:
        emit(t, frame_.tcp(x.c, x.s, v, x.cport, x.sport, cs + 1, ss + 1, kTcpAck, 0, rng_.r16()), x.flood);
        schedule(t + 15 * kUs, ev.txn, kQuery);
        return;
      case kQuery: {
        const std::size_t off = Frame::tcp_payload(v, x.c.v6, false);
        const std::size_t n = query_msg(x, frame_.at(off + 2), 1400);
        be16(frame_.at(off), static_cast<u32>(n));
        x.qlen = static_cast<u32>(n + 2);
        emit(t, frame_.tcp(x.c, x.s, v, x.cport, x.sport, cs + 1, ss + 1, kTcpPsh | kTcpAck, n + 2, rng_.r16()), x.flood);
        schedule(t + x.lat, ev.txn, x.kind == Kind::axfr ? kXferSeg : kResp);
        return;
      }
      case kResp: {
        const std::size_t off = Frame::tcp_payload(v, x.c.v6, false);
        const std::size_t n = response_msg(x, frame_.at(off + 2), 1440, false);
        be16(frame_.at(off), static_cast<u32>(n));
        x.rlen = static_cast<u32>(n + 2);
        emit(t, frame_.tcp(x.s, x.c, v, x.sport, x.cport, ss + 1, cs + 1 + x.qlen, kTcpPsh | kTcpAck, n + 2, rng_.r16()),
             x.flood);
        schedule(t + x.rtt, ev.txn, kAck2);
        return;
      }
      case kAck2:
        emit(t, frame_.tcp(x.c, x.s, v, x.cport, x.sport, cs + 1 + x.qlen, ss + 1 + x.rlen, kTcpAck, 0, rng_.r16()),
             x.flood);
        schedule(t + 100 * kUs + rng_.below(5 * kMs), ev.txn, kFin);
        return;
      case kFin:
        emit(t, frame_.tcp(x.c, x.s, v, x.cport, x.sport, cs + 1 + x.qlen, ss + 1 + x.rlen, kTcpFin | kTcpAck, 0,
                           rng_.r16()),
             x.flood);
        schedule(t + 40 * kUs, ev.txn, kFinAck);
        return;
      case kFinAck:
        emit(t, frame_.tcp(x.s, x.c, v, x.sport, x.cport, ss + 1 + x.rlen, cs + 2 + x.qlen, kTcpFin | kTcpAck, 0,
                           rng_.r16()),
             x.flood);
        schedule(t + x.rtt, ev.txn, kLastAck);
        return;
      case kLastAck:
        emit(t, frame_.tcp(x.c, x.s, v, x.cport, x.sport, cs + 2 + x.qlen, ss + 2 + x.rlen, kTcpAck, 0, rng_.r16()),
             x.flood);
        release(ev.txn);
        return;
      case kXferSeg: {
        if (x.sent == 0) build_axfr(x);
        const std::size_t total = axfr_stream_.size();
        const std::size_t n = std::min<std::size_t>(1460, total - x.sent);
        const std::size_t off = Frame::tcp_payload(v, x.c.v6, false);
        std::memcpy(frame_.at(off), axfr_stream_.data() + x.sent, n);
        emit(t, frame_.tcp(x.s, x.c, v, x.sport, x.cport, ss + 1 + x.sent, cs + 1 + x.qlen, static_cast<u8>(kTcpAck | (x.sent + n == total ? kTcpPsh : 0)), n,
                           rng_.r16()),
             x.flood);
        x.sent = static_cast<u32>(x.sent + n);
        ++x.segs;
        if (x.sent == total) {
          x.rlen = x.sent;
          schedule(t + 40 * kUs, ev.txn, kXferDone);
        } else {
          schedule(t + (x.segs % 2 == 0 ? 30 * kUs : 12 * kUs), ev.txn, x.segs % 2 == 0 ? kXferAck : kXferSeg);
        }
        return;
      }
      case kXferAck:
        emit(t, frame_.tcp(x.c, x.s, v, x.cport, x.sport, cs + 1 + x.qlen, ss + 1 + x.sent, kTcpAck, 0, rng_.r16()),
             x.flood);
        schedule(t + 12 * kUs, ev.txn, kXferSeg);
        return;
      case kXferDone:
        emit(t, frame_.tcp(x.c, x.s, v, x.cport, x.sport, cs + 1 + x.qlen, ss + 1 + x.rlen, kTcpAck, 0, rng_.r16()),
             x.flood);
        schedule(t + 2 * kMs, ev.txn, kFin);
        return;
      default:
        return;
    }
  }

  void fragment(Txn& x, u64 t) {
    // First fragment of a ~3-4 KB DNSSEC answer from upstream to the resolver: offset 0, MF set.
    constexpr std::size_t kPay = 1480;
    const std::size_t off = Frame::l4(0, false);
    u8* u = frame_.at(off);
    const u32 dgram = static_cast<u32>(2800 + rng_.below(1200));
    be16(u, 53);
    be16(u + 2, static_cast<u32>(1024 + rng_.below(64512)));
    be16(u + 4, dgram);
    be16(u + 6, 0);  // the checksum covers the whole datagram, which never arrives: 0 (none)
    Dns m(u + 8, kPay - 8);
    m.header(rng_.r16(), 0x8180, 1);
    Name q;
    q.clear();
    const std::size_t d = dom_zipf_(rng_);
    uni_.domain(d, q);
    q.root();
    m.name(q);
    m.put16(qt::DNSKEY);
    m.put16(1);
    u16 an = 0;
    while (m.room(12 + 260)) {
      m.name(q);
      m.put16(qt::DNSKEY);
      m.put16(1);
      m.put32(3600);
      m.put16(260);
      m.put16(an == 0 ? 257 : 256);
      m.put8(3);
      m.put8(8);
      m.bytes(fill_.data() + rng_.below(fill_.size() - 512), 256);
      ++an;
    }
    // The rest of this fragment is the start of the RRSIG that continues in the lost fragments.
    const std::size_t used = 8 + m.size();
    std::memcpy(u + used, fill_.data() + rng_.below(fill_.size() - 2048), kPay - used);
    m.counts(an + 2U, 0, 1);
    const std::size_t len = frame_.ether_ip(x.s, x.c, 0, 17, kPay, rng_.r16(), 0x2000);  // MF, offset 0
    emit(t, len + kPay, true);
  }

  // ---- responses ---------------------------------------------------------------------------
  std::size_t response_msg(Txn& x, u8* p, std::size_t cap, bool tc) {
    Dns m(p, cap);
    u8 rcode = rc::NOERROR;
    if (x.outcome == Outcome::nxdomain) rcode = rc::NXDOMAIN;
    if (x.outcome == Outcome::servfail) rcode = rc::SERVFAIL;
    u16 flags = static_cast<u16>(0x8180 | rcode);  // QR RD RA
    if (tc) flags = static_cast<u16>(flags | 0x0200);
    m.header(x.id, flags, 1);
    m.name(x.q);
    m.put16(x.qtype);
    m.put16(1);
    u32 an = 0, ns = 0, ar = 0;
    u16 ede = 0;
    if (!tc) {
      switch (x.outcome) {
        case Outcome::answer:
          an = answers(m, x);
          if (an == 0) ns = soa(m, x, x.z);
          break;
        case Outcome::nodata:
        case Outcome::nxdomain:
          ns = soa(m, x, x.z);
          break;
        case Outcome::servfail:
          ede = rng_.chance(5000) ? 22 : 23;  // no reachable authority / network error
          break;
        default:
          break;
      }
    }
    if (x.edns) {
      opt(m, true, x, ede);
      ar = 1;
    }
    m.counts(an, ns, ar);
    return m.size();
  }

  static u32 ttl_of(Mix& h) {
    static constexpr u32 kTtl[] = {20, 60, 60, 300, 300, 300, 600, 3600, 3600, 86400};
    return kTtl[h.below(std::size(kTtl))];
  }

  // Record header; returns the rdlength position.
  static std::size_t rr(Dns& m, const Name& owner, u16 type, u32 ttl) {
    m.name(owner);
    m.put16(type);
    m.put16(1);
    m.put32(ttl);
    const std::size_t at = m.mark();
    m.put16(0);
    return at;
  }
  static void end_rr(Dns& m, std::size_t at) { m.patch16(at, static_cast<u32>(m.size() - at - 2)); }

  static void a_rdata(Dns& m, Mix& h) {
    static constexpr u32 kNets[][2] = {{ip4(142, 250, 0, 0), 17}, {ip4(104, 16, 0, 0), 20}, {ip4(151, 101, 0, 0), 16},
                                       {ip4(13, 32, 0, 0), 17},   {ip4(23, 192, 0, 0), 21}, {ip4(52, 0, 0, 0), 22},
                                       {ip4(185, 199, 108, 0), 10}, {ip4(2, 16, 0, 0), 19}};
    const auto& n = kNets[h.below(std::size(kNets))];
    m.put32(n[0] + static_cast<u32>(h.below(u64{1} << n[1])));
  }
  static void aaaa_rdata(Dns& m, Mix& h) {
    static constexpr u16 kNets[][3] = {{0x2a00, 0x1450, 0x4001}, {0x2606, 0x4700, 0x0000}, {0x2600, 0x9000, 0x2000},
                                       {0x2a04, 0x4e42, 0x0000}, {0x2620, 0x1ec, 0x0c11},   {0x2a02, 0x26f0, 0x00c8}};
    const auto& n = kNets[h.below(std::size(kNets))];
    m.put16(n[0]);
    m.put16(n[1]);
    m.put16(n[2]);
    m.put16(static_cast<u32>(h.below(0x900)));
    const u64 r = h.next();
    m.put32(0);
    m.put32(static_cast<u32>(r & 0xFFFF));
  }

  u32 answers(Dns& m, Txn& x) {
    Mix h{fnv1a(x.q.w.data(), x.q.len, 0x5EED)};
    const u32 ttl = ttl_of(h);
    switch (x.style) {
      case Style::ptr: {
        Name t;
        t.clear();
        char b[24];
        const int n = std::snprintf(b, sizeof b, "host-%04x", static_cast<unsigned>(h.below(0x10000)));
        t.label(b, static_cast<std::size_t>(n));
        t.dotted("corp.examplecorp.com");
        t.root();
        const std::size_t at = rr(m, x.q, qt::PTR, 3600);
        m.name(t);
        end_rr(m, at);
        return 1;
      }
      case Style::srv: {
        const u32 cnt = 2;
        for (u32 i = 0; i < cnt; ++i) {
          const std::size_t at = rr(m, x.q, qt::SRV, 600);
          m.put16(0);
          m.put16(100);
          m.put16(x.q.w[1] == 'k' || x.q.w[7] == 'k' ? 88 : 389);
          Name t;
          t.clear();
          t.label(i == 0 ? "dc1" : "dc2");
          t.dotted("ad.examplecorp.com");
          t.root();
          m.name(t, false);  // RFC 2782: no compression in SRV targets
          end_rr(m, at);
        }
        return cnt;
      }
      case Style::tunnel: {
        static constexpr char kB32[] = "abcdefghijklmnopqrstuvwxyz234567";
        const std::size_t at = rr(m, x.q, qt::TXT, 0);
        const std::size_t n = 100 + rng_.below(150);
        m.put8(static_cast<u32>(n));
        for (std::size_t i = 0; i < n; ++i) m.put8(static_cast<u8>(kB32[rng_.below(32)]));
        end_rr(m, at);
        return 1;
      }
      case Style::corp:
      case Style::beacon: {
        const std::size_t at = rr(m, x.q, qt::A, x.style == Style::beacon ? 60 : 3600);
        a_rdata(m, h);
        end_rr(m, at);
        return 1;
      }
      default:
        break;
    }
    // Ordinary names.
    switch (x.qtype) {
      case qt::A:
      case qt::AAAA: {
        u32 an = 0;
        const Name* owner = &x.q;
        Name c1, c2;
        if (h.below(100) < 28 && x.dom >= std::size(kFamous)) {
          // CNAME chain to a CDN: one or two hops.
          c1.clear();
          c2.clear();
          const u64 cdn = h.below(4);
          const std::string_view sld = x.dom != ~0U ? uni_.sld(x.dom) : std::string_view("site");
          char b[40];
          if (cdn == 0) {
            c1.raw(x.q.w.data(), x.q.len - 1U);
            c1.dotted("edgekey.net");
            const int n = std::snprintf(b, sizeof b, "e%u", static_cast<unsigned>(1000 + h.below(30000)));
            c2.label(b, static_cast<std::size_t>(n));
            c2.label(h.below(2) ? "dscx" : "a");
            c2.dotted("akamaiedge.net");
          } else if (cdn == 1) {
            c1.label(sld);
            c1.dotted("map.fastly.net");
          } else if (cdn == 2) {
            static constexpr char kAl[] = "abcdefghijklmnopqrstuvwxyz0123456789";
            b[0] = 'd';
            for (int i = 1; i < 14; ++i) b[i] = kAl[h.below(36)];
            c1.label(b, 14);
            c1.dotted("cloudfront.net");
          } else {
            c1.label(sld);
            c1.dotted("azureedge.net");
            c2.label(sld);
            c2.dotted("afd.azureedge.net");
          }
          c1.root();
          std::size_t at = rr(m, *owner, qt::CNAME, ttl);
          m.name(c1);
          end_rr(m, at);
          ++an;
          owner = &c1;
          if (c2.len != 0) {
            c2.root();
            at = rr(m, c1, qt::CNAME, 60);
            m.name(c2);
            end_rr(m, at);
            ++an;
            owner = &c2;
          }
        }
        static constexpr std::array<u32, 4> kCount = {55, 20, 15, 10};
        const std::size_t n = 1 + [&] {
          u64 u = h.below(100);
          std::size_t i = 0;
          while (u >= kCount[i]) u -= kCount[i++];
          return i;
        }();
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t at = rr(m, *owner, x.qtype, 60);
          if (x.qtype == qt::A) a_rdata(m, h);
          else aaaa_rdata(m, h);
          end_rr(m, at);
          ++an;
        }
        return an;
      }
      case qt::HTTPS: {
        const std::size_t at = rr(m, x.q, qt::HTTPS, ttl);
        m.put16(1);
        m.put8(0);  // target "." (the owner)
        m.put16(1);  // alpn
        m.put16(6);
        m.bytes("\x02h3\x02h2", 6);
        m.put16(4);  // ipv4hint
        m.put16(4);
        a_rdata(m, h);
        end_rr(m, at);
        return 1;
      }
      case qt::MX: {
        const u32 cnt = 1 + static_cast<u32>(h.below(3));
        const bool o365 = h.below(100) < 30;
        for (u32 i = 0; i < cnt; ++i) {
          const std::size_t at = rr(m, x.q, qt::MX, 3600);
          m.put16(10 * (i + 1));
          Name t;
          t.clear();
          if (o365 && x.dom != ~0U) {
            t.label(uni_.sld(x.dom));
            t.dotted("mail.protection.outlook.com");
          } else {
            t.label(i == 0 ? "mx1" : i == 1 ? "mx2" : "mx3");
            t.raw(x.z.w.data(), x.z.len - 1U);
          }
          t.root();
          m.name(t);
          end_rr(m, at);
          if (o365) return 1;
        }
        return cnt;
      }
      case qt::TXT: {
        static constexpr std::string_view kTxt[] = {"v=spf1 include:_spf.google.com ~all",
                                                    "v=spf1 include:spf.protection.outlook.com -all",
                                                    "v=spf1 mx a ip4:192.0.2.0/24 ~all"};
        static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        u32 an = 0;
        std::size_t at = rr(m, x.q, qt::TXT, ttl);
        const std::string_view first(reinterpret_cast<const char*>(&x.q.w[1]), x.q.w[0]);
        if (first == "_dmarc") {
          static constexpr std::string_view kDmarc = "v=DMARC1; p=quarantine; pct=100; fo=1";
          m.put8(static_cast<u32>(kDmarc.size()));
          m.bytes(kDmarc.data(), kDmarc.size());
          end_rr(m, at);
          return 1;
        }
        if (x.q.w[0] + 1U < x.q.len && x.q.w[x.q.w[0] + 1U] == 10 &&
            std::memcmp(&x.q.w[x.q.w[0] + 2U], "_domainkey", 10) == 0) {
          char b[220] = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA";
          for (std::size_t i = 62; i < sizeof b; ++i) b[i] = kB64[h.below(64)];
          m.put8(sizeof b);
          m.bytes(b, sizeof b);
          end_rr(m, at);
          return 1;
        }
        const std::string_view s = kTxt[h.below(std::size(kTxt))];
        m.put8(static_cast<u32>(s.size()));
        m.bytes(s.data(), s.size());
        end_rr(m, at);
        ++an;
        if (h.below(2)) {
          char b[68] = "google-site-verification=";
          for (int i = 25; i < 68; ++i) b[i] = kB64[h.below(62)];
          at = rr(m, x.q, qt::TXT, ttl);
          m.put8(68);
          m.bytes(b, 68);
          end_rr(m, at);
          ++an;
        }
        return an;
      }
      case qt::NS: {
        for (u32 i = 0; i < 2; ++i) {
          const std::size_t at = rr(m, x.q, qt::NS, 86400);
          Name t;
          t.clear();
          t.label(i == 0 ? "ns1" : "ns2");
          t.raw(x.z.w.data(), x.z.len - 1U);
          t.root();
          m.name(t);
          end_rr(m, at);
        }
        return 2;
      }
      case qt::SOA:
        soa(m, x, x.z);
        return 1;
      default:
        return 0;
    }
  }

  u32 soa(Dns& m, const Txn& x, const Name& zone) {
    Name owner, mname, rname;
    owner.clear();
    mname.clear();
    rname.clear();
    if (x.soa == SoaOf::root) {
      owner.root();
      mname.dotted("a.root-servers.net");
      rname.dotted("nstld.verisign-grs.com");
    } else if (x.soa == SoaOf::tld) {
      owner.copy_from(zone);
      mname.dotted("a.gtld-servers.net");
      rname.dotted("nstld.verisign-grs.com");
    } else {
      owner.copy_from(zone);
      mname.label("ns1");
      mname.raw(zone.w.data(), zone.len - 1U);
      rname.label("hostmaster");
      rname.raw(zone.w.data(), zone.len - 1U);
    }
    mname.root();
    rname.root();
    const std::size_t at = rr(m, owner, qt::SOA, 900);
    m.name(mname);
    m.name(rname);
    m.put32(2024030401);
    m.put32(7200);
    m.put32(900);
    m.put32(1209600);
    m.put32(300);
    end_rr(m, at);
    return 1;
  }

  void build_axfr(Txn& x) {
    // examplecorp.com: SOA, NS, MX, TXT, the known hosts, then ~2000 workstation records, SOA.
    axfr_stream_.clear();
    std::vector<u8> msg(16384 + 512);
    const Name& zone = x.q;
    std::size_t record = 0;
    constexpr std::size_t kRecords = 2100;
    bool first = true;
    while (record <= kRecords) {
      Dns m(msg.data(), 16384);
      m.header(x.id, 0x8400, first ? 1 : 0);  // QR AA
      if (first) {
        m.name(zone);
        m.put16(qt::AXFR);
        m.put16(1);
      }
      u32 an = 0;
      while (record <= kRecords && m.size() < 16000) {
        Txn soa_x = x;
        soa_x.soa = SoaOf::zone;
        if (record == 0 || record == kRecords) {
          soa(m, soa_x, zone);
        } else if (record <= 2) {
          const std::size_t at = rr(m, zone, qt::NS, 86400);
          Name t;
          t.clear();
          t.label(record == 1 ? "ns1" : "ns2");
          t.raw(zone.w.data(), zone.len - 1U);
          t.root();
          m.name(t);
          end_rr(m, at);
        } else if (record == 3) {
          const std::size_t at = rr(m, zone, qt::MX, 3600);
          m.put16(10);
          Name t;
          t.clear();
          t.label("mail");
          t.raw(zone.w.data(), zone.len - 1U);
          t.root();
          m.name(t);
          end_rr(m, at);
        } else {
          Name owner;
          owner.clear();
          const std::size_t i = record - 4;
          if (i < std::size(kCorpHosts)) {
            owner.label(kCorpHosts[i]);
          } else {
            char b[24];
            const int n = std::snprintf(b, sizeof b, "ws-%04zu", i);
            owner.label(b, static_cast<std::size_t>(n));
            owner.label("corp");
          }
          owner.raw(zone.w.data(), zone.len - 1U);
          owner.root();
          const std::size_t at = rr(m, owner, qt::A, 3600);
          m.put32(ip4(10, 30, static_cast<u32>(i / 250), static_cast<u32>(1 + i % 250)));
          end_rr(m, at);
        }
        ++record;
        ++an;
      }
      m.counts(an, 0, 0);
      const std::size_t n = m.size();
      axfr_stream_.push_back(static_cast<u8>(n >> 8));
      axfr_stream_.push_back(static_cast<u8>(n));
      axfr_stream_.insert(axfr_stream_.end(), msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(n));
      first = false;
    }
  }

  void report(double secs) const {
    const double d = static_cast<double>(last_t_ - t0_) / 1e9;
    std::fprintf(stderr,
                 "dnsgen: %s: %llu packets (%llu main, %llu flood), %.1f MB, %.1f s of packet time, "
                 "%llu unanswered queries; %.2f s wall (%.2f M packets/s)\n",
                 o_.out.c_str(), static_cast<unsigned long long>(out_.packets()),
                 static_cast<unsigned long long>(main_packets_), static_cast<unsigned long long>(flood_packets_),
                 static_cast<double>(out_.bytes()) / 1e6, d, static_cast<unsigned long long>(unanswered_), secs,
                 static_cast<double>(out_.packets()) / secs / 1e6);
    if (o_.attacks) {
      const auto at = [&](u64 frac_pct) { return static_cast<double>(duration_) * static_cast<double>(frac_pct) / 1e11; };
      const auto addr = [](const Host& h) {
        return std::to_string(h.ip[0]) + "." + std::to_string(h.ip[1]) + "." + std::to_string(h.ip[2]) + "." +
               std::to_string(h.ip[3]);
      };
      std::fprintf(stderr,
                   "dnsgen: attacks (packet time from the start): beacon %s -> cdn-check.updsvc-telemetry.com every "
                   "%.2f s from %.1f s; tunnel %s TXT *.dnsc2-relay.net from %.1f s; enumeration %s *.examplecorp.com "
                   "from %.1f s; AXFR 198.51.100.23 -> 10.20.0.53 at %.1f s; rogue %s -> 8.8.8.8 from %.1f s\n",
                   addr(clients_[beacon_client_].h).c_str(), static_cast<double>(beacon_period_) / 1e9, at(1),
                   addr(clients_[tunnel_client_].h).c_str(), at(10), addr(clients_[enum_client_].h).c_str(), at(35),
                   at(50), addr(clients_[rogue_client_].h).c_str(), at(60));
    }
  }

  Options o_;
  Rng rng_;
  Universe uni_;
  Zipf dom_zipf_, cli_zipf_;
  PcapWriter out_;
  Frame frame_;
  std::array<Host, 2> res4_{}, res6_{};
  std::array<Host, 4> mail_{};
  Host google_, outsider_;
  std::vector<Client> clients_;
  std::vector<u32> by_rank_;
  std::vector<Event> heap_;
  std::vector<Txn> txns_;
  std::vector<u32> free_;
  std::vector<u8> axfr_stream_;
  std::vector<u8> fill_;
  u64 seq_ = 0;
  u64 gap_ = 0, duration_ = 0, t0_ = 0, bg_next_ = 0, last_t_ = 0;
  u64 main_packets_ = 0, flood_packets_ = 0, unanswered_ = 0;
  std::array<u64, kSources> src_next_{~u64{0}, ~u64{0}, ~u64{0}, ~u64{0}, ~u64{0}};
  u64 beacon_period_ = 0, beacon_left_ = 0, tunnel_left_ = 0, enum_left_ = 0, rogue_left_ = 0;
  u64 tunnel_seq_ = 0;
  u32 beacon_client_ = 0, tunnel_client_ = 0, enum_client_ = 0, rogue_client_ = 0;
  u64 flood_target_ = 0, flood_started_ = 0;
  std::vector<u32> bots_;
};

// ---------------------------------------------------------------------------------------------

[[noreturn]] void usage(int rc) {
  std::fprintf(rc == 0 ? stdout : stderr,
               "usage: dnsgen --out FILE [options]\n"
               "Writes deterministic synthetic resolver traffic as a pcap (ns timestamps, Ethernet).\n"
               "  --out FILE            output pcap ('-' for stdout)\n"
               "  --packets N           main packets (background + attacks), default 1000000\n"
               "  --rate PPS            packets per second of packet time, default 50000\n"
               "  --seed S              PRNG seed, default 1\n"
               "  --clients N           client hosts, default 10000\n"
               "  --domains N           registered domains, default 50000\n"
               "  --start EPOCH         first timestamp (Unix seconds), default 1709542800\n"
               "  --attacks on|off      embed the attacks (default on); --no-attacks = off\n"
               "  --flood KIND          add a flood: water-torture | tcp-half-open | fragments\n"
               "  --flood-count N       flood events (default 2000000 queries / 1000000 SYNs or fragments)\n"
               "  --quiet               no summary on stderr\n"
               "  --version             print the output format version\n");
  std::exit(rc);
}

u64 number(const char* opt, const char* s) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') {
    std::fprintf(stderr, "dnsgen: %s: not a number: '%s'\n", opt, s);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "dnsgen: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") usage(0);
    if (a == "--version") {
      // The output format version: bump it whenever the bytes for given arguments change, so
      // that caches of generated files (tests/bench/run.sh) are not reused across versions.
      std::printf("dnsgen %d\n", kFormatVersion);
      return 0;
    }
    else if (a == "--out" || a == "-o") o.out = value();
    else if (a == "--packets" || a == "-n") o.packets = number("--packets", value());
    else if (a == "--rate") o.rate = number("--rate", value());
    else if (a == "--seed") o.seed = number("--seed", value());
    else if (a == "--clients") o.clients = number("--clients", value());
    else if (a == "--domains") o.domains = number("--domains", value());
    else if (a == "--start") o.start = number("--start", value());
    else if (a == "--no-attacks") o.attacks = false;
    else if (a == "--attacks") {
      const std::string_view v = value();
      if (v != "on" && v != "off") {
        std::fprintf(stderr, "dnsgen: --attacks takes on or off\n");
        return 2;
      }
      o.attacks = v == "on";
    } else if (a == "--flood") {
      const std::string_view v = value();
      if (v == "water-torture") o.flood = Flood::water_torture;
      else if (v == "tcp-half-open") o.flood = Flood::tcp_half_open;
      else if (v == "fragments") o.flood = Flood::fragments;
      else {
        std::fprintf(stderr, "dnsgen: --flood takes water-torture, tcp-half-open or fragments\n");
        return 2;
      }
    } else if (a == "--flood-count") o.flood_count = number("--flood-count", value());
    else if (a == "--quiet" || a == "-q") o.quiet = true;
    else {
      std::fprintf(stderr, "dnsgen: unknown option '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  if (o.out.empty()) usage(2);
  if (o.rate == 0 || o.clients < 100 || o.domains < std::size(kFamous) + 100) {
    std::fprintf(stderr, "dnsgen: --rate must be > 0, --clients >= 100, --domains >= %zu\n", std::size(kFamous) + 100);
    return 2;
  }
  Generator g(o);
  g.run();
  return 0;
}
