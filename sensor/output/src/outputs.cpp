#include "dnsvigil/output/outputs.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "dnsvigil/dnsparse/types.hpp"
#include "dnsvigil/output/alert_text.hpp"
#include "dnsvigil/output/line_writer.hpp"

namespace dnsvigil::output {

namespace {

class JsonOutput final : public AlertOutput {
 public:
  JsonOutput(const std::string& path, Observer obs) : out_(path), obs_(std::move(obs)), name_("json:" + path) {}
  std::string_view name() const noexcept override { return name_; }
  bool deliver(const detect::Alert& a) override {
    write_alert_json(a, obs_, json_);
    return out_.write(json_.line());
  }
  void flush() override { out_.flush(); }
  void reopen() override { out_.reopen(); }

 private:
  LineWriter out_;
  Observer obs_;
  Json json_;
  std::string name_;
};

class TextOutput final : public AlertOutput {
 public:
  explicit TextOutput(const std::string& path) : out_(path), name_("text:" + path) {}
  std::string_view name() const noexcept override { return name_; }
  bool deliver(const detect::Alert& a) override {
    write_alert_text(a, line_);
    return out_.write(line_);
  }
  void flush() override { out_.flush(); }
  void reopen() override { out_.reopen(); }

 private:
  LineWriter out_;
  std::string line_;
  std::string name_;
};

// RFC 5424 §6.3.3: PARAM-VALUE escapes '"', '\' and ']'.
void sd_value(std::string& out, std::string_view v) {
  for (const char c : v) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    // Control characters have no place in a syslog line.
    out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
}

void sd_param(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  // PARAM-NAME: at most 32 printable characters without '=', ' ', ']', '"'.
  for (std::size_t i = 0; i < name.size() && i < 32; ++i) {
    const char c = name[i];
    out += (c == '=' || c == ' ' || c == ']' || c == '"' || c < 0x21 || c > 0x7E) ? '_' : c;
  }
  out += "=\"";
  sd_value(out, value);
  out += '"';
}

std::string ip_text(const sensor::IpAddr& a) { return a.text(); }


int pri(const detect::Alert& a, const SyslogOptions& o) {
  int sev = o.severity.medium;
  switch (a.severity) {
    case detect::Severity::low: sev = o.severity.low; break;
    case detect::Severity::medium: sev = o.severity.medium; break;
    case detect::Severity::high: sev = o.severity.high; break;
    case detect::Severity::critical: sev = o.severity.critical; break;
  }
  return o.facility * 8 + sev;
}

// host:port, [v6]:port.
bool split_host_port(const std::string& s, std::string& host, std::string& port) {
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    return !port.empty();
  }
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  port = s.substr(colon + 1);
  return !host.empty() && !port.empty();
}

class SyslogOutput final : public AlertOutput {
 public:
  explicit SyslogOutput(const SyslogOptions& o) : o_(o), name_("syslog:" + o.transport + ":" + o.address) {
    if (o_.transport != "unix") {
      std::string host, port;
      if (!split_host_port(o_.address, host, port))
        throw std::runtime_error("syslog address '" + o_.address + "' is not host:port");
      addrinfo hints{};
      hints.ai_socktype = o_.transport == "tcp" ? SOCK_STREAM : SOCK_DGRAM;
      addrinfo* res = nullptr;
      const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
      if (rc != 0 || res == nullptr)
        throw std::runtime_error("syslog address '" + o_.address + "': " + gai_strerror(rc));
      std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
      addr_len_ = res->ai_addrlen;
      family_ = res->ai_family;
      freeaddrinfo(res);
    }
  }
  ~SyslogOutput() override { disconnect(); }

  std::string_view name() const noexcept override { return name_; }

  bool deliver(const detect::Alert& a) override {
    std::string msg = o_.format == "rfc3164" ? format_rfc3164(a, o_, getpid()) : format_rfc5424(a, o_, getpid());
    if (fd_ >= 0 && o_.transport == "tcp" && peer_closed()) disconnect();
    if (fd_ < 0 && !connect_now()) return false;
    if (o_.transport == "tcp") msg = std::to_string(msg.size()) + " " + msg;  // RFC 6587 §3.4.1
    const ssize_t n = ::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(msg.size())) {
      disconnect();
      return false;
    }
    return true;
  }
  void reopen() override { disconnect(); }

 private:
  bool connect_now() {
    if (o_.transport == "unix") {
      fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_un un{};
      un.sun_family = AF_UNIX;
      std::strncpy(un.sun_path, o_.address.c_str(), sizeof un.sun_path - 1);
      if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) {
        disconnect();
        return false;
      }
      return true;
    }
    const int type = o_.transport == "tcp" ? SOCK_STREAM : SOCK_DGRAM;
    fd_ = ::socket(family_, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return false;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr_), addr_len_) != 0) {
      if (errno != EINPROGRESS) {
        disconnect();
        return false;
      }
      // Never hang on a dead receiver: 2 s to connect.
      pollfd p{fd_, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, 2000) != 1 || getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        disconnect();
        return false;
      }
    }
    // Blocking sends from here, bounded by a send timeout.
    const int flags = fcntl(fd_, F_GETFL);
    fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
    timeval tv{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return true;
  }
  // A receiver never writes to us: readable or hung up means it closed the connection. A send
  // into such a socket would succeed locally and the alert would be lost, so look first.
  bool peer_closed() const {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) != 0;
  }
  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  SyslogOptions o_;
  std::string name_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  int family_ = AF_INET;
  int fd_ = -1;
};

}  // namespace

