// Fuzz target: service catalogue text (packaging/services.txt, names.service_files). The input is
// parsed into a catalogue after the built-in list, then every word of it is looked up as a name.
// Bad lines must become problems (never a crash); every entry kept is a valid lower-case domain of
// a known kind; and every match must be one the catalogue really holds: the name itself or a
// suffix of it at a label boundary, the most specific one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "dnsvigil/sensor/services.hpp"

using dnsvigil::sensor::Service;
using dnsvigil::sensor::ServiceCatalogue;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool under(std::string_view name, std::string_view domain) {
  return name == domain ||
         (name.size() > domain.size() && name.ends_with(domain) && name[name.size() - domain.size() - 1] == '.');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ServiceCatalogue cat;
  std::vector<std::string> problems;
  cat.add_text(ServiceCatalogue::builtin_text(), "built-in", problems);
  check(problems.empty());
  cat.add_text(text, "fuzz", problems);
  cat.finish();
  for (const Service& s : cat.entries()) {
    check(!s.domain.empty() && s.domain.size() <= 253 && s.domain.front() != '.' && s.domain.back() != '.');
    for (const char c : s.domain) check(!(c >= 'A' && c <= 'Z'));
    check(!dnsvigil::sensor::service_kind_name(s.kind).empty());
  }
  std::istringstream words(text);
  std::string w;
  while (words >> w) {
    if (w.size() > 253) continue;
    const Service* found = cat.find(w);
    if (found == nullptr) continue;
    check(under(w, found->domain));
    // No entry the name falls under is more specific than the one found.
    for (const Service& s : cat.entries()) check(!under(w, s.domain) || s.domain.size() <= found->domain.size());
  }
  return 0;
}
