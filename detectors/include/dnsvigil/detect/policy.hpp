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
#include "dnsvigil/sensor/services.hpp"
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

/// Client roles, as a bit set: configured (roles.*, network.resolvers) or learned from traffic.
enum RoleBit : std::uint8_t {
  kRoleResolver = 1,       ///< recursive resolver or forwarder: asks on behalf of many users
  kRoleMailServer = 2,     ///< sender-policy and blocklist lookups across many domains
  kRoleMonitoring = 4,     ///< PTR sweeps of address ranges
  kRoleContainerNode = 8,  ///< stub resolver expanding a search list (Kubernetes ndots)
  kRoleScanner = 16,       ///< authorised scanner (configured only)
};
/// "resolver,mail_server" (empty for none), for alerts and the summary.
[[nodiscard]] std::string role_names(std::uint8_t roles);

/// What the rules keyed on names need to know about a question name, worked out once per event
/// (docs/detectors.md, "Names that are not evidence").
struct NameTraits {
  const sensor::Service* service = nullptr;  ///< catalogued DNS-based service
  bool allowlisted = false;    ///< under a domain of a name-keyed rule's allowlist (applies to all four)
  bool reversed_ip = false;    ///< leading labels are a reversed address under a zone other than .arpa (DNSBL-style)
  bool service_label = false;  ///< a standard service name (standard_service_name)
  bool acme = false;           ///< _acme-challenge.<name> (ACME DNS-01 validation)
  bool public_tld = true;      ///< the last label is a top-level domain of the Public Suffix List
  std::uint16_t expansion = 0; ///< search-list expansion: where the search suffix starts (QueryName::search_suffix)
  bool from_answer = false;    ///< a lookup of a name a PTR or CNAME answer just gave this client (forward confirmation, HELO SPF, a CNAME chain)
  /// Catalogued, allowlisted, a blocklist-style lookup or a forward confirmation: counts for no
  /// name-keyed rule.
  [[nodiscard]] bool benign() const noexcept { return service != nullptr || allowlisted || reversed_ip || from_answer; }
};

