// dnstap input: Frame Streams (libfstrm, with the bidirectional handshake on sockets) carrying
// protobuf dnstap messages (protobuf-c, with the schema in dnstap.proto). A DNS server (BIND,
// Unbound, Knot, PowerDNS, dnsdist, CoreDNS) writes them to a file or to a socket this sensor
// listens on; each frame decodes into a sensor::DnstapMessage for the packet path.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "dnsvigil/sensor/dnstap.hpp"

struct fstrm_reader;  // libfstrm

namespace dnsvigil::dnstap {

/// The Frame Streams content type of dnstap.
inline constexpr std::string_view kContentType = "protobuf:dnstap.Dnstap";

enum class Decoded : std::uint8_t {
  message,      ///< `out` holds a DNS message
  bad_protobuf, ///< the frame is not a Dnstap protobuf
  not_message,  ///< a Dnstap of another type, or without a message
};

/// Decodes dnstap frames. Buffers are reused: the result stays valid until the next decode().
class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  Decoded decode(std::span<const std::uint8_t> frame, sensor::DnstapMessage& out) noexcept;

 private:
  struct Arena;
  std::unique_ptr<Arena> arena_;
};

/// Reads the data frames of one Frame Streams stream: a file, or a connected socket with the
/// bidirectional handshake (READY / ACCEPT / START ... STOP / FINISH).
class FrameReader {
 public:
  ~FrameReader();
  /// A dnstap file. Throws std::runtime_error naming the file and the problem.
  static std::unique_ptr<FrameReader> open_file(const std::string& path);
  /// A connected socket (the reader owns and closes `fd`).
  static std::unique_ptr<FrameReader> for_socket(int fd);
  enum class Result : std::uint8_t { frame, end, error };
  /// The next data frame (valid until the next call).
  Result next(std::span<const std::uint8_t>& frame) noexcept;

 private:
  FrameReader() = default;
  static std::unique_ptr<FrameReader> stream(int fd, bool bidirectional);
  ::fstrm_reader* reader_ = nullptr;
};

/// Whether the file starts like a Frame Streams stream (an escape: four zero octets), as
/// opposed to a pcap or pcapng file.
[[nodiscard]] bool looks_like_frame_streams(const std::string& path);

/// Listens for DNS servers on unix and TCP sockets (`unix:/path`, `tcp:ADDRESS:PORT`) and
/// queues their frames. One thread accepts, one thread reads each connection; a full queue
/// drops frames (counted) rather than slowing the server down.
class Listener {
 public:
  struct Options {
    std::vector<std::string> endpoints;
    std::size_t queue_frames = 65536;   ///< frames waiting to be processed at most
    unsigned socket_mode = 0660;        ///< unix sockets: permissions
    std::string socket_group;           ///< unix sockets: group (empty: unchanged)
  };
  struct Stats {
    std::atomic<std::uint64_t> connections{0}, frames{0}, dropped{0}, errors{0};
  };
  /// Opens every endpoint (throws std::runtime_error naming the endpoint and the cause); no
  /// thread runs yet, so privileges can be dropped before start().
  explicit Listener(Options o);
  ~Listener();
  /// Starts accepting connections.
  void start();
  /// Moves the queued frames into `out` (emptied first); returns their number.
  std::size_t drain(std::vector<std::vector<std::uint8_t>>& out);
  /// Blocks up to `ms` for a frame to arrive (false on timeout).
  bool wait(int ms);
  [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
  [[nodiscard]] const std::vector<std::string>& endpoints() const noexcept { return opt_.endpoints; }

 private:
  void accept_loop(int listen_fd);
  void read_loop(int fd);
  void push(std::span<const std::uint8_t> frame);

  Options opt_;
  Stats stats_;
  std::vector<int> listen_fds_;
  std::vector<std::string> unix_paths_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<std::uint8_t>> queue_;
  std::vector<std::thread> threads_;
  std::mutex conn_mu_;
  std::vector<int> conn_fds_;
};

}  // namespace dnsvigil::dnstap
