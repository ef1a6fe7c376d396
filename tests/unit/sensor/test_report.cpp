// The HTML report: html_escape (every text from packets, alerts and the configuration goes through
// it), the page built from hostile names and fields, an empty run, and the bounded traffic
// aggregates (time series, heavy hitters, latency) with their merges.
#include <catch2/catch.hpp>

#include <cctype>
#include <map>
#include <set>
#include <random>
#include <string>

#include "dns_builder.hpp"
#include "frame_builder.hpp"
#include "parsed_event.hpp"
#include "dnsvigil/detect/detector.hpp"
#include "dnsvigil/output/report.hpp"
#include "dnsvigil/output/traffic.hpp"
#include "dnsvigil/sensor/names.hpp"

using namespace dnsvigil;
using namespace dnsvigil::test;
using output::html_escaped;
using sensor::kNanosPerSecond;
using sensor::Timestamp;

namespace {

// Well-formed UTF-8 (RFC 3629), checked independently of the escaper's own table.
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    const std::uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// Markup that must never come from data: a page holds exactly its own one <script> and <style>.
void check_inert(const std::string& page) {
  INFO(page.substr(0, 400));
  CHECK(valid_utf8(page));
  CHECK(count(page, "<script") == 1);
  CHECK(count(page, "<style") == 1);
  CHECK(page.find("\"x\"") == std::string::npos);  // the hostile quotes stay escaped
  CHECK(page.find("@import") == std::string::npos);
  CHECK(page.find("url(") == std::string::npos);
  // Every tag is one the builder writes: no data opened one.
  static const std::set<std::string> kTags = {
      "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "nav", "a",
      "main", "section", "div", "b", "span", "table", "thead", "tbody", "tr", "th", "td", "br", "ul", "li",
      "details", "summary", "dl", "dt", "dd", "svg", "g", "rect", "line", "circle", "text", "i", "script"};
  for (std::size_t at = page.find('<'); at != std::string::npos; at = page.find('<', at + 1)) {
    std::size_t end = at + 1;
    if (end < page.size() && page[end] == '/') ++end;
    const std::size_t from = end;
    while (end < page.size() && (std::isalnum(static_cast<unsigned char>(page[end])) || page[end] == '!')) ++end;
    const std::string tag = page.substr(from, end - from);
    if (kTags.count(tag) == 0) FAIL("unexpected tag <" << tag << "> at " << page.substr(at, 60));
    if (tag == "script" && page[at + 1] != '/') {  // the page's own script (its '<' are comparisons)
      at = page.find("</script>", at);
      continue;
    }
    // Every attribute is one the builder writes (no event handler, nothing loaded), and every
    // value is quoted: data stays inside the quotes.
    static const std::set<std::string> kAttrs = {
        "lang", "charset", "http-equiv", "content", "name", "class", "id", "data-v", "data-rule", "data-first",
        "href", "rel", "title", "viewBox", "width", "height", "role", "aria-label", "aria-hidden", "x", "y", "x1",
        "x2", "y1", "y2", "fill", "stroke", "text-anchor", "rx", "fill-opacity", "cx", "cy", "r", "nonce"};
    std::size_t i = end;
    while (i < page.size() && page[i] != '>') {
      if (std::isspace(static_cast<unsigned char>(page[i])) || page[i] == '/') {
        ++i;
        continue;
      }
      const std::size_t name_at = i;
      while (i < page.size() && page[i] != '=' && page[i] != '>' && !std::isspace(static_cast<unsigned char>(page[i])))
        ++i;
      const std::string attr = page.substr(name_at, i - name_at);
      if (kAttrs.count(attr) == 0 && tag != "!DOCTYPE") FAIL("unexpected attribute " << attr << " in <" << tag << ">");
      if (i < page.size() && page[i] == '=') {
        REQUIRE(page[i + 1] == '"');
        i = page.find('"', i + 2) + 1;
      }
    }
  }
}

// A query or response event over a real parsed message (points into itself: do not move).
struct Event : ParsedEvent {
  Event(Octets w, std::string_view client, std::string_view server, Timestamp ts) : ParsedEvent(std::move(w)) {
    ev.ts = ts;
    const bool response = msg.header().qr();
    ev.src = addr(response ? server : client);
    ev.dst = addr(response ? client : server);
    ev.sport = response ? 53 : 40000;
    ev.dport = response ? 40000 : 53;
  }
};

// A query for a name given label by label (octets as they are: '<', '"', 0xFF ...).
Octets query(std::initializer_list<std::string_view> labels, std::uint16_t type = 1) {
  Wire w;
  w.header(0x1234, 0x0100, 1, 0, 0, 0);
  for (const auto l : labels) w.cstr(l);
  w.u8(0).qtc(type);
  return w.b;
}

Octets response(std::initializer_list<std::string_view> labels, std::uint16_t rcode, std::uint16_t type = 1) {
  Wire w;
  w.header(0x1234, static_cast<std::uint16_t>(0x8180 | rcode), 1, 0, 0, 0);
  for (const auto l : labels) w.cstr(l);
  w.u8(0).qtc(type);
  return w.b;
}

const detect::RuleInfo& some_rule() { return *detect::all_rules().front(); }

}  // namespace

