#include <cstdio>
#include <sstream>

#include "dnsvigil/config/schema.hpp"

namespace dnsvigil::config {

namespace {

std::string number(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

std::string size_text(std::uint64_t v) {
  static const std::pair<std::uint64_t, const char*> kUnits[] = {{1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}};
  for (const auto& [m, u] : kUnits)
    if (v != 0 && v % m == 0) return std::to_string(v / m) + u;
  return std::to_string(v);
}

std::string duration_text(std::int64_t ns) {
  if (ns == 0) return "0s";
  const std::int64_t ms = ns / 1'000'000;
  if (ns % 1'000'000'000 != 0) return std::to_string(ms) + "ms";
  const std::int64_t s = ns / 1'000'000'000;
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string prefix_text(const sensor::Prefix& p) {
  char buf[64];
  dnsparse::TextWriter w(buf);
  p.base.write(w);
  const unsigned bits = p.base.is_v4() ? p.bits - 96u : p.bits;
  return std::string(w.view()) + "/" + std::to_string(bits);
}

std::string quoted_if_needed(const std::string& s) {
  if (s.empty()) return "\"\"";
  if (s.find_first_of(":#{}[],&*!|>'\"%@`") != std::string::npos || s.front() == ' ' || s.back() == ' ')
    return "\"" + s + "\"";
  return s;
}

std::string_view type_name(const Key& k) {
  switch (k.type) {
    case Type::boolean: return "bool";
    case Type::uint: return "integer";
    case Type::real: return "number";
    case Type::duration: return "duration";
    case Type::size: return "size";
    case Type::string: return "string";
    case Type::strings: return "list of strings";
    case Type::prefixes: return "list of CIDR";
    case Type::ports: return "list of ports";
    case Type::choice: return "choice";
  }
  return "";
}

std::string range_text(const Key& k) {
  switch (k.type) {
    case Type::uint:
    case Type::real: return number(k.min) + " .. " + (k.max == 0 ? std::string("") : number(k.max));
    case Type::size: return size_text(static_cast<std::uint64_t>(k.min)) + " .. " + size_text(static_cast<std::uint64_t>(k.max));
    case Type::duration:
      return duration_text(static_cast<std::int64_t>(k.min * 1e9)) + " .. " +
             duration_text(static_cast<std::int64_t>(k.max * 1e9));
    case Type::choice: {
      std::string out;
      for (const auto c : k.choices) out += (out.empty() ? "" : ", ") + std::string(c);
      return out;
    }
    default: return "";
  }
}

}  // namespace

std::string value_text(const Key& k, Settings& s) {
  return std::visit(
      [&](auto get) -> std::string {
        auto& v = get(s);
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          return k.type == Type::size ? size_text(v) : std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return number(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return duration_text(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return quoted_if_needed(v);
        } else {
          std::string out = "[";
          for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            if constexpr (std::is_same_v<T, std::vector<std::string>>) out += quoted_if_needed(v[i]);
            else if constexpr (std::is_same_v<T, std::vector<sensor::Prefix>>) out += prefix_text(v[i]);
            else out += std::to_string(v[i]);
          }
          return out + "]";
        }
      },
      k.bind);
}

std::string reference_markdown() {
  Settings s = defaults();
  std::ostringstream o;
  o << "| key | type | default | range | description |\n";
  o << "|---|---|---|---|---|\n";
  for (const Key& k : schema()) {
    std::string def = value_text(k, s);
    // Pipes inside table cells need escaping in markdown.
    for (std::size_t i = def.find('|'); i != std::string::npos; i = def.find('|', i + 2)) def.replace(i, 1, "\\|");
    std::string help(k.help);
    for (std::size_t i = help.find('|'); i != std::string::npos; i = help.find('|', i + 2)) help.replace(i, 1, "\\|");
    o << "| `" << k.path << "` | " << type_name(k) << " | `" << def << "` | " << range_text(k) << " | " << help
      << " |\n";
  }
  return o.str();
}

std::string default_yaml() {
  Settings s = defaults();
  std::ostringstream o;
  o << "# dnsvigil configuration.\n"
       "# Every key is listed with its default value, commented out (#key: value): uncomment what you change.\n"
       "# Reference: docs/configuration.md and dnsvigil(8). Check a file with: dnsvigil --check-config -c FILE\n";
  std::vector<std::string> open;  // sections currently open
  for (const Key& k : schema()) {
    std::vector<std::string> parts;
    std::string_view rest = k.path;
    for (std::size_t dot; (dot = rest.find('.')) != std::string_view::npos; rest.remove_prefix(dot + 1))
      parts.emplace_back(rest.substr(0, dot));
    std::size_t common = 0;
    while (common < open.size() && common < parts.size() && open[common] == parts[common]) ++common;
    open.resize(common);
    for (std::size_t i = common; i < parts.size(); ++i) {
      if (i == 0) o << "\n";
      o << std::string(2 * i, ' ') << parts[i] << ":\n";
      open.push_back(parts[i]);
    }
    const std::string indent(2 * parts.size(), ' ');
    o << indent << "# " << k.help << "\n";
    o << indent << "#" << rest << ": " << value_text(k, s) << "\n";
  }
  return o.str();
}

}  // namespace dnsvigil::config
