// The detection engine: feeds events to every enabled rule, learns resolvers, and applies
// alert hygiene (one alert per (rule, key) per suppression period, then a summary).
#pragma once

#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/detect/detector.hpp"
#include "dnsvigil/detect/policy.hpp"
#include "dnsvigil/detect/settings.hpp"
#include "dnsvigil/sensor/event.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect {

class Engine final : public sensor::EventSink, private Raiser {
 public:
  Engine(const DetectorSettings& settings, AlertSink& out);
  ~Engine() override;

  void on_event(const sensor::DnsEvent& ev) override;
  void prefetch(const sensor::DnsEvent& ev) noexcept override;
  void on_unanswered(const sensor::UnansweredQuery& q) override;
  void on_flow(const sensor::FlowEvent& f) override;
  void on_tick(sensor::Timestamp now) override;
  /// End of input: emits pending summaries.
  void finish();
  /// Shares cross-client aggregates with the engines of other workers (-j N).
  void attach(SharedView* shared) noexcept { shared_ = shared; }
  /// Hands what this engine learned to the shared view (and reads it back), between ticks: a
  /// worker publishes before it waits for the others at a packet second (SharedView::wait_for).
  void publish();

  [[nodiscard]] std::vector<DetectorStats> stats() const;
  [[nodiscard]] const Policy& policy() const noexcept { return policy_; }
  [[nodiscard]] std::uint64_t alerts() const noexcept { return alerts_; }
  [[nodiscard]] std::uint64_t suppressed() const noexcept { return suppressed_; }
  /// Alerts folded into another rule's alert about the same activity (precedence).
  [[nodiscard]] std::uint64_t folded() const noexcept { return folded_; }
  /// Held alerts dropped because the client turned out to hold a role that explains them.
  [[nodiscard]] std::uint64_t role_explained() const noexcept { return role_explained_; }
  [[nodiscard]] std::size_t rule_count() const noexcept { return detectors_.size(); }

 private:
  void raise(Alert&& a, std::uint64_t key, Timestamp period) override;
  void flush_summaries(Timestamp until);
  // One activity, one alert (precedence): see engine.cpp.
  bool fold_into_anchor(const Alert& a);
  void anchor(Alert& a);
  void release_held(Timestamp now, bool all);
  void emit(const Alert& a);

  struct SupKey {
    std::uint64_t key;
  };
  struct SupState {
    std::uint64_t count;
  };

  using SupTable = sensor::LruTable<SupKey, SupState>;
  /// One table per suppression period in use, so each expires in first-alert order.
  SupTable& table_for(Timestamp period);
  void end_period(SupTable::Entry& e);

  DetectorSettings settings_;
  Policy policy_;
  AlertSink& out_;
  std::vector<std::unique_ptr<Detector>> detectors_;
  std::vector<std::pair<Timestamp, std::unique_ptr<SupTable>>> suppress_;
  std::unordered_map<std::uint64_t, Alert> latest_;  // newest suppressed alert per key, for its summary
  // Alerts that explain others about the same (client, registered domain), while they last.
  struct AnchorKey {
    IpAddr client;
    std::uint64_t domain;  // hash of the registered domain
  };
  struct AnchorState {
    const RuleInfo* rule;
    Timestamp until;
  };
  sensor::LruTable<AnchorKey, AnchorState> anchors_;
  // First alerts of rules another rule may explain, held for settings_.precedence_hold.
  struct Held {
    Alert alert;
    std::uint64_t key;
    Timestamp release;
  };
  std::vector<Held> held_;
  std::unordered_map<std::uint64_t, bool> folded_keys_;  // suppression keys whose first alert was folded
  Timestamp now_ = 0;
  std::uint64_t alerts_ = 0, suppressed_ = 0, folded_ = 0, role_explained_ = 0;
  SharedView* shared_ = nullptr;
};

}  // namespace dnsvigil::detect
