#include "dnsvigil/sensor/names.hpp"

#include <libpsl.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace dnsvigil::sensor {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Octets printed as they are in presentation form (no escaping needed).
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (unsigned c = 0; c < 256; ++c)
    t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
  return t;
}();

}  // namespace

LabelStarts LabelStarts::of(std::string_view s) noexcept {
  LabelStarts l;
  if (s.empty() || s == ".") return l;
  l.start[l.n++] = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      l.escaped = true;
      i += (i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') ? 3U : 1U;
      continue;
    }
    if (s[i] == '.' && i + 1 < s.size() && l.n < l.start.size()) l.start[l.n++] = static_cast<std::uint16_t>(i + 1);
  }
  return l;
}

struct DomainSplitter::Impl {
  psl_ctx_t* psl = nullptr;
  bool owned = false;
  struct Slot {
    std::uint64_t hash;
    std::uint16_t len;
    std::uint8_t registered_labels;  // counted from the end; 0 = whole name
    std::uint8_t suffix_labels;      // counted from the end; 0 = none
  };
  // Direct-mapped cache: 16 Ki names (256 KiB), enough for a resolver's working set of domains.
  std::vector<Slot> cache = std::vector<Slot>(16384);
};

DomainSplitter::DomainSplitter(const std::string& psl_file) : impl_(std::make_unique<Impl>()) {
  if (!psl_file.empty()) {
    impl_->psl = psl_load_file(psl_file.c_str());
    if (impl_->psl == nullptr) throw std::runtime_error("cannot load public suffix list '" + psl_file + "'");
    impl_->owned = true;
    source_ = psl_file;
    return;
  }
  impl_->psl = psl_latest(nullptr);
  if (impl_->psl != nullptr) {
    impl_->owned = true;
    source_ = "system public suffix list (newest of /usr/share/publicsuffix and libpsl's built-in copy)";
  } else {
    impl_->psl = const_cast<psl_ctx_t*>(psl_builtin());
    source_ = "libpsl built-in public suffix list";
  }
}

DomainSplitter::~DomainSplitter() {
  if (impl_ && impl_->owned) psl_free(impl_->psl);
}

DomainSplit DomainSplitter::split(std::string_view lower) noexcept {
  return split(lower, LabelStarts::of(lower), XXH3_64bits(lower.data(), lower.size()));
}

DomainSplit DomainSplitter::split(std::string_view lower, const LabelStarts& l, std::uint64_t h) noexcept {
  const auto size = static_cast<std::uint16_t>(lower.size());
  if (l.n == 0) return {size, size};
  // Reverse namespace: group by network, not by the /8 the PSL would give.
  if (ends_with(lower, ".arpa") || lower == "arpa") {
    if (ends_with(lower, ".in-addr.arpa") || lower == "in-addr.arpa")
      return {l.n >= 5 ? l.from_end(5) : std::uint16_t{0}, l.from_end(2)};
    if (ends_with(lower, ".ip6.arpa") || lower == "ip6.arpa")
      return {l.n >= 18 ? l.from_end(18) : std::uint16_t{0}, l.from_end(2)};
  }
  if (l.escaped || impl_->psl == nullptr) return {l.n >= 2 ? l.from_end(2) : std::uint16_t{0}, l.from_end(1)};

  Impl::Slot& slot = impl_->cache[h & (impl_->cache.size() - 1)];
  if (slot.hash != h || slot.len != size) {
    // libpsl needs a NUL-terminated string; QueryName guarantees one after `lower`.
    const char* base = lower.data();
    const char* reg = psl_registrable_domain(impl_->psl, base);
    const char* suf = psl_unregistrable_domain(impl_->psl, base);
    std::size_t reg_labels = 0, suf_labels = 0;
    for (std::size_t k = 1; k <= l.n; ++k) {
      if (reg != nullptr && base + l.from_end(k) == reg) reg_labels = k;
      if (suf != nullptr && base + l.from_end(k) == suf) suf_labels = k;
    }
    slot = {h, size, static_cast<std::uint8_t>(reg_labels), static_cast<std::uint8_t>(suf_labels)};
  }
  const std::uint16_t reg_off = slot.registered_labels ? l.from_end(slot.registered_labels) : 0;
  const std::uint16_t suf_off = slot.suffix_labels ? l.from_end(slot.suffix_labels) : size;
  return {reg_off, suf_off};
}

void QueryName::set(const dnsparse::Message& m, DomainSplitter* splitter) noexcept {
  clear();
  if (!m.has_question()) return;
  // One walk produces the text, its lower-case copy and the label starts. Labels of plain
  // characters (the vast majority) are copied; others go through the escaping writer.
  constexpr std::size_t cap = dnsparse::limits::kMaxNameText;
  std::size_t len = 0;
  const auto info = dnsparse::walk_name(m.wire(), m.question().name, [&](dnsparse::Bytes label) noexcept {
    if (starts_.n != 0) text_[len++] = '.';
    if (starts_.n < starts_.start.size()) starts_.start[starts_.n++] = static_cast<std::uint16_t>(len);
    bool plain = true;
    for (const std::uint8_t c : label) plain = plain && kPlain[c];
    if (plain) {
      std::memcpy(text_.data() + len, label.data(), label.size());
      len += label.size();
    } else {
      starts_.escaped = true;
      dnsparse::TextWriter w(std::span<char>(text_.data() + len, cap - len));
      dnsparse::write_label_text(label, w);
      len += w.size();
    }
  });
  if (info.error != dnsparse::Error::ok) return;
  if (starts_.n == 0) text_[len++] = '.';  // the root
  len_ = static_cast<std::uint16_t>(len);
  text_[len_] = '\0';
  for (std::size_t i = 0; i < len_; ++i) {
    const char c = text_[i];
    lower_[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
  }
  lower_[len_] = '\0';
  labels_ = m.qname_labels();
  hash_ = XXH3_64bits(lower_.data(), len_);
  if (splitter != nullptr) {
    split_ = splitter->split(lower(), starts_, hash_);
  } else {
    split_ = {starts_.n >= 2 ? starts_.from_end(2) : std::uint16_t{0}, starts_.n ? starts_.from_end(1) : len_};
  }
  suffixes_ = std::min(starts_.n, kSuffixHashes);
  domain_hash_ = hash_;
  for (std::size_t k = 1; k <= suffixes_; ++k) {
    const std::uint16_t at = starts_.from_end(k);
    suffix_hashes_[k - 1] = at == 0 ? hash_ : XXH3_64bits(lower_.data() + at, len_ - at);
    if (at == split_.registered) domain_hash_ = suffix_hashes_[k - 1];
  }
  // A registered domain deeper than the suffix hashes reach (an ip6.arpa /64 has 18 labels).
  if (split_.registered > 0 && split_.registered < len_ && starts_.n > kSuffixHashes &&
      split_.registered < starts_.from_end(kSuffixHashes))
    domain_hash_ = XXH3_64bits(lower_.data() + split_.registered, len_ - split_.registered);
  if (split_.registered >= len_) domain_hash_ = XXH3_64bits(lower_.data(), 0);
}

}  // namespace dnsvigil::sensor