// ------------------------------------------------------------------------------------ escaping

TEST_CASE("report: html_escape makes markup, quotes and ampersands inert", "[report]") {
  CHECK(html_escaped("<script>alert(\"x\")</script>") == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  CHECK(html_escaped("a&b") == "a&amp;b");
  CHECK(html_escaped("&amp;") == "&amp;amp;");  // already-escaped text is shown as it was
  CHECK(html_escaped("it's") == "it&#39;s");
  CHECK(html_escaped("x\" onmouseover=\"y") == "x&quot; onmouseover=&quot;y");
  CHECK(html_escaped("plain.example.com") == "plain.example.com");
  CHECK(html_escaped("") == "");
  CHECK(html_escaped("tab\tand\nnewline") == "tab\tand\nnewline");
}

TEST_CASE("report: html_escape shows control octets and bytes that are not UTF-8 as \\xNN", "[report]") {
  // é, €, 😀 and U+10FFFF are kept.
  const std::string good = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
  CHECK(html_escaped(good) == good);
  CHECK(html_escaped(std::string_view("\x00\x01\x1f\x7f", 4)) == "\\x00\\x01\\x1F\\x7F");
  CHECK(html_escaped("\xFF\xFE") == "\\xFF\\xFE");
  CHECK(html_escaped("\x80") == "\\x80");                        // lone continuation
  CHECK(html_escaped("\xC3") == "\\xC3");                        // truncated
  CHECK(html_escaped("\xE2\x82") == "\\xE2\\x82");               // truncated 3-octet sequence
  CHECK(html_escaped("\xC0\xBC") == "\\xC0\\xBC");               // overlong '<': must not become '<'
  CHECK(html_escaped("\xE0\x80\xBC") == "\\xE0\\x80\\xBC");      // overlong '<', 3 octets
  CHECK(html_escaped("\xED\xA0\x80") == "\\xED\\xA0\\x80");      // UTF-16 surrogate
  CHECK(html_escaped("\xF4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");  // past U+10FFFF
  CHECK(html_escaped("a\xC3<b") == "a\\xC3&lt;b");               // bad continuation: '<' still escaped
  // Characters that reorder or hide text are shown by their number.
  CHECK(html_escaped("abc\xE2\x80\xAEgnp.exe") == "abc\\u+202Egnp.exe");  // RIGHT-TO-LEFT OVERRIDE
  CHECK(html_escaped("a\xE2\x80\x8B" "b") == "a\\u+200Bb");              // ZERO WIDTH SPACE
  CHECK(html_escaped("\xC2\x85") == "\\u+0085");                         // C1 control
}

TEST_CASE("report: every single octet and every pair escapes to valid UTF-8 without markup", "[report]") {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string in;
      in += static_cast<char>(a);
      in += static_cast<char>(b);
      const std::string out = html_escaped(in);
      if (!valid_utf8(out) || out.find_first_of("<>\"'") != std::string::npos) {
        FAIL("octets " << a << ", " << b << " gave " << out);
      }
    }
  }
  // Random strings of high octets.
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string in;
    for (int k = 0; k < 12; ++k) in += static_cast<char>(0x80 + rng() % 128);
    REQUIRE(valid_utf8(html_escaped(in)));
  }
}

// ------------------------------------------------------------------------------------ the page

