#include "run.hpp"


#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <tuple>

#include "dnsvigil/detect/intel.hpp"
#include "dnsvigil/dnsparse/error.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/output/metrics.hpp"
#include "dnsvigil/output/outputs.hpp"

namespace dnsvigil::app {

// ---- outputs ------------------------------------------------------------------------------

void AlertFanout::emit(const detect::Alert& a) {
  {
    std::lock_guard lock(mu_);
    ++per_rule_[a.rule->name];
    if (log_) log_->add(a);
  }
  for (auto& o : outputs) o->emit(a);
}

void AlertFanout::advance(sensor::Timestamp now) {
  for (auto& o : outputs) o->advance(now);
}

std::map<std::string_view, std::uint64_t> AlertFanout::per_rule() const {
  std::lock_guard lock(mu_);
  return per_rule_;
}

void AlertFanout::keep_alerts(std::size_t max) {
  std::lock_guard lock(mu_);
  if (!log_) log_ = std::make_unique<output::AlertLog>(max);
}

std::unique_ptr<output::AlertLog> AlertFanout::alert_log() const {
  std::lock_guard lock(mu_);
  return log_ ? std::make_unique<output::AlertLog>(*log_) : nullptr;
}

namespace {
// The ClickHouse alert output (its name is "clickhouse:URL/DB.TABLE").
bool is_clickhouse(const output::QueuedOutput& o) { return o.name().starts_with("clickhouse:"); }

std::vector<std::unique_ptr<output::QueuedOutput>> queued(std::vector<std::unique_ptr<output::AlertOutput>> outs,
                                                          const config::Settings& s) {
  std::vector<std::unique_ptr<output::QueuedOutput>> q;
  for (auto& o : outs) q.push_back(std::make_unique<output::QueuedOutput>(std::move(o), s.outputs.queue, s.outputs.rate_limit));
  return q;
}
}  // namespace

output::ClickHouseOptions clickhouse_options(const config::Settings& s, const std::string& hostname) {
  const auto& c = s.outputs.clickhouse;
  output::ClickHouseOptions o;
  o.url = c.url;
  o.database = c.database;
  o.events_table = c.events_table;
  o.alerts_table = c.alerts_table;
  o.user = c.user;
  o.password = c.password;
  o.ca_file = c.ca_file;
  o.observer_name = c.observer_name.empty() ? hostname : c.observer_name;
  o.batch_rows = c.batch_rows;
  o.flush_interval_ns = c.flush_interval;
  o.max_buffer_bytes = c.max_buffer_bytes;
  o.timeout_ns = c.timeout;
  return o;
}

std::vector<std::unique_ptr<output::AlertOutput>> open_outputs(const config::Settings& s, const output::Observer& obs,
                                                               std::shared_ptr<output::ClickHouseErrors> clickhouse_errors) {
  std::vector<std::unique_ptr<output::AlertOutput>> out;
  if (!s.outputs.alerts_json.empty()) out.push_back(output::make_json_output(s.outputs.alerts_json, obs));
  if (!s.outputs.alerts_text.empty()) out.push_back(output::make_text_output(s.outputs.alerts_text));
  if (s.outputs.syslog.enabled) {
    const auto& y = s.outputs.syslog;
    output::SyslogOptions o;
    o.transport = y.transport;
    o.address = y.address;
    o.format = y.format;
    o.facility = output::syslog_facility(y.facility);
    o.severity = {output::syslog_severity(y.severity_low), output::syslog_severity(y.severity_medium),
                  output::syslog_severity(y.severity_high), output::syslog_severity(y.severity_critical)};
    o.app_name = y.app_name;
    o.hostname = obs.hostname;
    out.push_back(output::make_syslog_output(o));
  }
  if (s.outputs.clickhouse.enabled && !s.outputs.clickhouse.alerts_table.empty())
    out.push_back(output::make_clickhouse_alert_output(clickhouse_options(s, obs.hostname), obs, clickhouse_errors));
  return out;
}

void DumpWriter::write_chunk(const std::string& chunk) {
  if (chunk.empty()) return;
  std::lock_guard lock(mu_);
  // Chunks hold whole lines ending in '\n'; LineWriter adds the last newline itself.
  out_.write(std::string_view(chunk).substr(0, chunk.size() - 1));
}

void DumpWriter::flush() {
  std::lock_guard lock(mu_);
  out_.flush();
}

void DumpWriter::reopen() {
  std::lock_guard lock(mu_);
  out_.flush();
  out_.reopen();
}

// ---- shard --------------------------------------------------------------------------------

namespace {
constexpr std::size_t kDumpChunk = 64u << 10;
}

Shard::Shard(const config::Settings& s, AlertFanout& fanout, DumpWriter* dump, detect::SharedView* shared,
             const InputNames* names, sensor::Share share)
    : pipeline_(s.pipeline, *this, share), dump_(dump), names_(names), shared_(shared) {
  rebuild_engine(s, fanout);
  if (!s.outputs.report.path.empty()) {
    output::TrafficLimits l;
    l.clients = l.domains = s.outputs.report.max_keys;
    l.servers = std::max<std::size_t>(s.outputs.report.max_keys / 4, 16);
    traffic_ = std::make_unique<output::Traffic>(l);
  }
}

Shard::~Shard() = default;

void Shard::finish_engine() {
  if (engine_) engine_->finish();
}

void Shard::rebuild_engine(const config::Settings& s, AlertFanout& fanout) {
  engine_.reset();
  fanout_ = &fanout;
  if (fanout.outputs.empty()) return;
  engine_ = std::make_unique<detect::Engine>(s.detectors, fanout);
  engine_->attach(shared_);
}

void Shard::on_event(const sensor::DnsEvent& ev) {
  if (traffic_) traffic_->on_event(ev);
  if (dump_ != nullptr) {
    output::write_event_json(ev, json_, input_name(ev.input));
    chunk_ += json_.line();
    chunk_ += '\n';
    if (chunk_.size() >= kDumpChunk) flush_dump();
  }
  if (clickhouse_) clickhouse_->add(ev, input_name(ev.input));
  if (engine_) engine_->on_event(ev);
}

void Shard::on_unanswered(const sensor::UnansweredQuery& q) {
  if (traffic_) traffic_->on_unanswered(q);
  if (dump_ != nullptr) {
    output::write_unanswered_json(q, json_, input_name(q.input));
    chunk_ += json_.line();
    chunk_ += '\n';
    if (chunk_.size() >= kDumpChunk) flush_dump();
  }
  if (clickhouse_) clickhouse_->add(q);
  if (engine_) engine_->on_unanswered(q);
}

void Shard::on_flow(const sensor::FlowEvent& f) {
  if (engine_) engine_->on_flow(f);
}

void Shard::barrier(std::size_t worker, sensor::Timestamp now) {
  if (shared_ == nullptr) return;
  if (engine_) engine_->publish();
  shared_->wait_for(worker, now - now % sensor::kNanosPerSecond);
}

void Shard::on_tick(sensor::Timestamp now) {
  if (engine_) engine_->on_tick(now);
  fanout_->advance(now);
  // Once a second of packet time the event dump reaches its file, so that a live capture's
  // events can be followed (tail -f) and are not held back by the buffers.
  flush_dump();
  if (dump_ != nullptr) dump_->flush();
  if (clickhouse_) clickhouse_->flush();
  publish_snapshot();
}

void Shard::flush_dump() {
  if (dump_ != nullptr) dump_->write_chunk(chunk_);
  chunk_.clear();
}

void Shard::finish() {
  pipeline_.finish();
  if (engine_) engine_->finish();
  flush_dump();
  if (clickhouse_) clickhouse_->flush();
  publish_snapshot();
}

void Shard::publish_snapshot() {
  std::lock_guard lock(snap_mu_);
  snapshot_ = pipeline_.counters();
  engine_snapshot_ = engine_counts();
}

Shard::EngineCounts Shard::engine_counts() const noexcept {
  if (!engine_) return {};
  return {engine_->suppressed(), engine_->folded(), engine_->role_explained()};
}

Shard::EngineCounts Shard::engine_counts_snapshot() const {
  std::lock_guard lock(snap_mu_);
  return engine_snapshot_;
}

sensor::Counters Shard::counters_snapshot() const {
  std::lock_guard lock(snap_mu_);
  return snapshot_;
}

namespace {
// Clients with learned roles that a report lists (the end-of-run summary lists 8).
constexpr std::size_t kReportLearnedClients = 64;
}  // namespace

Shard::View Shard::view() const {
  View v;
  if (traffic_) v.traffic = std::make_shared<const output::Traffic>(*traffic_);
  if (engine_) {
    v.learned = Learned::of(*engine_, kReportLearnedClients);
    v.suppressed = engine_->suppressed();
    v.folded = engine_->folded();
    v.role_explained = engine_->role_explained();
  }
  return v;
}

void Shard::publish_view(std::uint64_t generation) {
  publish_snapshot();
  View v = view();
  {
    std::lock_guard lock(view_mu_);
    view_ = std::move(v);
  }
  view_gen_.store(generation, std::memory_order_release);
}

Shard::View Shard::view_snapshot() const {
  std::lock_guard lock(view_mu_);
  return view_;
}

// ---- run and dispatcher ---------------------------------------------------------------------

namespace {

enum Kind : std::uint16_t { kDecoded = 0, kDatagram = 1, kTick = 2, kStop = 3, kDnstap = 4, kReport = 5 };

// Record header in a worker's ring; the kind's meta and then octets follow it.
struct ItemHead {
  std::int64_t ts;
  std::uint16_t kind;
  std::uint16_t link;
  std::uint8_t input;
  std::uint8_t pad[3];
};

// What a reassembled datagram carries besides its octets.
struct DatagramMeta {
  sensor::IpAddr src, dst;
  std::uint16_t vlan0;
  std::uint8_t ip_version, proto, vlan_count, pad[3];
};

// A frame the dispatcher has decoded: the worker goes on from the transport payload, which
// follows (the frame is not decoded twice). `pkt.payload` is cleared before the copy.
struct DecodedMeta {
  sensor::Packet pkt;
  std::uint64_t frame_size;
};

constexpr std::size_t kMaxMeta = std::max(sizeof(DatagramMeta), sizeof(DecodedMeta));
constexpr std::size_t kRingBytes = 8u << 20;
constexpr std::size_t kMaxRecord = sizeof(ItemHead) + kMaxMeta + 65536 + 1024;
// A dnstap frame travels whole to its worker: one DNS message (at most 65535 octets) and its
// addresses, times and names fit.
constexpr std::size_t kMaxDnstapFrame = kMaxRecord - sizeof(ItemHead);

}  // namespace

struct Run::Worker {
  std::unique_ptr<sensor::SpscRing> ring = std::make_unique<sensor::SpscRing>(kRingBytes);
  std::thread thread;
};

// ---- replay by every worker ---------------------------------------------------------------

// A worker of Feed::readers: reads every frame of every file; its shard's pipeline (a Share)
// keeps the frames of its own clients. Its clock gives the barrier's seconds, as the
// dispatcher's ticks do, from the same packets in every worker. A worker of Feed::fanout reads
// its own rings, which hold its clients' frames only; the wall clock moves its packet time on.
class Run::Reader final : public capture::FrameHandler {
 public:
  Reader(Run& run, std::size_t index) : run_(run), index_(index) {}
  void on_frame(sensor::Timestamp ts, dnsparse::Bytes frame, std::uint32_t /*wire_len*/) override {
    if (clock_.advance(ts)) second();
    shard->pipeline().on_frame(inputs.link_type(), ts, frame, inputs.input());
  }
  void on_interface(const capture::Interface& iface) override { inputs.on_interface(iface); }
  void read(const std::vector<std::string>& files, const std::string& filter);
  void read_live();

