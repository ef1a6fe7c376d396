#include "dnsvigil/dnsparse/types.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::dnsparse {
namespace {

// IANA "Resource Record (RR) TYPEs" registry (mnemonics as dig and Wireshark print them).
constexpr std::array<std::pair<std::uint16_t, std::string_view>, 90> kTypes{{
    {1, "A"},         {2, "NS"},        {3, "MD"},         {4, "MF"},        {5, "CNAME"},
    {6, "SOA"},       {7, "MB"},        {8, "MG"},         {9, "MR"},        {10, "NULL"},
    {11, "WKS"},      {12, "PTR"},      {13, "HINFO"},     {14, "MINFO"},    {15, "MX"},
    {16, "TXT"},      {17, "RP"},       {18, "AFSDB"},     {19, "X25"},      {20, "ISDN"},
    {21, "RT"},       {22, "NSAP"},     {23, "NSAP-PTR"},  {24, "SIG"},      {25, "KEY"},
    {26, "PX"},       {27, "GPOS"},     {28, "AAAA"},      {29, "LOC"},      {30, "NXT"},
    {31, "EID"},      {32, "NIMLOC"},   {33, "SRV"},       {34, "ATMA"},     {35, "NAPTR"},
    {36, "KX"},       {37, "CERT"},     {38, "A6"},        {39, "DNAME"},    {40, "SINK"},
    {41, "OPT"},      {42, "APL"},      {43, "DS"},        {44, "SSHFP"},    {45, "IPSECKEY"},
    {46, "RRSIG"},    {47, "NSEC"},     {48, "DNSKEY"},    {49, "DHCID"},    {50, "NSEC3"},
    {51, "NSEC3PARAM"}, {52, "TLSA"},   {53, "SMIMEA"},    {55, "HIP"},      {56, "NINFO"},
    {57, "RKEY"},     {58, "TALINK"},   {59, "CDS"},       {60, "CDNSKEY"},  {61, "OPENPGPKEY"},
    {62, "CSYNC"},    {63, "ZONEMD"},   {64, "SVCB"},      {65, "HTTPS"},    {99, "SPF"},
    {100, "UINFO"},   {101, "UID"},     {102, "GID"},      {103, "UNSPEC"},  {104, "NID"},
    {105, "L32"},     {106, "L64"},     {107, "LP"},       {108, "EUI48"},   {109, "EUI64"},
    {249, "TKEY"},    {250, "TSIG"},    {251, "IXFR"},     {252, "AXFR"},    {253, "MAILB"},
    {254, "MAILA"},   {255, "ANY"},     {256, "URI"},      {257, "CAA"},     {258, "AVC"},
    {259, "DOA"},     {260, "AMTRELAY"}, {261, "RESINFO"}, {32768, "TA"},    {32769, "DLV"},
}};

constexpr bool sorted_by_code() {
  for (std::size_t i = 1; i < kTypes.size(); ++i)
    if (kTypes[i - 1].first >= kTypes[i].first) return false;
  return true;
}
static_assert(sorted_by_code(), "kTypes must be sorted by code for binary search");

bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    const auto lx = (x >= 'A' && x <= 'Z') ? x | 0x20 : x, ly = (y >= 'A' && y <= 'Z') ? y | 0x20 : y;
    if (lx != ly) return false;
  }
  return true;
}

}  // namespace

std::string_view type_name(std::uint16_t type) noexcept {
  const auto it = std::lower_bound(kTypes.begin(), kTypes.end(), type,
                                   [](const auto& e, std::uint16_t v) { return e.first < v; });
  return (it != kTypes.end() && it->first == type) ? it->second : std::string_view{};
}

std::uint16_t type_from_name(std::string_view name) noexcept {
  for (const auto& [code, mnemonic] : kTypes)
    if (iequal(mnemonic, name)) return code;
  if (name.size() > 4 && iequal(name.substr(0, 4), "TYPE")) {
    unsigned v = 0;
    for (const char c : name.substr(4)) {
      if (c < '0' || c > '9') return 0;
      v = v * 10 + static_cast<unsigned>(c - '0');
      if (v > 65535) return 0;
    }
    return static_cast<std::uint16_t>(v);
  }
  return 0;
}

std::string_view class_name(std::uint16_t klass) noexcept {
  switch (klass) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: return {};
  }
}

std::string_view opcode_name(std::uint8_t op) noexcept {
  switch (op) {
    case 0: return "QUERY";
    case 1: return "IQUERY";
    case 2: return "STATUS";
    case 4: return "NOTIFY";
    case 5: return "UPDATE";
    case 6: return "DSO";
    default: return {};
  }
}

std::string_view rcode_name(std::uint16_t rc) noexcept {
  // IANA "DNS RCODEs"; 16 is BADVERS in OPT context (BADSIG only inside TSIG).
  switch (rc) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
    case 11: return "DSOTYPENI";
    case 16: return "BADVERS";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 19: return "BADMODE";
    case 20: return "BADNAME";
    case 21: return "BADALG";
    case 22: return "BADTRUNC";
    case 23: return "BADCOOKIE";
    default: return {};
  }
}

Mnemonic Mnemonic::make(std::string_view known, std::string_view prefix, unsigned v) noexcept {
  Mnemonic m;
  TextWriter w({m.buf_, sizeof m.buf_});
  if (!known.empty()) {
    w.put(known);
  } else {
    w.put(prefix);
    w.put_uint(v);
  }
  m.len_ = static_cast<std::uint8_t>(w.size());
  return m;
}

Mnemonic Mnemonic::type(std::uint16_t v) noexcept { return make(type_name(v), "TYPE", v); }
Mnemonic Mnemonic::klass(std::uint16_t v) noexcept { return make(class_name(v), "CLASS", v); }
Mnemonic Mnemonic::op(std::uint8_t v) noexcept { return make(opcode_name(v), "OPCODE", v); }
Mnemonic Mnemonic::rcode(std::uint16_t v) noexcept { return make(rcode_name(v), "RCODE", v); }

}  // namespace dnsvigil::dnsparse
