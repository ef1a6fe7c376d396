// Helpers shared by the rules: hashing, fixed-size text in table values, samples, alerts.
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/detect/detector.hpp"
#include "dnsvigil/dnsparse/types.hpp"
#include "dnsvigil/sensor/event.hpp"

namespace dnsvigil::detect::rules {

inline std::uint64_t hash(std::string_view s, std::uint64_t seed = 0) noexcept {
  return XXH3_64bits_withSeed(s.data(), s.size(), seed);
}
inline std::uint64_t hash(const IpAddr& a, std::uint64_t seed = 0) noexcept {
  return XXH3_64bits_withSeed(a.bytes.data(), a.bytes.size(), seed);
}
/// Key of a (rule, thing) pair for suppression.
inline std::uint64_t rule_key(const RuleInfo& r, std::uint64_t k) noexcept { return hash(r.id, k); }

/// Text of bounded length stored inline in a table value (longer text is cut; `cut` tells).
template <std::size_t N>
struct FixedText {
  char data[N];
  std::uint8_t len;
  bool cut;
  void set(std::string_view s) noexcept {
    len = static_cast<std::uint8_t>(std::min(s.size(), N));
    cut = s.size() > N;
    if (len != 0) std::memcpy(data, s.data(), len);  // an empty view may hold a null pointer
  }
  [[nodiscard]] std::string_view view() const noexcept { return {data, len}; }
  [[nodiscard]] std::string str() const { return std::string(view()) + (cut ? "..." : ""); }
};

/// Up to K distinct sample names kept inline.
template <std::size_t K, std::size_t N = 64>
struct Samples {
  FixedText<N> item[K];
  std::uint8_t count;
  void add(std::string_view s) noexcept {
    if (count == K) return;
    for (std::uint8_t i = 0; i < count; ++i)
      if (item[i].view() == s.substr(0, std::min(s.size(), N))) return;
    item[count++].set(s);
  }
  /// add(a + " " + b), without building that string on the heap (cut as add would cut it).
  void add(std::string_view a, std::string_view b) noexcept {
    if (count == K) return;
    char buf[N + 1];
    std::size_t n = std::min(a.size(), N + 1);
    std::memcpy(buf, a.data(), n);
    if (n <= N) buf[n++] = ' ';
    const std::size_t m = std::min(b.size(), N + 1 - n);
    std::memcpy(buf + n, b.data(), m);
    add(std::string_view(buf, n + m));
  }
  [[nodiscard]] std::vector<std::string> list(std::size_t max) const {
    std::vector<std::string> out;
    for (std::uint8_t i = 0; i < count && out.size() < max; ++i) out.push_back(item[i].str());
    return out;
  }
};

/// An alert about an event, with client, server, transport and DNS context filled in.
inline Alert alert_for(const RuleInfo& r, const sensor::DnsEvent& ev, Severity sev) {
  Alert a;
  a.rule = &r;
  a.ts = ev.ts;
  a.severity = sev;
  a.has_client = a.has_server = true;
  a.client = ev.client();
  a.client_port = ev.client_port();
  a.server = ev.server();
  a.server_port = ev.server_port();
  a.transport = ev.transport == sensor::Transport::udp ? "udp" : "tcp";
  if (!ev.qname->empty()) {
    a.qname = std::string(ev.qname->lower());
    a.registered_domain = std::string(ev.qname->registered_domain());
    a.qtype = ev.msg->question().type;
  }
  return a;
}

/// Key of per-client state tables.
struct ClientKey {
  IpAddr client;
};

/// An address in presentation form (evidence values).
inline std::string text_of(const IpAddr& a) { return a.text(); }

/// A packet time as RFC 3339 (evidence values).
inline std::string text_time(Timestamp t) {
  char buf[40];
  dnsparse::TextWriter w(buf);
  sensor::write_rfc3339(t, w);
  return std::string(w.view());
}

/// The address of an A or AAAA record, or nothing (other types, malformed RDATA).
inline bool record_address(const dnsparse::Message& m, const dnsparse::RecordView& r, IpAddr& out) noexcept {
  const std::uint8_t* rdata = m.wire().data() + r.rdata;
  if (r.type == dnsparse::rrtype::A && r.rdlength == 4) {
    out = IpAddr::v4(rdata);
    return true;
  }
  if (r.type == dnsparse::rrtype::AAAA && r.rdlength == 16) {
    out = IpAddr::v6(rdata);
    return true;
  }
  return false;
}

/// The A/AAAA addresses of a message's answer section in presentation form (evidence values).
inline std::vector<std::string> answer_addresses(const dnsparse::Message& m, std::size_t max = 8) {
  std::vector<std::string> out;
  IpAddr a;
  for (const auto& r : m.records(dnsparse::Section::answer))
    if (out.size() < max && record_address(m, r, a)) out.push_back(text_of(a));
  return out;
}

/// Mnemonic of a qtype as a string.
inline std::string type_text(std::uint16_t t) { return std::string(dnsparse::Mnemonic::type(t).view()); }

/// Formats a double with one decimal.
inline std::string one_decimal(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}
/// ... with two decimals.
inline std::string two_decimals(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

/// Common checks: the rule's allowlist, and the client roles every recon rule exempts.
inline bool exempt_recon_client(const Policy& p, const IpAddr& client) noexcept { return p.scanner(client); }

/// Sizes of a table for DetectorStats.
template <class Table>
void table_stats(DetectorStats& s, const Table& t, std::uint64_t evictions) {
  s.keys += t.size();
  s.capacity += t.capacity();
  s.evictions += evictions;
  s.reserved_bytes += t.reserved_bytes();
}

/// DetectorStats of a rule whose state is one table.
template <class Table>
DetectorStats one_table_stats(const RuleInfo& r, const Table& t, std::uint64_t evictions, std::uint64_t triggers) {
  DetectorStats s;
  s.rule = r.name;
  s.triggers = triggers;
  table_stats(s, t, evictions);
  return s;
}

}  // namespace dnsvigil::detect::rules
