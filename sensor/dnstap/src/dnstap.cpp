#include "dnsvigil/dnstap/dnstap.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fstrm.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "dnstap.pb-c.h"

namespace dnsvigil::dnstap {

// ------------------------------------------------------------------------------- decoding

// protobuf-c allocates every decoded field; a bump arena reset per frame keeps the decoding of a
// message from touching the heap once the arena has grown to the largest frame seen.
struct Decoder::Arena {
  std::vector<unsigned char> block = std::vector<unsigned char>(64 * 1024);
  std::size_t used = 0;
  std::vector<void*> overflow;  // allocations that did not fit (freed at reset)
  std::size_t wanted = 0;       // octets asked for since the last reset

  void* alloc(std::size_t n) {
    wanted += n + 16;
    const std::size_t at = (used + 15) & ~std::size_t{15};
    if (at + n <= block.size()) {
      used = at + n;
      return block.data() + at;
    }
    void* p = std::malloc(n == 0 ? 1 : n);
    overflow.push_back(p);
    return p;
  }
  void reset() {
    for (void* p : overflow) std::free(p);
    overflow.clear();
    // Grow the block to what the last frame needed, so the next such frame fits.
    if (wanted > block.size()) block.resize(wanted * 2);
    used = 0;
    wanted = 0;
  }
};

Decoder::Decoder() : arena_(std::make_unique<Arena>()) {}
Decoder::~Decoder() { arena_->reset(); }

namespace {

bool address_of(const ProtobufCBinaryData& b, sensor::IpAddr& out) noexcept {
  if (b.len == 4) {
    out = sensor::IpAddr::v4(b.data);
    return true;
  }
  if (b.len == 16) {
    out = sensor::IpAddr::v6(b.data);
    return true;
  }
  return false;
}

sensor::Timestamp time_of(bool has_sec, std::uint64_t sec, bool has_nsec, std::uint32_t nsec) noexcept {
  // Nanoseconds since 1970 in 63 bits reach the year 2262: a time past that is no time (absent).
  constexpr std::uint64_t kMaxSec = 9'000'000'000;
  if (!has_sec || sec > kMaxSec) return 0;
  return static_cast<sensor::Timestamp>(sec) * sensor::kNanosPerSecond + (has_nsec ? nsec % 1'000'000'000u : 0);
}

}  // namespace

Decoded Decoder::decode(std::span<const std::uint8_t> frame, sensor::DnstapMessage& out) noexcept {
  arena_->reset();
  out = {};
  ProtobufCAllocator allocator{
      [](void* data, size_t n) -> void* { return static_cast<Arena*>(data)->alloc(n); },
      [](void*, void*) {},  // freed with the arena
      arena_.get()};
  const DnsvigilDnstap__Dnstap* d = dnsvigil_dnstap__dnstap__unpack(&allocator, frame.size(), frame.data());
  if (d == nullptr) return Decoded::bad_protobuf;
  if ((d->has_type && d->type != 1) || d->message == nullptr) return Decoded::not_message;
  if (d->has_identity) out.identity = {reinterpret_cast<const char*>(d->identity.data), d->identity.len};
  if (d->has_version) out.version = {reinterpret_cast<const char*>(d->version.data), d->version.len};
  const DnsvigilDnstap__Message& m = *d->message;
  out.type = m.has_type ? m.type : 0;
  out.socket_protocol = m.has_socket_protocol ? m.socket_protocol : 0;
  out.has_query_address = m.has_query_address && address_of(m.query_address, out.query_address);
  out.has_response_address = m.has_response_address && address_of(m.response_address, out.response_address);
  out.query_port = m.has_query_port ? static_cast<std::uint16_t>(m.query_port) : 0;
  out.response_port = m.has_response_port ? static_cast<std::uint16_t>(m.response_port) : 0;
  out.query_time = time_of(m.has_query_time_sec, m.query_time_sec, m.has_query_time_nsec, m.query_time_nsec);
  out.response_time =
      time_of(m.has_response_time_sec, m.response_time_sec, m.has_response_time_nsec, m.response_time_nsec);
  if (m.has_query_message) out.query_message = {m.query_message.data, m.query_message.len};
  if (m.has_response_message) out.response_message = {m.response_message.data, m.response_message.len};
  return Decoded::message;
}

// ----------------------------------------------------------------------------- frame streams

namespace {

// The reader options: a reader keeps referring to them until it has opened its stream (on a
// socket, in its reading thread), so one set lives as long as the process; they are only read.
const fstrm_reader_options* reader_options() {
  static fstrm_reader_options* const ropt = [] {
    fstrm_reader_options* o = fstrm_reader_options_init();
    fstrm_reader_options_add_content_type(o, kContentType.data(), kContentType.size());
    // dnstap frames are one DNS message with its metadata: 64 KiB of DNS plus headroom.
    fstrm_reader_options_set_max_frame_size(o, 256 * 1024);
    return o;
  }();
  return ropt;
}

// A descriptor (a connected socket, or a file) as an fstrm_rdwr: exact reads, whole writes (the
// handshake replies, sockets only). libfstrm reads each frame's length, then the frame: two
// system calls a message, a fifth of a dnstap file's replay, so reads go through a buffer (one
// read() takes what is there, up to its size, and never waits for more than one octet).
struct Socket {
  int fd;
  std::size_t pos = 0, end = 0;
  std::unique_ptr<unsigned char[]> buf = std::make_unique<unsigned char[]>(kBuffer);
  static constexpr std::size_t kBuffer = 64 * 1024;
};

fstrm_res socket_read(void* obj, void* data, size_t count) {
  auto& s = *static_cast<Socket*>(obj);
  auto* p = static_cast<unsigned char*>(data);
  while (count != 0) {
    if (s.pos == s.end) {
      const ssize_t n = ::read(s.fd, s.buf.get(), Socket::kBuffer);
      if (n == 0) return fstrm_res_stop;
      if (n < 0) {
        if (errno == EINTR) continue;
        return fstrm_res_failure;
      }
      s.pos = 0;
      s.end = static_cast<std::size_t>(n);
    }
    const std::size_t take = std::min(count, s.end - s.pos);
    std::memcpy(p, s.buf.get() + s.pos, take);
    s.pos += take;
    p += take;
    count -= take;
  }
  return fstrm_res_success;
}

fstrm_res socket_write(void* obj, const struct iovec* iov, int iovcnt) {
  const int fd = static_cast<Socket*>(obj)->fd;
  std::vector<iovec> v(iov, iov + iovcnt);
  std::size_t i = 0;
  while (i < v.size()) {
    const ssize_t n = ::writev(fd, v.data() + i, static_cast<int>(v.size() - i));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fstrm_res_failure;
    }
    auto left = static_cast<std::size_t>(n);
    while (i < v.size() && left >= v[i].iov_len) left -= v[i++].iov_len;
    if (i < v.size()) {
      v[i].iov_base = static_cast<char*>(v[i].iov_base) + left;
      v[i].iov_len -= left;
    }
  }
  return fstrm_res_success;
}

// The socket is open when the reader gets it; closing it is the destroy method's job.
fstrm_res socket_open(void*) { return fstrm_res_success; }
fstrm_res socket_close(void*) { return fstrm_res_success; }

fstrm_res socket_destroy(void* obj) {
  auto* s = static_cast<Socket*>(obj);
  ::close(s->fd);
  delete s;
  return fstrm_res_success;
}

}  // namespace

FrameReader::~FrameReader() {
  if (reader_ != nullptr) fstrm_reader_destroy(&reader_);
}

std::unique_ptr<FrameReader> FrameReader::open_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot read dnstap file: " + std::strerror(errno));
  // The descriptor belongs to the reader's stream from here on (closed by its destroy method,
  // whatever happens: libfstrm's own file stream stays open when a file's start is wrong).
  std::unique_ptr<FrameReader> r = stream(fd, false);
  if (r == nullptr || fstrm_reader_open(r->reader_) != fstrm_res_success)
    throw std::runtime_error(path + ": not a dnstap file (Frame Streams with content type " + std::string(kContentType) +
                             ")");
  return r;
}

