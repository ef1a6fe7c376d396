#include "dnsvigil/sensor/transactions.hpp"

#include <algorithm>
#include <cstring>

#include <xxhash.h>

#include "dnsvigil/dnsparse/name.hpp"
#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::sensor {

namespace {
std::uint64_t question_hash(const DnsEvent& ev) noexcept {
  const std::uint64_t h = ev.qname->hash();
  const std::uint32_t tc = std::uint32_t{ev.msg->question().type} << 16 | ev.msg->question().klass;
  return XXH3_64bits_withSeed(&tc, sizeof tc, h);
}

// Hash of a response's answer records that ignores their order (servers rotate RRsets) and
// TTLs (caches count them down), and reads names in RDATA decoded and in lower case (two
// copies compress them differently). The response code is part of it.
std::uint32_t answer_hash(const dnsparse::Message& m) noexcept {
  namespace rr = dnsparse::rrtype;
  const dnsparse::Bytes wire = m.wire();
  std::uint64_t sum = m.rcode();
  for (const dnsparse::RecordView& r : m.records(dnsparse::Section::answer)) {
    // Octets of fixed fields before a name at the end of the RDATA, or none.
    std::size_t before_name = SIZE_MAX;
    if (r.type == rr::NS || r.type == rr::CNAME || r.type == rr::PTR || r.type == rr::DNAME) before_name = 0;
    if (r.type == rr::MX) before_name = 2;
    if (r.type == rr::SRV) before_name = 6;
    const std::uint32_t tc = std::uint32_t{r.type} << 16 | r.klass;
    std::uint64_t h = XXH3_64bits_withSeed(&tc, sizeof tc, 0x5eed);
    bool named = false;
    if (before_name < r.rdlength) {
      dnsparse::WireName name;
      if (dnsparse::decode_name(wire, r.rdata + before_name, name, true).error == dnsparse::Error::ok) {
        h = XXH3_64bits_withSeed(wire.data() + r.rdata, before_name, h);
        h = XXH3_64bits_withSeed(name.data.data(), name.size, h);
        named = true;
      }
    }
    if (!named) h = XXH3_64bits_withSeed(wire.data() + r.rdata, r.rdlength, h);
    sum += h;
  }
  return static_cast<std::uint32_t>(sum ^ (sum >> 32));
}
}  // namespace

TransactionTable::TransactionTable(const TransactionLimits& limits, Counters& counters)
    : limits_(limits),
      c_(counters),
      table_(std::make_unique<Table>(limits.max_pending)),
      answered_(std::make_unique<AnsweredTable>(limits.max_pending)) {}

TransactionTable::~TransactionTable() = default;

std::size_t TransactionTable::pending() const noexcept { return table_->size(); }

std::size_t TransactionTable::answered() const noexcept { return answered_->size(); }

void TransactionTable::prefetch(const Packet& pkt, std::uint16_t id, bool response, Transport transport,
                                bool slots) const noexcept {
  const Key k = response ? key_of(pkt.dst, pkt.src, pkt.dport, pkt.sport, id, transport)
                         : key_of(pkt.src, pkt.dst, pkt.sport, pkt.dport, id, transport);
  table_->prefetch(pending_of(k), slots);
  if (!response) answered_->prefetch(k, slots);
}

void TransactionTable::on_query(const DnsEvent& q) noexcept {
  if (!q.msg->has_question()) return;
  const Key k = key_of(q.src, q.dst, q.sport, q.dport, q.msg->header().id, q.transport);
  if (AnsweredTable::Entry* a = answered_->find(k); a != nullptr) {  // a retransmission of an answered query
    a->value.resent = true;
    return;
  }
  // Only unanswered queries are pending: every eviction loses one before it could be reported.
  auto [e, inserted] = table_->emplace(pending_of(k), q.ts, [&](Table::Entry&) { c_.add(Counter::tx_evicted); });
  Pending& p = e->value;
  if (!inserted) {  // a retransmitted query keeps the first one's time
    p.resent = true;
    if (!(p.server == q.dst)) p.multi_server = true;
    return;
  }
  p.query_ts = q.ts;
  p.question_hash = question_hash(q);
  p.server = q.dst;
  p.qtype = q.msg->question().type;
  p.qclass = q.msg->question().klass;
  p.transfer = p.qtype == dnsparse::rrtype::AXFR || p.qtype == dnsparse::rrtype::IXFR;
  p.resent = p.multi_server = false;
  p.input = q.input;
  const std::string_view name = q.qname->lower();
  p.name_len = static_cast<std::uint8_t>(std::min(name.size(), kMaxStoredName));
  std::memcpy(p.name, name.data(), p.name_len);
  // Kept in LRU order by query time: on_response does not touch entries.
  if (name.size() > kMaxStoredName) p.name_len = static_cast<std::uint8_t>(kMaxStoredName + 1);
}

