// Fuzz target: whole-message parsing, every record view, typed RDATA and presentation text.
#include <array>
#include <cstddef>
#include <cstdint>

#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/rdata.hpp"
#include "dnsvigil/dnsparse/text.hpp"

using namespace dnsvigil::dnsparse;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Message m;
  if (Message::parse(Bytes{data, size}, m) != Error::ok) return 0;
  // A TXT RDATA of 65535 octets can print four times larger.
  static std::array<char, 4 * 65536 + 64> buf;
  for (const Section s : {Section::question, Section::answer, Section::authority, Section::additional}) {
    std::size_t n = 0;
    for (const RecordView& rr : m.records(s)) {
      ++n;
      // Parse validated every owner name: decoding it again must succeed.
      if (!name_to_text(m.wire(), rr.name, buf).ok()) __builtin_trap();
      if (rr.end() > size) __builtin_trap();
      if (s == Section::question) continue;
      const auto t = rdata_to_text(m, rr, buf);
      // Text of a record that validate() accepted cannot fail for lack of a reason.
      if (!t.ok() && t.error != Error::wrong_type && rdata::validate(m, rr) == Error::ok) __builtin_trap();
    }
    if (n != m.count(s)) __builtin_trap();
  }
  if (m.has_edns()) {
    const auto opts = rdata::edns_options(m);
    if (opts.ok())
      for (const rdata::EdnsOption o : opts.value) {
        (void)rdata::client_subnet(o.data);
        (void)rdata::cookie(o.data);
      }
  }
  return 0;
}
