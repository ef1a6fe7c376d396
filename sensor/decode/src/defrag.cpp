#include "dnsvigil/sensor/defrag.hpp"

#include <array>
#include <cstring>

namespace dnsvigil::sensor {

namespace {
// RFC 791 / RFC 8200: fragment offsets count 8-octet blocks; a datagram's payload ends by 65535.
constexpr std::uint32_t kMaxPayload = 65535;
constexpr std::uint32_t kBlocks = (kMaxPayload + 7) / 8;
}  // namespace

struct Defragmenter::Buffer {
  std::vector<std::uint8_t> data;
  std::array<std::uint64_t, (kBlocks + 63) / 64> have{};

  bool test(std::uint32_t b) const noexcept { return (have[b / 64] >> (b % 64)) & 1U; }
  void set(std::uint32_t b) noexcept { have[b / 64] |= std::uint64_t{1} << (b % 64); }
};

Defragmenter::Defragmenter(const DefragLimits& limits, Counters& counters)
    : limits_(limits), c_(counters), table_(limits.max_datagrams) {
  buffers_.reserve(limits.max_datagrams + 1);
}

Defragmenter::~Defragmenter() = default;

std::uint32_t Defragmenter::acquire() noexcept {
  if (!free_.empty()) {
    const std::uint32_t b = free_.back();
    free_.pop_back();
    return b;
  }
  // One buffer per concurrently incomplete datagram at most (max_datagrams + the one being
  // handed out), allocated once and reused after.
  buffers_.push_back(std::make_unique<Buffer>());
  return static_cast<std::uint32_t>(buffers_.size() - 1);
}

void Defragmenter::release(State& s) noexcept {
  Buffer& b = *buffers_[s.buffer];
  bytes_held_ -= b.data.size();
  b.data.clear();
  b.have.fill(0);
  free_.push_back(s.buffer);
}

Bytes Defragmenter::add(const Packet& pkt, Timestamp now, std::uint8_t& proto) noexcept {
  if (done_ != 0xFFFFFFFF) {
    Buffer& b = *buffers_[done_];
    b.data.clear();
    b.have.fill(0);
    free_.push_back(done_);
    done_ = 0xFFFFFFFF;
  }
  c_.add(Counter::frag_fragments);
  const std::uint32_t off = pkt.frag_offset;
  const auto len = static_cast<std::uint32_t>(pkt.payload.size());
  // Every fragment but the last carries a multiple of 8 octets (RFC 791, RFC 8200 §4.5).
  if ((pkt.more_fragments && (len == 0 || len % 8 != 0))) {
    c_.add(Counter::frag_invalid);
    return {};
  }
  if (off + len > kMaxPayload) {
    c_.add(Counter::frag_too_big);
    return {};
  }
  Key k{};
  k.src = pkt.src;
  k.dst = pkt.dst;
  k.id = pkt.frag_id;
  k.version = pkt.ip_version;
  k.proto = pkt.proto;
  auto [e, inserted] = table_.emplace(k, now, [&](auto& victim) {
    c_.add(Counter::frag_evicted);
    release(victim.value);
  });
  State& s = e->value;
  if (inserted) s.buffer = acquire();
  Buffer& b = *buffers_[s.buffer];

  if (!pkt.more_fragments) {
    if (s.have_last && s.total != off + len) {
      c_.add(Counter::frag_invalid);
      release(s);
      table_.erase(e);
      return {};
    }
    s.have_last = true;
    s.total = off + len;
    s.blocks_needed = (s.total + 7) / 8;
  }
  if ((s.have_last && off + len > s.total) || (s.have_last && s.high > s.total)) {
    c_.add(Counter::frag_invalid);
    release(s);
    table_.erase(e);
    return {};
  }

  // Byte budget across all incomplete datagrams: evict the oldest until this one fits.
  const std::size_t grow = off + len > b.data.size() ? off + len - b.data.size() : 0;
  while (grow != 0 && bytes_held_ + grow > limits_.max_bytes) {
    auto* oldest = table_.oldest();
    if (oldest == nullptr || oldest == e) break;
    c_.add(Counter::frag_evicted);
    release(oldest->value);
    table_.erase(oldest);
  }
  if (grow != 0 && bytes_held_ + grow > limits_.max_bytes) {
    c_.add(Counter::frag_evicted);
    release(s);
    table_.erase(e);
    return {};
  }
  if (grow != 0) {
    b.data.resize(off + len);
    bytes_held_ += grow;
  }

  const std::uint32_t first = off / 8;
  const std::uint32_t last = (off + len + 7) / 8;  // exclusive
  bool overlap = false;
  for (std::uint32_t blk = first; blk < last; ++blk) {
    if (b.test(blk)) {
      overlap = true;
      continue;
    }
    const std::uint32_t from = blk * 8;
    const std::uint32_t to = std::min(from + 8, off + len);
    std::memcpy(b.data.data() + from, pkt.payload.data() + (from - off), to - from);
    b.set(blk);
    ++s.blocks_have;
  }
  if (off + len > s.high) s.high = off + len;
  if (overlap) {
    c_.add(Counter::frag_overlap);
    if (pkt.ip_version == 6) {  // RFC 5722: discard the whole datagram
      release(s);
      table_.erase(e);
      return {};
    }
  }
  if (!s.have_last || s.blocks_have != s.blocks_needed) return {};

  c_.add(Counter::frag_reassembled);
  proto = pkt.proto;
  done_ = s.buffer;
  bytes_held_ -= b.data.size();
  table_.erase(e);
  return {b.data.data(), s.total};
}

void Defragmenter::expire(Timestamp now) noexcept {
  c_.add(Counter::frag_timeout, table_.expire(now - limits_.timeout, [&](auto& entry) { release(entry.value); }));
}

void Defragmenter::expire_all() noexcept {
  std::uint64_t n = 0;
  table_.drain([&](auto& entry) {
    release(entry.value);
    ++n;
  });
  c_.add(Counter::frag_timeout, n);
}

}  // namespace dnsvigil::sensor
