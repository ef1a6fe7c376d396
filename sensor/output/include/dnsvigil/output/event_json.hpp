// ECS (Elastic Common Schema, Packetbeat field names) JSON for DNS events: the --dump-json
// format. docs/outputs.md shows a full example.
#pragma once

#include "dnsvigil/output/json.hpp"
#include "dnsvigil/sensor/event.hpp"

namespace dnsvigil::output {

/// Writes one DNS message as an ECS document into `j` (cleared first).
void write_event_json(const sensor::DnsEvent& ev, Json& j);

/// Writes an unanswered query (event.outcome "failure", event.action "dns-unanswered").
void write_unanswered_json(const sensor::UnansweredQuery& q, Json& j);

}  // namespace dnsvigil::output
