#include "dnsvigil/capture/pcapng.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "dnsvigil/sensor/decode.hpp"

namespace dnsvigil::capture {

namespace {

// Fixed parts of the blocks (octets), trailer included: type, length, body, ..., length.
constexpr std::uint32_t kBlockOverhead = 12;  // type + length + trailing length
constexpr std::uint32_t kShbMin = 28;         // + magic, version, section length
constexpr std::uint32_t kIdbMin = 20;         // + link type, reserved, snap length
constexpr std::uint32_t kEpbMin = 32;         // + interface, time stamp (2), captured and original length
constexpr std::uint32_t kPbMin = 32;          // + interface (16 bits), drops (16 bits), the same as an EPB
constexpr std::uint32_t kSpbMin = 16;         // + original length

// IDB options (pcapng 4.2).
constexpr std::uint16_t kOptEnd = 0;
constexpr std::uint16_t kOptIfName = 2;
constexpr std::uint16_t kOptIfTsResol = 9;
constexpr std::uint16_t kOptIfTsOffset = 14;

// Read from the descriptor this much at a time (or what a pipe has): a chunk holds thousands of
// DNS-sized packets.
constexpr std::size_t kReadChunk = 1u << 20, kFirstChunk = 1u << 16;

std::string hex32(std::uint32_t v) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (int i = 28; i >= 0; i -= 4) s += digits[(v >> i) & 0xF];
  return s;
}

const char* block_name(std::uint32_t type) noexcept {
  switch (type) {
    case pcapng_block::kInterface: return "Interface Description Block";
    case pcapng_block::kPacketObsolete: return "Packet Block";
    case pcapng_block::kSimplePacket: return "Simple Packet Block";
    case pcapng_block::kEnhancedPacket: return "Enhanced Packet Block";
    default: return "block";
  }
}

}  // namespace

int dlt_of_linktype(std::uint16_t linktype) noexcept {
  // The LINKTYPE_* values (tcpdump.org/linktypes.html) that differ from the DLT_* value libpcap
  // uses on Linux (pcap-linktype(7)); every other value is the same number.
  switch (linktype) {
    case 100: return 11;  // LINKTYPE_ATM_RFC1483 -> DLT_ATM_RFC1483
    case 101: return 12;  // LINKTYPE_RAW -> DLT_RAW
    case 102: return 15;  // LINKTYPE_SLIP_BSDOS -> DLT_SLIP_BSDOS
    case 103: return 16;  // LINKTYPE_PPP_BSDOS -> DLT_PPP_BSDOS
    case 106: return 19;  // LINKTYPE_ATM_CLIP -> DLT_ATM_CLIP
    default: return linktype;
  }
}

bool looks_like_pcapng(dnsparse::Bytes head) noexcept {
  return head.size() >= 4 && dnsparse::load_be32(head.data()) == pcapng_block::kSectionHeader;
}

PcapngReader::PcapngReader(int fd, dnsparse::Bytes prefix) : fd_(fd) {
  buf_.resize(std::max(kFirstChunk, prefix.size()));
  std::copy(prefix.begin(), prefix.end(), buf_.begin());
  end_ = prefix.size();
}

PcapngReader::PcapngReader(dnsparse::Bytes data) : mem_(data), end_(data.size()), eof_(true) {}

std::uint16_t PcapngReader::u16(const std::uint8_t* p) const noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return swap_ ? __builtin_bswap16(v) : v;
}

std::uint32_t PcapngReader::u32(const std::uint8_t* p) const noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return swap_ ? __builtin_bswap32(v) : v;
}

