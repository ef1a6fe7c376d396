// The one interface every rule implements, the context it runs in, and the registry.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/detect/policy.hpp"
#include "dnsvigil/detect/settings.hpp"
#include "dnsvigil/detect/shared.hpp"
#include "dnsvigil/sensor/event.hpp"

namespace dnsvigil::detect {

/// Takes alerts from rules; applies suppression (engine.hpp).
class Raiser {
 public:
  virtual ~Raiser() = default;
  /// Raises `a` for the (rule, key) given by `key` (a hash of what the rule keys on).
  /// `period` overrides the suppression period when non-zero.
  virtual void raise(Alert&& a, std::uint64_t key, Timestamp period = 0) = 0;
};

/// Traits of no name (events without a question, flows, ticks).
inline const NameTraits kNoName{};

/// What a rule sees besides the event.
struct Context {
  const Policy& policy;
  Raiser& raiser;
  Timestamp now = 0;        ///< packet time
  std::size_t samples = 5;  ///< sample names to attach
  bool client_resolver = false;  ///< the event's client is a (configured or learned) resolver
  const NameTraits* name = &kNoName;  ///< the event's question name (DNS events)
  const IpAddr* client = nullptr;     ///< the event's client (DNS events)

  /// The client's roles (RoleBit), configured or learned; looked up on first use, as most
  /// events never need them.
  [[nodiscard]] std::uint8_t roles() const noexcept {
    if (!roles_known) {
      roles_cache = client != nullptr ? policy.roles(*client) : std::uint8_t{0};
      roles_known = true;
    }
    return roles_cache;
  }
  /// The question name counts for no rule keyed on names (enumeration, recon_sweep, tunneling,
  /// beaconing): a catalogued service, an allowlisted domain, a blocklist-style lookup, a
  /// forward confirmation, or a search-list expansion by a container node.
  [[nodiscard]] bool not_evidence() const noexcept {
    return name->benign() || (name->expansion != 0 && (roles() & kRoleContainerNode) != 0);
  }

  // roles() cache (left to their defaults when a Context is made).
  mutable std::uint8_t roles_cache = 0;
  mutable bool roles_known = false;
};

/// State sizes and counters of a rule (exported as metrics).
struct DetectorStats {
  std::string_view rule;
  std::size_t keys = 0, capacity = 0;
  std::uint64_t evictions = 0;
  std::size_t sketches = 0, sketch_capacity = 0;
  std::uint64_t sketch_exhausted = 0;
  std::uint64_t triggers = 0;      ///< times the rule's conditions were met (before suppression)
  std::size_t reserved_bytes = 0;  ///< upper bound on the memory its state can take
};

/// A streaming rule. All time is packet time (Context::now, event timestamps).
class Detector {
 public:
  virtual ~Detector() = default;
  [[nodiscard]] virtual const RuleInfo& info() const noexcept = 0;
  virtual void on_event(const sensor::DnsEvent& ev, Context& ctx) = 0;
  /// Called twice for every event before any rule's on_event: starts loading the table index
  /// lines on_event will look up, then (`slots`) the entries they name, so that the rules' cache
  /// misses overlap instead of adding up (LruTable::prefetch).
  virtual void prefetch(const sensor::DnsEvent& /*ev*/, bool /*slots*/) const noexcept {}
  virtual void on_unanswered(const sensor::UnansweredQuery& /*q*/, Context& /*ctx*/) {}
  virtual void on_flow(const sensor::FlowEvent& /*f*/, Context& /*ctx*/) {}
  /// Packet time advanced (about once a second of packet time).
  virtual void on_tick(Context& /*ctx*/) {}
  /// With several workers: merge cross-client aggregates into `shared` (once per tick).
  virtual void sync(SharedView& /*shared*/, Context& /*ctx*/) {}
  [[nodiscard]] virtual DetectorStats stats() const = 0;
};

/// Builds the enabled rules from settings.
[[nodiscard]] std::vector<std::unique_ptr<Detector>> make_detectors(const DetectorSettings& s);

/// Static information of every rule, enabled or not (for docs and --list-rules).
[[nodiscard]] std::vector<const RuleInfo*> all_rules();

}  // namespace dnsvigil::detect
