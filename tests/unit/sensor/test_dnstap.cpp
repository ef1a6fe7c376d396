// dnstap input (sensor/dnstap, Pipeline::on_dnstap): protobuf frames made with protobuf-c's
// packer from the project's schema, Frame Streams written with libfstrm's own writers (a file,
// and a unix socket with the bidirectional handshake), read back by dnsvigil's reader and
// listener, and turned into DNS events by the packet path.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fstrm.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "dns_builder.hpp"
#include "dnstap.pb-c.h"
#include "dnsvigil/dnstap/dnstap.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

using namespace dnsvigil;
using dnsvigil::test::Wire;

namespace {

// One DNS message in wire form: a query or a response for `name` A.
std::vector<std::uint8_t> dns(bool response, const std::string& name, std::uint16_t id = 0x1234, std::uint16_t rcode = 0) {
  Wire w;
  w.header(id, static_cast<std::uint16_t>(response ? 0x8180 | rcode : 0x0100), 1, 0, 0, 0);
  w.name(name).qtc(1);
  return w.b;
}

struct Fields {
  std::uint32_t type = 5;      // CLIENT_QUERY
  std::uint32_t protocol = 1;  // UDP
  std::vector<std::uint8_t> qaddr{10, 1, 2, 3}, raddr{10, 0, 0, 53};
  std::uint32_t qport = 40000, rport = 53;
  std::uint64_t qsec = 1'700'000'000, rsec = 1'700'000'000;
  std::uint32_t qnsec = 100, rnsec = 5'000'100;
  std::vector<std::uint8_t> query, response;
  std::string identity = "ns1", version = "BIND 9.18";
  std::uint32_t dnstap_type = 1;  // MESSAGE
  bool with_message = true;
};

// A Dnstap protobuf packed by protobuf-c from the project's schema.
std::vector<std::uint8_t> frame(const Fields& f) {
  DnsvigilDnstap__Message m;
  dnsvigil_dnstap__message__init(&m);
  m.has_type = 1;
  m.type = f.type;
  m.has_socket_family = 1;
  m.socket_family = f.qaddr.size() == 16 ? 2 : 1;
  m.has_socket_protocol = f.protocol != 0;
  m.socket_protocol = f.protocol;
  const auto bin = [](const std::vector<std::uint8_t>& v) {
    return ProtobufCBinaryData{v.size(), const_cast<std::uint8_t*>(v.data())};
  };
  m.has_query_address = !f.qaddr.empty();
  m.query_address = bin(f.qaddr);
  m.has_response_address = !f.raddr.empty();
  m.response_address = bin(f.raddr);
  m.has_query_port = m.has_response_port = 1;
  m.query_port = f.qport;
  m.response_port = f.rport;
  m.has_query_time_sec = m.has_query_time_nsec = m.has_response_time_sec = m.has_response_time_nsec = 1;
  m.query_time_sec = f.qsec;
  m.query_time_nsec = f.qnsec;
  m.response_time_sec = f.rsec;
  m.response_time_nsec = f.rnsec;
  m.has_query_message = !f.query.empty();
  m.query_message = bin(f.query);
  m.has_response_message = !f.response.empty();
  m.response_message = bin(f.response);
  DnsvigilDnstap__Dnstap d;
  dnsvigil_dnstap__dnstap__init(&d);
  d.has_identity = d.has_version = 1;
  d.identity = {f.identity.size(), reinterpret_cast<std::uint8_t*>(const_cast<char*>(f.identity.data()))};
  d.version = {f.version.size(), reinterpret_cast<std::uint8_t*>(const_cast<char*>(f.version.data()))};
  d.has_type = 1;
  d.type = f.dnstap_type;
  d.message = f.with_message ? &m : nullptr;
  std::vector<std::uint8_t> out(dnsvigil_dnstap__dnstap__get_packed_size(&d));
  dnsvigil_dnstap__dnstap__pack(&d, out.data());
  return out;
}

struct Events : sensor::EventSink {
  struct Seen {
    sensor::IpAddr src, dst;
    std::uint16_t sport, dport;
    sensor::Timestamp ts;
    bool response, matched;
    std::uint8_t dnstap;
    sensor::DnsProtocol protocol;
    sensor::Transport transport;
    std::string name, identity;
  };
  std::vector<Seen> seen;
  void on_event(const sensor::DnsEvent& ev) override {
    seen.push_back({ev.src, ev.dst, ev.sport, ev.dport, ev.ts, ev.is_response(), ev.matched, ev.dnstap, ev.protocol,
                    ev.transport, std::string(ev.qname->lower()), std::string(ev.server_identity)});
  }
};

sensor::IpAddr ip(const char* t) { return *sensor::IpAddr::parse(t); }

}  // namespace

