// A zero-copy view of one DNS message: header, sections, record views, anomalies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

#include "dnsvigil/dnsparse/error.hpp"
#include "dnsvigil/dnsparse/name.hpp"
#include "dnsvigil/dnsparse/wire.hpp"

namespace dnsvigil::dnsparse {

/// Recoverable oddities found while parsing. The message is still usable. Ids are stable
/// (they appear in JSON output and metrics); docs/anomalies.md describes each one.
enum class Anomaly : std::uint8_t {
  trailing_bytes,         ///< octets after the last record the header announced
  count_mismatch,         ///< the header announced more records than the message holds
  z_bit_set,              ///< the reserved Z header bit is 1 (RFC 1035 §4.1.1: must be zero)
  qdcount_not_one,        ///< QDCOUNT is 0 or more than 1 for an opcode that expects exactly 1 (the
                          ///< sensor withdraws it from zone-transfer continuations, RFC 5936 §2.2.1)
  rr_malformed,           ///< a record after the question is invalid; it and the rest are ignored
  rdata_malformed,        ///< a record's RDATA does not have the layout its type requires
  opt_multiple,           ///< more than one OPT record (RFC 6891 §6.1.1: FORMERR)
  opt_misplaced,          ///< an OPT record outside the additional section
  opt_bad_owner,          ///< an OPT record whose owner is not the root name
  edns_option_malformed,  ///< an EDNS option overruns the OPT RDATA, or ECS/cookie is mis-sized
  tsig_not_last,          ///< a TSIG record that is not the last additional record (RFC 8945 §5.1)
  opcode_unassigned,      ///< opcode 3 or 7-15
  qname_non_printable,    ///< the question name holds an octet outside 0x21-0x7E, or a '.' inside a label
  query_has_answers,      ///< a standard query (QR=0, opcode QUERY) carrying answer records
  qclass_unusual,         ///< question class other than IN, CH, HS, NONE, ANY
  ttl_high_bit,           ///< a TTL with the top bit set (RFC 2181 §8: treat as zero)
};

/// Number of Anomaly values.
inline constexpr std::size_t kAnomalyCount = static_cast<std::size_t>(Anomaly::ttl_high_bit) + 1;

/// Stable snake_case id of an anomaly, e.g. "trailing_bytes".
[[nodiscard]] std::string_view anomaly_id(Anomaly a) noexcept;

/// A small set of anomalies.
class AnomalySet {
 public:
  constexpr void set(Anomaly a) noexcept { bits_ |= bit(a); }
  constexpr void reset(Anomaly a) noexcept { bits_ &= ~bit(a); }
  [[nodiscard]] constexpr bool test(Anomaly a) const noexcept { return (bits_ & bit(a)) != 0; }
  [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
  [[nodiscard]] constexpr std::uint32_t bits() const noexcept { return bits_; }
  constexpr void merge(AnomalySet o) noexcept { bits_ |= o.bits_; }
  /// Calls f(Anomaly) for each member in id order.
  template <class F>
  constexpr void for_each(F&& f) const noexcept {
    for (std::size_t i = 0; i < kAnomalyCount; ++i)
      if ((bits_ >> i) & 1U) f(static_cast<Anomaly>(i));
  }

 private:
  static constexpr std::uint32_t bit(Anomaly a) noexcept { return std::uint32_t{1} << static_cast<unsigned>(a); }
  std::uint32_t bits_ = 0;
};

/// The four sections of a message (RFC 1035 §4.1).
enum class Section : std::uint8_t { question = 0, answer = 1, authority = 2, additional = 3 };

/// The fixed header (RFC 1035 §4.1.1), counts as written on the wire (never trusted for sizing).
struct Header {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  [[nodiscard]] constexpr bool qr() const noexcept { return (flags & 0x8000) != 0; }
  [[nodiscard]] constexpr std::uint8_t opcode() const noexcept { return static_cast<std::uint8_t>((flags >> 11) & 0xF); }
  [[nodiscard]] constexpr bool aa() const noexcept { return (flags & 0x0400) != 0; }
  [[nodiscard]] constexpr bool tc() const noexcept { return (flags & 0x0200) != 0; }
  [[nodiscard]] constexpr bool rd() const noexcept { return (flags & 0x0100) != 0; }
  [[nodiscard]] constexpr bool ra() const noexcept { return (flags & 0x0080) != 0; }
  [[nodiscard]] constexpr bool z() const noexcept { return (flags & 0x0040) != 0; }
  [[nodiscard]] constexpr bool ad() const noexcept { return (flags & 0x0020) != 0; }
  [[nodiscard]] constexpr bool cd() const noexcept { return (flags & 0x0010) != 0; }
  /// The 4-bit RCODE of the header (see Message::rcode() for the EDNS-extended value).
  [[nodiscard]] constexpr std::uint8_t rcode() const noexcept { return static_cast<std::uint8_t>(flags & 0xF); }
};

/// One record (or question) as offsets into the message. Questions have ttl = 0 and no RDATA.
struct RecordView {
  std::uint16_t name = 0;      ///< offset of the owner name
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint16_t rdata = 0;     ///< offset of RDATA
  std::uint16_t rdlength = 0;
  std::uint32_t ttl = 0;
  Section section = Section::question;

