// The name walker: decoding, presentation, and one test per guard.
#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "dns_builder.hpp"
#include "dnsvigil/dnsparse/name.hpp"

using namespace dnsvigil::dnsparse;
using dnsvigil::test::Wire;

namespace {

// A message whose header is 12 zero octets, so names start at offset 12.
Wire msg() {
  Wire w;
  w.header(0, 0, 0, 0, 0, 0);
  return w;
}

std::string text_of(const Wire& w, std::size_t off, bool trailing_dot = false) {
  std::array<char, limits::kMaxNameText> buf{};
  const auto r = name_to_text(Bytes{w.b}, off, buf, trailing_dot);
  if (!r.ok()) return "<" + std::string(error_id(r.error)) + ">";
  return {buf.data(), r.value};
}

Error error_at(const Wire& w, std::size_t off) { return check_name(Bytes{w.b}, off).error; }

}  // namespace

TEST_CASE("plain name decodes with its wire length, label count and end", "[name]") {
  const Wire w = msg().name("www.example.com");  // 3www7example3com0 at 12
  const NameInfo info = check_name(Bytes{w.b}, 12);
  CHECK(info.error == Error::ok);
  CHECK(info.wire_len == 17);
  CHECK(info.labels == 3);
  CHECK(info.end == 12 + 17);
  CHECK_FALSE(info.compressed);
  CHECK(text_of(w, 12) == "www.example.com");
  CHECK(text_of(w, 12, true) == "www.example.com.");
}

TEST_CASE("root name is one octet and prints as a dot", "[name]") {
  const Wire w = msg().u8(0);
  const NameInfo info = check_name(Bytes{w.b}, 12);
  CHECK(info.error == Error::ok);
  CHECK(info.wire_len == 1);
  CHECK(info.labels == 0);
  CHECK(text_of(w, 12) == ".");
  CHECK(text_of(w, 12, true) == ".");
}

TEST_CASE("compressed name follows a backward pointer; end is after the pointer", "[name]") {
  // 12: example.com, 25: www + pointer to 12
  Wire w = msg().name("example.com");
  w.name_labels("www").ptr(12);
  const NameInfo info = check_name(Bytes{w.b}, 25);
  CHECK(info.error == Error::ok);
  CHECK(info.compressed);
  CHECK(info.end == 25 + 4 + 2);
  CHECK(info.wire_len == 17);
  CHECK(text_of(w, 25) == "www.example.com");
}

TEST_CASE("guard: a label of 63 octets is accepted", "[name][guard]") {
  const std::string l63(63, 'a');
  const Wire w = msg().name(l63 + ".com");
  CHECK(error_at(w, 12) == Error::ok);
}

TEST_CASE("guard: label type 0x40 (extended/binary label) is rejected", "[name][guard]") {
  // 0x40 would read as a 64-octet label if the top bits were ignored.
  Wire w = msg().u8(0x40);
  for (int i = 0; i < 64; ++i) w.u8('a');
  w.u8(0);
  CHECK(error_at(w, 12) == Error::label_type);
  // RFC 2673 bit-string label 0x41.
  CHECK(error_at(msg().bytes({0x41, 0x08, 0xff, 0x00}), 12) == Error::label_type);
}

TEST_CASE("guard: label type 0x80 (reserved) is rejected", "[name][guard]") {
  CHECK(error_at(msg().bytes({0x80, 0x00}), 12) == Error::label_type);
  CHECK(error_at(msg().bytes({0xBF, 0x00}), 12) == Error::label_type);
}

TEST_CASE("guard: a forward pointer is rejected", "[name][guard]") {
  // 12: pointer to 14, 14: "a" root. Target after the pointer.
  const Wire w = msg().ptr(14).name("a");
  CHECK(error_at(w, 12) == Error::pointer_forward);
}

TEST_CASE("guard: a pointer to itself is rejected", "[name][guard]") {
  CHECK(error_at(msg().ptr(12), 12) == Error::pointer_forward);
}

TEST_CASE("guard: a pointer into its own name (a loop) is rejected", "[name][guard]") {
  // 12: "a" then pointer back to 12: backwards from the pointer, but not before the name start.
  Wire w = msg();
  w.name_labels("a").ptr(12);
  CHECK(error_at(w, 12) == Error::pointer_forward);
}

TEST_CASE("guard: a two-pointer loop is rejected", "[name][guard]") {
  // 12: "b" + ptr 16; 16: "a" + ptr 12. Entering at 16 goes back to 12, whose pointer goes
  // forward to 16 again: the second hop is not before the lowest offset seen.
  Wire w = msg();
  w.name_labels("b").ptr(16);
  w.name_labels("a").ptr(12);
  REQUIRE(w.size() == 20);
  CHECK(error_at(w, 16) == Error::pointer_forward);
}

TEST_CASE("guard: a pointer into the header is rejected", "[name][guard]") {
  CHECK(error_at(msg().ptr(0), 12) == Error::pointer_into_header);
  CHECK(error_at(msg().ptr(11), 12) == Error::pointer_into_header);
}

