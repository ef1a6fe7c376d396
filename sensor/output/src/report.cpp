#include "dnsvigil/output/report.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <stdexcept>

#include "dnsvigil/detect/detector.hpp"
#include "dnsvigil/dnsparse/error.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/types.hpp"
#include "dnsvigil/output/alert_json.hpp"
#include "dnsvigil/output/alert_text.hpp"

namespace dnsvigil::output {

// ---- escaping -------------------------------------------------------------------------------

namespace {

void hex_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629, table 3-7 of Unicode), 0 if none.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  const std::size_t left = s.size() - i;
  const auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < left && at(i + k) >= lo && at(i + k) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no UTF-16 surrogates
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// Characters that reorder or hide text (bidirectional controls, zero-width marks): a name using
// them could display as another name, so they are shown as \u+XXXX.
bool deceptive(std::uint32_t cp) noexcept {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
         cp == 0x061C || (cp >= 0x200B && cp <= 0x200D) || cp == 0xFEFF || (cp >= 0x80 && cp <= 0x9F);
}

std::uint32_t code_point(std::string_view s, std::size_t i, std::size_t n) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (n) {
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

}  // namespace

void html_escape(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        case '\t':
        case '\n': out += static_cast<char>(c); break;
        default:
          if (c < 0x20 || c == 0x7F) {
            hex_escape(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      hex_escape(out, c);
      ++i;
      continue;
    }
    if (const std::uint32_t cp = code_point(text, i, n); deceptive(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u+%04X", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
}

std::string html_escaped(std::string_view text) {
  std::string out;
  html_escape(out, text);
  return out;
}

// ---- alert log ------------------------------------------------------------------------------

void AlertLog::add(const detect::Alert& a) {
  timelines_[a.rule->name].add(a.ts);
  if (alerts_.size() < max_) {
    alerts_.push_back(a);
    return;
  }
  ++not_listed_;
  if (alerts_.empty()) return;
  const auto lowest = std::min_element(alerts_.begin(), alerts_.end(), [](const auto& x, const auto& y) {
                        return x.severity < y.severity;
                      })->severity;
  if (a.severity <= lowest) return;
  // The oldest of the lowest severity makes room (alerts are rare: a linear pass is fine).
  alerts_.erase(std::find_if(alerts_.begin(), alerts_.end(), [&](const auto& x) { return x.severity == lowest; }));
  alerts_.push_back(a);
}

// ---- page -----------------------------------------------------------------------------------

namespace {

using detect::Alert;
using detect::Severity;

// Numbers with a narrow no-break space between groups of three digits.
std::string num(std::uint64_t v) {
  std::string d = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i != 0 && (d.size() - i) % 3 == 0) out += "\u202F";
    out += d[i];
  }
  return out;
}

std::string fixed(double v, int decimals) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "–";
  const double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  return fixed(p, p < 10 ? 2 : 1) + "\u00A0%";
}

// "2024-01-31 12:00:00.123" (UTC); `date` false leaves the date out, `millis` false the milliseconds.
std::string clock_text(Timestamp ts, bool date = true, bool millis = true) {
  const std::time_t secs = static_cast<std::time_t>(ts / sensor::kNanosPerSecond);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char b[64];
  std::strftime(b, sizeof b, date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
  std::string out = b;
  if (millis) {
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>((ts % sensor::kNanosPerSecond) / 1'000'000));
    out += ms;
  }
  return out;
}

// A latency or a short span: "850 µs", "12.4 ms", "1.25 s".
std::string latency_text(Timestamp ns) {
  const double v = static_cast<double>(ns);
  if (ns < 1'000'000) return fixed(v / 1e3, 0) + "\u00A0µs";
  if (ns < sensor::kNanosPerSecond) return fixed(v / 1e6, v < 1e7 ? 2 : 1) + "\u00A0ms";
  return fixed(v / 1e9, 2) + "\u00A0s";
}

// A duration in words: "3.2 s", "4 min 10 s", "2 h 5 min", "3 d 4 h".
std::string span_text(double seconds) {
  if (seconds < 60) return fixed(seconds, seconds < 10 ? 3 : 1) + "\u00A0s";
  const auto s = static_cast<std::uint64_t>(seconds);
  if (s < 3600) return std::to_string(s / 60) + "\u00A0min " + std::to_string(s % 60) + "\u00A0s";
  if (s < 86400) return std::to_string(s / 3600) + "\u00A0h " + std::to_string(s % 3600 / 60) + "\u00A0min";
  return std::to_string(s / 86400) + "\u00A0d " + std::to_string(s % 86400 / 3600) + "\u00A0h";
}

std::string random_nonce() {
  std::random_device rd;
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (int i = 0; i < 22; ++i) out += kB64[rd() % 64];
  return out;
}

// The page under construction: t() escapes, raw() is markup written here.
class Page {
 public:
  Page& raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Page& t(std::string_view s) {
    html_escape(out_, s);
    return *this;
  }
  Page& n(std::uint64_t v) { return raw(num(v)); }
  // A right-aligned number cell that sorts by its value.
  Page& num_cell(std::uint64_t v) {
    return raw("<td class=\"n\" data-v=\"").raw(std::to_string(v)).raw("\">").n(v).raw("</td>");
  }
  Page& cell(std::string_view text, std::string_view cls = {}) {
    raw(cls.empty() ? "<td>" : "<td class=\"");
    if (!cls.empty()) raw(cls).raw("\">");
    return t(text).raw("</td>");
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

constexpr std::string_view kStyle = R"css(
:root{--fg:#1d2330;--muted:#5b6476;--line:#d9dde5;--bg:#f5f6f8;--card:#fff;--accent:#2f5d9e;
--low:#5f7f1f;--medium:#b07400;--high:#c8481e;--critical:#a3112f;--q:#4c78a8;--nx:#e45756}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1f2a3c;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#c9d1de}
header nav{margin-top:8px}
header nav a{color:#9cc3ff;margin-right:16px;text-decoration:none}
main{max-width:1320px;margin:0 auto;padding:4px 24px 40px}
section{margin-top:22px}
h2{font-size:18px;margin:0 0 10px;border-bottom:2px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
p{margin:6px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:7px 12px;min-width:118px}
.card b{display:block;font-size:19px;font-weight:600;font-variant-numeric:tabular-nums}
.card span{color:var(--muted);font-size:12px}
table{border-collapse:collapse;background:var(--card);border:1px solid var(--line);font-size:13px;margin:4px 0}
table.wide{width:100%}
th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{background:#e2e7ef}
th[aria-sort=ascending]::after{content:" \25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \25BC";font-size:10px}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px;white-space:nowrap}
.brk{white-space:normal;overflow-wrap:anywhere}
.msg{min-width:200px;max-width:340px}
.addr{min-width:104px}.qn{min-width:120px}
.scroll{overflow-x:auto}
.sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px;font-weight:600}
.sev-low{background:var(--low)}.sev-medium{background:var(--medium)}.sev-high{background:var(--high)}.sev-critical{background:var(--critical)}
.muted,.note{color:var(--muted)}
.note{font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:6px 20px}
.grid>div{min-width:0}
svg.chart{display:block;width:100%;max-width:1180px;height:auto;background:var(--card);border:1px solid var(--line);border-radius:4px}
svg text{font-size:11px;fill:#5b6476;font-family:system-ui,sans-serif}
svg.bar{vertical-align:middle}
ul.plain{margin:0;padding-left:16px}
dl.ev{margin:0;display:grid;grid-template-columns:max-content minmax(80px,1fr);gap:0 8px;font-size:12px}
dl.ev dt{color:var(--muted)}dl.ev dd{margin:0}
details summary{cursor:pointer;color:var(--accent);margin:6px 0}
td details summary{margin:0;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:baseline}
.lq{background:var(--q)}.lnx{background:var(--nx)}
.changed td:first-child{font-weight:600}
)css";

// Sorts a table on a click of its heading (numbers by data-v, text otherwise), and marks the
// page ready (the browser test checks the script ran).
constexpr std::string_view kScript = R"js(
(function () {
  function key(td) {
    var v = td.getAttribute('data-v');
    return v === null ? td.textContent.trim().toLowerCase() : parseFloat(v);
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var now = th.getAttribute('aria-sort');
        var asc = now ? now === 'descending' : th.getAttribute('data-first') !== 'desc';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          var r = x < y ? -1 : x > y ? 1 : 0;
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); }
      });
    });
  });
  document.documentElement.setAttribute('data-ready', '1');
})();
)js";

