#include "summary.hpp"

#include <string_view>

namespace dnsvigil::app {

using sensor::Counter;

namespace {
bool is_volume(Counter c) {
  switch (c) {
    case Counter::packets: case Counter::bytes: case Counter::dns_messages: case Counter::dns_queries:
    case Counter::dns_responses: case Counter::tx_matched: case Counter::frag_fragments:
    case Counter::frag_reassembled: case Counter::tcp_segments: case Counter::tcp_streams:
      return true;
    default:
      return false;
  }
}
}  // namespace

void print_summary(std::FILE* out, const sensor::Counters& c, double seconds, std::size_t files,
                   const std::vector<capture::CaptureStats>& live) {
  const auto get = [&](Counter k) { return static_cast<unsigned long long>(c.get(k)); };
  const double pps = seconds > 0 ? static_cast<double>(c.get(Counter::packets)) / seconds : 0.0;
  std::fprintf(out, "dnsvigil: summary: %llu packets (%llu octets)", get(Counter::packets), get(Counter::bytes));
  if (files != 0) std::fprintf(out, " from %zu file%s", files, files == 1 ? "" : "s");
  std::fprintf(out, " in %.3f s, %.0f packets/s\n", seconds, pps);
  std::fprintf(out, "  dns: %llu messages (%llu queries, %llu responses); %llu matched, %llu unanswered, %llu unsolicited\n",
               get(Counter::dns_messages), get(Counter::dns_queries), get(Counter::dns_responses),
               get(Counter::tx_matched), get(Counter::tx_unanswered), get(Counter::tx_unsolicited));
  std::fprintf(out, "  ip fragments: %llu seen, %llu datagrams reassembled; tcp: %llu segments, %llu streams\n",
               get(Counter::frag_fragments), get(Counter::frag_reassembled), get(Counter::tcp_segments),
               get(Counter::tcp_streams));
  for (const auto& s : live)
    std::fprintf(out, "  capture: %llu received, %llu dropped by the kernel, %llu by the interface\n",
                 static_cast<unsigned long long>(s.received), static_cast<unsigned long long>(s.dropped),
                 static_cast<unsigned long long>(s.if_dropped));
  std::string line;
  for (std::size_t i = 0; i < sensor::kCounterCount; ++i) {
    const auto k = static_cast<Counter>(i);
    if (is_volume(k) || c.values[i] == 0) continue;
    if (k == Counter::tx_unanswered || k == Counter::tx_unsolicited) continue;
    line += ' ';
    line += sensor::counter_id(k);
    line += '=';
    line += std::to_string(c.values[i]);
  }
  if (!line.empty()) std::fprintf(out, "  counters:%s\n", line.c_str());
  line.clear();
  for (std::size_t i = 0; i < c.parse_errors.size(); ++i) {
    if (c.parse_errors[i] == 0) continue;
    line += ' ';
    line += dnsparse::error_id(static_cast<dnsparse::Error>(i));
    line += '=';
    line += std::to_string(c.parse_errors[i]);
  }
  if (!line.empty()) std::fprintf(out, "  parse errors:%s\n", line.c_str());
  line.clear();
  for (std::size_t i = 0; i < c.anomalies.size(); ++i) {
    if (c.anomalies[i] == 0) continue;
    line += ' ';
    line += dnsparse::anomaly_id(static_cast<dnsparse::Anomaly>(i));
    line += '=';
    line += std::to_string(c.anomalies[i]);
  }
  if (!line.empty()) std::fprintf(out, "  anomalies:%s\n", line.c_str());
}

void Progress::update(const std::string& source, const sensor::Counters& c) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(500)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double pps = secs > 0 ? static_cast<double>(c.get(Counter::packets)) / secs : 0.0;
  std::fprintf(stderr, "\r\033[K%s: %llu packets, %llu DNS messages, %.0f packets/s", source.c_str(),
               static_cast<unsigned long long>(c.get(Counter::packets)),
               static_cast<unsigned long long>(c.get(Counter::dns_messages)), pps);
  drawn_ = true;
}

void Progress::done() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

}  // namespace dnsvigil::app
