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
    : limits_(limits),
      c_(counters),
      table_(std::make_unique<Table>(limits.max_pending)),
      answered_(std::make_unique<AnsweredTable>(limits.max_pending)) {}

TransactionTable::~TransactionTable() = default;

std::size_t TransactionTable::pending() const noexcept { return table_->size(); }

std::size_t TransactionTable::answered() const noexcept { return answered_->size(); }

void TransactionTable::on_query(const DnsEvent& q) noexcept {
  if (!q.msg->has_question()) return;
  Key k{};
  k.client = q.src;
  k.server = q.dst;
  k.client_port = q.sport;
  k.server_port = q.dport;
  k.id = q.msg->header().id;
  k.transport = static_cast<std::uint8_t>(q.transport);
  if (answered_->find(k) != nullptr) return;  // a retransmission of a query already answered
  // Only unanswered queries are pending: every eviction loses one before it could be reported.
  auto [e, inserted] = table_->emplace(k, q.ts, [&](Table::Entry&) { c_.add(Counter::tx_evicted); });
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
  // Continuation messages of a zone transfer may carry no question (RFC 5936 §2.2).
  const auto question_ok = [&](std::uint64_t hash, bool transfer) {
    return r.msg->has_question() ? question_hash(r) == hash : transfer;
  };
  if (Table::Entry* e = table_->find(k); e != nullptr) {
    const Pending& p = e->value;
    if (!question_ok(p.question_hash, p.transfer)) {
      c_.add(Counter::tx_unsolicited);
      return {};
    }
    c_.add(Counter::tx_matched);
    const Match m{true, false, p.transfer, p.query_ts};
    const Answered a{p.query_ts, p.question_hash, p.transfer, {}};
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
  if (a->value.transfer) answered_->use(a, r.ts);
  return {true, !a->value.transfer, a->value.transfer, a->value.query_ts};
}

void TransactionTable::report(const Table::Entry& e, Timestamp now, EventSink& sink) noexcept {
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
  answered_->expire(now - limits_.timeout, [](AnsweredTable::Entry&) {});
}

void TransactionTable::flush(Timestamp now, EventSink& sink) noexcept {
  table_->drain([&](Table::Entry& e) { report(e, now, sink); });
  answered_->drain([](AnsweredTable::Entry&) {});
}

}  // namespace dnsvigil::sensor
