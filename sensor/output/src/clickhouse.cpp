#include "dnsvigil/output/clickhouse.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

namespace dnsvigil::output {

namespace {

// libcurl's global state is set up once, before the first handle (curl_global_init is not
// thread-safe itself; call_once orders our callers, and nothing else in the process uses curl).
void curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// ClickHouse's answer to a failed request, on one line: its lines joined (an error is one line,
// but some answers say more on a second, like the native port's "You must use port 8123 for HTTP").
std::string one_line(std::string_view s, std::size_t max = 400) {
  std::string out;
  for (const char c : s.substr(0, max)) {
    if (c == '\r' || c == '\n') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Unescapes a TabSeparated field (ClickHouse escapes \t \n \\ \' and the like).
std::string tsv_field(std::string_view f) {
  std::string out;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '\\' || i + 1 == f.size()) {
      out += f[i];
      continue;
    }
    const char c = f[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c == '0' ? '\0' : c;
  }
  return out;
}

std::string quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// Type names compared without blanks: "Enum8('a' = 1)" and "Enum8('a'=1)" are one type.
std::string squeeze(std::string_view t) {
  std::string out;
  for (const char c : t)
    if (c != ' ') out += c;
  return out;
}

}  // namespace

// ---- HTTP --------------------------------------------------------------------------------------

struct ClickHouseHttp::Impl {
  CURL* curl = nullptr;
  std::string base;  // URL up to the query string
  std::string user, password, ca_file;
  long timeout_ms = 10000;
  curl_slist* headers = nullptr;
  // The body being sent.
  std::span<const std::string_view> parts;
  std::size_t part = 0, offset = 0;
  std::string* answer = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};

  static std::size_t read(char* dst, std::size_t size, std::size_t n, void* self) {
    auto& me = *static_cast<Impl*>(self);
    const std::size_t room = size * n;
    std::size_t done = 0;
    while (done < room && me.part < me.parts.size()) {
      const std::string_view p = me.parts[me.part];
      const std::size_t k = std::min(room - done, p.size() - me.offset);
      std::memcpy(dst + done, p.data() + me.offset, k);
      done += k;
      me.offset += k;
      if (me.offset == p.size()) {
        ++me.part;
        me.offset = 0;
      }
    }
    return done;
  }
  static std::size_t write(char* src, std::size_t size, std::size_t n, void* self) {
    auto& me = *static_cast<Impl*>(self);
    // An answer is read for its first lines only (errors, a schema check); keep 1 MiB at most.
    if (me.answer->size() < (1u << 20)) me.answer->append(src, size * n);
    return size * n;
  }
};

ClickHouseHttp::ClickHouseHttp(const ClickHouseOptions& o) : impl_(std::make_unique<Impl>()) {
  curl_once();
  impl_->base = o.url;
  while (!impl_->base.empty() && impl_->base.back() == '/') impl_->base.pop_back();
  impl_->base += "/?";
  impl_->user = o.user;
  impl_->password = o.password;
  impl_->ca_file = o.ca_file;
  impl_->timeout_ms = static_cast<long>(std::max<std::int64_t>(o.timeout_ns / 1'000'000, 100));
  // No "Expect: 100-continue" round trip before large bodies; the body is binary.
  impl_->headers = curl_slist_append(impl_->headers, "Expect:");
  impl_->headers = curl_slist_append(impl_->headers, "Content-Type: application/octet-stream");
  impl_->curl = curl_easy_init();
  if (impl_->curl == nullptr) throw std::runtime_error("libcurl: curl_easy_init failed");
}

ClickHouseHttp::~ClickHouseHttp() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
  curl_slist_free_all(impl_->headers);
}

bool ClickHouseHttp::post(std::string_view query, std::span<const std::string_view> parts, std::string& answer,
                          std::string& error) {
  Impl& m = *impl_;
  CURL* c = m.curl;
  curl_easy_reset(c);  // keeps the connection cache: the next request reuses the connection
  char* q = curl_easy_escape(c, query.data(), static_cast<int>(query.size()));
  const std::string url = m.base + "query=" + (q != nullptr ? q : "");
  curl_free(q);
  std::size_t total = 0;
  for (const auto& p : parts) total += p.size();
  m.parts = parts;
  m.part = 0;
  m.offset = 0;
  m.answer = &answer;
  answer.clear();
  m.errbuf[0] = '\0';
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(total));
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &Impl::read);
  curl_easy_setopt(c, CURLOPT_READDATA, &m);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Impl::write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, m.headers);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, m.errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM from name lookups in a threaded program
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, m.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(m.timeout_ms, 5000L));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!m.user.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, m.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, m.password.c_str());
  }
  if (!m.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, m.ca_file.c_str());
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    error = std::string(curl_easy_strerror(rc));
    if (m.errbuf[0] != '\0') error += std::string(": ") + m.errbuf;
    return false;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    error = "HTTP " + std::to_string(status) + ": " + (answer.empty() ? std::string("(no answer)") : one_line(answer));
    return false;
  }
  return true;
}

