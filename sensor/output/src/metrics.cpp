#include "dnsvigil/output/metrics.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace dnsvigil::output {

void PromText::family(const std::string& name, const std::string& type, const std::string& help) {
  text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void PromText::sample(const std::string& name, const std::string& labels, double value) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", value);
  text_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + b + "\n";
}

void PromText::sample(const std::string& name, const std::string& labels, std::uint64_t value) {
  text_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value) + "\n";
}

std::string PromText::escape(const std::string& v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct MetricsServer::Impl {
  MHD_Daemon* daemon = nullptr;
};

namespace {
MHD_Result handle(void* cls, MHD_Connection* conn, const char* url, const char* method, const char*, const char*,
                  size_t*, void**) {
  auto* self = static_cast<MetricsServer*>(cls);
  if (std::strcmp(method, "GET") != 0) return MHD_NO;
  const bool metrics = std::strcmp(url, "/metrics") == 0;
  const std::string body = metrics ? self->snapshot() : std::string("dnsvigil: metrics are at /metrics\n");
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", metrics ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
  const MHD_Result rc = MHD_queue_response(conn, metrics ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, r);
  MHD_destroy_response(r);
  return rc;
}
}  // namespace

MetricsServer::MetricsServer(const std::string& listen) : impl_(std::make_unique<Impl>()) {
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find("]:");
    if (close == std::string::npos) throw std::runtime_error("metrics.listen '" + listen + "' is not [v6]:port");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("metrics.listen '" + listen + "' is not host:port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  unsigned long p = 0;
  try {
    p = std::stoul(port);
  } catch (...) {
    p = 70000;
  }
  if (p > 65535) throw std::runtime_error("metrics.listen '" + listen + "': bad port");
  sockaddr_storage ss{};
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  if (inet_pton(AF_INET, host.c_str(), &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(p));
  } else if (inet_pton(AF_INET6, host.c_str(), &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr) == 1) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(p));
    flags |= MHD_USE_IPv6;
  } else {
    throw std::runtime_error("metrics.listen '" + listen + "': host must be an IP address");
  }
  impl_->daemon = MHD_start_daemon(flags, static_cast<std::uint16_t>(p), nullptr, nullptr, &handle, this,
                                   MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&ss),
                                   MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                                   MHD_OPTION_END);
  if (impl_->daemon == nullptr) throw std::runtime_error("cannot serve metrics on " + listen + " (address in use?)");
  const MHD_DaemonInfo* info = MHD_get_daemon_info(impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info != nullptr ? info->port : static_cast<unsigned short>(p);
}

MetricsServer::~MetricsServer() {
  if (impl_->daemon != nullptr) MHD_stop_daemon(impl_->daemon);
}

void MetricsServer::publish(std::string text) {
  std::lock_guard lock(mu_);
  text_ = std::move(text);
}

std::string MetricsServer::snapshot() const {
  std::lock_guard lock(mu_);
  return text_;
}

}  // namespace dnsvigil::output
