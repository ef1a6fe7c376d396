// Test helper: a strict RFC 8259 JSON parser (a small DOM) so tests can check that output is
// valid JSON and look fields up by path. Rejects: raw control characters and invalid UTF-8 in
// strings, bad escapes and unpaired surrogates, bad numbers, duplicate keys, trailing data.
// Tests and fuzz targets only; allocation is fine here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvigil::test::json {

struct Value {
  enum class Kind : std::uint8_t { missing, null, boolean, number, string, array, object };
  Kind kind = Kind::missing;
  bool b = false;
  std::string text;  ///< the decoded string, or the number as written
  std::vector<Value> items;        ///< array elements, or object member values
  std::vector<std::string> names;  ///< object member names (parallel to items)

  [[nodiscard]] bool exists() const noexcept { return kind != Kind::missing; }
  [[nodiscard]] bool is(Kind k) const noexcept { return kind == k; }
  /// Member `k` of an object; a `missing` value when absent (chains safely).
  [[nodiscard]] const Value& operator[](std::string_view k) const noexcept {
    if (kind != Kind::object) return none();
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == k) return items[i];
    return none();
  }
  /// Element `i` of an array; `missing` when out of range.
  [[nodiscard]] const Value& at(std::size_t i) const noexcept {
    return kind == Kind::array && i < items.size() ? items[i] : none();
  }
  /// The member names in order.
  [[nodiscard]] std::vector<std::string> keys() const { return names; }
  /// The value of an integer number (0 when not one).
  [[nodiscard]] std::int64_t integer() const noexcept {
    if (kind != Kind::number || text.empty()) return 0;
    std::int64_t v = 0;
    const bool neg = text[0] == '-';
    for (std::size_t i = neg ? 1 : 0; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return 0;
      v = v * 10 + (text[i] - '0');
    }
    return neg ? -v : v;
  }
  /// String values of an array of strings.
  [[nodiscard]] std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (const Value& v : items) out.push_back(v.text);
    return out;
  }

 private:
  static const Value& none() noexcept {
    static const Value v;
    return v;
  }
};

struct Result {
  bool ok = false;
  std::string error;  ///< what was wrong and where
  Value value;
};

namespace detail {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result run() {
    Result r;
    ws();
    if (!value(r.value, 0)) {
      r.error = err_ + " at offset " + std::to_string(pos_);
      return r;
    }
    ws();
    if (pos_ != s_.size()) {
      r.error = "trailing data at offset " + std::to_string(pos_);
      return r;
    }
    r.ok = true;
    return r;
  }

 private:
  bool fail(const char* why) {
    if (err_.empty()) err_ = why;
    return false;
  }
  [[nodiscard]] bool more() const noexcept { return pos_ < s_.size(); }
  [[nodiscard]] char peek() const noexcept { return more() ? s_[pos_] : '\0'; }
  void ws() {
    while (more() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return fail("bad literal");
    pos_ += w.size();
    return true;
  }

  bool value(Value& v, int depth) {
    if (depth > 64) return fail("too deep");
    switch (peek()) {
      case '{': return object(v, depth);
      case '[': return array(v, depth);
      case '"': v.kind = Value::Kind::string; return string(v.text);
      case 't': v.kind = Value::Kind::boolean; v.b = true; return lit("true");
      case 'f': v.kind = Value::Kind::boolean; v.b = false; return lit("false");
      case 'n': v.kind = Value::Kind::null; return lit("null");
      default: v.kind = Value::Kind::number; return number(v.text);
    }
  }

  bool object(Value& v, int depth) {
    v.kind = Value::Kind::object;
    ++pos_;
    ws();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      ws();
      if (peek() != '"') return fail("expected a key");
      std::string k;
      if (!string(k)) return false;
      for (const std::string& n : v.names)
        if (n == k) return fail("duplicate key");
      ws();
      if (peek() != ':') return fail("expected ':'");
      ++pos_;
      ws();
      Value item;
      if (!value(item, depth + 1)) return false;
      v.names.push_back(std::move(k));
      v.items.push_back(std::move(item));
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(Value& v, int depth) {
    v.kind = Value::Kind::array;
    ++pos_;
    ws();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      ws();
      Value item;
      if (!value(item, depth + 1)) return false;
      v.items.push_back(std::move(item));
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

  bool number(std::string& out) {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digit(peek())) {
      while (digit(peek())) ++pos_;
    } else {
      return fail("bad value");
    }
    if (peek() == '.') {
      ++pos_;
      if (!digit(peek())) return fail("bad fraction");
      while (digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit(peek())) return fail("bad exponent");
      while (digit(peek())) ++pos_;
    }
    out.assign(s_.substr(start, pos_ - start));
    return true;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(std::uint32_t& v) {
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      std::uint32_t d;
      if (c >= '0' && c <= '9') d = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') d = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') d = static_cast<std::uint32_t>(c - 'A' + 10);
      else return fail("bad \\u escape");
      v = v << 4 | d;
      ++pos_;
    }
    return true;
  }

  // One raw (unescaped) UTF-8 sequence, validated strictly (no overlongs, surrogates, > U+10FFFF).
  bool utf8(std::string& out) {
    const auto c = static_cast<unsigned char>(s_[pos_]);
    std::size_t n;
    std::uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1Fu; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0Fu; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07u; min = 0x10000; }
    else return fail("invalid UTF-8 lead octet");
    if (s_.size() - pos_ < n) return fail("truncated UTF-8");
    for (std::size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s_[pos_ + k]);
      if ((d & 0xC0) != 0x80) return fail("invalid UTF-8 continuation");
      cp = cp << 6 | (d & 0x3Fu);
    }
    if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return fail("invalid UTF-8 code point");
    out.append(s_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  bool string(std::string& out) {
    ++pos_;  // opening quote
    for (;;) {
      if (!more()) return fail("unterminated string");
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("raw control character in string");
      if (c >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("unpaired low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") return fail("unpaired high surrogate");
            pos_ += 2;
            std::uint32_t lo;
            if (!hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string err_;
};

}  // namespace detail

/// Parses `s` as one JSON text.
inline Result parse(std::string_view s) { return detail::Parser(s).run(); }

}  // namespace dnsvigil::test::json
