// Micro-benchmarks of dnsparse on real BIND 9.18 messages (captured from the lab zone with
// tcpdump; see tests/unit/dnsparse for their provenance). Each benchmark reports the heap
// allocations it made per iteration ("allocs"), which must be 0.
//
//   cmake --preset release && cmake --build --preset release --target bench_dnsparse
//   build/release/tests/bench/bench_dnsparse
#include <benchmark/benchmark.h>

#include <array>
#include <string_view>
#include <vector>

#include "alloc_counter.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/text.hpp"

using namespace dnsvigil::dnsparse;

namespace {

std::vector<std::uint8_t> hex(std::string_view s) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  return out;
}

// `dig www.example.com A +cookie`: question + OPT with client cookie (56 octets).
const auto kQuery = hex(
    "aedd0120000100000000000103777777076578616d706c6503636f6d000001000100002904d000000000000c000a0008"
    "779124100affbe13");
// One A answer + OPT with cookies (88 octets).
const auto kOneAnswer = hex(
    "aedd8500000100010000000103777777076578616d706c6503636f6d0000010001c00c0001000100000e100004c00002"
    "5000002904d000000000001c000a0018779124100affbe13010000006b04821891b1d2b4e40313fd");
// c1 -> c2 -> c3 -> c4 -> www CNAME chain, the A, 2 NS, 2 glue, OPT (196 octets).
const auto kCnameChain = hex(
    "623184000001000500020003026331076578616d706c6503636f6d0000010001c00c0005000100000e100005026332c0"
    "0fc02c0005000100000e100005026333c00fc03d0005000100000e100005026334c00fc04e0005000100000e10000603"
    "777777c00fc05f0001000100000e100004c0000250c00f0002000100000e100006036e7332c00fc00f0002000100000e"
    "100006036e7331c00fc0930001000100000e100004c0000201c0810001000100000e100004c000020200002904d00000"
    "00000000");
// Referral for sub.example.com: 4 NS, 4 A + 4 AAAA glue, OPT (296 octets).
const auto kReferral = hex(
    "4eff800000010000000400090377777703737562076578616d706c6503636f6d0000010001c0100002000100000e1000"
    "06036e7332c010c0100002000100000e100006036e7331c010c0100002000100000e100006036e7334c010c010000200"
    "0100000e100006036e7333c010c0550001000100000e100004c0000268c0670001000100000e100004c0000267c03100"
    "01000100000e100004c0000266c0430001000100000e100004c0000265c055001c000100000e10001020010db8000000"
    "000000000000000104c067001c000100000e10001020010db8000000000000000000000103c031001c000100000e1000"
    "1020010db8000000000000000000000102c043001c000100000e10001020010db8000000000000000000000101000029"
    "04d0000000000000");
// DNSSEC (DO) answer: A + RRSIG, 2 NS + RRSIG, glue + RRSIGs, OPT (556 octets).
const auto kEdnsDnssec = hex(
    "433d8400000100020003000503777777076578616d706c6503636f6d0000010001c00c0001000100000e100004c00002"
    "50c00c002e000100000e10005f00010d0300000e106b2c01876b047487b5cf076578616d706c6503636f6d0017d7615d"
    "683f14ec50c25b8dcb03cdd7bfa2ca580f04fe33aa15526861631bf0aa01d336ae60db7fcc78e21255eebca497842f2f"
    "23ab8fa9015c4f17d7134f36c04f0002000100000e100006036e7331c04fc04f0002000100000e100006036e7332c04f"
    "c04f002e000100000e10005f00020d0200000e106b2c01876b047487b5cf076578616d706c6503636f6d00d39e9670d2"
    "011407f343ab2a030e820f564f2418d151e7e11279dcd01ed4bff1575ec2b5fac79a6ded51171e5d42e450beccdbe3d7"
    "0d947fbd97ac9c05cf33edc0a80001000100000e100004c0000201c0ba0001000100000e100004c0000202c0a8002e00"
    "0100000e10005f00010d0300000e106b2c01876b047487b5cf076578616d706c6503636f6d002acafb4ae840f29782af"
    "1f59c4ddafb37776e986730f58acdfaaa65b36874d72d842b0d66acc2f30622b8755712016b28242fcba8b8d458b191c"
    "cfce11d1472cc0ba002e000100000e10005f00010d0300000e106b2c01876b047487b5cf076578616d706c6503636f6d"
    "00f2a61f63060e2f69f12c50dbf1265507097bb4b5d4ff53c49949d5e8f4959928952305f05a1df30b1717897ca685ee"
    "835561da07519fe0dd33ac1462c864a58700002904d0000080000000");

void parse(benchmark::State& state, const std::vector<std::uint8_t>& wire) {
  Message m;
  if (Message::parse(Bytes{wire}, m) != Error::ok || !m.anomalies().empty()) {
    state.SkipWithError("fixture does not parse cleanly");
    return;
  }
  const auto before = dnsvigil::bench::g_allocations.load();
  for (auto _ : state) {
    benchmark::DoNotOptimize(Message::parse(Bytes{wire}, m));
    benchmark::DoNotOptimize(m);
  }
  state.counters["allocs"] = static_cast<double>(dnsvigil::bench::g_allocations.load() - before);
  state.counters["octets"] = static_cast<double>(wire.size());
}

// Parse plus presentation text of every answer, as the event dump does.
void parse_and_format(benchmark::State& state, const std::vector<std::uint8_t>& wire) {
  Message m;
  std::array<char, 4096> buf{};
  const auto before = dnsvigil::bench::g_allocations.load();
  for (auto _ : state) {
    (void)Message::parse(Bytes{wire}, m);
    TextWriter w(buf);
    (void)write_name_text(m.wire(), m.question().name, w);
    for (const RecordView& rr : m.records(Section::answer)) {
      (void)write_name_text(m.wire(), rr.name, w);
      (void)write_rdata_text(m, rr, w);
    }
    benchmark::DoNotOptimize(w.size());
  }
  state.counters["allocs"] = static_cast<double>(dnsvigil::bench::g_allocations.load() - before);
}

}  // namespace

BENCHMARK_CAPTURE(parse, typical_query, kQuery);
BENCHMARK_CAPTURE(parse, one_answer_response, kOneAnswer);
BENCHMARK_CAPTURE(parse, cname_chain_response, kCnameChain);
BENCHMARK_CAPTURE(parse, referral_with_glue, kReferral);
BENCHMARK_CAPTURE(parse, edns_dnssec_response, kEdnsDnssec);
BENCHMARK_CAPTURE(parse_and_format, one_answer_response, kOneAnswer);
BENCHMARK_CAPTURE(parse_and_format, cname_chain_response, kCnameChain);

BENCHMARK_MAIN();
