#include "dnsvigil/dnsparse/text.hpp"

#include <chrono>

#include "dnsvigil/dnsparse/name.hpp"
#include "dnsvigil/dnsparse/rdata.hpp"
#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::dnsparse {

void write_ipv4(std::span<const std::uint8_t, 4> a, TextWriter& out) noexcept {
  for (std::size_t i = 0; i < 4; ++i) {
    if (i) out.put('.');
    out.put_uint(a[i]);
  }
}

void write_ipv6(std::span<const std::uint8_t, 16> a, TextWriter& out) noexcept {
  std::uint16_t g[8];
  for (std::size_t i = 0; i < 8; ++i) g[i] = load_be16(a.data() + 2 * i);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xFFFF) {
    out.put("::ffff:");
    write_ipv4(a.subspan<12, 4>(), out);
    return;
  }
  // RFC 5952 §4.2: compress the longest run (first if tied) of two or more zero groups.
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out.put("::");
      i += best_len - 1;
      continue;
    }
    if (i != 0 && i != best + best_len) out.put(':');
    // RFC 5952 §4.1: no leading zeros.
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nib = (g[i] >> shift) & 0xF;
      if (nib != 0 || started || shift == 0) {
        out.put(kHex[nib]);
        started = true;
      }
    }
  }
}

void write_quoted(Bytes s, TextWriter& out) noexcept {
  out.put('"');
  for (const std::uint8_t c : s) {
    if (c == '"' || c == '\\') {
      out.put('\\');
      out.put(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7F) {
      out.put(static_cast<char>(c));
    } else {
      out.put('\\');
      out.put(static_cast<char>('0' + c / 100));
      out.put(static_cast<char>('0' + c / 10 % 10));
      out.put(static_cast<char>('0' + c % 10));
    }
  }
  out.put('"');
}

void write_base64(Bytes b, TextWriter& out) noexcept {
  static constexpr char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; b.size() - i >= 3; i += 3) {
    const std::uint32_t v = std::uint32_t{b[i]} << 16 | std::uint32_t{b[i + 1]} << 8 | b[i + 2];
    out.put(kAlpha[v >> 18]);
    out.put(kAlpha[(v >> 12) & 63]);
    out.put(kAlpha[(v >> 6) & 63]);
    out.put(kAlpha[v & 63]);
  }
  const std::size_t rest = b.size() - i;
  if (rest == 0) return;
  const std::uint32_t v = std::uint32_t{b[i]} << 16 | (rest == 2 ? std::uint32_t{b[i + 1]} << 8 : 0);
  out.put(kAlpha[v >> 18]);
  out.put(kAlpha[(v >> 12) & 63]);
  out.put(rest == 2 ? kAlpha[(v >> 6) & 63] : '=');
  out.put('=');
}

