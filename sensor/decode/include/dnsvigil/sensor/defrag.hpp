// IPv4 and IPv6 fragment reassembly, bounded in datagrams, bytes and time (packet time).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/counters.hpp"
#include "dnsvigil/sensor/decode.hpp"
#include "dnsvigil/sensor/table.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::sensor {

/// Limits of the defragmenter (config keys `reassembly.ip.*`).
struct DefragLimits {
  std::size_t max_datagrams = 8192;                ///< incomplete datagrams held at once
  std::size_t max_bytes = 32u << 20;               ///< octets held in all incomplete datagrams
  Timestamp timeout = 30 * kNanosPerSecond;        ///< Linux ipfrag_time default
};

/// Reassembles fragmented IP datagrams. Overlap policy: for IPv6 an overlapping fragment
/// drops the whole datagram (RFC 5722); for IPv4 the first copy of each octet wins (what most
/// end systems do) and the overlap is counted. Every outcome has a counter.
class Defragmenter {
 public:
  Defragmenter(const DefragLimits& limits, Counters& counters);
  ~Defragmenter();

  /// Adds the fragment in `pkt` (decode_frame returned Decoded::fragment). When it completes
  /// its datagram, returns the reassembled transport-layer bytes (valid until the next call)
  /// and their protocol in `proto`; otherwise an empty span.
  [[nodiscard]] Bytes add(const Packet& pkt, Timestamp now, std::uint8_t& proto) noexcept;

  /// Drops incomplete datagrams not touched since `now - timeout`.
  void expire(Timestamp now) noexcept;
  /// End of input: gives up every incomplete datagram (counted as timed out).
  void expire_all() noexcept;

  [[nodiscard]] std::size_t pending() const noexcept { return table_.size(); }
  [[nodiscard]] std::size_t bytes_held() const noexcept { return bytes_held_; }

 private:
  struct Key {
    IpAddr src, dst;
    std::uint32_t id;
    std::uint8_t version, proto;
    std::uint8_t pad[2];
  };
  struct State {
    std::uint32_t buffer;         // index into buffers_
    std::uint32_t total;          // datagram payload length once the last fragment is seen, else 0
    std::uint32_t blocks_needed;  // 8-octet blocks in the datagram (when total is known)
    std::uint32_t blocks_have;
    std::uint32_t high;           // highest end offset received
    bool have_last;
  };
  struct Buffer;

  void release(State& s) noexcept;
  std::uint32_t acquire() noexcept;

  DefragLimits limits_;
  Counters& c_;
  LruTable<Key, State> table_;
  std::vector<std::unique_ptr<Buffer>> buffers_;
  std::vector<std::uint32_t> free_;
  std::size_t bytes_held_ = 0;
  std::uint32_t done_ = 0xFFFFFFFF;  // buffer of the last completed datagram, freed on the next call
};

}  // namespace dnsvigil::sensor
