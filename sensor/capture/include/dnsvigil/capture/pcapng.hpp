// pcapng block reader (draft-ietf-opsawg-pcapng): sections in either byte order, interfaces with
// their own link type, snap length, name and time-stamp resolution and offset, and the three
// packet blocks. libpcap 1.10 refuses a file whose interfaces differ in link type or snap length,
// which Wireshark and dumpcap write whenever they capture several interfaces; this reader takes
// every pcapng file (Source::open_file). It never allocates per packet: a block is read into one
// buffer and the packet is a view into it, valid until the next call.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dnsvigil/dnsparse/wire.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::capture {

/// Largest block read (libpcap's bound on a pcapng block, INITIAL_MAX_BLOCKSIZE: 16 MiB); a
/// longer block is an error, so a corrupt length never makes the reader allocate more.
inline constexpr std::uint32_t kPcapngMaxBlock = 16u << 20;
/// Longest frame handed on (libpcap's MAXIMUM_SNAPLEN, 262144): a packet block that holds more
/// is cut to it and counted (PcapngStats::oversized).
inline constexpr std::uint32_t kMaxFrame = 262144;
/// Most interfaces (IDBs) in one section: each holds a name, so this bounds the memory a file can
/// make the reader hold. More is an error.
inline constexpr std::size_t kPcapngMaxInterfaces = 4096;
/// Longest interface name kept (if_name); longer names are cut. Real names are short (Linux
/// IFNAMSIZ is 16, Windows NPF device names about 50).
inline constexpr std::size_t kMaxInterfaceName = 256;

/// Latest time stamp handed on: the last nanosecond a pcap file can express (32-bit seconds,
/// 2106-02-07). pcapng time stamps are 64-bit; the packet path adds timeouts to packet time,
/// and this keeps it in the range it has always had from libpcap.
inline constexpr sensor::Timestamp kPcapngMaxTimestamp = 0xFFFFFFFFLL * sensor::kNanosPerSecond + 999'999'999;

/// A pcapng block type (first word of every block).
namespace pcapng_block {
inline constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;   ///< SHB (same in both byte orders)
inline constexpr std::uint32_t kInterface = 1;                ///< IDB
inline constexpr std::uint32_t kPacketObsolete = 2;           ///< PB (obsolete Packet Block)
inline constexpr std::uint32_t kSimplePacket = 3;             ///< SPB
inline constexpr std::uint32_t kNameResolution = 4;           ///< NRB (skipped)
inline constexpr std::uint32_t kInterfaceStatistics = 5;      ///< ISB (skipped)
inline constexpr std::uint32_t kEnhancedPacket = 6;           ///< EPB
inline constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;  ///< SHB byte-order magic
}  // namespace pcapng_block

/// One interface (IDB) of the current section.
struct PcapngInterface {
  std::uint32_t index = 0;        ///< position among every IDB of the file (all sections), from 0
  std::uint16_t file_link_type = 0;  ///< LINKTYPE_* as written in the file
  int link_type = 0;              ///< the DLT_* value libpcap uses for it (dlt_of_linktype)
  bool supported = false;         ///< sensor::link_type_supported(link_type)
  std::uint32_t snaplen = 0;      ///< 0: no limit
  std::string name;               ///< if_name; empty when the file gives none
  std::int64_t ts_offset = 0;     ///< if_tsoffset, seconds added to every time stamp
  std::uint8_t ts_resol = 6;      ///< if_tsresol as written (6: microseconds)
};

/// Named counters of what the reader passed over or adjusted.
struct PcapngStats {
  std::uint64_t sections = 0;          ///< SHBs read
  std::uint64_t interfaces = 0;        ///< IDBs read
  std::uint64_t packets = 0;           ///< packets returned by next()
  std::uint64_t blocks_skipped = 0;    ///< NRB, ISB, DSB, custom and unknown blocks (no packets in them)
  std::uint64_t unsupported_link = 0;  ///< packets of interfaces whose link type dnsvigil does not decode (skipped)
  std::uint64_t oversized = 0;         ///< packets holding more than kMaxFrame octets (cut to it)
  std::uint64_t bad_options = 0;       ///< IDB option lists that ran past their block or had a wrong-sized
                                       ///< value (the rest of the list is ignored)
  std::uint64_t time_clamped = 0;      ///< time stamps before 1970 or after kPcapngMaxTimestamp (clamped)
  std::uint64_t no_timestamp = 0;      ///< Simple Packet Blocks (no time stamp: the previous packet's is used)
};

