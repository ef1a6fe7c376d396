#include "dnsvigil/dnsparse/message.hpp"

#include <array>

#include "dnsvigil/dnsparse/rdata.hpp"
#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::dnsparse {

std::string_view anomaly_id(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::trailing_bytes: return "trailing_bytes";
    case Anomaly::count_mismatch: return "count_mismatch";
    case Anomaly::z_bit_set: return "z_bit_set";
    case Anomaly::qdcount_not_one: return "qdcount_not_one";
    case Anomaly::rr_malformed: return "rr_malformed";
    case Anomaly::rdata_malformed: return "rdata_malformed";
    case Anomaly::opt_multiple: return "opt_multiple";
    case Anomaly::opt_misplaced: return "opt_misplaced";
    case Anomaly::opt_bad_owner: return "opt_bad_owner";
    case Anomaly::edns_option_malformed: return "edns_option_malformed";
    case Anomaly::tsig_not_last: return "tsig_not_last";
    case Anomaly::opcode_unassigned: return "opcode_unassigned";
    case Anomaly::qname_non_printable: return "qname_non_printable";
    case Anomaly::query_has_answers: return "query_has_answers";
    case Anomaly::qclass_unusual: return "qclass_unusual";
    case Anomaly::ttl_high_bit: return "ttl_high_bit";
  }
  return "unknown";
}

namespace {

// Skips a name already validated by parse(): labels until the root octet or the first pointer.
std::size_t skip_valid_name(Bytes msg, std::size_t p) noexcept {
  for (;;) {
    const std::uint8_t b = msg[p];
    if (b == 0) return p + 1;
    if ((b & 0xC0) == 0xC0) return p + 2;
    p += std::size_t{b} + 1;
  }
}

// True when the EDNS options are well framed and the ones we interpret are well sized.
bool edns_options_sound(Bytes options) noexcept {
  std::size_t i = 0;
  while (i != options.size()) {
    if (options.size() - i < 4) return false;
    const std::uint16_t code = load_be16(options.data() + i);
    const std::size_t len = load_be16(options.data() + i + 2);
    if (len > options.size() - i - 4) return false;
    const Bytes data = options.subspan(i + 4, len);
    if (code == ednsopt::CLIENT_SUBNET && !rdata::client_subnet(data).ok()) return false;
    if (code == ednsopt::COOKIE && !rdata::cookie(data).ok()) return false;
    i += 4 + len;
  }
  return true;
}

// Octets that make a question name odd: controls, space, DEL and above, and '.' inside a label.
constexpr std::array<std::uint8_t, 256> kNonPrintable = [] {
  std::array<std::uint8_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) t[c] = (c <= 0x20 || c >= 0x7F || c == '.') ? 1 : 0;
  return t;
}();

}  // namespace

void RecordRange::iterator::load() noexcept {
  if (left_ == 0) return;
  std::size_t p = skip_valid_name(msg_, pos_);
  cur_.name = static_cast<std::uint16_t>(pos_);
  cur_.type = load_be16(msg_.data() + p);
  cur_.klass = load_be16(msg_.data() + p + 2);
  cur_.section = section_;
  if (section_ == Section::question) {
    p += 4;
    cur_.ttl = 0;
    cur_.rdlength = 0;
  } else {
    cur_.ttl = load_be32(msg_.data() + p + 4);
    cur_.rdlength = load_be16(msg_.data() + p + 8);
    p += 10;
  }
  cur_.rdata = static_cast<std::uint16_t>(p);
  next_ = p + cur_.rdlength;
}

