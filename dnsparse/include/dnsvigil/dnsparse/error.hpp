// Fatal parse errors and the result type every fallible dnsparse function returns.
#pragma once

#include <cstdint>
#include <string_view>

namespace dnsvigil::dnsparse {

/// Why a parse step failed. Values are stable: they index counters in the sensor.
enum class Error : std::uint8_t {
  ok = 0,              ///< no error
  truncated,           ///< a field or label runs past the end of the data
  header_truncated,    ///< fewer than 12 octets: no DNS header
  message_too_large,   ///< more than 65535 octets (offsets are 16-bit)
  label_type,          ///< a label length byte with top bits 01 or 10 (RFC 6891 §5, RFC 2673)
  pointer_forward,     ///< a compression pointer that does not point strictly backwards
  pointer_into_header, ///< a compression pointer to an offset inside the 12-octet header
  too_many_pointers,   ///< more compression hops than limits::kMaxPointerHops
  name_too_long,       ///< a name longer than 255 octets in wire form (RFC 1035 §2.3.4)
  bad_rdata,           ///< RDATA does not have the layout its type requires
  wrong_type,          ///< a typed accessor called on a record of another type
  no_edns,             ///< the message carries no OPT record
  buffer_too_small,    ///< presentation output did not fit the caller's buffer
};

/// Number of Error values (for counter arrays).
inline constexpr std::size_t kErrorCount = static_cast<std::size_t>(Error::buffer_too_small) + 1;

/// Stable snake_case id of an error, e.g. "pointer_forward".
[[nodiscard]] std::string_view error_id(Error e) noexcept;

/// A value or the error that prevented it. Check ok() before using value.
template <class T>
struct [[nodiscard]] Result {
  T value{};
  Error error = Error::ok;

  [[nodiscard]] constexpr bool ok() const noexcept { return error == Error::ok; }
  [[nodiscard]] static constexpr Result fail(Error e) noexcept { return Result{T{}, e}; }
};

}  // namespace dnsvigil::dnsparse
