#include "dnsvigil/capture/source.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "dnsvigil/capture/pcapng.hpp"
#include "dnsvigil/sensor/decode.hpp"

namespace dnsvigil::capture {

namespace {

// pcap_set_buffer_size() takes an int: `mib << 20` in int overflows from 2048 MiB on (undefined
// behaviour, in practice a negative or tiny ring). Compute wide and clamp to the largest whole
// MiB an int holds (2047 MiB); the kernel caps the ring further anyway (net.core.rmem_max).
int buffer_bytes(int mib) noexcept {
  constexpr std::int64_t kMax = std::int64_t{INT_MAX} & ~((std::int64_t{1} << 20) - 1);
  const std::int64_t bytes = std::int64_t{mib < 0 ? 0 : mib} << 20;
  return static_cast<int>(bytes > kMax ? kMax : bytes);
}

CaptureError unsupported_link(const std::string& name, int link_type) {
  return CaptureError(name + ": unsupported link type " + link_type_name(link_type) +
                      "; dnsvigil decodes EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP, FDDI, "
                      "IEEE802_11, IEEE802_11_RADIO, PPP, PPP_SERIAL, PPP_ETHER, NFLOG and PKTAP");
}

class PcapSource final : public Source {
 public:
  PcapSource(pcap_t* p, std::string name, bool live) : p_(p), name_(std::move(name)), live_(live) {
    link_type_ = pcap_datalink(p_);
  }
  ~PcapSource() override { pcap_close(p_); }

  int link_type() const noexcept override { return link_type_; }
  int selectable_fd() const noexcept override { return live_ ? pcap_get_selectable_fd(p_) : -1; }
  const std::string& name() const noexcept override { return name_; }
  void break_loop() noexcept override { pcap_breakloop(p_); }

  int dispatch(FrameHandler& handler, int max) override {
    const int n = pcap_dispatch(p_, max, &PcapSource::callback, reinterpret_cast<u_char*>(&handler));
    const int err = errno;
    // libpcap's NFLOG reader takes an empty non-blocking socket for an error: nothing to read yet.
    if (n == PCAP_ERROR && live_ && (err == EAGAIN || err == EWOULDBLOCK)) return 0;
    if (n == PCAP_ERROR) throw CaptureError(name_ + ": read error: " + pcap_geterr(p_));
    if (n == PCAP_ERROR_BREAK) return live_ ? 0 : -1;
    if (n == 0 && !live_) return -1;
    return n;
  }

  CaptureStats stats() const noexcept override {
    CaptureStats s;
    if (!live_) return s;
    pcap_stat st{};
    if (pcap_stats(p_, &st) == 0) {
      s.received = st.ps_recv;
      s.dropped = st.ps_drop;
      s.if_dropped = st.ps_ifdrop;
    }
    return s;
  }

