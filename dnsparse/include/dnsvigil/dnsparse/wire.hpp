// Bounds-checked reading of big-endian wire data and bounded text output.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace dnsvigil::dnsparse {

/// A read-only view of wire bytes. Nothing in dnsparse owns packet memory.
using Bytes = std::span<const std::uint8_t>;

/// Big-endian 16-bit load from two readable octets at p.
[[nodiscard]] inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
  return v;
}

/// Big-endian 32-bit load from four readable octets at p.
[[nodiscard]] inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}

/// Big-endian 64-bit load from eight readable octets at p.
[[nodiscard]] inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

/// A cursor over wire bytes with a sticky error: a read past the end sets failed()
/// and returns zero (or an empty view); callers check failed() once after a group of reads.
class Cursor {
 public:
  explicit Cursor(Bytes data, std::size_t pos = 0) noexcept
      : data_(data), pos_(pos <= data.size() ? pos : data.size()), failed_(pos > data.size()) {}

  /// Reads one octet.
  std::uint8_t u8() noexcept {
    if (!need(1)) return 0;
    return data_[pos_++];
  }
  /// Reads a big-endian 16-bit value.
  std::uint16_t u16() noexcept {
    if (!need(2)) return 0;
    const auto v = load_be16(data_.data() + pos_);
    pos_ += 2;
    return v;
  }
  /// Reads a big-endian 32-bit value.
  std::uint32_t u32() noexcept {
    if (!need(4)) return 0;
    const auto v = load_be32(data_.data() + pos_);
    pos_ += 4;
    return v;
  }
  /// Returns a view of the next n octets and moves past them.
  Bytes bytes(std::size_t n) noexcept {
    if (!need(n)) return {};
    const Bytes v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  /// Moves past n octets.
  void skip(std::size_t n) noexcept {
    if (need(n)) pos_ += n;
  }
  /// Moves to absolute offset `pos`; past the end sets failed().
  void seek(std::size_t pos) noexcept {
    if (pos > data_.size()) {
      failed_ = true;
    } else {
      pos_ = pos;
    }
  }
  /// All the bytes the cursor ranges over.
  [[nodiscard]] Bytes data() const noexcept { return data_; }
  /// Everything not yet read.
  [[nodiscard]] Bytes rest() const noexcept { return data_.subspan(pos_); }

  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
  [[nodiscard]] bool at_end() const noexcept { return pos_ == data_.size(); }
  /// True once any read went past the end; sticky.
  [[nodiscard]] bool failed() const noexcept { return failed_; }

 private:
  // Written as n > size - pos so that no pointer past the end is ever formed.
  bool need(std::size_t n) noexcept {
    if (failed_ || n > data_.size() - pos_) {
      failed_ = true;
      return false;
    }
    return true;
  }

  Bytes data_;
  std::size_t pos_;
  bool failed_;
};

/// Appends text to a caller-supplied buffer; never writes past it. On overflow it keeps
/// what fit and reports overflow() so the caller can return Error::buffer_too_small.
class TextWriter {
 public:
  explicit TextWriter(std::span<char> out) noexcept : out_(out) {}

  void put(char c) noexcept {
    if (len_ < out_.size()) {
      out_[len_++] = c;
    } else {
      overflow_ = true;
    }
  }
  void put(std::string_view s) noexcept {
    const std::size_t room = out_.size() - len_;
    const std::size_t n = s.size() <= room ? s.size() : room;
    if (n != 0) std::memcpy(out_.data() + len_, s.data(), n);
    len_ += n;
    if (n < s.size()) overflow_ = true;
  }
  /// Decimal digits of an unsigned value.
  void put_uint(std::uint64_t v) noexcept {
    char tmp[20];
    std::size_t n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n != 0) put(tmp[--n]);
  }
  /// Two lower- or upper-case hex digits per octet.
  void put_hex(Bytes b, bool upper = true) noexcept {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (const std::uint8_t c : b) {
      put(digits[c >> 4]);
      put(digits[c & 0xF]);
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return len_; }
  [[nodiscard]] bool overflow() const noexcept { return overflow_; }
  [[nodiscard]] std::string_view view() const noexcept { return {out_.data(), len_}; }
  /// Drops everything after the first n characters (n <= size()).
  void truncate(std::size_t n) noexcept {
    if (n < len_) len_ = n;
  }

 private:
  std::span<char> out_;
  std::size_t len_ = 0;
  bool overflow_ = false;
};

}  // namespace dnsvigil::dnsparse
