// Capture sources: files (pcap through libpcap, pcapng through dnsvigil's block reader, or
// stdin) and live interfaces (libpcap's memory-mapped TPACKET_V3 ring). Errors at open are
// exceptions with one clear line.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dnsvigil/dnsparse/wire.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::capture {

/// A startup problem with a capture source, worded for the user (what failed and what to do).
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Settings of live capture (config keys `capture.*`).
struct LiveOptions {
  std::string interface;
  int snaplen = 65535;
  int buffer_mib = 64;     ///< kernel ring size in MiB (libpcap takes an int of octets: at most 2047 MiB is used)
  bool promiscuous = true;
  int timeout_ms = 100;    ///< how long the kernel may hold a block before handing it over
  std::string filter;      ///< BPF expression; empty means default_filter()
  /// `filter` is the default one: where libpcap compiles no filter for the interface's link
  /// type (NFLOG: iptables rules choose the packets), capture without it (notes() says so).
  bool filter_optional = false;
};

/// The interface the frames of a source come from, where a source has several (a pcapng file).
struct Interface {
  std::uint32_t index = 0;  ///< the interface's position in the source (pcapng: among all its IDBs), from 0
  int link_type = 0;        ///< DLT_* of its frames
  std::string_view name;    ///< its name (pcapng if_name); empty when unknown. Valid during the call only.
};

/// Receives frames from a source.
class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  virtual void on_frame(sensor::Timestamp ts, dnsparse::Bytes frame, std::uint32_t wire_len) = 0;
  /// The frames that follow come from `iface`, until the next call. A pcapng source calls it
  /// before its first frame and whenever the interface changes; sources of one interface (pcap
  /// files, live interfaces) never do: their frames have the source's link_type().
  virtual void on_interface(const Interface& iface) { (void)iface; }
};

/// Kernel and interface statistics (pcap_stats) of a live source.
struct CaptureStats {
  std::uint64_t received = 0;    ///< packets the filter accepted
  std::uint64_t dropped = 0;     ///< dropped by the kernel: the ring was full
  std::uint64_t if_dropped = 0;  ///< dropped by the interface or driver
};

/// The default BPF filter: UDP and TCP on `ports` (capture.dns_ports and watch_ports) plus IP
/// fragments (whose later pieces carry no ports), with and without up to two VLAN tags. With
/// `off_port`, also UDP datagrams on any port whose first octets have the shape of a DNS query
/// (one question, no answer or authority records) or response (QR set, one question):
/// capture.dns_heuristic; IPv6 without extension headers.
[[nodiscard]] std::string default_filter(const std::vector<std::uint16_t>& ports = {53}, bool off_port = false);

class Source {
 public:
  virtual ~Source() = default;
  /// Opens a capture file; "-" reads standard input. pcap goes through libpcap, pcapng (told by
  /// its first octets) through PcapngReader, whose interfaces may differ in link type and snap
  /// length (libpcap 1.10 refuses those files); `filter` applies to every interface.
  [[nodiscard]] static std::unique_ptr<Source> open_file(const std::string& path, const std::string& filter);
  /// Opens a live interface.
  [[nodiscard]] static std::unique_ptr<Source> open_live(const LiveOptions& options);

  /// DLT_* link type of the frames (a pcapng file: of its first interface; see on_interface()).
  [[nodiscard]] virtual int link_type() const noexcept = 0;
  /// Delivers up to `max` frames (-1: a buffer's worth). Returns the number delivered, 0 when a
  /// live source has nothing now, -1 at the end of a file. Throws CaptureError on read errors.
  virtual int dispatch(FrameHandler& handler, int max) = 0;
  /// A file descriptor to poll() for live sources; -1 for files.
  [[nodiscard]] virtual int selectable_fd() const noexcept = 0;
  [[nodiscard]] virtual CaptureStats stats() const noexcept = 0;
  [[nodiscard]] virtual const std::string& name() const noexcept = 0;
  /// Stops a blocking dispatch from another thread or a signal handler.
  virtual void break_loop() noexcept = 0;
  /// What a file source passed over or adjusted so far, one line for the log (pcapng: packets
  /// of unsupported link types, cut frames, bad options, clamped time stamps), or how a live
  /// source differs from what was asked (no filter); empty if nothing.
  [[nodiscard]] virtual std::string notes() const { return {}; }
};

/// Name of a DLT value ("EN10MB"), or its number.
[[nodiscard]] std::string link_type_name(int link_type);

}  // namespace dnsvigil::capture
