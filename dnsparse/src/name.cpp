#include "dnsvigil/dnsparse/name.hpp"

#include <cstring>

namespace dnsvigil::dnsparse {

std::string_view error_id(Error e) noexcept {
  switch (e) {
    case Error::ok: return "ok";
    case Error::truncated: return "truncated";
    case Error::header_truncated: return "header_truncated";
    case Error::message_too_large: return "message_too_large";
    case Error::label_type: return "label_type";
    case Error::pointer_forward: return "pointer_forward";
    case Error::pointer_into_header: return "pointer_into_header";
    case Error::too_many_pointers: return "too_many_pointers";
    case Error::name_too_long: return "name_too_long";
    case Error::bad_rdata: return "bad_rdata";
    case Error::wrong_type: return "wrong_type";
    case Error::no_edns: return "no_edns";
    case Error::buffer_too_small: return "buffer_too_small";
  }
  return "unknown";
}

NameInfo check_name(Bytes msg, std::size_t offset) noexcept {
  return walk_name(msg, offset, [](Bytes) noexcept {});
}

std::size_t WireName::label_count() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < size && data[i] != 0; i += std::size_t{data[i]} + 1) ++n;
  return n;
}

NameInfo decode_name(Bytes msg, std::size_t offset, WireName& out, bool lower) noexcept {
  std::size_t n = 0;
  const NameInfo info = walk_name(msg, offset, [&](Bytes label) noexcept {
    out.data[n++] = static_cast<std::uint8_t>(label.size());
    for (const std::uint8_t c : label) {
      out.data[n++] = (lower && c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c | 0x20) : c;
    }
  });
  if (info.error != Error::ok) {
    out.size = 0;
    return info;
  }
  // The walker guarantees n + 1 <= kMaxName.
  out.data[n++] = 0;
  out.size = static_cast<std::uint8_t>(n);
  return info;
}

void write_label_text(Bytes label, TextWriter& out) noexcept {
  for (const std::uint8_t c : label) {
    switch (c) {
      case '"': case '(': case ')': case '.': case ';': case '\\': case '@': case '$':
        out.put('\\');
        out.put(static_cast<char>(c));
        break;
      default:
        if (c > 0x20 && c < 0x7F) {
          out.put(static_cast<char>(c));
        } else {
          out.put('\\');
          out.put(static_cast<char>('0' + c / 100));
          out.put(static_cast<char>('0' + c / 10 % 10));
          out.put(static_cast<char>('0' + c % 10));
        }
    }
  }
}

void write_wire_name_text(const WireName& name, TextWriter& out, bool trailing_dot) noexcept {
  if (name.size <= 1) {
    out.put('.');
    return;
  }
  bool first = true;
  for (std::size_t i = 0; i < name.size && name.data[i] != 0; i += std::size_t{name.data[i]} + 1) {
    if (!first) out.put('.');
    first = false;
    write_label_text(Bytes{name.data.data() + i + 1, name.data[i]}, out);
  }
  if (trailing_dot) out.put('.');
}

NameInfo write_name_text(Bytes msg, std::size_t offset, TextWriter& out, bool trailing_dot) noexcept {
  const std::size_t start = out.size();
  bool first = true;
  const NameInfo info = walk_name(msg, offset, [&](Bytes label) noexcept {
    if (!first) out.put('.');
    first = false;
    write_label_text(label, out);
  });
  if (info.error != Error::ok) {
    out.truncate(start);
    return info;
  }
  if (info.labels == 0 || trailing_dot) out.put('.');
  return info;
}

Result<std::size_t> name_to_text(Bytes msg, std::size_t offset, std::span<char> out, bool trailing_dot) noexcept {
  TextWriter w(out);
  const NameInfo info = write_name_text(msg, offset, w, trailing_dot);
  if (info.error != Error::ok) return Result<std::size_t>::fail(info.error);
  if (w.overflow()) return Result<std::size_t>::fail(Error::buffer_too_small);
  return {w.size()};
}

}  // namespace dnsvigil::dnsparse