  InputMap inputs;
  std::vector<std::unique_ptr<capture::Source>> live;  // Feed::fanout: one per interface
  mutable std::mutex stats_mu;
  std::vector<capture::CaptureStats> stats;  // of `live`, as of the last look
  Shard* shard = nullptr;
  std::thread thread;
  std::exception_ptr error;

 private:
  void second() {
    shard->barrier(index_, clock_.now);
    shard->pipeline().advance_to(clock_.now);
  }
  // Between batches: a report's view, when one was asked for.
  void duties() {
    const std::uint64_t want = run_.view_request_.load(std::memory_order_acquire);
    if (want > shard->view_generation()) shard->publish_view(want);
  }
  void read_dnstap(const std::string& path, std::uint8_t input);

  Run& run_;
  std::size_t index_;
  SecondClock clock_;
  dnstap::Decoder decoder_;
  sensor::DnstapMessage tap_;
};

Run::Run(const config::Settings& s, output::Observer obs, std::vector<std::unique_ptr<output::AlertOutput>> outputs,
         std::unique_ptr<DumpWriter> dump, Feed feed)
    : settings_(s), obs_(std::move(obs)), dump_(std::move(dump)) {
  fanout_.outputs = queued(std::move(outputs), s);
  if (!s.outputs.report.path.empty()) fanout_.keep_alerts(s.outputs.report.max_alerts);
  if (s.outputs.clickhouse.enabled && !s.outputs.clickhouse.events_table.empty())
    clickhouse_ = std::make_unique<output::ClickHouseEvents>(clickhouse_options(s, obs_.hostname), clickhouse_errors_);
  const std::size_t n = s.workers < 1 ? 1 : s.workers;
  if (n > 1 && feed != Feed::dispatcher) {
    for (std::size_t i = 0; i < n; ++i) {
      readers_.push_back(std::make_unique<Reader>(*this, i));
      // A fan-out worker's rings hold its own clients' frames only: it keeps them all.
      const sensor::Share share = feed == Feed::fanout
                                      ? sensor::Share{}
                                      : sensor::Share{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(n)};
      shards_.push_back(std::make_unique<Shard>(s, fanout_, dump_.get(), &shared_, &readers_[i]->inputs.names(), share));
      readers_[i]->shard = shards_[i].get();
      if (clickhouse_) shards_.back()->attach_clickhouse(*clickhouse_);
    }
    shared_.set_workers(n);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>(s, fanout_, dump_.get(), n > 1 ? &shared_ : nullptr, &inputs_.names()));
    if (clickhouse_) shards_.back()->attach_clickhouse(*clickhouse_);
  }
  if (n == 1) return;
  shared_.set_workers(n);
  for (const std::uint16_t p : s.pipeline.dns_ports) dns_ports_.set(p);
  defrag_ = std::make_unique<sensor::Defragmenter>(s.pipeline.defrag, dispatch_counters_);
  off_port_ = std::make_unique<sensor::OffPortDns>(s.pipeline.off_port, s.pipeline.internal);
  for (std::size_t i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    Shard* shard = shards_[i].get();
    Worker* self = w.get();
    w->thread = std::thread([shard, self, i] {
      // "dnsvigil-w1" and so on in top -H, ps -L and perf.
      pthread_setname_np(pthread_self(), ("dnsvigil-w" + std::to_string(i)).c_str());
      std::vector<std::uint8_t> scratch(kMaxRecord);
      dnstap::Decoder decoder;
      sensor::DnstapMessage tap;
      // The last record a worker gets is kStop: everything queued before it is handled first.
      for (bool stop = false; !stop;) {
        self->ring->drain(scratch, [&](std::span<const std::uint8_t> rec) {
          ItemHead h;
          std::memcpy(&h, rec.data(), sizeof h);
          const auto body = rec.subspan(sizeof h);
          switch (h.kind) {
            case kDecoded: {
              DecodedMeta m;
              std::memcpy(static_cast<void*>(&m), body.data(), sizeof m);
              m.pkt.payload = body.subspan(sizeof m);
              shard->pipeline().on_decoded(m.pkt, m.frame_size, h.ts, h.input);
              break;
            }
            case kDatagram: {
              DatagramMeta m;
              std::memcpy(&m, body.data(), sizeof m);
              sensor::Packet pkt;
              pkt.src = m.src;
              pkt.dst = m.dst;
              pkt.ip_version = m.ip_version;
              pkt.proto = m.proto;
              pkt.vlan_count = m.vlan_count;
              pkt.vlan[0] = m.vlan0;
              shard->pipeline().on_reassembled(pkt, body.subspan(sizeof m), h.ts, h.input);
              break;
            }
            case kTick:
              shard->barrier(i, h.ts);
              shard->pipeline().advance_to(h.ts);
              break;
            case kDnstap:
              // The dispatcher decoded it once (to route it); it decodes again without a fault.
              if (decoder.decode(body, tap) == dnstap::Decoded::message) shard->pipeline().on_dnstap(tap, h.input);
              break;
            case kReport: shard->publish_view(static_cast<std::uint64_t>(h.ts)); break;  // ts: the request
            default: stop = true; break;
          }
        });
        if (!stop) self->ring->wait();
      }
    });
    workers_.push_back(std::move(w));
  }
}

