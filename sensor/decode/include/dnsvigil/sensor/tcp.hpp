// DNS over TCP (RFC 7766): per-direction stream reassembly of 2-octet length-prefixed messages.
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

/// Limits of TCP reassembly (config keys `reassembly.tcp.*`).
struct TcpLimits {
  std::size_t max_flows = 262144;              ///< stream directions tracked at once
  std::size_t max_flow_bytes = 256u << 10;     ///< octets buffered per direction (in order + held out of order)
  std::size_t max_total_bytes = 64u << 20;     ///< octets buffered in all flows
  Timestamp idle_timeout = 60 * kNanosPerSecond;
};

/// One direction of a TCP connection.
struct FlowKey {
  IpAddr src, dst;
  std::uint16_t sport = 0, dport = 0;
};

/// Receives complete DNS messages from TCP streams.
class TcpMessageSink {
 public:
  virtual ~TcpMessageSink() = default;
  /// `msg` is one DNS message without its length prefix, valid during the call. `ts` is the
  /// time of the segment that completed it; `pkt` is that segment (addresses, ports, VLAN).
  virtual void on_tcp_message(Bytes msg, const Packet& pkt, Timestamp ts) = 0;
};

/// Reassembles each direction of every TCP connection on DNS ports into DNS messages.
/// In-order segments that hold whole messages are parsed in place (no copy); only partial
/// messages and out-of-order data are buffered, within per-flow and global caps. Streams
/// joined mid-way, or resumed after a capture gap, are resynchronised on a length prefix whose
/// whole message parses cleanly and is followed by another plausible header (or the end of the
/// data); skipped octets are counted. A hole the other direction has already acknowledged was
/// lost by the capture, not the network: it is given up at once. Segments without payload
/// (other than SYN) never open a stream.
class TcpReassembler {
 public:
  TcpReassembler(const TcpLimits& limits, Counters& counters, TcpMessageSink& sink);
  ~TcpReassembler();

  /// Feeds one decoded TCP segment (decode_frame returned Decoded::dns with proto TCP).
  void add(const Packet& pkt, Timestamp now) noexcept;
  /// Closes streams idle since `now - idle_timeout`.
  void expire(Timestamp now) noexcept;
  /// Closes every stream (end of input), delivering what can still be delivered.
  void flush() noexcept;

  [[nodiscard]] std::size_t flows() const noexcept;
  [[nodiscard]] std::size_t bytes_held() const noexcept { return bytes_held_; }

 private:
  struct State;
  struct Buffer;
  using Table = LruTable<FlowKey, State>;

  void deliver(State& s, Bytes data, const Packet& pkt, Timestamp now) noexcept;
  std::size_t frame(State& s, Bytes data, const Packet& pkt, Timestamp now) noexcept;
  void close(State& s, bool count_truncated) noexcept;
  void finish(const FlowKey& key, State& s, Timestamp last_seen) noexcept;
  Buffer& buffer(State& s) noexcept;
  void drop_buffer(State& s) noexcept;
  void store_out_of_order(State& s, std::uint32_t seq, Bytes data, Timestamp now) noexcept;
  void drain_out_of_order(State& s, const Packet& pkt, Timestamp now, bool held_time) noexcept;
  bool skip_gap(State& s, const Packet& pkt, Timestamp now) noexcept;
  void peer_acked(const Packet& pkt, Timestamp now) noexcept;
  void give_up_acked_holes(State& s, const Packet& pkt, Timestamp now) noexcept;
  [[nodiscard]] std::size_t room(const Buffer& b) const noexcept;
  static Packet packet_of(const FlowKey& key, const State& s) noexcept;

  TcpLimits limits_;
  Counters& c_;
  TcpMessageSink& sink_;
  std::unique_ptr<Table> table_;
  std::vector<std::unique_ptr<Buffer>> buffers_;
  std::vector<std::uint32_t> free_;
  std::size_t bytes_held_ = 0;
};

}  // namespace dnsvigil::sensor
