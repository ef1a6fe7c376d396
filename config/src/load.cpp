#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "dnsvigil/config/schema.hpp"
#include "dnsvigil/detect/intel.hpp"

namespace dnsvigil::config {

namespace {

struct Problems {
  std::string file;
  std::vector<std::string> lines;
  void add(const YAML::Mark& m, std::string_view key, const std::string& what) {
    std::ostringstream o;
    o << file;
    if (!m.is_null()) o << ':' << m.line + 1 << ':' << m.column + 1;
    o << ": " << key << ": " << what;
    lines.push_back(o.str());
  }
};

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The known key (or section) nearest to a misspelt one, for "did you mean".
std::string suggestion(std::string_view path) {
  std::string best;
  std::size_t best_d = std::string::npos;
  const auto consider = [&](std::string_view cand) {
    const std::size_t d = edit_distance(path, cand);
    if (d < best_d) {
      best_d = d;
      best = std::string(cand);
    }
  };
  for (const Key& k : schema()) {
    consider(k.path);
    // Sections too ("detectors.enumeration"), so a misspelt section name finds its match.
    for (std::size_t dot = k.path.find('.'); dot != std::string_view::npos; dot = k.path.find('.', dot + 1))
      consider(k.path.substr(0, dot));
  }
  if (best_d <= std::max<std::size_t>(2, path.size() / 4)) return "; did you mean '" + best + "'?";
  return {};
}

// Keys that moved: the old path is still read.
std::string_view renamed(std::string_view path) {
  if (path == "network.mail_servers") return "roles.mail_servers";
  if (path == "network.scanners") return "roles.scanners";
  return path;
}

bool is_section(std::string_view path) {
  for (const Key& k : schema())
    if (k.path.size() > path.size() && k.path.substr(0, path.size()) == path && k.path[path.size()] == '.') return true;
  return false;
}

// "30s", "10m", "1h", "2d", "500ms", or a number of seconds.
bool parse_duration(const std::string& s, double& seconds) {
  std::size_t used = 0;
  double v;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    return false;
  }
  const std::string unit = s.substr(used);
  if (unit.empty() || unit == "s") seconds = v;
  else if (unit == "ms") seconds = v / 1000;
  else if (unit == "m" || unit == "min") seconds = v * 60;
  else if (unit == "h") seconds = v * 3600;
  else if (unit == "d") seconds = v * 86400;
  else return false;
  return std::isfinite(seconds) && seconds >= 0;
}

// "64MiB", "512KiB", "1GiB", "100MB", "4096", "4KB".
bool parse_size(const std::string& s, double& bytes) {
  std::size_t used = 0;
  double v;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    return false;
  }
  std::string unit = s.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1}, {"B", 1}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}};
  for (const auto& [u, m] : kUnits)
    if (unit == u) {
      bytes = v * m;
      return std::isfinite(bytes) && bytes >= 0;
    }
  return false;
}

std::string range_text(const Key& k) {
  std::ostringstream o;
  o << k.min << ".." << k.max;
  return o.str();
}

bool in_range(const Key& k, double v) { return v >= k.min && (k.max == 0 || v <= k.max); }

