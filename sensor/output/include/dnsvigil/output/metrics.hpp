// Prometheus text exposition over HTTP (libmicrohttpd), for a loopback scrape address.
#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace dnsvigil::output {

/// Builds Prometheus text (exposition format 0.0.4) line by line.
class PromText {
 public:
  /// Starts a metric family (HELP and TYPE lines).
  void family(const std::string& name, const std::string& type, const std::string& help);
  /// One sample; `labels` like `rule="x",id="y"` (already escaped) or empty.
  void sample(const std::string& name, const std::string& labels, double value);
  void sample(const std::string& name, const std::string& labels, std::uint64_t value);
  [[nodiscard]] const std::string& text() const noexcept { return text_; }
  /// Escapes a label value (backslash, quote, newline).
  [[nodiscard]] static std::string escape(const std::string& v);

 private:
  std::string text_;
};

/// Serves the latest snapshot at /metrics. The capture thread publishes snapshots; the HTTP
/// thread only copies the newest one, so scraping never touches live counters.
class MetricsServer {
 public:
  /// Listens on "host:port" (IPv4 or [IPv6]). Throws std::runtime_error on failure.
  explicit MetricsServer(const std::string& listen);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void publish(std::string text);
  [[nodiscard]] std::string snapshot() const;
  [[nodiscard]] unsigned short port() const noexcept { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex mu_;
  std::string text_;
  unsigned short port_ = 0;
};

}  // namespace dnsvigil::output
