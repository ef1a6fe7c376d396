#include "dnsvigil/detect/intel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "dnsvigil/dnsparse/text.hpp"

namespace dnsvigil::detect {

namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Shown in problems: a bad line may hold anything (binary, very long text).
std::string quoted(std::string_view s) {
  std::string out = "'";
  for (const char c : s.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
  return out + (s.size() > 80 ? "...'" : "'");
}

// A domain entry in presentation form, lower case, without a trailing dot; empty when invalid
// (`why` says how). Letters, digits, '-' and '_' (service labels such as _dmarc); labels of
// 1..63 octets, at most 253 in all (RFC 1035 2.3.4 without the root's dot).
std::string domain_entry(std::string_view s, std::string& why) {
  if (s.size() > 1 && s.back() == '.') s.remove_suffix(1);
  if (s.substr(0, 2) == "*.") {
    why = "write the domain without '*.': an entry covers the domain and every name under it";
    return {};
  }
  if (s.find("://") != std::string_view::npos || s.find('/') != std::string_view::npos) {
    why = "a URL or path is not a domain name (write the host name only)";
    return {};
  }
  if (sensor::IpAddr::parse(s) || sensor::Prefix::parse(s)) {
    why = "an address belongs in intel.ip_files, not in a domain list";
    return {};
  }
  if (s.empty() || s.size() > 253) {
    why = "a domain name has 1 to 253 characters";
    return {};
  }
  std::string out;
  out.reserve(s.size());
  std::size_t label = 0;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) {
        why = "empty label (two dots, or a leading dot)";
        return {};
      }
      label = 0;
      out += '.';
      continue;
    }
    if (!(std::isalnum(u) != 0 || c == '-' || c == '_') || u >= 0x80) {
      why = "not a domain name (letters, digits, '-', '_' and dots only; write IDNs in punycode, xn--...)";
      return {};
    }
    if (++label > 63) {
      why = "a label is longer than 63 characters";
      return {};
    }
    out += static_cast<char>(std::tolower(u));
  }
  if (label == 0) {
    why = "empty label (two dots, or a leading dot)";
    return {};
  }
  return out;
}

// The prefix as text: the bare address for a full-length prefix, else address/length.
std::string prefix_text(const sensor::Prefix& p) {
  char buf[64];
  dnsparse::TextWriter w(buf);
  p.base.write(w);
  std::string out(w.view());
  const unsigned len = p.v4 ? p.bits - 96u : p.bits;
  if (len != (p.v4 ? 32u : 128u)) out += "/" + std::to_string(len);
  return out;
}

// Last address of a prefix: the base with every host bit set.
sensor::IpAddr last_of(const sensor::Prefix& p) {
  sensor::IpAddr hi = p.base;
  for (unsigned bit = p.bits; bit < 128; ++bit) hi.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  return hi;
}

}  // namespace

void IntelLists::add(Kind kind, const std::string& path, std::string_view text, std::vector<std::string>& problems) {
  const auto list = static_cast<std::uint32_t>(lists_.size());
  IntelList info{path, base_name(path), kind == Kind::domain, 0};
  std::size_t bad = 0, lineno = 0;
  while (!text.empty()) {
    ++lineno;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    // Comments run to the end of the line; feeds put them on entry lines too.
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    std::string why;
    std::string entry;
    if (kind == Kind::domain) {
      entry = domain_entry(line, why);
    } else if (const auto p = sensor::Prefix::parse(line)) {
      entry = prefix_text(*p);
      const Range r{p->base, last_of(*p), static_cast<std::uint32_t>(ip_entries_.size()), -1};
      (p->v4 ? v4_ : v6_).push_back(r);
    } else {
      why = "not an IP address or CIDR prefix (e.g. 198.51.100.7, 203.0.113.0/24, 2001:db8::/32)";
    }
    if (entry.empty()) {
      if (++bad <= kMaxProblems) problems.push_back(path + ":" + std::to_string(lineno) + ": " + quoted(line) + ": " + why);
      continue;
    }
    if (kind == Kind::domain) {
      domain_entries_.push_back({entry, list});
      pending_domains_.push_back(std::move(entry));
    } else {
      ip_entries_.push_back({std::move(entry), list});
    }
    ++info.entries;
  }
  if (bad > kMaxProblems)
    problems.push_back(path + ": " + std::to_string(bad - kMaxProblems) + " more bad lines not shown");
  lists_.push_back(std::move(info));
}