std::unique_ptr<AlertOutput> make_json_output(const std::string& path, const Observer& obs) {
  return std::make_unique<JsonOutput>(path, obs);
}

std::unique_ptr<AlertOutput> make_text_output(const std::string& path) { return std::make_unique<TextOutput>(path); }

std::unique_ptr<AlertOutput> make_syslog_output(const SyslogOptions& o) { return std::make_unique<SyslogOutput>(o); }

int syslog_facility(std::string_view name) noexcept {
  static constexpr std::string_view kNames[] = {"kern", "user", "mail", "daemon", "auth", "syslog", "lpr",
                                                "news", "uucp", "cron", "authpriv", "ftp"};
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return static_cast<int>(i);
  if (name.size() == 6 && name.substr(0, 5) == "local" && name[5] >= '0' && name[5] <= '7') return 16 + (name[5] - '0');
  return -1;
}

int syslog_severity(std::string_view name) noexcept {
  static constexpr std::string_view kNames[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return static_cast<int>(i);
  return -1;
}

std::string format_rfc5424(const detect::Alert& a, const SyslogOptions& o, int pid) {
  std::string out = "<" + std::to_string(pri(a, o)) + ">1 ";
  // TIME-SECFRAC allows at most 6 digits: microseconds.
  char ts[48];
  dnsparse::TextWriter w(ts);
  sensor::write_rfc3339(a.ts - a.ts % 1000, w);
  std::string t(w.view());
  t.erase(t.size() - 4, 3);  // "...123456789Z" -> "...123456Z"
  out += t + " " + (o.hostname.empty() ? "-" : o.hostname) + " " + o.app_name + " " + std::to_string(pid) + " " +
         std::string(a.rule->name) + " ";
  out += "[alert@32473";
  sd_param(out, "rule", a.rule->name);
  sd_param(out, "rule_id", a.rule->id);
  sd_param(out, "severity", detect::severity_name(a.severity));
  sd_param(out, "tactic", a.rule->mitre.tactic_id);
  sd_param(out, "technique", a.rule->mitre.subtechnique_id.empty() ? a.rule->mitre.technique_id
                                                                     : a.rule->mitre.subtechnique_id);
  if (a.has_client) sd_param(out, "src", ip_text(a.client));
  if (a.has_client && a.client_port) sd_param(out, "sport", std::to_string(a.client_port));
  if (a.has_server) sd_param(out, "dst", ip_text(a.server));
  if (a.has_server && a.server_port) sd_param(out, "dport", std::to_string(a.server_port));
  if (!a.transport.empty()) sd_param(out, "transport", a.transport);
  if (!a.qname.empty()) sd_param(out, "qname", a.qname);
  if (!a.registered_domain.empty()) sd_param(out, "domain", a.registered_domain);
  if (a.qtype != 0) sd_param(out, "qtype", dnsparse::Mnemonic::type(a.qtype).view());
  if (a.summary) sd_param(out, "suppressed", std::to_string(a.suppressed));
  if (!a.client_role.empty()) sd_param(out, "client_role", a.client_role);
  out += "]";
  if (!a.evidence.empty() || !a.samples.empty()) {
    out += "[evidence@32473";
    for (const auto& [k, v] : a.evidence) sd_param(out, k, evidence_text(v, ","));
    if (!a.samples.empty()) sd_param(out, "samples", evidence_text(a.samples, ","));
    out += "]";
  }
  if (!a.related.empty()) {
    // Alerts of other rules about the same activity (repeated PARAM-NAMEs, in order).
    out += "[related@32473";
    for (const auto& r : a.related) {
      sd_param(out, "rule", r.rule);
      sd_param(out, "trigger", r.trigger);
      sd_param(out, "message", r.reason);
    }
    out += "]";
  }
  if (!a.intel.empty()) {
    // One element; RFC 5424 6.3.3 lets a PARAM-NAME repeat, so several matches keep their order.
    out += "[intel@32473";
    for (const auto& m : a.intel) {
      sd_param(out, "indicator", m.indicator);
      sd_param(out, "type", m.type);
      sd_param(out, "field", m.field);
      sd_param(out, "matched", m.matched);
      sd_param(out, "list", m.list);
    }
    out += "]";
  }
  out += " ";
  out += a.reason;
  return out;
}

std::string format_rfc3164(const detect::Alert& a, const SyslogOptions& o, int pid) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  using namespace std::chrono;
  const sys_seconds tp{seconds{a.ts / 1'000'000'000}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  char head[64];
  std::snprintf(head, sizeof head, "<%d>%s %2u %02ld:%02ld:%02ld ", pri(a, o), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<unsigned>(ymd.day()), static_cast<long>(hms.hours().count()),
                static_cast<long>(hms.minutes().count()), static_cast<long>(hms.seconds().count()));
  std::string out = head;
  out += (o.hostname.empty() ? "-" : o.hostname) + " " + o.app_name + "[" + std::to_string(pid) + "]: ";
  std::string line;
  write_alert_text(a, line);
  // The readable line already starts with the packet time; keep the rest.
  const auto sp = line.find(' ');
  out += sp == std::string::npos ? line : line.substr(sp + 1);
  return out;
}

}  // namespace dnsvigil::output
