#include "dnsvigil/output/json.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

namespace dnsvigil::output {

namespace {
// Length of a valid UTF-8 sequence starting at s[i], or 0.
std::size_t utf8_len(std::string_view s, std::size_t i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  std::uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  std::uint32_t cp = c & (0x7Fu >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (d & 0x3Fu);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
  if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return n;
}
}  // namespace

std::span<char> Json::scratch_span() noexcept {
  if (scratch_.size() < (256u << 10)) scratch_.resize(256u << 10);
  return {scratch_.data(), scratch_.size()};
}

void Json::grow(std::size_t n) {
  const auto used = static_cast<std::size_t>(pos_ - buf_.get());
  const std::size_t cap = std::max(2 * static_cast<std::size_t>(end_ - buf_.get()), used + n);
  auto bigger = std::make_unique_for_overwrite<char[]>(cap);
  if (used != 0) std::memcpy(bigger.get(), buf_.get(), used);
  buf_ = std::move(bigger);
  pos_ = buf_.get() + used;
  end_ = buf_.get() + cap;
}

Json& Json::open(char c) {
  reserve(1);
  comma();
  *pos_++ = c;
  if (depth_ + 1 < sizeof first_) ++depth_;
  first_[depth_] = true;
  return *this;
}

Json& Json::close(char c) {
  reserve(1);
  *pos_++ = c;
  if (depth_ > 0) --depth_;
  first_[depth_] = false;
  return *this;
}

Json& Json::str(std::string_view s) {
  reserve(6 * s.size() + 2);  // every octet may become \u00XX
  comma();
  static constexpr char kHex[] = "0123456789abcdef";
  const auto hex_escape = [this](unsigned char c) {
    put("\\u00");
    *pos_++ = kHex[c >> 4];
    *pos_++ = kHex[c & 0xF];
  };
  char* p = pos_;
  *p++ = '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      *p++ = static_cast<char>(c);
      ++i;
      continue;
    }
    pos_ = p;
    if (c == '"' || c == '\\') {
      *pos_++ = '\\';
      *pos_++ = static_cast<char>(c);
      ++i;
    } else if (c < 0x80) {
      hex_escape(c);  // controls and DEL
      ++i;
    } else if (const std::size_t n = utf8_len(s, i); n != 0) {
      put(s.substr(i, n));
      i += n;
    } else {
      // A lone octet that is not UTF-8: keep its value visible instead of corrupting the line.
      hex_escape(c);
      ++i;
    }
    p = pos_;
  }
  *p++ = '"';
  pos_ = p;
  return *this;
}

template <class Int>
Json& Json::integer(Int v) {
  reserve(20);  // the longest: -9223372036854775808
  comma();
  pos_ = std::to_chars(pos_, end_, v).ptr;
  return *this;
}

Json& Json::num(std::uint64_t v) { return integer(v); }
Json& Json::num(std::int64_t v) { return integer(v); }

Json& Json::boolean(bool v) { return raw(v ? "true" : "false"); }

Json& Json::raw(std::string_view s) {
  reserve(s.size());
  comma();
  put(s);
  return *this;
}

}  // namespace dnsvigil::output
