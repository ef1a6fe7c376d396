#include <cmath>
#include <stdexcept>

#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/detect/features.hpp"
#include "dnsvigil/detect/settings.hpp"

namespace dnsvigil::detect {

std::string_view severity_name(Severity s) noexcept {
  switch (s) {
    case Severity::low: return "low";
    case Severity::medium: return "medium";
    case Severity::high: return "high";
    case Severity::critical: return "critical";
  }
  return "medium";
}

int severity_score(Severity s) noexcept {
  switch (s) {
    case Severity::low: return 21;
    case Severity::medium: return 47;
    case Severity::high: return 73;
    case Severity::critical: return 99;
  }
  return 47;
}

std::vector<sensor::Prefix> prefixes(std::initializer_list<const char*> texts) {
  std::vector<sensor::Prefix> out;
  for (const char* t : texts) {
    const auto p = sensor::Prefix::parse(t);
    if (!p) throw std::logic_error(std::string("bad built-in prefix ") + t);
    out.push_back(*p);
  }
  return out;
}

std::vector<std::string> default_benign_encoders() {
  return {
      // Anti-virus / EDR cloud lookups that put file hashes or device ids in names.
      "sophosxl.net", "mcafee.com", "trendmicro.com", "cloudsink.net", "symantecliveupdate.com", "eset.com",
      "e5.sk", "avast.com", "kaspersky.com", "webroot.com", "mcafee-cloud.com",
      // DNS blocklists (reversed addresses and hashes in labels).
      "spamhaus.org", "spamcop.net", "surbl.org", "uribl.com", "barracudacentral.org", "sorbs.net", "dnswl.org",
      "mailspike.net",
      // CDNs and cloud endpoints with generated names.
      "akamaiedge.net", "akamai.net", "akamaized.net", "edgekey.net", "edgesuite.net", "cloudfront.net",
      "amazonaws.com", "azureedge.net", "fastly.net", "fastlylb.net", "trafficmanager.net", "cloudflare.net"};
}

double normalised_entropy(std::string_view s) noexcept {
  if (s.size() < 2) return 0.0;
  unsigned counts[256] = {};
  for (const char c : s) ++counts[static_cast<unsigned char>(c)];
  double h = 0;
  const double n = static_cast<double>(s.size());
  for (const unsigned c : counts) {
    if (c == 0) continue;
    const double p = c / n;
    h -= p * std::log2(p);
  }
  const double max = std::log2(std::min(n, 64.0));
  return max > 0 ? std::min(1.0, h / max) : 0.0;
}

NameFeatures name_features(std::string_view lower, std::string_view sub, std::uint8_t labels,
                           std::size_t entropy_from) noexcept {
  NameFeatures f;
  f.length = static_cast<std::uint16_t>(lower.size());
  f.subdomain_length = static_cast<std::uint16_t>(sub.size());
  f.labels = labels;
  if (sub.empty()) return f;
  // Characters of the subdomain without dots, for entropy and charset.
  char chars[1024];
  std::size_t n = 0, label = 0;
  bool all_hex = true, all_b32 = true, digit = false;
  for (std::size_t i = 0; i < sub.size(); ++i) {
    const char c = sub[i];
    if (c == '.') {
      label = 0;
      continue;
    }
    if (c == '\\') f.non_ldh = true;
    ++label;
    if (label > f.longest_label) f.longest_label = static_cast<std::uint8_t>(std::min<std::size_t>(label, 255));
    const bool is_digit = c >= '0' && c <= '9', is_alpha = c >= 'a' && c <= 'z';
    if (!is_digit && !is_alpha && c != '-' && c != '_' && c != '\\') f.non_ldh = true;
    all_hex = all_hex && (is_digit || (c >= 'a' && c <= 'f'));
    all_b32 = all_b32 && (is_alpha || (c >= '2' && c <= '7'));
    digit = digit || is_digit;
    if (n < sizeof chars) chars[n++] = c;
  }
  f.hex = all_hex && n != 0;
  f.base32 = all_b32 && digit;
  if (f.longest_label >= entropy_from) f.entropy = normalised_entropy({chars, n});
  return f;
}

}  // namespace dnsvigil::detect
