// The one domain-name walker and everything built on it: validation, decoding into a
// flat buffer, and presentation text.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dnsvigil/dnsparse/error.hpp"
#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::dnsparse {

namespace limits {
/// RFC 1035 §4.1.1: the fixed header is 12 octets.
inline constexpr std::size_t kHeaderSize = 12;
/// RFC 1035 §2.3.4: a label is at most 63 octets.
inline constexpr std::size_t kMaxLabel = 63;
/// RFC 1035 §2.3.4: a name is at most 255 octets in wire form (length octets and root included).
inline constexpr std::size_t kMaxName = 255;
/// Compression hops followed for one name. Pointers must already go strictly backwards, which
/// ends every loop; the cap bounds CPU per name against pointer-to-pointer chains (which no
/// conformant compressor emits: each hop of BIND's or Knot's output adds at least one label).
inline constexpr unsigned kMaxPointerHops = 64;
/// A name in presentation form: every octet may become a four-character \DDD escape, plus dots.
inline constexpr std::size_t kMaxNameText = 4 * kMaxName + 2;
/// RFC 1035 §4.2.2: TCP framing carries at most 65535 octets; all offsets here are 16-bit.
inline constexpr std::size_t kMaxMessage = 65535;
}  // namespace limits

/// What walking one name found out.
struct NameInfo {
  Error error = Error::ok;     ///< ok, or why the name is invalid
  std::uint16_t end = 0;       ///< offset just past the name where it is written (after the root
                               ///< octet, or after the first compression pointer)
  std::uint8_t wire_len = 0;   ///< uncompressed length in wire form, root octet included (1..255)
  std::uint8_t labels = 0;     ///< number of labels, root excluded
  bool compressed = false;     ///< at least one compression pointer was followed
};

/// Walks the name that starts at `offset` in the DNS message `msg`, calling
/// `on_label(Bytes label)` for each label in order (root excluded). This is the only
/// function in dnsvigil that follows labels and compression pointers; every name read goes
/// through it. `msg` must be the whole message (pointers are offsets from its start).
template <class OnLabel>
[[nodiscard]] constexpr NameInfo walk_name(Bytes msg, std::size_t offset, OnLabel&& on_label) noexcept {
  NameInfo info;
  const std::size_t size = msg.size();
  std::size_t pos = offset;
  // Every pointer target must lie before `limit`, the lowest offset read so far, so each hop
  // lands strictly earlier than anything already visited and the walk cannot revisit a byte.
  std::size_t limit = offset;
  std::size_t total = 1;  // the root octet
  unsigned hops = 0;
  for (;;) {
    if (pos >= size) {
      info.error = Error::truncated;
      return info;
    }
    const std::uint8_t len = msg[pos];
    if (len == 0) {
      if (!info.compressed) info.end = static_cast<std::uint16_t>(pos + 1);
      break;
    }
    const std::uint8_t kind = len & 0xC0;
    if (kind == 0xC0) {
      // Threat: truncated pointer reading one octet past the message.
      if (size - pos < 2) {
        info.error = Error::truncated;
        return info;
      }
      const std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | msg[pos + 1];
      // Threat: a pointer into the header makes the id and flags be read as labels.
      if (target < limits::kHeaderSize) {
        info.error = Error::pointer_into_header;
        return info;
      }
      // Threat: forward or self pointers build loops and make one name expand without end.
      if (target >= limit) {
        info.error = Error::pointer_forward;
        return info;
      }
      // Threat: long chains of pointers cost CPU without adding labels.
      if (++hops > limits::kMaxPointerHops) {
        info.error = Error::too_many_pointers;
        return info;
      }
      if (!info.compressed) {
        info.end = static_cast<std::uint16_t>(pos + 2);
        info.compressed = true;
      }
      limit = target;
      pos = target;
      continue;
    }
    // Threat: 0x40 (extended, RFC 6891 §5 / binary labels RFC 2673) and 0x80 (reserved) have
    // no agreed length; guessing one desynchronises the rest of the message.
    if (kind != 0) {
      info.error = Error::label_type;
      return info;
    }
    // Here len <= 63 = limits::kMaxLabel: the top two bits are zero.
    // Threat: a label that runs past the end of the data.
    if (len > size - pos - 1) {
      info.error = Error::truncated;
      return info;
    }
    total += std::size_t{len} + 1;
    // Threat: over-long names overflow fixed buffers downstream (RFC 1035 §2.3.4).
    if (total > limits::kMaxName) {
      info.error = Error::name_too_long;
      return info;
    }
    on_label(msg.subspan(pos + 1, len));
    ++info.labels;
    pos += std::size_t{len} + 1;
  }
  info.wire_len = static_cast<std::uint8_t>(total);
  return info;
}

/// Validates the name at `offset` without producing output.
[[nodiscard]] NameInfo check_name(Bytes msg, std::size_t offset) noexcept;

/// A name in uncompressed wire form (length-prefixed labels, root octet last).
struct WireName {
  std::array<std::uint8_t, limits::kMaxName> data{};
  std::uint8_t size = 0;  ///< octets used, root octet included; 0 when empty (never decoded)

  [[nodiscard]] Bytes bytes() const noexcept { return {data.data(), size}; }
  /// Number of labels (root excluded).
  [[nodiscard]] std::size_t label_count() const noexcept;
  /// True for the root name.
  [[nodiscard]] bool is_root() const noexcept { return size == 1; }
};

/// Decodes the name at `offset` into `out`. With `lower`, ASCII letters are folded to lower case.
[[nodiscard]] NameInfo decode_name(Bytes msg, std::size_t offset, WireName& out, bool lower = false) noexcept;

/// Appends one label in presentation form: printable ASCII as is, the specials
/// `" ( ) . ; \ @ $` backslash-escaped, every other octet as \DDD (as BIND's dig prints).
void write_label_text(Bytes label, TextWriter& out) noexcept;

/// Appends a name in presentation form. The root name is ".". With `trailing_dot` other names
/// end in "." as in zone files; without, they do not (ECS / Packetbeat style).
void write_wire_name_text(const WireName& name, TextWriter& out, bool trailing_dot = false) noexcept;

/// Appends the name at `offset` in presentation form (see write_wire_name_text) to `out`
/// directly from the message. On error, what was appended for this name is removed.
[[nodiscard]] NameInfo write_name_text(Bytes msg, std::size_t offset, TextWriter& out,
                                       bool trailing_dot = false) noexcept;

/// Writes the name at `offset` in presentation form (see write_wire_name_text) into `out`.
/// Returns the number of characters written, or the walker's error, or buffer_too_small.
[[nodiscard]] Result<std::size_t> name_to_text(Bytes msg, std::size_t offset, std::span<char> out,
                                               bool trailing_dot = false) noexcept;

}  // namespace dnsvigil::dnsparse