Error Message::parse(Bytes wire, Message& out) noexcept {
  out = Message{};
  if (wire.size() < limits::kHeaderSize) return Error::header_truncated;
  if (wire.size() > limits::kMaxMessage) return Error::message_too_large;
  out.wire_ = wire;
  Header& h = out.header_;
  const std::uint8_t* p = wire.data();
  h.id = load_be16(p);
  h.flags = load_be16(p + 2);
  h.qdcount = load_be16(p + 4);
  h.ancount = load_be16(p + 6);
  h.nscount = load_be16(p + 8);
  h.arcount = load_be16(p + 10);

  AnomalySet& an = out.anomalies_;
  if (h.z()) an.set(Anomaly::z_bit_set);
  const std::uint8_t op = h.opcode();
  if (op == 3 || op > opcode::DSO) an.set(Anomaly::opcode_unassigned);
  if ((op == opcode::QUERY || op == opcode::NOTIFY || op == opcode::UPDATE) && h.qdcount != 1)
    an.set(Anomaly::qdcount_not_one);

  const std::size_t size = wire.size();
  std::size_t pos = limits::kHeaderSize;

  // Question section. A broken first question makes the message useless: fatal.
  out.starts_[0] = static_cast<std::uint16_t>(pos);
  bool stop = false;
  for (std::uint16_t i = 0; i < h.qdcount; ++i) {
    if (pos == size) {
      an.set(Anomaly::count_mismatch);
      stop = true;
      break;
    }
    std::uint8_t odd = 0;
    const NameInfo ni = walk_name(wire, pos, [&](Bytes label) noexcept {
      for (const std::uint8_t c : label) odd |= kNonPrintable[c];
    });
    Error err = ni.error;
    if (err == Error::ok && size - ni.end < 4) err = Error::truncated;
    if (err != Error::ok) {
      if (i == 0) return err;
      an.set(Anomaly::rr_malformed);
      stop = true;
      break;
    }
    if (i == 0) {
      RecordView& q = out.question_;
      q.name = static_cast<std::uint16_t>(pos);
      q.type = load_be16(p + ni.end);
      q.klass = load_be16(p + ni.end + 2);
      q.rdata = static_cast<std::uint16_t>(ni.end + 4);
      q.section = Section::question;
      out.qname_len_ = ni.wire_len;
      out.qname_labels_ = ni.labels;
      if (odd != 0) an.set(Anomaly::qname_non_printable);
      switch (q.klass) {
        case rrclass::IN: case rrclass::CH: case rrclass::HS: case rrclass::NONE: case rrclass::ANY: break;
        default: an.set(Anomaly::qclass_unusual);
      }
    }
    pos = std::size_t{ni.end} + 4;
    ++out.counts_[0];
  }

  // Answer, authority, additional. Header counts only bound the loop; the bytes decide.
  const std::uint16_t announced[3] = {h.ancount, h.nscount, h.arcount};
  std::size_t tsig_index = 0;
  for (std::size_t s = 1; s < 4; ++s) {
    out.starts_[s] = static_cast<std::uint16_t>(pos);
    if (stop) continue;
    for (std::uint16_t i = 0; i < announced[s - 1]; ++i) {
      if (pos == size) {
        an.set(Anomaly::count_mismatch);
        stop = true;
        break;
      }
      // Fast paths for the two commonest owners: the root (OPT) and a pointer to the question
      // name, which the question loop has already walked.
      NameInfo ni;
      if (p[pos] == 0) {
        ni.end = static_cast<std::uint16_t>(pos + 1);
        ni.wire_len = 1;
      } else if (out.counts_[0] != 0 && size - pos >= 2 && p[pos] == 0xC0 && p[pos + 1] == limits::kHeaderSize) {
        ni.end = static_cast<std::uint16_t>(pos + 2);
        ni.wire_len = out.qname_len_;
        ni.labels = out.qname_labels_;
        ni.compressed = true;
      } else {
        ni = check_name(wire, pos);
      }
      if (ni.error != Error::ok || size - ni.end < 10) {
        an.set(Anomaly::rr_malformed);
        stop = true;
        break;
      }
      RecordView rr;
      rr.name = static_cast<std::uint16_t>(pos);
      rr.type = load_be16(p + ni.end);
      rr.klass = load_be16(p + ni.end + 2);
      rr.ttl = load_be32(p + ni.end + 4);
      rr.rdlength = load_be16(p + ni.end + 8);
      rr.rdata = static_cast<std::uint16_t>(ni.end + 10);
      rr.section = static_cast<Section>(s);
      if (rr.rdlength > size - rr.rdata) {
        an.set(Anomaly::rr_malformed);
        stop = true;
        break;
      }
      if (rr.type == rrtype::OPT) {
        if (out.has_opt_) an.set(Anomaly::opt_multiple);
        if (rr.section != Section::additional) an.set(Anomaly::opt_misplaced);
        if (ni.wire_len != 1) an.set(Anomaly::opt_bad_owner);
        if (!out.has_opt_) {
          out.opt_ = rr;
          out.has_opt_ = true;
          if (!edns_options_sound(wire.subspan(rr.rdata, rr.rdlength))) an.set(Anomaly::edns_option_malformed);
        }
      } else {
        if (rr.ttl & 0x80000000U) an.set(Anomaly::ttl_high_bit);
        if (rr.type == rrtype::TSIG && !out.has_tsig_) {
          out.tsig_ = rr;
          out.has_tsig_ = true;
          tsig_index = out.counts_[3];
          if (rr.section != Section::additional) an.set(Anomaly::tsig_not_last);
        }
        if (rdata::validate(out, rr) != Error::ok) an.set(Anomaly::rdata_malformed);
      }
      pos = rr.end();
      ++out.counts_[s];
    }
  }
  if (out.has_tsig_ && out.tsig_.section == Section::additional && tsig_index + 1 != out.counts_[3])
    an.set(Anomaly::tsig_not_last);
  out.end_ = static_cast<std::uint16_t>(pos);
  if (!stop && pos < size) an.set(Anomaly::trailing_bytes);
  if (!h.qr() && op == opcode::QUERY && out.counts_[1] != 0) an.set(Anomaly::query_has_answers);
  return Error::ok;
}

Result<Edns> Message::edns() const noexcept {
  if (!has_opt_) return Result<Edns>::fail(Error::no_edns);
  Edns e;
  e.udp_size = opt_.klass;
  e.ext_rcode = static_cast<std::uint8_t>(opt_.ttl >> 24);
  e.version = static_cast<std::uint8_t>(opt_.ttl >> 16);
  e.do_bit = (opt_.ttl & 0x8000U) != 0;
  e.z = static_cast<std::uint16_t>(opt_.ttl & 0x7FFFU);
  e.options = wire_.subspan(opt_.rdata, opt_.rdlength);
  return {e};
}

std::uint16_t Message::rcode() const noexcept {
  const std::uint16_t base = header_.rcode();
  if (!has_opt_) return base;
  return static_cast<std::uint16_t>(base | ((opt_.ttl >> 24) << 4));
}

}  // namespace dnsvigil::dnsparse
