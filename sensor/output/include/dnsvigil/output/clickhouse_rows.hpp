// ClickHouse rows: DNS events and alerts in RowBinary, the binary row format of ClickHouse's
// HTTP interface (INSERT ... FORMAT RowBinary). The columns are the --dump-json and alert JSON
// fields flattened to typed columns; packaging/clickhouse/schema.sql creates the tables, and a
// unit test checks that its columns and these lists agree.
//
// RowBinary (ClickHouse docs, "Formats: RowBinary"): rows one after another, the columns of a row
// in the order of the INSERT's column list; integers little-endian of their width; String as a
// LEB128 length and the octets; FixedString(N) as N octets; DateTime as UInt32 seconds since the
// epoch; Enum8 as its Int8 value; Nullable(T) as one octet (1 = NULL, 0 = a T follows); Array(T)
// as a LEB128 count and the elements. Nested(a T, b U) columns are inserted as a.* arrays of
// equal length.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/sensor/event.hpp"

namespace dnsvigil::output {

/// One column of a ClickHouse table as this sensor inserts it: its name and its type written as
/// ClickHouse itself prints it in system.columns.
struct Column {
  std::string_view name;
  std::string_view type;
};

/// The columns of the events table (dns_events), in insert order.
[[nodiscard]] std::span<const Column> event_columns() noexcept;
/// The columns of the alerts table (dns_alerts), in insert order.
[[nodiscard]] std::span<const Column> alert_columns() noexcept;
/// "(c1, c2, ...)": the column list of an INSERT for these columns (names quoted with backticks).
[[nodiscard]] std::string column_list(std::span<const Column> cols);

/// Appends RowBinary values to a string. Never fails; strings longer than the format allows do
/// not occur (DNS names and RDATA texts are bounded by the message size).
class RowBinary {
 public:
  explicit RowBinary(std::string& out) noexcept : out_(&out) {}

  void u8(std::uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u16(std::uint16_t v) { little(v, 2); }
  void u32(std::uint32_t v) { little(v, 4); }
  void u64(std::uint64_t v) { little(v, 8); }
  void i8(std::int8_t v) { u8(static_cast<std::uint8_t>(v)); }
  /// LEB128 (7 bits a byte, low groups first): string lengths and array sizes.
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      u8(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    u8(static_cast<std::uint8_t>(v));
  }
  void str(std::string_view s) {
    varint(s.size());
    out_->append(s);
  }
  /// FixedString(16): an address in its 16-octet form (IPv4 mapped to ::ffff:a.b.c.d).
  void address(const sensor::IpAddr& a) { out_->append(reinterpret_cast<const char*>(a.bytes.data()), 16); }
  /// DateTime: whole seconds of a packet time (clamped to the type's range 1970..2106).
  void date_time(sensor::Timestamp ts);
  /// The nanoseconds within the second of a packet time (UInt32).
  void nanos(sensor::Timestamp ts);
  /// Nullable(T): the marker of a value, or of NULL.
  void present() { u8(0); }
  void null() { u8(1); }

  [[nodiscard]] std::string& buffer() noexcept { return *out_; }

 private:
  void little(std::uint64_t v, int n) {
    char b[8];
    for (int i = 0; i < n; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    out_->append(b, static_cast<std::size_t>(n));
  }
  std::string* out_;
};

/// Encodes DNS events and alerts as rows. Holds the scratch space for texts (RDATA, names), so
/// one encoder per thread.
class RowEncoder {
 public:
  RowEncoder();

  /// One DNS message as an events row. `observer` is the sensor's name (observer_name),
  /// `interface` the capture interface it came in on (empty: not named).
  void event(const sensor::DnsEvent& ev, std::string_view observer, std::string_view interface, std::string& out);
  /// An unanswered query as an events row (unanswered = 1).
  void unanswered(const sensor::UnansweredQuery& q, std::string_view observer, std::string& out);
  /// One alert as an alerts row. `hostname` and `version` are the alert JSON's observer.hostname
  /// and rule.version.
  void alert(const detect::Alert& a, std::string_view observer, std::string_view hostname, std::string_view version,
             std::string& out);

 private:
  std::vector<char> scratch_;
};

}  // namespace dnsvigil::output