TEST_CASE("report: names and fields from packets, alerts and the configuration come out inert", "[report]") {
  const std::string evil = "<script>alert(\"x\")</script>&'\xFF\xFE<img src=x onerror=alert(1)>";

  // Traffic from real messages whose question names hold markup, quotes, ampersands and
  // octets that are not UTF-8 (presentation form escapes some; the rest must be escaped here).
  output::Traffic tr;
  {
    const Event q(query({"<script>alert(\"x\")</script>", "a&b'c\xFF", "evil<img src=x>"}), "10.1.1.1", "10.0.0.53",
                  10 * kNanosPerSecond);
    tr.on_event(q.ev);
    const Event r(response({"<script>alert(\"x\")</script>", "a&b'c\xFF", "evil<img src=x>"}, 3), "10.1.1.1",
                  "10.0.0.53", 10 * kNanosPerSecond + 2'000'000);
    tr.on_event(r.ev);
  }
  // A registered domain's text straight into the table (what any name could leave there).
  tr.domains.add(42).first->payload.set(evil);

  output::AlertLog log(10);
  detect::Alert a;
  a.rule = &some_rule();
  a.ts = 11 * kNanosPerSecond;
  a.severity = detect::Severity::high;
  a.reason = "trigger: " + evil;
  a.has_client = a.has_server = true;
  a.client = addr("10.1.1.1");
  a.server = addr("10.0.0.53");
  a.transport = "udp" + evil;
  a.qname = evil;
  a.registered_domain = evil + ".com";
  a.qtype = 16;
  a.first_seen = 10 * kNanosPerSecond;
  a.last_seen = 11 * kNanosPerSecond;
  a.with("trigger", evil).with(evil, std::int64_t{3}).with("list", std::vector<std::string>{evil, "b"});
  a.samples = {evil, "ok.example"};
  a.intel.push_back({evil, evil, evil, "dns.question.name", "domain-name"});
  a.client_role = evil;
  a.related.push_back({"enumeration", evil, evil});
  log.add(a);
  detect::Alert s = a;
  s.summary = true;
  s.suppressed = 5;
  log.add(s);

  output::ReportInput in;
  in.hostname = evil;
  in.version = "0.1.0" + evil;
  in.generated = 1'700'000'000 * kNanosPerSecond;
  in.inputs = {evil + ".pcap"};
  in.capture.push_back({evil, 1, 2, 3});
  in.dnstap = {{evil, 4}};
  in.learned.clients.emplace_back(addr("10.1.1.1"), evil);
  in.learned.mail_servers = 1;
  in.detecting = true;
  in.per_rule[some_rule().name] = 2;
  in.alerts = &log;
  in.traffic = &tr;
  in.settings = {{"outputs.report.path", evil, "\"\""}, {evil, "1", "2"}};
  in.nonce = "abc";
  const std::string page = output::build_report(in);

  check_inert(page);
  CHECK(page.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\\xFF\\xFE&lt;img src=x") !=
        std::string::npos);
  // The question name went through the presentation form (octet 255 as \255) and the escaper.
  CHECK(page.find("a&amp;b&#39;c\\255") != std::string::npos);
  CHECK(page.find("alert-list") != std::string::npos);
  CHECK(page.find("nonce-abc") != std::string::npos);
}

TEST_CASE("report: an empty run gives a complete page", "[report]") {
  SECTION("nothing collected") {
    output::ReportInput in;
    const std::string page = output::build_report(in);
    check_inert(page);
    CHECK(page.starts_with("<!DOCTYPE html>"));
    CHECK(page.find("</html>") != std::string::npos);
    CHECK(page.find("No rule ran") != std::string::npos);
    CHECK(page.find("Not collected") != std::string::npos);
  }
  SECTION("rules and traffic on, nothing seen") {
    output::Traffic tr;
    output::AlertLog log;
    output::ReportInput in;
    in.detecting = true;
    in.traffic = &tr;
    in.alerts = &log;
    const std::string page = output::build_report(in);
    check_inert(page);
    CHECK(page.find("id=\"alert-count\" data-v=\"0\"") != std::string::npos);
    CHECK(page.find("No query seen") != std::string::npos);
    CHECK(page.find("<svg class=\"chart\"") == std::string::npos);  // no chart without data
    // Every rule is listed with 0.
    for (const auto* r : detect::all_rules())
      CHECK(page.find("data-rule=\"" + std::string(r->name) + "\"") != std::string::npos);
  }
  SECTION("random nonces differ") {
    output::ReportInput in;
    const std::string a = output::build_report(in), b = output::build_report(in);
    const auto nonce = [](const std::string& p) {
      const auto at = p.find("nonce-") + 6;
      return p.substr(at, p.find('\'', at) - at);
    };
    CHECK(nonce(a).size() >= 16);
    CHECK(nonce(a) != nonce(b));
  }
}

