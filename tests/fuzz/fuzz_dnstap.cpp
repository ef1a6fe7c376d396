// Fuzz target: dnstap input. Octet 0 picks the layer: even, the rest is one Frame Streams data
// frame payload (a Dnstap protobuf) for the decoder; odd, the rest is a whole Frame Streams
// file (control frames, escapes, lengths) for libfstrm's reader, each of its frames decoded.
// Every decoded message goes through the packet path, whose events must be valid JSON; bad
// protobufs and damaged streams must be counted or refused, never crash.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "../unit/sensor/json_check.hpp"
#include "dnsvigil/dnstap/dnstap.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/output/json.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil;

namespace {

class Sink final : public sensor::EventSink {
 public:
  void on_event(const sensor::DnsEvent& ev) override {
    if (ev.dnstap == 0) __builtin_trap();  // only dnstap events come from this input
    output::write_event_json(ev, j_);
    if (!test::json::parse(j_.line()).ok) __builtin_trap();
  }

 private:
  output::Json j_;
};

void feed(dnstap::Decoder& d, sensor::Pipeline& p, std::span<const std::uint8_t> frame) {
  sensor::DnstapMessage m;
  if (d.decode(frame, m) == dnstap::Decoded::message) p.on_dnstap(m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Sink sink;
  static sensor::Pipeline pipeline(sensor::PipelineOptions{}, sink);
  static dnstap::Decoder decoder;
  if (size == 0) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    feed(decoder, pipeline, rest);
    return 0;
  }
  // The stream reader reads files: the input goes through one in memory (memfd), written anew
  // each time and opened by its /proc path, as a file on disk would be.
  static const int fd = ::memfd_create("fuzz_dnstap", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::pwrite(fd, rest.data(), rest.size(), 0) != static_cast<ssize_t>(rest.size()))
    __builtin_trap();
  try {
    const auto r = dnstap::FrameReader::open_file(path);
    std::span<const std::uint8_t> frame;
    while (r->next(frame) == dnstap::FrameReader::Result::frame) feed(decoder, pipeline, frame);
  } catch (const std::runtime_error&) {
    // not a dnstap stream: refused with a message
  }
  return 0;
}
