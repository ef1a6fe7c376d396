// recon_sweep — T1590.002 (playbook): one client asking one domain for the record types and
// names that reveal its mail, voice and SaaS providers, or sweeping many domains for them.
#include <bit>
#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/detect/sketch.hpp"
#include "dnsvigil/detect/window.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

using namespace dnsparse::rrtype;

const RuleInfo kInfo{
    "recon_sweep", "dnsvigil-0003",
    "One client queried a domain for several reconnaissance record types or names (MX, TXT/SPF, NS, SOA, SRV, "
    "CAA, DNSKEY, ANY, _dmarc, _domainkey, autodiscover, ...) that reveal mail, voice and SaaS providers, or swept "
    "many domains for them.",
    {"TA0043", "Reconnaissance", "T1590", "Gather Victim Network Information", "T1590.002", "DNS"}};

constexpr Timestamp kBucket = 5 * kMinute;  // 2 buckets: 10 min

// Record types that reveal infrastructure; bit index into a mask.
int qtype_bit(std::uint16_t t) noexcept {
  switch (t) {
    case MX: return 0;
    case TXT: return 1;
    case NS: return 2;
    case SOA: return 3;
    case SRV: return 4;
    case CAA: return 5;
    case DNSKEY: return 6;
    case ANY: return 7;
    case SPF: return 8;
    default: return -1;
  }
}

// Names that reveal SaaS and mail providers (first labels of the name).
constexpr std::string_view kReconNames[] = {
    "_dmarc.",  "_domainkey.",     "_spf.",          "_mta-sts.",           "_sip._tls.",
    "autodiscover.", "_autodiscover._tcp.", "_sipfederationtls._tcp.", "lyncdiscover.", "enterpriseregistration.",
};

int name_bit(std::string_view lower) noexcept {
  for (std::size_t i = 0; i < std::size(kReconNames); ++i) {
    const std::string_view n = kReconNames[i];
    if (i == 1) {  // <selector>._domainkey.<domain>
      if (lower.find("._domainkey.") != std::string_view::npos || lower.substr(0, n.size()) == n) return 1;
      continue;
    }
    if (lower.substr(0, n.size()) == n) return static_cast<int>(i);
  }
  return -1;
}

struct Key {
  IpAddr client;
  std::uint64_t domain;
};
struct Bucket {
  std::uint16_t qtypes;
  std::uint16_t names;
};
struct State {
  Ring<2, Bucket> ring;
  FixedText<96> domain;
  Samples<8> samples;
  Timestamp first;
};
struct DomBucket {
  Distinct domains;
};
struct MultiState {
  Ring<2, DomBucket> ring;
  Samples<8> samples;
  Timestamp first;
  std::uint32_t fired_period;
};

std::string list_bits(std::uint16_t mask, bool names) {
  std::string out;
  static constexpr std::string_view kTypes[] = {"MX", "TXT", "NS", "SOA", "SRV", "CAA", "DNSKEY", "ANY", "SPF"};
  for (int i = 0; i < 16; ++i) {
    if (!(mask & (1U << i))) continue;
    if (!out.empty()) out += ',';
    if (names) {
      std::string_view n = kReconNames[static_cast<std::size_t>(i)];
      out += n.substr(0, n.size() - 1);
    } else {
      out += kTypes[static_cast<std::size_t>(i)];
    }
  }
  return out;
}

class ReconSweep final : public Detector {
 public:
  explicit ReconSweep(const ReconSweepSettings& s)
      : s_(s), allow_(s.allow), keys_(s.max_keys), multi_(s.max_keys), pool_(s.sketch_pool) {}

  const RuleInfo& info() const noexcept override { return kInfo; }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (ev.is_response() || ev.qname->empty() || allow_.allows(ev)) return;
    const IpAddr& client = ev.src;
    const std::string_view lower = ev.qname->lower();
    const int tb = qtype_bit(ev.msg->question().type);
    const int nb = name_bit(lower);
    if (tb < 0 && nb < 0) return;
    // Names that are no evidence (catalogued, allowlisted, a container node's search-list
    // expansions...) are nobody's target; ACME clients poll their
    // own _acme-challenge TXT (and look up its zone's SOA and NS) until the CA sees it.
    if (ctx.not_evidence() || ctx.name->acme) return;
    // Mail servers look up MX/TXT/_dmarc/DKIM for every sender; resolvers forward their
    // clients' lookups; authorised scanners are expected to sweep.
    // (Mail servers configured or learned from their blocklist and sender-policy lookups.)
    if (ctx.client_resolver || (ctx.roles() & (kRoleMailServer | kRoleScanner)) != 0) return;
    const std::uint32_t p = period_of(ev.ts, kBucket);
    const std::string_view domain = ev.qname->registered_domain();

