#include "dnsvigil/sensor/services.hpp"

#include <xxhash.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "dnsvigil/sensor/names.hpp"

namespace dnsvigil::sensor {

namespace {

constexpr std::string_view kKindNames[] = {"blocklist", "allowlist", "reputation", "av_cloud",
                                           "update",    "cdn",       "cloud",      "reverse"};

bool valid_domain(std::string_view d) noexcept {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  std::size_t label = 0;
  for (const char c : d) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return true;
}

std::size_t label_count(std::string_view d) noexcept {
  return static_cast<std::size_t>(std::count(d.begin(), d.end(), '.')) + 1;
}

}  // namespace

std::string_view service_kind_name(ServiceKind k) noexcept { return kKindNames[static_cast<std::size_t>(k)]; }

void ServiceCatalogue::add_text(std::string_view text, const std::string& source, std::vector<std::string>& problems) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::istringstream in{std::string(line)};
    std::string kind, domain;
    if (!(in >> kind)) continue;  // blank or comment
    const auto where = [&] { return source + ":" + std::to_string(line_no) + ": "; };
    const auto* k = std::find(std::begin(kKindNames), std::end(kKindNames), kind);
    if (k == std::end(kKindNames)) {
      problems.push_back(where() + "unknown kind '" + kind + "' (blocklist, allowlist, reputation, av_cloud, update, cdn, cloud, reverse)");
      continue;
    }
    if (!(in >> domain)) {
      problems.push_back(where() + "a domain must follow the kind");
      continue;
    }
    std::transform(domain.begin(), domain.end(), domain.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    while (!domain.empty() && domain.back() == '.') domain.pop_back();
    if (!valid_domain(domain)) {
      problems.push_back(where() + "'" + domain + "' is not a domain name");
      continue;
    }
    // Names are matched by the hashes of their last QueryName::kSuffixHashes labels: a deeper entry would
    // never match (found by fuzz_services).
    if (label_count(domain) > QueryName::kSuffixHashes) {
      problems.push_back(where() + "'" + domain + "' has more than " + std::to_string(QueryName::kSuffixHashes) +
                         " labels: such entries are not supported");
      continue;
    }
    std::string description;
    std::getline(in >> std::ws, description);
    while (!description.empty() && (description.back() == ' ' || description.back() == '\r')) description.pop_back();
    const auto kind_value = static_cast<ServiceKind>(k - std::begin(kKindNames));
    auto same = std::find_if(entries_.begin(), entries_.end(), [&](const Service& s) { return s.domain == domain; });
    if (same != entries_.end()) {
      *same = {domain, kind_value, description, source};
    } else {
      entries_.push_back({domain, kind_value, description, source});
    }
  }
}

void ServiceCatalogue::add_file(const std::string& path, std::vector<std::string>& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.push_back(path + ": cannot read the service catalogue file");
    return;
  }
  std::ostringstream all;
  all << in.rdbuf();
  add_text(all.str(), path, problems);
}

void ServiceCatalogue::finish() {
  std::size_t size = 64;
  while (size < 2 * entries_.size()) size *= 2;
  slots_.assign(size, {0, 0});
  mask_ = size - 1;
  min_labels_ = 255;
  max_labels_ = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const std::string& d = entries_[i].domain;
    const std::uint64_t h = XXH3_64bits(d.data(), d.size());
    std::size_t s = h & mask_;
    while (slots_[s].second != 0) s = (s + 1) & mask_;
    slots_[s] = {h, static_cast<std::uint32_t>(i + 1)};
    min_labels_ = std::min(min_labels_, label_count(d));
    max_labels_ = std::max(max_labels_, label_count(d));
  }
}

const Service* ServiceCatalogue::find(std::span<const std::uint64_t> tails, std::size_t labels) const noexcept {
  if (slots_.empty()) return nullptr;
  // Most specific first: the longest tail an entry can have, down to the shortest.
  const std::size_t top = std::min({max_labels_, tails.size(), labels});
  for (std::size_t k = top; k >= min_labels_ && k >= 1; --k) {
    const std::uint64_t h = tails[k - 1];
    for (std::size_t s = h & mask_; slots_[s].second != 0; s = (s + 1) & mask_)
      if (slots_[s].first == h) return &entries_[slots_[s].second - 1];
  }
  return nullptr;
}

const Service* ServiceCatalogue::find(std::string_view lower_name) const noexcept {
  const LabelStarts l = LabelStarts::of(lower_name);
  std::uint64_t tails[QueryName::kSuffixHashes];
  const std::size_t n = std::min(l.n, std::size(tails));
  for (std::size_t k = 1; k <= n; ++k) {
    const std::uint16_t at = l.from_end(k);
    tails[k - 1] = XXH3_64bits(lower_name.data() + at, lower_name.size() - at);
  }
  return find({tails, n}, l.n);
}

std::shared_ptr<const ServiceCatalogue> ServiceCatalogue::builtin() {
  static const std::shared_ptr<const ServiceCatalogue> c = [] {
    auto cat = std::make_shared<ServiceCatalogue>();
    std::vector<std::string> problems;
    cat->add_text(builtin_text(), "built-in", problems);
    cat->finish();
    return cat;
  }();
  return c;
}

}  // namespace dnsvigil::sensor
