// The question name of a message, decoded once per message for every consumer, and its split
// into subdomain / registered domain / public suffix (libpsl, with DNS-specific cases).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/name.hpp"

namespace dnsvigil::sensor {

/// Offsets that split a lower-case name in presentation form.
struct DomainSplit {
  std::uint16_t registered = 0;  ///< where the registered domain starts (name size when there is none)
  std::uint16_t suffix = 0;      ///< where the public suffix starts (name size when there is none)
};

/// Splits names with the Public Suffix List. Special cases (docs/detectors.md):
///  - `d.c.b.a.in-addr.arpa` → registered domain `c.b.a.in-addr.arpa` (the /24), and
///    `ip6.arpa` names → the first 16 nibbles (the /64): reverse lookups group by network;
///  - a name that is itself a public suffix (`co.uk`) → the whole name;
///  - unknown TLDs (`corp.local`) → the last two labels (the PSL's implicit `*` rule);
///  - names holding escaped octets → the last two labels (the PSL cannot judge them).
/// Results are cached by name, so repeated names cost a hash and a compare.
class DomainSplitter {
 public:
  /// Loads `psl_file` (a .dat or .dafsa list); empty means the system list that Debian's
  /// `publicsuffix` package installs, falling back to libpsl's built-in copy. Throws
  /// std::runtime_error when a named file cannot be loaded.
  explicit DomainSplitter(const std::string& psl_file = {});
  ~DomainSplitter();
  DomainSplitter(const DomainSplitter&) = delete;
  DomainSplitter& operator=(const DomainSplitter&) = delete;

  /// Splits `lower` (lower case, presentation form, no trailing dot). `lower` must be followed
  /// by a NUL octet (QueryName guarantees it).
  [[nodiscard]] DomainSplit split(std::string_view lower) noexcept;
  /// Where the list came from, for the startup log.
  [[nodiscard]] const std::string& source() const noexcept { return source_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string source_;
};

/// The first question's name in presentation form: as on the wire (case kept) and in lower
/// case, with its split. No trailing dot; the root is ".".
class QueryName {
 public:
  /// Fills from the first question of `m` (empty when the message has none).
  void set(const dnsparse::Message& m, DomainSplitter* splitter) noexcept;
  void clear() noexcept { len_ = 0; split_ = {}; labels_ = 0; }

  [[nodiscard]] bool empty() const noexcept { return len_ == 0; }
  /// Presentation form with the case seen on the wire.
  [[nodiscard]] std::string_view text() const noexcept { return {text_.data(), len_}; }
  /// Lower-case presentation form (detectors key on this).
  [[nodiscard]] std::string_view lower() const noexcept { return {lower_.data(), len_}; }
  [[nodiscard]] std::uint8_t labels() const noexcept { return labels_; }
  /// Registered domain (eTLD+1, or the special cases of DomainSplitter), lower case.
  [[nodiscard]] std::string_view registered_domain() const noexcept { return lower().substr(split_.registered); }
  /// The part before the registered domain, without its trailing dot ("" when none).
  [[nodiscard]] std::string_view subdomain() const noexcept {
    return split_.registered > 1 ? lower().substr(0, split_.registered - 1u) : std::string_view{};
  }
  /// The public suffix ("com", "co.uk"), lower case.
  [[nodiscard]] std::string_view top_level_domain() const noexcept { return lower().substr(split_.suffix); }

 private:
  std::array<char, dnsparse::limits::kMaxNameText + 1> text_{};
  std::array<char, dnsparse::limits::kMaxNameText + 1> lower_{};
  std::uint16_t len_ = 0;
  std::uint8_t labels_ = 0;
  DomainSplit split_;
};

}  // namespace dnsvigil::sensor
