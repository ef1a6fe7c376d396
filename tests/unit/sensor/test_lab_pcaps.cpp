// The Pipeline on the project's own lab captures (pcaps/pipeline/*.pcap, made by
// pcaps/lab/make-pipeline.sh): real frames through every stage, every event's JSON valid.
// A capture that is not there is skipped with a warning.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "json_check.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil::sensor;
namespace json = dnsvigil::test::json;

namespace {

struct Frame {
  Timestamp ts;
  std::vector<std::uint8_t> data;
};

struct Capture {
  int link = -1;
  std::vector<Frame> frames;
};

// Reads a classic pcap file (little-endian, micro- or nanosecond). Returns link -1 when absent.
Capture read_pcap(const std::string& rel) {
  Capture cap;
  const std::filesystem::path path = std::filesystem::path(DNSVIGIL_SOURCE_DIR) / "pcaps" / rel;
  std::ifstream in(path, std::ios::binary);
  if (!in) return cap;
  const std::vector<char> raw{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto u32 = [&](std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, raw.data() + off, 4);
    return v;
  };
  REQUIRE(raw.size() >= 24);
  const std::uint32_t magic = u32(0);
  REQUIRE((magic == 0xa1b2c3d4 || magic == 0xa1b23c4d));
  const Timestamp frac = magic == 0xa1b2c3d4 ? 1000 : 1;
  const std::uint32_t linktype = u32(20);
  cap.link = linktype == 101 ? dlt::kRaw : static_cast<int>(linktype);  // as libpcap reports it
  for (std::size_t off = 24; off + 16 <= raw.size();) {
    const std::uint32_t incl = u32(off + 8);
    REQUIRE(off + 16 + incl <= raw.size());
    Frame f;
    f.ts = Timestamp{u32(off)} * kNanosPerSecond + Timestamp{u32(off + 4)} * frac;
    f.data.assign(raw.begin() + static_cast<std::ptrdiff_t>(off + 16), raw.begin() + static_cast<std::ptrdiff_t>(off + 16 + incl));
    cap.frames.push_back(std::move(f));
    off += 16 + incl;
  }
  return cap;
}

struct Sink final : EventSink {
  std::size_t events = 0, responses = 0, matched = 0, fragmented = 0, tcp = 0, vlan_events = 0, invalid_json = 0;
  std::vector<std::uint16_t> vlans;
  std::vector<std::vector<std::uint8_t>> tcp_from_53;  // wire of every TCP message sent by port 53
  dnsvigil::output::Json j;
  void on_event(const DnsEvent& ev) override {
    ++events;
    if (ev.is_response()) ++responses;
    if (ev.matched) ++matched;
    if (ev.fragmented) ++fragmented;
    if (ev.has_vlan) vlans.push_back(ev.vlan);
    if (ev.transport == Transport::tcp) {
      ++tcp;
      if (ev.sport == 53) tcp_from_53.emplace_back(ev.msg->wire().begin(), ev.msg->wire().end());
    }
    dnsvigil::output::write_event_json(ev, j);
    if (!json::parse(j.line()).ok) ++invalid_json;
  }
};

// Runs frames [skip, end) through a fresh Pipeline and finishes it.
Counters run(const Capture& cap, Sink& s, std::size_t skip = 0) {
  Pipeline p(PipelineOptions{}, s);
  for (std::size_t i = skip; i < cap.frames.size(); ++i)
    p.on_frame(cap.link, cap.frames[i].ts, Bytes{cap.frames[i].data});
  p.finish();
  return p.counters();
}

// No stage dropped or repaired anything.
void check_clean(const Counters& c) {
  for (const Counter k : {Counter::dns_parse_errors, Counter::l2_truncated, Counter::ipv4_bad_checksum,
                          Counter::ip_snaplen_cut, Counter::udp_bad_length, Counter::frag_invalid,
                          Counter::frag_overlap, Counter::frag_timeout, Counter::tcp_gap_bytes,
                          Counter::tcp_resync_skipped_bytes, Counter::tcp_capped_bytes, Counter::tcp_truncated_bytes,
                          Counter::tcp_bad_length_prefix}) {
    INFO("counter " << counter_id(k));
    CHECK(c.get(k) == 0);
  }
}

}  // namespace

