#include "dnsvigil/dnsparse/rdata.hpp"

#include "dnsvigil/dnsparse/name.hpp"
#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::dnsparse::rdata {
namespace {

// Reads RDATA with a cursor over the message prefix that ends with this record, so that
// names may point backwards anywhere but their in-place part cannot leave the RDATA.
class RdataReader {
 public:
  RdataReader(const Message& m, const RecordView& rr) noexcept : c_(m.wire().first(rr.end()), rr.rdata) {}

  Cursor& cur() noexcept { return c_; }

  NameRef name() noexcept {
    if (c_.failed()) return {};
    const auto start = static_cast<std::uint16_t>(c_.pos());
    const NameInfo info = check_name(c_.data(), c_.pos());
    if (info.error != Error::ok) {
      name_error_ = info.error;
      c_.seek(c_.data().size() + 1);  // poison the cursor
      return {};
    }
    c_.seek(info.end);
    return {start};
  }
  /// A <character-string>: its contents.
  Bytes char_string() noexcept { return c_.bytes(c_.u8()); }

  /// ok when every read succeeded and the whole RDATA was consumed.
  template <class T>
  Result<T> finish(const T& v) const noexcept {
    if (name_error_ != Error::ok) return Result<T>::fail(name_error_);
    if (c_.failed() || !c_.at_end()) return Result<T>::fail(Error::bad_rdata);
    return {v};
  }

 private:
  Cursor c_;
  Error name_error_ = Error::ok;
};

template <class T>
Result<T> wrong() noexcept {
  return Result<T>::fail(Error::wrong_type);
}

bool type_bitmap_sound(Bytes b) noexcept {
  // RFC 4034 §4.1.2: windows ascending, each bitmap 1..32 octets.
  int last_window = -1;
  Cursor c(b);
  while (!c.at_end()) {
    const int window = c.u8();
    const std::uint8_t len = c.u8();
    c.skip(len);
    if (c.failed() || window <= last_window || len == 0 || len > 32) return false;
    last_window = window;
  }
  return true;
}

bool svc_value_sound(std::uint16_t key, Bytes v) noexcept {
  // RFC 9460 §7: per-key value formats.
  switch (key) {
    case 0:  // mandatory: non-empty list of 2-octet keys
      return !v.empty() && v.size() % 2 == 0;
    case 1: {  // alpn: non-empty list of non-empty length-prefixed ids filling the value
      if (v.empty()) return false;
      Cursor c(v);
      while (!c.at_end()) {
        const std::uint8_t n = c.u8();
        c.skip(n);
        if (c.failed() || n == 0) return false;
      }
      return true;
    }
    case 2:  // no-default-alpn: empty
      return v.empty();
    case 3:  // port
      return v.size() == 2;
    case 4:  // ipv4hint
      return !v.empty() && v.size() % 4 == 0;
    case 6:  // ipv6hint
      return !v.empty() && v.size() % 16 == 0;
    default:  // ech (5) and others: opaque
      return true;
  }
}

}  // namespace

Bytes raw(const Message& m, const RecordView& rr) noexcept { return m.wire().subspan(rr.rdata, rr.rdlength); }

Result<std::array<std::uint8_t, 4>> a(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::A) return wrong<std::array<std::uint8_t, 4>>();
  if (rr.rdlength != 4) return Result<std::array<std::uint8_t, 4>>::fail(Error::bad_rdata);
  std::array<std::uint8_t, 4> v;
  std::memcpy(v.data(), m.wire().data() + rr.rdata, 4);
  return {v};
}

Result<std::array<std::uint8_t, 16>> aaaa(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::AAAA) return wrong<std::array<std::uint8_t, 16>>();
  if (rr.rdlength != 16) return Result<std::array<std::uint8_t, 16>>::fail(Error::bad_rdata);
  std::array<std::uint8_t, 16> v;
  std::memcpy(v.data(), m.wire().data() + rr.rdata, 16);
  return {v};
}