  void set_filter(const std::string& filter) {
    if (filter.empty()) return;
    bpf_program prog{};
    if (pcap_compile(p_, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
      throw CaptureError(name_ + ": bad BPF filter '" + filter + "': " + pcap_geterr(p_));
    const int rc = pcap_setfilter(p_, &prog);
    pcap_freecode(&prog);
    if (rc != 0) throw CaptureError(name_ + ": cannot set BPF filter: " + pcap_geterr(p_));
  }

  void check_link_type() const {
    if (!sensor::link_type_supported(link_type_)) throw unsupported_link(name_, link_type_);
  }

  void note(std::string what) { notes_ = std::move(what); }
  std::string notes() const override { return notes_; }

 private:
  static void callback(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* handler = reinterpret_cast<FrameHandler*>(user);
    // Sources are opened with nanosecond precision: tv_usec holds nanoseconds.
    const sensor::Timestamp ts = static_cast<sensor::Timestamp>(h->ts.tv_sec) * sensor::kNanosPerSecond + h->ts.tv_usec;
    handler->on_frame(ts, dnsparse::Bytes{bytes, h->caplen}, h->len);
  }

  pcap_t* p_;
  std::string name_;
  bool live_;
  int link_type_ = 0;
  std::string notes_;
};

// A pcapng file through PcapngReader. The BPF filter is compiled once per link type (libpcap
// compiles for one link type) and run with pcap_offline_filter().
class PcapngSource final : public Source {
 public:
  PcapngSource(int fd, bool own_fd, dnsparse::Bytes prefix, std::string name)
      : fd_(fd), own_fd_(own_fd), reader_(fd, prefix), name_(std::move(name)) {}
  ~PcapngSource() override {
    for (auto& [dlt, prog] : programs_) pcap_freecode(&prog);
    if (own_fd_) ::close(fd_);
  }
  PcapngSource(const PcapngSource&) = delete;
  PcapngSource& operator=(const PcapngSource&) = delete;

  // Reads up to the first packet: a broken start is an error at open, and the first interface
  // gives link_type().
  void open(const std::string& filter) {
    if (reader_.headers() == PcapngReader::Next::error) throw CaptureError(name_ + ": " + reader_.error());
    const auto ifaces = reader_.interfaces();
    const PcapngInterface* first = nullptr;
    for (const auto& i : ifaces)
      if (i.supported) {
        first = &i;
        break;
      }
    if (first == nullptr && !ifaces.empty()) throw unsupported_link(name_, ifaces.front().link_type);
    if (first != nullptr) link_type_ = first->link_type;
    filter_ = filter;
    if (!filter_.empty()) (void)program(link_type_);  // a bad filter is an error at open
  }

  int link_type() const noexcept override { return link_type_; }
  int selectable_fd() const noexcept override { return -1; }
  const std::string& name() const noexcept override { return name_; }
  void break_loop() noexcept override { stop_.store(true, std::memory_order_relaxed); }
  CaptureStats stats() const noexcept override { return {}; }

  int dispatch(FrameHandler& handler, int max) override {
    if (ended_) return -1;
    const int limit = max <= 0 ? 4096 : max;
    int delivered = 0;
    PcapngPacket pkt;
    for (int seen = 0; seen < limit; ++seen) {
      if (stop_.exchange(false, std::memory_order_relaxed)) return delivered > 0 ? delivered : -1;
      switch (reader_.next(pkt)) {
        case PcapngReader::Next::end:
          ended_ = true;
          return delivered > 0 ? delivered : -1;
        case PcapngReader::Next::error: throw CaptureError(name_ + ": " + reader_.error());
        case PcapngReader::Next::packet: break;
      }
      const PcapngInterface& iface = reader_.interface(pkt.interface);
      if (iface.index != current_ || !announced_) {
        announced_ = true;
        current_ = iface.index;
        prog_ = filter_.empty() ? nullptr : program(iface.link_type);
        handler.on_interface(Interface{iface.index, iface.link_type, iface.name});
      }
      if (prog_ != nullptr) {
        pcap_pkthdr hdr{};
        hdr.caplen = static_cast<bpf_u_int32>(pkt.data.size());
        hdr.len = pkt.wire_len;
        if (pcap_offline_filter(prog_, &hdr, pkt.data.data()) == 0) continue;
      }
      handler.on_frame(pkt.ts, pkt.data, pkt.wire_len);
      ++delivered;
    }
    return delivered;
  }

  std::string notes() const override {
    const PcapngStats& s = reader_.stats();
    std::string out;
    const auto add = [&](std::uint64_t n, const char* what) {
      if (n == 0) return;
      out += (out.empty() ? "" : "; ") + std::to_string(n) + " " + what;
    };
    add(s.unsupported_link, "packets of interfaces with unsupported link types skipped (pcapng_unsupported_link)");
    add(s.oversized, "packets longer than 262144 octets cut (pcapng_oversized)");
    add(s.bad_options, "interfaces with malformed options, the rest of their options ignored (pcapng_bad_options)");
    add(s.time_clamped, "time stamps outside 1970..2106 clamped (pcapng_time_clamped)");
    add(s.no_timestamp, "Simple Packet Blocks without a time stamp given the previous packet's (pcapng_no_timestamp)");
    return out;
  }

 private:
  const bpf_program* program(int dlt) {
    for (auto& [d, prog] : programs_)
      if (d == dlt) return &prog;
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(dlt, static_cast<int>(kMaxFrame), PCAP_TSTAMP_PRECISION_NANO);
    if (dead == nullptr) throw CaptureError(name_ + ": cannot compile BPF filter (out of memory)");
    bpf_program prog{};
    if (pcap_compile(dead, &prog, filter_.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      const std::string why = pcap_geterr(dead);
      pcap_close(dead);
      throw CaptureError(name_ + ": bad BPF filter '" + filter_ + "' for link type " + link_type_name(dlt) + ": " + why);
    }
    pcap_close(dead);
    programs_.emplace_back(dlt, prog);
    return &programs_.back().second;
  }

  int fd_;
  bool own_fd_;
  PcapngReader reader_;
  std::string name_;
  std::string filter_;
  int link_type_ = 1;  // DLT_EN10MB until an interface says otherwise (a file without any)
  std::vector<std::pair<int, bpf_program>> programs_;  // one per link type, few
  const bpf_program* prog_ = nullptr;
  std::uint32_t current_ = 0;
  bool announced_ = false;
  bool ended_ = false;
  std::atomic<bool> stop_{false};
};

// A FILE that first returns the octets already read from `fd` (the format check), then reads
// on: libpcap takes a FILE, and a pipe cannot be rewound.
struct PrefixedFd {
  int fd;
  bool own;
  std::uint8_t prefix[4];
  std::size_t size, pos;
};

ssize_t prefixed_read(void* cookie, char* buf, size_t n) {
  auto* c = static_cast<PrefixedFd*>(cookie);
  if (c->pos < c->size) {
    const std::size_t k = std::min(n, c->size - c->pos);
    std::memcpy(buf, c->prefix + c->pos, k);
    c->pos += k;
    return static_cast<ssize_t>(k);
  }
  return ::read(c->fd, buf, n);
}

int prefixed_close(void* cookie) {
  auto* c = static_cast<PrefixedFd*>(cookie);
  const int rc = c->own ? ::close(c->fd) : 0;
  delete c;
  return rc;
}

std::FILE* prefixed_file(int fd, bool own, dnsparse::Bytes prefix) {
  auto* c = new PrefixedFd{fd, own, {}, prefix.size(), 0};
  std::memcpy(c->prefix, prefix.data(), prefix.size());
  cookie_io_functions_t io{};
  io.read = prefixed_read;
  io.close = prefixed_close;
  std::FILE* f = fopencookie(c, "rb", io);
  if (f == nullptr) delete c;
  return f;
}

}  // namespace

std::string link_type_name(int link_type) {
  const char* n = pcap_datalink_val_to_name(link_type);
  return n != nullptr ? std::string(n) : std::to_string(link_type);
}

std::string default_filter(const std::vector<std::uint16_t>& ports, bool off_port) {
  std::string port_list;
  for (const std::uint16_t p : ports) port_list += (port_list.empty() ? "port " : " or port ") + std::to_string(p);
  std::string dns = "(ip[6:2] & 0x3fff != 0) or ip6[6] == 44";
  if (!port_list.empty()) dns = "((udp or tcp) and (" + port_list + ")) or " + dns;
  // DNS header after the 8-octet UDP header: flags at 10, QDCOUNT at 12, ANCOUNT and NSCOUNT at 14.
  if (off_port)
    dns += " or (udp and udp[12:2] = 1 and (udp[14:4] = 0 or udp[10] & 0x80 != 0))"
           " or (ip6[6] = 17 and ip6[52:2] = 1 and (ip6[54:4] = 0 or ip6[50] & 0x80 != 0))";
  dns = "(" + dns + ")";
  return dns + " or (vlan and " + dns + ") or (vlan and vlan and " + dns + ")";
}

std::unique_ptr<Source> Source::open_file(const std::string& path, const std::string& filter) {
  const bool std_in = path == "-";
  const std::string name = std_in ? "<stdin>" : path;
  const int fd = std_in ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw CaptureError(name + ": cannot read capture: " + std::strerror(errno));
  // The first four octets tell pcapng (a Section Header Block) from pcap (libpcap's magics).
  std::uint8_t head[4];
  std::size_t got = 0;
  while (got < sizeof head) {
    const ssize_t n = ::read(fd, head + got, sizeof head - got);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  const dnsparse::Bytes prefix{head, got};
  if (looks_like_pcapng(prefix)) {
    auto src = std::make_unique<PcapngSource>(fd, !std_in, prefix, name);
    src->open(filter);
    return src;
  }
  // pcap (or something libpcap will name): a regular file is rewound, a pipe replayed.
  std::FILE* f = ::lseek(fd, 0, SEEK_SET) == 0 ? ::fdopen(fd, "rb") : prefixed_file(fd, !std_in, prefix);
  if (f == nullptr) {
    const int e = errno;
    if (!std_in) ::close(fd);
    throw CaptureError(name + ": cannot read capture: " + std::strerror(e));
  }
  // libpcap reads a file with two fread() calls a packet (record header, then data): only this
  // source's thread uses the stream, so fread need not lock it, and a 256 KiB buffer makes one
  // read() where the default (the file's block size, or 8 KiB for a pipe) made 32 to 64.
  (void)::__fsetlocking(f, FSETLOCKING_BYCALLER);
  (void)std::setvbuf(f, nullptr, _IOFBF, 256 * 1024);
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) {
    std::fclose(f);
    throw CaptureError(name + ": cannot read capture: " + err);
  }
  auto src = std::make_unique<PcapSource>(p, name, false);
  src->check_link_type();
  src->set_filter(filter);
  return src;
}

std::unique_ptr<Source> Source::open_live(const LiveOptions& o) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(o.interface.c_str(), err);
  if (p == nullptr) throw CaptureError(o.interface + ": cannot open interface: " + err);
  pcap_set_snaplen(p, o.snaplen);
  pcap_set_promisc(p, o.promiscuous ? 1 : 0);
  pcap_set_timeout(p, o.timeout_ms);
  pcap_set_buffer_size(p, buffer_bytes(o.buffer_mib));
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
  const int rc = pcap_activate(p);
  if (rc < 0) {
    std::string why = pcap_geterr(p);
    std::string hint;
    switch (rc) {
      case PCAP_ERROR_NO_SUCH_DEVICE: hint = "no such interface (see `ip link`)"; break;
      case PCAP_ERROR_PERM_DENIED:
        hint = "permission denied: run as root or give the binary CAP_NET_RAW and CAP_NET_ADMIN";
        break;
      case PCAP_ERROR_IFACE_NOT_UP: hint = "the interface is down (`ip link set IFACE up`)"; break;
      default: hint = why; break;
    }
    pcap_close(p);
    throw CaptureError(o.interface + ": cannot capture: " + hint);
  }
  auto src = std::make_unique<PcapSource>(p, o.interface, true);
  src->check_link_type();
  try {
    src->set_filter(o.filter.empty() ? default_filter() : o.filter);
  } catch (const CaptureError& e) {
    if (!o.filter_optional) throw;
    src->note("no default filter (" + std::string(pcap_geterr(p)) + "): every packet the interface delivers is read");
  }
  if (pcap_setnonblock(p, 1, err) != 0) throw CaptureError(o.interface + ": cannot set non-blocking mode: " + err);
  return src;
}

}  // namespace dnsvigil::capture
