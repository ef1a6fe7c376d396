// Packet time: nanoseconds since the Unix epoch, as libpcap reports it. Every window, timeout
// and expiry in dnsvigil runs on this clock, never the wall clock.
#pragma once

#include <cstdint>

#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::sensor {

/// Nanoseconds since 1970-01-01T00:00:00Z.
using Timestamp = std::int64_t;

inline constexpr Timestamp kNanosPerSecond = 1'000'000'000;

/// Seconds (possibly fractional) as a Timestamp duration.
[[nodiscard]] constexpr Timestamp from_seconds(double s) noexcept { return static_cast<Timestamp>(s * 1e9); }

/// Appends `ts` as RFC 3339 UTC with nanoseconds, e.g. 2024-01-31T12:00:00.123456789Z.
void write_rfc3339(Timestamp ts, dnsparse::TextWriter& out) noexcept;

}  // namespace dnsvigil::sensor