void assign(const Key& k, const YAML::Node& n, Settings& s, Problems& p) {
  const YAML::Mark m = n.Mark();
  const auto scalar = [&](std::string& out) {
    if (!n.IsScalar()) {
      p.add(m, k.path, "expected a single value");
      return false;
    }
    out = n.Scalar();
    return true;
  };
  const auto list = [&](std::vector<std::string>& out) {
    out.clear();
    if (n.IsNull()) return true;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return true;
    }
    if (!n.IsSequence()) {
      p.add(m, k.path, "expected a list");
      return false;
    }
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        p.add(item.Mark(), k.path, "expected a list of single values");
        return false;
      }
      out.push_back(item.Scalar());
    }
    return true;
  };
  std::string text;
  std::vector<std::string> items;
  switch (k.type) {
    case Type::boolean: {
      bool v = false;
      if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
        p.add(m, k.path, "expected true or false");
        return;
      }
      std::get<bool& (*)(Settings&)>(k.bind)(s) = v;
      return;
    }
    case Type::uint:
    case Type::size: {
      if (!scalar(text)) return;
      double v = 0;
      bool ok;
      if (k.type == Type::size) {
        ok = parse_size(text, v);
      } else {
        std::size_t used = 0;
        try {
          v = static_cast<double>(std::stoull(text, &used));
          ok = used == text.size() && text.find('-') == std::string::npos;
        } catch (...) {
          ok = false;
        }
      }
      if (!ok) {
        p.add(m, k.path,
              k.type == Type::size ? "expected a size such as 65536, 512KiB, 64MiB or 1GiB, got '" + text + "'"
                                   : "expected a whole number, got '" + text + "'");
        return;
      }
      if (!in_range(k, v)) {
        p.add(m, k.path, "value " + text + " is out of range " + range_text(k));
        return;
      }
      std::get<std::uint64_t& (*)(Settings&)>(k.bind)(s) = static_cast<std::uint64_t>(v);
      return;
    }
    case Type::real: {
      if (!scalar(text)) return;
      double v;
      try {
        std::size_t used = 0;
        v = std::stod(text, &used);
        if (used != text.size()) throw std::invalid_argument("trailing");
      } catch (...) {
        p.add(m, k.path, "expected a number, got '" + text + "'");
        return;
      }
      if (!in_range(k, v)) {
        p.add(m, k.path, "value " + text + " is out of range " + range_text(k));
        return;
      }
      std::get<double& (*)(Settings&)>(k.bind)(s) = v;
      return;
    }
    case Type::duration: {
      if (!scalar(text)) return;
      double sec;
      if (!parse_duration(text, sec)) {
        p.add(m, k.path, "expected a duration such as 500ms, 30s, 10m, 1h or 2d, got '" + text + "'");
        return;
      }
      if (!in_range(k, sec)) {
        p.add(m, k.path, "duration " + text + " is out of range " + range_text(k) + " seconds");
        return;
      }
      std::get<std::int64_t& (*)(Settings&)>(k.bind)(s) = static_cast<std::int64_t>(sec * 1e9);
      return;
    }
    case Type::string:
      if (n.IsNull()) {
        std::get<std::string& (*)(Settings&)>(k.bind)(s).clear();
        return;
      }
      if (scalar(text)) std::get<std::string& (*)(Settings&)>(k.bind)(s) = text;
      return;
    case Type::choice: {
      if (!scalar(text)) return;
      if (std::find(k.choices.begin(), k.choices.end(), text) == k.choices.end()) {
        std::string allowed;
        for (const auto c : k.choices) allowed += (allowed.empty() ? "" : ", ") + std::string(c);
        p.add(m, k.path, "expected one of " + allowed + ", got '" + text + "'");
        return;
      }
      std::get<std::string& (*)(Settings&)>(k.bind)(s) = text;
      return;
    }
    case Type::strings:
      if (list(items)) std::get<std::vector<std::string>& (*)(Settings&)>(k.bind)(s) = items;
      return;
    case Type::prefixes: {
      if (!list(items)) return;
      std::vector<sensor::Prefix> out;
      for (const auto& t : items) {
        const auto pr = sensor::Prefix::parse(t);
        if (!pr) {
          p.add(m, k.path, "'" + t + "' is not an IP address or CIDR prefix (e.g. 10.0.0.0/8, 2001:db8::/32)");
          return;
        }
        out.push_back(*pr);
      }
      std::get<std::vector<sensor::Prefix>& (*)(Settings&)>(k.bind)(s) = out;
      return;
    }
    case Type::ports: {
      if (!list(items)) return;
      std::vector<std::uint16_t> out;
      for (const auto& t : items) {
        unsigned long v = 0;
        std::size_t used = 0;
        try {
          v = std::stoul(t, &used);
        } catch (...) {
          used = 0;
        }
        if (used != t.size() || v == 0 || v > 65535) {
          p.add(m, k.path, "'" + t + "' is not a port number (1..65535)");
          return;
        }
        out.push_back(static_cast<std::uint16_t>(v));
      }
      std::get<std::vector<std::uint16_t>& (*)(Settings&)>(k.bind)(s) = out;
      return;
    }
  }
}

