#include "dnsvigil/detect/policy.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "dnsvigil/detect/sketch.hpp"
#include "dnsvigil/detect/window.hpp"
#include "dnsvigil/dnsparse/name.hpp"
#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::detect {

DomainList::DomainList(const std::vector<std::string>& v) {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> entries;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string d = v[i];
    std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    while (!d.empty() && d.back() == '.') d.pop_back();
    if (d.empty()) continue;
    entries.emplace_back(hash_of(d), static_cast<std::uint32_t>(i));
    min_len_ = entries.size() == 1 ? d.size() : std::min(min_len_, d.size());
    max_len_ = std::max(max_len_, d.size());
  }
  // By hash, then by position: of equal entries the first listed is found first.
  std::sort(entries.begin(), entries.end());
  hashes_.reserve(entries.size());
  ids_.reserve(entries.size());
  for (const auto& [h, id] : entries) {
    hashes_.push_back(h);
    ids_.push_back(id);
  }
}

std::uint64_t DomainList::hash_of(std::string_view s) noexcept { return XXH3_64bits(s.data(), s.size()); }

std::pair<std::size_t, std::size_t> DomainList::equal(std::uint64_t h) const noexcept {
  const auto [lo, hi] = std::equal_range(hashes_.begin(), hashes_.end(), h);
  return {static_cast<std::size_t>(lo - hashes_.begin()), static_cast<std::size_t>(hi - hashes_.begin())};
}

bool DomainList::matches(std::string_view name) const noexcept {
  if (hashes_.empty() || name.size() < min_len_) return false;
  // The name itself, then every suffix after a dot.
  for (std::size_t start = 0; start < name.size();) {
    const std::size_t len = name.size() - start;
    if (len < min_len_) return false;
    if (len <= max_len_) {
      const std::uint64_t h = hash_of(name.substr(start));
      if (std::binary_search(hashes_.begin(), hashes_.end(), h)) return true;
    }
    const std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) return false;
    start = dot + 1;
  }
  return false;
}

bool DomainList::matches(const sensor::QueryName& q) const noexcept {
  if (hashes_.empty()) return false;
  const std::size_t n = q.suffix_count();
  if (n < q.label_starts().n) return matches(q.lower());  // deeper than the precomputed suffixes
  for (std::size_t k = 1; k <= n; ++k)
    if (std::binary_search(hashes_.begin(), hashes_.end(), q.suffix_hash(k))) return true;
  return false;
}

bool AllowMatcher::allows(const sensor::DnsEvent& ev) const noexcept {
  if (!clients.empty() && clients.contains(ev.client())) return true;
  if (!servers.empty() && servers.contains(ev.server())) return true;
  return !domains.empty() && !ev.qname->empty() && domains.matches(*ev.qname);
}

