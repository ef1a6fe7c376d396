// Fuzz target: service catalogue text (packaging/services.txt, names.service_files). The input is
// parsed into a catalogue after the built-in list, then every word of it is looked up as a name.
// Bad lines must become problems (never a crash); every entry kept is a valid lower-case domain of
// a known kind; and every match must be one the catalogue really holds: the name itself or a
// suffix of it at a label boundary (a word is a name in presentation form: an escaped dot is no
// boundary), the most specific one.
//
// Speed: the built-in list is parsed once (it parses without problems) and each input starts from
// a copy of that catalogue, which is what parsing it again gives. Adding text never renames an
// entry (a later entry for the same domain replaces it in place) and only appends new domains, so
// after the input the first entries still carry the built-in domains in order; that is checked on
// every input, and then "no entry the word falls under is more specific" is checked for those
// entries through a sorted list of the built-in domains (one binary search per suffix of the word
// longer than the match) and for the appended entries one by one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dnsvigil/sensor/names.hpp"
#include "dnsvigil/sensor/services.hpp"

using dnsvigil::sensor::Service;
using dnsvigil::sensor::ServiceCatalogue;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Where the labels of a presentation-form name start. An escape is part of its label, so an
// escaped dot splits nothing: a backslash takes the next character, or the next three when that
// one is a digit (\DDD). A final dot starts no label.
struct Starts {
  std::size_t at[256];
  std::size_t n = 0;
};

Starts label_starts(std::string_view name) {
  Starts s;
  if (name.empty()) return s;
  s.at[s.n++] = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\') {
      i += (i + 1 < name.size() && name[i + 1] >= '0' && name[i + 1] <= '9') ? std::size_t{3} : std::size_t{1};
      continue;
    }
    if (name[i] == '.' && i + 1 < name.size()) s.at[s.n++] = i + 1;
  }
  return s;
}

// Whether `name` is `domain` or under it: `domain` is what follows one of the name's label starts.
bool under(std::string_view name, const Starts& starts, std::string_view domain) {
  if (domain.size() > name.size()) return false;
  for (std::size_t k = 0; k < starts.n; ++k)
    if (name.size() - starts.at[k] == domain.size()) return name.substr(starts.at[k]) == domain;
  return false;
}

// The labels find() can see: the catalogue refuses deeper entries.
constexpr std::size_t kMaxLabels = dnsvigil::sensor::QueryName::kSuffixHashes;

// Labels of an entry's domain (entries hold no escapes).
std::size_t labels(std::string_view domain) {
  return static_cast<std::size_t>(std::count(domain.begin(), domain.end(), '.')) + 1;
}

bool valid_entry(const Service& s) {
  if (s.domain.empty() || s.domain.size() > 253 || s.domain.front() == '.' || s.domain.back() == '.') return false;
  for (const char c : s.domain)
    if (c >= 'A' && c <= 'Z') return false;
  return !dnsvigil::sensor::service_kind_name(s.kind).empty();
}

struct Builtin {
  ServiceCatalogue cat;               // the built-in list added, not finished
  std::vector<std::string> sorted;    // its domains, sorted
};

const Builtin& builtin() {
  static const Builtin b = [] {
    Builtin r;
    std::vector<std::string> problems;
    r.cat.add_text(ServiceCatalogue::builtin_text(), "built-in", problems);
    check(problems.empty());
    for (const Service& s : r.cat.entries()) {
      check(valid_entry(s));
      r.sorted.push_back(s.domain);
    }
    std::sort(r.sorted.begin(), r.sorted.end());
    return r;
  }();
  return b;
}

// The whitespace operator>> skips in the "C" locale.
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Builtin& base = builtin();
  const std::size_t n_base = base.cat.entries().size();
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Reused: assigning the built-in catalogue gives the state parsing it gives, and keeps the
  // strings' storage from the previous input.
  static ServiceCatalogue cat;
  cat = base.cat;
  std::vector<std::string> problems;
  cat.add_text(text, "fuzz", problems);
  cat.finish();
  const std::vector<Service>& entries = cat.entries();
  check(entries.size() >= n_base);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Service& s = entries[i];
    // The built-in domains are valid (checked once); the input may only change their kind,
    // description and source.
    if (i < n_base) {
      check(s.domain == base.cat.entries()[i].domain);
      check(!dnsvigil::sensor::service_kind_name(s.kind).empty());
    } else {
      check(valid_entry(s));
      check(labels(s.domain) <= kMaxLabels);
    }
  }
  const std::string_view all = text;
  for (std::size_t at = 0; at < all.size();) {
    while (at < all.size() && space(all[at])) ++at;
    if (at == all.size()) break;
    std::size_t end = at;
    while (end < all.size() && !space(all[end])) ++end;
    const std::string_view w = all.substr(at, end - at);
    at = end;
    if (w.size() > 253) continue;
    const Service* found = cat.find(w);
    if (found == nullptr) continue;
    const Starts starts = label_starts(w);
    check(under(w, starts, found->domain));
    // No entry the name falls under is more specific than the one found: no label-suffix of w
    // longer than the match is a built-in domain, and no appended entry is one. (An entry of
    // more than 16 labels was once accepted and never matched: regressions/fuzz_services/
    // entry-deeper-than-16-labels.)
    for (std::size_t k = 0; k < starts.n && w.size() - starts.at[k] > found->domain.size(); ++k)
      check(!std::binary_search(base.sorted.begin(), base.sorted.end(), w.substr(starts.at[k])));
    for (std::size_t i = n_base; i < entries.size(); ++i)
      check(!under(w, starts, entries[i].domain) || entries[i].domain.size() <= found->domain.size());
  }
  return 0;
}