/// One packet, a view into the reader's buffer (valid until the next call).
struct PcapngPacket {
  sensor::Timestamp ts = 0;
  dnsparse::Bytes data;
  std::uint32_t wire_len = 0;   ///< original length
  std::uint32_t interface = 0;  ///< interface id within the current section (interface())
};

/// The DLT_* value libpcap gives a LINKTYPE_* value read from a file (they differ for a few old
/// types: LINKTYPE_RAW 101 is DLT_RAW 12 on Linux).
[[nodiscard]] int dlt_of_linktype(std::uint16_t linktype) noexcept;

/// True when `head` (the first octets of a file, at least 4) starts a pcapng Section Header Block.
[[nodiscard]] bool looks_like_pcapng(dnsparse::Bytes head) noexcept;

class PcapngReader {
 public:
  /// Reads from the descriptor `fd` (not owned, not closed). `prefix` holds octets already read
  /// from it (the format check); they come first.
  PcapngReader(int fd, dnsparse::Bytes prefix);
  /// Reads a whole file held in memory (tests, fuzzing); `data` must outlive the reader.
  explicit PcapngReader(dnsparse::Bytes data);

  enum class Next { packet, end, error };

  /// The next packet of an interface whose link type is supported; `end` at the end of the input,
  /// `error` (see error()) for a malformed block, a file cut inside a block or a read error.
  /// After an error every call returns it again.
  [[nodiscard]] Next next(PcapngPacket& out) noexcept;
  /// Reads the blocks before the first packet block (the SHB, IDBs, ...) and stops in front of
  /// it: `packet` when one follows, `end` or `error` as next().
  [[nodiscard]] Next headers() noexcept;

  /// The interface `id` of the current section (id < interfaces().size(), as next() returns).
  [[nodiscard]] const PcapngInterface& interface(std::uint32_t id) const noexcept { return interfaces_[id]; }
  /// The interfaces of the current section.
  [[nodiscard]] std::span<const PcapngInterface> interfaces() const noexcept { return interfaces_; }
  /// What went wrong, with the block's file offset; empty before an error.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] const PcapngStats& stats() const noexcept { return stats_; }

 private:
  Next run(PcapngPacket* out, bool stop_at_packet) noexcept;
  bool fill(std::size_t n) noexcept;
  Next fail(const std::string& what) noexcept;
  bool bad(const std::string& what) noexcept;  // sets error_, returns false
  [[nodiscard]] std::uint16_t u16(const std::uint8_t* p) const noexcept;
  [[nodiscard]] std::uint32_t u32(const std::uint8_t* p) const noexcept;
  bool section(dnsparse::Bytes block) noexcept;
  bool interface_block(dnsparse::Bytes block) noexcept;
  bool packet_block(std::uint32_t type, dnsparse::Bytes block, PcapngPacket& out, bool& delivered) noexcept;
  bool timestamp(const PcapngInterface& iface, std::uint64_t units, sensor::Timestamp& out) noexcept;

  int fd_ = -1;
  dnsparse::Bytes mem_;            // memory mode: the whole input
  std::vector<std::uint8_t> buf_;  // descriptor mode: the unread input
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int read_errno_ = 0;
  std::uint64_t offset_ = 0;       // file offset of buf_[begin_]
  bool in_section_ = false;
  bool swap_ = false;              // the section's byte order is not the host's
  std::uint32_t next_index_ = 0;
  sensor::Timestamp last_ts_ = 0;
  std::vector<PcapngInterface> interfaces_;
  PcapngStats stats_;
  std::string error_;
};

}  // namespace dnsvigil::capture
