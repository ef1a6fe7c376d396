// pcap_floor: the plain libpcap read loop over a capture file, the physical limit of any
// libpcap-based reader (dnsvigil's capture layer included): pcap_dispatch with a callback that
// touches each packet's first and last byte and counts octets. Opened as dnsvigil opens files
// (nanosecond precision, same dispatch batch), so the comparison is like for like.
//
//   pcap_floor FILE...   prints: packets, bytes, seconds, packets/s (one line per run, total last)
#include <pcap/pcap.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace {

struct Tally {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t touch = 0;  // folded first/last bytes, printed so the reads cannot be optimised away
};

extern "C" void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* data) {
  auto* t = reinterpret_cast<Tally*>(user);
  ++t->packets;
  t->bytes += h->caplen;
  if (h->caplen != 0) t->touch += static_cast<std::uint64_t>(data[0]) ^ (static_cast<std::uint64_t>(data[h->caplen - 1]) << 8);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pcap_floor FILE...\n");
    return 2;
  }
  Tally t;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i < argc; ++i) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline_with_tstamp_precision(argv[i], PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == nullptr) {
      std::fprintf(stderr, "pcap_floor: %s: %s\n", argv[i], err);
      return 1;
    }
    while (true) {
      // The batch size dnsvigil uses for files.
      const int n = pcap_dispatch(p, 4096, on_packet, reinterpret_cast<u_char*>(&t));
      if (n == PCAP_ERROR) {
        std::fprintf(stderr, "pcap_floor: %s: %s\n", argv[i], pcap_geterr(p));
        pcap_close(p);
        return 1;
      }
      if (n <= 0) break;
    }
    pcap_close(p);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("packets %llu bytes %llu seconds %.3f packets_per_second %.0f touch %llu\n",
              static_cast<unsigned long long>(t.packets), static_cast<unsigned long long>(t.bytes), secs,
              secs > 0 ? static_cast<double>(t.packets) / secs : 0.0, static_cast<unsigned long long>(t.touch & 0xFFFF));
  return 0;
}