Run::~Run() {
  stop_reading();
  shared_.end_barrier();  // a reader waiting for the others at a second
  for (auto& r : readers_)
    if (r->thread.joinable()) r->thread.join();
  stop_workers();
}

void Run::stop_workers() {
  // Called on the dispatcher thread, the rings' only producer.
  for (std::size_t i = 0; i < workers_.size(); ++i)
    if (workers_[i]->thread.joinable()) {
      push(i, kStop, 0, {}, {}, 0);
      workers_[i]->ring->wake();
    }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

void Run::push(std::size_t shard, std::uint16_t kind, sensor::Timestamp ts, dnsparse::Bytes head_extra,
               dnsparse::Bytes body, std::uint8_t input) {
  std::uint8_t head[sizeof(ItemHead) + kMaxMeta];
  ItemHead h{ts, kind, static_cast<std::uint16_t>(inputs_.link_type()), input, {}};
  std::memcpy(head, &h, sizeof h);
  if (!head_extra.empty()) std::memcpy(head + sizeof h, head_extra.data(), head_extra.size());
  workers_[shard]->ring->push({head, sizeof h + head_extra.size()}, body);
}

// Every worker hears packet time advance, and at once: the workers wait for each other to reach
// each second (SharedView::wait_for), so a tick must not sit in a sleeping worker's ring.
void Run::tick_workers() {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    push(i, kTick, clock_.now, {}, {}, 0);
    workers_[i]->ring->wake();
  }
}

void Run::wake_workers() {
  for (auto& w : workers_) w->ring->wake();
}

void InputMap::on_interface(const capture::Interface& iface) {
  link_type_ = iface.link_type;
  // The first 1024 interfaces of a file are remembered; a file with more is not worth names.
  constexpr std::size_t kMapped = 1024;
  if (iface.index < iface_inputs_.size() && iface_inputs_[iface.index] != 0) {
    input_ = iface_inputs_[iface.index];
    return;
  }
  std::uint8_t in = kUnnamed;
  if (name_floor_ - 1 > max_source_ && iface.index < kMapped) {
    in = --name_floor_;
    names_[in] = iface.name;  // before any frame of this input reaches a shard
  }
  if (iface.index < kMapped) {
    if (iface.index >= iface_inputs_.size()) iface_inputs_.resize(iface.index + 1, 0);
    iface_inputs_[iface.index] = in;
  }
  input_ = in;
}

