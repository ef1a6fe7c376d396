// Every setting of dnsvigil in one aggregate. Defaults are the member initialisers here and in
// the structs this aggregates; the schema (schema.hpp) binds YAML keys to these fields.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnsvigil/detect/settings.hpp"
#include "dnsvigil/sensor/pipeline.hpp"

namespace dnsvigil::config {

using sensor::kNanosPerSecond;
using sensor::Timestamp;

struct CaptureSettings {
  std::vector<std::string> interfaces;      ///< live interfaces (-i adds to these)
  std::uint64_t snaplen = 65535;
  std::uint64_t buffer_size = 64u << 20;    ///< kernel ring per interface
  bool promiscuous = true;
  Timestamp timeout = 100 * 1'000'000;      ///< 100 ms: block hand-over latency
  std::string filter;                       ///< BPF; empty = DNS ports + IP fragments
  std::string dns_heuristic = "external";   ///< off, external, all: mapped into pipeline.off_port
};

/// The HTML report (outputs.report.*).
struct ReportSettings {
  std::string path;                         ///< HTML file; empty = off (--report sets it)
  Timestamp interval = 0;                   ///< live: also written this often (0: on SIGUSR1 and at the end)
  std::uint64_t max_alerts = 1000;          ///< alerts listed (the most severe kept)
  std::uint64_t max_keys = 4096;            ///< clients, registered domains (and a quarter as many servers) tracked per worker
  std::uint64_t top = 20;                   ///< rows of the top tables
};

/// One syslog destination.
struct SyslogSettings {
  bool enabled = false;
  std::string transport = "unix";           ///< unix, udp, tcp
  std::string address = "/dev/log";         ///< socket path, or host:port
  std::string format = "rfc5424";           ///< rfc5424, rfc3164
  std::string facility = "local5";
  std::string app_name = "dnsvigil";
  std::string severity_low = "notice";      ///< syslog severity of low alerts
  std::string severity_medium = "warning";
  std::string severity_high = "err";
  std::string severity_critical = "crit";
};

/// The ClickHouse sink (outputs.clickhouse): events and alerts inserted over HTTP.
struct ClickHouseSettings {
  bool enabled = false;
  std::string url = "http://127.0.0.1:8123";  ///< HTTP interface: http:// or https://, host, port
  std::string database = "dnsvigil";
  std::string events_table = "dns_events";    ///< empty: events are not sent
  std::string alerts_table = "dns_alerts";    ///< empty: alerts are not sent
  std::string user = "default";
  std::string password_file;                  ///< a file holding the password (empty: none)
  std::string password;                       ///< read from password_file when the configuration loads
  std::string ca_file;                        ///< https: CA bundle (empty: the system's)
  std::string observer_name;                  ///< the sensor's name in every row; empty: the host name
  std::uint64_t batch_rows = 65536;
  Timestamp flush_interval = kNanosPerSecond;
  std::uint64_t max_buffer_bytes = 64u << 20;
  Timestamp timeout = 10 * kNanosPerSecond;
  Timestamp shutdown_timeout = 10 * kNanosPerSecond;
};

struct OutputSettings {
  std::string alerts_json;                  ///< path or "-"; empty = off (--alerts-json sets it)
  std::string events_json;                  ///< path or "-"; every DNS message (--dump-json sets it)
  std::string alerts_text;                  ///< path or "-"; one readable line per alert
  SyslogSettings syslog;
  ClickHouseSettings clickhouse;
  std::uint64_t queue = 65536;              ///< alerts queued per output before drops
  std::uint64_t rate_limit = 100;           ///< alerts per second per output (0 = unlimited)
  ReportSettings report;
};

/// Inputs other than packet capture (YAML `input:`).
struct InputSettings {
  std::vector<std::string> dnstap;          ///< unix:/path or tcp:ADDRESS:PORT to listen on (--dnstap adds)
  std::uint64_t dnstap_queue = 65536;       ///< frames waiting to be processed before drops
  std::string dnstap_socket_mode = "0660";  ///< permissions of unix sockets (octal)
  std::string dnstap_socket_group;          ///< group of unix sockets (empty: the sensor's)
};

struct MetricsSettings {
  bool enabled = false;
  std::string listen = "127.0.0.1:9853";
};

struct RunSettings {
  std::string user = "dnsvigil";            ///< drop privileges to this user after opening captures
  std::string log_level = "info";
  Timestamp stats_interval = 300 * kNanosPerSecond;
};

struct Settings {
  CaptureSettings capture;
  InputSettings input;
  sensor::PipelineOptions pipeline;
  detect::DetectorSettings detectors;
  OutputSettings outputs;
  MetricsSettings metrics;
  RunSettings run;
  std::string role = "tap";                 ///< network.role, mapped into detectors.network.role
  std::uint64_t workers = 1;

  /// Derives fields that depend on others (role enum from its name). Called after loading.
  void finalize();
};

}  // namespace dnsvigil::config
