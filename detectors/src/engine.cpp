#include "dnsvigil/detect/engine.hpp"

#include <xxhash.h>

#include <algorithm>

#include "dnsvigil/detect/intel.hpp"

namespace dnsvigil::detect {

namespace {

// The rule names of the precedence table (docs/detectors.md, "One activity, one alert").
constexpr std::string_view kTunneling = "tunneling", kEnumeration = "enumeration", kBeaconing = "beaconing",
                           kReconSweep = "recon_sweep";

std::string trigger_of(const Alert& a) {
  for (const auto& [k, v] : a.evidence)
    if (k == "trigger" && std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  return {};
}

// An alert about a client as a whole (no domain): enumeration's NXDOMAIN burst.
bool client_level(const Alert& a) { return a.rule->name == kEnumeration && trigger_of(a) == "nxdomain_burst"; }

// Whether an alert of rule `higher` on the same activity explains `lower`: a tunnel makes many
// distinct names (enumeration), polls (beaconing) and asks for TXT/NULL/MX/SRV (recon_sweep);
// an enumeration's failed guesses are its NXDOMAIN burst.
bool explains(std::string_view higher, const Alert& lower) {
  const std::string_view l = lower.rule->name;
  if (higher == kTunneling) return l == kEnumeration || l == kBeaconing || l == kReconSweep;
  if (higher == kEnumeration) return client_level(lower);
  return false;
}

// Rules whose alerts can explain others (anchors), and rules whose alerts may be explained.
bool can_anchor(const Alert& a) {
  return a.rule->name == kTunneling || (a.rule->name == kEnumeration && !client_level(a));
}
bool can_be_explained(const Alert& a) {
  return a.rule->name == kEnumeration || a.rule->name == kBeaconing || a.rule->name == kReconSweep;
}

// The roles whose job the alert describes: a mail server sweeps sender policies (recon_sweep).
bool role_explains(const Alert& a, std::uint8_t roles) {
  return (roles & kRoleMailServer) != 0 && a.rule->name == kReconSweep;
}

std::uint64_t domain_key(const Alert& a) {
  return a.registered_domain.empty() ? 0 : XXH3_64bits(a.registered_domain.data(), a.registered_domain.size());
}

}  // namespace

Engine::Engine(const DetectorSettings& settings, AlertSink& out)
    : settings_(settings),
      policy_(settings),
      out_(out),
      detectors_(make_detectors(settings)),
      anchors_(settings.suppression_keys) {}

Engine::~Engine() = default;

void Engine::publish() {
  if (shared_ == nullptr) return;
  Context ctx{policy_, *this, now_, settings_.samples};
  policy_.sync(*shared_);
  for (auto& d : detectors_) d->sync(*shared_, ctx);
}

void Engine::on_event(const sensor::DnsEvent& ev) {
  if (ev.ts > now_) now_ = ev.ts;
  policy_.prefetch(ev, true);
  for (const auto& d : detectors_) d->prefetch(ev, true);
  NameTraits traits = name_traits(*ev.qname, policy_.name_allow());
  // Lookups of a name a PTR answer just gave the client: forward confirmation (A/AAAA), the
  // SPF check of a HELO name (TXT). The client did not choose the name.
  if (!ev.is_response() && !ev.qname->empty()) traits.from_answer = policy_.from_answer(ev.src, ev.qname->hash(), ev.ts);
  policy_.observe(ev, traits);
  // A recursive server's own upstream queries (dnstap RESOLVER_* and FORWARDER_*) taught the
  // policy that it is a resolver; they are no client's behaviour.
  if (ev.upstream()) return;
  if (policy_.allow().allows(ev)) return;
  Context ctx{policy_, *this, ev.ts, settings_.samples, policy_.resolver(ev.client()), &traits, &ev.client()};
  for (auto& d : detectors_) d->on_event(ev, ctx);
}

void Engine::prefetch(const sensor::DnsEvent& ev) noexcept {
  policy_.prefetch(ev, false);
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
  publish();
  Context ctx{policy_, *this, now_, settings_.samples};
  policy_.refresh();
  for (auto& d : detectors_) d->on_tick(ctx);
  release_held(now_, false);
  flush_summaries(now_);
}

void Engine::finish() {
  on_tick(now_);
  release_held(now_, true);
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
  // The first alert of this key was folded into another rule's: so are its repeats.
  if (folded_keys_.erase(e.key.key) != 0) {
    latest_.erase(e.key.key);
    return;
  }
  auto it = latest_.find(e.key.key);
  if (it == latest_.end()) return;
  if (e.value.count != 0) {
    it->second.summary = true;
    it->second.suppressed = e.value.count;
    emit(it->second);
  }
  latest_.erase(it);
}

void Engine::emit(const Alert& a) {
  out_.emit(a);
  ++alerts_;
}

// One activity, one alert. An alert whose activity another rule's alert explains (the same
// client and registered domain; see explains()) is not emitted on its own:
//  - when the explaining alert is already out (an anchor), it is folded: counted, not sent;
//  - otherwise its first alert is held for `precedence_hold` of packet time; if the explaining
//    alert comes meanwhile, the held one is attached to it as `related`, else it goes out late.
bool Engine::fold_into_anchor(const Alert& a) {
  if (!a.has_client || !can_be_explained(a)) return false;
  const AnchorKey* into = nullptr;
  const AnchorState* state = nullptr;
  if (client_level(a)) {
    // Client-level alerts fold into an anchor on any domain of the client.
    anchors_.for_each([&](auto& e) {
      if (into == nullptr && e.key.client == a.client && e.value.until > a.ts && explains(e.value.rule->name, a)) {
        into = &e.key;
        state = &e.value;
      }
    });
  } else if (auto* e = anchors_.find({a.client, domain_key(a)});
             e != nullptr && e->value.until > a.ts && explains(e->value.rule->name, a)) {
    into = &e->key;
    state = &e->value;
  }
  if (into == nullptr) return false;
  ++folded_;
  // The anchor's alert may still be held: then this one becomes its context.
  for (auto& h : held_)
    if (h.alert.rule == state->rule && h.alert.client == into->client && domain_key(h.alert) == into->domain) {
      const std::string trigger = trigger_of(a);
      const bool known = std::any_of(h.alert.related.begin(), h.alert.related.end(),
                                     [&](const RelatedAlert& r) { return r.rule == a.rule->name && r.trigger == trigger; });
      if (!known) h.alert.related.push_back({a.rule->name, trigger, a.reason});
      break;
    }
  return true;
}

void Engine::anchor(Alert& a) {
  if (!a.has_client || !can_anchor(a)) return;
  const std::uint64_t dk = domain_key(a);
  // Held alerts of the same activity become this alert's context.
  for (auto it = held_.begin(); it != held_.end();) {
    const Alert& h = it->alert;
    if (h.client == a.client && (client_level(h) || domain_key(h) == dk) && explains(a.rule->name, h)) {
      a.related.push_back({h.rule->name, trigger_of(h), h.reason});
      for (auto& r : it->alert.related) a.related.push_back(std::move(r));
      folded_keys_[it->key] = true;
      ++folded_;
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  auto [e, inserted] = anchors_.emplace({a.client, dk}, a.ts, [](auto&) {});
  (void)inserted;
  e->value.rule = a.rule;
  e->value.until = a.ts + settings_.suppression;
}

void Engine::release_held(Timestamp now, bool all) {
  for (auto it = held_.begin(); it != held_.end();) {
    if (all || it->release <= now) {
      // A role learned meanwhile may explain the alert: a client that started with a sweep of
      // sender policies and turned out to be a mail server (its blocklist and PTR lookups, or
      // the same policies asked again) was doing its job.
      if (role_explains(it->alert, policy_.roles(it->alert.client))) {
        folded_keys_[it->key] = true;
        ++role_explained_;
      } else {
        emit(it->alert);
      }
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
}

void Engine::raise(Alert&& a, std::uint64_t key, Timestamp period) {
  // Threat-intel tags and client roles for every rule's alerts, here once rather than in each rule.
  if (settings_.intel.lists) tag_alert(*settings_.intel.lists, a);
  if (a.has_client) a.client_role = role_names(policy_.roles(a.client));
  // Every message states the trigger that fired.
  if (const std::string t = trigger_of(a); !t.empty() && !a.reason.starts_with(t + ":")) a.reason = t + ": " + a.reason;
  if (fold_into_anchor(a)) return;
  SupTable& t = table_for(period != 0 ? period : settings_.suppression);
  // Entries are never touched after insertion: LRU order is first-alert order, so expiry ends
  // suppression periods oldest first. Out of room, the oldest period ends early (with its summary).
  // (find() leaves the LRU order alone; emplace() would move a repeat to the front.)
  SupTable::Entry* e = t.find({key});
  if (e == nullptr) {
    t.emplace({key}, a.ts, [&](SupTable::Entry& victim) { end_period(victim); });
    anchor(a);
    // An alert another rule may explain waits for it (enumeration explains bursts but is
    // itself explained by a tunnel, so it anchors and waits).
    if (a.has_client && can_be_explained(a) && settings_.precedence_hold > 0) {
      const Timestamp release = a.ts + settings_.precedence_hold;
      held_.push_back({std::move(a), key, release});
      return;
    }
    emit(a);
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
