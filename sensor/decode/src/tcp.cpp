#include "dnsvigil/sensor/tcp.hpp"

#include <algorithm>
#include <cstring>

#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/name.hpp"

namespace dnsvigil::sensor {

namespace {
constexpr std::uint32_t kNoBuffer = 0xFFFFFFFF;
// Out-of-order segments held per direction before the gap in front of them is given up.
constexpr std::size_t kMaxHeldSegments = 64;
// RFC 1035 §4.2.2 length prefix + the largest message.
constexpr std::size_t kMaxFramed = 2 + 65535;

std::int32_t seq_diff(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(a - b); }

// The header of a length-prefixed DNS message at `p` (at least 2 + 12 octets) is plausible.
bool plausible_header(const std::uint8_t* p) noexcept {
  const std::size_t len = dnsparse::load_be16(p);
  if (len < dnsparse::limits::kHeaderSize) return false;
  const std::uint8_t* h = p + 2;
  const unsigned opcode = (h[2] >> 3) & 0xF;
  const bool z = (h[3] & 0x40) != 0;
  const unsigned qd = dnsparse::load_be16(h + 4);
  return !z && qd <= 1 && opcode != 3 && opcode <= 6;
}

enum class Candidate : std::uint8_t { reject, open, verified };

// Judges offset `p` of `data` as the start of a length-prefixed DNS message, to find the framing
// again in a stream joined mid-way or after a gap. A start is `verified` only when the whole
// message is present and parses cleanly, and what follows it is the end of the data or another
// plausible header: a few plausible header octets inside a record are common, a clean parse
// ending exactly at the next plausible header is not. `open` means more data is needed.
Candidate judge(Bytes data, std::size_t p) noexcept {
  const std::size_t avail = data.size() - p;
  if (avail < 2 + dnsparse::limits::kHeaderSize) return Candidate::open;
  if (!plausible_header(data.data() + p)) return Candidate::reject;
  const std::size_t len = dnsparse::load_be16(data.data() + p);
  if (avail < 2 + len) return Candidate::open;
  dnsparse::Message m;
  if (dnsparse::Message::parse(data.subspan(p + 2, len), m) != dnsparse::Error::ok) return Candidate::reject;
  const auto a = m.anomalies();
  if (a.test(dnsparse::Anomaly::rr_malformed) || a.test(dnsparse::Anomaly::count_mismatch) ||
      a.test(dnsparse::Anomaly::trailing_bytes))
    return Candidate::reject;
  const std::size_t next = 2 + len;
  if (avail == next) return Candidate::verified;
  if (avail - next < 2 + dnsparse::limits::kHeaderSize) return Candidate::open;
  return plausible_header(data.data() + p + next) ? Candidate::verified : Candidate::reject;
}
}  // namespace

struct TcpReassembler::State {
  std::uint32_t next_seq;
  std::uint32_t buffer;  // kNoBuffer when nothing is held (a zero State has buffer 0: see emplace)
  bool synced;           // next_seq is known
  bool aligned;          // the next in-order octet starts a length prefix (or the buffered message)
  bool has_buffer;
  bool has_peer_ack;      // peer_ack is known
  std::uint32_t peer_ack;  // highest acknowledgment number the other direction sent
  // Enough of the last segment to rebuild a Packet when the stream is closed by time.
  std::uint8_t ip_version, vlan_count;
  std::uint16_t vlan0;
};

struct TcpReassembler::Buffer {
  struct Held {
    std::uint32_t seq, off, len;
    Timestamp ts;  // when the capture showed it
  };
  std::vector<std::uint8_t> data;  // in-order octets not yet framed into a message
  std::vector<Held> held;          // out-of-order segments
  std::vector<std::uint8_t> held_data;
  [[nodiscard]] std::size_t bytes() const noexcept { return data.size() + held_data.size(); }
};

TcpReassembler::TcpReassembler(const TcpLimits& limits, Counters& counters, TcpMessageSink& sink)
    : limits_(limits),
      c_(counters),
      sink_(sink),
      table_(std::make_unique<Table>(limits.max_flows)) {}

TcpReassembler::~TcpReassembler() = default;

std::size_t TcpReassembler::flows() const noexcept { return table_->size(); }

TcpReassembler::Buffer& TcpReassembler::buffer(State& s) noexcept {
  if (!s.has_buffer) {
    if (!free_.empty()) {
      s.buffer = free_.back();
      free_.pop_back();
    } else {
      buffers_.push_back(std::make_unique<Buffer>());
      s.buffer = static_cast<std::uint32_t>(buffers_.size() - 1);
    }
    s.has_buffer = true;
  }
  return *buffers_[s.buffer];
}

void TcpReassembler::drop_buffer(State& s) noexcept {
  if (!s.has_buffer) return;
  Buffer& b = *buffers_[s.buffer];
  bytes_held_ -= b.bytes();
  b.data.clear();
  b.held.clear();
  b.held_data.clear();
  // Buffers that grew for a large transfer give their memory back; small ones are reused.
  if (b.data.capacity() > kMaxFramed) b.data.shrink_to_fit();
  if (b.held_data.capacity() > limits_.max_flow_bytes) b.held_data.shrink_to_fit();
  free_.push_back(s.buffer);
  s.has_buffer = false;
  s.buffer = kNoBuffer;
}

std::size_t TcpReassembler::frame(State& s, Bytes data, const Packet& pkt, Timestamp now) noexcept {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t avail = data.size() - pos;
    if (!s.aligned) {
      // Resynchronise on the first verified start. Starts that cannot be judged yet (their
      // message is incomplete) are kept, from the first of them, until more data decides; a
      // verified start after them wins.
      std::size_t open = data.size();
      std::size_t p = pos;
      for (; p < data.size(); ++p) {
        const Candidate j = judge(data, p);
        if (j == Candidate::verified) break;
        if (j == Candidate::open && open == data.size()) open = p;
      }
      const std::size_t to = p < data.size() ? p : open;
      c_.add(Counter::tcp_resync_skipped_bytes, to - pos);
      pos = to;
      if (p == data.size()) return pos;
      s.aligned = true;
      continue;
    }
    if (avail < 2) return pos;
    const std::size_t len = dnsparse::load_be16(data.data() + pos);
    if (len < dnsparse::limits::kHeaderSize) {
      c_.add(Counter::tcp_bad_length_prefix);
      s.aligned = false;
      continue;
    }
    if (avail < 2 + len) return pos;
    sink_.on_tcp_message(data.subspan(pos + 2, len), pkt, now);
    pos += 2 + len;
  }
}

