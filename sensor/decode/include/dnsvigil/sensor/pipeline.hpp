// The packet path: frame -> decode -> defragment -> TCP reassembly -> DNS parse -> transaction
// match -> DnsEvent. One Pipeline per thread; it never allocates per packet.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/counters.hpp"
#include "dnsvigil/sensor/decode.hpp"
#include "dnsvigil/sensor/defrag.hpp"
#include "dnsvigil/sensor/dnstap.hpp"
#include "dnsvigil/sensor/event.hpp"
#include "dnsvigil/sensor/names.hpp"
#include "dnsvigil/sensor/offport.hpp"
#include "dnsvigil/sensor/tcp.hpp"
#include "dnsvigil/sensor/transactions.hpp"

namespace dnsvigil::sensor {

/// Settings of the packet path.
struct PipelineOptions {
  std::vector<std::uint16_t> dns_ports{53};  ///< UDP/TCP ports carrying DNS
  std::vector<std::uint16_t> watch_ports{853};  ///< encrypted DNS: report connection attempts (FlowEvent)
  OffPortMode off_port = OffPortMode::external;  ///< DNS on other ports (capture.dns_heuristic)
  PrefixSet internal;                        ///< network.internal (whose servers `external` leaves out)
  DefragLimits defrag;
  TcpLimits tcp;
  TransactionLimits transactions;
  std::string psl_file;                      ///< empty: the system Public Suffix List
  /// Service catalogue that classifies question names (null: none). The configuration loader
  /// builds it from the built-in list and `names.service_files`; every worker shares it.
  std::shared_ptr<const ServiceCatalogue> services = ServiceCatalogue::builtin();
  bool builtin_services = true;              ///< YAML names.builtin_services
  std::vector<std::string> service_files;    ///< YAML names.service_files (read into `services`)
  Timestamp tick = kNanosPerSecond;          ///< expiry and on_tick granularity (packet time)
};

/// One of `count` workers that each read the whole capture (a replay with -j N: no dispatcher
/// thread). The pipeline decodes every frame, so that packet time, fragment reassembly and the
/// recognition of DNS on other ports see all traffic as a single worker's would, and goes on
/// only with the frames of its own clients (client_slot(client, count) == index; the client is
/// the side that is not on a DNS port). What is counted before that choice (packets, octets,
/// decoding and reassembly findings) is counted by worker 0 alone, so that the workers' sum
/// counts every frame once.
struct Share {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
};

class Pipeline final : private TcpMessageSink {
 public:
  Pipeline(const PipelineOptions& options, EventSink& sink, Share share = {});
  ~Pipeline() override;

  /// Processes one captured frame. `input` identifies the capture source.
  void on_frame(int link_type, Timestamp ts, Bytes frame, std::uint8_t input = 0) noexcept;
  /// Processes a datagram reassembled elsewhere (the dispatcher of -j N): `meta` carries its
  /// addresses, IP version, VLAN and protocol; `transport` is the reassembled transport layer.
  void on_reassembled(const Packet& meta, Bytes transport, Timestamp ts, std::uint8_t input = 0) noexcept;
  /// Processes a frame of `frame_size` octets that was decoded elsewhere (the dispatcher of
  /// -j N, which counted what decoding found): `pkt.payload` is its UDP/TCP payload.
  void on_decoded(const Packet& pkt, std::size_t frame_size, Timestamp ts, std::uint8_t input = 0) noexcept;
  /// Processes one dnstap message (a DNS server's log of a message it received or sent): the
  /// DNS message of its direction becomes an event like a captured one, with the message's
  /// addresses, ports and time (docs/deployment.md, dnstap).
  void on_dnstap(const DnstapMessage& m, std::uint8_t input = 0) noexcept;
  /// Advances packet time without a packet (a worker that got none), running due expiries.
  void advance_to(Timestamp ts) noexcept { advance(ts); }
  /// End of input: delivers what TCP streams still hold, reports unanswered queries.
  void finish() noexcept;

  [[nodiscard]] const Counters& counters() const noexcept { return c_; }
  /// Where findings before a Share's choice are counted: counters() in worker 0, uncounted in the others.
  [[nodiscard]] Counters& front_counters() noexcept { return front_; }
  /// The DNS ports (for routing packets to workers by client).
  [[nodiscard]] bool dns_port(std::uint16_t p) const noexcept { return ports_.test(p); }
  [[nodiscard]] Timestamp now() const noexcept { return now_; }
  [[nodiscard]] const DomainSplitter& splitter() const noexcept { return splitter_; }
  /// Sizes of the bounded tables (for metrics).
  [[nodiscard]] std::size_t tcp_flows() const noexcept { return tcp_.flows(); }
  [[nodiscard]] std::size_t fragments_pending() const noexcept { return defrag_.pending(); }
  [[nodiscard]] std::size_t transactions_pending() const noexcept { return tx_.pending(); }

 private:
  void on_tcp_message(Bytes msg, const Packet& pkt, Timestamp ts) override;
  void on_dns(Bytes msg, const Packet& pkt, Timestamp ts, Transport transport) noexcept;
  void on_transport(Packet& pkt, Timestamp ts) noexcept;
  bool off_port(const Packet& pkt, Timestamp ts) noexcept;
  [[nodiscard]] bool mine(const Packet& pkt, Timestamp ts) noexcept;
  void advance(Timestamp ts) noexcept;

  Counters c_;
  Counters others_;  // what a Share's workers but 0 count before choosing (never read)
  Counters& front_;  // c_, or others_ for those workers
  Share share_;
  EventSink& sink_;
  PortSet ports_;
  PortSet watch_;
  Timestamp tick_;
  DomainSplitter splitter_;
  std::shared_ptr<const ServiceCatalogue> services_;
  Defragmenter defrag_;
  TcpReassembler tcp_;
  TransactionTable tx_;
  OffPortDns off_port_;
  OffPortDns::Side routed_side_ = OffPortDns::Side::none;  // mine()'s judgement of the current packet
  bool routed_ = false;
  dnsparse::Message msg_;
  QueryName qname_;
  std::uint8_t input_ = 0;
  bool fragmented_ = false;
  const DnstapMessage* dnstap_ = nullptr;  // while on_dnstap() runs
  DnsProtocol protocol_ = DnsProtocol::dns;
  Timestamp now_ = 0;
  Timestamp next_tick_ = 0;
};

}  // namespace dnsvigil::sensor