TransactionTable::Match TransactionTable::on_response(const DnsEvent& r) noexcept {
  const Key k = key_of(r.dst, r.src, r.dport, r.sport, r.msg->header().id, r.transport);
  // Continuation messages of a zone transfer may carry no question (RFC 5936 §2.2).
  const auto question_ok = [&](std::uint64_t hash, bool transfer) {
    return r.msg->has_question() ? question_hash(r) == hash : transfer;
  };
  const PendingKey pk = pending_of(k);
  if (Table::Entry* e = table_->find(pk); e != nullptr && question_ok(e->value.question_hash, e->value.transfer)) {
    const Pending& p = e->value;
    if (!(p.server == r.src) && !p.multi_server) {
      c_.add(Counter::tx_wrong_server);
      Match m;
      m.wrong_server = true;
      m.query_ts = p.query_ts;
      m.queried_server = p.server;
      return m;
    }
    c_.add(Counter::tx_matched);
    Match m;
    m.matched = true;
    m.transfer = p.transfer;
    m.query_ts = p.query_ts;
    const Answered a{p.query_ts, p.question_hash, p.transfer ? 0 : answer_hash(*r.msg), p.transfer, p.resent,
                     r.capture_truncated, {}};
    table_->erase(e);
    // Evicting the oldest answered entry only loses duplicate detection for it.
    answered_->emplace(k, r.ts, [](AnsweredTable::Entry&) {}).first->value = a;
    return m;
  }
  AnsweredTable::Entry* a = answered_->find(k);
  if (a == nullptr || !question_ok(a->value.question_hash, a->value.transfer)) {
    c_.add(Counter::tx_unsolicited);
    return {};
  }
  // A transfer stays for `timeout` after its last message; other entries after their answer.
  Match m;
  m.matched = true;
  m.transfer = a->value.transfer;
  m.query_ts = a->value.query_ts;
  if (a->value.transfer) {
    answered_->use(a, r.ts);
    return m;
  }
  m.duplicate = true;
  // Answers cut by the snap length differ only by what the capture kept.
  m.conflicting = !a->value.resent && !a->value.cut && !r.capture_truncated && answer_hash(*r.msg) != a->value.answer_hash;
  return m;
}

void TransactionTable::report(const Table::Entry& e, Timestamp now, EventSink& sink) noexcept {
  c_.add(Counter::tx_unanswered);
  UnansweredQuery q;
  q.query_ts = e.value.query_ts;
  q.expired_ts = now;
  q.client = e.key.client;
  q.server = e.value.server;
  q.client_port = e.key.client_port;
  q.server_port = e.key.server_port;
  q.transport = static_cast<Transport>(e.key.transport);
  q.id = e.key.id;
  q.qtype = e.value.qtype;
  q.qclass = e.value.qclass;
  q.input = e.value.input;
  q.name_cut = e.value.name_len > kMaxStoredName;
  q.name = std::string_view(e.value.name, q.name_cut ? kMaxStoredName : e.value.name_len);
  sink.on_unanswered(q);
}

void TransactionTable::expire(Timestamp now, EventSink& sink) noexcept {
  table_->expire(now - limits_.timeout, [&](Table::Entry& e) { report(e, now, sink); });
  answered_->expire(now - limits_.timeout, [](AnsweredTable::Entry&) {});
}

void TransactionTable::flush(Timestamp now, EventSink& sink) noexcept {
  table_->drain([&](Table::Entry& e) { report(e, now, sink); });
  answered_->drain([](AnsweredTable::Entry&) {});
}

}  // namespace dnsvigil::sensor
