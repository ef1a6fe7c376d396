// tunneling — T1071.004 (seed 004): data carried in query names. Per query: length, labels,
// normalised entropy and charset of the subdomain. Per (client, registered domain): encoded-
// looking names in 10 min, information octets (distinct subdomains) in 1 h, TXT/NULL rate.
// Per client over 24 h: the seed's Elastic ES|QL rule exactly, with its confidence tiers.
#include <algorithm>
#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/features.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/detect/sketch.hpp"
#include "dnsvigil/detect/window.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

using namespace dnsparse::rrtype;

const RuleInfo kInfo{
    "tunneling", "dnsvigil-0005",
    "Data encoded in DNS names (long, high-entropy or binary subdomains, many unique names, TXT/NULL traffic) "
    "under one domain: DNS tunnelling or exfiltration (iodine, dns2tcp, DNS C2 frameworks).",
    {"TA0011", "Command and Control", "T1071", "Application Layer Protocol", "T1071.004", "DNS"}};

constexpr Timestamp kBucket = 5 * kMinute;  // 12 buckets: 1 h
constexpr std::size_t kBuckets = 12;
constexpr Timestamp kSeedBucket = 4 * kHour;  // 6 buckets: the seed rule's 24 h
// Distinct contributing names a candidate key holds before it earns full state.
constexpr std::size_t kCandidateNames = 4;
// Candidate keys per full key.
constexpr std::size_t kCandidatesPerKey = 4;

struct Key {
  IpAddr client;
  std::uint64_t domain;
};
struct Bucket {
  Distinct names;
  std::uint32_t queries, suspicious, info_bytes, txt_null, binary;
};
struct State {
  Ring<kBuckets, Bucket> ring;
  FixedText<96> domain;
  Samples<5, 96> samples;
  Timestamp first;
  std::uint32_t minute, minute_txt_null;  // distinct TXT/NULL names in the current minute ...
  std::uint32_t minute_encoded;           // ... of which encoded-looking
  std::uint32_t answer_minute, minute_answers, minute_answer_bytes;  // TXT/NULL answers and their RDATA octets
  std::uint16_t max_length;
  std::uint16_t qtypes;                   // bit set of qtype classes seen
  Timestamp last_raise;
};
// A (client, domain) before full state: the distinct names that can make this rule trigger
// (encoded-looking, long-labelled or TXT/NULL) seen in the last 10 minutes, with what they
// add to each trigger. Promoted once it holds promote_at_ names (or enough information
// octets), so ordinary pairs (one TXT name looked up again and again, one long CDN label)
// never take a full window.
struct Candidate {
  std::uint32_t fp[kCandidateNames];  // Distinct's 32-bit fingerprints
  std::uint32_t period;               // period of the oldest name held
  std::uint32_t info_bytes;
  std::uint8_t n, encoded, txt_null, txt_encoded, binary;
  Timestamp first;
};
struct ClientKey {
  IpAddr client;
};
struct SeedBucket {
  Distinct names;
  std::uint32_t count;
  std::uint64_t length_sum;
  std::uint16_t max_length;
  std::uint16_t qtypes;
};
struct SeedState {
  Ring<6, SeedBucket> ring;
  Samples<5, 96> samples;
  Timestamp first;
  Timestamp last_raise;
};

// While a key stays over a threshold, it raises at most this often (suppression folds the
// rest into the summary, with the newest counts).
constexpr Timestamp kRaiseEvery = kMinute;

// The seed rule's query types: TXT, NULL, CNAME, MX, A, AAAA.
int seed_type_bit(std::uint16_t t) noexcept {
  switch (t) {
    case TXT: return 0;
    case NULL_: return 1;
    case CNAME: return 2;
    case MX: return 3;
    case A: return 4;
    case AAAA: return 5;
    default: return -1;
  }
}

std::string qtypes_text(std::uint16_t mask) {
  static constexpr std::string_view kNames[] = {"TXT", "NULL", "CNAME", "MX", "A", "AAAA", "other"};
  std::string out;
  for (std::size_t i = 0; i < std::size(kNames); ++i) {
    if (!(mask & (1U << i))) continue;
    if (!out.empty()) out += ',';
    out += kNames[i];
  }
  return out;
}

