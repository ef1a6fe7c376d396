// Threat-intel list lookups (detect/intel.hpp) with 100 000 domains and 100 000 prefixes: what
// intel_match costs per DNS message (one question name, two addresses), matching or not.
// docs/detectors.md (intel_match) quotes these figures.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dns_builder.hpp"
#include "dnsvigil/detect/intel.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/sensor/names.hpp"

namespace {

using namespace dnsvigil;

constexpr int kEntries = 100000;

// Deterministic pseudo-random numbers (splitmix64): the same lists every run.
std::uint64_t next(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

const detect::IntelLists& lists() {
  static const auto l = [] {
    auto out = std::make_unique<detect::IntelLists>();
    std::uint64_t seed = 7;
    std::string ips, domains;
    for (int i = 0; i < kEntries; ++i) {
      const std::uint64_t r = next(seed);
      // Half /32s, half /24s, scattered over the IPv4 space; a few IPv6 /48s.
      if (i % 10 == 0) {
        ips += "2001:db8:" + std::to_string(r % 65536) + "::/48\n";
      } else {
        ips += std::to_string(1 + r % 223) + "." + std::to_string((r >> 8) % 256) + "." + std::to_string((r >> 16) % 256) +
               (i % 2 ? ".0/24\n" : "." + std::to_string((r >> 24) % 256) + "\n");
      }
      domains += "c2-" + std::to_string(r % 100000000) + ".example" + std::to_string(i % 97) + ".net\n";
    }
    std::vector<std::string> problems;
    out->add(detect::IntelLists::Kind::ip, "ips.txt", ips, problems);
    out->add(detect::IntelLists::Kind::domain, "domains.txt", domains, problems);
    out->finish();
    return out;
  }();
  return *l;
}

struct Name {
  std::vector<std::uint8_t> wire;
  dnsparse::Message msg;
  sensor::QueryName q;
};

std::unique_ptr<Name> name(std::string_view text) {
  static sensor::DomainSplitter psl;
  auto n = std::make_unique<Name>();
  test::Wire w;
  w.header(1, 0x0100, 1, 0, 0, 0);
  w.name(text).qtc(1);
  n->wire = w.b;
  (void)dnsparse::Message::parse(dnsparse::Bytes{n->wire}, n->msg);
  n->q.set(n->msg, &psl);
  return n;
}

// What intel_match does per message: the name and both addresses.
void lookup(benchmark::State& state, std::string_view qname, std::string_view client, std::string_view server) {
  const auto& l = lists();
  const auto n = name(qname);
  const auto c = *sensor::IpAddr::parse(client);
  const auto s = *sensor::IpAddr::parse(server);
  for (auto _ : state) {
    benchmark::DoNotOptimize(l.find(n->q));
    benchmark::DoNotOptimize(l.find(c));
    benchmark::DoNotOptimize(l.find(s));
  }
  state.counters["bytes"] = static_cast<double>(l.bytes());
}

}  // namespace

BENCHMARK_CAPTURE(lookup, no_match, "www.wikipedia.org", "10.20.1.10", "10.20.0.53");
BENCHMARK_CAPTURE(lookup, no_match_deep_name, "a.b.c.d.e.f.cdn.example.com", "10.20.1.10", "10.20.0.53");
BENCHMARK_CAPTURE(lookup, no_match_ipv6, "www.wikipedia.org", "fd20::1:10", "2001:db9::53");

// The lists are built once (first use); report how long that takes (start-up and SIGHUP cost).
void build_lists(benchmark::State& state) {
  for (auto _ : state) {
    std::uint64_t seed = 11;
    std::string domains;
    for (int i = 0; i < kEntries; ++i) domains += "c2-" + std::to_string(next(seed) % 100000000) + ".example.net\n";
    detect::IntelLists l;
    std::vector<std::string> problems;
    l.add(detect::IntelLists::Kind::domain, "d.txt", domains, problems);
    l.finish();
    benchmark::DoNotOptimize(l.empty());
  }
}
BENCHMARK(build_lists)->Unit(benchmark::kMillisecond);

// A name under a listed domain: the lookup stops at the entry.
void match(benchmark::State& state) {
  const auto& l = lists();
  // The first listed domain, found by replaying the generator.
  std::uint64_t seed = 7;
  const auto n = name("x.c2-" + std::to_string(next(seed) % 100000000) + ".example0.net");
  if (l.find(n->q) == nullptr) state.SkipWithError("generated domain not found");
  for (auto _ : state) benchmark::DoNotOptimize(l.find(n->q));
}
BENCHMARK(match);

BENCHMARK_MAIN();