std::size_t TcpReassembler::room(const Buffer& b) const noexcept {
  const std::size_t flow = b.bytes() < limits_.max_flow_bytes ? limits_.max_flow_bytes - b.bytes() : 0;
  const std::size_t all = bytes_held_ < limits_.max_total_bytes ? limits_.max_total_bytes - bytes_held_ : 0;
  return std::min(flow, all);
}

void TcpReassembler::deliver(State& s, Bytes data, const Packet& pkt, Timestamp now) noexcept {
  if (!s.has_buffer || buffers_[s.buffer]->data.empty()) {
    // Fast path: frame straight out of the packet; copy only an incomplete tail.
    const std::size_t used = frame(s, data, pkt, now);
    const Bytes rest = data.subspan(used);
    if (rest.empty()) return;
    Buffer& b = buffer(s);
    if (rest.size() > std::min(room(b), kMaxFramed)) {
      // No room for the tail: the message it starts is lost; look for framing again after it.
      c_.add(Counter::tcp_capped_bytes, rest.size());
      s.aligned = false;
      return;
    }
    b.data.insert(b.data.end(), rest.begin(), rest.end());
    bytes_held_ += rest.size();
    return;
  }
  Buffer& b = *buffers_[s.buffer];
  // Append only up to the end of the buffered message when its length is known: the rest of the
  // segment then takes the fast path, and a large message never needs more than kMaxFramed.
  std::size_t want = data.size();
  if (s.aligned && b.data.size() >= 2) {
    const std::size_t framed = 2 + std::size_t{dnsparse::load_be16(b.data.data())};
    if (framed > b.data.size()) want = std::min(want, framed - b.data.size());
  }
  if (want > std::min(kMaxFramed - b.data.size(), room(b))) {
    // No room for the segment: the buffered partial message can never be completed, and gluing
    // later octets onto it would splice two messages. Drop both and resynchronise.
    c_.add(Counter::tcp_capped_bytes, data.size());
    c_.add(Counter::tcp_truncated_bytes, b.data.size());
    bytes_held_ -= b.data.size();
    b.data.clear();
    s.aligned = false;
    return;
  }
  b.data.insert(b.data.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(want));
  bytes_held_ += want;
  const std::size_t used = frame(s, b.data, pkt, now);
  b.data.erase(b.data.begin(), b.data.begin() + static_cast<std::ptrdiff_t>(used));
  bytes_held_ -= used;
  if (want < data.size()) {
    deliver(s, data.subspan(want), pkt, now);
    return;
  }
  // A full buffer that frames nothing can never complete: drop it and look for framing again.
  if (used == 0 && b.data.size() == kMaxFramed) {
    c_.add(Counter::tcp_capped_bytes, b.data.size());
    bytes_held_ -= b.data.size();
    b.data.clear();
    s.aligned = false;
  }
}