void Run::on_frame(sensor::Timestamp ts, dnsparse::Bytes frame, std::uint32_t /*wire_len*/) {
  if (workers_.empty()) {
    shards_[0]->pipeline().on_frame(inputs_.link_type(), ts, frame, inputs_.input());
    return;
  }
  dispatch(ts, frame);
}

// Routes a frame to the worker of its client (the side that is not on a DNS port), so TCP
// streams, transactions and every per-client rule state stay in one worker. Fragments are
// reassembled here, because only the first fragment carries the ports.
void Run::dispatch(sensor::Timestamp ts, dnsparse::Bytes frame) {
  // Every worker hears packet time advance, even one that gets no packets.
  if (clock_.advance(ts)) {
    tick_workers();
    defrag_->expire(clock_.now);
  }
  const auto route = [&](const sensor::Packet& p) {
    bool to_dst = !dns_ports_.test(p.dport) && dns_ports_.test(p.sport);
    // DNS on another port: the worker's pipeline recognises it the same way.
    if (!dns_ports_.test(p.dport) && !dns_ports_.test(p.sport) && off_port_->enabled())
      to_dst = off_port_->classify(p, clock_.now, off_port_msg_) == sensor::OffPortDns::Side::client_dst;
    return sensor::client_slot(to_dst ? p.dst : p.src, static_cast<std::uint32_t>(workers_.size()));
  };
  sensor::Packet pkt;
  // What decoding finds is counted here; a worker counts the frame itself (packets, bytes) and
  // everything from the transport layer on.
  switch (sensor::decode_frame(inputs_.link_type(), frame, pkt, dispatch_counters_, &dns_ports_)) {
    case sensor::Decoded::dropped:
      dispatch_counters_.add(sensor::Counter::packets);
      dispatch_counters_.add(sensor::Counter::bytes, frame.size());
      return;
    case sensor::Decoded::fragment: {
      dispatch_counters_.add(sensor::Counter::packets);
      dispatch_counters_.add(sensor::Counter::bytes, frame.size());
      std::uint8_t proto = 0;
      const dnsparse::Bytes whole = defrag_->add(pkt, ts, proto);
      if (whole.empty()) return;
      sensor::Packet inner = pkt;
      scratch_ = {};
      if (sensor::decode_transport(proto, whole, inner, scratch_, &dns_ports_) != sensor::Decoded::dns) {
        dispatch_counters_.merge(scratch_);
        return;
      }
      DatagramMeta m{pkt.src, pkt.dst, pkt.vlan[0], pkt.ip_version, proto, pkt.vlan_count, {}};
      push(route(inner), kDatagram, ts, {reinterpret_cast<const std::uint8_t*>(&m), sizeof m}, whole, inputs_.input());
      return;
    }
    case sensor::Decoded::dns: {
      DecodedMeta m{pkt, frame.size()};
      m.pkt.payload = {};
      push(route(pkt), kDecoded, ts, {reinterpret_cast<const std::uint8_t*>(&m), sizeof m}, pkt.payload,
           inputs_.input());
      return;
    }
  }
}

void Run::on_dnstap(dnsparse::Bytes frame, std::uint8_t input) {
  switch (dnstap_decoder_.decode(frame, dnstap_msg_)) {
    case dnstap::Decoded::bad_protobuf:
      dispatch_counters_.add(sensor::Counter::dnstap_bad_protobuf);
      return;
    case dnstap::Decoded::not_message:
      dispatch_counters_.add(sensor::Counter::dnstap_not_message);
      return;
    case dnstap::Decoded::message: break;
  }
  if (workers_.empty()) {
    shards_[0]->pipeline().on_dnstap(dnstap_msg_, input);
    return;
  }
  if (frame.size() > kMaxDnstapFrame) {
    dispatch_counters_.add(sensor::Counter::dnstap_oversize);
    return;
  }
  // The worker of its client: the query side, whichever way the message went.
  const sensor::Timestamp ts = dnstap_msg_.query_time != 0 ? dnstap_msg_.query_time : dnstap_msg_.response_time;
  if (clock_.advance(ts)) tick_workers();
  push(sensor::client_slot(dnstap_msg_.query_address, static_cast<std::uint32_t>(workers_.size())), kDnstap, ts, {},
       frame, input);
}

void Run::Reader::read(const std::vector<std::string>& files, const std::string& filter) {
  std::uint8_t input = 0;
  for (const auto& path : files) {
    if (run_.stop_.load(std::memory_order_relaxed)) break;
    // dnstap files (BIND's dnstap-output file, fstrm_capture) are recognised by content.
    if (dnstap::looks_like_frame_streams(path)) {
      read_dnstap(path, input++);
      continue;
    }
    const auto src = capture::Source::open_file(path, filter);
    inputs.set_source(src->link_type(), input++);
    while (!run_.stop_.load(std::memory_order_relaxed) && src->dispatch(*this, 4096) >= 0) duties();
    if (const std::string notes = src->notes(); index_ == 0 && !notes.empty()) spdlog::warn("{}: {}", src->name(), notes);
  }
}

void Run::Reader::read_live() {
  std::vector<pollfd> fds;
  for (std::size_t k = 0; k < live.size(); ++k) {
    inputs.name(static_cast<std::uint8_t>(k), live[k]->name());
    fds.push_back({live[k]->selectable_fd(), POLLIN, 0});
  }
  auto last_stats = std::chrono::steady_clock::now() - std::chrono::seconds(2);
  while (!run_.stop_.load(std::memory_order_relaxed)) {
    if (::poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) throw capture::CaptureError(std::string("poll: ") + std::strerror(errno));
    for (std::size_t k = 0; k < live.size(); ++k) {
      inputs.set_source(live[k]->link_type(), static_cast<std::uint8_t>(k));
      while (live[k]->dispatch(*this, 4096) > 0) {
      }
    }
    // An idle worker's packet time follows the clock (frames are stamped by it), a second behind
    // so that frames still in the kernel's blocks are not overtaken.
    timespec wall{};
    ::clock_gettime(CLOCK_REALTIME, &wall);
    const sensor::Timestamp now = static_cast<sensor::Timestamp>(wall.tv_sec) * sensor::kNanosPerSecond + wall.tv_nsec;
    if (clock_.advance(now - sensor::kNanosPerSecond)) second();
    duties();
    if (const auto t = std::chrono::steady_clock::now(); t - last_stats >= std::chrono::seconds(1)) {
      last_stats = t;
      std::vector<capture::CaptureStats> st;
      for (const auto& src : live) st.push_back(src->stats());
      std::lock_guard lock(stats_mu);
      stats = std::move(st);
    }
  }
}