std::string_view sev_class(Severity s) {
  switch (s) {
    case Severity::low: return "sev sev-low";
    case Severity::medium: return "sev sev-medium";
    case Severity::high: return "sev sev-high";
    case Severity::critical: return "sev sev-critical";
  }
  return "sev";
}

std::string_view sev_color(Severity s) {
  switch (s) {
    case Severity::low: return "#5f7f1f";
    case Severity::medium: return "#b07400";
    case Severity::high: return "#c8481e";
    case Severity::critical: return "#a3112f";
  }
  return "#888";
}

// A card: a big figure and what it is.
void card(Page& p, std::string_view id, const std::string& value, std::string_view what, std::uint64_t v) {
  p.raw("<div class=\"card\"><b id=\"").raw(id).raw("\" data-v=\"").raw(std::to_string(v)).raw("\">").t(value);
  p.raw("</b><span>").t(what).raw("</span></div>");
}

// A horizontal bar (share of `max`) inside a table cell.
void bar(Page& p, std::uint64_t v, std::uint64_t max, std::string_view color = "#4c78a8") {
  const double w = max == 0 ? 0 : 110.0 * static_cast<double>(v) / static_cast<double>(max);
  p.raw("<svg class=\"bar\" width=\"110\" height=\"10\" viewBox=\"0 0 110 10\" aria-hidden=\"true\"><rect x=\"0\" y=\"1\" width=\"");
  p.raw(fixed(std::max(w, v != 0 ? 1.0 : 0.0), 1)).raw("\" height=\"8\" fill=\"").raw(color).raw("\"/></svg>");
}

// ---- time axis ----

struct Axis {
  Timestamp start = 0, width = 1;
  std::size_t bins = 0;
  [[nodiscard]] bool empty() const noexcept { return bins == 0; }
};

Axis make_axis(const ReportInput& in) {
  TimeSeries all;
  if (in.traffic != nullptr) {
    all.merge(in.traffic->queries);
    all.merge(in.traffic->nxdomain);
  }
  if (in.alerts != nullptr)
    for (const auto& [rule, series] : in.alerts->timelines()) all.merge(series);
  if (all.empty()) return {};
  Axis a{all.start(), all.width(), 0};
  a.bins = std::min<std::size_t>(TimeSeries::kBins, static_cast<std::size_t>((all.last() - a.start) / a.width) + 1);
  return a;
}

constexpr double kPlotLeft = 150, kPlotWidth = 1000;  // in the charts' viewBox, 1170 wide

double x_of(const Axis& a, double bin) { return kPlotLeft + kPlotWidth * bin / static_cast<double>(a.bins); }

// Time labels under a plot at `y`.
void time_ticks(Page& p, const Axis& a, double y) {
  const Timestamp span = a.width * static_cast<Timestamp>(a.bins);
  const bool millis = span < 20 * sensor::kNanosPerSecond;
  for (int k = 0; k <= 4; ++k) {
    const Timestamp t = a.start + span * k / 4;
    const double x = kPlotLeft + kPlotWidth * k / 4.0;
    p.raw("<line x1=\"").raw(fixed(x, 1)).raw("\" x2=\"").raw(fixed(x, 1)).raw("\" y1=\"").raw(fixed(y - 4, 1));
    p.raw("\" y2=\"").raw(fixed(y, 1)).raw("\" stroke=\"#9aa3b2\"/>");
    p.raw("<text x=\"").raw(fixed(x, 1)).raw("\" y=\"").raw(fixed(y + 12, 1)).raw("\" text-anchor=\"");
    p.raw(k == 0 ? "start" : k == 4 ? "end" : "middle").raw("\">").t(clock_text(t, k == 0, millis)).raw("</text>");
  }
}

