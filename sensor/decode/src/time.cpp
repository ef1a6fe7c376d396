#include "dnsvigil/sensor/time.hpp"

#include <chrono>

namespace dnsvigil::sensor {

void write_rfc3339(Timestamp ts, dnsparse::TextWriter& out) noexcept {
  using namespace std::chrono;
  const sys_time<nanoseconds> tp{nanoseconds{ts}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(tp - day)};
  const auto frac = static_cast<std::uint64_t>((tp - floor<seconds>(tp)).count());
  const auto digits = [&](std::uint64_t v, int n) {
    char buf[10];
    for (int i = n - 1; i >= 0; --i) {
      buf[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    out.put(std::string_view(buf, static_cast<std::size_t>(n)));
  };
  digits(static_cast<std::uint64_t>(static_cast<int>(ymd.year())), 4);
  out.put('-');
  digits(static_cast<unsigned>(ymd.month()), 2);
  out.put('-');
  digits(static_cast<unsigned>(ymd.day()), 2);
  out.put('T');
  digits(static_cast<std::uint64_t>(hms.hours().count()), 2);
  out.put(':');
  digits(static_cast<std::uint64_t>(hms.minutes().count()), 2);
  out.put(':');
  digits(static_cast<std::uint64_t>(hms.seconds().count()), 2);
  out.put('.');
  digits(frac, 9);
  out.put('Z');
}

}  // namespace dnsvigil::sensor
