#include "dnsvigil/detect/rules.hpp"

namespace dnsvigil::detect {

std::vector<std::unique_ptr<Detector>> make_detectors(const DetectorSettings& s) {
  std::vector<std::unique_ptr<Detector>> out;
  if (s.zone_transfer.enabled) out.push_back(rules::make_zone_transfer(s.zone_transfer));
  if (s.enumeration.enabled) out.push_back(rules::make_enumeration(s.enumeration));
  if (s.recon_sweep.enabled) out.push_back(rules::make_recon_sweep(s.recon_sweep));
  if (s.rogue_resolver.enabled) out.push_back(rules::make_rogue_resolver(s.rogue_resolver));
  if (s.tunneling.enabled) out.push_back(rules::make_tunneling(s.tunneling));
  if (s.beaconing.enabled) out.push_back(rules::make_beaconing(s.beaconing));
  if (s.cache_snooping.enabled) out.push_back(rules::make_cache_snooping(s.cache_snooping));
  if (s.resolver_switch.enabled) out.push_back(rules::make_resolver_switch(s.resolver_switch, s.rogue_resolver));
  if (s.answer_change.enabled) out.push_back(rules::make_answer_change(s.answer_change, s.network.monitored_zones));
  if (s.spoofed_response.enabled) out.push_back(rules::make_spoofed_response(s.spoofed_response));
  if (s.intel_match.enabled) out.push_back(rules::make_intel_match(s.intel_match, s.intel));
  return out;
}

std::vector<const RuleInfo*> all_rules() {
  return {&rules::zone_transfer_info(), &rules::enumeration_info(), &rules::recon_sweep_info(),
          &rules::rogue_resolver_info(), &rules::tunneling_info(),  &rules::beaconing_info(),
          &rules::cache_snooping_info(), &rules::resolver_switch_info(), &rules::answer_change_info(),
          &rules::spoofed_response_info(), &rules::intel_match_info()};
}

}  // namespace dnsvigil::detect