class Tunneling final : public Detector {
 public:
  explicit Tunneling(const TunnelingSettings& s)
      : s_(s),
        allow_(s.allow),
        keys_(s.max_keys),
        candidates_(s.max_keys * kCandidatesPerKey),
        seed_(s.max_keys),
        pool_(s.sketch_pool) {
    const std::uint64_t lowest = std::min({s.suspicious_10m, s.txt_null_per_min + 1, std::uint64_t{kCandidateNames}});
    promote_at_ = static_cast<std::uint8_t>(std::max<std::uint64_t>(1, lowest));
  }

  const RuleInfo& info() const noexcept override { return kInfo; }

  void prefetch(const sensor::DnsEvent& ev, bool slots) const noexcept override {
    keys_.prefetch({ev.client(), ev.qname->domain_hash()}, slots);
  }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (ev.qname->empty() || allow_.allows(ev)) return;
    // Names that cannot carry a tunnel: catalogued services (blocklists, hash and AV lookups,
    // CDN names, reverse zones), allowlisted domains, a container node's search-list expansions,
    // and names under a top-level domain the public DNS does not have (they never reach an
    // outside server).
    if (ctx.not_evidence() || !ctx.name->public_tld) return;
    if (ev.is_response()) {
      on_answer(ev);
      return;
    }
    const sensor::QueryName& q = *ev.qname;
    const std::uint16_t qtype = ev.msg->question().type;
    const NameFeatures f = name_features(q.lower(), q.subdomain(), q.labels(), s_.min_encoded_label);
    // Long labels that read as words (the long entries of brute-force lists) are not data.
    const bool encoded = f.non_ldh || (f.longest_label >= s_.min_encoded_label && f.entropy >= s_.min_entropy && !f.words_only) ||
                         (f.hex && f.longest_label >= 2 * s_.min_encoded_label);
    const bool txt_null = qtype == TXT || qtype == NULL_;
    // Binary labels in NULL or private-use queries: iodine's handshake and raw-upstream mode.
    const bool binary = f.non_ldh && (qtype == NULL_ || (qtype >= 65280 && qtype <= 65534));
    // Information octets count long subdomains only: payload encoders fill long labels,
    // while brute-force enumeration tries short dictionary words (it is enumeration's job).
    const bool long_label = f.longest_label >= s_.min_encoded_label && !f.words_only;
    // The seed rule sums a client's long names over a day: for a resolver that is every user's
    // long names (each CDN and cloud name they resolve); its users' own queries are judged
    // where the sensor sees them, and the per-domain triggers below still judge the resolver.
    // Standard service names (DKIM selectors, _dmarc, SRV owners) are long by design and not
    // counted either; the per-domain triggers below still judge what their labels carry.
    if (s_.seed_rule && !ctx.client_resolver && !ctx.name->service_label) seed_rule(ev, f, qtype, ctx);
    if (f.subdomain_length == 0) return;

