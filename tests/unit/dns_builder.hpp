// Test helper: builds DNS wire messages byte by byte so fixtures read like the RFC layout.
// Tests only; allocation is fine here.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvigil::test {

class Wire {
 public:
  /// 12-octet header.
  Wire& header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an, std::uint16_t ns,
               std::uint16_t ar) {
    for (const std::uint16_t v : {id, flags, qd, an, ns, ar}) u16(v);
    return *this;
  }
  /// Uncompressed name from dotted text ("" or "." is the root); no escapes.
  Wire& name(std::string_view dotted) {
    name_labels(dotted);
    return u8(0);
  }
  /// Labels of a dotted name without the terminating root octet (to append a pointer after).
  Wire& name_labels(std::string_view dotted) {
    while (!dotted.empty() && dotted != ".") {
      const auto dot = dotted.find('.');
      const auto label = dotted.substr(0, dot);
      u8(static_cast<std::uint8_t>(label.size()));
      for (const char c : label) u8(static_cast<std::uint8_t>(c));
      if (dot == std::string_view::npos) break;
      dotted.remove_prefix(dot + 1);
    }
    return *this;
  }
  /// A compression pointer to `offset`.
  Wire& ptr(std::uint16_t offset) { return u16(static_cast<std::uint16_t>(0xC000 | offset)); }
  Wire& u8(std::uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Wire& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
  Wire& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
  Wire& bytes(std::initializer_list<std::uint8_t> v) {
    b.insert(b.end(), v);
    return *this;
  }
  Wire& text(std::string_view s) {
    for (const char c : s) u8(static_cast<std::uint8_t>(c));
    return *this;
  }
  /// A <character-string>.
  Wire& cstr(std::string_view s) { return u8(static_cast<std::uint8_t>(s.size())).text(s); }
  /// Question fields after the name.
  Wire& qtc(std::uint16_t type, std::uint16_t klass = 1) { return u16(type).u16(klass); }
  /// Record fields after the owner name; returns the offset of RDLENGTH via `rdlen_at` so a
  /// test can write RDATA and then patch the length with fix_rdlength().
  Wire& rr_fixed(std::uint16_t type, std::uint16_t klass, std::uint32_t ttl) {
    u16(type).u16(klass).u32(ttl);
    rdlen_at = b.size();
    return u16(0);
  }
  /// Sets the RDLENGTH written by the last rr_fixed() to the octets added since.
  Wire& fix_rdlength() {
    const std::size_t len = b.size() - rdlen_at - 2;
    b[rdlen_at] = static_cast<std::uint8_t>(len >> 8);
    b[rdlen_at + 1] = static_cast<std::uint8_t>(len);
    return *this;
  }
  [[nodiscard]] std::size_t size() const { return b.size(); }

  std::vector<std::uint8_t> b;
  std::size_t rdlen_at = 0;
};

/// Parses "de ad be ef" / "deadbeef" hex text (whitespace ignored) into octets.
inline std::vector<std::uint8_t> hex(std::string_view s) {
  std::vector<std::uint8_t> out;
  int hi = -1;
  for (const char c : s) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

}  // namespace dnsvigil::test
