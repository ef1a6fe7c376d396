// Typed, zero-copy accessors for RDATA. Every accessor checks the record's type (wrong_type)
// and layout (bad_rdata, or the name walker's error); names are returned as message offsets.
#pragma once

#include <array>
#include <cstdint>

#include "dnsvigil/dnsparse/error.hpp"
#include "dnsvigil/dnsparse/message.hpp"
#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::dnsparse::rdata {

/// Offset of a domain name inside the message; decode it with the functions of name.hpp.
struct NameRef {
  std::uint16_t offset = 0;
};

/// A sequence of <character-string>s (RFC 1035 §3.3): length octet + octets, repeated.
class CharStrings {
 public:
  class iterator {
   public:
    iterator() = default;
    explicit iterator(Bytes rest) noexcept : rest_(rest) {}
    Bytes operator*() const noexcept { return rest_.subspan(1, rest_[0]); }
    iterator& operator++() noexcept {
      rest_ = rest_.subspan(std::size_t{rest_[0]} + 1);
      return *this;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.rest_.size() == b.rest_.size(); }

   private:
    Bytes rest_;
  };
  CharStrings() = default;
  /// `data` must already be validated (see txt()).
  explicit CharStrings(Bytes data) noexcept : data_(data) {}
  [[nodiscard]] iterator begin() const noexcept { return iterator{data_}; }
  [[nodiscard]] iterator end() const noexcept { return iterator{}; }
  [[nodiscard]] Bytes raw() const noexcept { return data_; }

 private:
  Bytes data_;
};

struct Mx { std::uint16_t preference = 0; NameRef exchange; };
struct Soa {
  NameRef mname, rname;
  std::uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
};
struct Srv { std::uint16_t priority = 0, weight = 0, port = 0; NameRef target; };
struct Naptr {
  std::uint16_t order = 0, preference = 0;
  Bytes flags, services, regexp;  ///< character-string contents (length octet removed)
  NameRef replacement;
};
struct Caa { std::uint8_t flags = 0; Bytes tag, value; };
struct Hinfo { Bytes cpu, os; };
struct Sshfp { std::uint8_t algorithm = 0, fp_type = 0; Bytes fingerprint; };
struct Tlsa { std::uint8_t usage = 0, selector = 0, matching = 0; Bytes data; };

/// One SvcParam (RFC 9460 §2.2): key and value octets.
struct SvcParam { std::uint16_t key = 0; Bytes value; };
/// SvcParams of an SVCB/HTTPS record, in wire order (validated by svcb()).
class SvcParams {
 public:
  class iterator {
   public:
    iterator() = default;
    explicit iterator(Bytes rest) noexcept : rest_(rest) {}
    SvcParam operator*() const noexcept {
      return {load_be16(rest_.data()), rest_.subspan(4, load_be16(rest_.data() + 2))};
    }
    iterator& operator++() noexcept {
      rest_ = rest_.subspan(4 + std::size_t{load_be16(rest_.data() + 2)});
      return *this;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.rest_.size() == b.rest_.size(); }

   private:
    Bytes rest_;
  };
  SvcParams() = default;
  explicit SvcParams(Bytes data) noexcept : data_(data) {}
  [[nodiscard]] iterator begin() const noexcept { return iterator{data_}; }
  [[nodiscard]] iterator end() const noexcept { return iterator{}; }

 private:
  Bytes data_;
};
/// SVCB (64) and HTTPS (65), RFC 9460.
struct Svcb { std::uint16_t priority = 0; NameRef target; SvcParams params; };

struct Ds { std::uint16_t key_tag = 0; std::uint8_t algorithm = 0, digest_type = 0; Bytes digest; };
struct Dnskey {
  std::uint16_t flags = 0;
  std::uint8_t protocol = 0, algorithm = 0;
  Bytes public_key;
  std::uint16_t key_tag = 0;  ///< computed as in RFC 4034 Appendix B
};
struct Rrsig {
  std::uint16_t type_covered = 0;
  std::uint8_t algorithm = 0, labels = 0;
  std::uint32_t original_ttl = 0, expiration = 0, inception = 0;
  std::uint16_t key_tag = 0;
  NameRef signer;
  Bytes signature;
};

/// The type bitmap of NSEC/NSEC3/CSYNC (RFC 4034 §4.1.2), iterated as type numbers.
class TypeBitmap {
 public:
  TypeBitmap() = default;
  explicit TypeBitmap(Bytes data) noexcept : data_(data) {}
  /// Calls f(std::uint16_t type) for every type present, ascending.
  template <class F>
  void for_each(F&& f) const noexcept {
    std::size_t i = 0;
    while (data_.size() - i >= 2) {
      const unsigned window = data_[i];
      const std::size_t len = data_[i + 1];
      const Bytes bits = data_.subspan(i + 2, len);
      for (std::size_t b = 0; b < bits.size(); ++b)
        for (unsigned bit = 0; bit < 8; ++bit)
          if (bits[b] & (0x80U >> bit)) f(static_cast<std::uint16_t>(window * 256 + b * 8 + bit));
      i += 2 + len;
    }
  }
  [[nodiscard]] Bytes raw() const noexcept { return data_; }

