// End-of-run summary and the progress line of replays.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "dnsvigil/capture/source.hpp"
#include "dnsvigil/sensor/counters.hpp"

namespace dnsvigil::app {

/// Prints what the run saw and every non-zero drop, anomaly and error counter.
void print_summary(std::FILE* out, const sensor::Counters& c, double seconds, std::size_t files,
                   const std::vector<capture::CaptureStats>& live);

/// A one-line progress display on a terminal, redrawn at most twice a second.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  void update(const std::string& source, const sensor::Counters& c);
  void done();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{}, start_ = std::chrono::steady_clock::now();
};

}  // namespace dnsvigil::app