// ------------------------------------------------------------------------------------ aggregates

TEST_CASE("report: heavy hitters stay within their capacity and keep the frequent keys", "[report]") {
  output::HeavyHitters<output::AddrPayload> hh(64);
  const auto cap = hh.entries().capacity();
  std::map<std::uint64_t, std::uint64_t> truth;
  std::mt19937_64 rng(1);
  // 200 000 keys seen once (a flood of new names), and 4 heavy keys among them.
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t k = (i % 10 < 4) ? 1000 + static_cast<std::uint64_t>(i % 10) : rng() | (1ull << 40);
    hh.add(k);
    ++truth[k];
  }
  CHECK(hh.size() <= 64);
  CHECK(hh.entries().capacity() == cap);  // never reallocated
  CHECK(hh.total() == 200000);
  CHECK(hh.error() > 0);
  for (const auto& [k, n] : truth) {
    auto* e = hh.find(k);
    if (n > hh.error()) REQUIRE(e != nullptr);  // Misra-Gries: every key above the error is kept
    if (e != nullptr) {
      CHECK(e->count <= n);
      CHECK(e->count + hh.error() >= n);
    }
  }
  const auto top = hh.top(4);
  REQUIRE(top.size() == 4);
  for (const auto& e : top) CHECK((e.hash >= 1000 && e.hash < 1004));

  SECTION("exact while below capacity, and merging adds up") {
    output::HeavyHitters<output::AddrPayload> a(64), b(64);
    for (std::uint64_t k = 1; k <= 30; ++k) {
      a.add(k, k);
      b.add(k + 10, 2);
    }
    CHECK(a.error() == 0);
    a.merge(b);
    CHECK(a.error() == 0);
    CHECK(a.size() == 40);
    CHECK(a.find(15)->count == 15 + 2);
    CHECK(a.find(40)->count == 2);
    CHECK(a.total() == 465 + 60);
  }
}