void Run::Reader::read_dnstap(const std::string& path, std::uint8_t input) {
  const auto reader = dnstap::FrameReader::open_file(path);
  std::span<const std::uint8_t> frame;
  // What decoding finds is counted once, by worker 0 (the pipeline's counters before its choice).
  sensor::Counters& counters = shard->pipeline().front_counters();
  for (std::size_t n = 1; !run_.stop_.load(std::memory_order_relaxed); ++n) {
    const auto r = reader->next(frame);
    if (r == dnstap::FrameReader::Result::end) break;
    if (r == dnstap::FrameReader::Result::error) throw std::runtime_error(path + ": damaged dnstap file (Frame Streams)");
    switch (decoder_.decode(frame, tap_)) {
      case dnstap::Decoded::bad_protobuf: counters.add(sensor::Counter::dnstap_bad_protobuf); continue;
      case dnstap::Decoded::not_message: counters.add(sensor::Counter::dnstap_not_message); continue;
      case dnstap::Decoded::message: break;
    }
    if (clock_.advance(tap_.query_time != 0 ? tap_.query_time : tap_.response_time)) second();
    shard->pipeline().on_dnstap(tap_, input);
    if (n % 4096 == 0) duties();
  }
}

void Run::start_readers(const std::function<void(Reader&)>& work) {
  readers_busy_.store(readers_.size(), std::memory_order_release);
  for (std::size_t i = 0; i < readers_.size(); ++i) {
    Reader* r = readers_[i].get();
    r->thread = std::thread([this, r, i, work] {
      pthread_setname_np(pthread_self(), ("dnsvigil-w" + std::to_string(i)).c_str());
      try {
        work(*r);
      } catch (...) {
        r->error = std::current_exception();
        stop_.store(true, std::memory_order_relaxed);
      }
      // Read all (or stopped): the others no longer wait for this worker's seconds.
      shared_.leave(i);
      readers_busy_.fetch_sub(1, std::memory_order_acq_rel);
    });
  }
}

void Run::replay(const std::vector<std::string>& files, const std::string& filter) {
  start_readers([files, filter](Reader& r) { r.read(files, filter); });
}

void Run::start_live(std::vector<std::vector<std::unique_ptr<capture::Source>>> per_worker) {
  for (std::size_t i = 0; i < readers_.size() && i < per_worker.size(); ++i) readers_[i]->live = std::move(per_worker[i]);
  start_readers([](Reader& r) { r.read_live(); });
}

std::vector<Run::RingStats> Run::ring_stats() const {
  std::vector<RingStats> out;
  for (std::size_t i = 0; i < readers_.size(); ++i) {
    const Reader& r = *readers_[i];
    std::lock_guard lock(r.stats_mu);
    for (std::size_t k = 0; k < r.stats.size() && k < r.live.size(); ++k) out.push_back({r.live[k]->name(), i, r.stats[k]});
  }
  return out;
}

void Run::end_reading() {
  for (auto& r : readers_)
    if (r->thread.joinable()) r->thread.join();
  for (auto& r : readers_)
    if (r->error) std::rethrow_exception(r->error);
}

void Run::finish() {
  if (finished_) return;
  for (auto& r : readers_)
    if (r->thread.joinable()) r->thread.join();
  finished_ = true;
  if (defrag_) defrag_->expire_all();
  stop_workers();
  // Shards finish in turn on this thread (their engines' last sync merges what is shared): they
  // no longer wait for each other's ticks.
  shared_.end_barrier();
  for (auto& s : shards_) s->finish();
  if (threaded())
    for (std::size_t i = 0; i < shards_.size(); ++i)
      spdlog::debug("worker {}: {} DNS messages", i, shards_[i]->pipeline().counters().get(sensor::Counter::dns_messages));
  // ClickHouse may be slow or down: its alerts and events get outputs.clickhouse.shutdown_timeout,
  // alerts first.
  const int ch_ms = static_cast<int>(settings_.outputs.clickhouse.shutdown_timeout / 1'000'000);
  for (auto& o : fanout_.outputs) o->close(is_clickhouse(*o) ? ch_ms : 5000);
  if (clickhouse_) clickhouse_->close(ch_ms);
}

void Run::reload(const config::Settings& s, std::vector<std::string>& notes) {
  if (s.capture.snaplen != settings_.capture.snaplen || s.capture.buffer_size != settings_.capture.buffer_size ||
      s.capture.filter != settings_.capture.filter || s.capture.interfaces != settings_.capture.interfaces)
    notes.emplace_back("capture settings change on restart only");
  if (s.pipeline.dns_ports != settings_.pipeline.dns_ports || s.workers != settings_.workers)
    notes.emplace_back("capture.dns_ports and workers change on restart only");
  if (settings_.outputs.report.path.empty() && !s.outputs.report.path.empty()) {
    notes.emplace_back("outputs.report.path: the report's traffic figures are collected from a restart on");
    fanout_.keep_alerts(s.outputs.report.max_alerts);
  }
  if (threaded()) {
    // Workers own their engines: rebuilding under them would race. Rules reload on restart.
    notes.emplace_back("with several workers, rules and outputs change on restart only; output files were reopened");
    reopen();
    return;
  }
  auto& shard = *shards_[0];
  // The old rules end their suppression periods into the old outputs, then both are replaced.
  // The ClickHouse alert output stays (outputs.clickhouse changes on restart only, like the
  // event sink), so that alerts waiting for ClickHouse are not lost to a reload.
  shard.finish_engine();
  std::vector<std::unique_ptr<output::QueuedOutput>> kept;
  for (auto& o : fanout_.outputs) {
    if (is_clickhouse(*o)) {
      kept.push_back(std::move(o));
    } else {
      o->close(2000);
    }
  }
  config::Settings next = s;
  next.outputs.clickhouse = settings_.outputs.clickhouse;
  next.outputs.clickhouse.enabled = false;  // the kept output
  fanout_.outputs = queued(open_outputs(next, obs_), s);
  for (auto& o : kept) fanout_.outputs.push_back(std::move(o));
  const auto sink = [](const config::ClickHouseSettings& c) {
    return std::tie(c.enabled, c.url, c.database, c.events_table, c.alerts_table, c.user, c.password, c.ca_file,
                    c.observer_name, c.batch_rows, c.flush_interval, c.max_buffer_bytes, c.timeout, c.shutdown_timeout);
  };
  if (sink(s.outputs.clickhouse) != sink(settings_.outputs.clickhouse))
    notes.emplace_back("outputs.clickhouse changes on restart only");
  shard.rebuild_engine(s, fanout_);
  if (s.outputs.events_json != settings_.outputs.events_json) notes.emplace_back("outputs.events_json changes on restart only");
  if (dump_) dump_->reopen();
  const auto keep_pipeline = settings_.pipeline;
  const auto keep_workers = settings_.workers;
  const auto keep_clickhouse = settings_.outputs.clickhouse;
  settings_ = s;
  settings_.pipeline = keep_pipeline;
  settings_.workers = keep_workers;
  settings_.outputs.clickhouse = keep_clickhouse;
}

