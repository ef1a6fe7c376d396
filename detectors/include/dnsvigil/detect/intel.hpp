// Threat-intel lists (YAML `intel.ip_files`, `intel.domain_files`): addresses, CIDR prefixes and
// domain suffixes read from files, compiled once for lookups on the packet path. The engine
// tags every alert whose client, server or question name is listed (Alert::intel), and the
// intel_match rule alerts on DNS that touches a listed indicator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/detect/policy.hpp"
#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/names.hpp"

namespace dnsvigil::detect {

/// One list file as loaded.
struct IntelList {
  std::string path;          ///< as configured (relative paths already resolved)
  std::string name;          ///< the file's base name: what alerts show as the indicator's provider
  bool domains = false;      ///< a domain list (else addresses and prefixes)
  std::size_t entries = 0;   ///< entries loaded
};

/// One entry of a list.
struct Indicator {
  std::string text;          ///< normalised: "198.51.100.53", "198.51.100.0/24", "badexample.io"
  std::uint32_t list = 0;    ///< index into IntelLists::lists()
};

/// Every configured list, compiled. Built once (at configuration load), then only read, so one
/// instance is shared by every worker's engine.
class IntelLists {
 public:
  enum class Kind : std::uint8_t { ip, domain };

  /// Parses a list's text (one entry per line; '#' starts a comment; blank lines are skipped).
  /// `path` names the list in problems ("path:line: what") and, by its base name, in alerts.
  /// Bad lines are appended to `problems` (at most kMaxProblems per list) and skipped.
  void add(Kind kind, const std::string& path, std::string_view text, std::vector<std::string>& problems);
  /// Reads the file at `path` and adds it; a missing, unreadable or oversized file is a problem.
  void add_file(Kind kind, const std::string& path, std::vector<std::string>& problems);
  /// Sorts and indexes what was added. Lookups before finish() find nothing.
  void finish();

  /// The most specific listed prefix containing `a` (IPv4 entries match IPv4 addresses only, IPv6
  /// entries IPv6 only), or nullptr. O(log n): a binary search plus a walk up enclosing prefixes.
  [[nodiscard]] const Indicator* find(const sensor::IpAddr& a) const noexcept;
  /// The most specific listed domain that `name` (lower case, no trailing dot) equals or is
  /// under, or nullptr. Cost grows with the name's labels, not with the lists.
  [[nodiscard]] const Indicator* find(std::string_view name) const noexcept;
  /// The same for a question name, from its precomputed label-suffix hashes.
  [[nodiscard]] const Indicator* find(const sensor::QueryName& q) const noexcept;

  [[nodiscard]] bool empty() const noexcept { return ip_entries_.empty() && domain_entries_.empty(); }
  [[nodiscard]] const std::vector<IntelList>& lists() const noexcept { return lists_; }
  [[nodiscard]] const IntelList& list_of(const Indicator& i) const noexcept { return lists_[i.list]; }
  /// A number that identifies an entry found by find() (for state and suppression keys).
  [[nodiscard]] std::uint32_t id_of(const Indicator& i) const noexcept {
    if (!ip_entries_.empty() && &i >= ip_entries_.data() && &i < ip_entries_.data() + ip_entries_.size())
      return static_cast<std::uint32_t>(&i - ip_entries_.data());
    return static_cast<std::uint32_t>(ip_entries_.size() + static_cast<std::size_t>(&i - domain_entries_.data()));
  }
  /// Memory the compiled lists take (approximate, for the docs' sizing figures).
  [[nodiscard]] std::size_t bytes() const noexcept;

  static constexpr std::size_t kMaxProblems = 20;
  /// Largest list file read (a feed of millions of entries is a configuration mistake here).
  static constexpr std::uintmax_t kMaxFileBytes = 256u << 20;

 private:
  // A prefix as the closed range [lo, hi] of the 128-bit (mapped) form; `parent` is the nearest
  // enclosing range (prefixes nest or are disjoint), -1 when none.
  struct Range {
    sensor::IpAddr lo, hi;
    std::uint32_t entry;
    std::int32_t parent;
  };
  static void index(std::vector<Range>& ranges);
  [[nodiscard]] const Indicator* find_in(const std::vector<Range>& ranges, const sensor::IpAddr& a) const noexcept;
  [[nodiscard]] bool under(std::string_view name, const Indicator& i) const noexcept;

  std::vector<IntelList> lists_;
  std::vector<Indicator> ip_entries_, domain_entries_;
  std::vector<Range> v4_, v6_;
  std::vector<std::string> pending_domains_;  // until finish()
  DomainList domains_;                        // DomainList index i = domain_entries_[i]
};

/// Adds to `a.intel` what of its client, server and question name the lists hold (nothing when
/// it already has matches). Alerts are rare: the text lookups here are not on the packet path.
void tag_alert(const IntelLists& lists, Alert& a);

}  // namespace dnsvigil::detect