std::string bin_title(const Axis& a, std::size_t i) {
  const Timestamp t0 = a.start + a.width * static_cast<Timestamp>(i);
  return clock_text(t0) + " – " + clock_text(t0 + a.width, false);
}

void queries_chart(Page& p, const Axis& a, const Traffic& tr) {
  const auto q = tr.queries.on_axis(a.start, a.width, a.bins);
  const auto nx = tr.nxdomain.on_axis(a.start, a.width, a.bins);
  std::uint64_t max = 1;
  for (std::size_t i = 0; i < a.bins; ++i) max = std::max({max, q[i], nx[i]});
  constexpr double kTop = 10, kHeight = 170;
  p.raw("<svg class=\"chart\" id=\"chart-queries\" viewBox=\"0 0 1170 210\" role=\"img\" aria-label=\"Queries over time\">");
  for (int k = 0; k <= 2; ++k) {
    const double y = kTop + kHeight * (1 - k / 2.0);
    p.raw("<line x1=\"").raw(fixed(kPlotLeft, 0)).raw("\" x2=\"").raw(fixed(kPlotLeft + kPlotWidth, 0)).raw("\" y1=\"");
    p.raw(fixed(y, 1)).raw("\" y2=\"").raw(fixed(y, 1)).raw("\" stroke=\"#e3e6ec\"/>");
    p.raw("<text x=\"").raw(fixed(kPlotLeft - 6, 0)).raw("\" y=\"").raw(fixed(y + 4, 1)).raw("\" text-anchor=\"end\">");
    p.n(max * static_cast<std::uint64_t>(k) / 2).raw("</text>");
  }
  const double bw = kPlotWidth / static_cast<double>(a.bins);
  for (std::size_t i = 0; i < a.bins; ++i) {
    if (q[i] == 0 && nx[i] == 0) continue;
    const double x = x_of(a, static_cast<double>(i)) + (bw > 3 ? 0.5 : 0);
    const double w = std::max(bw - (bw > 3 ? 1 : 0), 0.8);
    p.raw("<g><title>").t(bin_title(a, i)).raw(": ").n(q[i]).raw(" queries, ").n(nx[i]).raw(" NXDOMAIN</title>");
    for (const auto& [v, color] : {std::pair{q[i], "#4c78a8"}, std::pair{nx[i], "#e45756"}}) {
      if (v == 0) continue;
      const double h = std::max(kHeight * static_cast<double>(v) / static_cast<double>(max), 1.0);
      p.raw("<rect x=\"").raw(fixed(x, 2)).raw("\" y=\"").raw(fixed(kTop + kHeight - h, 2)).raw("\" width=\"");
      p.raw(fixed(w, 2)).raw("\" height=\"").raw(fixed(h, 2)).raw("\" fill=\"").raw(color).raw("\"/>");
    }
    p.raw("</g>");
  }
  time_ticks(p, a, kTop + kHeight + 14);
  p.raw("<text x=\"").raw(fixed(kPlotLeft - 6, 0)).raw("\" y=\"").raw(fixed(kTop + kHeight + 26, 0));
  p.raw("\" text-anchor=\"end\">UTC</text></svg>");
}

void alert_timeline(Page& p, const Axis& a, const AlertLog& log) {
  const auto& lines = log.timelines();
  if (lines.empty() || a.empty()) return;
  // The colour of a rule's row: the highest severity among its listed alerts.
  std::map<std::string_view, Severity> worst;
  for (const Alert& al : log.alerts()) {
    auto [it, fresh] = worst.emplace(al.rule->name, al.severity);
    if (!fresh && al.severity > it->second) it->second = al.severity;
  }
  constexpr double kRow = 24, kTop = 6;
  const double height = kTop + kRow * static_cast<double>(lines.size()) + 34;
  p.raw("<svg class=\"chart\" id=\"chart-alerts\" viewBox=\"0 0 1170 ").raw(fixed(height, 0));
  p.raw("\" role=\"img\" aria-label=\"Alerts over time, per rule\">");
  std::uint64_t max = 1;
  std::vector<std::vector<std::uint64_t>> rows;
  for (const auto& [rule, series] : lines) {
    rows.push_back(series.on_axis(a.start, a.width, a.bins));
    for (const auto v : rows.back()) max = std::max(max, v);
  }
  const double bw = kPlotWidth / static_cast<double>(a.bins);
  std::size_t r = 0;
  for (const auto& [rule, series] : lines) {
    const double y = kTop + kRow * static_cast<double>(r);
    const auto w = worst.find(rule);
    const std::string_view color = w == worst.end() ? "#6b7280" : sev_color(w->second);
    p.raw("<g data-rule=\"").t(rule).raw("\"><text x=\"").raw(fixed(kPlotLeft - 8, 0)).raw("\" y=\"");
    p.raw(fixed(y + 15, 1)).raw("\" text-anchor=\"end\">").t(rule).raw(" (").n(series.total()).raw(")</text>");
    p.raw("<line x1=\"").raw(fixed(kPlotLeft, 0)).raw("\" x2=\"").raw(fixed(kPlotLeft + kPlotWidth, 0)).raw("\" y1=\"");
    p.raw(fixed(y + 11, 1)).raw("\" y2=\"").raw(fixed(y + 11, 1)).raw("\" stroke=\"#e3e6ec\"/>");
    for (std::size_t i = 0; i < a.bins; ++i) {
      const std::uint64_t v = rows[r][i];
      if (v == 0) continue;
      const double opacity = 0.35 + 0.65 * std::sqrt(static_cast<double>(v) / static_cast<double>(max));
      p.raw("<rect x=\"").raw(fixed(x_of(a, static_cast<double>(i)), 2)).raw("\" y=\"").raw(fixed(y + 3, 1));
      p.raw("\" width=\"").raw(fixed(std::max(bw, 3.0), 2)).raw("\" height=\"16\" rx=\"2\" fill=\"").raw(color);
      p.raw("\" fill-opacity=\"").raw(fixed(opacity, 2)).raw("\"><title>").t(rule).raw(": ").n(v).raw(" alert");
      p.raw(v == 1 ? "" : "s").raw(", ").t(bin_title(a, i)).raw("</title></rect>");
    }
    p.raw("</g>");
    ++r;
  }
  time_ticks(p, a, kTop + kRow * static_cast<double>(lines.size()) + 10);
  p.raw("</svg>");
}

