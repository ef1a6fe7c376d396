// The question name of a message, decoded once per message for every consumer, and its split
// into subdomain / registered domain / public suffix (libpsl, with DNS-specific cases).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <span>
#include <string_view>

#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/name.hpp"
#include "dnsvigil/sensor/services.hpp"

namespace dnsvigil::sensor {

/// Where each label of a presentation-form name starts (at most 128 labels), and whether any
/// label holds escaped octets.
struct LabelStarts {
  std::array<std::uint16_t, 128> start{};
  std::size_t n = 0;
  bool escaped = false;
  /// Offset of the label `k` labels from the end (k = 1: the last); 0 when there are fewer.
  [[nodiscard]] std::uint16_t from_end(std::size_t k) const noexcept { return k <= n ? start[n - k] : 0; }
  /// Scans a presentation-form name (\DDD and \X escapes honoured).
  [[nodiscard]] static LabelStarts of(std::string_view name) noexcept;
};

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
/// Results are cached by the part of the name the list can tell apart: with a text list
/// (.dat, as Debian's `publicsuffix` ships), every label-suffix of its rules is known, so a
/// name is looked up by its longest such suffix plus one label: `x1.victim.com` and
/// `x2.victim.com` are one cache entry and one libpsl call, which keeps a random-subdomain
/// flood from paying a libpsl walk per name. Names with an `xn--` label, and lists in DAFSA
/// form, are cached by the whole name.
class DomainSplitter {
 public:
  /// Loads `psl_file` (a .dat or .dafsa list); empty means the system list that Debian's
  /// `publicsuffix` package installs (its .dat), falling back to libpsl's newest copy (the
  /// system .dafsa or the built-in one). Throws std::runtime_error when a named file cannot be
  /// loaded.
  explicit DomainSplitter(const std::string& psl_file = {});
  ~DomainSplitter();
  DomainSplitter(const DomainSplitter&) = delete;
  DomainSplitter& operator=(const DomainSplitter&) = delete;

  /// Splits `lower` (lower case, presentation form, no trailing dot). `lower` must be followed
  /// by a NUL octet (QueryName guarantees it).
  [[nodiscard]] DomainSplit split(std::string_view lower) noexcept;
  /// The same with the label starts and the XXH3 of `lower` known, and `tails[k - 1]` the XXH3
  /// of its last k labels (k = 1 .. tails.size(), fewer than all labels allowed).
  [[nodiscard]] DomainSplit split(std::string_view lower, const LabelStarts& labels, std::uint64_t hash,
                                  std::span<const std::uint64_t> tails) noexcept;
  /// Whether `label` (lower case, one label) is a top-level domain of the list: names under
  /// other last labels (`local`, `internal`, `lan`, `corp`) cannot be resolved in the public DNS.
  [[nodiscard]] bool public_tld(std::string_view label) const noexcept;
  /// Whether the cache is keyed by rule suffixes (a text list was loaded) or by whole names.
  [[nodiscard]] bool keyed_by_suffix() const noexcept;
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
  /// Fills from the first question of `m` (empty when the message has none), classifying the
  /// name with `services` when given.
  void set(const dnsparse::Message& m, DomainSplitter* splitter, const ServiceCatalogue* services = nullptr) noexcept;
  void clear() noexcept {
    len_ = 0;
    split_ = {};
    labels_ = 0;
    starts_.n = 0;
    suffixes_ = 0;
    service_ = nullptr;
    tld_ = -1;
    expansion_ = -1;
  }

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
  /// XXH3 of lower(), computed once for every consumer.
  [[nodiscard]] std::uint64_t hash() const noexcept { return hash_; }
  /// XXH3 of registered_domain().
  [[nodiscard]] std::uint64_t domain_hash() const noexcept { return domain_hash_; }
  /// Label starts of lower().
  [[nodiscard]] const LabelStarts& label_starts() const noexcept { return starts_; }
  /// XXH3 of the suffix of lower() made of its last `k` labels (1 <= k <= suffix_count()),
  /// for allowlists that match a domain and its subdomains.
  [[nodiscard]] std::uint64_t suffix_hash(std::size_t k) const noexcept { return suffix_hashes_[k - 1]; }
  /// Suffix hashes available: the labels, at most kSuffixHashes.
  [[nodiscard]] std::size_t suffix_count() const noexcept { return suffixes_; }
  static constexpr std::size_t kSuffixHashes = 16;

  /// The service catalogue entry the name equals or falls under, or nullptr.
  [[nodiscard]] const Service* service() const noexcept { return service_; }
  /// Whether the last label is a top-level domain of the Public Suffix List (true when no
  /// list was given). Names under `cluster.local`, `corp`, `lan` never leave the site's DNS.
  [[nodiscard]] bool public_tld() const noexcept;
  /// A search-list expansion: a name made of a fully qualified name and a search suffix, as a
  /// stub resolver with a search list (`ndots`) tries it: `api.github.com.default.svc.cluster.local`
  /// (`api.github.com` + `default.svc.cluster.local`), `www.example.org.corp.example.com`.
  /// Returns the offset in lower() where the search suffix starts, 0 when the name is none: no
  /// label before its public suffix (other than the first) is a top-level domain.
  [[nodiscard]] std::uint16_t search_suffix() const noexcept;

 private:
  std::array<char, dnsparse::limits::kMaxNameText + 1> text_{};
  std::array<char, dnsparse::limits::kMaxNameText + 1> lower_{};
  std::uint16_t len_ = 0;
  std::uint8_t labels_ = 0;
  DomainSplit split_;
  std::uint64_t hash_ = 0, domain_hash_ = 0;
  LabelStarts starts_;
  std::array<std::uint64_t, kSuffixHashes> suffix_hashes_{};
  std::size_t suffixes_ = 0;
  const Service* service_ = nullptr;
  const DomainSplitter* splitter_ = nullptr;
  mutable std::int8_t tld_ = -1;         // public_tld(), computed on first use
  mutable std::int32_t expansion_ = -1;  // search_suffix(), computed on first use
};

}  // namespace dnsvigil::sensor
