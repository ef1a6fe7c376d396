#include "dnsvigil/sensor/names.hpp"

#include <libpsl.h>
#include <xxhash.h>

#include <stdexcept>
#include <vector>

namespace dnsvigil::sensor {

namespace {

// Label start offsets of a presentation-form name, honouring \DDD and \X escapes.
struct Labels {
  std::array<std::uint16_t, 128> start{};
  std::size_t n = 0;
  bool escaped = false;
};

Labels label_starts(std::string_view s) noexcept {
  Labels l;
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

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Offset of the label `k` labels from the end (k = 1 is the last label); 0 when there are fewer.
std::uint16_t from_end(const Labels& l, std::size_t k) noexcept { return k <= l.n ? l.start[l.n - k] : 0; }

}  // namespace

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
  const auto size = static_cast<std::uint16_t>(lower.size());
  const Labels l = label_starts(lower);
  if (l.n == 0) return {size, size};
  // Reverse namespace: group by network, not by the /8 the PSL would give.
  if (ends_with(lower, ".in-addr.arpa") || lower == "in-addr.arpa")
    return {l.n >= 5 ? from_end(l, 5) : std::uint16_t{0}, from_end(l, 2)};
  if (ends_with(lower, ".ip6.arpa") || lower == "ip6.arpa")
    return {l.n >= 18 ? from_end(l, 18) : std::uint16_t{0}, from_end(l, 2)};
  if (l.escaped || impl_->psl == nullptr) return {l.n >= 2 ? from_end(l, 2) : std::uint16_t{0}, from_end(l, 1)};

  const std::uint64_t h = XXH3_64bits(lower.data(), lower.size());
  Impl::Slot& slot = impl_->cache[h & (impl_->cache.size() - 1)];
  if (slot.hash != h || slot.len != size) {
    // libpsl needs a NUL-terminated string; QueryName guarantees one after `lower`.
    const char* base = lower.data();
    const char* reg = psl_registrable_domain(impl_->psl, base);
    const char* suf = psl_unregistrable_domain(impl_->psl, base);
    std::size_t reg_labels = 0, suf_labels = 0;
    for (std::size_t k = 1; k <= l.n; ++k) {
      if (reg != nullptr && base + from_end(l, k) == reg) reg_labels = k;
      if (suf != nullptr && base + from_end(l, k) == suf) suf_labels = k;
    }
    slot = {h, size, static_cast<std::uint8_t>(reg_labels), static_cast<std::uint8_t>(suf_labels)};
  }
  const std::uint16_t reg_off = slot.registered_labels ? from_end(l, slot.registered_labels) : 0;
  const std::uint16_t suf_off = slot.suffix_labels ? from_end(l, slot.suffix_labels) : size;
  return {reg_off, suf_off};
}

void QueryName::set(const dnsparse::Message& m, DomainSplitter* splitter) noexcept {
  clear();
  if (!m.has_question()) return;
  dnsparse::TextWriter w(std::span<char>(text_.data(), dnsparse::limits::kMaxNameText));
  (void)dnsparse::write_name_text(m.wire(), m.question().name, w);
  len_ = static_cast<std::uint16_t>(w.size());
  text_[len_] = '\0';
  for (std::size_t i = 0; i < len_; ++i) {
    const char c = text_[i];
    lower_[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
  }
  lower_[len_] = '\0';
  labels_ = m.qname_labels();
  if (splitter != nullptr) {
    split_ = splitter->split(lower());
  } else {
    const Labels l = label_starts(lower());
    split_ = {l.n >= 2 ? from_end(l, 2) : std::uint16_t{0}, l.n ? from_end(l, 1) : len_};
  }
}

}  // namespace dnsvigil::sensor