void IntelLists::add_file(Kind kind, const std::string& path, std::vector<std::string>& problems) {
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(path, ec);
  if (!regular) {
    problems.push_back(path + ": cannot read the list file: " +
                       (ec ? ec.message() : std::string("not a regular file")));
    return;
  }
  if (std::filesystem::file_size(path, ec) > kMaxFileBytes) {
    problems.push_back(path + ": the list file is larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.push_back(path + ": cannot read the list file: " + std::strerror(errno));
    return;
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    problems.push_back(path + ": read error");
    return;
  }
  add(kind, path, text, problems);
}

void IntelLists::index(std::vector<Range>& ranges) {
  // Enclosing prefixes first: by first address, then widest (last address descending).
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    if (a.lo != b.lo) return a.lo < b.lo;
    if (a.hi != b.hi) return a.hi > b.hi;
    return a.entry < b.entry;
  });
  // Prefixes nest or are disjoint: a stack of the open enclosing ranges gives each its parent.
  std::vector<std::int32_t> open;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    while (!open.empty() && ranges[static_cast<std::size_t>(open.back())].hi < ranges[i].lo) open.pop_back();
    ranges[i].parent = open.empty() ? -1 : open.back();
    open.push_back(static_cast<std::int32_t>(i));
  }
}

void IntelLists::finish() {
  index(v4_);
  index(v6_);
  domains_ = DomainList(pending_domains_);
  pending_domains_.clear();
  pending_domains_.shrink_to_fit();
}

const Indicator* IntelLists::find_in(const std::vector<Range>& ranges, const sensor::IpAddr& a) const noexcept {
  // The last range starting at or before `a`; if it does not reach `a`, one that encloses it might.
  auto it = std::upper_bound(ranges.begin(), ranges.end(), a, [](const sensor::IpAddr& x, const Range& r) { return x < r.lo; });
  if (it == ranges.begin()) return nullptr;
  auto i = static_cast<std::int32_t>(it - ranges.begin()) - 1;
  while (i >= 0) {
    const Range& r = ranges[static_cast<std::size_t>(i)];
    if (!(r.hi < a)) return &ip_entries_[r.entry];
    i = r.parent;
  }
  return nullptr;
}

const Indicator* IntelLists::find(const sensor::IpAddr& a) const noexcept {
  return a.is_v4() ? find_in(v4_, a) : find_in(v6_, a);
}

bool IntelLists::under(std::string_view name, const Indicator& i) const noexcept {
  const std::string_view d = i.text;
  if (name.size() == d.size()) return name == d;
  return name.size() > d.size() && name[name.size() - d.size() - 1] == '.' && name.substr(name.size() - d.size()) == d;
}

const Indicator* IntelLists::find(std::string_view name) const noexcept {
  // The hash only proposes an entry; the text decides (no false match on a hash collision).
  const std::size_t i = domains_.find(name, [&](std::size_t k) { return under(name, domain_entries_[k]); });
  return i == DomainList::kNone ? nullptr : &domain_entries_[i];
}

const Indicator* IntelLists::find(const sensor::QueryName& q) const noexcept {
  if (domains_.empty() || q.empty()) return nullptr;
  const std::string_view name = q.lower();
  const std::size_t i = domains_.find(q, [&](std::size_t k) { return under(name, domain_entries_[k]); });
  return i == DomainList::kNone ? nullptr : &domain_entries_[i];
}

void tag_alert(const IntelLists& lists, Alert& a) {
  if (lists.empty() || !a.intel.empty()) return;
  const auto by_address = [&](bool has, const sensor::IpAddr& ip, std::string_view field) {
    if (!has) return;
    const Indicator* i = lists.find(ip);
    if (i == nullptr) return;
    char buf[64];
    dnsparse::TextWriter w(buf);
    ip.write(w);
    a.intel.push_back({i->text, lists.list_of(*i).name, std::string(w.view()), field, ip.is_v4() ? "ipv4-addr" : "ipv6-addr"});
  };
  by_address(a.has_client, a.client, "source.ip");
  by_address(a.has_server, a.server, "destination.ip");
  // Alerts without a question name (zone-wide counts) still name their domain.
  const std::string& name = a.qname.empty() ? a.registered_domain : a.qname;
  if (name.empty()) return;
  if (const Indicator* i = lists.find(std::string_view(name)))
    a.intel.push_back({i->text, lists.list_of(*i).name, name,
                       a.qname.empty() ? "dns.question.registered_domain" : "dns.question.name", "domain-name"});
}

std::size_t IntelLists::bytes() const noexcept {
  std::size_t n = (v4_.capacity() + v6_.capacity()) * sizeof(Range) + domains_.size() * 12;
  for (const auto* v : {&ip_entries_, &domain_entries_}) {
    n += v->capacity() * sizeof(Indicator);
    for (const auto& e : *v)
      if (e.text.size() >= sizeof(std::string)) n += e.text.capacity() + 1;  // beyond the inline buffer
  }
  return n;
}

}  // namespace dnsvigil::detect
