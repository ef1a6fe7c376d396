#include "dnsvigil/sensor/addr.hpp"

#include <arpa/inet.h>

#include <string>

#include "dnsvigil/dnsparse/text.hpp"

namespace dnsvigil::sensor {

std::optional<IpAddr> IpAddr::parse(std::string_view text) noexcept {
  // inet_pton needs a NUL-terminated string; addresses are short.
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::uint8_t out[16];
  if (inet_pton(AF_INET, buf, out) == 1) return v4(out);
  if (inet_pton(AF_INET6, buf, out) == 1) return v6(out);
  return std::nullopt;
}

std::string IpAddr::text() const {
  char buf[64];
  dnsparse::TextWriter w(buf);
  write(w);
  return std::string(w.view());
}

void IpAddr::write(dnsparse::TextWriter& out) const noexcept {
  if (is_v4()) {
    dnsparse::write_ipv4(v4_bytes(), out);
  } else {
    dnsparse::write_ipv6(std::span<const std::uint8_t, 16>(bytes), out);
  }
}

std::optional<Prefix> Prefix::parse(std::string_view text) noexcept {
  const auto slash = text.find('/');
  const auto addr = IpAddr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  const unsigned family_bits = addr->is_v4() ? 32 : 128;
  unsigned len = family_bits;
  if (slash != std::string_view::npos) {
    const std::string_view num = text.substr(slash + 1);
    if (num.empty() || num.size() > 3) return std::nullopt;
    len = 0;
    for (const char c : num) {
      if (c < '0' || c > '9') return std::nullopt;
      len = len * 10 + static_cast<unsigned>(c - '0');
    }
    if (len > family_bits) return std::nullopt;
  }
  Prefix p;
  p.bits = static_cast<std::uint8_t>(addr->is_v4() ? len + 96 : len);
  p.base = *addr;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned lo = i * 8;
    if (lo >= p.bits) {
      p.base.bytes[i] = 0;
    } else if (lo + 8 > p.bits) {
      p.base.bytes[i] &= static_cast<std::uint8_t>(0xFF << (8 - (p.bits - lo)));
    }
  }
  p.v4 = p.base.is_v4() && p.bits >= 96;
  return p;
}

namespace {
bool in(const IpAddr& a, std::string_view prefix) noexcept {
  const auto p = Prefix::parse(prefix);
  return p && p->contains(a);
}
}  // namespace

bool is_special(const IpAddr& a) noexcept {
  if (a.is_v4()) {
    const auto b = a.v4_bytes();
    return b[0] == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254) || b[0] >= 224;
  }
  // ::, ::1, fe80::/10, ff00::/8
  static constexpr std::uint8_t kZero[15] = {};
  if (std::memcmp(a.bytes.data(), kZero, 15) == 0 && a.bytes[15] <= 1) return true;
  if (a.bytes[0] == 0xFE && (a.bytes[1] & 0xC0) == 0x80) return true;
  return a.bytes[0] == 0xFF;
}

bool is_private(const IpAddr& a) noexcept {
  if (a.is_v4()) {
    const auto b = a.v4_bytes();
    return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 100 && (b[1] & 0xC0) == 64);
  }
  return in(a, "fc00::/7");
}

}  // namespace dnsvigil::sensor