std::string role_names(std::uint8_t roles) {
  static constexpr std::pair<std::uint8_t, std::string_view> kNames[] = {
      {kRoleResolver, "resolver"},   {kRoleMailServer, "mail_server"}, {kRoleMonitoring, "monitoring"},
      {kRoleContainerNode, "container_node"}, {kRoleScanner, "scanner"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((roles & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

namespace {

// A decimal label 0..255 without leading zeros ("0" allowed).
bool octet_label(std::string_view l) noexcept {
  if (l.empty() || l.size() > 3 || (l.size() > 1 && l[0] == '0')) return false;
  unsigned v = 0;
  for (const char c : l) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 255;
}

bool nibble_label(std::string_view l) noexcept {
  return l.size() == 1 && ((l[0] >= '0' && l[0] <= '9') || (l[0] >= 'a' && l[0] <= 'f'));
}

// The first `n` labels of `lower` (label starts `ls`) all satisfy `pred`.
template <class Pred>
bool leading_labels(std::string_view lower, const sensor::LabelStarts& ls, std::size_t n, Pred pred) noexcept {
  if (ls.n <= n) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (!pred(lower.substr(ls.start[i], ls.start[i + 1] - ls.start[i] - 1u))) return false;
  return true;
}

int hex_value(char c) noexcept { return c <= '9' ? c - '0' : c - 'a' + 10; }

}  // namespace

bool standard_service_name(std::string_view lower) noexcept {
  if (lower.find('_') == std::string_view::npos) return false;
  if (lower.find("._domainkey.") != std::string_view::npos) return true;  // DKIM selector
  if (lower.empty() || lower[0] != '_') return false;
  for (const std::string_view p : {"_dmarc.", "_mta-sts.", "_smtp._tls.", "_acme-challenge.", "_spf.", "_domainkey.",
                                   "_bimi.", "_adsp._domainkey.", "_autodiscover._tcp."})
    if (lower.starts_with(p)) return true;
  // SRV owner names: _service._proto.name (RFC 2782), service names of at most 15 characters
  // (RFC 6335), so that a long label of data with an underscore is no service name.
  const std::size_t dot = lower.find('.');
  if (dot == std::string_view::npos || dot > 16) return false;
  const std::string_view proto = lower.substr(dot + 1, 5);
  return proto == "_tcp." || proto == "_udp." || proto == "_tls." || lower.substr(dot + 1, 6) == "_sctp.";
}

bool reverse_address(std::string_view lower, IpAddr& out) noexcept {
  const sensor::LabelStarts ls = sensor::LabelStarts::of(lower);
  if (lower.ends_with(".in-addr.arpa") && ls.n == 6 && leading_labels(lower, ls, 4, octet_label)) {
    std::uint8_t b[4];
    for (std::size_t i = 0; i < 4; ++i) {
      unsigned v = 0;
      for (std::size_t j = ls.start[i]; lower[j] != '.'; ++j) v = v * 10 + static_cast<unsigned>(lower[j] - '0');
      b[3 - i] = static_cast<std::uint8_t>(v);
    }
    out = IpAddr::v4(b);
    return true;
  }
  if (lower.ends_with(".ip6.arpa") && ls.n == 34 && leading_labels(lower, ls, 32, nibble_label)) {
    std::uint8_t b[16] = {};
    for (std::size_t i = 0; i < 32; ++i) {
      const int v = hex_value(lower[ls.start[i]]);
      const std::size_t nib = 31 - i;  // the first label is the lowest nibble
      b[nib / 2] = static_cast<std::uint8_t>(b[nib / 2] | (nib % 2 == 0 ? v << 4 : v));
    }
    out = IpAddr::v6(b);
    return true;
  }
  return false;
}

NameTraits name_traits(const sensor::QueryName& q, const DomainList& allow) noexcept {
  NameTraits t;
  if (q.empty()) return t;
  const std::string_view lower = q.lower();
  t.service = q.service();
  t.allowlisted = !allow.empty() && allow.matches(q);
  t.service_label = standard_service_name(lower);
  t.acme = lower.starts_with("_acme-challenge.");
  t.public_tld = q.public_tld();
  const sensor::LabelStarts& ls = q.label_starts();
  // Blocklist-style lookups: a reversed IPv4 address (4 labels) or IPv6 address (32 nibbles)
  // in front of a zone that is not the reverse tree.
  const std::string_view domain = q.registered_domain();
  const bool arpa = domain == "arpa" || domain.ends_with(".arpa");
  if (!arpa && lower[0] >= '0' && lower[0] <= '9') t.reversed_ip = leading_labels(lower, ls, 4, octet_label);
  std::size_t ip_labels = 4;
  if (!t.reversed_ip && !arpa && ls.n > 32 && nibble_label(lower.substr(0, 1)) && lower[1] == '.') {
    t.reversed_ip = leading_labels(lower, ls, 32, nibble_label);
    ip_labels = 32;
  }
  // ... in front of a blocklist zone, not in front of a long name that could carry data.
  if (t.reversed_ip) {
    const std::string_view zone = lower.substr(ls.start[ip_labels]);
    t.reversed_ip = ls.n - ip_labels <= 4 && zone.size() <= 48;
  }
  // A catalogued service's names are never a search list's: `example.com.dbl.spamhaus.org` is
  // a domain blocklist lookup, not example.com tried with a search suffix.
  if (t.service == nullptr) t.expansion = q.search_suffix();
  return t;
}

// Internal servers answering internal clients, with a small distinct count of those clients;
// and every server internal clients send recursive queries to (the zero-configuration policy).
struct Policy::Learned {
  struct Key {
    IpAddr server;
  };
  struct State {
    SharedView::ClientSketch clients;  // internal clients it answered
    SharedView::ClientSketch users;    // internal clients sending it recursive queries
    std::uint32_t iterative;  // RD=0 queries to outside servers
    std::uint32_t iterative_synced;
    bool resolver;
    bool dirty;     // changed since the last sync
  };
  sensor::LruTable<Key, State> table{4096};
  std::size_t resolvers = 0;
  std::vector<IpAddr> dirty;  // servers to push at the next sync (bounded by the table)
  bool users_changed = false;  // since the last refresh: the de-facto resolvers may differ

  State& at(const IpAddr& server, Timestamp ts) {
    auto [e, inserted] = table.emplace({server}, ts, [&](auto& victim) {
      if (victim.value.resolver) --resolvers;
      if (victim.value.users.estimate() > 0) users_changed = true;
    });
    (void)inserted;
    return e->value;
  }

  void touched(State& st, const IpAddr& server) {
    if (st.dirty || dirty.size() >= 4096) return;
    st.dirty = true;
    dirty.push_back(server);
  }
};

// Per client, the evidence of the roles it may hold. Only clients that show some get an entry.
struct Policy::RoleTable {
  static constexpr std::size_t kSet = 16;
  struct State {
    std::uint32_t mail_domains[kSet];  // fingerprints of domains with sender-policy lookups
    std::uint32_t mail_checks[kSet];   // ... of blocklist / outside-PTR lookups, and policy names asked again
    // Domains with sender-policy lookups, direct-mapped: 16 fingerprint bits and the second
    // (of packet time, modulo 2^16) the domain was first asked in this slot.
    std::uint16_t policy_fp[64], policy_seen[64];
    std::uint8_t n_domains, n_checks;
    std::uint32_t ptr_names[64];       // distinct PTR names in the current period (exact, up to 64)
    std::uint32_t ptr_period;
    std::uint8_t n_ptr;
    std::uint32_t bases[8], suffixes[8];  // recent search expansions: base and suffix fingerprints
    std::uint8_t multi[8];                // the base was tried with two or more suffixes
    std::uint8_t n_bases, next_base, n_multi;
    std::uint8_t roles;                   // learned
    Timestamp acme_last;                  // last _acme-challenge query (an ACME client's polling)
  };
  struct Key {
    IpAddr client;
  };
  sensor::LruTable<Key, State> table{16384};
  Policy::RoleCounts counts;

  void forget(const State& st) noexcept {
    if (st.roles & kRoleMailServer) --counts.mail_servers;
    if (st.roles & kRoleMonitoring) --counts.monitoring;
    if (st.roles & kRoleContainerNode) --counts.container_nodes;
  }
  void learned(State& st, std::uint8_t bit) noexcept {
    if (st.roles & bit) return;
    st.roles = static_cast<std::uint8_t>(st.roles | bit);
    if (bit == kRoleMailServer) ++counts.mail_servers;
    if (bit == kRoleMonitoring) ++counts.monitoring;
    if (bit == kRoleContainerNode) ++counts.container_nodes;
  }
  // Adds `f` to a small set; returns the set's size.
  static std::uint8_t add(std::uint32_t* set, std::uint8_t& n, std::uint32_t f) noexcept {
    for (std::uint8_t i = 0; i < n; ++i)
      if (set[i] == f) return n;
    if (n < kSet) set[n++] = f;
    return n;
  }
};

// Distinct clients per registered domain (popular domains are nobody's beacon and not a
// target of enumeration by volume alone).
struct Policy::Popularity {
  struct Key {
    std::uint64_t domain;
  };
  struct State {
    SharedView::DomainSketch clients;
    bool popular;
    bool dirty;
  };
  explicit Popularity(std::size_t capacity) : table(capacity) {}
  sensor::LruTable<Key, State> table;
  std::vector<std::uint64_t> dirty;
  std::vector<std::uint64_t> shared_popular;  // sorted, from the last sync
};

// Names answers gave to clients (PTR targets, CNAME targets), direct-mapped by (client, name):
// key and packet time.
struct Policy::AnswerTargets {
  static constexpr std::size_t kSlots = 8192;
  static constexpr Timestamp kKeep = 120 * kNanosPerSecond;
  std::vector<std::uint64_t> key = std::vector<std::uint64_t>(kSlots);
  std::vector<Timestamp> when = std::vector<Timestamp>(kSlots);
  static std::uint64_t of(const IpAddr& client, std::uint64_t name_hash) noexcept {
    return XXH3_64bits_withSeed(client.bytes.data(), client.bytes.size(), name_hash) | 1u;
  }
};

Policy::Policy(const DetectorSettings& s)
    : internal_(s.network.internal),
      resolvers_(s.network.resolvers),
      secondaries_(s.network.secondaries),
      mail_(s.network.mail_servers),
      scanners_(s.network.scanners),
      monitoring_(s.roles.monitoring),
      containers_(s.roles.container_nodes),
      zones_(s.network.monitored_zones),
      name_allow_([&] {
        std::vector<std::string> d = s.enumeration.allow.domains;
        for (const auto* l : {&s.recon_sweep.allow.domains, &s.tunneling.allow.domains, &s.beaconing.allow.domains})
          d.insert(d.end(), l->begin(), l->end());
        return d;
      }()),
      allow_(s.allow),
      role_(s.network.role),
      roles_(s.roles),
      learn_min_clients_(s.rogue_resolver.learn_min_clients),
      defacto_share_(s.rogue_resolver.defacto_share),
      popular_clients_(s.beaconing.popular_clients),
      learned_(std::make_unique<Learned>()),
      role_table_(std::make_unique<RoleTable>()),
      popularity_(std::make_unique<Popularity>(s.beaconing.max_keys)),
      answer_targets_(std::make_unique<AnswerTargets>()) {}

Policy::~Policy() = default;

bool Policy::resolver(const IpAddr& a) const noexcept {
  if (resolvers_.contains(a)) return true;
  if (!resolvers_.empty()) return false;
  const auto* e = learned_->table.find({a});
  if (e != nullptr && e->value.resolver) return true;
  return !shared_learned_.empty() && std::binary_search(shared_learned_.begin(), shared_learned_.end(), a);
}

std::uint8_t Policy::roles(const IpAddr& a) const noexcept {
  std::uint8_t r = 0;
  if (resolver(a)) r |= kRoleResolver;
  if (mail_.contains(a)) r |= kRoleMailServer;
  if (monitoring_.contains(a)) r |= kRoleMonitoring;
  if (containers_.contains(a)) r |= kRoleContainerNode;
  if (scanners_.contains(a)) r |= kRoleScanner;
  if (const auto* e = role_table_->table.find({a})) r |= e->value.roles;
  return r;
}

void Policy::sync(SharedView& shared) {
  shared_mode_ = true;
  // Popular domains, from every worker's clients.
  std::vector<std::pair<std::uint64_t, SharedView::DomainSketch>> domains;
  domains.reserve(popularity_->dirty.size());
  for (const std::uint64_t h : popularity_->dirty) {
    auto* d = popularity_->table.find({h});
    if (d == nullptr) continue;
    d->value.dirty = false;
    domains.emplace_back(h, d->value.clients);
  }
  popularity_->dirty.clear();
  shared.sync_domains(domains, popular_clients_, popularity_->shared_popular);
  if (!resolvers_.empty()) return;
  std::vector<SharedView::ServerDelta> deltas;
  for (const IpAddr& server : learned_->dirty) {
    auto* e = learned_->table.find({server});
    if (e == nullptr) continue;
    Learned::State& st = e->value;
    st.dirty = false;
    deltas.push_back({server, st.clients, st.users, st.iterative - st.iterative_synced});
    st.iterative_synced = st.iterative;
  }
  learned_->dirty.clear();
  shared.sync_servers(deltas, learn_min_clients_, shared_learned_, defacto_share_, defacto_, servers_seen_);
}

void Policy::refresh() noexcept {
  // With several workers the de-facto resolvers come from the shared view (sync).
  if (shared_mode_ || !resolvers_.empty() || !learned_->users_changed) return;
  learned_->users_changed = false;
  std::vector<std::pair<IpAddr, double>> used;
  learned_->table.for_each([&](auto& e) {
    if (e.value.users.estimate() > 0) used.emplace_back(e.key.server, e.value.users.estimate());
  });
  defacto_ = select_defacto(std::move(used), learn_min_clients_, defacto_share_);
}

Policy::Usage Policy::usage(const IpAddr& server) const noexcept {
  Usage u;
  if (defacto_.empty()) return u;
  u.baseline = true;
  u.top = defacto_.front().first;
  u.top_clients = defacto_.front().second;
  for (const auto& [s, n] : defacto_)
    if (s == server) {
      u.defacto = true;
      u.clients = n;
    }
  if (!u.defacto)
    if (const auto* e = learned_->table.find({server})) u.clients = e->value.users.estimate();
  return u;
}

std::vector<std::pair<IpAddr, double>> Policy::defacto_resolvers() const { return defacto_; }

std::size_t Policy::learned_resolvers() const noexcept { return learned_->resolvers; }

Policy::RoleCounts Policy::learned_roles() const noexcept { return role_table_->counts; }

std::vector<std::pair<IpAddr, std::uint8_t>> Policy::learned_clients(std::size_t max) const {
  std::vector<std::pair<IpAddr, std::uint8_t>> out;
  role_table_->table.for_each([&](auto& e) {
    if (e.value.roles != 0) out.emplace_back(e.key.client, e.value.roles);
  });
  std::sort(out.begin(), out.end());
  if (out.size() > max) out.resize(max);
  return out;
}

namespace {
bool first_answer_is_cname(const dnsparse::Message& m) noexcept {
  const auto answers = m.records(dnsparse::Section::answer);
  return answers.begin() != answers.end() && (*answers.begin()).type == dnsparse::rrtype::CNAME;
}
}  // namespace

void Policy::remember_answer_targets(const sensor::DnsEvent& ev) noexcept {
  const dnsparse::Message& m = *ev.msg;
  char text[dnsparse::limits::kMaxNameText + 1];
  for (const auto& r : m.records(dnsparse::Section::answer)) {
    if (r.type != dnsparse::rrtype::PTR && r.type != dnsparse::rrtype::CNAME) continue;
    const auto n = dnsparse::name_to_text(m.wire(), r.rdata, std::span<char>(text, sizeof text));
    if (!n.ok()) continue;
    // The same form as QueryName::lower() and its hash.
    for (std::size_t i = 0; i < n.value; ++i)
      if (text[i] >= 'A' && text[i] <= 'Z') text[i] = static_cast<char>(text[i] | 0x20);
    const std::uint64_t k = AnswerTargets::of(ev.dst, XXH3_64bits(text, n.value));
    const std::size_t slot = k & (AnswerTargets::kSlots - 1);
    answer_targets_->key[slot] = k;
    answer_targets_->when[slot] = ev.ts;
  }
}

void Policy::prefetch(const sensor::DnsEvent& ev, bool slots) const noexcept {
  if (ev.is_response() || ev.qname->empty()) return;
  popularity_->table.prefetch({ev.qname->domain_hash()}, slots);
  if (!slots) {
    const std::size_t slot = AnswerTargets::of(ev.src, ev.qname->hash()) & (AnswerTargets::kSlots - 1);
    __builtin_prefetch(&answer_targets_->key[slot]);
    __builtin_prefetch(&answer_targets_->when[slot]);
  }
}

bool Policy::from_answer(const IpAddr& client, std::uint64_t name_hash, Timestamp now) const noexcept {
  const std::uint64_t k = AnswerTargets::of(client, name_hash);
  const std::size_t slot = k & (AnswerTargets::kSlots - 1);
  return answer_targets_->key[slot] == k && now - answer_targets_->when[slot] <= AnswerTargets::kKeep;
}

bool Policy::acme_polling(const IpAddr& client, Timestamp now) const noexcept {
  // Most networks have no ACME client validating over DNS: no table look-up per event there.
  if (!acme_seen_) return false;
  const auto* e = role_table_->table.find({client});
  return e != nullptr && e->value.acme_last != 0 && now - e->value.acme_last <= kAcmeWindow;
}

bool Policy::popular(std::uint64_t domain_hash) const noexcept {
  if (const auto* d = popularity_->table.find({domain_hash}); d != nullptr && d->value.popular) return true;
  const auto& sp = popularity_->shared_popular;
  return !sp.empty() && std::binary_search(sp.begin(), sp.end(), domain_hash);
}

void Policy::learn_roles(const sensor::DnsEvent& ev, const NameTraits& t) noexcept {
  // Roles describe the site's own hosts: an outside client (a scanner, an attacker imitating a
  // mail server's lookups) learns none.
  if (!roles_.learn || !internal(ev.src)) return;
  // A resolver shows every pattern of the clients it forwards for; it holds its own role.
  if (resolver(ev.src)) return;
  const sensor::QueryName& q = *ev.qname;
  const std::uint16_t qtype = ev.msg->question().type;
  const std::string_view lower = q.lower();
  using namespace dnsparse::rrtype;
  // Which evidence, if any, this query is.
  const bool txt = qtype == TXT || qtype == SPF;
  const bool sender_policy = qtype == MX || (txt && (lower == q.registered_domain() || lower.starts_with("_dmarc.") ||
                                                     lower.find("._domainkey.") != std::string_view::npos));
  IpAddr addr;
  const bool reverse = qtype == PTR && reverse_address(lower, addr);
  const bool listed = t.service != nullptr && (t.service->kind == sensor::ServiceKind::blocklist ||
                                               t.service->kind == sensor::ServiceKind::allowlist);
  const bool check = listed || t.reversed_ip || (reverse && !internal(addr));
  const bool ptr = reverse || (qtype == PTR && q.registered_domain().ends_with(".arpa"));
  if (!sender_policy && !check && !ptr && t.expansion == 0 && !t.acme) return;

  auto [e, inserted] = role_table_->table.emplace({ev.src}, ev.ts, [&](auto& victim) { role_table_->forget(victim.value); });
  (void)inserted;
  RoleTable::State& st = e->value;
  if (t.acme) {
    st.acme_last = ev.ts;
    acme_seen_ = true;
  }
  const auto fp = [](std::uint64_t h) { return static_cast<std::uint32_t>(h ^ (h >> 32)) | 1u; };
  if (sender_policy) {
    RoleTable::add(st.mail_domains, st.n_domains, fp(q.domain_hash()));
    // A mail server asks again for the policies of the domains it keeps receiving mail from,
    // a while later (not as a retry, nor as the MX-TXT-DMARC lookups of one message); a
    // sweep asks about each domain once.
    const std::uint64_t dh = q.domain_hash();
    const std::size_t slot = dh & 63;
    const auto f = static_cast<std::uint16_t>((dh >> 48) | 1u);
    const auto now_s = static_cast<std::uint16_t>(ev.ts / kNanosPerSecond);
    if (st.policy_fp[slot] != f) {
      st.policy_fp[slot] = f;
      st.policy_seen[slot] = now_s;
    } else if (static_cast<std::uint16_t>(now_s - st.policy_seen[slot]) >= 10) {
      RoleTable::add(st.mail_checks, st.n_checks, fp(dh));
    }
  }
  if (check) RoleTable::add(st.mail_checks, st.n_checks, fp(q.hash()));
  if (st.n_domains >= roles_.mail_domains && st.n_checks >= roles_.mail_checks) role_table_->learned(st, kRoleMailServer);
  if (ptr) {
    const std::uint32_t p = period_of(ev.ts, 10 * kMinute);
    if (st.ptr_period != p) {
      st.ptr_period = p;
      st.n_ptr = 0;
    }
    const std::uint32_t f = fp(q.hash());
    if (std::find(st.ptr_names, st.ptr_names + st.n_ptr, f) == st.ptr_names + st.n_ptr && st.n_ptr < 64)
      st.ptr_names[st.n_ptr++] = f;
    if (st.n_ptr >= roles_.monitoring_ptr) role_table_->learned(st, kRoleMonitoring);
  }
  if (t.expansion != 0) {
    // The same name tried with several search suffixes is a stub resolver's search list.
    const std::string_view base = lower.substr(0, t.expansion - 1u), suffix = lower.substr(t.expansion);
    const std::uint32_t bf = fp(XXH3_64bits(base.data(), base.size()));
    const std::uint32_t sf = fp(XXH3_64bits(suffix.data(), suffix.size()));
    bool found = false;
    for (std::uint8_t i = 0; i < st.n_bases; ++i) {
      if (st.bases[i] != bf) continue;
      found = true;
      if (st.suffixes[i] != sf && st.multi[i] == 0) {
        st.multi[i] = 1;
        ++st.n_multi;
      }
    }
    if (!found) {
      const std::uint8_t i = st.n_bases < 8 ? st.n_bases++ : st.next_base;
      st.next_base = static_cast<std::uint8_t>((i + 1) % 8);
      st.bases[i] = bf;
      st.suffixes[i] = sf;
      st.multi[i] = 0;
    }
    if (st.n_multi >= roles_.container_bases) role_table_->learned(st, kRoleContainerNode);
  }
}

void Policy::observe(const sensor::DnsEvent& ev, const NameTraits& t) noexcept {
  const bool query = !ev.is_response();
  // PTR answers, and answers that start with a CNAME (a chain comes first in the section).
  if (!query && ev.msg->header().ancount != 0 &&
      (ev.msg->question().type == dnsparse::rrtype::PTR || first_answer_is_cname(*ev.msg)))
    remember_answer_targets(ev);
  if (query && !ev.qname->empty()) {
    // Popularity of registered domains among clients (reverse and service names are not
    // counted: they say nothing about a domain's users).
    if (!t.service_label && !ev.qname->registered_domain().ends_with(".arpa")) {
      const std::uint64_t dh = ev.qname->domain_hash();
      auto [d, fresh] = popularity_->table.emplace({dh}, ev.ts, [](auto&) {});
      (void)fresh;
      if (d->value.clients.add(XXH3_64bits(ev.src.bytes.data(), ev.src.bytes.size()))) {
        d->value.popular = d->value.clients.estimate() + 0.5 >= static_cast<double>(popular_clients_);
        if (!d->value.dirty && popularity_->dirty.size() < 65536) {
          d->value.dirty = true;
          popularity_->dirty.push_back(dh);
        }
      }
    }
    learn_roles(ev, t);
  }
  // Resolver learning only when none is configured.
  if (!resolvers_.empty()) return;
  // A server's dnstap of its own upstream work (RESOLVER_*, FORWARDER_*): it is a resolver.
  if (ev.upstream() && query) {
    Learned::State& st = learned_->at(ev.src, ev.ts);
    if (!st.resolver) {
      st.resolver = true;
      st.iterative = std::max<std::uint32_t>(st.iterative, 3);  // shared with other workers as such
      ++learned_->resolvers;
      learned_->touched(st, ev.src);
    }
    return;
  }
  if (query && (ev.dport == 53 || ev.dport == 853) && internal(ev.src) && ev.src != ev.dst) {
    const bool rd = ev.msg->header().rd();
    // Iterative resolution: a recursive resolver asks outside servers with RD=0, stubs never do.
    if (!rd && (ev.dport != 53 || internal(ev.dst))) return;
    Learned::State& st = learned_->at(rd ? ev.dst : ev.src, ev.ts);
    if (rd) {
      // The servers internal clients send recursive queries to: the site's de-facto resolvers.
      if (st.users.add(XXH3_64bits(ev.src.bytes.data(), ev.src.bytes.size()))) {
        learned_->users_changed = true;
        learned_->touched(st, ev.dst);
      }
      return;
    }
    learned_->touched(st, ev.src);
    if (!st.resolver && ++st.iterative >= 3) {
      st.resolver = true;
      ++learned_->resolvers;
    }
    return;
  }
  if (!ev.is_response() || ev.sport != 53) return;
  const IpAddr& server = ev.src;
  const IpAddr& client = ev.dst;
  if (server == client || !internal(server) || !internal(client)) return;
  Learned::State& st = learned_->at(server, ev.ts);
  const bool changed = st.clients.add(XXH3_64bits(client.bytes.data(), client.bytes.size()));
  if (changed) learned_->touched(st, server);
  if (changed && !st.resolver && st.clients.estimate() + 0.5 >= static_cast<double>(learn_min_clients_)) {
    st.resolver = true;
    ++learned_->resolvers;
  }
}

}  // namespace dnsvigil::detect