TEST_CASE("guard: the pointer hop cap", "[name][guard]") {
  // 12: "x" root (3 octets); then pointers each to the previous one, so walking from the last
  // pointer takes one hop per pointer without adding labels.
  Wire w = msg().name("x");
  std::uint16_t prev = 12;
  for (unsigned i = 0; i < limits::kMaxPointerHops + 1; ++i) {
    const auto here = static_cast<std::uint16_t>(w.size());
    w.ptr(prev);
    prev = here;
  }
  // The pointer written at hop number kMaxPointerHops is fine, one more is refused.
  const std::size_t last = w.size() - 2;
  CHECK(error_at(w, last - 2) == Error::ok);
  CHECK(error_at(w, last) == Error::too_many_pointers);
}

TEST_CASE("guard: 255 octets is the longest name", "[name][guard]") {
  // 63+63+63+61 octet labels: 4 length octets + 250 + root = 255.
  const std::string n255 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                           std::string(61, 'd');
  const Wire ok = msg().name(n255);
  const NameInfo info = check_name(Bytes{ok.b}, 12);
  CHECK(info.error == Error::ok);
  CHECK(info.wire_len == 255);
  const Wire bad = msg().name(n255 + "d");
  CHECK(error_at(bad, 12) == Error::name_too_long);
}

TEST_CASE("guard: the 255-octet limit holds across compression", "[name][guard]") {
  // 12: three 63-octet labels (193 octets in wire form); then a 62-octet label + pointer to
  // it: 63 + 193 = 256 octets once decompressed, although only 65 octets are on the wire.
  const std::string n193 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c');
  Wire w = msg().name(n193);
  const auto second = w.size();
  w.name_labels(std::string(62, 'z')).ptr(12);
  REQUIRE(check_name(Bytes{w.b}, 12).wire_len == 193);
  CHECK(error_at(w, second) == Error::name_too_long);
}

TEST_CASE("guard: truncated label, truncated pointer and missing root", "[name][guard]") {
  CHECK(error_at(msg().bytes({5, 'a', 'b'}), 12) == Error::truncated);  // label runs past the end
  CHECK(error_at(msg().bytes({0xC0}), 12) == Error::truncated);        // half a pointer
  CHECK(error_at(msg().bytes({1, 'a'}), 12) == Error::truncated);      // no root octet
  CHECK(error_at(msg(), 12) == Error::truncated);                      // nothing at all
}

TEST_CASE("presentation escapes specials with a backslash and other octets as \\DDD", "[name][text]") {
  // Labels: "a b" (space), "x.y" (a dot inside a label), "q\"", "\x01\xff", "_sip", "*".
  Wire w = msg();
  w.u8(3).text("a b").u8(3).text("x.y").u8(2).text("q\"").u8(2).bytes({0x01, 0xFF}).u8(4).text("_sip").u8(1).text("*").u8(0);
  CHECK(text_of(w, 12) == "a\\032b.x\\.y.q\\\".\\001\\255._sip.*");
  // Also ( ) ; @ $ and backslash, as BIND's dig escapes them.
  Wire s = msg();
  s.u8(7).text("()@$;\\a").u8(0);
  CHECK(text_of(s, 12) == "\\(\\)\\@\\$\\;\\\\a");
}

TEST_CASE("decode_name flattens compression and can fold case", "[name]") {
  Wire w = msg().name("Example.COM");
  const auto at = w.size();
  w.name_labels("WWW").ptr(12);
  WireName out;
  const NameInfo info = decode_name(Bytes{w.b}, at, out, true);
  REQUIRE(info.error == Error::ok);
  const auto expect = dnsvigil::test::Wire{}.name("www.example.com").b;
  CHECK(std::vector<std::uint8_t>(out.bytes().begin(), out.bytes().end()) == expect);
  CHECK(out.label_count() == 3);
  std::array<char, 64> buf{};
  TextWriter tw(buf);
  write_wire_name_text(out, tw);
  CHECK(tw.view() == "www.example.com");
  // Without folding, the case on the wire is kept.
  REQUIRE(decode_name(Bytes{w.b}, at, out, false).error == Error::ok);
  TextWriter tw2(buf);
  write_wire_name_text(out, tw2);
  CHECK(tw2.view() == "WWW.Example.COM");
}

TEST_CASE("name_to_text reports a buffer that is too small", "[name][text]") {
  const Wire w = msg().name("www.example.com");
  std::array<char, 8> small{};
  const auto r = name_to_text(Bytes{w.b}, 12, small);
  CHECK(r.error == Error::buffer_too_small);
}

TEST_CASE("a failed name leaves no partial text behind", "[name][text]") {
  Wire w = msg();
  w.name_labels("abc").ptr(40);  // forward pointer after one good label
  std::array<char, 64> buf{};
  TextWriter tw(buf);
  tw.put("x=");
  const NameInfo info = write_name_text(Bytes{w.b}, 12, tw);
  CHECK(info.error == Error::pointer_forward);
  CHECK(tw.view() == "x=");
}