void TcpReassembler::store_out_of_order(State& s, std::uint32_t seq, Bytes data, Timestamp now) noexcept {
  Buffer& b = buffer(s);
  if (b.held.size() >= kMaxHeldSegments || b.bytes() + data.size() > limits_.max_flow_bytes ||
      bytes_held_ + data.size() > limits_.max_total_bytes) {
    c_.add(Counter::tcp_capped_bytes, data.size());
    return;
  }
  b.held.push_back({seq, static_cast<std::uint32_t>(b.held_data.size()), static_cast<std::uint32_t>(data.size()), now});
  b.held_data.insert(b.held_data.end(), data.begin(), data.end());
  bytes_held_ += data.size();
  c_.add(Counter::tcp_out_of_order);
}

void TcpReassembler::drain_out_of_order(State& s, const Packet& pkt, Timestamp now, bool held_time) noexcept {
  for (;;) {
    if (!s.has_buffer) return;
    Buffer& b = *buffers_[s.buffer];
    if (b.held.empty()) return;
    bool progressed = false;
    for (std::size_t i = 0; i < b.held.size(); ++i) {
      const Buffer::Held h = b.held[i];
      const std::int32_t d = seq_diff(h.seq, s.next_seq);
      if (d > 0) continue;
      b.held.erase(b.held.begin() + static_cast<std::ptrdiff_t>(i));
      const auto overlap = 0u - static_cast<std::uint32_t>(d);  // no signed negation: d may be INT32_MIN
      if (overlap >= h.len) {
        c_.add(Counter::tcp_retransmitted_bytes, h.len);
      } else {
        c_.add(Counter::tcp_retransmitted_bytes, overlap);
        // Copy out: delivering may append to b.data, and held_data is reset below.
        const Bytes part{b.held_data.data() + h.off + overlap, h.len - overlap};
        s.next_seq += h.len - overlap;
        // After a hole given up, held data completes messages when the capture showed it.
        deliver(s, part, pkt, held_time ? h.ts : now);
      }
      progressed = true;
      break;
    }
    if (!s.has_buffer) return;
    Buffer& b2 = *buffers_[s.buffer];
    if (b2.held.empty() && !b2.held_data.empty()) {
      bytes_held_ -= b2.held_data.size();
      b2.held_data.clear();
    }
    if (!progressed) return;
  }
}

bool TcpReassembler::skip_gap(State& s, const Packet& pkt, Timestamp now) noexcept {
  if (!s.has_buffer) return false;
  Buffer& b = *buffers_[s.buffer];
  if (b.held.empty()) return false;
  std::uint32_t first = b.held.front().seq;
  for (const auto& h : b.held)
    if (seq_diff(h.seq, first) < 0) first = h.seq;
  const std::int32_t gap = seq_diff(first, s.next_seq);
  if (gap > 0) c_.add(Counter::tcp_gap_bytes, static_cast<std::uint64_t>(gap));
  // The partial message in front of the gap can never complete.
  if (!b.data.empty()) {
    c_.add(Counter::tcp_truncated_bytes, b.data.size());
    bytes_held_ -= b.data.size();
    b.data.clear();
  }
  s.next_seq = first;
  s.aligned = false;
  drain_out_of_order(s, pkt, now, true);
  return true;
}

void TcpReassembler::close(State& s, bool count_truncated) noexcept {
  if (s.has_buffer) {
    Buffer& b = *buffers_[s.buffer];
    if (count_truncated && !b.data.empty()) c_.add(Counter::tcp_truncated_bytes, b.data.size());
    if (!b.held_data.empty()) c_.add(Counter::tcp_capped_bytes, b.held_data.size());
  }
  drop_buffer(s);
}

Packet TcpReassembler::packet_of(const FlowKey& key, const State& s) noexcept {
  Packet pkt;
  pkt.src = key.src;
  pkt.dst = key.dst;
  pkt.sport = key.sport;
  pkt.dport = key.dport;
  pkt.proto = kProtoTcp;
  pkt.ip_version = s.ip_version;
  pkt.vlan_count = s.vlan_count;
  pkt.vlan[0] = s.vlan0;
  return pkt;
}

void TcpReassembler::peer_acked(const Packet& pkt, Timestamp now) noexcept {
  FlowKey k;
  k.src = pkt.dst;
  k.dst = pkt.src;
  k.sport = pkt.dport;
  k.dport = pkt.sport;
  Table::Entry* e = table_->find(k);
  if (e == nullptr) return;
  State& s = e->value;
  if (!s.has_peer_ack || seq_diff(pkt.ack, s.peer_ack) > 0) {
    s.peer_ack = pkt.ack;
    s.has_peer_ack = true;
  }
  // The receiver acknowledged octets the capture never showed: the hole will not be filled.
  if (s.synced && seq_diff(pkt.ack, s.next_seq) > 0 && s.has_buffer && !buffers_[s.buffer]->held.empty()) {
    const Packet rev = packet_of(e->key, s);
    give_up_acked_holes(s, rev, now);
  }
}