TEST_CASE("dnstap: the decoder reads every field of a packed message", "[dnstap]") {
  Fields f;
  f.type = 6;  // CLIENT_RESPONSE
  f.protocol = 4;  // DOH
  f.qaddr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  f.raddr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
  f.query = dns(false, "www.example.com");
  f.response = dns(true, "www.example.com");
  const auto bytes = frame(f);
  dnstap::Decoder d;
  sensor::DnstapMessage m;
  REQUIRE(d.decode(bytes, m) == dnstap::Decoded::message);
  CHECK(m.type == 6);
  CHECK(m.socket_protocol == 4);
  CHECK(m.has_query_address);
  CHECK(m.query_address == ip("2001:db8::7"));
  CHECK(m.response_address == ip("2001:db8::53"));
  CHECK(m.query_port == 40000);
  CHECK(m.response_port == 53);
  CHECK(m.query_time == 1'700'000'000LL * sensor::kNanosPerSecond + 100);
  CHECK(m.response_time == 1'700'000'000LL * sensor::kNanosPerSecond + 5'000'100);
  CHECK(std::vector<std::uint8_t>(m.query_message.begin(), m.query_message.end()) == f.query);
  CHECK(std::vector<std::uint8_t>(m.response_message.begin(), m.response_message.end()) == f.response);
  CHECK(m.identity == "ns1");
  CHECK(m.version == "BIND 9.18");
}

TEST_CASE("dnstap: bad protobuf, other Dnstap types and unknown values", "[dnstap]") {
  dnstap::Decoder d;
  sensor::DnstapMessage m;
  const std::vector<std::uint8_t> junk{0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
  CHECK(d.decode(junk, m) == dnstap::Decoded::bad_protobuf);
  Fields f;
  f.query = dns(false, "a.example.com");
  f.dnstap_type = 2;
  CHECK(d.decode(frame(f), m) == dnstap::Decoded::not_message);
  f.dnstap_type = 1;
  f.with_message = false;
  CHECK(d.decode(frame(f), m) == dnstap::Decoded::not_message);
  // A message type and protocol newer than this version: kept as sent.
  f.with_message = true;
  f.type = 99;
  f.protocol = 42;
  REQUIRE(d.decode(frame(f), m) == dnstap::Decoded::message);
  CHECK(m.type == 99);
  CHECK(m.socket_protocol == 42);
  // A long message reuses (and grows) the decoder's buffers.
  f.query = dns(false, std::string(60, 'x') + "." + std::string(60, 'y') + ".example.com");
  for (int i = 0; i < 3; ++i) REQUIRE(d.decode(frame(f), m) == dnstap::Decoded::message);
}

TEST_CASE("dnstap: messages become events of the packet path", "[dnstap][pipeline]") {
  Events ev;
  sensor::Pipeline p({}, ev);
  dnstap::Decoder d;
  sensor::DnstapMessage m;
  const auto feed = [&](const Fields& f) {
    REQUIRE(d.decode(frame(f), m) == dnstap::Decoded::message);
    p.on_dnstap(m);
  };
  Fields q;
  q.protocol = 3;  // DOT
  q.query = dns(false, "www.example.com");
  feed(q);
  Fields r = q;
  r.type = 6;
  r.query.clear();
  r.response = dns(true, "www.example.com");
  feed(r);
  REQUIRE(ev.seen.size() == 2);
  // The client is the query address in both directions; times are the server's.
  CHECK(ev.seen[0].src == ip("10.1.2.3"));
  CHECK(ev.seen[0].dst == ip("10.0.0.53"));
  CHECK(ev.seen[0].sport == 40000);
  CHECK(!ev.seen[0].response);
  CHECK(ev.seen[0].ts == 1'700'000'000LL * sensor::kNanosPerSecond + 100);
  CHECK(ev.seen[1].src == ip("10.0.0.53"));
  CHECK(ev.seen[1].dport == 40000);
  CHECK(ev.seen[1].response);
  CHECK(ev.seen[1].matched);
  CHECK(ev.seen[1].ts == 1'700'000'000LL * sensor::kNanosPerSecond + 5'000'100);
  for (const auto& s : ev.seen) {
    CHECK(s.protocol == sensor::DnsProtocol::dot);
    CHECK(s.transport == sensor::Transport::tcp);
    CHECK(s.dnstap != 0);
    CHECK(s.name == "www.example.com");
    CHECK(s.identity == "ns1");
  }
  CHECK(p.counters().get(sensor::Counter::dnstap_messages) == 2);
  CHECK(p.counters().get(sensor::Counter::tx_matched) == 1);

  // A resolver's upstream query is marked as such; a response without its message is counted.
  Fields up;
  up.type = 3;  // RESOLVER_QUERY
  up.query = dns(false, "example.org", 7);
  feed(up);
  REQUIRE(ev.seen.size() == 3);
  CHECK(ev.seen[2].dnstap == 3);
  Fields empty;
  empty.type = 6;
  feed(empty);
  CHECK(p.counters().get(sensor::Counter::dnstap_no_dns) == 1);
  // An unknown type is taken by the message it holds; an unknown protocol as UDP.
  Fields odd;
  odd.type = 99;
  odd.protocol = 42;
  odd.response = dns(true, "odd.example.com", 9);
  feed(odd);
  REQUIRE(ev.seen.size() == 4);
  CHECK(ev.seen[3].response);
  CHECK(ev.seen[3].transport == sensor::Transport::udp);
  CHECK(p.counters().get(sensor::Counter::dnstap_unknown_type) == 1);
  CHECK(p.counters().get(sensor::Counter::dnstap_unknown_protocol) == 1);
}

TEST_CASE("dnstap: a file written by libfstrm reads back frame by frame", "[dnstap][file]") {
  char path[] = "/tmp/dnsvigil-test-dnstap-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::vector<std::vector<std::uint8_t>> frames;
  for (int i = 0; i < 5; ++i) {
    Fields f;
    f.query = dns(false, "n" + std::to_string(i) + ".example.com", static_cast<std::uint16_t>(i));
    frames.push_back(frame(f));
  }
  {
    fstrm_file_options* fo = fstrm_file_options_init();
    fstrm_file_options_set_file_path(fo, path);
    fstrm_writer_options* wo = fstrm_writer_options_init();
    fstrm_writer_options_add_content_type(wo, dnstap::kContentType.data(), dnstap::kContentType.size());
    fstrm_writer* w = fstrm_file_writer_init(fo, wo);
    REQUIRE(w != nullptr);
    for (const auto& fr : frames) REQUIRE(fstrm_writer_write(w, fr.data(), fr.size()) == fstrm_res_success);
    fstrm_writer_destroy(&w);
    fstrm_writer_options_destroy(&wo);
    fstrm_file_options_destroy(&fo);
  }
  CHECK(dnstap::looks_like_frame_streams(path));
  CHECK_FALSE(dnstap::looks_like_frame_streams(std::string(DNSVIGIL_SOURCE_DIR) + "/pcaps/demo.pcap"));
  const auto r = dnstap::FrameReader::open_file(path);
  std::span<const std::uint8_t> got;
  for (const auto& fr : frames) {
    REQUIRE(r->next(got) == dnstap::FrameReader::Result::frame);
    CHECK(std::vector<std::uint8_t>(got.begin(), got.end()) == fr);
  }
  CHECK(r->next(got) == dnstap::FrameReader::Result::end);
  // A pcap is no dnstap file: a clear error naming it.
  CHECK_THROWS_WITH(dnstap::FrameReader::open_file(std::string(DNSVIGIL_SOURCE_DIR) + "/pcaps/demo.pcap"),
                    Catch::Contains("not a dnstap file"));
  // ... and refusing a damaged start leaves no descriptor open (libfstrm's own file stream did:
  // a fuzz run ran out of descriptors).
  {
    std::FILE* f = std::fopen(path, "wb");
    const unsigned char bad[] = {0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, 'z'};
    std::fwrite(bad, 1, sizeof bad, f);
    std::fclose(f);
  }
  const auto open_fds = [] {
    int n = 0;
    for (int d = 0; d < 1024; ++d) n += fcntl(d, F_GETFD) != -1;
    return n;
  };
  const int before = open_fds();
  for (int i = 0; i < 50; ++i) CHECK_THROWS(dnstap::FrameReader::open_file(path));
  CHECK(open_fds() == before);
  std::remove(path);
}

TEST_CASE("dnstap: the listener takes a server's handshake and frames on a unix socket, and a reconnect",
          "[dnstap][listener]") {
  const std::string sock = "/tmp/dnsvigil-test-dnstap-" + std::to_string(getpid()) + ".sock";
  dnstap::Listener::Options o;
  o.endpoints = {"unix:" + sock};
  o.queue_frames = 3;  // the fourth frame of a burst is dropped, not waited for
  dnstap::Listener l(o);
  l.start();
  const auto send = [&](int n) {
    fstrm_unix_writer_options* uo = fstrm_unix_writer_options_init();
    fstrm_unix_writer_options_set_socket_path(uo, sock.c_str());
    fstrm_writer_options* wo = fstrm_writer_options_init();
    fstrm_writer_options_add_content_type(wo, dnstap::kContentType.data(), dnstap::kContentType.size());
    fstrm_writer* w = fstrm_unix_writer_init(uo, wo);
    REQUIRE(w != nullptr);
    REQUIRE(fstrm_writer_open(w) == fstrm_res_success);  // READY / ACCEPT / START
    for (int i = 0; i < n; ++i) {
      Fields f;
      f.query = dns(false, "s" + std::to_string(i) + ".example.com", static_cast<std::uint16_t>(i));
      const auto fr = frame(f);
      REQUIRE(fstrm_writer_write(w, fr.data(), fr.size()) == fstrm_res_success);
    }
    fstrm_writer_destroy(&w);  // STOP / FINISH
    fstrm_writer_options_destroy(&wo);
    fstrm_unix_writer_options_destroy(&uo);
  };
  const auto settle = [&](std::uint64_t frames) {
    for (int i = 0; i < 200 && l.stats().frames.load() < frames; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  send(5);
  settle(5);
  std::vector<std::vector<std::uint8_t>> got;
  l.drain(got);
  CHECK(l.stats().connections.load() == 1);
  CHECK(l.stats().frames.load() == 5);
  CHECK(got.size() == 3);
  CHECK(l.stats().dropped.load() == 2);
  dnstap::Decoder d;
  sensor::DnstapMessage m;
  REQUIRE(d.decode(got[0], m) == dnstap::Decoded::message);
  CHECK(m.identity == "ns1");
  // The server comes back: served again.
  send(2);
  settle(7);
  CHECK(l.stats().connections.load() == 2);
  l.drain(got);
  CHECK(got.size() == 2);
  CHECK(l.stats().errors.load() == 0);
}