    auto [e, inserted] = keys_.emplace({client, ev.qname->domain_hash()}, ev.ts, [&](auto&) { ++evicted_; });
    State& st = e->value;
    if (inserted) {
      st.domain.set(domain);
      st.first = ev.ts;
    }
    Bucket& b = st.ring.at(p, [](Bucket& x) { x = {}; });
    const std::uint16_t before_t = b.qtypes, before_n = b.names;
    if (tb >= 0) b.qtypes = static_cast<std::uint16_t>(b.qtypes | (1U << tb));
    if (nb >= 0) b.names = static_cast<std::uint16_t>(b.names | (1U << nb));
    st.samples.add(lower, type_text(ev.msg->question().type));
    if (b.qtypes != before_t || b.names != before_n) {
      std::uint16_t qt = 0, nm = 0;
      st.ring.recent(p, 2, [&](const Bucket& x) {
        qt = static_cast<std::uint16_t>(qt | x.qtypes);
        nm = static_cast<std::uint16_t>(nm | x.names);
      });
      const auto nt = static_cast<std::uint64_t>(std::popcount(qt)), nn = static_cast<std::uint64_t>(std::popcount(nm));
      if (nt >= s_.qtypes_10m || nn >= s_.names_10m) {
        ++triggers_;
        Alert a = alert_for(kInfo, ev, Severity::medium);
        a.registered_domain = std::string(domain);
        a.first_seen = st.first;
        a.last_seen = ev.ts;
        const std::string trigger = nt >= s_.qtypes_10m ? "qtypes_10m" : "names_10m";
        a.reason = trigger + ": reconnaissance sweep of " + a.registered_domain + " in 10 min: " + std::to_string(nt) +
                   " record types (" + list_bits(qt, false) + ")" +
                   (nn ? ", " + std::to_string(nn) + " recon names (" + list_bits(nm, true) + ")" : std::string()) +
                   " (thresholds " + std::to_string(s_.qtypes_10m) + " types, " + std::to_string(s_.names_10m) +
                   " names)";
        a.with("trigger", trigger)
            .with("qtypes", list_bits(qt, false))
            .with("recon_names", list_bits(nm, true))
            .with("qtypes_count", static_cast<std::int64_t>(nt))
            .with("recon_names_count", static_cast<std::int64_t>(nn))
            .with("threshold_qtypes", static_cast<std::int64_t>(s_.qtypes_10m))
            .with("threshold_names", static_cast<std::int64_t>(s_.names_10m));
        a.samples = st.samples.list(ctx.samples);
        ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, ev.qname->domain_hash())));
      }
    }
    // Multi-domain variant: TXT, MX or _dmarc lookups across many registered domains.
    const std::uint16_t qtype = ev.msg->question().type;
    if (qtype == TXT || qtype == MX || nb == 0) multi_domain(ev, client, domain, p, ctx);
  }

  DetectorStats stats() const override {
    DetectorStats st;
    st.rule = kInfo.name;
    table_stats(st, keys_, evicted_);
    table_stats(st, multi_, 0);
    st.sketches = pool_.in_use();
    st.sketch_capacity = pool_.capacity();
    st.sketch_exhausted = pool_.exhausted();
    st.reserved_bytes += pool_.capacity() * sizeof(Sketch);
    st.triggers = triggers_;
    return st;
  }

 private:
  void multi_domain(const sensor::DnsEvent& ev, const IpAddr& client, std::string_view domain, std::uint32_t p,
                    Context& ctx) {
    auto [e, inserted] = multi_.emplace({client}, ev.ts, [&](auto& victim) {
      victim.value.ring.each([&](DomBucket& b) { b.domains.release(pool_); });
    });
    MultiState& st = e->value;
    if (inserted) st.first = ev.ts;
    DomBucket& b = st.ring.at(p, [&](DomBucket& x) { x.domains.release(pool_); });
    if (!b.domains.add(ev.qname->domain_hash(), pool_)) return;
    st.samples.add(domain);
    Sketch acc;
    st.ring.recent(p, 2, [&](const DomBucket& x) { x.domains.merge_into(acc, pool_); });
    const double n = acc.estimate();
    if (n + 0.5 < static_cast<double>(s_.domains_10m) || st.fired_period == p) return;
    st.fired_period = p;
    ++triggers_;
    Alert a = alert_for(kInfo, ev, Severity::medium);
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    a.reason = "domains_10m: " + std::to_string(static_cast<std::int64_t>(n + 0.5)) +
               " registered domains swept for TXT/MX/_dmarc by one client in 10 min (threshold " +
               std::to_string(s_.domains_10m) + ")";
    a.with("trigger", std::string("domains_10m"))
        .with("domains_10m", static_cast<std::int64_t>(n + 0.5))
        .with("threshold", static_cast<std::int64_t>(s_.domains_10m));
    a.samples = st.samples.list(ctx.samples);
    ctx.raiser.raise(std::move(a), rule_key(kInfo, hash(client, 0x3D)));
  }

  ReconSweepSettings s_;
  AllowMatcher allow_;
  sensor::LruTable<Key, State> keys_;
  sensor::LruTable<ClientKey, MultiState> multi_;
  SketchPool pool_;
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& recon_sweep_info() { return kInfo; }
std::unique_ptr<Detector> make_recon_sweep(const ReconSweepSettings& s) { return std::make_unique<ReconSweep>(s); }

}  // namespace dnsvigil::detect::rules
