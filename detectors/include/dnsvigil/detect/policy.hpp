// The network policy at run time: who is internal, which resolvers and secondaries are
// sanctioned, client roles, allowlists, and resolvers learned from traffic.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnsvigil/detect/settings.hpp"
#include "dnsvigil/detect/shared.hpp"
#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/event.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect {

using sensor::IpAddr;

/// Prefix list with the vector's contents; linear scan (policy lists are short).
class Prefixes {
 public:
  Prefixes() = default;
  explicit Prefixes(const std::vector<sensor::Prefix>& v) : v_(v) {}
  [[nodiscard]] bool contains(const IpAddr& a) const noexcept {
    for (const auto& p : v_)
      if (p.contains(a)) return true;
    return false;
  }
  [[nodiscard]] bool empty() const noexcept { return v_.empty(); }

 private:
  std::vector<sensor::Prefix> v_;
};

/// Domain allowlist: exact domains and their subdomains. Entries are kept as hashes, and a
/// name is checked by hashing each of its label suffixes: cost grows with the name's labels,
/// not with the list.
class DomainList {
 public:
  DomainList() = default;
  explicit DomainList(const std::vector<std::string>& v);
  /// True when `name` (lower case, no trailing dot) equals an entry or ends with ".entry".
  [[nodiscard]] bool matches(std::string_view name) const noexcept;
  /// The same for a question name, from its precomputed suffix hashes.
  [[nodiscard]] bool matches(const sensor::QueryName& q) const noexcept;
  /// The entries that `name` may fall under, most specific first: each is the position in the
  /// constructor's vector of an entry whose hash equals that of one of the name's suffixes
  /// (callers that need certainty compare the text; 64-bit hashes rarely collide). Calls
  /// `visit(index)` until it returns true; returns that index, or kNone.
  template <class Visit>
  std::size_t find(std::string_view name, Visit&& visit) const;
  /// The same for a question name, from its precomputed suffix hashes.
  template <class Visit>
  std::size_t find(const sensor::QueryName& q, Visit&& visit) const;
  [[nodiscard]] bool empty() const noexcept { return hashes_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return hashes_.size(); }
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

 private:
  [[nodiscard]] static std::uint64_t hash_of(std::string_view s) noexcept;
  // Entries equal to hash `h`, as a range of positions in hashes_.
  [[nodiscard]] std::pair<std::size_t, std::size_t> equal(std::uint64_t h) const noexcept;
  template <class Visit>
  std::size_t visit_hash(std::uint64_t h, Visit& visit) const {
    for (auto [i, end] = equal(h); i < end; ++i)
      if (visit(static_cast<std::size_t>(ids_[i]))) return ids_[i];
    return kNone;
  }

  std::vector<std::uint64_t> hashes_;  // sorted
  std::vector<std::uint32_t> ids_;     // position in the constructor's vector, parallel to hashes_
  std::size_t min_len_ = 0, max_len_ = 0;
};

template <class Visit>
std::size_t DomainList::find(std::string_view name, Visit&& visit) const {
  if (hashes_.empty() || name.size() < min_len_) return kNone;
  // The name itself, then every suffix after a dot: longest (most specific) first.
  for (std::size_t start = 0; start < name.size();) {
    const std::size_t len = name.size() - start;
    if (len < min_len_) return kNone;
    if (len <= max_len_) {
      const std::size_t found = visit_hash(hash_of(name.substr(start)), visit);
      if (found != kNone) return found;
    }
    const std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) return kNone;
    start = dot + 1;
  }
  return kNone;
}

template <class Visit>
std::size_t DomainList::find(const sensor::QueryName& q, Visit&& visit) const {
  if (hashes_.empty()) return kNone;
  const std::size_t n = q.suffix_count();
  if (n < q.label_starts().n) return find(q.lower(), visit);  // deeper than the precomputed suffixes
  for (std::size_t k = n; k >= 1; --k) {
    const std::size_t found = visit_hash(q.suffix_hash(k), visit);
    if (found != kNone) return found;
  }
  return kNone;
}

/// Allowlist compiled for matching.
struct AllowMatcher {
  Prefixes clients, servers;
  DomainList domains;
  AllowMatcher() = default;
  explicit AllowMatcher(const Allowlist& a) : clients(a.clients), servers(a.servers), domains(a.domains) {}
  /// True when the event's client, server or question's registered domain is allowed.
  [[nodiscard]] bool allows(const sensor::DnsEvent& ev) const noexcept;
};

class Policy {
 public:
  explicit Policy(const DetectorSettings& s);
  ~Policy();

  [[nodiscard]] bool internal(const IpAddr& a) const noexcept { return internal_.contains(a); }
  /// A configured resolver, or (when none is configured) one learned from traffic.
  [[nodiscard]] bool resolver(const IpAddr& a) const noexcept;
  [[nodiscard]] bool configured_resolver(const IpAddr& a) const noexcept { return resolvers_.contains(a); }
  [[nodiscard]] bool resolvers_configured() const noexcept { return !resolvers_.empty(); }
  [[nodiscard]] bool secondary(const IpAddr& a) const noexcept { return secondaries_.contains(a); }
  [[nodiscard]] bool mail_server(const IpAddr& a) const noexcept { return mail_.contains(a); }
  [[nodiscard]] bool scanner(const IpAddr& a) const noexcept { return scanners_.contains(a); }
  [[nodiscard]] Role role() const noexcept { return role_; }
  /// True when `name` is inside a monitored zone.
  [[nodiscard]] bool monitored(const sensor::QueryName& q) const noexcept { return zones_.matches(q); }
  /// The global allowlist.
  [[nodiscard]] const AllowMatcher& allow() const noexcept { return allow_; }

  /// Learns resolvers: internal servers answering several distinct internal clients.
  void observe(const sensor::DnsEvent& ev) noexcept;
  [[nodiscard]] std::size_t learned_resolvers() const noexcept;
  /// Merges what this worker learned with the other workers' (-j N).
  void sync(SharedView& shared);

 private:
  struct Learned;
  Prefixes internal_, resolvers_, secondaries_, mail_, scanners_;
  DomainList zones_;
  AllowMatcher allow_;
  Role role_;
  std::uint64_t learn_min_clients_;
  std::unique_ptr<Learned> learned_;
  std::vector<IpAddr> shared_learned_;  // sorted, from the last sync
};

}  // namespace dnsvigil::detect
