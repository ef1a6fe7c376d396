#include "dnsvigil/detect/policy.hpp"

#include <xxhash.h>

#include <algorithm>

#include "dnsvigil/detect/sketch.hpp"

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

// Internal servers answering internal clients, with a small distinct count of those clients.
struct Policy::Learned {
  struct Key {
    IpAddr server;
  };
  struct State {
    Hll<5> clients;  // 32 registers: enough to tell 1 from 3 from 10
    std::uint32_t iterative;  // RD=0 queries to outside servers
    std::uint32_t iterative_synced;
    bool resolver;
    bool dirty;     // changed since the last sync
  };
  sensor::LruTable<Key, State> table{4096};
  std::size_t resolvers = 0;
  std::vector<IpAddr> dirty;  // servers to push at the next sync (bounded by the table)

  void touched(State& st, const IpAddr& server) {
    if (st.dirty || dirty.size() >= 4096) return;
    st.dirty = true;
    dirty.push_back(server);
  }
};

Policy::Policy(const DetectorSettings& s)
    : internal_(s.network.internal),
      resolvers_(s.network.resolvers),
      secondaries_(s.network.secondaries),
      mail_(s.network.mail_servers),
      scanners_(s.network.scanners),
      zones_(s.network.monitored_zones),
      allow_(s.allow),
      role_(s.network.role),
      learn_min_clients_(s.rogue_resolver.learn_min_clients),
      learned_(std::make_unique<Learned>()) {}

Policy::~Policy() = default;

bool Policy::resolver(const IpAddr& a) const noexcept {
  if (resolvers_.contains(a)) return true;
  if (!resolvers_.empty()) return false;
  const auto* e = learned_->table.find({a});
  if (e != nullptr && e->value.resolver) return true;
  return !shared_learned_.empty() && std::binary_search(shared_learned_.begin(), shared_learned_.end(), a);
}

void Policy::sync(SharedView& shared) {
  if (!resolvers_.empty()) return;
  std::vector<SharedView::ServerDelta> deltas;
  for (const IpAddr& server : learned_->dirty) {
    auto* e = learned_->table.find({server});
    if (e == nullptr) continue;
    Learned::State& st = e->value;
    st.dirty = false;
    deltas.push_back({server, st.clients, st.iterative - st.iterative_synced});
    st.iterative_synced = st.iterative;
  }
  learned_->dirty.clear();
  shared.sync_servers(deltas, learn_min_clients_, shared_learned_);
}

std::size_t Policy::learned_resolvers() const noexcept { return learned_->resolvers; }

void Policy::observe(const sensor::DnsEvent& ev) noexcept {
  // Only needed when no resolver is configured.
  if (!resolvers_.empty()) return;
  // Iterative resolution: a recursive resolver asks outside servers with RD=0, stubs never do.
  if (!ev.is_response() && !ev.msg->header().rd() && ev.dport == 53 && internal(ev.src) && !internal(ev.dst)) {
    auto [e, inserted] = learned_->table.emplace({ev.src}, ev.ts, [&](auto& victim) {
      if (victim.value.resolver) --learned_->resolvers;
    });
    (void)inserted;
    Learned::State& st = e->value;
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
  auto [e, inserted] = learned_->table.emplace({server}, ev.ts, [&](auto& victim) {
    if (victim.value.resolver) --learned_->resolvers;
  });
  (void)inserted;
  Learned::State& st = e->value;
  const bool changed = st.clients.add(XXH3_64bits(client.bytes.data(), client.bytes.size()));
  if (changed) learned_->touched(st, server);
  if (changed && !st.resolver && st.clients.estimate() + 0.5 >= static_cast<double>(learn_min_clients_)) {
    st.resolver = true;
    ++learned_->resolvers;
  }
}

}  // namespace dnsvigil::detect