  /// Offset just past this record.
  [[nodiscard]] constexpr std::size_t end() const noexcept { return std::size_t{rdata} + rdlength; }
};

/// Iterates the records of one section of a parsed message. Cheap to copy.
class RecordRange {
 public:
  class iterator {
   public:
    using value_type = RecordView;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;
    iterator() = default;
    iterator(Bytes msg, std::size_t pos, std::uint16_t left, Section s) noexcept
        : msg_(msg), pos_(pos), left_(left), section_(s) {
      load();
    }
    const RecordView& operator*() const noexcept { return cur_; }
    const RecordView* operator->() const noexcept { return &cur_; }
    iterator& operator++() noexcept {
      pos_ = next_;
      --left_;
      load();
      return *this;
    }
    void operator++(int) noexcept { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.left_ == b.left_; }

   private:
    void load() noexcept;
    Bytes msg_;
    std::size_t pos_ = 0, next_ = 0;
    std::uint16_t left_ = 0;
    Section section_ = Section::question;
    RecordView cur_;
  };

  RecordRange() = default;
  RecordRange(Bytes msg, std::size_t start, std::uint16_t count, Section s) noexcept
      : msg_(msg), start_(start), count_(count), section_(s) {}
  [[nodiscard]] iterator begin() const noexcept { return {msg_, start_, count_, section_}; }
  [[nodiscard]] iterator end() const noexcept { return {}; }
  [[nodiscard]] std::uint16_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }

 private:
  Bytes msg_;
  std::size_t start_ = 0;
  std::uint16_t count_ = 0;
  Section section_ = Section::question;
};

/// EDNS(0) fields of the OPT record (RFC 6891 §6.1.3).
struct Edns {
  std::uint16_t udp_size = 0;     ///< requestor's UDP payload size (the OPT CLASS field)
  std::uint8_t ext_rcode = 0;     ///< upper 8 bits of the extended RCODE
  std::uint8_t version = 0;
  bool do_bit = false;            ///< DNSSEC OK (RFC 3225)
  std::uint16_t z = 0;            ///< remaining flag bits (must be zero)
  Bytes options;                  ///< the OPT RDATA: a sequence of options (see rdata.hpp)
};

/// A parsed DNS message. It views the caller's bytes, which must outlive it.
/// parse() walks every record once, validating names and the RDATA of known types, and
/// remembers where each section starts; sections are then iterated without re-validation.
class Message {
 public:
  /// Parses `wire` into `out`. Fatal problems (no header, an invalid question) return an error
  /// and leave `out` unusable; everything recoverable is recorded in anomalies(). A record that
  /// cannot be parsed after the question ends parsing: the records before it stay available.
  [[nodiscard]] static Error parse(Bytes wire, Message& out) noexcept;

  [[nodiscard]] Bytes wire() const noexcept { return wire_; }
  [[nodiscard]] const Header& header() const noexcept { return header_; }
  [[nodiscard]] AnomalySet anomalies() const noexcept { return anomalies_; }
  /// Withdraws an anomaly the parser could not judge without context it does not have: the
  /// sensor knows when a question-less response continues a zone transfer (qdcount_not_one).
  void clear_anomaly(Anomaly a) noexcept { anomalies_.reset(a); }
  /// Records parsed in a section; may be fewer than the header count (see count_mismatch).
  [[nodiscard]] std::uint16_t count(Section s) const noexcept { return counts_[static_cast<std::size_t>(s)]; }
  /// The records of a section, in wire order.
  [[nodiscard]] RecordRange records(Section s) const noexcept {
    const auto i = static_cast<std::size_t>(s);
    return {wire_, starts_[i], counts_[i], s};
  }

  /// True when there is at least one question.
  [[nodiscard]] bool has_question() const noexcept { return counts_[0] != 0; }
  /// The first question (name offset, type, class); valid when has_question().
  [[nodiscard]] const RecordView& question() const noexcept { return question_; }
  /// Wire length of the first question's name.
  [[nodiscard]] std::uint8_t qname_wire_len() const noexcept { return qname_len_; }
  /// Labels of the first question's name.
  [[nodiscard]] std::uint8_t qname_labels() const noexcept { return qname_labels_; }

  /// True when the message carries an OPT record.
  [[nodiscard]] bool has_edns() const noexcept { return has_opt_; }
  /// The (first) OPT record; valid when has_edns().
  [[nodiscard]] const RecordView& opt_record() const noexcept { return opt_; }
  /// EDNS fields decoded from the OPT record.
  [[nodiscard]] Result<Edns> edns() const noexcept;
  /// True when the additional section carries a TSIG record.
  [[nodiscard]] bool has_tsig() const noexcept { return has_tsig_; }
  /// The TSIG record; valid when has_tsig().
  [[nodiscard]] const RecordView& tsig_record() const noexcept { return tsig_; }

  /// Response code including the EDNS extension bits.
  [[nodiscard]] std::uint16_t rcode() const noexcept;
  /// Offset just past the last parsed record.
  [[nodiscard]] std::size_t parsed_end() const noexcept { return end_; }

 private:
  Bytes wire_;
  Header header_;
  AnomalySet anomalies_;
  std::array<std::uint16_t, 4> counts_{};
  std::array<std::uint16_t, 4> starts_{};
  RecordView question_;
  RecordView opt_;
  RecordView tsig_;
  std::uint16_t end_ = 0;
  std::uint8_t qname_len_ = 0;
  std::uint8_t qname_labels_ = 0;
  bool has_opt_ = false;
  bool has_tsig_ = false;
};

}  // namespace dnsvigil::dnsparse
