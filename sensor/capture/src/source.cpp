#include "dnsvigil/capture/source.hpp"

#include <pcap/pcap.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>

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
    if (!sensor::link_type_supported(link_type_))
      throw CaptureError(name_ + ": unsupported link type " + link_type_name(link_type_) +
                         "; dnsvigil decodes EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP, FDDI, IEEE802_11 and IEEE802_11_RADIO");
  }

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
};

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
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = nullptr;
  std::string name = path;
  if (path == "-") {
    name = "<stdin>";
    p = pcap_fopen_offline_with_tstamp_precision(stdin, PCAP_TSTAMP_PRECISION_NANO, err);
  } else {
    p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  }
  if (p == nullptr) throw CaptureError(name + ": cannot read capture: " + err);
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
  src->set_filter(o.filter.empty() ? default_filter() : o.filter);
  if (pcap_setnonblock(p, 1, err) != 0) throw CaptureError(o.interface + ": cannot set non-blocking mode: " + err);
  return src;
}

}  // namespace dnsvigil::capture