TEST_CASE("lab pcaps: every pipeline capture decodes cleanly with valid JSON", "[lab][pipeline]") {
  for (const char* name : {"udp4-mix.pcap", "udp6-mix.pcap", "tcp-mix.pcap", "frag4.pcap", "frag6.pcap", "axfr-big.pcap",
                           "any-sll.pcap", "any-sll2.pcap", "vlan.pcap", "qinq.pcap", "nslookup.pcap", "tc-retry.pcap"}) {
    INFO("pcaps/pipeline/" << name);
    const Capture cap = read_pcap(std::string("pipeline/") + name);
    if (cap.link < 0) {
      WARN("missing lab capture pcaps/pipeline/" << name << ": skipped");
      continue;
    }
    Sink s;
    const Counters c = run(cap, s);
    check_clean(c);
    CHECK(s.events > 0);
    CHECK(s.invalid_json == 0);
    CHECK(s.matched > 0);
    CHECK(s.matched + c.get(Counter::tx_unsolicited) == s.responses);
    CHECK(c.get(Counter::packets) == cap.frames.size());
  }
}

TEST_CASE("lab pcaps: fragments, TCP, cooked captures and VLAN tags", "[lab][pipeline]") {
  const auto load = [](const char* rel, Capture& cap) {
    cap = read_pcap(rel);
    if (cap.link < 0) WARN("missing lab capture pcaps/" << rel << ": skipped");
    return cap.link >= 0;
  };
  Capture cap;
  // make-pipeline.sh: three answers of 2-4 kB cross a 576-octet (IPv4) / 1280-octet (IPv6) path.
  for (const char* rel : {"pipeline/frag4.pcap", "pipeline/frag6.pcap"}) {
    if (!load(rel, cap)) continue;
    INFO(rel);
    Sink s;
    const Counters c = run(cap, s);
    CHECK(s.fragmented == 3);
    CHECK(c.get(Counter::frag_reassembled) == 3);
  }
  if (load("pipeline/axfr-big.pcap", cap)) {
    Sink s;
    const Counters c = run(cap, s);
    CHECK(s.tcp == s.events);
    CHECK(s.tcp_from_53.size() >= 8);  // the AXFR answer is several ~12.7 kB messages
    CHECK(c.get(Counter::tcp_midstream) == 0);
    CHECK(c.get(Counter::tx_matched) >= 1);
  }
  for (const char* rel : {"pipeline/any-sll.pcap", "pipeline/any-sll2.pcap"}) {
    if (!load(rel, cap)) continue;
    INFO(rel);
    CHECK((cap.link == dlt::kLinuxSll || cap.link == dlt::kLinuxSll2));
    Sink s;
    run(cap, s);
    CHECK(s.events > 0);
  }
  // vlan.pcap: tag 100 added to every frame; qinq.pcap: 802.1ad tag 200 outside it.
  if (load("pipeline/vlan.pcap", cap)) {
    Sink s;
    run(cap, s);
    CHECK(s.vlans.size() == s.events);
    CHECK(std::all_of(s.vlans.begin(), s.vlans.end(), [](std::uint16_t v) { return v == 100; }));
  }
  if (load("pipeline/qinq.pcap", cap)) {
    Sink s;
    run(cap, s);
    CHECK(s.vlans.size() == s.events);
    CHECK(std::all_of(s.vlans.begin(), s.vlans.end(), [](std::uint16_t v) { return v == 200; }));
  }
}

TEST_CASE("lab pcaps: a real AXFR joined mid-stream yields only real messages", "[lab][tcp][resync]") {
  // pcaps/pipeline/axfr-big.pcap with its first `skip` frames (the handshake and part of the
  // answer) left out, as when the sensor starts during a transfer. Every message delivered
  // afterwards must be one the server sent (byte for byte), and the later ones must come out.
  const Capture cap = read_pcap("pipeline/axfr-big.pcap");
  if (cap.link < 0) {
    WARN("missing lab capture pcaps/pipeline/axfr-big.pcap: skipped");
    return;
  }
  Sink full;
  run(cap, full);
  REQUIRE(full.tcp_from_53.size() >= 8);
  for (const std::size_t skip : {20UL, 60UL, 100UL, 150UL}) {
    INFO("first " << skip << " frames left out");
    Sink s;
    const Counters c = run(cap, s, skip);
    CHECK(c.get(Counter::tcp_midstream) >= 1);
    std::size_t foreign = 0;
    for (const auto& m : s.tcp_from_53)
      if (std::find(full.tcp_from_53.begin(), full.tcp_from_53.end(), m) == full.tcp_from_53.end()) ++foreign;
    CHECK(foreign == 0);
    CHECK(c.get(Counter::dns_parse_errors) == 0);
    // The transfer's last message (1115 octets; the one before the second connection's REFUSED)
    // starts after every join point tried here.
    const auto& last = full.tcp_from_53[full.tcp_from_53.size() - 2];
    CHECK(last.size() < 4096);
    CHECK(std::find(s.tcp_from_53.begin(), s.tcp_from_53.end(), last) != s.tcp_from_53.end());
  }
}
