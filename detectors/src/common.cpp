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

bool wordlike_label(std::string_view l) noexcept {
  if (l.empty() || l.size() > 24) return false;
  std::size_t digits = 0, letters = 0;
  bool hex = true;
  for (std::size_t i = 0; i < l.size(); ++i) {
    const char c = l[i];
    const bool d = c >= '0' && c <= '9', a = c >= 'a' && c <= 'z';
    if (!d && !a && c != '-' && !(c == '_' && i == 0)) return false;
    digits += d;
    letters += a;
    hex = hex && (d || (c >= 'a' && c <= 'f'));
  }
  // Short numbers are list entries too ("1", "01", "2024"); longer digit runs are not words.
  if (letters == 0) return digits != 0 && digits <= 4;
  if (digits * 2 > l.size()) return false;
  return !(hex && digits != 0 && l.size() >= 12);
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
  // Per label: letters only, vowels, the longest run of consonants (natural-language words).
  bool letters = true;
  std::size_t vowels = 0, run = 0, longest_run = 0;
  f.words_only = true;
  const auto end_label = [&] {
    if (label >= entropy_from && entropy_from != 0) {
      const bool word = letters && label != 0 && vowels * 4 >= label && longest_run <= 4;
      f.words_only = f.words_only && word;
    }
    label = 0;
    letters = true;
    vowels = run = longest_run = 0;
  };
  for (std::size_t i = 0; i < sub.size(); ++i) {
    const char c = sub[i];
    if (c == '.') {
      end_label();
      continue;
    }
    if (c >= 'a' && c <= 'z') {
      const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
      vowels += vowel;
      run = vowel ? 0 : run + 1;
      longest_run = std::max(longest_run, run);
    } else if (c == '-') {
      run = 0;  // words joined by hyphens (a phrase of a brute-force list) are still words
    } else {
      letters = false;
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
  end_label();
  f.hex = all_hex && n != 0;
  f.base32 = all_b32 && digit;
  if (f.longest_label >= entropy_from) f.entropy = normalised_entropy({chars, n});
  return f;
}

}  // namespace dnsvigil::detect