    const std::string_view domain = q.registered_domain();
    const Key k{ev.src, q.domain_hash()};
    const std::uint32_t p = period_of(ev.ts, kBucket);
    const auto reset = [&](Bucket& x) {
      x.names.release(pool_);
      x.queries = x.suspicious = x.info_bytes = x.txt_null = x.binary = 0;
    };
    const auto minute = static_cast<std::uint32_t>(ev.ts / kMinute);
    auto* e = keys_.find(k);
    if (e == nullptr) {
      // Names that are neither encoded-looking, long-labelled nor TXT/NULL add to no trigger:
      // they never create state. The others go through a candidate entry first.
      if (!encoded && !txt_null && !long_label) return;
      auto [c, inserted] = candidates_.emplace(k, ev.ts, [&](auto&) { ++candidate_evicted_; });
      Candidate& cd = c->value;
      if (inserted) cd.first = ev.ts;
      if (cd.n != 0 && p - cd.period >= 2) cd.n = 0;  // older than the 10-minute window: start over
      if (cd.n == 0) {
        cd.period = p;
        cd.info_bytes = 0;
        cd.encoded = cd.txt_null = cd.txt_encoded = cd.binary = 0;
      }
      const std::uint64_t nh = q.hash();
      const auto fp = static_cast<std::uint32_t>(nh ^ (nh >> 32));
      for (std::uint8_t i = 0; i < cd.n; ++i)
        if (cd.fp[i] == fp) return;
      cd.fp[cd.n++] = fp;
      if (long_label) cd.info_bytes += f.subdomain_length;
      cd.encoded = static_cast<std::uint8_t>(cd.encoded + encoded);
      cd.txt_null = static_cast<std::uint8_t>(cd.txt_null + txt_null);
      cd.txt_encoded = static_cast<std::uint8_t>(cd.txt_encoded + (txt_null && encoded));
      cd.binary = static_cast<std::uint8_t>(cd.binary + binary);
      if (cd.n < promote_at_ && cd.info_bytes < s_.info_bytes_1h) return;
      const Candidate held = cd;
      candidates_.erase(c);
      e = keys_.emplace(k, ev.ts, [&](auto& victim) {
                 ++evicted_;
                 victim.value.ring.each([&](Bucket& b) { b.names.release(pool_); });
               }).first;
      e->value.domain.set(domain);
      e->value.first = held.first;
      // What the candidate saw goes into the current bucket (this name included: a 32-bit
      // fingerprint with zero upper half folds to itself in Distinct, so it is not new below).
      Bucket& b0 = e->value.ring.at(p, reset);
      for (std::uint8_t i = 0; i < held.n; ++i) b0.names.add(held.fp[i], pool_);
      b0.queries += held.n - 1u;
      b0.info_bytes += held.info_bytes;
      b0.suspicious += held.encoded;
      b0.txt_null += held.txt_null;
      b0.binary += held.binary;
      e->value.minute = minute;
      e->value.minute_txt_null = held.txt_null;
      e->value.minute_encoded = held.txt_encoded;
      if (encoded) e->value.samples.add(q.lower());
    } else {
      keys_.use(e, ev.ts);
    }
    State& st = e->value;
    Bucket& b = st.ring.at(p, reset);
    ++b.queries;
    const int bit = seed_type_bit(qtype);
    st.qtypes = static_cast<std::uint16_t>(st.qtypes | (1U << (bit < 0 ? 6 : bit)));
    if (f.length > st.max_length) st.max_length = f.length;
    // Every count is of distinct names: a name looked up again (a mail server's SPF and DKIM
    // lookups, an app polling one long-labelled name) adds nothing. Once the bucket's set is a
    // sketch, a name counts when it changes a register: never for a repeat, and for most new
    // names while the sketch is far from full (triggers are crossed long before).
    // (Items enter a Distinct's sketch as spread(fingerprint), like Distinct::add does.)
    const std::uint64_t nh = q.hash();
    const bool fresh = b.names.sketch != 0
                           ? pool_.get(b.names.sketch).add(Distinct::spread(static_cast<std::uint32_t>(nh ^ (nh >> 32))))
                           : b.names.add(nh, pool_);
    if (fresh) {
      if (long_label) b.info_bytes += f.subdomain_length;
      if (encoded) {
        ++b.suspicious;
        st.samples.add(q.lower());
      }
      b.binary += binary;
      if (txt_null) {
        if (minute != st.minute) {
          st.minute = minute;
          st.minute_txt_null = st.minute_encoded = 0;
        }
        ++st.minute_txt_null;
        st.minute_encoded += encoded;
        ++b.txt_null;
      }
    }
    const std::uint32_t per_minute = txt_null && minute == st.minute ? st.minute_txt_null : 0;