// ---- start-up check ----------------------------------------------------------------------------

std::string clickhouse_check(const ClickHouseOptions& o) {
  ClickHouseHttp http(o);
  const std::string where = "outputs.clickhouse: " + o.url + ": ";
  const auto check = [&](const std::string& table, std::span<const Column> cols) -> std::string {
    if (table.empty()) return {};
    const std::string query = "SELECT name, type FROM system.columns WHERE database = " + quote(o.database) +
                              " AND table = " + quote(table) +
                              " AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') FORMAT TabSeparated";
    std::string answer, error;
    if (!http.post(query, {}, answer, error)) return where + error;
    std::map<std::string, std::string> have;
    std::size_t pos = 0;
    while (pos < answer.size()) {
      auto nl = answer.find('\n', pos);
      if (nl == std::string::npos) nl = answer.size();
      const std::string_view line(answer.data() + pos, nl - pos);
      pos = nl + 1;
      const auto tab = line.find('\t');
      if (tab == std::string_view::npos) continue;
      have[tsv_field(line.substr(0, tab))] = tsv_field(line.substr(tab + 1));
    }
    const std::string name = o.database + "." + table;
    if (have.empty())
      return where + "table " + name + " does not exist (create it with /usr/share/dnsvigil/clickhouse/schema.sql)";
    for (const Column& c : cols) {
      const auto it = have.find(std::string(c.name));
      if (it == have.end())
        return where + "table " + name + " has no column " + std::string(c.name) + " " + std::string(c.type) +
               " (see /usr/share/dnsvigil/clickhouse/schema.sql)";
      if (squeeze(it->second) != squeeze(c.type))
        return where + "column " + name + "." + std::string(c.name) + " is " + it->second + ", dnsvigil inserts " +
               std::string(c.type);
    }
    return {};
  };
  if (auto e = check(o.events_table, event_columns()); !e.empty()) return e;
  return check(o.alerts_table, alert_columns());
}

// ---- errors -------------------------------------------------------------------------------------

void ClickHouseErrors::set(std::string what) {
  std::lock_guard lock(mu_);
  ++seq_;
  last_ = std::move(what);
}

std::pair<std::uint64_t, std::string> ClickHouseErrors::last() const {
  std::lock_guard lock(mu_);
  return {seq_, last_};
}

// ---- events --------------------------------------------------------------------------------------

ClickHouseEvents::ClickHouseEvents(ClickHouseOptions o, std::shared_ptr<ClickHouseErrors> errors)
    : opt_(std::move(o)), errors_(std::move(errors)) {
  if (opt_.batch_rows == 0) opt_.batch_rows = 1;
  query_ = "INSERT INTO `" + opt_.database + "`.`" + opt_.events_table + "` " + column_list(event_columns()) +
           " FORMAT RowBinary";
  thread_ = std::thread([this] { run(); });
}

ClickHouseEvents::~ClickHouseEvents() { close(0); }

void ClickHouseEvents::offer(std::string&& chunk, std::uint64_t rows) {
  if (rows == 0) return;
  offered_.fetch_add(rows, std::memory_order_relaxed);
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stop_ || held_bytes_ + chunk.size() > opt_.max_buffer_bytes) {
      // Full (ClickHouse slow or down): these rows are lost, and counted exactly.
      stats_.dropped_full.fetch_add(rows, std::memory_order_relaxed);
      return;
    }
    held_bytes_ += chunk.size();
    pending_rows_ += rows;
    // The thread wakes for a full batch, for the first rows (which start the flush_interval), and
    // when the buffer is half full (a burst faster than the interval).
    wake = pending_.empty() || pending_rows_ >= opt_.batch_rows || held_bytes_ >= opt_.max_buffer_bytes / 2;
    pending_.push_back({std::move(chunk), rows, std::chrono::steady_clock::now()});
    stats_.buffered_rows.fetch_add(rows, std::memory_order_relaxed);
    stats_.buffered_bytes.store(held_bytes_, std::memory_order_relaxed);
  }
  if (wake) cv_.notify_one();
}