// ---- sections ----

void run_header(Page& p, const ReportInput& in) {
  p.raw("<header><h1>dnsvigil report");
  if (!in.hostname.empty()) p.raw(" — ").t(in.hostname);
  p.raw("</h1><p>");
  p.t(in.live ? "Live sensor" : "Replay").raw(", ");
  p.t(in.final ? "end of the run" : "while running").raw("; written ").t(clock_text(in.generated, true, false));
  p.raw(" UTC by dnsvigil ").t(in.version).raw(" after ").t(span_text(in.seconds)).raw("</p>");
  p.raw("<nav><a href=\"#capture\">Capture</a><a href=\"#alerts\">Alerts</a><a href=\"#traffic\">Traffic</a>");
  p.raw("<a href=\"#configuration\">Configuration</a></nav></header>");
}

std::uint64_t alerts_total(const ReportInput& in) {
  std::uint64_t n = 0;
  for (const auto& [rule, count] : in.per_rule) n += count;
  return n;
}

void capture_section(Page& p, const ReportInput& in) {
  using sensor::Counter;
  const auto& c = in.counters;
  p.raw("<section id=\"capture\"><h2>Capture</h2>");
  p.raw("<p>").t(in.live ? "Inputs: " : (in.inputs.size() == 1 ? "File: " : "Files: "));
  for (std::size_t i = 0; i < in.inputs.size(); ++i) {
    if (i != 0) p.raw(", ");
    p.raw("<span class=\"mono\">").t(in.inputs[i]).raw("</span>");
  }
  if (in.inputs.empty()) p.raw("<span class=\"muted\">none</span>");
  p.raw("</p>");
  if (in.traffic != nullptr && in.traffic->first_ts <= in.traffic->last_ts) {
    const auto* tr = in.traffic;
    p.raw("<p>Packet time <span id=\"time-first\">").t(clock_text(tr->first_ts)).raw("</span> to <span id=\"time-last\">");
    p.t(clock_text(tr->last_ts)).raw("</span> UTC (").t(span_text(static_cast<double>(tr->last_ts - tr->first_ts) / 1e9));
    p.raw(")</p>");
  }
  p.raw("<div class=\"cards\">");
  card(p, "packets", num(c.get(Counter::packets)), "packets", c.get(Counter::packets));
  card(p, "dns-messages", num(c.get(Counter::dns_messages)), "DNS messages", c.get(Counter::dns_messages));
  card(p, "dns-queries", num(c.get(Counter::dns_queries)), "queries", c.get(Counter::dns_queries));
  card(p, "dns-responses", num(c.get(Counter::dns_responses)), "responses", c.get(Counter::dns_responses));
  card(p, "tx-unanswered", num(c.get(Counter::tx_unanswered)), "unanswered queries", c.get(Counter::tx_unanswered));
  card(p, "alerts-total", num(alerts_total(in)), "alerts", alerts_total(in));
  if (in.traffic != nullptr) {
    const auto* tr = in.traffic;
    card(p, "nxdomain-share", percent(tr->nxdomain_total, tr->responses_total), "NXDOMAIN responses",
         tr->nxdomain_total);
    card(p, "latency-median", tr->latency.count == 0 ? "–" : latency_text(tr->latency.quantile(0.5)),
         "median response latency", static_cast<std::uint64_t>(tr->latency.quantile(0.5)));
  }
  p.raw("</div>");
  p.raw("<p class=\"note\">").n(c.get(Counter::bytes)).raw(" octets; ").n(c.get(Counter::tx_matched));
  p.raw(" responses matched to their query, ").n(c.get(Counter::tx_unsolicited)).raw(" unsolicited; ");
  p.n(c.get(Counter::frag_fragments)).raw(" IP fragments (").n(c.get(Counter::frag_reassembled));
  p.raw(" datagrams reassembled); ").n(c.get(Counter::tcp_segments)).raw(" TCP segments in ");
  p.n(c.get(Counter::tcp_streams)).raw(" streams.</p>");
  for (const auto& s : in.capture) {
    p.raw("<p>Interface <span class=\"mono\">").t(s.name).raw("</span>: ").n(s.received).raw(" packets received, ");
    p.n(s.dropped).raw(" dropped by the kernel, ").n(s.if_dropped).raw(" by the interface.</p>");
  }
  if (!in.dnstap.empty()) {
    p.raw("<p>dnstap:");
    for (const auto& [what, v] : in.dnstap) p.raw(" ").n(v).raw(" ").t(what).raw(";");
    p.raw("</p>");
  }

  p.raw("<div class=\"grid\"><div><h3>Decode and drop counters</h3>");
  p.raw("<table class=\"sortable wide\" id=\"counters\"><thead><tr><th>counter</th><th class=\"n\" data-first=\"desc\">count</th>");
  p.raw("<th>what it counts</th></tr></thead><tbody>");
  for (std::size_t i = 0; i < sensor::kCounterCount; ++i) {
    if (c.values[i] == 0) continue;
    const auto k = static_cast<Counter>(i);
    p.raw("<tr>").cell(sensor::counter_id(k), "mono").num_cell(c.values[i]).cell(sensor::counter_help(k)).raw("</tr>");
  }
  p.raw("</tbody></table>");
  bool errors = false;
  for (std::size_t i = 1; i < c.parse_errors.size(); ++i) errors = errors || c.parse_errors[i] != 0;
  if (errors) {
    p.raw("<h3>Parse errors (messages dropped)</h3><table class=\"sortable\" id=\"parse-errors\"><thead><tr><th>reason</th>");
    p.raw("<th class=\"n\" data-first=\"desc\">messages</th></tr></thead><tbody>");
    for (std::size_t i = 1; i < c.parse_errors.size(); ++i) {
      if (c.parse_errors[i] == 0) continue;
      p.raw("<tr>").cell(dnsparse::error_id(static_cast<dnsparse::Error>(i)), "mono").num_cell(c.parse_errors[i]);
      p.raw("</tr>");
    }
    p.raw("</tbody></table>");
  }
  p.raw("</div><div><h3>Anomalies</h3>");
  bool anomalies = false;
  for (const auto v : c.anomalies) anomalies = anomalies || v != 0;
  if (!anomalies) {
    p.raw("<p class=\"muted\">No message had an anomaly.</p>");
  } else {
    p.raw("<table class=\"sortable wide\" id=\"anomalies\"><thead><tr><th>anomaly</th><th class=\"n\" data-first=\"desc\">");
    p.raw("messages</th></tr></thead><tbody>");
    for (std::size_t i = 0; i < c.anomalies.size(); ++i) {
      if (c.anomalies[i] == 0) continue;
      p.raw("<tr>").cell(dnsparse::anomaly_id(static_cast<dnsparse::Anomaly>(i)), "mono").num_cell(c.anomalies[i]);
      p.raw("</tr>");
    }
    p.raw("</tbody></table>");
  }

  const auto& l = in.learned;
  p.raw("<h3>Resolvers</h3>");
  if (l.resolvers_configured) {
    p.raw("<p>Configured (<span class=\"mono\">network.resolvers</span>).</p>");
  } else if (l.resolvers.empty()) {
    p.raw("<p class=\"muted\">None configured and none learned yet (").n(l.internal_resolvers);
    p.raw(" internal servers learned as resolvers).</p>");
  } else {
    p.raw("<p>Learned from traffic (none configured); ").n(l.internal_resolvers);
    p.raw(" internal servers learned as resolvers. De-facto resolvers:</p>");
    p.raw("<table id=\"resolvers\"><thead><tr><th>server</th><th class=\"n\">internal clients</th></tr></thead><tbody>");
    for (const auto& [server, clients] : l.resolvers) {
      p.raw("<tr>").cell(server.text(), "mono").num_cell(static_cast<std::uint64_t>(clients + 0.5)).raw("</tr>");
    }
    p.raw("</tbody></table><p class=\"note\">Pin them with <span class=\"mono\">network.resolvers: [");
    for (std::size_t i = 0; i < l.resolvers.size(); ++i) p.raw(i == 0 ? "" : ", ").t(l.resolvers[i].first.text());
    p.raw("]</span>.</p>");
  }
  p.raw("<h3>Client roles learned</h3>");
  if (l.mail_servers + l.monitoring + l.container_nodes == 0) {
    p.raw("<p class=\"muted\">None.</p>");
  } else {
    p.raw("<p>mail_server ").n(l.mail_servers).raw(", monitoring ").n(l.monitoring).raw(", container_node ");
    p.n(l.container_nodes).raw("</p><table id=\"roles\"><thead><tr><th>client</th><th>roles</th></tr></thead><tbody>");
    for (const auto& [client, roles] : l.clients) p.raw("<tr>").cell(client.text(), "mono").cell(roles).raw("</tr>");
    p.raw("</tbody></table>");
    const std::size_t all = l.mail_servers + l.monitoring + l.container_nodes;
    if (l.clients.size() < all) p.raw("<p class=\"note\">The first ").n(l.clients.size()).raw(" are listed.</p>");
  }
  p.raw("</div></div></section>");
}