TEST_CASE("report: traffic tables are bounded under a flood of clients and names", "[report]") {
  output::TrafficLimits limits;
  limits.clients = limits.domains = 128;
  limits.servers = 32;
  output::Traffic tr(limits);
  for (int i = 0; i < 20000; ++i) {
    const std::string label = "n" + std::to_string(i);
    const std::string client = "10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    const std::string server = "192.0.2." + std::to_string(i % 200 + 1);
    const Event q(query({"x", label, "com"}), client, server, (1000 + i) * kNanosPerSecond);
    tr.on_event(q.ev);
    const Event r(response({"x", label, "com"}, 3), client, server, (1000 + i) * kNanosPerSecond + 1'000'000);
    tr.on_event(r.ev);
  }
  CHECK(tr.clients.size() <= 128);
  CHECK(tr.domains.size() <= 128);
  CHECK(tr.servers.size() <= 32);
  CHECK(tr.queries_total == 20000);
  CHECK(tr.responses_total == 20000);
  CHECK(tr.nxdomain_total == 20000);
  CHECK(tr.rcodes[3] == 20000);
  CHECK(tr.qtypes[1] == 20000);
  CHECK(tr.queries.total() == 20000);
  CHECK(tr.queries.width() > kNanosPerSecond / 1000);  // 20 000 s in 240 bins: the bins widened
  CHECK(tr.first_ts == 1000 * kNanosPerSecond);
  CHECK(tr.last_ts == (1000 + 19999) * kNanosPerSecond + 1'000'000);
  // The page of a flooded run stays small: top tables, 240 bins.
  output::ReportInput in;
  in.traffic = &tr;
  in.top = 20;
  CHECK(output::build_report(in).size() < 200'000);
}

TEST_CASE("report: traffic of split shards merges to the traffic of one", "[report]") {
  output::Traffic all, one, two;
  for (int i = 0; i < 300; ++i) {
    const std::string client = "10.0.0." + std::to_string(i % 7 + 1);
    const std::string label = "d" + std::to_string(i % 11);
    const Timestamp t = (5000 + i * 37) * kNanosPerSecond;
    const Event q(query({label, "org"}, i % 5 == 0 ? 28 : 1), client, "10.0.0.53", t);
    Event r(response({label, "org"}, i % 3 == 0 ? 3 : 0), client, "10.0.0.53", t + 3'000'000);
    r.ev.matched = true;
    r.ev.query_ts = t;
    all.on_event(q.ev);
    all.on_event(r.ev);
    output::Traffic& shard = (i % 7) < 3 ? one : two;  // clients are sharded whole
    shard.on_event(q.ev);
    shard.on_event(r.ev);
  }
  one.merge(two);
  CHECK(one.queries_total == all.queries_total);
  CHECK(one.nxdomain_total == all.nxdomain_total);
  CHECK(one.qtypes == all.qtypes);
  CHECK(one.rcodes == all.rcodes);
  CHECK(one.queries.total() == all.queries.total());
  CHECK(one.first_ts == all.first_ts);
  CHECK(one.last_ts == all.last_ts);
  const auto axis = output::TimeSeries::common_axis(one.queries, all.queries);
  CHECK(one.queries.on_axis(axis.first, axis.second, 240) == all.queries.on_axis(axis.first, axis.second, 240));
  for (const auto& e : all.clients.entries()) CHECK(one.clients.find(e.hash)->count == e.count);
  for (const auto& e : all.domains.entries()) CHECK(one.domains.find(e.hash)->count == e.count);
  const auto* s = one.servers.find(all.servers.entries().front().hash);
  REQUIRE(s != nullptr);
  CHECK(s->payload.latency.count == 300);
  CHECK(one.latency.count == 300);
  // 3 ms: interpolated inside [2.048, 4.096) ms.
  CHECK(one.latency.quantile(0.5) >= 2'048'000);
  CHECK(one.latency.quantile(0.5) < 4'096'000);
}

TEST_CASE("report: a time series keeps every count as its bins widen and merge", "[report]") {
  output::TimeSeries ts;
  std::uint64_t n = 0;
  // Out of order, across ten days, with a time before the first one.
  for (const Timestamp t : {Timestamp{100}, Timestamp{50}, Timestamp{10 * 86400}, Timestamp{0}, Timestamp{3600},
                            Timestamp{7}, Timestamp{-5}})
    for (int k = 0; k < 3; ++k, ++n) ts.add(t * kNanosPerSecond + k);
  CHECK(ts.total() == n);
  std::uint64_t sum = 0;
  for (const auto v : ts.bins()) sum += v;
  CHECK(sum == n);
  CHECK(ts.start() % ts.width() == 0);
  CHECK(ts.first() == 0);
  CHECK(ts.last() == 10 * 86400 * kNanosPerSecond + 2);
  CHECK(ts.last() - ts.start() < static_cast<Timestamp>(output::TimeSeries::kBins) * ts.width());

  output::TimeSeries narrow;
  narrow.add(86400 * kNanosPerSecond);
  narrow.merge(ts);
  CHECK(narrow.total() == n + 1);
  std::uint64_t on_axis = 0;
  for (const auto v : narrow.on_axis(narrow.start(), narrow.width(), output::TimeSeries::kBins)) on_axis += v;
  CHECK(on_axis == n + 1);
}

TEST_CASE("report: the alert log keeps the most severe alerts and counts the rest", "[report]") {
  output::AlertLog log(3);
  for (int i = 0; i < 5; ++i) {
    detect::Alert a;
    a.rule = &some_rule();
    a.ts = i * kNanosPerSecond;
    a.severity = detect::Severity::low;
    a.reason = "low " + std::to_string(i);
    log.add(a);
  }
  detect::Alert high;
  high.rule = &some_rule();
  high.ts = 9 * kNanosPerSecond;
  high.severity = detect::Severity::high;
  high.reason = "high";
  log.add(high);
  REQUIRE(log.alerts().size() == 3);
  CHECK(log.not_listed() == 3);
  CHECK(log.alerts().back().reason == "high");
  CHECK(log.alerts().front().reason == "low 1");  // the oldest low one made room
  CHECK(log.timelines().at(some_rule().name).total() == 6);
}
