// ECS (Elastic Common Schema, Packetbeat field names) JSON for DNS events: the --dump-json
// format. docs/outputs.md shows a full example.
#pragma once

#include <string_view>

#include "dnsvigil/output/json.hpp"
#include "dnsvigil/sensor/event.hpp"

namespace dnsvigil::output {

/// A record's data in presentation form into `w`; malformed data as its octets in RFC 3597's
/// generic form ("\\# LEN HEX"), so every output shows something for it.
void write_record_data(const dnsparse::Message& m, const dnsparse::RecordView& rr, dnsparse::TextWriter& w);

/// Writes one DNS message as an ECS document into `j` (cleared first). `interface` names the
/// capture interface it came in on (observer.ingress.interface.name; empty: not named).
void write_event_json(const sensor::DnsEvent& ev, Json& j, std::string_view interface = {});

/// Writes an unanswered query (event.outcome "failure", event.action "dns-unanswered").
/// `interface`: the name of the query's input (observer.ingress.interface.name), as for events.
void write_unanswered_json(const sensor::UnansweredQuery& q, Json& j, std::string_view interface = {});

}  // namespace dnsvigil::output
