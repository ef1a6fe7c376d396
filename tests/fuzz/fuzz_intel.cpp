// Fuzz target: threat-intel list text (intel.ip_files / intel.domain_files). The input is parsed
// as both an address list and a domain list, indexed, and then every line of it is looked up as
// an address and as a name. Bad lines must become problems (never a crash), the number of
// problems per list stays capped, and every match must be one the lists really hold: a domain
// match equals the name or is a suffix of it at a label boundary, an address match contains it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dnsvigil/detect/intel.hpp"

using dnsvigil::detect::IntelLists;
using dnsvigil::sensor::IpAddr;
using dnsvigil::sensor::Prefix;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void look_up(const IntelLists& lists, std::string_view line) {
  if (const auto a = IpAddr::parse(line)) {
    if (const auto* i = lists.find(*a)) {
      const auto p = Prefix::parse(i->text);
      check(p.has_value() && p->contains(*a));
    }
  }
  if (const auto* i = lists.find(line)) {
    const std::string_view t = i->text;
    check(line == t || (line.size() > t.size() && line.ends_with(t) && line[line.size() - t.size() - 1] == '.'));
    check(i->list < lists.lists().size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  IntelLists lists;
  std::vector<std::string> problems;
  lists.add(IntelLists::Kind::ip, "fuzz-ips.txt", text, problems);
  check(problems.size() <= IntelLists::kMaxProblems + 1);
  const std::size_t ip_problems = problems.size();
  lists.add(IntelLists::Kind::domain, "fuzz-domains.txt", text, problems);
  check(problems.size() - ip_problems <= IntelLists::kMaxProblems + 1);
  lists.finish();
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    look_up(lists, text.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}
