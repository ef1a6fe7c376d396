// DNS parameter numbers (IANA "Domain Name System (DNS) Parameters") and their mnemonics.
#pragma once

#include <cstdint>
#include <string_view>

namespace dnsvigil::dnsparse {

/// Resource record types used by name in this code base. Any 16-bit value may appear on the wire.
namespace rrtype {
inline constexpr std::uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, NULL_ = 10, WKS = 11, PTR = 12,
                               HINFO = 13, MX = 15, TXT = 16, AAAA = 28, LOC = 29, SRV = 33,
                               NAPTR = 35, KX = 36, DNAME = 39, OPT = 41, DS = 43, SSHFP = 44,
                               RRSIG = 46, NSEC = 47, DNSKEY = 48, NSEC3 = 50, NSEC3PARAM = 51,
                               TLSA = 52, CDS = 59, CDNSKEY = 60, SVCB = 64, HTTPS = 65, SPF = 99,
                               TKEY = 249, TSIG = 250, IXFR = 251, AXFR = 252, ANY = 255,
                               URI = 256, CAA = 257;
}  // namespace rrtype

/// Classes (RFC 1035 §3.2.4, RFC 2136 §1.3 for NONE).
namespace rrclass {
inline constexpr std::uint16_t IN = 1, CH = 3, HS = 4, NONE = 254, ANY = 255;
}

/// Opcodes (RFC 1035, 1996, 2136, 8490).
namespace opcode {
inline constexpr std::uint8_t QUERY = 0, IQUERY = 1, STATUS = 2, NOTIFY = 4, UPDATE = 5, DSO = 6;
}

/// Response codes, 4-bit header part plus the EDNS extension (RFC 6891 §6.1.3).
namespace rcode {
inline constexpr std::uint16_t NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4,
                               REFUSED = 5, YXDOMAIN = 6, YXRRSET = 7, NXRRSET = 8, NOTAUTH = 9,
                               NOTZONE = 10, BADVERS = 16, BADCOOKIE = 23;
}

/// EDNS option codes (IANA "DNS EDNS0 Option Codes").
namespace ednsopt {
inline constexpr std::uint16_t NSID = 3, CLIENT_SUBNET = 8, EXPIRE = 9, COOKIE = 10,
                               TCP_KEEPALIVE = 11, PADDING = 12, CHAIN = 13, KEY_TAG = 14,
                               EDE = 15;
}

/// Mnemonic of a record type ("A", "HTTPS"), or empty when IANA has none we know.
[[nodiscard]] std::string_view type_name(std::uint16_t type) noexcept;
/// Mnemonic of a class ("IN"), or empty.
[[nodiscard]] std::string_view class_name(std::uint16_t klass) noexcept;
/// Mnemonic of an opcode ("QUERY"), or empty.
[[nodiscard]] std::string_view opcode_name(std::uint8_t op) noexcept;
/// Mnemonic of a (possibly extended) response code ("NXDOMAIN"), or empty.
[[nodiscard]] std::string_view rcode_name(std::uint16_t rc) noexcept;
/// Type number of a mnemonic (case-insensitive, "TYPE123" accepted); 0 when unknown.
[[nodiscard]] std::uint16_t type_from_name(std::string_view name) noexcept;

/// A mnemonic or its RFC 3597 generic form ("TYPE123", "CLASS9", "OPCODE7", "RCODE12"),
/// formatted without allocation.
class Mnemonic {
 public:
  [[nodiscard]] static Mnemonic type(std::uint16_t v) noexcept;
  [[nodiscard]] static Mnemonic klass(std::uint16_t v) noexcept;
  [[nodiscard]] static Mnemonic op(std::uint8_t v) noexcept;
  [[nodiscard]] static Mnemonic rcode(std::uint16_t v) noexcept;
  [[nodiscard]] std::string_view view() const noexcept { return {buf_, len_}; }

 private:
  static Mnemonic make(std::string_view known, std::string_view prefix, unsigned v) noexcept;
  char buf_[16] = {};
  std::uint8_t len_ = 0;
};

}  // namespace dnsvigil::dnsparse
