#include "service.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

namespace dnsvigil::app {

namespace {

void clear_capability_sets() {
  // Ambient first (they would come back on exec), then the three classic sets.
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &hdr, data) != 0)
    throw std::runtime_error(std::string("cannot clear capabilities: ") + std::strerror(errno));
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    throw std::runtime_error(std::string("cannot set no_new_privs: ") + std::strerror(errno));
}

// The handler only stores to these flags: they must not hide a lock.
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int sig) {
  Signals& s = signals();
  switch (sig) {
    case SIGHUP: s.reload.store(true); break;
    case SIGUSR1:
      // Lock-free atomics only (async-signal-safe); the loop acts on them between batches.
      s.stats.store(true);
      s.report.store(true);
      break;
    default: s.stop.store(true); break;
  }
}

}  // namespace

Signals& signals() {
  static Signals s;
  return s;
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // Stop signals interrupt a blocking read so that it ends promptly; reload and stats requests
  // must not: the read restarts and the request is served between batches.
  for (const int sig : {SIGINT, SIGTERM}) sigaction(sig, &sa, nullptr);
  sa.sa_flags = SA_RESTART;
  for (const int sig : {SIGHUP, SIGUSR1}) sigaction(sig, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void drop_privileges(const std::string& user) {
  if (geteuid() != 0) throw std::runtime_error("run.user '" + user + "' needs dnsvigil to start as root");
  errno = 0;
  const passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr)
    throw std::runtime_error("run.user '" + user + "' does not exist (create it, or set run.user: \"\" to stay)");
  // Bounding set: nothing can be regained through exec of a file with capabilities.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  if (setgroups(0, nullptr) != 0 || setgid(pw->pw_gid) != 0)
    throw std::runtime_error(std::string("cannot switch group: ") + std::strerror(errno));
  // PR_SET_KEEPCAPS off: switching the uid away from 0 clears the permitted and effective sets.
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (setuid(pw->pw_uid) != 0) throw std::runtime_error(std::string("cannot switch user: ") + std::strerror(errno));
  if (setuid(0) == 0) throw std::runtime_error("privileges could be regained after the switch; refusing to run");
  clear_capability_sets();
}

void drop_capabilities() { clear_capability_sets(); }

void notify(const std::string& state) { sd_notify(0, state.c_str()); }

std::uint64_t watchdog_usec() {
  std::uint64_t usec = 0;
  return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

}  // namespace dnsvigil::app
