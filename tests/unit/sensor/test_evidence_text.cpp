// output::evidence_text: the one text form of an alert's evidence values that the syslog, report
// and ClickHouse outputs share.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dnsvigil/output/alert_text.hpp"

using dnsvigil::detect::EvidenceValue;
using dnsvigil::output::evidence_text;

TEST_CASE("evidence_text: scalars the same for every output") {
  for (const std::string_view sep : {",", ", ", ""}) {
    CHECK(evidence_text(EvidenceValue{std::int64_t{-1234567890123}}, sep) == "-1234567890123");
    CHECK(evidence_text(EvidenceValue{0.123456}, sep) == "0.1235");
    CHECK(evidence_text(EvidenceValue{2.0}, sep) == "2");
    CHECK(evidence_text(EvidenceValue{true}, sep) == "true");
    CHECK(evidence_text(EvidenceValue{false}, sep) == "false");
    CHECK(evidence_text(EvidenceValue{std::string("a \"b\"")}, sep) == "a \"b\"");
  }
}

TEST_CASE("evidence_text: lists joined, or a JSON array with every string escaped") {
  const EvidenceValue list{std::vector<std::string>{"a.example", "b\"q\\", std::string("c\x01\n", 3)}};
  CHECK(evidence_text(list, ",") == std::string("a.example,b\"q\\,c\x01\n", 18));
  CHECK(evidence_text(list, ", ") == std::string("a.example, b\"q\\, c\x01\n", 20));
  CHECK(evidence_text(list, "") == R"(["a.example","b\"q\\","c\u0001\u000a"])");
  CHECK(evidence_text(EvidenceValue{std::vector<std::string>{}}, "") == "[]");
  CHECK(evidence_text(EvidenceValue{std::vector<std::string>{}}, ",").empty());
}
