#include <arpa/inet.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "dnsvigil/dnstap/dnstap.hpp"

namespace dnsvigil::dnstap {

namespace {

std::runtime_error fail(const std::string& endpoint, const std::string& what) {
  return std::runtime_error("dnstap " + endpoint + ": " + what + ": " + std::strerror(errno));
}

// unix:/path: a stream socket the sensor creates (a stale one is replaced), with the mode and
// group a DNS server's user needs to connect.
int listen_unix(const std::string& endpoint, const std::string& path, unsigned mode, const std::string& group) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sa.sun_path)
    throw std::runtime_error("dnstap " + endpoint + ": the socket path must have 1 to " +
                             std::to_string(sizeof sa.sun_path - 1) + " characters");
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw fail(endpoint, "socket");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    const auto e = fail(endpoint, "cannot create the socket");
    ::close(fd);
    throw e;
  }
  if (!group.empty()) {
    const struct group* g = ::getgrnam(group.c_str());
    if (g == nullptr || ::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
      ::close(fd);
      throw std::runtime_error("dnstap " + endpoint + ": cannot give the socket to group '" + group + "'");
    }
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0 || ::listen(fd, 16) != 0) {
    const auto e = fail(endpoint, "listen");
    ::close(fd);
    throw e;
  }
  return fd;
}

// tcp:ADDRESS:PORT (IPv6 in brackets).
int listen_tcp(const std::string& endpoint, const std::string& where) {
  const std::size_t colon = where.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("dnstap " + endpoint + ": expected tcp:ADDRESS:PORT");
  std::string host = where.substr(0, colon);
  const std::string port = where.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr)
    throw std::runtime_error("dnstap " + endpoint + ": expected tcp:ADDRESS:PORT with a numeric address and port");
  const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 16) != 0) {
    const auto e = fail(endpoint, "cannot listen");
    if (fd >= 0) ::close(fd);
    ::freeaddrinfo(res);
    throw e;
  }
  ::freeaddrinfo(res);
  return fd;
}

}  // namespace

Listener::Listener(Options o) : opt_(std::move(o)) {
  try {
    for (const std::string& e : opt_.endpoints) {
      if (e.rfind("unix:", 0) == 0) {
        listen_fds_.push_back(listen_unix(e, e.substr(5), opt_.socket_mode, opt_.socket_group));
        unix_paths_.push_back(e.substr(5));
      } else if (e.rfind("tcp:", 0) == 0) {
        listen_fds_.push_back(listen_tcp(e, e.substr(4)));
      } else {
        throw std::runtime_error("dnstap endpoint '" + e + "': expected unix:/path or tcp:ADDRESS:PORT");
      }
    }
  } catch (...) {
    for (const int fd : listen_fds_) ::close(fd);
    for (const auto& p : unix_paths_) ::unlink(p.c_str());
    throw;
  }
}

void Listener::start() {
  for (const int fd : listen_fds_) threads_.emplace_back([this, fd] { accept_loop(fd); });
}

Listener::~Listener() {
  stop_ = true;
  for (const int fd : listen_fds_) ::shutdown(fd, SHUT_RDWR);
  {
    const std::lock_guard lock(conn_mu_);
    for (const int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  for (const int fd : listen_fds_) ::close(fd);
  for (const auto& p : unix_paths_) ::unlink(p.c_str());
}

void Listener::accept_loop(int listen_fd) {
  while (!stop_) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++stats_.connections;
    const std::lock_guard lock(conn_mu_);
    if (stop_) {
      ::close(fd);
      return;
    }
    conn_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { read_loop(fd); });
  }
}

void Listener::read_loop(int fd) {
  // A server that disconnects is served again when it reconnects (accept_loop); this thread
  // ends with its connection.
  const auto reader = FrameReader::for_socket(fd);
  if (reader == nullptr) {
    ++stats_.errors;
    return;
  }
  std::span<const std::uint8_t> frame;
  for (;;) {
    const FrameReader::Result r = reader->next(frame);
    if (r == FrameReader::Result::frame) {
      ++stats_.frames;
      push(frame);
      continue;
    }
    if (r == FrameReader::Result::error && !stop_) ++stats_.errors;
    break;
  }
  const std::lock_guard lock(conn_mu_);
  std::erase(conn_fds_, fd);
}

void Listener::push(std::span<const std::uint8_t> frame) {
  {
    const std::lock_guard lock(mu_);
    if (queue_.size() >= opt_.queue_frames) {
      ++stats_.dropped;  // never block the DNS server's writer
      return;
    }
    queue_.emplace_back(frame.begin(), frame.end());
  }
  cv_.notify_one();
}

std::size_t Listener::drain(std::vector<std::vector<std::uint8_t>>& out) {
  out.clear();
  const std::lock_guard lock(mu_);
  out.swap(queue_);
  return out.size();
}

bool Listener::wait(int ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return !queue_.empty() || stop_; });
}

}  // namespace dnsvigil::dnstap
