// The catalogue of DNS-based services: domains under which names carry data by design (DNS
// blocklists, hash and reputation lookups, anti-virus cloud lookups, CDN and cloud host names,
// reverse zones). A question name under an entry is classified once, when it is decoded; the
// name-keyed rules never count classified names as evidence, and --dump-json shows the entry.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvigil::sensor {

enum class ServiceKind : std::uint8_t { blocklist, allowlist, reputation, av_cloud, update, cdn, cloud, reverse };

/// "blocklist", "allowlist", ...
[[nodiscard]] std::string_view service_kind_name(ServiceKind k) noexcept;

/// One catalogue entry.
struct Service {
  std::string domain;       ///< lower case, no trailing dot
  ServiceKind kind{};
  std::string description;  ///< free text after the domain (may be empty)
  std::string source;       ///< "built-in" or the file it came from
};

class ServiceCatalogue {
 public:
  /// The catalogue shipped with dnsvigil (packaging/services.txt, built into the binary).
  [[nodiscard]] static std::string_view builtin_text() noexcept;

  /// Adds the entries of `text` (the services.txt format) read from `source`; each bad line is
  /// reported in `problems` as "source:line: what". A later entry for the same domain wins.
  void add_text(std::string_view text, const std::string& source, std::vector<std::string>& problems);
  /// Reads a file and adds its entries; a file that cannot be read is a problem.
  void add_file(const std::string& path, std::vector<std::string>& problems);
  /// Builds the lookup structure; call once after the last add.
  void finish();

  /// The most specific entry `name` equals or falls under, or nullptr. `tails[k - 1]` is the
  /// XXH3 of the name's last k labels (QueryName::suffix_hash), `labels` its label count.
  [[nodiscard]] const Service* find(std::span<const std::uint64_t> tails, std::size_t labels) const noexcept;
  /// The same from the text (tests, tools).
  [[nodiscard]] const Service* find(std::string_view lower_name) const noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] const std::vector<Service>& entries() const noexcept { return entries_; }

  /// The built-in catalogue alone, loaded once per process.
  [[nodiscard]] static std::shared_ptr<const ServiceCatalogue> builtin();

 private:
  std::vector<Service> entries_;
  // Open addressing: (hash of the domain, entry index + 1); 0 marks an empty slot.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> slots_;
  std::size_t mask_ = 0;
  std::size_t min_labels_ = 255, max_labels_ = 0;
};

}  // namespace dnsvigil::sensor