Result<NameRef> single_name(const Message& m, const RecordView& rr) noexcept {
  switch (rr.type) {
    case rrtype::NS: case rrtype::CNAME: case rrtype::PTR: case rrtype::DNAME:
    case 3: case 4: case 7: case 8: case 9:  // MD, MF, MB, MG, MR (RFC 1035, obsolete)
      break;
    default: return wrong<NameRef>();
  }
  RdataReader r(m, rr);
  const NameRef n = r.name();
  return r.finish(n);
}

namespace {
Result<Mx> pref_name(const Message& m, const RecordView& rr) noexcept {
  RdataReader r(m, rr);
  Mx v;
  v.preference = r.cur().u16();
  v.exchange = r.name();
  return r.finish(v);
}
}  // namespace

Result<Mx> mx(const Message& m, const RecordView& rr) noexcept {
  return rr.type == rrtype::MX ? pref_name(m, rr) : wrong<Mx>();
}

Result<Mx> kx(const Message& m, const RecordView& rr) noexcept {
  return rr.type == rrtype::KX ? pref_name(m, rr) : wrong<Mx>();
}

Result<Soa> soa(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::SOA) return wrong<Soa>();
  RdataReader r(m, rr);
  Soa v;
  v.mname = r.name();
  v.rname = r.name();
  Cursor& c = r.cur();
  v.serial = c.u32();
  v.refresh = c.u32();
  v.retry = c.u32();
  v.expire = c.u32();
  v.minimum = c.u32();
  return r.finish(v);
}

Result<CharStrings> txt(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::TXT && rr.type != rrtype::SPF) return wrong<CharStrings>();
  // RFC 1035 §3.3.14: one or more character-strings.
  if (rr.rdlength == 0) return Result<CharStrings>::fail(Error::bad_rdata);
  RdataReader r(m, rr);
  while (!r.cur().at_end() && !r.cur().failed()) (void)r.char_string();
  return r.finish(CharStrings{raw(m, rr)});
}

Result<Hinfo> hinfo(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::HINFO) return wrong<Hinfo>();
  RdataReader r(m, rr);
  Hinfo v;
  v.cpu = r.char_string();
  v.os = r.char_string();
  return r.finish(v);
}

Result<Srv> srv(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::SRV) return wrong<Srv>();
  RdataReader r(m, rr);
  Srv v;
  v.priority = r.cur().u16();
  v.weight = r.cur().u16();
  v.port = r.cur().u16();
  v.target = r.name();
  return r.finish(v);
}

Result<Naptr> naptr(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::NAPTR) return wrong<Naptr>();
  RdataReader r(m, rr);
  Naptr v;
  v.order = r.cur().u16();
  v.preference = r.cur().u16();
  v.flags = r.char_string();
  v.services = r.char_string();
  v.regexp = r.char_string();
  v.replacement = r.name();
  return r.finish(v);
}

Result<Caa> caa(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::CAA) return wrong<Caa>();
  RdataReader r(m, rr);
  Caa v;
  v.flags = r.cur().u8();
  v.tag = r.char_string();
  // RFC 8659 §4.1: the tag is at least one octet.
  if (v.tag.empty()) return Result<Caa>::fail(Error::bad_rdata);
  v.value = r.cur().bytes(r.cur().remaining());
  return r.finish(v);
}

Result<Svcb> svcb(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::SVCB && rr.type != rrtype::HTTPS) return wrong<Svcb>();
  RdataReader r(m, rr);
  Svcb v;
  v.priority = r.cur().u16();
  v.target = r.name();
  Cursor& c = r.cur();
  const std::size_t params_start = c.pos();
  long last_key = -1;
  while (!c.failed() && !c.at_end()) {
    const std::uint16_t key = c.u16();
    const Bytes value = c.bytes(c.u16());
    // RFC 9460 §2.2: keys strictly increasing; values must have their key's format.
    if (c.failed() || key <= last_key || !svc_value_sound(key, value)) return Result<Svcb>::fail(Error::bad_rdata);
    last_key = key;
  }
  if (!c.failed()) v.params = SvcParams{c.data().subspan(params_start, c.pos() - params_start)};
  return r.finish(v);
}

Result<Sshfp> sshfp(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::SSHFP) return wrong<Sshfp>();
  RdataReader r(m, rr);
  Sshfp v;
  v.algorithm = r.cur().u8();
  v.fp_type = r.cur().u8();
  v.fingerprint = r.cur().bytes(r.cur().remaining());
  return r.finish(v);
}

