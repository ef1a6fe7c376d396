// Fuzz target: the pcapng block reader on whole files, read from memory and through a file
// descriptor (which must give the same packets, the same counters and the same error), and
// every packet through the packet path with its own interface's link type, the event JSON (with
// the interface's name) checked as JSON.
//
// Input: a pcapng file as it would be on disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../unit/sensor/json_check.hpp"
#include "dnsvigil/capture/pcapng.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/output/json.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil;
using capture::PcapngPacket;
using capture::PcapngReader;

namespace {

sensor::PipelineOptions options() {
  sensor::PipelineOptions o;
  o.defrag.max_datagrams = 4;
  o.defrag.max_bytes = 16 * 1024;
  o.tcp.max_flows = 4;
  o.tcp.max_flow_bytes = 8 * 1024;
  o.tcp.max_total_bytes = 64 * 1024;
  o.transactions.max_pending = 8;
  return o;
}

class Sink final : public sensor::EventSink {
 public:
  std::string_view interface;
  void on_event(const sensor::DnsEvent& ev) override {
    output::write_event_json(ev, j_, interface);
    if (!test::json::parse(j_.line()).ok) __builtin_trap();
  }
  void on_unanswered(const sensor::UnansweredQuery& q) override {
    output::write_unanswered_json(q, j_);
    if (!test::json::parse(j_.line()).ok) __builtin_trap();
  }

 private:
  output::Json j_;
};

struct Seen {
  sensor::Timestamp ts;
  std::size_t size;
  std::uint32_t wire, iface;
};

// Reads everything; checks what every packet must satisfy.
PcapngReader::Next read_all(PcapngReader& r, std::vector<Seen>& seen, sensor::Pipeline* pipeline, Sink* sink) {
  PcapngPacket p;
  for (;;) {
    const auto n = r.next(p);
    if (n != PcapngReader::Next::packet) {
      if ((n == PcapngReader::Next::error) == r.error().empty()) __builtin_trap();
      return n;
    }
    if (p.interface >= r.interfaces().size()) __builtin_trap();
    const capture::PcapngInterface& iface = r.interface(p.interface);
    if (!iface.supported || iface.name.size() > capture::kMaxInterfaceName) __builtin_trap();
    if (p.data.size() > capture::kMaxFrame || p.ts < 0 || p.ts > capture::kPcapngMaxTimestamp) __builtin_trap();
    seen.push_back({p.ts, p.data.size(), p.wire_len, p.interface});
    if (pipeline != nullptr) {
      sink->interface = iface.name;
      pipeline->on_frame(iface.link_type, p.ts, p.data);
    }
  }
}

bool same(const capture::PcapngStats& a, const capture::PcapngStats& b) {
  return a.sections == b.sections && a.interfaces == b.interfaces && a.packets == b.packets &&
         a.blocks_skipped == b.blocks_skipped && a.unsupported_link == b.unsupported_link &&
         a.oversized == b.oversized && a.bad_options == b.bad_options && a.time_clamped == b.time_clamped &&
         a.no_timestamp == b.no_timestamp;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Sink sink;
  static const sensor::PipelineOptions opts = options();
  static sensor::Pipeline pipeline(opts, sink);

  PcapngReader mem{dnsparse::Bytes{data, size}};
  std::vector<Seen> a, b;
  const auto ra = read_all(mem, a, &pipeline, &sink);
  pipeline.finish();
  if (pipeline.tcp_flows() != 0 || pipeline.transactions_pending() != 0) __builtin_trap();

  // The same file through a descriptor, its first octets handed over as the format check does.
  const int fd = ::memfd_create("fuzz_pcapng", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (size == 0 || ::write(fd, data, size) == static_cast<ssize_t>(size)) {
    const std::size_t head = size < 4 ? size : 4;
    (void)::lseek(fd, static_cast<off_t>(head), SEEK_SET);
    PcapngReader file{fd, dnsparse::Bytes{data, head}};
    const auto rb = read_all(file, b, nullptr, nullptr);
    if (ra != rb || a.size() != b.size() || !same(mem.stats(), file.stats())) __builtin_trap();
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i].ts != b[i].ts || a[i].size != b[i].size || a[i].wire != b[i].wire || a[i].iface != b[i].iface)
        __builtin_trap();
    // The error names the same fault at the same offset (a read error aside).
    if (mem.error() != file.error()) __builtin_trap();
  }
  ::close(fd);
  return 0;
}
