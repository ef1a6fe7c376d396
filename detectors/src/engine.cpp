#include "dnsvigil/detect/engine.hpp"

#include "dnsvigil/detect/intel.hpp"

namespace dnsvigil::detect {

Engine::Engine(const DetectorSettings& settings, AlertSink& out)
    : settings_(settings), policy_(settings), out_(out), detectors_(make_detectors(settings)) {}

Engine::~Engine() = default;

void Engine::on_event(const sensor::DnsEvent& ev) {
  if (ev.ts > now_) now_ = ev.ts;
  for (const auto& d : detectors_) d->prefetch(ev, true);
  policy_.observe(ev);
  if (policy_.allow().allows(ev)) return;
  Context ctx{policy_, *this, ev.ts, settings_.samples, policy_.resolver(ev.client())};
  for (auto& d : detectors_) d->on_event(ev, ctx);
}

void Engine::prefetch(const sensor::DnsEvent& ev) noexcept {
  for (const auto& d : detectors_) d->prefetch(ev, false);
}

void Engine::on_unanswered(const sensor::UnansweredQuery& q) {
  Context ctx{policy_, *this, q.expired_ts, settings_.samples};
  for (auto& d : detectors_) d->on_unanswered(q, ctx);
}

void Engine::on_flow(const sensor::FlowEvent& f) {
  if (f.ts > now_) now_ = f.ts;
  const auto& allow = policy_.allow();
  if (allow.clients.contains(f.src) || allow.servers.contains(f.dst)) return;
  Context ctx{policy_, *this, f.ts, settings_.samples};
  for (auto& d : detectors_) d->on_flow(f, ctx);
}

void Engine::on_tick(sensor::Timestamp now) {
  if (now > now_) now_ = now;
  Context ctx{policy_, *this, now_, settings_.samples};
  if (shared_ != nullptr) {
    policy_.sync(*shared_);
    for (auto& d : detectors_) d->sync(*shared_, ctx);
  }
  for (auto& d : detectors_) d->on_tick(ctx);
  flush_summaries(now_);
}

void Engine::finish() {
  on_tick(now_);
  // End of input: every suppression period ends now.
  for (auto& [period, table] : suppress_) table->drain([&](SupTable::Entry& e) { end_period(e); });
}

Engine::SupTable& Engine::table_for(Timestamp period) {
  for (auto& [p, t] : suppress_)
    if (p == period) return *t;
  suppress_.emplace_back(period, std::make_unique<SupTable>(settings_.suppression_keys));
  return *suppress_.back().second;
}

void Engine::end_period(SupTable::Entry& e) {
  auto it = latest_.find(e.key.key);
  if (it == latest_.end()) return;
  if (e.value.count != 0) {
    it->second.summary = true;
    it->second.suppressed = e.value.count;
    out_.emit(it->second);
    ++alerts_;
  }
  latest_.erase(it);
}

void Engine::raise(Alert&& a, std::uint64_t key, Timestamp period) {
  // Threat-intel tags for every rule's alerts, here once rather than in each rule.
  if (settings_.intel.lists) tag_alert(*settings_.intel.lists, a);
  SupTable& t = table_for(period != 0 ? period : settings_.suppression);
  // Entries are never touched after insertion: LRU order is first-alert order, so expiry ends
  // suppression periods oldest first. Out of room, the oldest period ends early (with its summary).
  // (find() leaves the LRU order alone; emplace() would move a repeat to the front.)
  SupTable::Entry* e = t.find({key});
  if (e == nullptr) {
    t.emplace({key}, a.ts, [&](SupTable::Entry& victim) { end_period(victim); });
    out_.emit(a);
    ++alerts_;
    return;
  }
  ++e->value.count;
  ++suppressed_;
  latest_[key] = std::move(a);
}

void Engine::flush_summaries(Timestamp now) {
  for (auto& [period, table] : suppress_) table->expire(now - period, [&](SupTable::Entry& e) { end_period(e); });
}

std::vector<DetectorStats> Engine::stats() const {
  std::vector<DetectorStats> out;
  for (const auto& d : detectors_) out.push_back(d->stats());
  return out;
}

}  // namespace dnsvigil::detect
