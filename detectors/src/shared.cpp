#include "dnsvigil/detect/shared.hpp"

#include <algorithm>
#include <limits>

namespace dnsvigil::detect {

std::vector<std::pair<sensor::IpAddr, double>> select_defacto(std::vector<std::pair<sensor::IpAddr, double>> used,
                                                             std::uint64_t min_clients, double share) {
  std::sort(used.begin(), used.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (used.empty() || used.front().second + 0.5 < static_cast<double>(min_clients)) return {};
  const double floor = std::max(static_cast<double>(min_clients) - 0.5, share * used.front().second);
  std::size_t n = 0;
  while (n < used.size() && used[n].second + 1e-9 >= floor) ++n;
  used.resize(n);
  return used;
}

void SharedView::sync_servers(const std::vector<ServerDelta>& deltas, std::uint64_t min_clients,
                              std::vector<sensor::IpAddr>& learned, double share,
                              std::vector<std::pair<sensor::IpAddr, double>>& defacto, std::uint64_t& seen) {
  std::lock_guard lock(mu_);
  for (const auto& d : deltas) {
    auto it = servers_.find(d.server);
    if (it == servers_.end()) {
      if (servers_.size() >= kMaxServers) continue;
      it = servers_.emplace(d.server, Server{}).first;
    }
    Server& s = it->second;
    s.clients.merge(d.clients);
    s.users.merge(d.users);
    s.iterative += d.iterative;
    if (!s.learned && (s.iterative >= 3 || s.clients.estimate() + 0.5 >= static_cast<double>(min_clients))) {
      s.learned = true;
      learned_.insert(std::upper_bound(learned_.begin(), learned_.end(), d.server), d.server);
    }
  }
  if (learned.size() != learned_.size()) learned = learned_;  // the set only grows: same size, same set
  if (!deltas.empty()) ++servers_version_;
  // Recomputed when any worker's deltas changed the servers since this caller's last look.
  if (seen == servers_version_) return;
  seen = servers_version_;
  std::vector<std::pair<sensor::IpAddr, double>> used;
  for (const auto& [server, st] : servers_) used.emplace_back(server, st.users.estimate());
  defacto = select_defacto(std::move(used), min_clients, share);
}

void SharedView::sync_domains(const std::vector<std::pair<std::uint64_t, DomainSketch>>& deltas,
                              std::uint64_t min_clients, std::vector<std::uint64_t>& popular) {
  std::lock_guard lock(mu_);
  // Index lines load eight domains ahead, their entries four ahead: the misses overlap.
  constexpr std::size_t kAhead = 8;
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    if (i + kAhead < deltas.size()) domains_.prefetch({deltas[i + kAhead].first});
    if (i + kAhead / 2 < deltas.size()) domains_.prefetch({deltas[i + kAhead / 2].first}, true);
    const auto& [h, sketch] = deltas[i];
    Domain& d = domains_.emplace({h}, 0, [](auto&) {}).first->value;
    d.clients.merge(sketch);
    if (!d.popular && d.clients.estimate() + 0.5 >= static_cast<double>(min_clients)) {
      d.popular = true;
      // A domain evicted and merged again may be popular already.
      const auto at = std::lower_bound(popular_.begin(), popular_.end(), h);
      if (at == popular_.end() || *at != h) popular_.insert(at, h);
    }
  }
  if (popular.size() != popular_.size()) popular = popular_;  // as above
}

double SharedView::sync_zone(std::uint64_t zone, std::uint32_t period, std::size_t buckets, const Sketch& names,
                             double threshold, const void* self, bool& raise) {
  std::lock_guard lock(mu_);
  Zone& z = zones_[zone];
  z.periods[period].merge(names);
  // Drop periods that left the window.
  while (!z.periods.empty() && z.periods.begin()->first + buckets <= period) z.periods.erase(z.periods.begin());
  Sketch acc;
  for (const auto& [p, s] : z.periods) acc.merge(s);
  const double est = acc.estimate();
  raise = false;
  if (est + 0.5 >= threshold) {
    if (z.owner == nullptr) z.owner = self;
    raise = z.owner == self;
  }
  return est;
}

bool SharedView::claim(std::uint64_t key, sensor::Timestamp now, sensor::Timestamp period) {
  std::lock_guard lock(mu_);
  if (claims_.size() >= kMaxClaims) std::erase_if(claims_, [&](const auto& c) { return c.second + period <= now; });
  auto [it, inserted] = claims_.try_emplace(key, now);
  if (inserted) {
    if (claims_.size() > kMaxClaims) claims_.erase(it);  // all claims live: raise, unremembered
    return true;
  }
  if (it->second + period > now) return false;
  it->second = now;
  return true;
}

void SharedView::set_workers(std::size_t workers) {
  std::lock_guard lock(mu_);
  reached_.assign(workers, 0);
}

void SharedView::end_barrier() {
  {
    std::lock_guard lock(mu_);
    barrier_ended_ = true;
  }
  tick_cv_.notify_all();
}

void SharedView::leave(std::size_t worker) {
  {
    std::lock_guard lock(mu_);
    if (worker < reached_.size()) reached_[worker] = std::numeric_limits<sensor::Timestamp>::max();
  }
  tick_cv_.notify_all();
}

void SharedView::wait_for(std::size_t worker, sensor::Timestamp second) {
  std::unique_lock lock(mu_);
  if (worker >= reached_.size()) return;
  reached_[worker] = std::max(reached_[worker], second);
  tick_cv_.notify_all();
  tick_cv_.wait(lock, [&] {
    return barrier_ended_ || std::all_of(reached_.begin(), reached_.end(), [&](auto r) { return r >= second; });
  });
}

}  // namespace dnsvigil::detect