void TcpReassembler::give_up_acked_holes(State& s, const Packet& pkt, Timestamp now) noexcept {
  while (s.has_buffer && seq_diff(s.peer_ack, s.next_seq) > 0) {
    const Buffer& b = *buffers_[s.buffer];
    if (b.held.empty()) return;
    std::uint32_t first = b.held.front().seq;
    for (const auto& h : b.held)
      if (seq_diff(h.seq, first) < 0) first = h.seq;
    if (seq_diff(first, s.peer_ack) > 0) return;  // the peer has not seen that far yet
    if (!skip_gap(s, pkt, now)) return;
  }
}

void TcpReassembler::add(const Packet& pkt, Timestamp now) noexcept {
  c_.add(Counter::tcp_segments);
  if (pkt.tcp_flags & tcpflag::ACK) peer_acked(pkt, now);
  FlowKey k;
  k.src = pkt.src;
  k.dst = pkt.dst;
  k.sport = pkt.sport;
  k.dport = pkt.dport;
  Table::Entry* e = nullptr;
  if (pkt.payload.empty() && !(pkt.tcp_flags & tcpflag::SYN)) {
    // A bare ACK, FIN or RST never opens a stream (the last ACK after a FIN would re-open the
    // stream just closed).
    e = table_->touch(k, now);
    if (e == nullptr) return;
  } else {
    auto [entry, inserted] = table_->emplace(k, now, [&](Table::Entry& victim) {
      c_.add(Counter::tcp_flows_evicted);
      close(victim.value, true);
    });
    e = entry;
    if (inserted) {
      c_.add(Counter::tcp_streams);
      e->value.buffer = kNoBuffer;
    }
  }
  State& s = e->value;
  s.ip_version = pkt.ip_version;
  s.vlan_count = pkt.vlan_count;
  s.vlan0 = pkt.vlan[0];
  if (pkt.tcp_flags & tcpflag::RST) {
    close(s, true);
    table_->erase(e);
    return;
  }
  std::uint32_t seq = pkt.seq;
  if (pkt.tcp_flags & tcpflag::SYN) {
    // A new connection on this 4-tuple starts clean.
    drop_buffer(s);
    s.next_seq = seq + 1;
    s.synced = true;
    s.aligned = true;
    s.has_peer_ack = false;
    seq += 1;
  }
  Bytes data = pkt.payload;
  if (!data.empty()) {
    if (!s.synced) {
      c_.add(Counter::tcp_midstream);
      s.synced = true;
      s.next_seq = seq;
      s.aligned = false;
    }
    const std::int32_t d = seq_diff(seq, s.next_seq);
    if (d < 0) {
      const auto old = 0u - static_cast<std::uint32_t>(d);  // no signed negation: d may be INT32_MIN
      if (old >= data.size()) {
        c_.add(Counter::tcp_retransmitted_bytes, data.size());
        data = {};
      } else {
        c_.add(Counter::tcp_retransmitted_bytes, old);
        data = data.subspan(old);
        seq += old;
      }
    }
    if (!data.empty()) {
      if (seq_diff(seq, s.next_seq) > 0) {
        store_out_of_order(s, seq, data, now);
        // Too much waiting behind a hole the capture will not fill: give the hole up.
        if (s.has_buffer) {
          const Buffer& b = *buffers_[s.buffer];
          if (b.held.size() >= kMaxHeldSegments || b.held_data.size() * 2 > limits_.max_flow_bytes) skip_gap(s, pkt, now);
        }
        // The receiver already acknowledged the hole: the capture lost it; deliver now.
        if (s.has_peer_ack) give_up_acked_holes(s, pkt, now);
      } else {
        s.next_seq += static_cast<std::uint32_t>(data.size());
        deliver(s, data, pkt, now);
        drain_out_of_order(s, pkt, now, false);
      }
    }
  }
  if (pkt.tcp_flags & tcpflag::FIN) {
    while (skip_gap(s, pkt, now)) {
    }
    close(s, true);
    table_->erase(e);
  }
}

void TcpReassembler::finish(const FlowKey& key, State& s, Timestamp last_seen) noexcept {
  // Deliver what lies behind holes the capture will never fill, then close.
  const Packet pkt = packet_of(key, s);
  while (skip_gap(s, pkt, last_seen)) {
  }
  close(s, true);
}

void TcpReassembler::expire(Timestamp now) noexcept {
  const std::size_t n = table_->expire(now - limits_.idle_timeout, [&](Table::Entry& entry) { finish(entry.key, entry.value, entry.last_seen); });
  c_.add(Counter::tcp_flows_expired, n);
}

void TcpReassembler::flush() noexcept {
  table_->drain([&](Table::Entry& entry) { finish(entry.key, entry.value, entry.last_seen); });
}

}  // namespace dnsvigil::sensor