// The technique (sub-technique when there is one) as a link, and the tactic (shown, or in the
// link's title only).
void mitre_cell(Page& p, const detect::RuleInfo& r, bool tactic = true) {
  const std::string_view id = r.mitre.subtechnique_id.empty() ? r.mitre.technique_id : r.mitre.subtechnique_id;
  const std::string_view name = r.mitre.subtechnique_id.empty() ? r.mitre.technique_name : r.mitre.subtechnique_name;
  p.raw("<td><a href=\"").t(mitre_url(id)).raw("\" rel=\"noreferrer\" title=\"").t(name);
  if (!tactic) p.raw(" (").t(r.mitre.tactic_id).raw(" ").t(r.mitre.tactic_name).raw(")");
  p.raw("\">").t(id).raw("</a>");
  if (tactic)
    p.raw(" <span class=\"muted\" title=\"").t(r.mitre.tactic_name).raw("\">").t(r.mitre.tactic_id).raw("</span>");
  p.raw("</td>");
}


void alerts_section(Page& p, const ReportInput& in, const Axis& axis) {
  p.raw("<section id=\"alerts\"><h2>Alerts</h2>");
  if (!in.detecting) {
    p.raw("<p class=\"muted\">No rule ran: no alert output was configured.</p></section>");
    return;
  }
  const std::uint64_t total = alerts_total(in);
  p.raw("<p><b id=\"alert-count\" data-v=\"").raw(std::to_string(total)).raw("\">").n(total).raw("</b> alert");
  p.raw(total == 1 ? "" : "s").raw(" (summaries included); ").n(in.suppressed).raw(" repeats folded into summaries, ");
  p.n(in.folded).raw(" attached to related alerts, ").n(in.role_explained).raw(" explained by a learned role, ");
  p.n(in.output_dropped).raw(" dropped by outputs.</p>");

  // Per rule: every rule, so a quiet one shows as 0.
  std::map<std::string_view, std::uint64_t> listed, summaries;
  if (in.alerts != nullptr)
    for (const Alert& a : in.alerts->alerts()) {
      ++listed[a.rule->name];
      if (a.summary) ++summaries[a.rule->name];
    }
  p.raw("<table class=\"sortable\" id=\"rules\"><thead><tr><th>rule</th><th>id</th><th>MITRE ATT&amp;CK</th>");
  p.raw("<th class=\"n\" data-first=\"desc\">alerts</th><th class=\"n\" data-first=\"desc\">summaries</th><th>description</th>");
  p.raw("</tr></thead><tbody>");
  for (const detect::RuleInfo* r : detect::all_rules()) {
    const auto it = in.per_rule.find(r->name);
    const std::uint64_t n = it == in.per_rule.end() ? 0 : it->second;
    p.raw(n == 0 ? "<tr class=\"muted\" data-rule=\"" : "<tr data-rule=\"").t(r->name).raw("\">");
    p.cell(r->name, "mono").cell(r->id, "mono");
    mitre_cell(p, *r);
    p.raw("<td class=\"n count\" data-v=\"").raw(std::to_string(n)).raw("\">").n(n).raw("</td>");
    p.num_cell(summaries[r->name]).cell(r->description).raw("</tr>");
  }
  // Rules the table above does not know (none today) still show their counts.
  for (const auto& [rule, n] : in.per_rule) {
    bool known = false;
    for (const detect::RuleInfo* r : detect::all_rules()) known = known || r->name == rule;
    if (known) continue;
    p.raw("<tr data-rule=\"").t(rule).raw("\">").cell(rule, "mono").raw("<td></td><td></td>");
    p.raw("<td class=\"n count\" data-v=\"").raw(std::to_string(n)).raw("\">").n(n).raw("</td>");
    p.num_cell(summaries[rule]).raw("<td></td></tr>");
  }
  p.raw("</tbody></table>");
  if (total == 0 || in.alerts == nullptr) {
    p.raw("</section>");
    return;
  }

  p.raw("<h3>Timeline</h3>");
  alert_timeline(p, axis, *in.alerts);

  const auto& list = in.alerts->alerts();
  p.raw("<h3>Alert list</h3><p class=\"note\">");
  if (in.alerts->not_listed() != 0) {
    p.n(list.size()).raw(" listed, ").n(in.alerts->not_listed()).raw(" more not listed (at most ");
    p.n(in.alerts->max_alerts()).raw(", the most severe kept: <span class=\"mono\">outputs.report.max_alerts</span>). ");
  }
  p.raw("Click a heading to sort.</p>");
  p.raw("<div class=\"scroll\"><table class=\"sortable wide\" id=\"alert-list\"><thead><tr><th class=\"n\">#</th><th>time (UTC)</th>");
  p.raw("<th data-first=\"desc\">severity</th><th>rule</th><th>MITRE</th><th>client</th><th>server</th><th>question</th>");
  p.raw("<th>message</th><th>evidence</th><th>samples</th></tr></thead><tbody>");
  std::size_t row = 0;
  for (const Alert& a : list) {
    ++row;
    p.raw(a.summary ? "<tr class=\"summary\">" : "<tr>");
    p.num_cell(row);
    p.raw("<td class=\"mono\" data-v=\"").raw(std::to_string(a.ts)).raw("\">").t(clock_text(a.ts).substr(0, 10));
    p.raw("<br>").t(clock_text(a.ts, false)).raw("</td>");
    p.raw("<td data-v=\"").raw(std::to_string(detect::severity_score(a.severity))).raw("\"><span class=\"");
    p.raw(sev_class(a.severity)).raw("\">").t(detect::severity_name(a.severity)).raw("</span></td>");
    p.cell(a.rule->name, "mono");
    mitre_cell(p, *a.rule, false);
    p.raw("<td class=\"mono brk addr\">");
    if (a.has_client) {
      p.t(a.client.text());
      if (!a.client_role.empty()) p.raw("<br><span class=\"muted\">").t(a.client_role).raw("</span>");
    }
    p.raw("</td><td class=\"mono brk addr\">");
    if (a.has_server) {
      p.t(a.server.text());
      if (a.server_port != 0) p.raw(":").raw(std::to_string(a.server_port));
      if (!a.transport.empty()) p.raw(" ").t(a.transport);
    }
    p.raw("</td><td class=\"mono brk qn\">").t(a.qname);
    if (a.qtype != 0) p.raw(" <span class=\"muted\">").t(dnsparse::Mnemonic::type(a.qtype).view()).raw("</span>");
    if (!a.registered_domain.empty() && a.registered_domain != a.qname)
      p.raw("<br><span class=\"muted\">").t(a.registered_domain).raw("</span>");
    p.raw("</td><td class=\"msg\">").t(a.reason);
    if (a.summary) p.raw("<br><span class=\"muted\">summary of ").n(a.suppressed).raw(" repeats</span>");
    for (const auto& m : a.intel) p.raw("<br><span class=\"muted\">intel: ").t(m.indicator).raw(" (").t(m.list).raw(")</span>");
    for (const auto& rel : a.related) {
      p.raw("<br><span class=\"muted\">related ").t(rel.rule);
      if (!rel.trigger.empty()) p.raw(" ").t(rel.trigger);
      p.raw(": ").t(rel.reason).raw("</span>");
    }
    if (a.first_seen != 0 && a.last_seen != 0)
      p.raw("<br><span class=\"muted\">").t(clock_text(a.first_seen)).raw(" – ").t(clock_text(a.last_seen, false)).raw("</span>");
    p.raw("</td><td>");
    if (!a.evidence.empty()) {
      p.raw("<details><summary>").n(a.evidence.size()).raw(a.evidence.size() == 1 ? " field" : " fields");
      p.raw("</summary><dl class=\"ev\">");
      for (const auto& [k, v] : a.evidence)
        p.raw("<dt>").t(k).raw("</dt><dd class=\"mono brk\">").t(evidence_text(v, ", ")).raw("</dd>");
      p.raw("</dl></details>");
    }
    p.raw("</td><td>");
    if (!a.samples.empty()) {
      p.raw("<details><summary>").n(a.samples.size()).raw(a.samples.size() == 1 ? " sample" : " samples");
      p.raw("</summary><ul class=\"plain mono brk\">");
      for (const auto& s : a.samples) p.raw("<li>").t(s).raw("</li>");
      p.raw("</ul></details>");
    }
    p.raw("</td></tr>");
  }
  p.raw("</tbody></table></div>");

  p.raw("<h3>Summaries</h3>");
  bool any = false;
  for (const Alert& a : list) any = any || a.summary;
  if (!any) {
    p.raw("<p class=\"muted\">No repeat was folded into a summary.</p>");
  } else {
    p.raw("<p class=\"note\">A rule that keeps triggering for the same key raises one alert, then one summary per ");
    p.raw("suppression period with the number of repeats it folded.</p>");
    p.raw("<table class=\"sortable\" id=\"summaries\"><thead><tr><th>time (UTC)</th><th>rule</th><th>client</th>");
    p.raw("<th class=\"n\" data-first=\"desc\">repeats</th><th>first seen</th><th>last seen</th><th>message</th></tr></thead><tbody>");
    for (const Alert& a : list) {
      if (!a.summary) continue;
      p.raw("<tr><td class=\"mono\" data-v=\"").raw(std::to_string(a.ts)).raw("\">").t(clock_text(a.ts)).raw("</td>");
      p.cell(a.rule->name, "mono").cell(a.has_client ? a.client.text() : std::string{}, "mono").num_cell(a.suppressed);
      p.cell(a.first_seen != 0 ? clock_text(a.first_seen) : std::string{}, "mono");
      p.cell(a.last_seen != 0 ? clock_text(a.last_seen) : std::string{}, "mono").cell(a.reason, "msg").raw("</tr>");
    }
    p.raw("</tbody></table>");
  }
  p.raw("</section>");
}

