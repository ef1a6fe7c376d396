// The configuration loader: types, units, ranges, lists, unknown keys and their suggestions.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "dnsvigil/config/schema.hpp"

using namespace dnsvigil;
using config::ConfigError;
using config::load_text;

namespace {
std::string error_of(const std::string& yaml) {
  try {
    (void)load_text(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("no file means the documented defaults", "[config]") {
  const config::Settings s = config::defaults();
  CHECK(s.detectors.enumeration.distinct_1h == 100);
  CHECK(s.detectors.suppression == 30 * 60 * sensor::kNanosPerSecond);
  CHECK(s.pipeline.dns_ports == std::vector<std::uint16_t>{53});
  CHECK(s.detectors.network.internal.size() == 4);
  CHECK(s.detectors.network.resolvers.empty());
  // An empty document is the same as no file.
  CHECK(load_text("").detectors.enumeration.distinct_1h == 100);
}

TEST_CASE("values of every type are read", "[config]") {
  const config::Settings s = load_text(R"(
network:
  internal: [10.0.0.0/8, fd00::/8]
  resolvers: [10.20.0.53, 2001:db8::53]
  role: authoritative
capture:
  buffer_size: 128MiB
  dns_ports: [53, 5353]
  promiscuous: no
detectors:
  suppression: 10m
  tunneling:
    min_entropy: 0.8
    allowlist:
      domains: [Example.COM.]
  rogue_resolver:
    period: 2d
transactions:
  timeout: 500ms
)");
  CHECK(s.detectors.network.internal.size() == 2);
  CHECK(s.detectors.network.resolvers.size() == 2);
  CHECK(s.detectors.network.role == detect::Role::authoritative);
  CHECK(s.capture.buffer_size == 128u << 20);
  CHECK(s.pipeline.dns_ports == std::vector<std::uint16_t>{53, 5353});
  CHECK_FALSE(s.capture.promiscuous);
  CHECK(s.detectors.suppression == 600 * sensor::kNanosPerSecond);
  CHECK(s.detectors.tunneling.min_entropy == Approx(0.8));
  CHECK(s.detectors.tunneling.allow.domains == std::vector<std::string>{"Example.COM."});
  CHECK(s.detectors.rogue_resolver.period == 2 * 86400 * sensor::kNanosPerSecond);
  CHECK(s.pipeline.transactions.timeout == 500'000'000);
}

TEST_CASE("a single value where a list is expected is a one-element list", "[config]") {
  CHECK(load_text("network:\n  resolvers: 10.20.0.53\n").detectors.network.resolvers.size() == 1);
}

TEST_CASE("errors name file, line, column, key and what was expected", "[config]") {
  CHECK(error_of("detectors:\n  enumeration:\n    distinct_10m: lots\n") ==
        "t.yaml:3:19: detectors.enumeration.distinct_10m: expected a whole number, got 'lots'");
  CHECK(error_of("detectors:\n  tunneling:\n    min_entropy: 3\n") ==
        "t.yaml:3:18: detectors.tunneling.min_entropy: value 3 is out of range 0..1");
  CHECK(error_of("network:\n  resolvers: [10.20.0.300]\n") ==
        "t.yaml:2:14: network.resolvers: '10.20.0.300' is not an IP address or CIDR prefix (e.g. 10.0.0.0/8, "
        "2001:db8::/32)");
  CHECK(error_of("network:\n  role: router\n") ==
        "t.yaml:2:9: network.role: expected one of tap, recursive, authoritative, got 'router'");
  CHECK(error_of("capture:\n  dns_ports: [53, 70000]\n") == "t.yaml:2:14: capture.dns_ports: '70000' is not a port number (1..65535)");
  CHECK(error_of("capture:\n  buffer_size: 64 parsecs\n") ==
        "t.yaml:2:16: capture.buffer_size: expected a size such as 65536, 512KiB, 64MiB or 1GiB, got '64 parsecs'");
  CHECK(error_of("detectors: 5\n") == "t.yaml:1:12: detectors: expected a mapping of keys");
}

TEST_CASE("misspelt keys get the nearest known key", "[config]") {
  CHECK(error_of("netwrok:\n  resolvers: []\n") == "t.yaml:1:1: netwrok: unknown key; did you mean 'network'?");
  CHECK(error_of("detectors:\n  enumeration:\n    distinct_10min: 5\n") ==
        "t.yaml:3:5: detectors.enumeration.distinct_10min: unknown key; did you mean "
        "'detectors.enumeration.distinct_10m'?");
  // Nothing close: no suggestion.
  CHECK(error_of("zzzzzzzzzzzz: 1\n") == "t.yaml:1:1: zzzzzzzzzzzz: unknown key");
}

TEST_CASE("every problem is reported, not just the first", "[config]") {
  const std::string e = error_of("a: 1\nb: 2\nnetwork:\n  role: x\n");
  CHECK(std::count(e.begin(), e.end(), '\n') == 2);
}

TEST_CASE("YAML syntax errors carry their position", "[config]") {
  CHECK(error_of("a: [1\n").rfind("t.yaml:2:1: YAML syntax:", 0) == 0);
}

TEST_CASE("every schema key has help text and a printable default", "[config]") {
  config::Settings s = config::defaults();
  for (const auto& k : config::schema()) {
    INFO(k.path);
    CHECK_FALSE(k.help.empty());
    CHECK_FALSE(config::value_text(k, s).empty());
    CHECK(config::find_key(k.path) == &k);
  }
}

TEST_CASE("the generated default file loads back to the defaults", "[config]") {
  const config::Settings s = load_text(config::default_yaml());
  CHECK(s.detectors.enumeration.distinct_10m == config::defaults().detectors.enumeration.distinct_10m);
  // Uncommenting every key line ("#key: value") must also load and give the same values.
  const std::string all = config::default_yaml();
  std::string out;
  std::size_t pos = 0;
  while (pos < all.size()) {
    const std::size_t nl = all.find('\n', pos);
    std::string line = all.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    const std::size_t indent = line.find_first_not_of(' ');
    if (indent != std::string::npos && line[indent] == '#' && indent + 1 < line.size() && line[indent + 1] != ' ')
      line.erase(indent, 1);
    out += line + "\n";
    pos = nl == std::string::npos ? all.size() : nl + 1;
  }
  const config::Settings u = load_text(out, "uncommented");
  config::Settings d = config::defaults();
  config::Settings uu = u;
  for (const auto& k : config::schema()) {
    INFO(k.path);
    CHECK(config::value_text(k, uu) == config::value_text(k, d));
  }
}

TEST_CASE("outputs.clickhouse: the URL, names and password file are checked when enabled", "[config][clickhouse]") {
  const config::Settings d = load_text("");
  CHECK_FALSE(d.outputs.clickhouse.enabled);
  CHECK(d.outputs.clickhouse.url == "http://127.0.0.1:8123");
  CHECK(d.outputs.clickhouse.batch_rows == 65536);
  // Disabled: nothing is checked (the shipped defaults stay loadable anywhere).
  CHECK(error_of("outputs:\n  clickhouse:\n    url: ftp://x\n").empty());
  const auto with = [](const std::string& keys) {
    return error_of("outputs:\n  clickhouse:\n    enabled: true\n" + keys);
  };
  CHECK(with("").empty());
  for (const char* url : {"http://ch.example.net", "https://[2001:db8::1]:8443", "http://10.0.0.1:8123/",
                          "http://clickhouse-1:8123/proxy/path"}) {
    INFO(url);
    CHECK(with(std::string("    url: ") + url + "\n").empty());
  }
  for (const char* url : {"ftp://x:21", "127.0.0.1:8123", "http://:8123", "http://host:0", "http://host:99999",
                          "http://host:", "http://user:pw@host:8123", "http://host:8123/?database=x",
                          "http://[2001:db8::1:8123", "http://[nope]:8123", "http://ho st:8123"}) {
    INFO(url);
    const std::string e = with(std::string("    url: \"") + url + "\"\n");
    CHECK(e.find("outputs.clickhouse.url") != std::string::npos);
  }
  CHECK(with("    database: \"my-db\"\n").find("outputs.clickhouse.database") != std::string::npos);
  CHECK(with("    events_table: \"x;drop\"\n").find("outputs.clickhouse.events_table") != std::string::npos);
  CHECK(with("    events_table: \"\"\n    alerts_table: \"\"\n").find("nothing to send") != std::string::npos);
  CHECK(with("    events_table: \"\"\n").empty());  // alerts only
  CHECK(with("    batch_rows: 0\n").find("out of range") != std::string::npos);
  CHECK(with("    max_buffer_bytes: 1KiB\n").find("out of range") != std::string::npos);
  CHECK(with("    password_file: /nonexistent/dnsvigil-ch-password\n").find("cannot read") != std::string::npos);
}

TEST_CASE("outputs.clickhouse: the password is read from its file, without the line end", "[config][clickhouse]") {
  char path[] = "/tmp/dnsvigil-test-chpw-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string text = "s3cret word\r\nignored second line\n";
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  const config::Settings s =
      load_text(std::string("outputs:\n  clickhouse:\n    enabled: true\n    password_file: ") + path + "\n");
  unlink(path);
  CHECK(s.outputs.clickhouse.password == "s3cret word");
  // Not enabled: the file is not read.
  CHECK(load_text("outputs:\n  clickhouse:\n    password_file: /nonexistent\n").outputs.clickhouse.password.empty());
}