void ClickHouseEvents::run() {
  using namespace std::chrono;
  ClickHouseHttp http(opt_);
  const auto interval = nanoseconds(std::max<std::int64_t>(opt_.flush_interval_ns, 0));
  milliseconds backoff{100};
  std::vector<Chunk> batch;  // taken from pending_, kept across failed attempts
  std::uint64_t batch_rows = 0, batch_bytes = 0;
  std::string answer, error;
  std::vector<std::string_view> parts;
  std::unique_lock lock(mu_);
  for (;;) {
    if (batch.empty()) {
      // A full batch goes at once, and so does a half-full buffer; a partial batch when its oldest
      // rows have waited flush_interval, or when the sink is closing.
      const auto ready = [&] {
        return stop_ || pending_rows_ >= opt_.batch_rows || held_bytes_ >= opt_.max_buffer_bytes / 2 ||
               (!pending_.empty() && steady_clock::now() - pending_.front().since >= interval);
      };
      while (!ready()) {
        if (pending_.empty()) {
          cv_.wait(lock);
        } else {
          cv_.wait_until(lock, pending_.front().since + interval);
        }
      }
      if (pending_.empty()) break;  // stop_ and nothing left
      while (!pending_.empty() && (batch.empty() || batch_rows + pending_.front().rows <= opt_.batch_rows)) {
        batch_rows += pending_.front().rows;
        batch_bytes += pending_.front().data.size();
        pending_rows_ -= pending_.front().rows;
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    busy_ = true;
    lock.unlock();
    parts.clear();
    for (const Chunk& c : batch) parts.emplace_back(c.data);
    const bool ok = http.post(query_, parts, answer, error);
    lock.lock();
    busy_ = false;
    if (ok) {
      stats_.inserted.fetch_add(batch_rows, std::memory_order_relaxed);
      stats_.batches.fetch_add(1, std::memory_order_relaxed);
      stats_.bytes.fetch_add(batch_bytes, std::memory_order_relaxed);
      stats_.buffered_rows.fetch_sub(batch_rows, std::memory_order_relaxed);
      held_bytes_ -= batch_bytes;
      stats_.buffered_bytes.store(held_bytes_, std::memory_order_relaxed);
      batch.clear();
      batch_rows = batch_bytes = 0;
      backoff = milliseconds{100};
      if (pending_.empty()) idle_.notify_all();
      continue;
    }
    // ClickHouse is down or refused the batch: keep it and try again, backing off up to 10 s
    // (new rows queue meanwhile, or are dropped once the buffer is full). When closing, retry
    // until close()'s deadline.
    stats_.failures.fetch_add(1, std::memory_order_relaxed);
    if (errors_) errors_->set("insert into " + opt_.database + "." + opt_.events_table + " failed: " + error);
    if (stop_ && steady_clock::now() >= deadline_) break;
    auto until = steady_clock::now() + backoff;
    if (stop_) until = std::min(until, deadline_);
    // close() cuts the wait short: one more attempt at once, then waits bounded by its deadline.
    const bool stopping = stop_;
    cv_.wait_until(lock, until, [&] { return stop_ != stopping; });
    if (stop_ && steady_clock::now() >= deadline_) break;
    backoff = std::min(backoff * 2, milliseconds{10'000});
  }
  // What could not be sent before the deadline.
  std::uint64_t left = batch_rows;
  for (const Chunk& c : pending_) left += c.rows;
  stats_.dropped_shutdown.fetch_add(left, std::memory_order_relaxed);
  stats_.buffered_rows.store(0, std::memory_order_relaxed);
  stats_.buffered_bytes.store(0, std::memory_order_relaxed);
  pending_.clear();
  pending_rows_ = 0;
  held_bytes_ = 0;
  idle_.notify_all();
}

void ClickHouseEvents::close(int timeout_ms) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  cv_.notify_all();
  thread_.join();
}

void ClickHouseBatcher::flush() {
  if (rows_ == 0) return;
  sink_->offer(std::move(buf_), rows_);
  buf_ = std::string();
  buf_.reserve(kChunk + 4096);
  rows_ = 0;
}

// ---- alerts --------------------------------------------------------------------------------------

namespace {

class ClickHouseAlerts final : public AlertOutput {
 public:
  ClickHouseAlerts(const ClickHouseOptions& o, const Observer& obs, std::shared_ptr<ClickHouseErrors> errors)
      : opt_(o), obs_(obs), errors_(std::move(errors)), http_(o) {
    name_ = "clickhouse:" + o.url + "/" + o.database + "." + o.alerts_table;
    query_ = "INSERT INTO `" + o.database + "`.`" + o.alerts_table + "` " + column_list(alert_columns()) +
             " FORMAT RowBinary";
  }
  std::string_view name() const noexcept override { return name_; }
  std::size_t max_batch() const noexcept override { return 1000; }
  bool deliver(const detect::Alert& a) override { return deliver_batch({&a, 1}); }
  bool deliver_batch(std::span<const detect::Alert> alerts) override {
    body_.clear();
    for (const auto& a : alerts) enc_.alert(a, opt_.observer_name, obs_.hostname, obs_.version, body_);
    const std::string_view part = body_;
    if (http_.post(query_, {&part, 1}, answer_, error_)) return true;
    if (errors_) errors_->set("insert into " + opt_.database + "." + opt_.alerts_table + " failed: " + error_);
    return false;
  }

 private:
  ClickHouseOptions opt_;
  Observer obs_;
  std::shared_ptr<ClickHouseErrors> errors_;
  ClickHouseHttp http_;
  RowEncoder enc_;
  std::string name_, query_, body_, answer_, error_;
};

}  // namespace

std::unique_ptr<AlertOutput> make_clickhouse_alert_output(const ClickHouseOptions& o, const Observer& obs,
                                                          std::shared_ptr<ClickHouseErrors> errors) {
  return std::make_unique<ClickHouseAlerts>(o, obs, std::move(errors));
}

}  // namespace dnsvigil::output
