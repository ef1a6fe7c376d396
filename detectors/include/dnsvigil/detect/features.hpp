// Per-query name features for tunnelling and DGA-like detection.
#pragma once

#include <cstdint>
#include <string_view>

namespace dnsvigil::detect {

struct NameFeatures {
  std::uint16_t length = 0;           ///< presentation length of the whole name
  std::uint16_t subdomain_length = 0; ///< length of the part before the registered domain
  std::uint8_t labels = 0;            ///< labels of the whole name
  std::uint8_t longest_label = 0;     ///< longest label of the subdomain (octets in presentation)
  double entropy = 0;                 ///< normalised Shannon entropy of the subdomain characters
  bool hex = false;                   ///< subdomain (dots aside) is hexadecimal only
  bool base32 = false;                ///< [a-z2-7] only, with digits present
  bool non_ldh = false;               ///< escaped octets or characters outside letters, digits, '-', '_'
  /// Every label of the subdomain at least `entropy_from` long reads like a natural-language
  /// word (letters only, a quarter or more vowels, at most 4 consonants in a row): the long
  /// words of brute-force lists, not data. True when there is no such label.
  bool words_only = true;
};

/// A label that looks like an entry of a brute-force word list: 1-24 letters, digits and
/// hyphens (or a leading underscore, as in SRV service names), at least one letter, digits at
/// most half of it, and not a long hexadecimal string. Hashes, encoded data and address labels
/// are not.
[[nodiscard]] bool wordlike_label(std::string_view label) noexcept;

/// Computes features of `lower` (lower case presentation form) whose subdomain is `sub`. The
/// entropy (the costly part) is computed only when the longest label reaches `entropy_from`.
[[nodiscard]] NameFeatures name_features(std::string_view lower, std::string_view sub, std::uint8_t labels,
                                         std::size_t entropy_from = 0) noexcept;

/// Shannon entropy of the characters of `s` divided by log2(min(|s|, 64)), in [0, 1]: raw
/// entropy cannot exceed log2(|s|), so a fixed cut-off would treat short labels unfairly.
[[nodiscard]] double normalised_entropy(std::string_view s) noexcept;

}  // namespace dnsvigil::detect