// A bar table of (label, count) rows.
void count_table(Page& p, std::string_view id, std::string_view what, std::string_view unit,
                 const std::vector<std::pair<std::string, std::uint64_t>>& rows, std::uint64_t whole) {
  std::uint64_t max = 0;
  for (const auto& [label, n] : rows) max = std::max(max, n);
  p.raw("<table class=\"sortable wide\" id=\"").raw(id).raw("\"><thead><tr><th>").t(what).raw("</th>");
  p.raw("<th class=\"n\" data-first=\"desc\">").t(unit).raw("</th><th class=\"n\" data-first=\"desc\">share</th>");
  p.raw("<th></th></tr></thead><tbody>");
  for (const auto& [label, n] : rows) {
    p.raw("<tr>").cell(label, "mono brk").num_cell(n);
    p.raw("<td class=\"n\" data-v=\"").raw(std::to_string(n)).raw("\">").t(percent(n, whole)).raw("</td><td>");
    bar(p, n, max);
    p.raw("</td></tr>");
  }
  p.raw("</tbody></table>");
}

// Latency on a log scale from 10 µs to 10 s: the median as a dot, a bar to the 95th percentile.
void latency_bar(Page& p, const LatencyHistogram& h) {
  if (h.count == 0) return;
  const auto x = [](Timestamp ns) {
    const double l = std::log10(std::max(static_cast<double>(ns), 1e4));
    return std::clamp((l - 4.0) / 6.0 * 160.0, 0.0, 160.0);
  };
  const double x50 = x(h.quantile(0.5)), x95 = x(h.quantile(0.95));
  p.raw("<svg class=\"bar\" width=\"170\" height=\"12\" viewBox=\"0 0 170 12\" aria-hidden=\"true\">");
  p.raw("<line x1=\"0\" x2=\"160\" y1=\"6\" y2=\"6\" stroke=\"#e3e6ec\"/>");
  p.raw("<rect x=\"").raw(fixed(x50, 1)).raw("\" y=\"3\" width=\"").raw(fixed(std::max(x95 - x50, 1.0), 1));
  p.raw("\" height=\"6\" fill=\"#9ecae9\"/><circle cx=\"").raw(fixed(x50 + 1, 1)).raw("\" cy=\"6\" r=\"3.5\" fill=\"#2f5d9e\"/></svg>");
}

