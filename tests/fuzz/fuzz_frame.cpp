// Fuzz target: the whole packet path (decode, defragmentation, TCP reassembly, DNS parse,
// transactions) on captured frames, the ECS JSON of every event and unanswered query, which must
// be valid JSON, and the detection engine with every rule on (small tables), whose alerts must
// be valid JSON too: names, classes and roles of packet-made names are worked out on this path.
//
// Input: octet 0 picks the link type (low 7 bits, index into kLinkTypes). Bit 7 clear: the
// rest is one frame. Bit 7 set: the rest is a sequence of records
//   [dt: 1 octet][length: 2 octets, big-endian][frame: `length` octets (cut at the end)]
// fed in order, packet time advancing by dt * 20 ms before each (so fragments, TCP streams and
// transactions meet their timeouts). One Pipeline with small limits is reused across inputs;
// finish() after every input makes each input start from empty tables.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "../unit/sensor/json_check.hpp"
#include "dnsvigil/detect/engine.hpp"
#include "dnsvigil/output/alert_json.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/output/json.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil;
using namespace dnsvigil::sensor;

namespace {

// New types go at the end: the corpus files name theirs by index.
constexpr int kLinkTypes[] = {dlt::kEthernet,  dlt::kLinuxSll, dlt::kLinuxSll2, dlt::kRaw,  dlt::kRawOpenBsd,
                              dlt::kIpv4,      dlt::kIpv6,     dlt::kNull,      dlt::kLoop, dlt::kFddi,
                              dlt::kIeee80211, dlt::kRadiotap, dlt::kPpp,       dlt::kPppSerial, dlt::kPppEther,
                              dlt::kNflog,     dlt::kPktap};
constexpr std::size_t kLinkTypeCount = sizeof kLinkTypes / sizeof kLinkTypes[0];

// The latest packet time an input starts from: 2096, so that an input's records (up to
// 255 x 20 ms each) stay before 2106.
constexpr Timestamp kLastStart = 4'000'000'000LL * kNanosPerSecond;

PipelineOptions options() {
  PipelineOptions o;
  o.dns_ports = {53, 5353};
  o.defrag.max_datagrams = 4;
  o.defrag.max_bytes = 16 * 1024;
  o.defrag.timeout = 2 * kNanosPerSecond;
  o.tcp.max_flows = 4;
  o.tcp.max_flow_bytes = 8 * 1024;
  o.tcp.max_total_bytes = 96 * 1024;
  o.tcp.idle_timeout = 3 * kNanosPerSecond;
  o.transactions.max_pending = 8;
  o.transactions.timeout = 1 * kNanosPerSecond;
  return o;
}

void check_json(std::string_view line) {
  if (!test::json::parse(line).ok) __builtin_trap();
}

// Every rule with small tables, so that evictions happen within one input.
detect::DetectorSettings detection() {
  detect::DetectorSettings d;
  for (auto* c : std::initializer_list<detect::CommonSettings*>{
           &d.zone_transfer, &d.enumeration, &d.recon_sweep, &d.rogue_resolver, &d.tunneling, &d.beaconing,
           &d.cache_snooping, &d.resolver_switch, &d.answer_change, &d.spoofed_response, &d.intel_match})
    c->max_keys = 16;
  d.enumeration.sketch_pool = d.tunneling.sketch_pool = d.recon_sweep.sketch_pool = 8;
  d.suppression_keys = 16;
  d.network.monitored_zones = {"example.com"};
  return d;
}

class Alerts final : public detect::AlertSink {
 public:
  void emit(const detect::Alert& a) override {
    output::write_alert_json(a, {"fuzz", "0"}, j_);
    check_json(j_.line());
  }

 private:
  output::Json j_;
};

class Sink final : public EventSink {
 public:
  void on_event(const DnsEvent& ev) override {
    if (ev.msg == nullptr || ev.qname == nullptr) __builtin_trap();
    if (ev.size != ev.msg->wire().size()) __builtin_trap();
    if (ev.duplicate && !ev.matched) __builtin_trap();
    output::write_event_json(ev, j_);
    check_json(j_.line());
    engine_.on_event(ev);
  }
  void on_unanswered(const UnansweredQuery& q) override {
    if (q.name.size() > kMaxStoredName) __builtin_trap();
    output::write_unanswered_json(q, j_);
    check_json(j_.line());
    engine_.on_unanswered(q);
  }
  void on_flow(const FlowEvent& f) override { engine_.on_flow(f); }
  void on_tick(Timestamp now) override { engine_.on_tick(now); }
  void finish() { engine_.finish(); }

 private:
  output::Json j_;
  Alerts alerts_;
  detect::Engine engine_{detection(), alerts_};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const PipelineOptions opts = options();
  struct State {
    Sink sink;
    Pipeline pipeline{opts, sink};
  };
  static std::unique_ptr<State> state;
  // Captures end in 2106 (pcap's 32-bit seconds; pcapng is clamped there, dnstap before 2262).
  // An hour between inputs passes that after about a million inputs: then start afresh, so that
  // packet time stays what a real source can give (beyond it, sums of times would overflow).
  if (!state || state->pipeline.now() > kLastStart) state = std::make_unique<State>();
  Sink& sink = state->sink;
  Pipeline& pipeline = state->pipeline;
  if (size == 0) return 0;
  const int link = kLinkTypes[(data[0] & 0x7F) % kLinkTypeCount];
  const bool several = (data[0] & 0x80) != 0;
  Bytes rest{data + 1, size - 1};
  // Every input starts an hour of packet time after the previous one ended.
  Timestamp ts = pipeline.now() + 3600 * kNanosPerSecond;
  if (!several) {
    pipeline.on_frame(link, ts, rest);
  } else {
    while (rest.size() >= 3) {
      ts += Timestamp{rest[0]} * 20'000'000;
      const std::size_t len = std::size_t{rest[1]} << 8 | rest[2];
      rest = rest.subspan(3);
      const Bytes frame = rest.first(len < rest.size() ? len : rest.size());
      rest = rest.subspan(frame.size());
      pipeline.on_frame(link, ts, frame);
      // The tables never exceed their caps.
      if (pipeline.fragments_pending() > opts.defrag.max_datagrams || pipeline.tcp_flows() > opts.tcp.max_flows ||
          pipeline.transactions_pending() > opts.transactions.max_pending)
        __builtin_trap();
    }
  }
  pipeline.finish();
  sink.finish();
  if (pipeline.fragments_pending() != 0 || pipeline.tcp_flows() != 0 || pipeline.transactions_pending() != 0)
    __builtin_trap();
  return 0;
}
