// A DnsEvent over a real parsed message, for the tests of what outputs write from events (the
// ECS JSON, the HTML report, the ClickHouse rows).
#pragma once

#include <catch2/catch.hpp>

#include <utility>

#include "frame_builder.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/event.hpp"
#include "dnsvigil/sensor/names.hpp"

namespace dnsvigil::test {

/// One Public Suffix List splitter for a test executable.
inline sensor::DomainSplitter& splitter() {
  static sensor::DomainSplitter s;
  return s;
}

/// The event points into this object: do not move it.
struct ParsedEvent {
  Octets wire;
  dnsparse::Message msg;
  sensor::QueryName qname;
  sensor::DnsEvent ev;

  explicit ParsedEvent(Octets w) : wire(std::move(w)) {
    REQUIRE(dnsparse::Message::parse(dnsparse::Bytes{wire}, msg) == dnsparse::Error::ok);
    qname.set(msg, &splitter());
    ev.msg = &msg;
    ev.qname = &qname;
    ev.size = wire.size();
  }
  ParsedEvent(const ParsedEvent&) = delete;
};

}  // namespace dnsvigil::test