void Run::reopen() {
  if (dump_) dump_->reopen();
  for (auto& o : fanout_.outputs) o->reopen();
}

sensor::Counters Run::counters() const {
  sensor::Counters c = dispatch_counters_;
  for (const auto& s : shards_) c.merge(threaded() ? s->counters_snapshot() : s->pipeline().counters());
  return c;
}

namespace {
// The sum of an engine counter over every shard; workers' engines as of their last tick.
template <class Shards>
std::uint64_t engines_sum(const Shards& shards, bool threaded, std::uint64_t Shard::EngineCounts::*field) {
  std::uint64_t n = 0;
  for (const auto& s : shards) n += (threaded ? s->engine_counts_snapshot() : s->engine_counts()).*field;
  return n;
}
}  // namespace

std::uint64_t Run::suppressed() const { return engines_sum(shards_, threaded(), &Shard::EngineCounts::suppressed); }
std::uint64_t Run::folded() const { return engines_sum(shards_, threaded(), &Shard::EngineCounts::folded); }
std::uint64_t Run::role_explained() const {
  return engines_sum(shards_, threaded(), &Shard::EngineCounts::role_explained);
}

Learned Learned::of(const detect::Engine& e, std::size_t max_clients) {
  Learned l;
  const auto& p = e.policy();
  l.resolvers_configured = p.resolvers_configured();
  l.roles = p.learned_roles();
  l.clients = p.learned_clients(max_clients);
  l.internal_resolvers = p.learned_resolvers();
  l.resolvers = p.defacto_resolvers();
  return l;
}

void Learned::add(const Learned& o, std::size_t max_clients) {
  resolvers_configured = resolvers_configured || o.resolvers_configured;
  roles.mail_servers += o.roles.mail_servers;
  roles.monitoring += o.roles.monitoring;
  roles.container_nodes += o.roles.container_nodes;
  clients.insert(clients.end(), o.clients.begin(), o.clients.end());
  std::sort(clients.begin(), clients.end());
  if (clients.size() > max_clients) clients.resize(max_clients);
  internal_resolvers = std::max(internal_resolvers, o.internal_resolvers);
  // With several workers every one holds the merged list; the first is enough.
  if (resolvers.empty()) resolvers = o.resolvers;
}

Learned Run::learned(std::size_t max_clients) const {
  Learned l;
  for (const auto& s : shards_)
    if (const detect::Engine* e = s->engine()) l.add(Learned::of(*e, max_clients), max_clients);
  return l;
}

std::uint64_t Run::output_dropped() const {
  std::uint64_t n = 0;
  for (const auto& o : fanout_.outputs)
    n += o->stats().dropped_full.load() + o->stats().dropped_rate.load() + o->stats().dropped_shutdown.load();
  return n;
}