void traffic_section(Page& p, const ReportInput& in, const Axis& axis) {
  p.raw("<section id=\"traffic\"><h2>Traffic</h2>");
  const Traffic* tr = in.traffic;
  if (tr == nullptr) {
    p.raw("<p class=\"muted\">Not collected.</p></section>");
    return;
  }
  p.raw("<h3>Queries over time</h3>");
  if (axis.empty() || tr->queries.empty()) {
    p.raw("<p class=\"muted\">No query seen.</p>");
  } else {
    p.raw("<p class=\"note legend\"><i class=\"lq\"></i>queries<i class=\"lnx\"></i>NXDOMAIN responses; one bar is ");
    p.t(latency_text(axis.width)).raw(".</p>");
    queries_chart(p, axis, *tr);
  }
  const std::size_t top = std::max<std::size_t>(in.top, 1);
  const auto approx = [&](std::uint64_t error) {
    if (error != 0)
      p.raw("<p class=\"note\">The table kept the busiest keys only: counts may be low by up to ").n(error).raw(".</p>");
  };
  p.raw("<div class=\"grid\"><div><h3>Top clients</h3>");
  {
    std::vector<std::pair<std::string, std::uint64_t>> rows;
    for (const auto& e : tr->clients.top(top)) rows.emplace_back(e.payload.addr.text(), e.count);
    count_table(p, "top-clients", "client", "queries", rows, tr->queries_total);
    approx(tr->clients.error());
  }
  p.raw("</div><div><h3>Top registered domains</h3>");
  {
    std::vector<std::pair<std::string, std::uint64_t>> rows;
    for (const auto& e : tr->domains.top(top))
      rows.emplace_back(std::string(e.payload.view()) + (e.payload.cut ? "…" : ""), e.count);
    count_table(p, "top-domains", "registered domain", "queries", rows, tr->queries_total);
    approx(tr->domains.error());
  }
  p.raw("</div><div><h3>Record types (queries)</h3>");
  {
    std::vector<std::pair<std::string, std::uint64_t>> rows;
    for (std::size_t t = 0; t < tr->qtypes.size(); ++t)
      if (tr->qtypes[t] != 0)
        rows.emplace_back(std::string(dnsparse::Mnemonic::type(static_cast<std::uint16_t>(t)).view()), tr->qtypes[t]);
    for (const auto& [t, n] : tr->qtypes_high) rows.emplace_back(std::string(dnsparse::Mnemonic::type(t).view()), n);
    if (tr->qtypes_other != 0) rows.emplace_back("other", tr->qtypes_other);
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    count_table(p, "qtypes", "type", "queries", rows, tr->queries_total);
  }
  p.raw("</div><div><h3>Response codes</h3>");
  {
    std::vector<std::pair<std::string, std::uint64_t>> rows;
    for (std::size_t rc = 0; rc < tr->rcodes.size(); ++rc)
      if (tr->rcodes[rc] != 0)
        rows.emplace_back(std::string(dnsparse::Mnemonic::rcode(static_cast<std::uint16_t>(rc)).view()), tr->rcodes[rc]);
    if (tr->rcodes_other != 0) rows.emplace_back("other", tr->rcodes_other);
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    count_table(p, "rcodes", "response code", "responses", rows, tr->responses_total);
    p.raw("<p>NXDOMAIN share: <b id=\"nxdomain\">").t(percent(tr->nxdomain_total, tr->responses_total)).raw("</b> of ");
    p.n(tr->responses_total).raw(" responses.</p>");
  }
  p.raw("</div></div>");

  p.raw("<h3>Servers</h3><p class=\"note\">The busiest servers by messages. Latency: from a query to its response ");
  p.raw("(matched responses; log scale from 10 µs to 10 s: the dot is the median, the bar reaches the 95th ");
  p.raw("percentile; percentiles are interpolated in power-of-two buckets, so within a factor of two).</p>");
  p.raw("<table class=\"sortable wide\" id=\"servers\"><thead><tr><th>server</th><th class=\"n\" data-first=\"desc\">queries</th>");
  p.raw("<th class=\"n\" data-first=\"desc\">responses</th><th class=\"n\" data-first=\"desc\">NXDOMAIN</th>");
  p.raw("<th class=\"n\" data-first=\"desc\">SERVFAIL</th><th class=\"n\" data-first=\"desc\">unanswered</th>");
  p.raw("<th class=\"n\" data-first=\"desc\">median</th><th class=\"n\" data-first=\"desc\">95th pct.</th>");
  p.raw("<th class=\"n\" data-first=\"desc\">mean</th><th>latency</th></tr></thead><tbody>");
  for (const auto& e : tr->servers.top(top)) {
    const ServerPayload& s = e.payload;
    p.raw("<tr>").cell(s.addr.text(), "mono").num_cell(s.queries).num_cell(s.responses);
    const std::uint64_t share = s.responses == 0 ? 0 : s.nxdomain * 1'000'000 / s.responses;
    p.raw("<td class=\"n\" data-v=\"").raw(std::to_string(share)).raw("\">").t(percent(s.nxdomain, s.responses)).raw("</td>");
    p.num_cell(s.servfail).num_cell(s.unanswered);
    for (const double q : {0.5, 0.95}) {
      const Timestamp v = s.latency.quantile(q);
      p.raw("<td class=\"n\" data-v=\"").raw(std::to_string(v)).raw("\">").t(s.latency.count == 0 ? "–" : latency_text(v));
      p.raw("</td>");
    }
    p.raw("<td class=\"n\" data-v=\"").raw(std::to_string(s.latency.mean())).raw("\">");
    p.t(s.latency.count == 0 ? "–" : latency_text(s.latency.mean())).raw("</td><td>");
    latency_bar(p, s.latency);
    p.raw("</td></tr>");
  }
  p.raw("</tbody></table>");
  approx(tr->servers.error());
  p.raw("</section>");
}

