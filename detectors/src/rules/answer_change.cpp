// answer_change — T1584.002 (issue 7): the answers for the organisation's own zones change. The
// Sea Turtle campaigns took over registrar or DNS provider accounts and pointed a victim's NS
// records (or the A records of its mail and VPN names) at attacker servers for hours, long
// enough to obtain certificates and harvest credentials; the change is visible on the wire in
// every answer for the zone.
//
// For every (owner name, type) of the monitored zones (network.monitored_zones), the NS
// targets, A/AAAA addresses (glue of the zone's NS targets included) and MX exchanges seen in
// responses during `learning_period` after its first sighting are its baseline, with the
// authoritative TTL. After that, a value outside the baseline alerts (new NS target, new glue
// address, new address, new mail exchange, or a name whose addresses were all public now
// pointing inside), and so does a sharp drop of the authoritative TTL (attackers lower TTLs
// before switching records). Declared values in config alert without learning. Several
// changes in one zone within an hour raise the severity.
#include <memory>

#include "common.hpp"
#include "dnsvigil/detect/rules.hpp"
#include "dnsvigil/dnsparse/name.hpp"
#include "dnsvigil/dnsparse/text.hpp"
#include "dnsvigil/sensor/table.hpp"

namespace dnsvigil::detect::rules {

namespace {

namespace rr = dnsparse::rrtype;

const RuleInfo kInfo{
    "answer_change", "dnsvigil-0009",
    "The DNS answers for a monitored zone changed after they had been learned: a new name server, glue address, "
    "address or mail exchange, or a sharp drop of the authoritative TTL (DNS hijacking by a compromised registrar, "
    "DNS provider or authoritative server).",
    {"TA0042", "Resource Development", "T1584", "Compromise Infrastructure", "T1584.002", "DNS Server"}};

// Values remembered per (name, type); a set that outgrows this while learning is a pool whose
// members rotate (load balancing) and is not judged.
constexpr std::size_t kValues = 8;
// A claimed change is not raised again by another worker for this long (-j N).
constexpr Timestamp kClaimPeriod = 24 * kHour;
// Changes remembered per zone for the escalation count.
constexpr std::size_t kChangeLog = 16;

struct Key {
  std::uint64_t name;  // XXH3 of the owner name (lower case)
  std::uint16_t type;
  std::uint8_t pad[6];
};
struct Value {
  std::uint64_t hash;
  std::uint32_t first_s, last_s;  // packet time in seconds
  FixedText<46> text;
};
struct State {
  Timestamp first;       // first sighting of the (name, type)
  std::uint32_t ttl;     // learned authoritative TTL (largest seen while learning)
  std::uint8_t nvalues;
  bool pool;             // outgrew kValues while learning
  bool public_only;      // every learned address is outside network.internal
  Value values[kValues];
};

enum class Trigger : std::uint8_t { new_nameserver, new_glue, new_address, internal_address, new_mail_exchanger, ttl_drop };
constexpr std::string_view kTriggerNames[] = {"new_nameserver",     "new_glue",  "new_address", "internal_address",
                                              "new_mail_exchanger", "ttl_drop"};

std::string lower_name(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// A name in the message in lower-case presentation form (no trailing dot), or false.
bool name_at(const dnsparse::Message& m, std::size_t offset, dnsparse::TextWriter& w) {
  dnsparse::WireName n;
  if (dnsparse::decode_name(m.wire(), offset, n, true).error != dnsparse::Error::ok) return false;
  dnsparse::write_wire_name_text(n, w);
  return true;
}

// NS target names (hashes) of one message; a referral lists a handful.
struct Targets {
  std::uint64_t h[16];
  std::size_t n = 0;
  void add(std::uint64_t v) noexcept {
    if (n < std::size(h)) h[n++] = v;
  }
  [[nodiscard]] bool contains(std::uint64_t v) const noexcept { return std::find(h, h + n, v) != h + n; }
};

std::uint32_t seconds_of(Timestamp t) noexcept { return static_cast<std::uint32_t>(t / kNanosPerSecond); }

class AnswerChange final : public Detector {
 public:
  AnswerChange(const AnswerChangeSettings& s, const std::vector<std::string>& zones)
      : s_(s), allow_(s.allow), allowed_(s.allowed_addresses), states_(s.max_keys) {
    for (const auto& z : zones) zones_.push_back({lower_name(z), {}});
    for (const auto& n : s.nameservers) nameservers_.push_back(lower_name(n));
    for (const auto& n : s.mail_exchangers) mail_exchangers_.push_back(lower_name(n));
  }

  const RuleInfo& info() const noexcept override { return kInfo; }

  void on_event(const sensor::DnsEvent& ev, Context& ctx) override {
    if (zones_.empty() || !ev.is_response() || ev.qname->empty()) return;
    const auto& m = *ev.msg;
    if (m.header().opcode() != 0 || m.rcode() != 0) return;
    const std::uint16_t qtype = m.question().type;
    if (qtype == rr::AXFR || qtype == rr::IXFR) return;  // transfers carry every edit; answers are what clients see
    if (!ctx.policy.monitored(*ev.qname) || allow_.allows(ev)) return;

    // NS targets of monitored owners in this message: A/AAAA for them are glue.
    Targets ns_targets;
    for (const auto section : {dnsparse::Section::answer, dnsparse::Section::authority}) {
      for (const auto& r : m.records(section)) {
        if (r.type != rr::NS || r.klass != 1) continue;
        char owner[dnsparse::limits::kMaxNameText], target[dnsparse::limits::kMaxNameText];
        dnsparse::TextWriter ow(owner), tw(target);
        if (name_at(m, r.name, ow) && zone_of(ow.view()) != nullptr && name_at(m, r.rdata, tw))
          ns_targets.add(hash(tw.view()));
      }
    }
    for (const auto section : {dnsparse::Section::answer, dnsparse::Section::authority, dnsparse::Section::additional})
      for (const auto& r : m.records(section)) record(ev, r, ns_targets, ctx);
  }

  // With several workers each learns from its own clients, and a change is seen by the workers
  // of every client that receives it: the first to claim it raises the alert (at its next sync,
  // within a second of packet time).
  void sync(SharedView& shared, Context& ctx) override {
    sharded_ = true;
    for (auto& [a, key] : pending_)
      if (shared.claim(key, a.ts, kClaimPeriod)) ctx.raiser.raise(std::move(a), key);
    pending_.clear();
  }

  DetectorStats stats() const override { return one_table_stats(kInfo, states_, evicted_, triggers_); }

 private:
  struct Zone {
    std::string name;
    Timestamp changes[kChangeLog];  // ring of change times
  };

  // The monitored zone holding `name` (the longest match), or nullptr.
  Zone* zone_of(std::string_view name) noexcept {
    Zone* best = nullptr;
    for (Zone& z : zones_) {
      const std::string_view zn = z.name;
      const bool inside = name == zn || (name.size() > zn.size() && name.ends_with(zn) &&
                                         name[name.size() - zn.size() - 1] == '.');
      if (inside && (best == nullptr || zn.size() > best->name.size())) best = &z;
    }
    return best;
  }

  void record(const sensor::DnsEvent& ev, const dnsparse::RecordView& r, const Targets& ns_targets, Context& ctx) {
    if (r.klass != 1 || (r.type != rr::A && r.type != rr::AAAA && r.type != rr::NS && r.type != rr::MX)) return;
    const auto& m = *ev.msg;
    char owner_buf[dnsparse::limits::kMaxNameText];
    dnsparse::TextWriter ow(owner_buf);
    if (!name_at(m, r.name, ow)) return;
    const std::string_view owner = ow.view();
    const std::uint64_t owner_hash = hash(owner);
    const bool glue = (r.type == rr::A || r.type == rr::AAAA) && ns_targets.contains(owner_hash);
    Zone* zone = zone_of(owner);
    if (zone == nullptr && !glue) return;

    // The value: an address, or a target name.
    char value_buf[dnsparse::limits::kMaxNameText];
    dnsparse::TextWriter vw(value_buf);
    IpAddr addr;
    const bool is_addr = record_address(m, r, addr);
    if (is_addr) {
      addr.write(vw);
    } else if (r.type == rr::NS) {
      if (!name_at(m, r.rdata, vw)) return;
    } else if (r.type == rr::MX) {
      if (r.rdlength < 3 || !name_at(m, r.rdata + 2u, vw)) return;
    } else {
      return;  // malformed A/AAAA RDATA
    }
    const std::string_view value = vw.view();
    const std::uint64_t value_hash = hash(value, r.type);

    auto [e, inserted] = states_.emplace({owner_hash, r.type, {}}, ev.ts, [&](auto&) { ++evicted_; });
    State& st = e->value;
    if (inserted) {
      st = State{};
      st.first = ev.ts;
      st.public_only = true;
    }
    const bool learning = ev.ts < st.first + s_.learning_period;
    const std::uint32_t now_s = seconds_of(ev.ts);

    // The authoritative TTL: learned, then watched for a sharp drop.
    if (m.header().aa()) {
      if (learning) {
        st.ttl = std::max(st.ttl, r.ttl);
      } else if (st.ttl >= s_.ttl_min && static_cast<double>(r.ttl) * s_.ttl_drop_factor <= st.ttl) {
        Alert a = begin(ev, Trigger::ttl_drop, Severity::low, owner, r.type, value, st, ctx);
        a.reason = "authoritative TTL of " + std::string(owner) + " " + type_text(r.type) + " dropped from " +
                   std::to_string(st.ttl) + " s to " + std::to_string(r.ttl) + " s (records about to change?)";
        a.with("ttl", static_cast<std::int64_t>(r.ttl)).with("learned_ttl", static_cast<std::int64_t>(st.ttl));
        st.ttl = r.ttl;  // the new TTL is the baseline: one alert per drop
        finish(std::move(a), zone, hash(owner, 0x7717'0000ULL | r.type), ctx);
      }
    }

    for (std::uint8_t i = 0; i < st.nvalues; ++i)
      if (st.values[i].hash == value_hash) {
        st.values[i].last_s = now_s;
        return;
      }

    // A value outside the baseline.
    const bool internal = is_addr && ctx.policy.internal(addr);
    bool known = is_addr && allowed_.contains(addr);
    bool declared_bad = false;
    if (r.type == rr::NS && !nameservers_.empty()) {
      known = std::find(nameservers_.begin(), nameservers_.end(), value) != nameservers_.end();
      declared_bad = !known;
    }
    if (r.type == rr::MX && !mail_exchangers_.empty()) {
      known = std::find(mail_exchangers_.begin(), mail_exchangers_.end(), value) != mail_exchangers_.end();
      declared_bad = !known;
    }
    const bool was_public = st.public_only && st.nvalues > 0;
    if (learning || known || declared_bad || !st.pool) remember(st, value_hash, value, now_s, learning);
    if (internal) st.public_only = false;
    if (known || (learning && !declared_bad) || (st.pool && !declared_bad)) return;

    Trigger t = Trigger::new_address;
    Severity sev = Severity::medium;
    if (r.type == rr::NS) {
      t = Trigger::new_nameserver;
      sev = Severity::high;
    } else if (r.type == rr::MX) {
      t = Trigger::new_mail_exchanger;
    } else if (glue) {
      t = Trigger::new_glue;
      sev = Severity::high;
    } else if (internal && was_public) {
      t = Trigger::internal_address;
      sev = Severity::high;
    }
    Alert a = begin(ev, t, sev, owner, r.type, value, st, ctx);
    a.reason = std::string(owner) + " " + type_text(r.type) + " answered " + std::string(value) +
               (declared_bad ? ", which is not declared in the configuration"
                             : ", not seen during its learning period (" + known_text(st, value_hash) + ")");
    if (t == Trigger::internal_address) a.reason += "; a public name now points inside the network";
    finish(std::move(a), zone, owner_hash ^ value_hash, ctx);
  }

  // Adds a value to the set; a full set while learning makes the key a pool, after learning the
  // least recently seen value gives way (the new one was reported).
  static void remember(State& st, std::uint64_t h, std::string_view text, std::uint32_t now_s, bool learning) {
    std::size_t slot = st.nvalues;
    if (st.nvalues == kValues) {
      if (learning) {
        st.pool = true;
        return;
      }
      slot = 0;
      for (std::size_t i = 1; i < kValues; ++i)
        if (st.values[i].last_s < st.values[slot].last_s) slot = i;
    } else {
      ++st.nvalues;
    }
    st.values[slot].hash = h;
    st.values[slot].first_s = st.values[slot].last_s = now_s;
    st.values[slot].text.set(text);
  }

  static std::string known_text(const State& st, std::uint64_t except) {
    std::string out = "known:";
    for (std::uint8_t i = 0; i < st.nvalues; ++i)
      if (st.values[i].hash != except) out += " " + st.values[i].text.str();
    return out == "known:" ? "nothing known" : out;
  }

  Alert begin(const sensor::DnsEvent& ev, Trigger t, Severity sev, std::string_view owner, std::uint16_t type,
              std::string_view value, const State& st, const Context& ctx) {
    ++triggers_;
    Alert a = alert_for(kInfo, ev, sev);
    a.first_seen = st.first;
    a.last_seen = ev.ts;
    a.with("trigger", std::string(kTriggerNames[static_cast<int>(t)]))
        .with("record_name", std::string(owner))
        .with("record_type", type_text(type))
        .with("value", std::string(value))
        .with("authoritative", ev.msg->header().aa());
    std::vector<std::string> known;
    for (std::uint8_t i = 0; i < st.nvalues && known.size() < ctx.samples + 3; ++i) known.push_back(st.values[i].text.str());
    a.with("known_values", std::move(known)).with("learned_since", text_time(st.first));
    return a;
  }

  // Counts the change in its zone (several within an hour raise the severity) and raises.
  void finish(Alert&& a, Zone* zone, std::uint64_t key, Context& ctx) {
    if (zone != nullptr) {
      std::size_t recent = 0, oldest = 0;
      for (std::size_t i = 0; i < kChangeLog; ++i) {
        if (zone->changes[i] != 0 && zone->changes[i] + kHour > a.ts) ++recent;
        if (zone->changes[i] < zone->changes[oldest]) oldest = i;
      }
      zone->changes[oldest] = a.ts;
      ++recent;
      a.with("zone", zone->name).with("zone_changes_1h", static_cast<std::int64_t>(recent));
      if (recent >= s_.escalate_changes && a.severity < Severity::high) a.severity = Severity::high;
    }
    if (sharded_) {
      pending_.push_back({std::move(a), rule_key(kInfo, key)});
      return;
    }
    ctx.raiser.raise(std::move(a), rule_key(kInfo, key));
  }

  AnswerChangeSettings s_;
  AllowMatcher allow_;
  Prefixes allowed_;
  std::vector<Zone> zones_;
  std::vector<std::string> nameservers_, mail_exchangers_;
  sensor::LruTable<Key, State> states_;
  bool sharded_ = false;
  std::vector<std::pair<Alert, std::uint64_t>> pending_;  // alerts waiting for their claim (-j N)
  std::uint64_t evicted_ = 0, triggers_ = 0;
};

}  // namespace

const RuleInfo& answer_change_info() { return kInfo; }
std::unique_ptr<Detector> make_answer_change(const AnswerChangeSettings& s, const std::vector<std::string>& zones) {
  return std::make_unique<AnswerChange>(s, zones);
}

}  // namespace dnsvigil::detect::rules
