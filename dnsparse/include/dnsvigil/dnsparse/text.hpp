// Presentation format of RDATA, written into caller-supplied buffers (no allocation).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "dnsvigil/dnsparse/error.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::dnsparse {

/// Options for presentation output.
struct TextOptions {
  bool trailing_dot = false;  ///< end names in "." (zone-file style) instead of ECS style
};

/// Appends the RDATA of `rr` in presentation form, as dig prints it: e.g. "10 mail.example.com"
/// for MX, quoted and escaped character-strings for TXT, RFC 3597 "\# 3 0a0b0c" for types it
/// does not know. Returns ok, the accessor's error for a malformed RDATA (nothing is appended
/// then), or buffer_too_small.
[[nodiscard]] Error write_rdata_text(const Message& m, const RecordView& rr, TextWriter& out,
                                     TextOptions opt = {}) noexcept;

/// write_rdata_text into a plain buffer; returns the length written.
[[nodiscard]] Result<std::size_t> rdata_to_text(const Message& m, const RecordView& rr, std::span<char> out,
                                                TextOptions opt = {}) noexcept;

/// Appends an IPv4 address in dotted-quad form.
void write_ipv4(std::span<const std::uint8_t, 4> a, TextWriter& out) noexcept;
/// Appends an IPv6 address in RFC 5952 form (lower case, longest zero run compressed,
/// IPv4-mapped as ::ffff:a.b.c.d).
void write_ipv6(std::span<const std::uint8_t, 16> a, TextWriter& out) noexcept;
/// Appends a character-string quoted, with `"` and `\` escaped and non-printable octets as \DDD.
void write_quoted(Bytes s, TextWriter& out) noexcept;
/// Appends base64 (RFC 4648 §4) of `b`.
void write_base64(Bytes b, TextWriter& out) noexcept;
/// Appends base32hex without padding (RFC 4648 §7), upper case, as NSEC3 hashes are printed.
void write_base32hex(Bytes b, TextWriter& out) noexcept;

}  // namespace dnsvigil::dnsparse
