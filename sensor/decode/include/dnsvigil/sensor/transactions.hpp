// Matching responses to queries (5-tuple, id, question) on packet time.
#pragma once

#include <cstdint>
#include <memory>

#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/counters.hpp"
#include "dnsvigil/sensor/decode.hpp"
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
/// type and class. A response that agrees in everything but comes from another address than
/// the query went to is flagged `wrong_server` and leaves the query pending (the real answer
/// may still come). An answered query leaves the pending table at once (so a busy link does not
/// fill it with answered queries and evict unanswered ones before they are reported); a small
/// record of it stays in a second table for `timeout` after its last answer, so that a second
/// response is flagged `duplicate` (the race an off-path spoofer needs), a retransmitted query
/// is not taken for a new one, and every message of a zone transfer (AXFR/IXFR, answered by
/// many messages, continuations without a question) still matches, none a duplicate. The
/// answered record keeps an order-independent hash of the first answer's records, so a
/// duplicate that carries other records to a query sent only once is flagged `conflicting`.
class TransactionTable {
 public:
  struct Match {
    bool matched = false;
    bool duplicate = false;
    bool transfer = false;   ///< the query was a zone transfer (AXFR/IXFR)
    bool conflicting = false;   ///< a duplicate whose records differ from the first answer's
    bool wrong_server = false;  ///< the pending query went to `queried_server`, not the responder
    Timestamp query_ts = 0;
    IpAddr queried_server;
  };

  TransactionTable(const TransactionLimits& limits, Counters& counters);
  ~TransactionTable();

  /// Records a query event.
  void on_query(const DnsEvent& q) noexcept;
  /// Starts loading the index lines a message will need, then (`slots`, some time later) the
  /// entries they name: the work done in between overlaps the memory latency.
  void prefetch(const Packet& pkt, std::uint16_t id, bool response, Transport transport, bool slots) const noexcept;
  /// Looks up the query a response answers.
  [[nodiscard]] Match on_response(const DnsEvent& r) noexcept;
  /// Gives up queries older than `now - timeout`, reporting unanswered ones to `sink`.
  void expire(Timestamp now, EventSink& sink) noexcept;
  /// Gives up every pending query (end of input).
  void flush(Timestamp now, EventSink& sink) noexcept;
  /// Queries waiting for their first response.
  [[nodiscard]] std::size_t pending() const noexcept;
  /// Answered queries remembered for duplicates and transfer continuations.
  [[nodiscard]] std::size_t answered() const noexcept;

 private:
  // Pending queries are keyed without the server, which is kept in the value: a response from
  // another address then finds its query.
  struct PendingKey {
    IpAddr client;
    std::uint16_t client_port, server_port, id;
    std::uint8_t transport, pad;
  };
  struct Key {
    IpAddr client, server;
    std::uint16_t client_port, server_port, id;
    std::uint8_t transport, pad;
  };
  static Key key_of(const IpAddr& client, const IpAddr& server, std::uint16_t client_port, std::uint16_t server_port,
                    std::uint16_t id, Transport transport) noexcept {
    return {client, server, client_port, server_port, id, static_cast<std::uint8_t>(transport), 0};
  }
  static PendingKey pending_of(const Key& k) noexcept {
    return {k.client, k.client_port, k.server_port, k.id, k.transport, 0};
  }
  struct Pending {
    Timestamp query_ts;
    std::uint64_t question_hash;
    IpAddr server;
    std::uint16_t qtype, qclass;
    bool transfer;
    bool resent;        // retransmitted (same port and id): answers to each copy may differ
    bool multi_server;  // the same port and id went to several servers: any of them may answer
    std::uint8_t name_len;
    std::uint8_t input;  // DnsEvent::input of the query
    char name[kMaxStoredName];
  };
  struct Answered {  // 24 octets: probed for every query (retransmissions)
    Timestamp query_ts;
    std::uint64_t question_hash;
    std::uint32_t answer_hash;
    bool transfer;
    bool resent;
    bool cut;  // the first answer was cut by the snap length: its answer_hash covers part of it
    std::uint8_t pad[1];
  };
  using Table = LruTable<PendingKey, Pending>;
  using AnsweredTable = LruTable<Key, Answered>;
  void report(const Table::Entry& e, Timestamp now, EventSink& sink) noexcept;

  TransactionLimits limits_;
  Counters& c_;
  std::unique_ptr<Table> table_;
  std::unique_ptr<AnsweredTable> answered_;
};

}  // namespace dnsvigil::sensor
