// Matching responses to queries (5-tuple, id, question) on packet time.
#pragma once

#include <cstdint>
#include <memory>

#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/counters.hpp"
#include "dnsvigil/sensor/event.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::sensor {

/// Limits of the transaction table (config keys `transactions.*`).
struct TransactionLimits {
  std::size_t max_pending = 131072;           ///< queries remembered at once
  Timestamp timeout = 5 * kNanosPerSecond;    ///< no response by then: unanswered
};

/// Longest query name kept for reporting an unanswered query.
inline constexpr std::size_t kMaxStoredName = 95;

/// Remembers queries until their response or the timeout. A response matches when client,
/// server, ports, transport and id agree and its question has the same name (case-insensitive),
/// type and class. Zone transfers (AXFR/IXFR) may be answered by many messages: every one of
/// them matches. A second response to an answered query is flagged `duplicate` (the race an
/// off-path spoofer needs).
class TransactionTable {
 public:
  struct Match {
    bool matched = false;
    bool duplicate = false;
    Timestamp query_ts = 0;
  };

  TransactionTable(const TransactionLimits& limits, Counters& counters);
  ~TransactionTable();

  /// Records a query event.
  void on_query(const DnsEvent& q) noexcept;
  /// Looks up the query a response answers.
  [[nodiscard]] Match on_response(const DnsEvent& r) noexcept;
  /// Gives up queries older than `now - timeout`, reporting unanswered ones to `sink`.
  void expire(Timestamp now, EventSink& sink) noexcept;
  /// Gives up every pending query (end of input).
  void flush(Timestamp now, EventSink& sink) noexcept;
  [[nodiscard]] std::size_t pending() const noexcept;

 private:
  struct Key {
    IpAddr client, server;
    std::uint16_t client_port, server_port, id;
    std::uint8_t transport, pad;
  };
  struct Pending {
    Timestamp query_ts;
    std::uint64_t question_hash;
    std::uint16_t qtype, qclass;
    bool answered, transfer;
    std::uint8_t name_len;
    char name[kMaxStoredName];
  };
  using Table = LruTable<Key, Pending>;
  void report(const Table::Entry& e, Timestamp now, EventSink& sink) noexcept;

  TransactionLimits limits_;
  Counters& c_;
  std::unique_ptr<Table> table_;
};

}  // namespace dnsvigil::sensor