// Makes the next `n` octets readable at buf_[begin_] (n <= kPcapngMaxBlock). False at the end of
// the input or on a read error (read_errno_).
bool PcapngReader::fill(std::size_t n) noexcept {
  if (end_ - begin_ >= n) return true;
  if (fd_ < 0 || eof_ || read_errno_ != 0) return false;
  if (begin_ != 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // The buffer starts small (a short file costs no 1 MiB) and doubles with every refill up to
  // kReadChunk, or to what one block needs.
  const std::size_t want = std::max(n, std::min(buf_.size() * 2, kReadChunk));
  if (buf_.size() < want) {
    try {
      buf_.resize(want);
    } catch (const std::bad_alloc&) {
      read_errno_ = ENOMEM;
      return false;
    }
  }
  while (end_ < n) {
    // A pipe hands over what it has: wait for the octets this block needs, no more.
    const ssize_t got = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (got > 0) {
      end_ += static_cast<std::size_t>(got);
    } else if (got == 0) {
      eof_ = true;
      return false;
    } else {
      // EINTR included: SIGINT/SIGTERM interrupt a blocking read so that the replay stops (the
      // caller checks its stop flag); SIGHUP and SIGUSR1 are installed with SA_RESTART.
      read_errno_ = errno;
      return false;
    }
  }
  return true;
}

bool PcapngReader::bad(const std::string& what) noexcept {
  try {
    error_ = "pcapng offset " + std::to_string(offset_) + ": " + what;
  } catch (...) {
    error_ = "pcapng: malformed block";
  }
  return false;
}

PcapngReader::Next PcapngReader::fail(const std::string& what) noexcept {
  (void)bad(what);
  return Next::error;
}

PcapngReader::Next PcapngReader::next(PcapngPacket& out) noexcept { return run(&out, false); }

PcapngReader::Next PcapngReader::headers() noexcept { return run(nullptr, true); }

PcapngReader::Next PcapngReader::run(PcapngPacket* out, bool stop_at_packet) noexcept {
  if (!error_.empty()) return Next::error;
  for (;;) {
    if (!fill(8)) {
      if (read_errno_ != 0) return fail(std::string("read error: ") + std::strerror(read_errno_));
      if (end_ == begin_) return in_section_ ? Next::end : fail("empty input: no Section Header Block");
      return fail("the input ends inside a block header (" + std::to_string(end_ - begin_) + " of 8 octets)");
    }
    const std::uint8_t* p = (fd_ >= 0 ? buf_.data() : mem_.data()) + begin_;
    std::uint32_t type;
    std::memcpy(&type, p, 4);
    if (type == pcapng_block::kSectionHeader) {
      // The byte order of a section is that of its byte-order magic (the block type reads the
      // same either way).
      if (!fill(12)) {
        if (read_errno_ != 0) return fail(std::string("read error: ") + std::strerror(read_errno_));
        return fail("the input ends inside a Section Header Block");
      }
      p = (fd_ >= 0 ? buf_.data() : mem_.data()) + begin_;
      std::uint32_t magic;
      std::memcpy(&magic, p + 8, 4);
      if (magic == pcapng_block::kByteOrderMagic) {
        swap_ = false;
      } else if (__builtin_bswap32(magic) == pcapng_block::kByteOrderMagic) {
        swap_ = true;
      } else {
        return fail("Section Header Block with a wrong byte-order magic " + hex32(magic));
      }
    } else {
      type = u32(p);
      if (!in_section_) return fail("not a pcapng section: the first block is of type " + hex32(type));
    }
    const std::uint32_t len = u32(p + 4);
    if (len < kBlockOverhead || len % 4 != 0)
      return fail("block of type " + hex32(type) + " has the impossible length " + std::to_string(len));
    if (len > kPcapngMaxBlock)
      return fail("block of type " + hex32(type) + " is " + std::to_string(len) + " octets long (at most " +
                  std::to_string(kPcapngMaxBlock) + " accepted)");
    if (stop_at_packet && in_section_ &&
        (type == pcapng_block::kEnhancedPacket || type == pcapng_block::kSimplePacket ||
         type == pcapng_block::kPacketObsolete))
      return Next::packet;
    if (!fill(len)) {
      if (read_errno_ != 0) return fail(std::string("read error: ") + std::strerror(read_errno_));
      return fail("the input ends inside a block of type " + hex32(type) + " (" + std::to_string(end_ - begin_) +
                  " of " + std::to_string(len) + " octets)");
    }
    p = (fd_ >= 0 ? buf_.data() : mem_.data()) + begin_;
    if (u32(p + len - 4) != len)
      return fail("block of type " + hex32(type) + ": trailing length " + std::to_string(u32(p + len - 4)) +
                  " differs from the leading length " + std::to_string(len));
    const dnsparse::Bytes block{p, len};
    bool ok = true, delivered = false;
    switch (type) {
      case pcapng_block::kSectionHeader: ok = section(block); break;
      case pcapng_block::kInterface: ok = interface_block(block); break;
      case pcapng_block::kEnhancedPacket:
      case pcapng_block::kSimplePacket:
      case pcapng_block::kPacketObsolete: {
        PcapngPacket scratch;
        ok = packet_block(type, block, out != nullptr ? *out : scratch, delivered);
        break;
      }
      default: ++stats_.blocks_skipped; break;
    }
    if (!ok) return Next::error;
    begin_ += len;
    offset_ += len;
    if (delivered) {
      ++stats_.packets;
      return Next::packet;
    }
  }
}

bool PcapngReader::section(dnsparse::Bytes b) noexcept {
  if (b.size() < kShbMin) return bad("Section Header Block of " + std::to_string(b.size()) + " octets (at least 28)");
  const std::uint16_t major = u16(b.data() + 12);
  const std::uint16_t minor = u16(b.data() + 14);
  // 1.0 is the format; 1.2 was written by some old tools with the same layout (libpcap and
  // Wireshark read both).
  if (major != 1)
    return bad("pcapng version " + std::to_string(major) + "." + std::to_string(minor) + " (only 1.x is read)");
  in_section_ = true;
  interfaces_.clear();  // interface ids are per section
  ++stats_.sections;
  return true;
}

bool PcapngReader::interface_block(dnsparse::Bytes b) noexcept {
  if (b.size() < kIdbMin) return bad("Interface Description Block of " + std::to_string(b.size()) + " octets (at least 20)");
  if (interfaces_.size() >= kPcapngMaxInterfaces)
    return bad("more than " + std::to_string(kPcapngMaxInterfaces) + " interfaces in one section");
  PcapngInterface iface;
  iface.index = next_index_;
  iface.file_link_type = u16(b.data() + 8);
  iface.link_type = dlt_of_linktype(iface.file_link_type);
  iface.supported = sensor::link_type_supported(iface.link_type);
  iface.snaplen = u32(b.data() + 12);
  // Options: code, length, value padded to 32 bits, up to opt_endofopt or the block's end.
  std::size_t pos = 16;
  const std::size_t end = b.size() - 4;
  bool name_seen = false, resol_seen = false, offset_seen = false;
  while (pos < end) {
    if (end - pos < 4) {
      ++stats_.bad_options;
      break;
    }
    const std::uint16_t code = u16(b.data() + pos);
    const std::uint16_t olen = u16(b.data() + pos + 2);
    pos += 4;
    if (code == kOptEnd) break;
    const std::size_t padded = (std::size_t{olen} + 3) & ~std::size_t{3};
    if (olen > end - pos) {
      ++stats_.bad_options;
      break;
    }
    const std::uint8_t* v = b.data() + pos;
    pos += std::min(padded, end - pos);
    // Each option is meant to appear once: the first one counts.
    if (code == kOptIfName && !name_seen) {
      name_seen = true;
      std::size_t n = olen;
      while (n > 0 && v[n - 1] == 0) --n;  // writers may add a NUL
      try {
        iface.name.assign(reinterpret_cast<const char*>(v), std::min(n, kMaxInterfaceName));
      } catch (...) {
        return bad("out of memory");
      }
    } else if (code == kOptIfTsResol && !resol_seen) {
      resol_seen = true;
      if (olen != 1) {
        ++stats_.bad_options;
        break;
      }
      iface.ts_resol = v[0];
    } else if (code == kOptIfTsOffset && !offset_seen) {
      offset_seen = true;
      if (olen != 8) {
        ++stats_.bad_options;
        break;
      }
      // One 64-bit value in the section's byte order.
      std::uint64_t raw;
      std::memcpy(&raw, v, sizeof raw);
      iface.ts_offset = static_cast<std::int64_t>(swap_ ? __builtin_bswap64(raw) : raw);
    }
  }
  // Resolutions finer than these are not in use: 10^-19 is below a nanosecond by 10 digits
  // already, and they would need more than 64 bits of arithmetic.
  if ((iface.ts_resol & 0x80) != 0 ? (iface.ts_resol & 0x7F) > 63 : iface.ts_resol > 19)
    return bad("interface " + std::to_string(interfaces_.size()) + " has the unsupported time-stamp resolution " +
                std::string((iface.ts_resol & 0x80) != 0 ? "2^-" : "10^-") + std::to_string(iface.ts_resol & 0x7F));
  try {
    interfaces_.push_back(std::move(iface));
  } catch (...) {
    return bad("out of memory");
  }
  ++next_index_;
  ++stats_.interfaces;
  return true;
}

bool PcapngReader::timestamp(const PcapngInterface& iface, std::uint64_t units, sensor::Timestamp& out) noexcept {
  __extension__ typedef __int128 I128;  // GCC and clang: 64-bit units times 10^9 need more than 64 bits
  I128 ns;
  if ((iface.ts_resol & 0x80) != 0) {
    ns = (I128{units} * sensor::kNanosPerSecond) >> (iface.ts_resol & 0x7F);
  } else {
    I128 scale = 1;
    const int exp = iface.ts_resol;
    for (int i = 0; i < (exp <= 9 ? 9 - exp : exp - 9); ++i) scale *= 10;
    ns = exp <= 9 ? I128{units} * scale : I128{units} / scale;
  }
  ns += I128{iface.ts_offset} * sensor::kNanosPerSecond;
  if (ns < 0 || ns > kPcapngMaxTimestamp) {
    ++stats_.time_clamped;
    out = ns < 0 ? 0 : kPcapngMaxTimestamp;
    return false;
  }
  out = static_cast<sensor::Timestamp>(ns);
  return true;
}

bool PcapngReader::packet_block(std::uint32_t type, dnsparse::Bytes b, PcapngPacket& out, bool& delivered) noexcept {
  const std::uint8_t* p = b.data();
  std::uint32_t id = 0, caplen = 0, wire = 0;
  std::uint64_t units = 0;
  std::size_t data_at = 0, room = 0;
  bool has_time = true;
  switch (type) {
    case pcapng_block::kEnhancedPacket:
      if (b.size() < kEpbMin) return bad("Enhanced Packet Block of " + std::to_string(b.size()) + " octets (at least 32)");
      id = u32(p + 8);
      units = std::uint64_t{u32(p + 12)} << 32 | u32(p + 16);
      caplen = u32(p + 20);
      wire = u32(p + 24);
      data_at = 28;
      room = b.size() - kEpbMin;
      break;
    case pcapng_block::kPacketObsolete:
      if (b.size() < kPbMin) return bad("Packet Block of " + std::to_string(b.size()) + " octets (at least 32)");
      id = u16(p + 8);
      units = std::uint64_t{u32(p + 12)} << 32 | u32(p + 16);
      caplen = u32(p + 20);
      wire = u32(p + 24);
      data_at = 28;
      room = b.size() - kPbMin;
      break;
    default:  // Simple Packet Block: interface 0, no time stamp, captured length implied
      if (b.size() < kSpbMin) return bad("Simple Packet Block of " + std::to_string(b.size()) + " octets (at least 16)");
      wire = u32(p + 8);
      data_at = 12;
      room = b.size() - kSpbMin;
      has_time = false;
      break;
  }
  if (id >= interfaces_.size())
    return bad(std::string(block_name(type)) + " names interface " + std::to_string(id) + " but the section has " +
               std::to_string(interfaces_.size()) + " interface(s)");
  const PcapngInterface& iface = interfaces_[id];
  if (!has_time) {
    // pcapng 4.4: the captured length is the original length cut to interface 0's snap length.
    caplen = wire;
    if (iface.snaplen != 0 && caplen > iface.snaplen) caplen = iface.snaplen;
  }
  if (caplen > room)
    return bad(std::string(block_name(type)) + " holds " + std::to_string(room) + " octets of packet data but says " +
                std::to_string(caplen));
  if (!iface.supported) {
    ++stats_.unsupported_link;
    return true;
  }
  if (has_time) {
    (void)timestamp(iface, units, out.ts);
    last_ts_ = out.ts;
  } else {
    // No time stamp (libpcap and Wireshark say 1970): the previous packet's keeps packet time
    // (windows, expiry, latencies) from jumping back.
    ++stats_.no_timestamp;
    out.ts = last_ts_;
  }
  if (caplen > kMaxFrame) {
    ++stats_.oversized;
    caplen = kMaxFrame;
  }
  out.data = b.subspan(data_at, caplen);
  out.wire_len = wire;
  out.interface = id;
  delivered = true;
  return true;
}

}  // namespace dnsvigil::capture