void walk(const YAML::Node& node, const std::string& prefix, Settings& s, Problems& p) {
  if (!node.IsMap()) {
    p.add(node.Mark(), prefix.empty() ? "(top level)" : prefix, "expected a mapping of keys");
    return;
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      p.add(kv.first.Mark(), prefix, "keys must be plain names");
      continue;
    }
    const std::string path = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
    if (const Key* k = find_key(renamed(path))) {
      assign(*k, kv.second, s, p);
    } else if (is_section(path)) {
      if (kv.second.IsNull()) continue;
      walk(kv.second, path, s, p);
    } else {
      p.add(kv.first.Mark(), path, "unknown key" + suggestion(path));
    }
  }
}

// The intel.* files hold part of the configuration: they are read with it, so a bad line fails
// --check-config and start-up, and a SIGHUP reload that finds one keeps the running lists.
void load_intel(Settings& s, const std::string& base_dir, Problems& p) {
  auto& intel = s.detectors.intel;
  intel.lists.reset();
  if (intel.ip_files.empty() && intel.domain_files.empty()) return;
  const auto resolve = [&](const std::string& f) {
    return f.empty() || f.front() == '/' || base_dir.empty() ? f : base_dir + "/" + f;
  };
  auto lists = std::make_shared<detect::IntelLists>();
  std::vector<std::string> problems;
  for (const auto& f : intel.ip_files) lists->add_file(detect::IntelLists::Kind::ip, resolve(f), problems);
  for (const auto& f : intel.domain_files) lists->add_file(detect::IntelLists::Kind::domain, resolve(f), problems);
  for (const auto& what : problems) p.lines.push_back(p.file + ": intel: " + what);
  lists->finish();
  intel.lists = std::move(lists);
}

// The service catalogue: the built-in list (unless turned off) plus names.service_files, read
// with the configuration like the intel lists.
void load_services(Settings& s, const std::string& base_dir, Problems& p) {
  auto& opt = s.pipeline;
  if (opt.builtin_services && opt.service_files.empty()) {
    opt.services = sensor::ServiceCatalogue::builtin();
    return;
  }
  auto cat = std::make_shared<sensor::ServiceCatalogue>();
  std::vector<std::string> problems;
  if (opt.builtin_services) cat->add_text(sensor::ServiceCatalogue::builtin_text(), "built-in", problems);
  for (const auto& f : opt.service_files)
    cat->add_file(f.empty() || f.front() == '/' || base_dir.empty() ? f : base_dir + "/" + f, problems);
  for (const auto& what : problems) p.lines.push_back(p.file + ": names.service_files: " + what);
  cat->finish();
  opt.services = std::move(cat);
}

// "http://host:port" or "https://[::1]:8443/path": the ClickHouse HTTP interface. The sink adds
// the query string itself, and credentials come from user and password_file.
std::string clickhouse_url_problem(const std::string& url) {
  std::string_view rest(url);
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else {
    return "expected http://HOST:PORT or https://HOST:PORT";
  }
  if (rest.find_first_of("?#@ ") != std::string_view::npos)
    return "no query string, fragment, credentials or blanks (use user and password_file)";
  std::string_view hostport = rest.substr(0, rest.find('/'));
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return "unclosed '[' in the IPv6 address";
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return "expected ':PORT' after ']'";
      has_port = true;
      port = hostport.substr(close + 2);
    }
    hostport = hostport.substr(1, close - 1);
    if (!sensor::IpAddr::parse(hostport)) return "'" + std::string(hostport) + "' is not an IPv6 address";
  } else {
    if (const auto colon = hostport.find(':'); colon != std::string_view::npos) {
      has_port = true;
      port = hostport.substr(colon + 1);
      hostport = hostport.substr(0, colon);
    }
    if (hostport.empty()) return "no host";
    for (const char c : hostport)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
        return "'" + std::string(hostport) + "' is not a host name or address";
  }
  if (has_port && (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
                   std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535))
    return "'" + std::string(port) + "' is not a port number (1..65535)";
  return {};
}

