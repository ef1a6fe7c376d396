// Cross-worker aggregates. With -j N each worker owns the state of the clients hashed to it,
// so per-client rules need no coordination; the few aggregates over many clients are merged
// here explicitly: resolvers learned from traffic (servers answering many clients), popular
// domains (many clients), and the zone-wide NXDOMAIN view of monitored zones. Workers sync at
// most once a second of packet time; between syncs each uses the snapshot of its last sync.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dnsvigil/detect/sketch.hpp"
#include "dnsvigil/sensor/addr.hpp"
#include "dnsvigil/sensor/table.hpp"
#include "dnsvigil/sensor/time.hpp"

namespace dnsvigil::detect {

/// The servers used by at least `min_clients` clients and `share` of the clients of the most
/// used one (`used`: server and client estimate), most used first: a site's de-facto resolvers.
[[nodiscard]] std::vector<std::pair<sensor::IpAddr, double>> select_defacto(
    std::vector<std::pair<sensor::IpAddr, double>> used, std::uint64_t min_clients, double share);

class SharedView {
 public:
  // Clients of a server: exact up to 8 (learn_min_clients is 3: a 32-register sketch put 3
  // clients in 2 registers 9 % of the time), then 64 registers.
  using ClientSketch = SmallDistinct<6>;
  using DomainSketch = Hll<6>;   // clients of a domain

  struct ServerDelta {
    sensor::IpAddr server;
    ClientSketch clients;         // internal clients it answered
    ClientSketch users;           // internal clients that sent it recursive queries
    std::uint32_t iterative = 0;  // RD=0 queries to outside servers since the last sync
  };

  /// Merges the servers a worker observed and returns every server learned as a resolver
  /// (answering >= `min_clients` internal clients, or resolving iteratively), sorted.
  /// `learned` is the caller's copy from its last call (or empty): it is only replaced when the
  /// set has grown since, as the set never shrinks. `defacto` receives the servers used by at
  /// least `min_clients` internal clients and `share` of the most used server's, most used first.
  /// `seen` is the caller's version of the servers: `defacto` is recomputed when it is behind.
  void sync_servers(const std::vector<ServerDelta>& deltas, std::uint64_t min_clients,
                    std::vector<sensor::IpAddr>& learned, double share,
                    std::vector<std::pair<sensor::IpAddr, double>>& defacto, std::uint64_t& seen);

  /// Merges per-domain client sketches and returns the hashes of domains with >=
  /// `min_clients` clients, sorted; `popular` is the caller's last copy, as for sync_servers.
  void sync_domains(const std::vector<std::pair<std::uint64_t, DomainSketch>>& deltas, std::uint64_t min_clients,
                    std::vector<std::uint64_t>& popular);

  /// Merges the sketch of NXDOMAIN names a worker saw under `zone` in `period` (5-minute
  /// buckets) and returns the estimate over the last `buckets` periods of all workers.
  /// `raise` is set for one worker only (`self` identifies it): the first to see the estimate
  /// reach `threshold`, which then owns the zone's alert (its suppression folds the rest).
  double sync_zone(std::uint64_t zone, std::uint32_t period, std::size_t buckets, const Sketch& names,
                   double threshold, const void* self, bool& raise);

  /// The packet-time barrier of `workers` workers. At each packet second the dispatcher sends
  /// every worker a tick, in the same place of each worker's stream; a worker publishes what it
  /// learned and waits there until every worker has reached that second (`wait_for`), then reads
  /// the merged view: so every worker judges second S on what all workers saw before S, however
  /// fast each thread runs, as one worker would (-j N gives -j 1's alerts). Waiting only at the
  /// dispatcher's ticks cannot deadlock: each worker has every earlier tick in its queue.
  void set_workers(std::size_t workers);
  void wait_for(std::size_t worker, sensor::Timestamp second);
  /// `worker` reads no more (end of its input, or stopped): nobody waits for it again.
  void leave(std::size_t worker);
  /// No more waiting: the workers have stopped, and their engines finish one after another on
  /// one thread.
  void end_barrier();

  /// Claims the alert `key` for the calling worker: true for the first claim, and again once
  /// `period` has passed since the last successful one. Rules whose state is per worker but
  /// whose finding is not per client (answer_change) raise only what they claim.
  bool claim(std::uint64_t key, sensor::Timestamp now, sensor::Timestamp period);

 private:
  struct Server {
    ClientSketch clients;
    ClientSketch users;
    std::uint64_t iterative = 0;
    bool learned = false;
  };
  struct DomainKey {
    std::uint64_t hash;
  };
  struct Domain {  // zero-filled: no clients, not popular
    DomainSketch clients;
    bool popular;
  };
  struct Zone {
    std::map<std::uint32_t, Sketch> periods;
    const void* owner = nullptr;  // the worker that raises this zone's alerts
  };
  // Bounds: the shared maps never grow past these (new servers and claims beyond are not
  // merged; the least recently merged domain makes room for a new one).
  static constexpr std::size_t kMaxServers = 16384, kMaxDomains = 262144, kMaxClaims = 65536;
  std::mutex mu_;
  std::condition_variable tick_cv_;
  std::vector<sensor::Timestamp> reached_;  // by worker: the last packet second it reached
  bool barrier_ended_ = false;
  std::uint64_t servers_version_ = 0;       // bumped by every merge into servers_
  std::map<sensor::IpAddr, Server> servers_;
  // Every second each worker merges thousands of domains: a table whose lines are fetched ahead.
  sensor::LruTable<DomainKey, Domain> domains_{kMaxDomains};
  std::vector<sensor::IpAddr> learned_;  // sorted
  std::vector<std::uint64_t> popular_;   // sorted
  std::unordered_map<std::uint64_t, Zone> zones_;
  std::unordered_map<std::uint64_t, sensor::Timestamp> claims_;
};

}  // namespace dnsvigil::detect
