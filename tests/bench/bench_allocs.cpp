// Heap allocations per packet on the whole packet path with every rule on: decode, defrag, TCP,
// parse, names, transactions and the detection engine, as one worker runs them (no capture
// thread, no outputs). The capture is read into memory first; the first half of its packets
// warms the tables up (they grow to their working size), the second half is counted.
//
//   bench_allocs FILE [CONFIG]
//   (run.sh: bench_allocs /tmp/dnsvigil-bench/dnsgen-v1-1000000.pcap tests/bench/gen/bench-config.yaml)
//
// Prints packets, DNS messages, alerts and allocations of the counted half, and allocations per
// packet. On the 1 M dnsgen file (2026-12-05): 63 in 500 000 packets, from raising 3 alerts
// (their text and evidence, about 41) and from TCP streams whose message spans segments getting
// a reassembly buffer (about 21); none per packet.
#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "dnsvigil/config/schema.hpp"
#include "dnsvigil/detect/engine.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

namespace {

using namespace dnsvigil;

struct Frame {
  sensor::Timestamp ts;
  std::size_t at, len;
};

class CountingAlerts final : public detect::AlertSink {
 public:
  void emit(const detect::Alert& /*a*/) override { ++alerts; }
  std::uint64_t alerts = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: bench_allocs FILE [CONFIG]\n");
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) {
    std::fprintf(stderr, "bench_allocs: %s\n", err);
    return 1;
  }
  const int link = pcap_datalink(p);
  std::vector<std::uint8_t> bytes;
  std::vector<Frame> frames;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &h, &data) == 1) {
    const auto ts = static_cast<sensor::Timestamp>(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;
    frames.push_back({ts, bytes.size(), h->caplen});
    bytes.insert(bytes.end(), data, data + h->caplen);
  }
  pcap_close(p);

  const config::Settings s = argc == 3 ? config::load_file(argv[2]) : config::load_text("{}");
  CountingAlerts alerts;
  detect::Engine engine(s.detectors, alerts);
  sensor::Pipeline pipeline(s.pipeline, engine);
  const auto run = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i)
      pipeline.on_frame(link, frames[i].ts, {bytes.data() + frames[i].at, frames[i].len});
  };

  const std::size_t half = frames.size() / 2;
  run(0, half);
  const std::uint64_t alerts_before = alerts.alerts;
  const std::uint64_t messages_before = pipeline.counters().get(sensor::Counter::dns_messages);
  const unsigned long long before = bench::g_allocations.load();
  run(half, frames.size());
  const unsigned long long allocations = bench::g_allocations.load() - before;
  const std::size_t packets = frames.size() - half;
  const std::uint64_t messages = pipeline.counters().get(sensor::Counter::dns_messages) - messages_before;
  std::printf("counted half: %zu packets, %llu DNS messages, %llu alerts raised\n", packets,
              static_cast<unsigned long long>(messages),
              static_cast<unsigned long long>(alerts.alerts - alerts_before));
  std::printf("allocations: %llu (%.6f per packet)\n", allocations,
              packets != 0 ? static_cast<double>(allocations) / static_cast<double>(packets) : 0.0);
  pipeline.finish();
  engine.finish();
  return 0;
}
