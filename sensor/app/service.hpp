// Running as a service: privileges, systemd notification, signals.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace dnsvigil::app {

/// Switches to `user` (and its primary group), then leaves no capability in any set and sets
/// no_new_privs. Needs root; throws std::runtime_error with the reason otherwise.
void drop_privileges(const std::string& user);

/// For a process that is not root but holds capabilities (systemd AmbientCapabilities): clears
/// the ambient, effective, permitted and inheritable sets and sets no_new_privs.
void drop_capabilities();

/// Sends a state string to systemd ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1");
/// does nothing outside systemd.
void notify(const std::string& state);

/// The watchdog interval systemd asked for, in microseconds (0 when none).
[[nodiscard]] std::uint64_t watchdog_usec();

/// Signal flags set by the handlers installed by install_signal_handlers().
struct Signals {
  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
  std::atomic<bool> stats{false};
  std::atomic<bool> report{false};  ///< SIGUSR1 too: write the HTML report (when one is configured)
};
[[nodiscard]] Signals& signals();
/// SIGINT/SIGTERM stop, SIGHUP reload, SIGUSR1 stats and report; SIGPIPE ignored.
void install_signal_handlers();

}  // namespace dnsvigil::app