Run::ReportParts Run::report_parts(unsigned timeout_ms) {
  std::vector<Shard::View> views;
  if (finished_ || (workers_.empty() && !reading())) {
    for (const auto& s : shards_) views.push_back(s->view());
  } else {
    // Workers own their shards: each takes its own view when the request reaches it (through
    // its ring, or a reader between two batches).
    const std::uint64_t gen = ++view_requests_;
    for (std::size_t i = 0; i < workers_.size(); ++i) push(i, kReport, static_cast<sensor::Timestamp>(gen), {}, {}, 0);
    view_request_.store(gen, std::memory_order_release);
    wake_workers();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (const auto& s : shards_)
      while (s->view_generation() < gen && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (const auto& s : shards_) views.push_back(s->view_snapshot());
  }
  ReportParts r;
  std::shared_ptr<output::Traffic> merged;
  for (const auto& v : views) {
    if (v.traffic) {
      if (!merged) {
        merged = std::make_shared<output::Traffic>(*v.traffic);
      } else {
        merged->merge(*v.traffic);
      }
    }
    r.learned.add(v.learned, kReportLearnedClients);
    r.suppressed += v.suppressed;
    r.folded += v.folded;
    r.role_explained += v.role_explained;
  }
  r.traffic = std::move(merged);
  return r;
}

std::size_t Run::rules() const noexcept {
  return shards_[0]->engine() != nullptr ? shards_[0]->engine()->rule_count() : 0;
}

std::string Run::metrics(const std::vector<std::pair<std::string, capture::CaptureStats>>& capture,
                         const dnstap::Listener* dnstap) const {
  using output::PromText;
  PromText p;
  const sensor::Counters c = counters();
  for (std::size_t i = 0; i < sensor::kCounterCount; ++i) {
    const auto k = static_cast<sensor::Counter>(i);
    const std::string name = "dnsvigil_" + std::string(sensor::counter_id(k)) + "_total";
    p.family(name, "counter", std::string(sensor::counter_help(k)));
    p.sample(name, "", c.values[i]);
  }
  p.family("dnsvigil_dns_parse_errors_by_reason_total", "counter", "DNS messages dropped by a fatal parse error, by reason");
  for (std::size_t i = 1; i < c.parse_errors.size(); ++i)
    p.sample("dnsvigil_dns_parse_errors_by_reason_total",
             "reason=\"" + std::string(dnsparse::error_id(static_cast<dnsparse::Error>(i))) + "\"", c.parse_errors[i]);
  p.family("dnsvigil_dns_anomalies_total", "counter", "DNS messages with a recoverable oddity, by anomaly id");
  for (std::size_t i = 0; i < c.anomalies.size(); ++i)
    p.sample("dnsvigil_dns_anomalies_total",
             "id=\"" + std::string(dnsparse::anomaly_id(static_cast<dnsparse::Anomaly>(i))) + "\"", c.anomalies[i]);
  p.family("dnsvigil_capture_received_total", "counter", "Packets the kernel filter accepted (pcap_stats)");
  for (const auto& [iface, s] : capture)
    p.sample("dnsvigil_capture_received_total", "interface=\"" + PromText::escape(iface) + "\"", s.received);
  p.family("dnsvigil_capture_dropped_total", "counter", "Packets dropped before dnsvigil saw them (pcap_stats)");
  for (const auto& [iface, s] : capture) {
    p.sample("dnsvigil_capture_dropped_total", "interface=\"" + PromText::escape(iface) + "\",by=\"kernel\"", s.dropped);
    p.sample("dnsvigil_capture_dropped_total", "interface=\"" + PromText::escape(iface) + "\",by=\"interface\"",
             s.if_dropped);
  }
  if (const auto rings = ring_stats(); !rings.empty()) {
    // Kernel fan-out: each worker's ring, so that an overloaded worker shows.
    p.family("dnsvigil_capture_ring_received_total", "counter", "Packets each worker's ring received (kernel fan-out)");
    for (const auto& r : rings)
      p.sample("dnsvigil_capture_ring_received_total",
               "interface=\"" + PromText::escape(r.interface) + "\",worker=\"" + std::to_string(r.worker) + "\"",
               r.stats.received);
    p.family("dnsvigil_capture_ring_dropped_total", "counter", "Packets the kernel dropped because a worker's ring was full");
    for (const auto& r : rings)
      p.sample("dnsvigil_capture_ring_dropped_total",
               "interface=\"" + PromText::escape(r.interface) + "\",worker=\"" + std::to_string(r.worker) + "\"",
               r.stats.dropped);
  }
  if (dnstap != nullptr) {
    // The listener's own figures; what became of the frames is in the dnstap_* counters above.
    const auto& st = dnstap->stats();
    p.family("dnsvigil_dnstap_connections_total", "counter", "Connections from DNS servers to the dnstap sockets");
    p.sample("dnsvigil_dnstap_connections_total", "", st.connections.load());
    p.family("dnsvigil_dnstap_received_total", "counter", "dnstap data frames received from DNS servers");
    p.sample("dnsvigil_dnstap_received_total", "", st.frames.load());
    p.family("dnsvigil_dnstap_queue_dropped_total", "counter",
             "dnstap frames dropped because the queue was full (the server is never slowed down)");
    p.sample("dnsvigil_dnstap_queue_dropped_total", "", st.dropped.load());
    p.family("dnsvigil_dnstap_stream_errors_total", "counter", "dnstap connections that ended with a Frame Streams error");
    p.sample("dnsvigil_dnstap_stream_errors_total", "", st.errors.load());
  }
  p.family("dnsvigil_workers", "gauge", "Worker threads (packets sharded by client address)");
  p.sample("dnsvigil_workers", "", std::uint64_t{shards_.size()});
  if (threaded()) {
    // How evenly clients spread over the workers.
    p.family("dnsvigil_worker_dns_messages_total", "counter", "DNS messages handled per worker");
    for (std::size_t i = 0; i < shards_.size(); ++i)
      p.sample("dnsvigil_worker_dns_messages_total", "worker=\"" + std::to_string(i) + "\"",
               shards_[i]->counters_snapshot().get(sensor::Counter::dns_messages));
  } else {
    // Table sizes are read directly only when the capture thread owns the single shard.
    const auto& pl = shards_[0]->pipeline();
    p.family("dnsvigil_table_entries", "gauge", "Entries in the packet path's bounded tables");
    p.sample("dnsvigil_table_entries", "table=\"tcp_flows\"", std::uint64_t{pl.tcp_flows()});
    p.sample("dnsvigil_table_entries", "table=\"ip_fragments\"", std::uint64_t{pl.fragments_pending()});
    p.sample("dnsvigil_table_entries", "table=\"transactions\"", std::uint64_t{pl.transactions_pending()});
    if (const auto* engine = shards_[0]->engine()) {
      const auto stats = engine->stats();
      const auto rule = [](const detect::DetectorStats& s) { return "rule=\"" + std::string(s.rule) + "\""; };
      p.family("dnsvigil_detector_state_entries", "gauge", "Keyed state entries per rule");
      for (const auto& s : stats) p.sample("dnsvigil_detector_state_entries", rule(s), std::uint64_t{s.keys});
      p.family("dnsvigil_detector_state_capacity", "gauge", "Keyed state capacity per rule");
      for (const auto& s : stats) p.sample("dnsvigil_detector_state_capacity", rule(s), std::uint64_t{s.capacity});
      p.family("dnsvigil_detector_evictions_total", "counter", "Keyed state entries evicted because a table was full");
      for (const auto& s : stats) p.sample("dnsvigil_detector_evictions_total", rule(s), s.evictions);
      p.family("dnsvigil_detector_sketches", "gauge", "HyperLogLog sketches in use per rule");
      for (const auto& s : stats) p.sample("dnsvigil_detector_sketches", rule(s), std::uint64_t{s.sketches});
      p.family("dnsvigil_detector_sketch_exhausted_total", "counter",
               "Times a rule's sketch pool was full (counts saturate)");
      for (const auto& s : stats) p.sample("dnsvigil_detector_sketch_exhausted_total", rule(s), s.sketch_exhausted);
      p.family("dnsvigil_detector_triggers_total", "counter", "Times a rule's conditions were met, before suppression");
      for (const auto& s : stats) p.sample("dnsvigil_detector_triggers_total", rule(s), s.triggers);
      p.family("dnsvigil_resolvers_learned", "gauge", "Internal servers learned as resolvers (when none are configured)");
      p.sample("dnsvigil_resolvers_learned", "", std::uint64_t{engine->policy().learned_resolvers()});
      p.family("dnsvigil_resolver_clients", "gauge",
               "Internal clients using each de-facto resolver (learned when network.resolvers is empty)");
      for (const auto& [server, n] : engine->policy().defacto_resolvers())
        p.sample("dnsvigil_resolver_clients", "server=\"" + server.text() + "\"", static_cast<std::uint64_t>(n + 0.5));
      const auto roles = engine->policy().learned_roles();
      p.family("dnsvigil_roles_learned", "gauge", "Clients holding a role learned from their traffic");
      p.sample("dnsvigil_roles_learned", "role=\"mail_server\"", std::uint64_t{roles.mail_servers});
      p.sample("dnsvigil_roles_learned", "role=\"monitoring\"", std::uint64_t{roles.monitoring});
      p.sample("dnsvigil_roles_learned", "role=\"container_node\"", std::uint64_t{roles.container_nodes});
    }
  }
  if (const auto& intel = settings_.detectors.intel.lists) {
    p.family("dnsvigil_intel_entries", "gauge", "Entries loaded per threat-intel list file (intel.*_files)");
    for (const auto& l : intel->lists())
      p.sample("dnsvigil_intel_entries",
               "list=\"" + PromText::escape(l.path) + "\",kind=\"" + (l.domains ? "domain" : "ip") + "\"",
               std::uint64_t{l.entries});
  }
  p.family("dnsvigil_alerts_suppressed_total", "counter", "Alerts folded into a later summary");
  p.sample("dnsvigil_alerts_suppressed_total", "", suppressed());
  p.family("dnsvigil_alerts_related_total", "counter",
           "Alerts attached to another rule's alert about the same activity (one activity, one alert)");
  p.sample("dnsvigil_alerts_related_total", "", folded());
  p.family("dnsvigil_alerts_role_explained_total", "counter",
           "Held alerts dropped because their client turned out to hold a role that explains them (a mail server's "
           "sender-policy sweep)");
  p.sample("dnsvigil_alerts_role_explained_total", "", role_explained());
  p.family("dnsvigil_alerts_total", "counter", "Alerts emitted, per rule (summaries included)");
  for (const auto& [rule, n] : fanout_.per_rule()) p.sample("dnsvigil_alerts_total", "rule=\"" + std::string(rule) + "\"", n);
  const auto out = [](const output::QueuedOutput& o) { return "output=\"" + PromText::escape(std::string(o.name())) + "\""; };
  p.family("dnsvigil_output_queue_depth", "gauge", "Alerts waiting in an output's queue");
  for (const auto& o : fanout_.outputs) p.sample("dnsvigil_output_queue_depth", out(*o), o->stats().depth.load());
  p.family("dnsvigil_output_delivered_total", "counter", "Alerts delivered per output");
  for (const auto& o : fanout_.outputs) p.sample("dnsvigil_output_delivered_total", out(*o), o->stats().delivered.load());
  p.family("dnsvigil_output_dropped_total", "counter", "Alerts an output dropped, by reason");
  for (const auto& o : fanout_.outputs) {
    p.sample("dnsvigil_output_dropped_total", out(*o) + ",reason=\"queue_full\"", o->stats().dropped_full.load());
    p.sample("dnsvigil_output_dropped_total", out(*o) + ",reason=\"rate_limit\"", o->stats().dropped_rate.load());
    p.sample("dnsvigil_output_dropped_total", out(*o) + ",reason=\"shutdown\"", o->stats().dropped_shutdown.load());
  }
  p.family("dnsvigil_output_failures_total", "counter", "Failed delivery attempts (retried with backoff)");
  for (const auto& o : fanout_.outputs) p.sample("dnsvigil_output_failures_total", out(*o), o->stats().failures.load());
  if (clickhouse_) {
    // The event half of the ClickHouse sink; its alerts are the output="clickhouse:..." above.
    const auto& st = clickhouse_->stats();
    struct Row {
      const char* name;
      const char* type;
      const char* help;  // nullptr: another sample of the family above
      const char* labels;
      std::uint64_t value;
    };
    const Row rows[] = {
        {"rows_offered_total", "counter", "DNS events handed to the ClickHouse sink (inserted + dropped + buffered)", "",
         clickhouse_->offered()},
        {"rows_inserted_total", "counter", "DNS events ClickHouse acknowledged", "", st.inserted.load()},
        {"rows_dropped_total", "counter", "DNS events the ClickHouse sink dropped, by reason", "reason=\"buffer_full\"",
         st.dropped_full.load()},
        {"rows_dropped_total", "counter", nullptr, "reason=\"shutdown\"", st.dropped_shutdown.load()},
        {"inserts_total", "counter", "INSERTs of DNS events ClickHouse acknowledged", "", st.batches.load()},
        {"insert_bytes_total", "counter", "Octets of acknowledged INSERTs of DNS events", "", st.bytes.load()},
        {"insert_failures_total", "counter", "Failed INSERTs of DNS events (each batch is kept and retried with backoff)",
         "", st.failures.load()},
        {"buffer_rows", "gauge", "DNS events waiting for ClickHouse or in flight", "", st.buffered_rows.load()},
        {"buffer_bytes", "gauge", "Octets of encoded events held (up to max_buffer_bytes)", "", st.buffered_bytes.load()},
    };
    for (const Row& r : rows) {
      const std::string name = std::string("dnsvigil_clickhouse_") + r.name;
      if (r.help != nullptr) p.family(name, r.type, r.help);
      p.sample(name, r.labels, r.value);
    }
  }
  return p.text();
}

std::string Run::stats_line(double seconds) const {
  const sensor::Counters c = counters();
  const auto get = [&](sensor::Counter k) { return std::to_string(c.get(k)); };
  std::uint64_t alerts = 0;
  for (const auto& [rule, n] : fanout_.per_rule()) alerts += n;
  std::uint64_t dropped = 0;
  for (const auto& o : fanout_.outputs) dropped += o->stats().dropped_full.load() + o->stats().dropped_rate.load();
  char pps[32];
  std::snprintf(pps, sizeof pps, "%.0f", seconds > 0 ? static_cast<double>(c.get(sensor::Counter::packets)) / seconds : 0.0);
  return "packets=" + get(sensor::Counter::packets) + " pps=" + pps + " dns=" + get(sensor::Counter::dns_messages) +
         " parse_errors=" + get(sensor::Counter::dns_parse_errors) + " alerts=" + std::to_string(alerts) +
         " output_drops=" + std::to_string(dropped);
}

}  // namespace dnsvigil::app
