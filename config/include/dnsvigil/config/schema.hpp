// The configuration schema: one table of every key with its type, range and description. It
// drives YAML validation, --check-config, docs/configuration.md and the shipped default file.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dnsvigil/config/settings.hpp"

namespace dnsvigil::config {

enum class Type : std::uint8_t { boolean, uint, real, duration, size, string, strings, prefixes, ports, choice };

/// Where a key's value lives in Settings.
using Binding = std::variant<bool& (*)(Settings&), std::uint64_t& (*)(Settings&), double& (*)(Settings&),
                             std::int64_t& (*)(Settings&), std::string& (*)(Settings&),
                             std::vector<std::string>& (*)(Settings&),
                             std::vector<sensor::Prefix>& (*)(Settings&),
                             std::vector<std::uint16_t>& (*)(Settings&)>;

struct Key {
  std::string_view path;     ///< dotted YAML path, e.g. "detectors.enumeration.distinct_10m"
  Type type;
  Binding bind;
  std::string_view help;
  double min = 0, max = 0;   ///< inclusive range for uint/real/size, seconds for duration (max 0 = none)
  std::span<const std::string_view> choices = {};
};

/// Every key, in documentation order.
[[nodiscard]] std::span<const Key> schema();
/// The key with this path, or nullptr.
[[nodiscard]] const Key* find_key(std::string_view path);

/// A configuration problem; what() is one or more lines "file:line:column: key: problem".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Settings with every default applied (no file).
[[nodiscard]] Settings defaults();
/// Loads and validates a YAML file. Throws ConfigError listing every problem found.
[[nodiscard]] Settings load_file(const std::string& path);
/// Loads YAML text (tests); `name` appears in messages.
[[nodiscard]] Settings load_text(const std::string& yaml, const std::string& name = "<text>");

/// The value of `k` in `s` as YAML text (used for defaults in the docs).
[[nodiscard]] std::string value_text(const Key& k, Settings& s);
/// docs/configuration.md's generated reference table (markdown).
[[nodiscard]] std::string reference_markdown();
/// The shipped default configuration file: every key, commented, with its default.
[[nodiscard]] std::string default_yaml();

}  // namespace dnsvigil::config