void write_base32hex(Bytes b, TextWriter& out) noexcept {
  static constexpr char kAlpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
  std::uint32_t buf = 0;
  int bits = 0;
  for (const std::uint8_t c : b) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.put(kAlpha[(buf >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.put(kAlpha[(buf << (5 - bits)) & 31]);
}

namespace {

void put_name(const Message& m, rdata::NameRef n, TextWriter& out, TextOptions opt) noexcept {
  // Accessors validated the name, so the walk cannot fail here.
  (void)write_name_text(m.wire(), n.offset, out, opt.trailing_dot);
}

// RRSIG times as YYYYMMDDHHMMSS (RFC 4034 §3.2).
void put_time(std::uint32_t t, TextWriter& out) noexcept {
  using namespace std::chrono;
  const sys_seconds tp{seconds{t}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  const auto two = [&](unsigned v) {
    out.put(static_cast<char>('0' + v / 10));
    out.put(static_cast<char>('0' + v % 10));
  };
  out.put_uint(static_cast<unsigned>(static_cast<int>(ymd.year())));
  two(static_cast<unsigned>(ymd.month()));
  two(static_cast<unsigned>(ymd.day()));
  two(static_cast<unsigned>(hms.hours().count()));
  two(static_cast<unsigned>(hms.minutes().count()));
  two(static_cast<unsigned>(hms.seconds().count()));
}

void put_types(const rdata::TypeBitmap& t, TextWriter& out) noexcept {
  t.for_each([&](std::uint16_t type) {
    out.put(' ');
    out.put(Mnemonic::type(type).view());
  });
}

void put_generic(Bytes rd, TextWriter& out) noexcept {
  // RFC 3597 §5.
  out.put("\\# ");
  out.put_uint(rd.size());
  if (!rd.empty()) {
    out.put(' ');
    out.put_hex(rd, false);
  }
}

void put_svc_params(const rdata::SvcParams& params, TextWriter& out) noexcept {
  for (const rdata::SvcParam p : params) {
    out.put(' ');
    switch (p.key) {
      case 0: out.put("mandatory="); break;
      case 1: out.put("alpn="); break;
      case 2: out.put("no-default-alpn"); break;
      case 3: out.put("port="); break;
      case 4: out.put("ipv4hint="); break;
      case 5: out.put("ech="); break;
      case 6: out.put("ipv6hint="); break;
      default:
        out.put("key");
        out.put_uint(p.key);
        if (!p.value.empty()) out.put('=');
    }
    Cursor c(p.value);
    switch (p.key) {
      case 0:
        for (bool first = true; !c.at_end(); first = false) {
          if (!first) out.put(',');
          const std::uint16_t k = c.u16();
          if (k <= 6) {
            static constexpr std::string_view kNames[] = {"mandatory", "alpn", "no-default-alpn", "port",
                                                          "ipv4hint", "ech", "ipv6hint"};
            out.put(kNames[k]);
          } else {
            out.put("key");
            out.put_uint(k);
          }
        }
        break;
      case 1: {
        // alpn ids are joined by ',' inside one quoted value (RFC 9460 §7.1.1).
        out.put('"');
        for (bool first = true; !c.at_end(); first = false) {
          if (!first) out.put(',');
          for (const std::uint8_t ch : c.bytes(c.u8())) {
            if (ch == ',' || ch == '\\' || ch == '"') out.put('\\');
            if (ch >= 0x20 && ch < 0x7F) {
              out.put(static_cast<char>(ch));
            } else {
              out.put('\\');
              out.put(static_cast<char>('0' + ch / 100));
              out.put(static_cast<char>('0' + ch / 10 % 10));
              out.put(static_cast<char>('0' + ch % 10));
            }
          }
        }
        out.put('"');
        break;
      }
      case 2: break;
      case 3: out.put_uint(c.u16()); break;
      case 4:
        for (bool first = true; !c.at_end(); first = false) {
          if (!first) out.put(',');
          write_ipv4(c.bytes(4).first<4>(), out);
        }
        break;
      case 5: write_base64(p.value, out); break;
      case 6:
        for (bool first = true; !c.at_end(); first = false) {
          if (!first) out.put(',');
          write_ipv6(c.bytes(16).first<16>(), out);
        }
        break;
      default:
        if (!p.value.empty()) write_quoted(p.value, out);
    }
  }
}

template <class R>
bool failed(const R& r, Error& err) noexcept {
  err = r.error;
  return !r.ok();
}

}  // namespace

Error write_rdata_text(const Message& m, const RecordView& rr, TextWriter& out, TextOptions opt) noexcept {
  const std::size_t start = out.size();
  Error err = Error::ok;
  const auto sp = [&] { out.put(' '); };
  if (rr.rdlength == 0 && (rr.klass == rrclass::ANY || rr.klass == rrclass::NONE)) return Error::ok;
  switch (rr.type) {
    case rrtype::A: {
      const auto r = rdata::a(m, rr);
      if (failed(r, err)) break;
      write_ipv4(r.value, out);
      break;
    }
    case rrtype::AAAA: {
      const auto r = rdata::aaaa(m, rr);
      if (failed(r, err)) break;
      write_ipv6(r.value, out);
      break;
    }
    case rrtype::NS: case rrtype::CNAME: case rrtype::PTR: case rrtype::DNAME: {
      const auto r = rdata::single_name(m, rr);
      if (failed(r, err)) break;
      put_name(m, r.value, out, opt);
      break;
    }
    case rrtype::MX: case rrtype::KX: {
      const auto r = rr.type == rrtype::MX ? rdata::mx(m, rr) : rdata::kx(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.preference);
      sp();
      put_name(m, r.value.exchange, out, opt);
      break;
    }
    case rrtype::SOA: {
      const auto r = rdata::soa(m, rr);
      if (failed(r, err)) break;
      const rdata::Soa& v = r.value;
      put_name(m, v.mname, out, opt);
      sp();
      put_name(m, v.rname, out, opt);
      for (const std::uint32_t x : {v.serial, v.refresh, v.retry, v.expire, v.minimum}) {
        sp();
        out.put_uint(x);
      }
      break;
    }
    case rrtype::TXT: case rrtype::SPF: {
      const auto r = rdata::txt(m, rr);
      if (failed(r, err)) break;
      bool first = true;
      for (const Bytes s : r.value) {
        if (!first) sp();
        first = false;
        write_quoted(s, out);
      }
      break;
    }
    case rrtype::HINFO: {
      const auto r = rdata::hinfo(m, rr);
      if (failed(r, err)) break;
      write_quoted(r.value.cpu, out);
      sp();
      write_quoted(r.value.os, out);
      break;
    }
    case rrtype::SRV: {
      const auto r = rdata::srv(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.priority);
      sp();
      out.put_uint(r.value.weight);
      sp();
      out.put_uint(r.value.port);
      sp();
      put_name(m, r.value.target, out, opt);
      break;
    }
    case rrtype::NAPTR: {
      const auto r = rdata::naptr(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.order);
      sp();
      out.put_uint(r.value.preference);
      for (const Bytes s : {r.value.flags, r.value.services, r.value.regexp}) {
        sp();
        write_quoted(s, out);
      }
      sp();
      put_name(m, r.value.replacement, out, opt);
      break;
    }
    case rrtype::CAA: {
      const auto r = rdata::caa(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.flags);
      sp();
      for (const std::uint8_t c : r.value.tag) out.put(static_cast<char>(c));
      sp();
      write_quoted(r.value.value, out);
      break;
    }
    case rrtype::SVCB: case rrtype::HTTPS: {
      const auto r = rdata::svcb(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.priority);
      sp();
      // The root target keeps its "." (RFC 9460 "." means the owner name).
      put_name(m, r.value.target, out, opt);
      put_svc_params(r.value.params, out);
      break;
    }
    case rrtype::SSHFP: {
      const auto r = rdata::sshfp(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.algorithm);
      sp();
      out.put_uint(r.value.fp_type);
      sp();
      out.put_hex(r.value.fingerprint);
      break;
    }
    case rrtype::TLSA: {
      const auto r = rdata::tlsa(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.usage);
      sp();
      out.put_uint(r.value.selector);
      sp();
      out.put_uint(r.value.matching);
      sp();
      out.put_hex(r.value.data);
      break;
    }
    case rrtype::DS: case rrtype::CDS: {
      const auto r = rdata::ds(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.key_tag);
      sp();
      out.put_uint(r.value.algorithm);
      sp();
      out.put_uint(r.value.digest_type);
      sp();
      out.put_hex(r.value.digest);
      break;
    }
    case rrtype::DNSKEY: case rrtype::CDNSKEY: {
      const auto r = rdata::dnskey(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.flags);
      sp();
      out.put_uint(r.value.protocol);
      sp();
      out.put_uint(r.value.algorithm);
      sp();
      write_base64(r.value.public_key, out);
      break;
    }
    case rrtype::RRSIG: {
      const auto r = rdata::rrsig(m, rr);
      if (failed(r, err)) break;
      const rdata::Rrsig& v = r.value;
      out.put(Mnemonic::type(v.type_covered).view());
      sp();
      out.put_uint(v.algorithm);
      sp();
      out.put_uint(v.labels);
      sp();
      out.put_uint(v.original_ttl);
      sp();
      put_time(v.expiration, out);
      sp();
      put_time(v.inception, out);
      sp();
      out.put_uint(v.key_tag);
      sp();
      put_name(m, v.signer, out, opt);
      sp();
      write_base64(v.signature, out);
      break;
    }
    case rrtype::NSEC: {
      const auto r = rdata::nsec(m, rr);
      if (failed(r, err)) break;
      put_name(m, r.value.next, out, opt);
      put_types(r.value.types, out);
      break;
    }
    case rrtype::NSEC3: {
      const auto r = rdata::nsec3(m, rr);
      if (failed(r, err)) break;
      const rdata::Nsec3& v = r.value;
      out.put_uint(v.hash_algorithm);
      sp();
      out.put_uint(v.flags);
      sp();
      out.put_uint(v.iterations);
      sp();
      if (v.salt.empty()) {
        out.put('-');
      } else {
        out.put_hex(v.salt);
      }
      sp();
      write_base32hex(v.next_hashed, out);
      put_types(v.types, out);
      break;
    }
    case rrtype::NSEC3PARAM: {
      const auto r = rdata::nsec3param(m, rr);
      if (failed(r, err)) break;
      out.put_uint(r.value.hash_algorithm);
      sp();
      out.put_uint(r.value.flags);
      sp();
      out.put_uint(r.value.iterations);
      sp();
      if (r.value.salt.empty()) {
        out.put('-');
      } else {
        out.put_hex(r.value.salt);
      }
      break;
    }
    default:
      put_generic(rdata::raw(m, rr), out);
  }
  if (err != Error::ok) {
    out.truncate(start);
    return err;
  }
  return out.overflow() ? Error::buffer_too_small : Error::ok;
}

Result<std::size_t> rdata_to_text(const Message& m, const RecordView& rr, std::span<char> out,
                                  TextOptions opt) noexcept {
  TextWriter w(out);
  const Error e = write_rdata_text(m, rr, w, opt);
  if (e != Error::ok) return Result<std::size_t>::fail(e);
  return {w.size()};
}

}  // namespace dnsvigil::dnsparse