std::unique_ptr<FrameReader> FrameReader::for_socket(int fd) { return stream(fd, true); }

std::unique_ptr<FrameReader> FrameReader::stream(int fd, bool bidirectional) {
  fstrm_rdwr* rdwr = fstrm_rdwr_init(new Socket{fd});
  fstrm_rdwr_set_open(rdwr, socket_open);
  fstrm_rdwr_set_close(rdwr, socket_close);
  fstrm_rdwr_set_read(rdwr, socket_read);
  // A write method makes the stream bidirectional: the handshake of a server's connection.
  if (bidirectional) fstrm_rdwr_set_write(rdwr, socket_write);
  fstrm_rdwr_set_destroy(rdwr, socket_destroy);
  std::unique_ptr<FrameReader> r(new FrameReader);
  r->reader_ = fstrm_reader_init(reader_options(), &rdwr);
  if (r->reader_ == nullptr) {
    if (rdwr != nullptr) fstrm_rdwr_destroy(&rdwr);
    return nullptr;
  }
  return r;
}

FrameReader::Result FrameReader::next(std::span<const std::uint8_t>& frame) noexcept {
  const std::uint8_t* data = nullptr;
  std::size_t len = 0;
  switch (fstrm_reader_read(reader_, &data, &len)) {
    case fstrm_res_success:
      frame = {data, len};
      return Result::frame;
    case fstrm_res_stop: return Result::end;
    default: break;
  }
  return Result::error;
}

bool looks_like_frame_streams(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char head[4] = {1, 1, 1, 1};
  in.read(reinterpret_cast<char*>(head), 4);
  return in.gcount() == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0 && head[3] == 0;
}

}  // namespace dnsvigil::dnstap
