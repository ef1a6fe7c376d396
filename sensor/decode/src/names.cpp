#include "dnsvigil/sensor/names.hpp"

#include <libpsl.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
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

namespace {

// The text form of the list that Debian's publicsuffix package installs.
constexpr const char* kSystemList = "/usr/share/publicsuffix/public_suffix_list.dat";

// Every label-suffix ("tail") of the ASCII rules of a Public Suffix List in text form, by the
// XXH3 of its text: "s3.amazonaws.com" gives "com", "amazonaws.com" and itself; "*.ck" and
// "!www.ck" give "ck" and "ck", "www.ck". Open addressing; an entry is the hash with bit 0 set,
// so 0 marks an empty slot.
class RuleTails {
 public:
  /// Reads a text list; false (and empty) when `path` is a DAFSA file or holds a rule form this
  /// model does not cover, so that the caller keys by whole names instead.
  bool load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    std::vector<std::uint64_t> found;
    bool first = true;
    while (std::getline(in, line)) {
      if (first && line.rfind(".DAFSA@PSL_", 0) == 0) return false;
      first = false;
      const std::size_t b = line.find_first_not_of(" \t\r");
      if (b == std::string::npos || line.compare(b, 2, "//") == 0) continue;
      std::string rule = line.substr(b, line.find_first_of(" \t\r", b) - b);
      // Rules with non-ASCII labels only match names holding an xn-- label, which the
      // splitter never keys by tail.
      if (std::any_of(rule.begin(), rule.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
        continue;
      for (char& c : rule) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
      if (rule[0] == '!') rule.erase(0, 1);
      if (rule.rfind("*.", 0) == 0) rule.erase(0, 2);
      if (rule.empty() || rule.find_first_of("*!") != std::string::npos || rule.front() == '.' ||
          rule.back() == '.')
        return false;
      for (std::size_t i = 0; i < rule.size(); ++i)
        if (i == 0 || rule[i - 1] == '.') found.push_back(XXH3_64bits(rule.data() + i, rule.size() - i));
    }
    if (found.empty()) return false;
    std::size_t size = 1024;
    while (size < 2 * found.size()) size *= 2;
    slots_.assign(size, 0);
    mask_ = size - 1;
    for (const std::uint64_t h : found) {
      std::size_t i = (h >> 1) & mask_;
      while (slots_[i] != 0 && !same(slots_[i], h)) i = (i + 1) & mask_;
      slots_[i] = h | 1;
    }
    return true;
  }
  [[nodiscard]] bool empty() const noexcept { return slots_.empty(); }
  [[nodiscard]] bool contains(std::uint64_t h) const noexcept {
    for (std::size_t i = (h >> 1) & mask_; slots_[i] != 0; i = (i + 1) & mask_)
      if (same(slots_[i], h)) return true;
    return false;
  }

 private:
  static bool same(std::uint64_t entry, std::uint64_t h) noexcept { return (entry ^ h) >> 1 == 0; }
  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
};

// XXH3 of the name's last k labels into out[k - 1], k = 1 .. n (the last one may be the whole
// name, whose hash `whole` is known).
void tail_hashes(std::string_view lower, const LabelStarts& l, std::uint64_t whole, std::uint64_t* out,
                 std::size_t n) noexcept {
  for (std::size_t k = 1; k <= n; ++k) {
    const std::uint16_t at = l.from_end(k);
    out[k - 1] = at == 0 ? whole : XXH3_64bits(lower.data() + at, lower.size() - at);
  }
}

bool has_idn_label(std::string_view lower, const LabelStarts& l) noexcept {
  for (std::size_t k = 0; k < l.n; ++k)
    if (lower.compare(l.start[k], 4, "xn--") == 0) return true;
  return false;
}

// A loaded list, shared by every splitter of the process that names the same file (workers,
// reloads): libpsl's lookups on a loaded context are thread-safe, and the rule tails are read
// only. Loading the Debian list takes ~15 ms, once.
struct LoadedList {
  psl_ctx_t* psl = nullptr;
  bool owned = false;
  RuleTails tails;
  std::string source;
  LoadedList() = default;
  LoadedList(const LoadedList&) = delete;
  LoadedList& operator=(const LoadedList&) = delete;
  ~LoadedList() {
    if (owned) psl_free(psl);
  }
};

std::shared_ptr<const LoadedList> load_list(const std::string& psl_file) {
  std::string file = psl_file;
  if (file.empty() && std::ifstream(kSystemList).good()) file = kSystemList;
  // The same path is loaded again once the file changed (a reload after a list update).
  std::string key = file;
  struct stat st {};
  if (!file.empty() && ::stat(file.c_str(), &st) == 0)
    key += '\0' + std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + '/' +
           std::to_string(st.st_size);
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const LoadedList>> loaded;
  const std::lock_guard lock(mu);
  if (const auto it = loaded.find(key); it != loaded.end()) return it->second;

  auto l = std::make_shared<LoadedList>();
  if (!file.empty()) {
    l->psl = psl_load_file(file.c_str());
    if (l->psl == nullptr) throw std::runtime_error("cannot load public suffix list '" + file + "'");
    l->owned = true;
    l->tails.load(file);
    l->source = file;
  } else if ((l->psl = psl_latest(nullptr)) != nullptr) {
    l->owned = true;
    l->source = "libpsl's newest public suffix list (system .dafsa or built-in)";
  } else {
    l->psl = const_cast<psl_ctx_t*>(psl_builtin());
    l->source = "libpsl built-in public suffix list";
  }
  loaded.emplace(key, l);
  return l;
}

}  // namespace

struct DomainSplitter::Impl {
  std::shared_ptr<const LoadedList> list;
  struct Slot {
    std::uint64_t hash;
    std::uint16_t len;
    std::uint8_t suffix_labels;  // counted from the end; 0 = none
  };
  // Direct-mapped caches of whole names (16 Ki entries) and of the parts looked up (see split;
  // 64 Ki: about a busy site's registered domains). When both shared one, whole names pushed
  // the parts out: 15 % of the benchmark mix's names went to libpsl, 8 % with a cache of their own.
  std::vector<Slot> cache = std::vector<Slot>(16384);
  std::vector<Slot> parts = std::vector<Slot>(65536);
};

DomainSplitter::DomainSplitter(const std::string& psl_file) : impl_(std::make_unique<Impl>()) {
  impl_->list = load_list(psl_file);
  source_ = impl_->list->source;
}

DomainSplitter::~DomainSplitter() = default;

bool DomainSplitter::keyed_by_suffix() const noexcept { return !impl_->list->tails.empty(); }

bool DomainSplitter::public_tld(std::string_view label) const noexcept {
  if (label.empty() || label.size() > 63) return false;
  const LoadedList& list = *impl_->list;
  // Every rule ends in a top-level domain, so the one-label tails of the rules are the TLDs.
  if (!list.tails.empty()) return list.tails.contains(XXH3_64bits(label.data(), label.size()));
  char buf[64];
  std::memcpy(buf, label.data(), label.size());
  buf[label.size()] = '\0';
  return list.psl != nullptr && psl_is_public_suffix2(list.psl, buf, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

DomainSplit DomainSplitter::split(std::string_view lower) noexcept {
  const LabelStarts l = LabelStarts::of(lower);
  const std::uint64_t whole = XXH3_64bits(lower.data(), lower.size());
  std::array<std::uint64_t, QueryName::kSuffixHashes> tails{};
  const std::size_t n = std::min(l.n, tails.size());
  tail_hashes(lower, l, whole, tails.data(), n);
  return split(lower, l, whole, {tails.data(), n});
}

DomainSplit DomainSplitter::split(std::string_view lower, const LabelStarts& l, std::uint64_t hash,
                                  std::span<const std::uint64_t> tails) noexcept {
  const auto size = static_cast<std::uint16_t>(lower.size());
  if (l.n == 0) return {size, size};
  // Reverse namespace: group by network, not by the /8 the PSL would give.
  if (ends_with(lower, ".arpa") || lower == "arpa") {
    if (ends_with(lower, ".in-addr.arpa") || lower == "in-addr.arpa")
      return {l.n >= 5 ? l.from_end(5) : std::uint16_t{0}, l.from_end(2)};
    if (ends_with(lower, ".ip6.arpa") || lower == "ip6.arpa")
      return {l.n >= 18 ? l.from_end(18) : std::uint16_t{0}, l.from_end(2)};
  }
  if (l.escaped || impl_->list->psl == nullptr) return {l.n >= 2 ? l.from_end(2) : std::uint16_t{0}, l.from_end(1)};

  Impl::Slot& whole = impl_->cache[hash & (impl_->cache.size() - 1)];
  if (whole.hash != hash || whole.len != size) {
    // The part of the name the list can tell apart. Let T be the name's longest tail that is a
    // tail of some rule (t labels). A rule that matches the name is a tail of it, so has at
    // most t labels, or t + 1 for a wildcard "*.T"; every longer tail of the name is no public
    // suffix. libpsl therefore finds the same suffix in the last t + 1 labels as in the whole
    // name, and the registered domain is that suffix and one label more.
    std::size_t m = l.n;
    std::uint64_t key = hash;
    if (!impl_->list->tails.empty() && !has_idn_label(lower, l)) {
      std::size_t t = 0;
      while (t < tails.size() && impl_->list->tails.contains(tails[t])) ++t;
      // t == tails.size(): the tails given ran out before T ended; keep the whole name.
      if (t < tails.size() && t + 1 < l.n) {
        m = t + 1;
        key = tails[t];
      }
    }
    const std::uint16_t at = l.from_end(m);
    const auto len = static_cast<std::uint16_t>(size - at);
    Impl::Slot& part = impl_->parts[key & (impl_->parts.size() - 1)];
    std::uint8_t s = part.suffix_labels;
    if (part.hash != key || part.len != len) {
      // libpsl needs a NUL-terminated string; QueryName guarantees one after `lower`.
      const char* suf = psl_unregistrable_domain(impl_->list->psl, lower.data() + at);
      s = 0;
      for (std::size_t k = 1; k <= m; ++k)
        if (suf != nullptr && lower.data() + l.from_end(k) == suf) s = static_cast<std::uint8_t>(k);
      part = {key, len, s};
    }
    whole = {hash, size, s};  // repeated names skip the tail lookups
  }
  // libpsl's registrable domain is the suffix and one label more, none when the name is a suffix.
  const std::size_t s = whole.suffix_labels;
  const std::uint16_t reg_off = (s != 0 && s < l.n) ? l.from_end(s + 1) : 0;
  const std::uint16_t suf_off = s != 0 ? l.from_end(s) : size;
  return {reg_off, suf_off};
}

bool QueryName::public_tld() const noexcept {
  if (tld_ < 0) {
    const std::uint16_t last = starts_.from_end(1);
    tld_ = static_cast<std::int8_t>(splitter_ == nullptr || starts_.n == 0 ||
                                    splitter_->public_tld(lower().substr(last)));
  }
  return tld_ != 0;
}

std::uint16_t QueryName::search_suffix() const noexcept {
  if (expansion_ >= 0) return static_cast<std::uint16_t>(expansion_);
  expansion_ = 0;
  if (splitter_ == nullptr || starts_.escaped || starts_.n < 3 || starts_.n >= starts_.start.size()) return 0;
  // The label where the public suffix starts (the last label for an unknown TLD).
  std::size_t suffix_label = starts_.n;
  for (std::size_t i = 0; i < starts_.n; ++i)
    if (starts_.start[i] == split_.suffix) suffix_label = i;
  if (suffix_label == starts_.n) suffix_label = starts_.n - 1;
  // Under a public TLD the label before the suffix is the registered domain's own (`bbc` of
  // www.bbc.co.uk, itself a TLD): the embedded name ends further left. Under an unknown TLD
  // (`api.github.com.lan`) that label may be the embedded name's TLD.
  std::size_t from = suffix_label;
  if (public_tld() && from > 0) --from;
  // The rightmost label from there, not the first, that is a TLD ends the embedded name.
  for (std::size_t i = from; i-- > 1;) {
    const std::uint16_t b = starts_.start[i], e = starts_.start[i + 1];
    if (splitter_->public_tld(lower().substr(b, e - b - 1u))) {
      expansion_ = e;
      break;
    }
  }
  return static_cast<std::uint16_t>(expansion_);
}

void QueryName::set(const dnsparse::Message& m, DomainSplitter* splitter, const ServiceCatalogue* services) noexcept {
  clear();
  splitter_ = splitter;
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
  suffixes_ = std::min(starts_.n, kSuffixHashes);
  tail_hashes(lower(), starts_, hash_, suffix_hashes_.data(), suffixes_);
  if (splitter != nullptr) {
    split_ = splitter->split(lower(), starts_, hash_, {suffix_hashes_.data(), suffixes_});
  } else {
    split_ = {starts_.n >= 2 ? starts_.from_end(2) : std::uint16_t{0}, starts_.n ? starts_.from_end(1) : len_};
  }
  domain_hash_ = hash_;
  for (std::size_t k = 1; k <= suffixes_; ++k)
    if (starts_.from_end(k) == split_.registered) domain_hash_ = suffix_hashes_[k - 1];
  // A registered domain deeper than the suffix hashes reach (an ip6.arpa /64 has 18 labels).
  if (split_.registered > 0 && split_.registered < len_ && starts_.n > kSuffixHashes &&
      split_.registered < starts_.from_end(kSuffixHashes))
    domain_hash_ = XXH3_64bits(lower_.data() + split_.registered, len_ - split_.registered);
  if (split_.registered >= len_) domain_hash_ = XXH3_64bits(lower_.data(), 0);
  if (services != nullptr) service_ = services->find({suffix_hashes_.data(), suffixes_}, starts_.n);
}

}  // namespace dnsvigil::sensor
