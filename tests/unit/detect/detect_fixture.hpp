// Test helpers shared by the detector unit tests: addresses and prefixes from text, the Public
// Suffix List splitter, a DNS message with its event, and evidence values as text.
// Tests only; allocation is fine here.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dns_builder.hpp"
#include "dnsvigil/detect/alert.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/event.hpp"
#include "dnsvigil/sensor/names.hpp"

namespace dnsvigil::detect_test {

/// Packet time the detector tests start at, and one second of it.
inline constexpr sensor::Timestamp kT0 = 1'700'000'000 * sensor::kNanosPerSecond;
inline constexpr sensor::Timestamp kSec = sensor::kNanosPerSecond;

inline sensor::IpAddr ip(std::string_view text) {
  const auto a = sensor::IpAddr::parse(text);
  REQUIRE(a.has_value());
  return *a;
}
inline sensor::Prefix pfx(std::string_view text) {
  const auto p = sensor::Prefix::parse(text);
  REQUIRE(p.has_value());
  return *p;
}
inline std::vector<sensor::Prefix> pfxs(std::initializer_list<std::string_view> texts) {
  std::vector<sensor::Prefix> v;
  for (const auto t : texts) v.push_back(pfx(t));
  return v;
}

inline sensor::DomainSplitter& psl() {
  static sensor::DomainSplitter s;
  return s;
}

/// One DNS message and its event. The event points into this object, so it lives on the heap
/// and is never moved.
struct Event {
  std::vector<std::uint8_t> wire;
  dnsparse::Message msg;
  sensor::QueryName qname;
  sensor::DnsEvent ev;
};

/// The message `w` wrote, parsed, with its question name split and the event's message, name
/// and size set; the caller fills in time, addresses and ports.
inline std::unique_ptr<Event> parsed(const test::Wire& w) {
  auto e = std::make_unique<Event>();
  e->wire = w.b;
  REQUIRE(dnsparse::Message::parse(dnsparse::Bytes{e->wire}, e->msg) == dnsparse::Error::ok);
  e->qname.set(e->msg, &psl());
  e->ev.msg = &e->msg;
  e->ev.qname = &e->qname;
  e->ev.size = e->wire.size();
  return e;
}

/// An alert's evidence value as text ("" when absent).
inline std::string evidence_text(const detect::Alert& a, std::string_view key) {
  for (const auto& [k, v] : a.evidence)
    if (k == key) {
      if (const auto* s = std::get_if<std::string>(&v)) return *s;
      if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
      if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
      return "?";
    }
  return "";
}

}  // namespace dnsvigil::detect_test
