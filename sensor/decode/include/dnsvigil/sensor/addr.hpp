// IP addresses and prefixes as plain values (no sockets, no allocation).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::sensor {

/// An IPv4 or IPv6 address. IPv4 is stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so
/// comparisons and hashing treat both families alike; family() tells them apart.
struct IpAddr {
  std::array<std::uint8_t, 16> bytes{};

  [[nodiscard]] static IpAddr v4(const std::uint8_t* four) noexcept {
    IpAddr a;
    a.bytes[10] = 0xFF;
    a.bytes[11] = 0xFF;
    std::memcpy(a.bytes.data() + 12, four, 4);
    return a;
  }
  [[nodiscard]] static IpAddr v6(const std::uint8_t* sixteen) noexcept {
    IpAddr a;
    std::memcpy(a.bytes.data(), sixteen, 16);
    return a;
  }
  /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text.
  [[nodiscard]] static std::optional<IpAddr> parse(std::string_view text) noexcept;

  [[nodiscard]] bool is_v4() const noexcept {
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    return std::memcmp(bytes.data(), kMapped, 12) == 0;
  }
  /// 4 or 6.
  [[nodiscard]] int family() const noexcept { return is_v4() ? 4 : 6; }
  /// The four IPv4 octets (valid when is_v4()).
  [[nodiscard]] std::span<const std::uint8_t, 4> v4_bytes() const noexcept {
    return std::span<const std::uint8_t, 4>(bytes.data() + 12, 4);
  }
  /// Appends the address as text (dotted quad or RFC 5952).
  void write(dnsparse::TextWriter& out) const noexcept;
  /// The same as a string.
  [[nodiscard]] std::string text() const;

  friend bool operator==(const IpAddr&, const IpAddr&) = default;
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};

/// The worker, of `workers`, that owns the traffic of `client`: every client's packets go to one
/// worker, so its TCP streams, transactions and rule state live in one place. The kernel's
/// fan-out program for live capture (capture/fanout.hpp) computes the same function, so a live
/// sensor and a replay of its capture split clients alike. IPv4: the address as a big-endian
/// word; IPv6: the XOR of its four words; then a multiply-xorshift mix (32-bit, as classic BPF
/// computes it) and the remainder.
[[nodiscard]] inline std::uint32_t client_slot(const IpAddr& client, std::uint32_t workers) noexcept {
  if (workers <= 1) return 0;
  const auto word = [&](std::size_t i) {
    const std::uint8_t* b = client.bytes.data() + i;
    return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
  };
  std::uint32_t h = client.is_v4() ? word(12) : word(0) ^ word(4) ^ word(8) ^ word(12);
  h ^= h >> 16;
  h *= 0x45d9f3bU;
  h ^= h >> 16;
  return h % workers;
}

/// An address prefix ("10.0.0.0/8", "fc00::/7", a bare address = /32 or /128).
struct Prefix {
  IpAddr base;      ///< masked
  std::uint8_t bits = 0;  ///< prefix length on the 128-bit (mapped) form
  bool v4 = false;        ///< an IPv4 prefix: matches IPv4 addresses only, and an IPv6 one IPv6 only (::/0 is not 0.0.0.0/0)

  [[nodiscard]] static std::optional<Prefix> parse(std::string_view text) noexcept;
  /// Policy checks run several times per message: two masked 64-bit compares, no call.
  [[nodiscard]] bool contains(const IpAddr& a) const noexcept {
    if (a.is_v4() != v4) return false;
    const unsigned hi = bits < 64 ? bits : 64, lo = bits - hi;
    const auto differ = [](const std::uint8_t* x, const std::uint8_t* y, unsigned n) {
      return n != 0 && ((dnsparse::load_be64(x) ^ dnsparse::load_be64(y)) >> (64 - n)) != 0;
    };
    return !differ(a.bytes.data(), base.bytes.data(), hi) && !differ(a.bytes.data() + 8, base.bytes.data() + 8, lo);
  }
};

/// A small list of prefixes checked linearly (policy lists are short: tens of entries).
class PrefixSet {
 public:
  /// Adds a prefix; false when the set is full (kMax).
  bool add(const Prefix& p) noexcept {
    if (n_ == kMax) return false;
    items_[n_++] = p;
    return true;
  }
  [[nodiscard]] bool contains(const IpAddr& a) const noexcept {
    for (std::size_t i = 0; i < n_; ++i)
      if (items_[i].contains(a)) return true;
    return false;
  }
  [[nodiscard]] bool empty() const noexcept { return n_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  [[nodiscard]] const Prefix& operator[](std::size_t i) const noexcept { return items_[i]; }
  /// Most prefixes a set holds; policy files beyond this are rejected at load time.
  static constexpr std::size_t kMax = 256;

 private:
  std::array<Prefix, kMax> items_{};
  std::size_t n_ = 0;
};

/// Addresses that are never "the public Internet": loopback, link-local, multicast,
/// unspecified, documentation ranges are NOT included (they are used in labs).
[[nodiscard]] bool is_special(const IpAddr& a) noexcept;
/// RFC 1918, RFC 6598 (100.64/10) and IPv6 ULA (fc00::/7).
[[nodiscard]] bool is_private(const IpAddr& a) noexcept;

}  // namespace dnsvigil::sensor
