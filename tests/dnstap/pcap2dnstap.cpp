// pcap2dnstap: turns the DNS messages of a capture into a dnstap file, as a DNS server that
// saw them would have logged them: every query as CLIENT_QUERY and every response as
// CLIENT_RESPONSE, with the client's and server's addresses and ports, the transport and the
// packet time. The messages come from dnsvigil's own packet path (decode, defragmentation,
// TCP reassembly), so the dnstap file holds exactly the messages the capture gives.
// For the dnstap differential test (tests/dnstap/differential.py) and the dnstap benchmark.
//
//   pcap2dnstap IN.pcap OUT.dnstap [IDENTITY]
#include <fstrm.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "dnstap.pb-c.h"
#include "dnsvigil/dnstap/dnstap.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil;

namespace {

class Writer final : public sensor::EventSink {
 public:
  Writer(const char* path, std::string identity) : identity_(std::move(identity)) {
    fstrm_file_options* fo = fstrm_file_options_init();
    fstrm_file_options_set_file_path(fo, path);
    fstrm_writer_options* wo = fstrm_writer_options_init();
    fstrm_writer_options_add_content_type(wo, dnstap::kContentType.data(), dnstap::kContentType.size());
    w_ = fstrm_file_writer_init(fo, wo);
    fstrm_writer_options_destroy(&wo);
    fstrm_file_options_destroy(&fo);
  }
  ~Writer() override {
    if (w_ != nullptr) fstrm_writer_destroy(&w_);
  }
  [[nodiscard]] bool ok() const { return w_ != nullptr; }
  std::size_t written = 0;

  void on_event(const sensor::DnsEvent& ev) override {
    const bool response = ev.is_response();
    DnsvigilDnstap__Message m;
    dnsvigil_dnstap__message__init(&m);
    m.has_type = m.has_socket_family = m.has_socket_protocol = 1;
    m.type = response ? 6 : 5;  // CLIENT_RESPONSE : CLIENT_QUERY
    m.socket_family = ev.ip_version == 4 ? 1 : 2;
    m.socket_protocol = ev.transport == sensor::Transport::tcp ? 2 : 1;
    const sensor::IpAddr& client = ev.client();
    const sensor::IpAddr& server = ev.server();
    const std::size_t alen = ev.ip_version == 4 ? 4 : 16;
    const std::size_t aoff = ev.ip_version == 4 ? 12 : 0;
    std::uint8_t ca[16], sa[16];
    std::copy_n(client.bytes.data() + aoff, alen, ca);
    std::copy_n(server.bytes.data() + aoff, alen, sa);
    m.has_query_address = m.has_response_address = m.has_query_port = m.has_response_port = 1;
    m.query_address = {alen, ca};
    m.response_address = {alen, sa};
    m.query_port = ev.client_port();
    m.response_port = ev.server_port();
    const auto sec = static_cast<std::uint64_t>(ev.ts / sensor::kNanosPerSecond);
    const auto nsec = static_cast<std::uint32_t>(ev.ts % sensor::kNanosPerSecond);
    const auto wire = ev.msg->wire();
    const ProtobufCBinaryData msg{wire.size(), const_cast<std::uint8_t*>(wire.data())};
    if (response) {
      m.has_response_time_sec = m.has_response_time_nsec = m.has_response_message = 1;
      m.response_time_sec = sec;
      m.response_time_nsec = nsec;
      m.response_message = msg;
    } else {
      m.has_query_time_sec = m.has_query_time_nsec = m.has_query_message = 1;
      m.query_time_sec = sec;
      m.query_time_nsec = nsec;
      m.query_message = msg;
    }
    DnsvigilDnstap__Dnstap d;
    dnsvigil_dnstap__dnstap__init(&d);
    d.has_identity = d.has_type = 1;
    d.identity = {identity_.size(), reinterpret_cast<std::uint8_t*>(identity_.data())};
    d.type = 1;
    d.message = &m;
    buf_.resize(dnsvigil_dnstap__dnstap__get_packed_size(&d));
    dnsvigil_dnstap__dnstap__pack(&d, buf_.data());
    if (fstrm_writer_write(w_, buf_.data(), buf_.size()) == fstrm_res_success) ++written;
  }

 private:
  std::string identity_;
  fstrm_writer* w_ = nullptr;
  std::vector<std::uint8_t> buf_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: pcap2dnstap IN.pcap OUT.dnstap [IDENTITY]\n");
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) {
    std::fprintf(stderr, "pcap2dnstap: %s\n", err);
    return 1;
  }
  Writer w(argv[2], argc > 3 ? argv[3] : "pcap2dnstap");
  if (!w.ok()) {
    std::fprintf(stderr, "pcap2dnstap: cannot write %s\n", argv[2]);
    return 1;
  }
  sensor::PipelineOptions opt;
  opt.services = nullptr;  // names are only copied
  sensor::Pipeline pipeline(opt, w);
  const int link = pcap_datalink(p);
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &h, &data) == 1) {
    const sensor::Timestamp ts = static_cast<sensor::Timestamp>(h->ts.tv_sec) * sensor::kNanosPerSecond +
                                 static_cast<sensor::Timestamp>(h->ts.tv_usec);  // nanoseconds (precision asked)
    pipeline.on_frame(link, ts, {data, h->caplen});
  }
  pipeline.finish();
  pcap_close(p);
  std::fprintf(stderr, "pcap2dnstap: %zu messages written to %s\n", w.written, argv[2]);
  return 0;
}