/// A name of a standard DNS service: DKIM selectors (`*._domainkey.*`), `_dmarc.`, `_mta-sts.`,
/// `_smtp._tls.`, `_acme-challenge.`, `_spf.`, `_bimi.`, and SRV owners (`_ldap._tcp.*`). Mail
/// servers, ACME clients and domain members look these up as part of their job.
[[nodiscard]] bool standard_service_name(std::string_view lower) noexcept;
/// Works out NameTraits (`allow`: the domains of the name-keyed rules' allowlists).
[[nodiscard]] NameTraits name_traits(const sensor::QueryName& q, const DomainList& allow) noexcept;
/// The address a reverse name (`4.3.2.1.in-addr.arpa`, 32 nibbles under `ip6.arpa`) stands for.
[[nodiscard]] bool reverse_address(std::string_view lower, IpAddr& out) noexcept;

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
  [[nodiscard]] bool mail_server(const IpAddr& a) const noexcept { return (roles(a) & kRoleMailServer) != 0; }
  [[nodiscard]] bool scanner(const IpAddr& a) const noexcept { return scanners_.contains(a); }
  /// Every role of `a`, configured or learned.
  [[nodiscard]] std::uint8_t roles(const IpAddr& a) const noexcept;
  [[nodiscard]] Role role() const noexcept { return role_; }
  /// True when `name` is inside a monitored zone.
  [[nodiscard]] bool monitored(const sensor::QueryName& q) const noexcept { return zones_.matches(q); }
  /// The global allowlist.
  [[nodiscard]] const AllowMatcher& allow() const noexcept { return allow_; }
  /// Domains of the name-keyed rules' allowlists (enumeration, recon_sweep, tunneling,
  /// beaconing), honoured by all four.
  [[nodiscard]] const DomainList& name_allow() const noexcept { return name_allow_; }

  /// Learns from one event: resolvers (servers answering several internal clients, hosts
  /// resolving iteratively), the servers internal clients use (zero-configuration resolver
  /// policy), client roles, and popular domains.
  void observe(const sensor::DnsEvent& ev, const NameTraits& t) noexcept;
  /// Starts loading the table lines observe() and from_answer() will touch for `ev` (two
  /// rounds, as Detector::prefetch).
  void prefetch(const sensor::DnsEvent& ev, bool slots) const noexcept;
  /// The same, working out the name's traits.
  void observe(const sensor::DnsEvent& ev) noexcept { observe(ev, name_traits(*ev.qname, name_allow_)); }
  /// Whether an answer gave `client` the name with this hash in the last two minutes: a PTR
  /// target (its address lookup is a forward confirmation: mail servers, SSH and web servers)
  /// or a CNAME target (the client follows a chain, as DKIM checks of SendGrid or Amazon SES
  /// signatures do): a name the client did not choose.
  [[nodiscard]] bool from_answer(const IpAddr& client, std::uint64_t name_hash, Timestamp now) const noexcept;
  /// An ACME client validating DNS-01 challenges: `client` asked for an `_acme-challenge` name
  /// within kAcmeWindow. It polls the challenge, the zone's SOA and NS and the name servers'
  /// addresses on a fixed timer, at the zone's authoritative servers directly, until the
  /// record shows.
  [[nodiscard]] bool acme_polling(const IpAddr& client, Timestamp now) const noexcept;
  static constexpr Timestamp kAcmeWindow = 10 * kMinute;
  /// A registered domain looked up by `popular_clients` distinct clients or more.
  [[nodiscard]] bool popular(std::uint64_t domain_hash) const noexcept;
  /// Without network.resolvers: whether enough internal clients have been seen to know the
  /// site's de-facto resolvers, and whether `server` is one of them (used by at least
  /// `rogue_resolver.defacto_share` of the clients of the most used server, and by
  /// `learn_min_clients`), with its client count and the most used server's.
  struct Usage {
    bool baseline = false, defacto = false;
    double clients = 0, top_clients = 0;
    IpAddr top;
  };
  [[nodiscard]] Usage usage(const IpAddr& server) const noexcept;
  /// The de-facto resolvers learned so far (zero configuration), most used first, with their
  /// client counts.
  [[nodiscard]] std::vector<std::pair<IpAddr, double>> defacto_resolvers() const;
  /// Recomputes the de-facto resolvers (called once a second of packet time by the engine;
  /// does the work only when a learned server's users changed or such a server was evicted).
  void refresh() noexcept;

  [[nodiscard]] std::size_t learned_resolvers() const noexcept;
  /// Learned roles: clients holding each role (mail server, monitoring, container node).
  struct RoleCounts {
    std::size_t mail_servers = 0, monitoring = 0, container_nodes = 0;
  };
  [[nodiscard]] RoleCounts learned_roles() const noexcept;
  /// Up to `max` clients with a learned role, for the end-of-run summary.
  [[nodiscard]] std::vector<std::pair<IpAddr, std::uint8_t>> learned_clients(std::size_t max) const;
  /// Merges what this worker learned with the other workers' (-j N).
  void sync(SharedView& shared);

 private:
  struct Learned;
  struct RoleTable;
  struct Popularity;
  struct AnswerTargets;
  void learn_roles(const sensor::DnsEvent& ev, const NameTraits& t) noexcept;
  void remember_answer_targets(const sensor::DnsEvent& ev) noexcept;
  Prefixes internal_, resolvers_, secondaries_, mail_, scanners_, monitoring_, containers_;
  DomainList zones_;
  DomainList name_allow_;
  AllowMatcher allow_;
  Role role_;
  RoleSettings roles_;
  std::uint64_t learn_min_clients_;
  double defacto_share_;
  std::uint64_t popular_clients_;
  std::unique_ptr<Learned> learned_;
  std::unique_ptr<RoleTable> role_table_;
  std::unique_ptr<Popularity> popularity_;
  std::unique_ptr<AnswerTargets> answer_targets_;
  std::vector<IpAddr> shared_learned_;  // sorted, from the last sync
  std::uint64_t servers_seen_ = 0;  // SharedView::sync_servers: the version of the servers last read
  std::vector<std::pair<IpAddr, double>> defacto_;  // most used first (refresh / sync)
  bool shared_mode_ = false;
  bool acme_seen_ = false;  // some client asked for an _acme-challenge name (acme_polling)
};

}  // namespace dnsvigil::detect
