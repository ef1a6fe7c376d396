// A small JSON writer into a reusable buffer: no allocation once the buffer has grown to the
// largest line, and escaping that keeps hostile octets from breaking a SIEM's parser.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::output {

/// Builds one JSON line. Objects and arrays are opened and closed explicitly; commas are
/// inserted automatically.
class Json {
 public:
  Json() { buf_.reserve(4096); }

  void clear() noexcept {
    buf_.clear();
    depth_ = 0;
    first_[0] = true;
  }
  Json& begin_object() { return open('{'); }
  Json& end_object() { return close('}'); }
  Json& begin_array() { return open('['); }
  Json& end_array() { return close(']'); }
  /// Starts a member: writes the (already safe, ASCII) key.
  Json& key(std::string_view k) {
    comma();
    buf_ += '"';
    buf_ += k;
    buf_ += "\":";
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

  [[nodiscard]] const std::string& line() const noexcept { return buf_; }
  /// Scratch text area for callers that format before writing (256 KiB: a TXT RDATA of
  /// 65535 octets prints at most four times larger).
  std::span<char> scratch_span() noexcept;

 private:
  Json& open(char c);
  Json& close(char c);
  void comma() {
    if (pending_value_) {
      pending_value_ = false;
      return;
    }
    if (!first_[depth_]) buf_ += ',';
    first_[depth_] = false;
  }

  std::string buf_;
  std::string scratch_;
  bool first_[32] = {true};
  unsigned depth_ = 0;
  bool pending_value_ = false;
};

}  // namespace dnsvigil::output