void config_section(Page& p, const ReportInput& in) {
  p.raw("<section id=\"configuration\"><h2>Configuration in effect</h2>");
  if (in.settings.empty()) {
    p.raw("<p class=\"muted\">Not recorded.</p></section>");
    return;
  }
  std::size_t changed = 0;
  for (const auto& s : in.settings) changed += s.value != s.default_value;
  if (changed == 0) {
    p.raw("<p>Every setting has its default value.</p>");
  } else {
    p.raw("<h3>Settings that differ from the defaults</h3>");
    p.raw("<table class=\"sortable\" id=\"settings-changed\"><thead><tr><th>key</th><th>value</th><th>default</th></tr>");
    p.raw("</thead><tbody>");
    for (const auto& s : in.settings)
      if (s.value != s.default_value) p.raw("<tr>").cell(s.key, "mono").cell(s.value, "mono").cell(s.default_value, "mono").raw("</tr>");
    p.raw("</tbody></table>");
  }
  p.raw("<details><summary>All ").n(in.settings.size()).raw(" settings</summary>");
  p.raw("<table class=\"sortable\" id=\"settings\"><thead><tr><th>key</th><th>value</th></tr></thead><tbody>");
  for (const auto& s : in.settings)
    p.raw(s.value != s.default_value ? "<tr class=\"changed\">" : "<tr>").cell(s.key, "mono").cell(s.value, "mono").raw("</tr>");
  p.raw("</tbody></table></details></section>");
}

}  // namespace

std::string build_report(const ReportInput& in) {
  const std::string nonce = in.nonce.empty() ? random_nonce() : in.nonce;
  Page p;
  p.str().reserve(64 << 10);
  p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
  // Nothing may be loaded from anywhere; only this page's own style and script run.
  p.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'nonce-").t(nonce);
  p.raw("'; script-src 'nonce-").t(nonce).raw("'; img-src data:; base-uri 'none'; form-action 'none'\">\n");
  p.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  p.raw("<meta name=\"generator\" content=\"dnsvigil ").t(in.version).raw("\">\n");
  p.raw("<title>dnsvigil report");
  if (!in.hostname.empty()) p.raw(" — ").t(in.hostname);
  p.raw(" — ").t(clock_text(in.generated, true, false)).raw(" UTC</title>\n");
  p.raw("<style nonce=\"").t(nonce).raw("\">").raw(kStyle).raw("</style></head>\n<body>");
  run_header(p, in);
  p.raw("<main>");
  const Axis axis = make_axis(in);
  capture_section(p, in);
  p.raw("\n");
  alerts_section(p, in, axis);
  p.raw("\n");
  traffic_section(p, in, axis);
  p.raw("\n");
  config_section(p, in);
  p.raw("</main>\n<script nonce=\"").t(nonce).raw("\">").raw(kScript).raw("</script>\n</body></html>\n");
  return std::move(p.str());
}

// ---- file -----------------------------------------------------------------------------------

namespace {
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}
}  // namespace

void write_report_file(const std::string& path, std::string_view page) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd >= 0) {
    bool ok = write_all(fd, page) && ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (ok) {
      ok = ::rename(tmp.c_str(), path.c_str()) == 0;
      err = errno;
    }
    if (ok) return;
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": " + std::strerror(err));
  }
  // The folder is not writable (the file was made for run.user in a folder it cannot write).
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  const bool ok = write_all(fd, page);
  const int err = errno;
  ::close(fd);
  if (!ok) throw std::runtime_error(path + ": " + std::strerror(err));
}

}  // namespace dnsvigil::output
