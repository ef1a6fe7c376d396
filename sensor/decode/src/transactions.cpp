#include "dnsvigil/sensor/transactions.hpp"

#include <algorithm>
#include <cstring>

#include <xxhash.h>

#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::sensor {

namespace {
std::uint64_t question_hash(const DnsEvent& ev) noexcept {
  const std::uint64_t h = ev.qname->hash();
  const std::uint32_t tc = std::uint32_t{ev.msg->question().type} << 16 | ev.msg->question().klass;
  return XXH3_64bits_withSeed(&tc, sizeof tc, h);
}
}  // namespace

TransactionTable::TransactionTable(const TransactionLimits& limits, Counters& counters)
    : limits_(limits), c_(counters), table_(std::make_unique<Table>(limits.max_pending)) {}

TransactionTable::~TransactionTable() = default;

std::size_t TransactionTable::pending() const noexcept { return table_->size(); }

void TransactionTable::on_query(const DnsEvent& q) noexcept {
  if (!q.msg->has_question()) return;
  Key k{};
  k.client = q.src;
  k.server = q.dst;
  k.client_port = q.sport;
  k.server_port = q.dport;
  k.id = q.msg->header().id;
  k.transport = static_cast<std::uint8_t>(q.transport);
  auto [e, inserted] = table_->emplace(k, q.ts, [&](Table::Entry& victim) {
    if (!victim.value.answered) c_.add(Counter::tx_evicted);
  });
  if (!inserted) return;  // a retransmitted query keeps the first one's time
  Pending& p = e->value;
  p.query_ts = q.ts;
  p.question_hash = question_hash(q);
  p.qtype = q.msg->question().type;
  p.qclass = q.msg->question().klass;
  p.transfer = p.qtype == dnsparse::rrtype::AXFR || p.qtype == dnsparse::rrtype::IXFR;
  const std::string_view name = q.qname->lower();
  p.name_len = static_cast<std::uint8_t>(std::min(name.size(), kMaxStoredName));
  std::memcpy(p.name, name.data(), p.name_len);
  // Kept in LRU order by query time: on_response does not touch entries.
  if (name.size() > kMaxStoredName) p.name_len = static_cast<std::uint8_t>(kMaxStoredName + 1);
}

TransactionTable::Match TransactionTable::on_response(const DnsEvent& r) noexcept {
  Key k{};
  k.client = r.dst;
  k.server = r.src;
  k.client_port = r.dport;
  k.server_port = r.sport;
  k.id = r.msg->header().id;
  k.transport = static_cast<std::uint8_t>(r.transport);
  Table::Entry* e = table_->find(k);
  // Continuation messages of a zone transfer may carry no question (RFC 5936 §2.2).
  const bool question_ok =
      e != nullptr && (r.msg->has_question() ? question_hash(r) == e->value.question_hash : e->value.transfer);
  if (!question_ok) {
    c_.add(Counter::tx_unsolicited);
    return {};
  }
  Pending& p = e->value;
  Match m{true, p.answered && !p.transfer, p.query_ts};
  if (!p.answered) c_.add(Counter::tx_matched);
  p.answered = true;
  return m;
}

void TransactionTable::report(const Table::Entry& e, Timestamp now, EventSink& sink) noexcept {
  if (e.value.answered) return;
  c_.add(Counter::tx_unanswered);
  UnansweredQuery q;
  q.query_ts = e.value.query_ts;
  q.expired_ts = now;
  q.client = e.key.client;
  q.server = e.key.server;
  q.client_port = e.key.client_port;
  q.server_port = e.key.server_port;
  q.transport = static_cast<Transport>(e.key.transport);
  q.id = e.key.id;
  q.qtype = e.value.qtype;
  q.qclass = e.value.qclass;
  q.name_cut = e.value.name_len > kMaxStoredName;
  q.name = std::string_view(e.value.name, q.name_cut ? kMaxStoredName : e.value.name_len);
  sink.on_unanswered(q);
}

void TransactionTable::expire(Timestamp now, EventSink& sink) noexcept {
  table_->expire(now - limits_.timeout, [&](Table::Entry& e) { report(e, now, sink); });
}

void TransactionTable::flush(Timestamp now, EventSink& sink) noexcept {
  table_->drain([&](Table::Entry& e) { report(e, now, sink); });
}

}  // namespace dnsvigil::sensor
