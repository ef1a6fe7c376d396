// Factories of the rules (one translation unit per rule under src/rules/).
#pragma once

#include <memory>

#include "dnsvigil/detect/detector.hpp"
#include "dnsvigil/detect/settings.hpp"

namespace dnsvigil::detect::rules {

const RuleInfo& zone_transfer_info();
const RuleInfo& enumeration_info();
const RuleInfo& recon_sweep_info();
const RuleInfo& rogue_resolver_info();
const RuleInfo& tunneling_info();
const RuleInfo& beaconing_info();
const RuleInfo& cache_snooping_info();
const RuleInfo& resolver_switch_info();
const RuleInfo& answer_change_info();
const RuleInfo& spoofed_response_info();
const RuleInfo& intel_match_info();

std::unique_ptr<Detector> make_zone_transfer(const ZoneTransferSettings& s);
std::unique_ptr<Detector> make_enumeration(const EnumerationSettings& s);
std::unique_ptr<Detector> make_recon_sweep(const ReconSweepSettings& s);
std::unique_ptr<Detector> make_rogue_resolver(const RogueResolverSettings& s);
std::unique_ptr<Detector> make_tunneling(const TunnelingSettings& s);
std::unique_ptr<Detector> make_beaconing(const BeaconingSettings& s);
std::unique_ptr<Detector> make_cache_snooping(const CacheSnoopingSettings& s);
/// `rogue`: what rogue_resolver already reports is left to it.
std::unique_ptr<Detector> make_resolver_switch(const ResolverSwitchSettings& s, const RogueResolverSettings& rogue);
/// `zones`: network.monitored_zones.
std::unique_ptr<Detector> make_answer_change(const AnswerChangeSettings& s, const std::vector<std::string>& zones);
std::unique_ptr<Detector> make_spoofed_response(const SpoofedResponseSettings& s);
/// `intel`: the lists it matches against (silent when there are none).
std::unique_ptr<Detector> make_intel_match(const IntelMatchSettings& s, const IntelSettings& intel);

}  // namespace dnsvigil::detect::rules
