// A small JSON writer into a reusable buffer: no allocation once the buffer has grown to the
// largest line, and escaping that keeps hostile octets from breaking a SIEM's parser.
//
// Every writer reserves its worst-case length once and then stores through a raw pointer:
// appending octet by octet to a std::string (a capacity check and a terminator per octet) was
// a fifth of `--dump-json`'s time.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::output {

/// Builds one JSON line. Objects and arrays are opened and closed explicitly; commas are
/// inserted automatically.
class Json {
 public:
  Json() { grow(4096); }

  void clear() noexcept {
    pos_ = buf_.get();
    depth_ = 0;
    first_[0] = true;
    pending_value_ = false;
  }
  Json& begin_object() { return open('{'); }
  Json& end_object() { return close('}'); }
  Json& begin_array() { return open('['); }
  Json& end_array() { return close(']'); }
  /// Starts a member: writes the (already safe, ASCII) key.
  Json& key(std::string_view k) {
    reserve(k.size() + 4);
    comma();
    *pos_++ = '"';
    put(k);
    *pos_++ = '"';
    *pos_++ = ':';
    pending_value_ = true;  // the value that follows needs no comma
    return *this;
  }
  /// A string value, escaped (RFC 8259: quote, backslash, controls; non-UTF-8 octets as \u00XX).
  Json& str(std::string_view s);
  Json& num(std::uint64_t v);
  Json& num(std::int64_t v);
  Json& boolean(bool v);
  /// A pre-formatted value (number, literal) written as is.
  Json& raw(std::string_view s);
  /// A string value produced by `fill(TextWriter&)` into a scratch area, then escaped.
  template <class F>
  Json& str_with(F&& fill) {
    dnsparse::TextWriter w(scratch_span());
    fill(w);
    return str(w.view());
  }

  /// key + value shorthands.
  Json& kv(std::string_view k, std::string_view v) { return key(k).str(v); }
  Json& kv(std::string_view k, std::uint64_t v) { return key(k).num(v); }
  Json& kvb(std::string_view k, bool v) { return key(k).boolean(v); }

  [[nodiscard]] std::string_view line() const noexcept {
    return {buf_.get(), static_cast<std::size_t>(pos_ - buf_.get())};
  }
  /// Scratch text area for callers that format before writing (256 KiB: a TXT RDATA of
  /// 65535 octets prints at most four times larger).
  std::span<char> scratch_span() noexcept;

 private:
  Json& open(char c);
  Json& close(char c);
  template <class Int>
  Json& integer(Int v);
  /// Makes room for n more octets plus a separating comma.
  void reserve(std::size_t n) {
    if (static_cast<std::size_t>(end_ - pos_) <= n) grow(n + 1);
  }
  void grow(std::size_t n);
  void put(std::string_view s) noexcept {
    std::memcpy(pos_, s.data(), s.size());
    pos_ += s.size();
  }
  void comma() noexcept {
    if (pending_value_) {
      pending_value_ = false;
      return;
    }
    if (!first_[depth_]) *pos_++ = ',';
    first_[depth_] = false;
  }

  std::unique_ptr<char[]> buf_;  // exactly sized, so that a sanitizer sees any overrun
  char* pos_ = nullptr;
  char* end_ = nullptr;
  std::string scratch_;
  bool first_[32] = {true};
  unsigned depth_ = 0;
  bool pending_value_ = false;
};

}  // namespace dnsvigil::output
