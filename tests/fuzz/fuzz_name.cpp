// Fuzz target: the name walker at every offset of the input, with its decode and text forms.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dnsvigil/dnsparse/name.hpp"

using namespace dnsvigil::dnsparse;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes msg{data, size};
  std::array<char, limits::kMaxNameText> text{};
  std::array<char, limits::kMaxNameText> text2{};
  for (std::size_t off = limits::kHeaderSize; off < size && off < 4096; ++off) {
    const NameInfo info = check_name(msg, off);
    WireName flat;
    const NameInfo again = decode_name(msg, off, flat);
    // One walker: every entry point agrees on validity and length.
    if (again.error != info.error) __builtin_trap();
    if (info.error != Error::ok) continue;
    if (info.wire_len == 0 || info.wire_len > limits::kMaxName || flat.size != info.wire_len) __builtin_trap();
    if (info.end <= off || info.end > size) __builtin_trap();
    if (flat.label_count() != info.labels) __builtin_trap();
    const auto t = name_to_text(msg, off, text);
    if (!t.ok()) __builtin_trap();
    // Text from the flat copy equals text from the message.
    TextWriter w(text2);
    write_wire_name_text(flat, w);
    if (w.size() != t.value || std::memcmp(text.data(), text2.data(), t.value) != 0) __builtin_trap();
  }
  return 0;
}