Result<Tlsa> tlsa(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::TLSA) return wrong<Tlsa>();
  RdataReader r(m, rr);
  Tlsa v;
  v.usage = r.cur().u8();
  v.selector = r.cur().u8();
  v.matching = r.cur().u8();
  v.data = r.cur().bytes(r.cur().remaining());
  return r.finish(v);
}

Result<Ds> ds(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::DS && rr.type != rrtype::CDS) return wrong<Ds>();
  RdataReader r(m, rr);
  Ds v;
  v.key_tag = r.cur().u16();
  v.algorithm = r.cur().u8();
  v.digest_type = r.cur().u8();
  v.digest = r.cur().bytes(r.cur().remaining());
  return r.finish(v);
}

std::uint16_t key_tag(Bytes k) noexcept {
  // RFC 4034 Appendix B.1: algorithm 1 (RSA/MD5) uses bits of the modulus instead.
  if (k.size() >= 4 && k[3] == 1) return load_be16(k.data() + k.size() - 3);
  std::uint32_t ac = 0;
  for (std::size_t i = 0; i < k.size(); ++i) ac += (i & 1) ? k[i] : std::uint32_t{k[i]} << 8;
  ac += (ac >> 16) & 0xFFFF;
  return static_cast<std::uint16_t>(ac & 0xFFFF);
}

Result<Dnskey> dnskey(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::DNSKEY && rr.type != rrtype::CDNSKEY) return wrong<Dnskey>();
  RdataReader r(m, rr);
  Dnskey v;
  v.flags = r.cur().u16();
  v.protocol = r.cur().u8();
  v.algorithm = r.cur().u8();
  v.public_key = r.cur().bytes(r.cur().remaining());
  auto res = r.finish(v);
  if (res.ok()) res.value.key_tag = key_tag(raw(m, rr));
  return res;
}

Result<Rrsig> rrsig(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::RRSIG && rr.type != 24 /* SIG */) return wrong<Rrsig>();
  RdataReader r(m, rr);
  Cursor& c = r.cur();
  Rrsig v;
  v.type_covered = c.u16();
  v.algorithm = c.u8();
  v.labels = c.u8();
  v.original_ttl = c.u32();
  v.expiration = c.u32();
  v.inception = c.u32();
  v.key_tag = c.u16();
  v.signer = r.name();
  v.signature = c.bytes(c.remaining());
  return r.finish(v);
}

Result<Nsec> nsec(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::NSEC) return wrong<Nsec>();
  RdataReader r(m, rr);
  Nsec v;
  v.next = r.name();
  const Bytes bitmap = r.cur().bytes(r.cur().remaining());
  if (!r.cur().failed() && !type_bitmap_sound(bitmap)) return Result<Nsec>::fail(Error::bad_rdata);
  v.types = TypeBitmap{bitmap};
  return r.finish(v);
}

Result<Nsec3> nsec3(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::NSEC3) return wrong<Nsec3>();
  RdataReader r(m, rr);
  Cursor& c = r.cur();
  Nsec3 v;
  v.hash_algorithm = c.u8();
  v.flags = c.u8();
  v.iterations = c.u16();
  v.salt = c.bytes(c.u8());
  v.next_hashed = c.bytes(c.u8());
  const Bytes bitmap = c.bytes(c.remaining());
  if (!c.failed() && !type_bitmap_sound(bitmap)) return Result<Nsec3>::fail(Error::bad_rdata);
  v.types = TypeBitmap{bitmap};
  return r.finish(v);
}

Result<Nsec3Param> nsec3param(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::NSEC3PARAM) return wrong<Nsec3Param>();
  RdataReader r(m, rr);
  Cursor& c = r.cur();
  Nsec3Param v;
  v.hash_algorithm = c.u8();
  v.flags = c.u8();
  v.iterations = c.u16();
  v.salt = c.bytes(c.u8());
  return r.finish(v);
}

