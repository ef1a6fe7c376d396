#include "report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "dnsvigil/config/schema.hpp"

namespace dnsvigil::app {

std::vector<output::ReportInput::Setting> settings_rows(const config::Settings& s) {
  // value_text() is what --default-config and the configuration reference print.
  config::Settings now = s;
  config::Settings defaults = config::defaults();
  std::vector<output::ReportInput::Setting> rows;
  for (const config::Key& k : config::schema()) rows.push_back({std::string(k.path), value_text(k, now), value_text(k, defaults)});
  return rows;
}

std::string report_page(Run& run, const config::Settings& s, const ReportContext& ctx) {
  output::ReportInput in;
  in.hostname = ctx.hostname;
  in.version = ctx.version;
  in.generated = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  in.live = ctx.live;
  in.final = ctx.final;
  in.inputs = ctx.inputs;
  in.seconds = ctx.seconds;
  // The same sources as the end-of-run summary (print_summary, print_alert_summary) and /metrics.
  in.counters = run.counters();
  for (const auto& [name, st] : ctx.capture) in.capture.push_back({name, st.received, st.dropped, st.if_dropped});
  if (ctx.dnstap != nullptr) {
    const auto& st = ctx.dnstap->stats();
    in.dnstap = {{"connections", st.connections.load()},
                 {"frames", st.frames.load()},
                 {"dropped (queue full)", st.dropped.load()},
                 {"stream errors", st.errors.load()}};
  }
  const Run::ReportParts parts = run.report_parts();
  const Learned& l = parts.learned;
  for (const auto& [client, roles] : l.clients) in.learned.clients.emplace_back(client, detect::role_names(roles));
  in.learned.mail_servers = l.roles.mail_servers;
  in.learned.monitoring = l.roles.monitoring;
  in.learned.container_nodes = l.roles.container_nodes;
  in.learned.resolvers = l.resolvers;
  in.learned.internal_resolvers = l.internal_resolvers;
  in.learned.resolvers_configured = l.resolvers_configured;
  in.detecting = run.detecting();
  in.per_rule = run.alerts().per_rule();
  in.suppressed = parts.suppressed;
  in.folded = parts.folded;
  in.role_explained = parts.role_explained;
  in.output_dropped = run.output_dropped();
  const auto log = run.alerts().alert_log();
  in.alerts = log.get();
  in.traffic = parts.traffic.get();
  in.top = s.outputs.report.top;
  in.settings = settings_rows(s);
  return output::build_report(in);
}

void write_report(Run& run, const config::Settings& s, const ReportContext& ctx) {
  output::write_report_file(s.outputs.report.path, report_page(run, s, ctx));
}

void check_report_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) throw std::runtime_error("cannot write the report " + path + ": " + std::strerror(errno));
  ::close(fd);
}

}  // namespace dnsvigil::app