    std::uint64_t susp10 = 0, info1h = 0, q1h = 0, bin10 = 0;
    st.ring.recent(p, 2, [&](const Bucket& x) {
      susp10 += x.suspicious;
      bin10 += x.binary;
    });
    st.ring.recent(p, kBuckets, [&](const Bucket& x) {
      info1h += x.info_bytes;
      q1h += x.queries;
    });
    // The TXT/NULL rate is a channel only with data in it: encoded names, or answers whose
    // records carry payload (a busy mail server's policy lookups carry neither).
    const std::uint32_t answers = st.answer_minute == minute ? st.minute_answers : 0;
    const double mean_answer =
        answers != 0 ? static_cast<double>(st.minute_answer_bytes) / static_cast<double>(answers) : 0.0;
    const bool txt_payload = 2 * static_cast<std::uint64_t>(st.minute_encoded) >= per_minute ||
                             mean_answer >= static_cast<double>(s_.txt_null_answer_bytes);
    std::string_view trigger;
    Severity sev = Severity::medium;
    if (info1h >= s_.info_bytes_1h) {
      trigger = "info_bytes_1h";
      sev = Severity::high;
    } else if (susp10 >= s_.suspicious_10m) {
      trigger = "encoded_names_10m";
    } else if (bin10 >= s_.binary_names_10m) {
      trigger = "binary_names_10m";
      sev = Severity::high;
    } else if (per_minute > s_.txt_null_per_min && txt_payload) {
      trigger = "txt_null_rate";
    } else {
      return;
    }
    if (st.last_raise != 0 && ev.ts - st.last_raise < kRaiseEvery) return;
    st.last_raise = ev.ts;
    ++triggers_;
    Alert a = alert_for(kInfo, ev, sev);
    a.registered_domain = std::string(st.domain.view());
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    // The message states the trigger that fired, with its own figures.
    const std::string on = " under " + a.registered_domain;
    if (trigger == "info_bytes_1h") {
      a.reason = std::to_string(info1h) + " octets of unique long subdomains" + on + " in 1 h (threshold " +
                 std::to_string(s_.info_bytes_1h) + "), " + std::to_string(susp10) + " encoded-looking names in 10 min";
    } else if (trigger == "encoded_names_10m") {
      a.reason = std::to_string(susp10) + " encoded-looking names" + on + " in 10 min (threshold " +
                 std::to_string(s_.suspicious_10m) + ")";
    } else if (trigger == "binary_names_10m") {
      a.reason = std::to_string(bin10) + " NULL or private-type queries with binary labels" + on +
                 " in 10 min (threshold " + std::to_string(s_.binary_names_10m) + ")";
    } else {
      a.reason = std::to_string(per_minute) + " distinct TXT/NULL names" + on + " in one minute (threshold " +
                 std::to_string(s_.txt_null_per_min) + "), " + std::to_string(st.minute_encoded) +
                 " encoded-looking, answers of " + one_decimal(mean_answer) + " octets on average";
    }
    a.reason = std::string(trigger) + ": " + a.reason;
    a.with("trigger", std::string(trigger))
        .with("encoded_names_10m", static_cast<std::int64_t>(susp10))
        .with("binary_names_10m", static_cast<std::int64_t>(bin10))
        .with("info_bytes_1h", static_cast<std::int64_t>(info1h))
        .with("queries_1h", static_cast<std::int64_t>(q1h))
        .with("txt_null_per_minute", static_cast<std::int64_t>(per_minute))
        .with("txt_null_answer_bytes", mean_answer)
        .with("max_length", static_cast<std::int64_t>(st.max_length))
        .with("qtypes", qtypes_text(st.qtypes))
        .with("entropy", f.entropy)
        .with("binary_labels", f.non_ldh)
        .with("threshold_encoded_10m", static_cast<std::int64_t>(s_.suspicious_10m))
        .with("threshold_info_bytes_1h", static_cast<std::int64_t>(s_.info_bytes_1h));
    a.samples = st.samples.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.src, k.domain)));
  }

  DetectorStats stats() const override {
    DetectorStats st;
    st.rule = kInfo.name;
    table_stats(st, keys_, evicted_);
    table_stats(st, candidates_, candidate_evicted_);
    table_stats(st, seed_, seed_evicted_);
    st.sketches = pool_.in_use();
    st.sketch_capacity = pool_.capacity();
    st.sketch_exhausted = pool_.exhausted();
    st.reserved_bytes += pool_.capacity() * sizeof(Sketch);
    st.triggers = triggers_;
    return st;
  }

 private:
  // TXT/NULL answers to a key with full state: their RDATA octets in the current minute.
  void on_answer(const sensor::DnsEvent& ev) {
    const std::uint16_t qtype = ev.msg->question().type;
    if (qtype != TXT && qtype != NULL_) return;
    auto* e = keys_.find({ev.dst, ev.qname->domain_hash()});
    if (e == nullptr) return;
    State& st = e->value;
    const auto minute = static_cast<std::uint32_t>(ev.ts / kMinute);
    if (st.answer_minute != minute) {
      st.answer_minute = minute;
      st.minute_answers = st.minute_answer_bytes = 0;
    }
    std::uint32_t bytes = 0;
    for (const auto& r : ev.msg->records(dnsparse::Section::answer))
      if (r.type == TXT || r.type == NULL_) bytes += r.rdlength;
    ++st.minute_answers;
    st.minute_answer_bytes += bytes;
  }

  // The Elastic ES|QL rule of the reference page, per source.ip over a sliding 24 h:
  //   qtype IN (TXT, NULL, CNAME, MX, A, AAAA) AND (LENGTH(name) > 50 OR labels > 5)
  //   count > 20 AND unique names > 10 AND avg length > 40;
  //   confidence high when (unique > 100 AND avg > 60) OR (unique > 50 AND avg > 50).
  void seed_rule(const sensor::DnsEvent& ev, const NameFeatures& f, std::uint16_t qtype, Context& ctx) {
    const int bit = seed_type_bit(qtype);
    if (bit < 0 || (f.length <= s_.seed_min_length && f.labels <= s_.seed_min_labels)) return;
    auto [e, inserted] = seed_.emplace({ev.src}, ev.ts, [&](auto& victim) {
      ++seed_evicted_;
      victim.value.ring.each([&](SeedBucket& b) { b.names.release(pool_); });
    });
    SeedState& st = e->value;
    if (inserted) st.first = ev.ts;
    const std::uint32_t p = period_of(ev.ts, kSeedBucket);
    SeedBucket& b = st.ring.at(p, [&](SeedBucket& x) {
      x.names.release(pool_);
      x.count = 0;
      x.length_sum = 0;
      x.max_length = 0;
      x.qtypes = 0;
    });
    ++b.count;
    b.length_sum += f.length;
    if (f.length > b.max_length) b.max_length = f.length;
    b.qtypes = static_cast<std::uint16_t>(b.qtypes | (1U << bit));
    const bool fresh = b.names.add(ev.qname->hash(), pool_);
    st.samples.add(ev.qname->lower());
    std::uint64_t count = 0, sum = 0;
    std::uint16_t max_len = 0, qtypes = 0;
    std::uint32_t upper = 0;
    st.ring.recent(p, 6, [&](const SeedBucket& x) {
      count += x.count;
      sum += x.length_sum;
      max_len = std::max(max_len, x.max_length);
      qtypes = static_cast<std::uint16_t>(qtypes | x.qtypes);
      upper += x.names.n + (x.names.sketch ? 1000000U : 0U);
    });
    if (!fresh || count <= s_.seed_queries || upper <= s_.seed_unique) return;
    if (st.last_raise != 0 && ev.ts - st.last_raise < kRaiseEvery) return;
    const double avg = static_cast<double>(sum) / static_cast<double>(count);
    if (avg <= s_.seed_avg_length) return;
    Sketch acc;
    st.ring.recent(p, 6, [&](const SeedBucket& x) { x.names.merge_into(acc, pool_); });
    const double unique = acc.estimate();
    if (unique <= static_cast<double>(s_.seed_unique)) return;
    const bool high = (unique > 100 && avg > 60) || (unique > 50 && avg > 50);
    st.last_raise = ev.ts;
    ++triggers_;
    Alert a = alert_for(kInfo, ev, Severity::high);
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    a.reason = "seed_esql_rule: Elastic DNS tunnelling rule, " + std::to_string(count) + " long queries, " +
               std::to_string(static_cast<std::int64_t>(unique + 0.5)) + " unique, average length " +
               one_decimal(avg) + " in 24 h (confidence " + (high ? "high" : "medium") + ")";
    a.with("trigger", std::string("seed_esql_rule"))
        .with("tunnel_confidence", std::string(high ? "high" : "medium"))
        .with("query_count", static_cast<std::int64_t>(count))
        .with("unique_subdomains", static_cast<std::int64_t>(unique + 0.5))
        .with("avg_domain_length", avg)
        .with("max_domain_length", static_cast<std::int64_t>(max_len))
        .with("query_types", qtypes_text(qtypes));
    a.samples = st.samples.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(ev.src, 0x5EED)));
  }

  TunnelingSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<Key, State> keys_;
  sensor::LruTable<Key, Candidate> candidates_;
  sensor::LruTable<ClientKey, SeedState> seed_;
  SketchPool pool_;
  std::uint64_t evicted_ = 0, candidate_evicted_ = 0, seed_evicted_ = 0, triggers_ = 0;
  std::uint8_t promote_at_ = kCandidateNames;
};

}  // namespace

const RuleInfo& tunneling_info() { return kInfo; }
std::unique_ptr<Detector> make_tunneling(const TunnelingSettings& s) { return std::make_unique<Tunneling>(s); }

}  // namespace dnsvigil::detect::rules
