// Test helper: pcapng blocks written field by field (draft-ietf-opsawg-pcapng section 4), in
// either byte order, so that tests and the fuzz seeds can make well-formed and broken files.
// Tests only; allocation is fine here.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace dnsvigil::test {

class Pcapng {
 public:
  using Octets = std::vector<std::uint8_t>;

  /// `big_endian`: the byte order of the blocks that follow (each SHB may change it).
  explicit Pcapng(bool big_endian = false) : be_(big_endian) {}

  /// One option (code, value), padded to 32 bits.
  static Octets option(bool be, std::uint16_t code, const Octets& value) {
    Octets o;
    put16(o, be, code);
    put16(o, be, static_cast<std::uint16_t>(value.size()));
    o.insert(o.end(), value.begin(), value.end());
    while (o.size() % 4 != 0) o.push_back(0);
    return o;
  }
  Octets opt(std::uint16_t code, const Octets& value) const { return option(be_, code, value); }
  Octets opt_name(std::string_view name) const { return opt(2, Octets(name.begin(), name.end())); }
  Octets opt_tsresol(std::uint8_t r) const { return opt(9, Octets{r}); }
  Octets opt_tsoffset(std::int64_t seconds) const {
    Octets v;
    put64(v, be_, static_cast<std::uint64_t>(seconds));
    return opt(14, v);
  }
  Octets opt_end() const { return opt(0, {}); }

  /// Section Header Block: byte-order magic, version, section length -1, options.
  Pcapng& shb(bool big_endian, std::uint16_t major = 1, std::uint16_t minor = 0, const Octets& options = {}) {
    be_ = big_endian;
    Octets body;
    put32(body, be_, 0x1A2B3C4D);
    put16(body, be_, major);
    put16(body, be_, minor);
    put64(body, be_, ~std::uint64_t{0});
    body.insert(body.end(), options.begin(), options.end());
    return block(0x0A0D0D0A, body);
  }
  /// Interface Description Block: link type (LINKTYPE_*), reserved, snap length, options.
  Pcapng& idb(std::uint16_t linktype, std::uint32_t snaplen, const Octets& options = {}) {
    Octets body;
    put16(body, be_, linktype);
    put16(body, be_, 0);
    put32(body, be_, snaplen);
    body.insert(body.end(), options.begin(), options.end());
    return block(1, body);
  }
  /// Enhanced Packet Block: interface, time stamp (high, low), captured and original length, data.
  Pcapng& epb(std::uint32_t iface, std::uint64_t ts, const Octets& data, std::uint32_t orig = 0,
              std::int64_t caplen = -1) {
    Octets body;
    put32(body, be_, iface);
    put32(body, be_, static_cast<std::uint32_t>(ts >> 32));
    put32(body, be_, static_cast<std::uint32_t>(ts));
    put32(body, be_, caplen < 0 ? static_cast<std::uint32_t>(data.size()) : static_cast<std::uint32_t>(caplen));
    put32(body, be_, orig != 0 ? orig : static_cast<std::uint32_t>(data.size()));
    padded(body, data);
    return block(6, body);
  }
  /// Simple Packet Block: original length, data (interface 0, no time stamp).
  Pcapng& spb(std::uint32_t orig, const Octets& data) {
    Octets body;
    put32(body, be_, orig);
    padded(body, data);
    return block(3, body);
  }
  /// Obsolete Packet Block: interface (16 bits), drops (16 bits), time stamp, lengths, data.
  Pcapng& pb(std::uint16_t iface, std::uint64_t ts, const Octets& data) {
    Octets body;
    put16(body, be_, iface);
    put16(body, be_, 0);
    put32(body, be_, static_cast<std::uint32_t>(ts >> 32));
    put32(body, be_, static_cast<std::uint32_t>(ts));
    put32(body, be_, static_cast<std::uint32_t>(data.size()));
    put32(body, be_, static_cast<std::uint32_t>(data.size()));
    padded(body, data);
    return block(2, body);
  }
  /// Any block: type, total length, body, total length.
  Pcapng& block(std::uint32_t type, const Octets& body) {
    const auto len = static_cast<std::uint32_t>(12 + body.size());
    put32(out, be_, type);
    put32(out, be_, len);
    out.insert(out.end(), body.begin(), body.end());
    put32(out, be_, len);
    return *this;
  }
  /// Raw octets (for broken blocks).
  Pcapng& raw(const Octets& o) {
    out.insert(out.end(), o.begin(), o.end());
    return *this;
  }
  [[nodiscard]] bool big_endian() const noexcept { return be_; }

  Octets out;

  static void put16(Octets& o, bool be, std::uint16_t v) {
    if (be) {
      o.push_back(static_cast<std::uint8_t>(v >> 8));
      o.push_back(static_cast<std::uint8_t>(v));
    } else {
      o.push_back(static_cast<std::uint8_t>(v));
      o.push_back(static_cast<std::uint8_t>(v >> 8));
    }
  }
  static void put32(Octets& o, bool be, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) o.push_back(static_cast<std::uint8_t>(v >> (be ? 24 - 8 * i : 8 * i)));
  }
  static void put64(Octets& o, bool be, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) o.push_back(static_cast<std::uint8_t>(v >> (be ? 56 - 8 * i : 8 * i)));
  }

 private:
  static void padded(Octets& body, const Octets& data) {
    body.insert(body.end(), data.begin(), data.end());
    while (body.size() % 4 != 0) body.push_back(0);
  }
  bool be_;
};

}  // namespace dnsvigil::test