 private:
  Bytes data_;
};
struct Nsec { NameRef next; TypeBitmap types; };
struct Nsec3 {
  std::uint8_t hash_algorithm = 0, flags = 0;
  std::uint16_t iterations = 0;
  Bytes salt, next_hashed;
  TypeBitmap types;
};
struct Nsec3Param { std::uint8_t hash_algorithm = 0, flags = 0; std::uint16_t iterations = 0; Bytes salt; };

/// TSIG (RFC 8945 §4.2).
struct Tsig {
  NameRef algorithm;
  std::uint64_t time_signed = 0;  ///< 48-bit seconds since the epoch
  std::uint16_t fudge = 0;
  Bytes mac;
  std::uint16_t original_id = 0, error = 0;
  Bytes other;
};

/// One EDNS option (RFC 6891 §6.1.2).
struct EdnsOption { std::uint16_t code = 0; Bytes data; };
/// The options of an OPT record, validated by Message::edns() / edns_options().
class EdnsOptions {
 public:
  class iterator {
   public:
    iterator() = default;
    explicit iterator(Bytes rest) noexcept : rest_(rest) {}
    EdnsOption operator*() const noexcept {
      return {load_be16(rest_.data()), rest_.subspan(4, load_be16(rest_.data() + 2))};
    }
    iterator& operator++() noexcept {
      rest_ = rest_.subspan(4 + std::size_t{load_be16(rest_.data() + 2)});
      return *this;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.rest_.size() == b.rest_.size(); }

   private:
    Bytes rest_;
  };
  EdnsOptions() = default;
  explicit EdnsOptions(Bytes data) noexcept : data_(data) {}
  [[nodiscard]] iterator begin() const noexcept { return iterator{data_}; }
  [[nodiscard]] iterator end() const noexcept { return iterator{}; }

 private:
  Bytes data_;
};
/// EDNS Client Subnet (RFC 7871 §6).
struct ClientSubnet {
  std::uint16_t family = 0;  ///< 1 = IPv4, 2 = IPv6
  std::uint8_t source_prefix = 0, scope_prefix = 0;
  std::array<std::uint8_t, 16> address{};  ///< zero-padded to the family's full length
};
/// DNS Cookie (RFC 7873 §4).
struct Cookie { Bytes client, server; };

// ---- accessors ---------------------------------------------------------------------------

/// A (1): four octets.
[[nodiscard]] Result<std::array<std::uint8_t, 4>> a(const Message& m, const RecordView& rr) noexcept;
/// AAAA (28): sixteen octets.
[[nodiscard]] Result<std::array<std::uint8_t, 16>> aaaa(const Message& m, const RecordView& rr) noexcept;
/// NS, CNAME, PTR, DNAME: the single name that is the whole RDATA.
[[nodiscard]] Result<NameRef> single_name(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Mx> mx(const Message& m, const RecordView& rr) noexcept;
/// KX (36) has the MX layout.
[[nodiscard]] Result<Mx> kx(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Soa> soa(const Message& m, const RecordView& rr) noexcept;
/// TXT (16) and SPF (99): all character-strings.
[[nodiscard]] Result<CharStrings> txt(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Hinfo> hinfo(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Srv> srv(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Naptr> naptr(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Caa> caa(const Message& m, const RecordView& rr) noexcept;
/// SVCB (64) and HTTPS (65). SvcParams are checked for framing and ascending, unique keys.
[[nodiscard]] Result<Svcb> svcb(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Sshfp> sshfp(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Tlsa> tlsa(const Message& m, const RecordView& rr) noexcept;
/// DS (43) and CDS (59).
[[nodiscard]] Result<Ds> ds(const Message& m, const RecordView& rr) noexcept;
/// DNSKEY (48) and CDNSKEY (60).
[[nodiscard]] Result<Dnskey> dnskey(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Rrsig> rrsig(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Nsec> nsec(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Nsec3> nsec3(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Nsec3Param> nsec3param(const Message& m, const RecordView& rr) noexcept;
[[nodiscard]] Result<Tsig> tsig(const Message& m, const RecordView& rr) noexcept;
/// Any record: the RDATA octets (NULL, unknown types, RFC 3597).
[[nodiscard]] Bytes raw(const Message& m, const RecordView& rr) noexcept;

/// The options of the message's OPT record (no_edns without one; bad_rdata if they overrun).
[[nodiscard]] Result<EdnsOptions> edns_options(const Message& m) noexcept;
/// Decodes an EDNS Client Subnet option's data (bad_rdata if mis-sized, RFC 7871 §6).
[[nodiscard]] Result<ClientSubnet> client_subnet(Bytes option_data) noexcept;
/// Splits a COOKIE option's data: 8-octet client cookie, optional 8..32-octet server cookie.
[[nodiscard]] Result<Cookie> cookie(Bytes option_data) noexcept;

/// Checks the RDATA of a record of a known type; unknown types are always valid.
/// Used by Message::parse() to set rdata_malformed.
[[nodiscard]] Error validate(const Message& m, const RecordView& rr) noexcept;

/// RFC 4034 Appendix B key tag over DNSKEY RDATA.
[[nodiscard]] std::uint16_t key_tag(Bytes dnskey_rdata) noexcept;

}  // namespace dnsvigil::dnsparse::rdata