Result<Tsig> tsig(const Message& m, const RecordView& rr) noexcept {
  if (rr.type != rrtype::TSIG) return wrong<Tsig>();
  RdataReader r(m, rr);
  Cursor& c = r.cur();
  Tsig v;
  v.algorithm = r.name();
  const std::uint64_t hi = c.u16();
  v.time_signed = hi << 32 | c.u32();
  v.fudge = c.u16();
  v.mac = c.bytes(c.u16());
  v.original_id = c.u16();
  v.error = c.u16();
  v.other = c.bytes(c.u16());
  return r.finish(v);
}

Result<EdnsOptions> edns_options(const Message& m) noexcept {
  if (!m.has_edns()) return Result<EdnsOptions>::fail(Error::no_edns);
  const Bytes opts = raw(m, m.opt_record());
  Cursor c(opts);
  while (!c.failed() && !c.at_end()) {
    c.skip(2);
    c.skip(c.u16());
  }
  if (c.failed()) return Result<EdnsOptions>::fail(Error::bad_rdata);
  return {EdnsOptions{opts}};
}

Result<ClientSubnet> client_subnet(Bytes d) noexcept {
  Cursor c(d);
  ClientSubnet v;
  v.family = c.u16();
  v.source_prefix = c.u8();
  v.scope_prefix = c.u8();
  const std::size_t full = v.family == 1 ? 4 : v.family == 2 ? 16 : 0;
  // RFC 7871 §6: ADDRESS holds exactly ceil(SOURCE PREFIX-LENGTH / 8) octets of a known family.
  if (c.failed() || full == 0 || v.source_prefix > full * 8 || v.scope_prefix > full * 8 ||
      c.remaining() != (std::size_t{v.source_prefix} + 7) / 8)
    return Result<ClientSubnet>::fail(Error::bad_rdata);
  const Bytes addr = c.rest();
  std::memcpy(v.address.data(), addr.data(), addr.size());
  return {v};
}

Result<Cookie> cookie(Bytes d) noexcept {
  // RFC 7873 §4: client cookie 8 octets, server cookie absent or 8..32 octets.
  if (d.size() != 8 && (d.size() < 16 || d.size() > 40)) return Result<Cookie>::fail(Error::bad_rdata);
  return {Cookie{d.first(8), d.subspan(8)}};
}

Error validate(const Message& m, const RecordView& rr) noexcept {
  // RFC 2136 §2.5: UPDATE deletes carry class ANY or NONE and may have empty RDATA.
  if (rr.rdlength == 0 && (rr.klass == rrclass::ANY || rr.klass == rrclass::NONE)) return Error::ok;
  switch (rr.type) {
    case rrtype::A: return a(m, rr).error;
    case rrtype::AAAA: return aaaa(m, rr).error;
    case rrtype::NS: case rrtype::CNAME: case rrtype::PTR: case rrtype::DNAME: return single_name(m, rr).error;
    case rrtype::MX: return mx(m, rr).error;
    case rrtype::KX: return kx(m, rr).error;
    case rrtype::SOA: return soa(m, rr).error;
    case rrtype::TXT: case rrtype::SPF: return txt(m, rr).error;
    case rrtype::HINFO: return hinfo(m, rr).error;
    case rrtype::SRV: return srv(m, rr).error;
    case rrtype::NAPTR: return naptr(m, rr).error;
    case rrtype::CAA: return caa(m, rr).error;
    case rrtype::SVCB: case rrtype::HTTPS: return svcb(m, rr).error;
    case rrtype::SSHFP: return sshfp(m, rr).error;
    case rrtype::TLSA: return tlsa(m, rr).error;
    case rrtype::DS: case rrtype::CDS: return ds(m, rr).error;
    case rrtype::DNSKEY: case rrtype::CDNSKEY: return dnskey(m, rr).error;
    case rrtype::RRSIG: return rrsig(m, rr).error;
    case rrtype::NSEC: return nsec(m, rr).error;
    case rrtype::NSEC3: return nsec3(m, rr).error;
    case rrtype::NSEC3PARAM: return nsec3param(m, rr).error;
    case rrtype::TSIG: return tsig(m, rr).error;
    default: return Error::ok;
  }
}

}  // namespace dnsvigil::dnsparse::rdata
