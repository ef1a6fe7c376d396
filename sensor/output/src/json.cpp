#include "dnsvigil/output/json.hpp"

#include <charconv>

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

Json& Json::open(char c) {
  comma();
  buf_ += c;
  if (depth_ + 1 < sizeof first_) ++depth_;
  first_[depth_] = true;
  return *this;
}

Json& Json::close(char c) {
  buf_ += c;
  if (depth_ > 0) --depth_;
  first_[depth_] = false;
  return *this;
}

Json& Json::str(std::string_view s) {
  comma();
  static constexpr char kHex[] = "0123456789abcdef";
  buf_ += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      buf_ += '\\';
      buf_ += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      buf_ += "\\u00";
      buf_ += kHex[c >> 4];
      buf_ += kHex[c & 0xF];
      ++i;
    } else if (c < 0x80) {
      buf_ += static_cast<char>(c);
      ++i;
    } else if (const std::size_t n = utf8_len(s, i); n != 0) {
      buf_.append(s.substr(i, n));
      i += n;
    } else {
      // A lone octet that is not UTF-8: keep its value visible instead of corrupting the line.
      buf_ += "\\u00";
      buf_ += kHex[c >> 4];
      buf_ += kHex[c & 0xF];
      ++i;
    }
  }
  buf_ += '"';
  return *this;
}

Json& Json::num(std::uint64_t v) {
  comma();
  char tmp[24];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
  return *this;
}

Json& Json::num(std::int64_t v) {
  comma();
  char tmp[24];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
  return *this;
}

Json& Json::boolean(bool v) { return raw(v ? "true" : "false"); }

Json& Json::raw(std::string_view s) {
  comma();
  buf_ += s;
  return *this;
}

}  // namespace dnsvigil::output