// A database or table name: a plain ClickHouse identifier (the sink quotes it, but names that
// need quoting are a mistake more often than a wish).
bool plain_identifier(const std::string& s) {
  if (s.empty() || s.size() > 128 || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (const char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// outputs.clickhouse: the URL and names are checked, and the password file is read with the
// configuration (so --check-config finds an unreadable one, and a SIGHUP reload that cannot read
// it keeps the running configuration).
void load_clickhouse(Settings& s, const std::string& base_dir, Problems& p) {
  auto& c = s.outputs.clickhouse;
  c.password.clear();
  if (!c.enabled) return;
  const std::string key = p.file + ": outputs.clickhouse.";
  if (const auto why = clickhouse_url_problem(c.url); !why.empty())
    p.lines.push_back(key + "url: '" + c.url + "': " + why);
  if (!plain_identifier(c.database))
    p.lines.push_back(key + "database: '" + c.database + "' is not a plain name (letters, digits, _)");
  for (const auto& [name, value] : {std::pair{"events_table", &c.events_table}, std::pair{"alerts_table", &c.alerts_table}})
    if (!value->empty() && !plain_identifier(*value))
      p.lines.push_back(key + name + ": '" + *value + "' is not a plain name (letters, digits, _)");
  if (c.events_table.empty() && c.alerts_table.empty())
    p.lines.push_back(key + "events_table: events_table and alerts_table are both empty: nothing to send");
  if (!c.password_file.empty()) {
    const std::string path = c.password_file.front() == '/' || base_dir.empty() ? c.password_file
                                                                               : base_dir + "/" + c.password_file;
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    std::string line;
    if (!in || !std::getline(in, line)) {
      p.lines.push_back(key + "password_file: cannot read '" + path + "'" +
                        (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
    } else {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      c.password = line;
    }
  }
}

Settings load_node(const YAML::Node& root, const std::string& name, const std::string& base_dir) {
  Settings s = defaults();
  Problems p{name, {}};
  if (!root.IsNull()) walk(root, "", s, p);
  const std::string& mode = s.input.dnstap_socket_mode;
  if (mode.empty() || mode.size() > 4 || mode.find_first_not_of("01234567") != std::string::npos)
    p.lines.push_back(p.file + ": input.dnstap_socket_mode: '" + mode + "' is not an octal file mode (like 0660)");
  for (const auto& e : s.input.dnstap)
    if (e.rfind("unix:/", 0) != 0 && e.rfind("tcp:", 0) != 0)
      p.lines.push_back(p.file + ": input.dnstap: '" + e + "': expected unix:/path or tcp:ADDRESS:PORT");
  load_clickhouse(s, base_dir, p);
  if (p.lines.empty()) load_intel(s, base_dir, p);
  if (p.lines.empty()) load_services(s, base_dir, p);
  if (!p.lines.empty()) {
    std::string all;
    for (const auto& l : p.lines) all += (all.empty() ? "" : "\n") + l;
    throw ConfigError(all);
  }
  s.finalize();
  return s;
}

}  // namespace

Settings defaults() {
  Settings s;
  s.finalize();
  return s;
}

Settings load_text(const std::string& yaml, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": YAML syntax: " + e.msg);
  }
  return load_node(root, name, {});
}

Settings load_file(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path + ": cannot read the configuration file");
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": YAML syntax: " + e.msg);
  }
  // Files the configuration names (intel lists) are found next to it.
  const auto slash = path.find_last_of('/');
  return load_node(root, path, slash == std::string::npos ? std::string(".") : path.substr(0, slash == 0 ? 1 : slash));
}

}  // namespace dnsvigil::config
