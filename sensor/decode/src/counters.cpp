#include "dnsvigil/sensor/counters.hpp"

namespace dnsvigil::sensor {

std::string_view counter_id(Counter c) noexcept {
  switch (c) {
#define DNSVIGIL_COUNTER_ID(id, help) \
  case Counter::id: return #id;
    DNSVIGIL_COUNTERS(DNSVIGIL_COUNTER_ID)
#undef DNSVIGIL_COUNTER_ID
    case Counter::count_: break;
  }
  return "unknown";
}

std::string_view counter_help(Counter c) noexcept {
  switch (c) {
#define DNSVIGIL_COUNTER_HELP(id, help) \
  case Counter::id: return help;
    DNSVIGIL_COUNTERS(DNSVIGIL_COUNTER_HELP)
#undef DNSVIGIL_COUNTER_HELP
    case Counter::count_: break;
  }
  return "";
}

}  // namespace dnsvigil::sensor
