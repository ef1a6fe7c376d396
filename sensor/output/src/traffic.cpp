#include "dnsvigil/output/traffic.hpp"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "dnsvigil/dnsparse/types.hpp"

namespace dnsvigil::output {

// ---- TimeSeries -----------------------------------------------------------------------------

namespace {
Timestamp floor_to(Timestamp t, Timestamp w) noexcept { return t - t % w; }
}  // namespace

void TimeSeries::add_slow(Timestamp ts, std::uint64_t n) noexcept {
  // Clamped so that no width or span can overflow (240 bins of 2^55 ns exceed 2^62).
  ts = std::clamp<Timestamp>(ts, 0, Timestamp{1} << 62);
  if (total_ == 0) {
    bins_.fill(0);
    start_ = floor_to(ts, width_);
    first_ = last_ = ts;
  } else {
    fit(std::min(ts, first_), std::max(ts, last_));
  }
  first_ = std::min(first_, ts);
  last_ = std::max(last_, ts);
  cur_ = static_cast<std::size_t>((ts - start_) / width_);
  cur_lo_ = start_ + static_cast<Timestamp>(cur_) * width_;
  cur_hi_ = cur_lo_ + width_;
  bins_[cur_] += n;
  total_ += n;
}

void TimeSeries::fit(Timestamp lo, Timestamp hi) noexcept {
  Timestamp w = width_;
  Timestamp s = floor_to(std::min(lo, start_), w);
  while (hi - s >= static_cast<Timestamp>(kBins) * w) {
    w *= 2;
    s = floor_to(std::min(lo, start_), w);
  }
  if (s != start_ || w != width_) rebin(s, w);
}

void TimeSeries::rebin(Timestamp start, Timestamp width) noexcept {
  std::array<std::uint64_t, kBins> out{};
  for (std::size_t i = 0; i < kBins; ++i) {
    if (bins_[i] == 0) continue;
    const Timestamp t = start_ + static_cast<Timestamp>(i) * width_;
    out[static_cast<std::size_t>((t - start) / width)] += bins_[i];
  }
  bins_ = out;
  start_ = start;
  width_ = width;
  cur_lo_ = cur_hi_ = 0;  // the fast path's bin moved
}

std::pair<Timestamp, Timestamp> TimeSeries::common_axis(const TimeSeries& a, const TimeSeries& b) noexcept {
  if (a.empty()) return {b.start_, b.width_};
  if (b.empty()) return {a.start_, a.width_};
  const Timestamp lo = std::min(a.first_, b.first_), hi = std::max(a.last_, b.last_);
  Timestamp w = std::max(a.width_, b.width_);
  Timestamp s = floor_to(lo, w);
  while (hi - s >= static_cast<Timestamp>(kBins) * w) {
    w *= 2;
    s = floor_to(lo, w);
  }
  return {s, w};
}

void TimeSeries::merge(const TimeSeries& o) noexcept {
  if (o.empty()) return;
  if (empty()) {
    *this = o;
    return;
  }
  const auto [s, w] = common_axis(*this, o);
  rebin(s, w);
  for (std::size_t i = 0; i < kBins; ++i) {
    if (o.bins_[i] == 0) continue;
    const Timestamp t = o.start_ + static_cast<Timestamp>(i) * o.width_;
    bins_[static_cast<std::size_t>((t - s) / w)] += o.bins_[i];
  }
  total_ += o.total_;
  first_ = std::min(first_, o.first_);
  last_ = std::max(last_, o.last_);
}

std::vector<std::uint64_t> TimeSeries::on_axis(Timestamp start, Timestamp width, std::size_t n) const {
  std::vector<std::uint64_t> out(n, 0);
  if (n == 0 || width <= 0) return out;
  for (std::size_t i = 0; i < kBins; ++i) {
    if (bins_[i] == 0) continue;
    const Timestamp t = start_ + static_cast<Timestamp>(i) * width_;
    const std::size_t j = t < start ? 0 : std::min(n - 1, static_cast<std::size_t>((t - start) / width));
    out[j] += bins_[i];
  }
  return out;
}

// ---- HeavyHitters ---------------------------------------------------------------------------

template <class Payload>
HeavyHitters<Payload>::HeavyHitters(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 2)) {
  std::size_t n = 1;
  while (n < capacity_ * 2) n <<= 1;  // load factor at most 1/2
  mask_ = n - 1;
  index_.assign(n, 0);
  entries_.reserve(capacity_);
  scratch_.reserve(capacity_);
}

template <class Payload>
std::uint32_t* HeavyHitters<Payload>::slot(std::uint64_t hash) noexcept {
  for (std::uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
    const std::uint32_t at = index_[i];
    if (at == 0 || entries_[at - 1].hash == hash) return &index_[i];
  }
}

template <class Payload>
typename HeavyHitters<Payload>::Entry* HeavyHitters<Payload>::find(std::uint64_t hash) noexcept {
  const std::uint32_t at = *slot(hash);
  return at == 0 ? nullptr : &entries_[at - 1];
}

template <class Payload>
std::pair<typename HeavyHitters<Payload>::Entry*, bool> HeavyHitters<Payload>::add(std::uint64_t hash,
                                                                                  std::uint64_t n) noexcept {
  total_ += n;
  std::uint32_t* s = slot(hash);
  if (*s != 0) {
    Entry& e = entries_[*s - 1];
    e.count += n;
    return {&e, false};
  }
  if (entries_.size() == capacity_) {
    prune();
    s = slot(hash);
  }
  entries_.push_back(Entry{hash, n, Payload{}});  // never reallocates: reserved to capacity_
  *s = static_cast<std::uint32_t>(entries_.size());
  return {&entries_.back(), true};
}

template <class Payload>
void HeavyHitters<Payload>::prune() noexcept {
  scratch_.clear();
  for (const Entry& e : entries_) scratch_.push_back(e.count);
  const auto mid = scratch_.begin() + static_cast<std::ptrdiff_t>(scratch_.size() / 2);
  std::nth_element(scratch_.begin(), mid, scratch_.end());
  // Every entry at or below the median goes (at least half of them); the rest lose as much.
  const std::uint64_t m = *mid;
  std::size_t kept = 0;
  for (const Entry& e : entries_) {
    if (e.count <= m) continue;
    entries_[kept] = e;
    entries_[kept].count -= m;
    ++kept;
  }
  entries_.resize(kept);
  error_ += m;
  reindex();
}

template <class Payload>
void HeavyHitters<Payload>::reindex() noexcept {
  std::fill(index_.begin(), index_.end(), 0);
  for (std::size_t i = 0; i < entries_.size(); ++i) *slot(entries_[i].hash) = static_cast<std::uint32_t>(i + 1);
}

template <class Payload>
void HeavyHitters<Payload>::merge(const HeavyHitters& o) noexcept {
  const std::uint64_t total = total_ + o.total_;
  for (const Entry& e : o.entries_) {
    auto [x, inserted] = add(e.hash, e.count);
    if (inserted) {
      x->payload = e.payload;
    } else {
      x->payload.merge(e.payload);
    }
  }
  total_ = total;
  error_ += o.error_;
}

template <class Payload>
std::vector<typename HeavyHitters<Payload>::Entry> HeavyHitters<Payload>::top(std::size_t n) const {
  std::vector<Entry> out(entries_);
  const auto by_count = [](const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.hash < b.hash;
  };
  if (n < out.size()) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), by_count);
    out.resize(n);
  } else {
    std::sort(out.begin(), out.end(), by_count);
  }
  return out;
}

template class HeavyHitters<AddrPayload>;
template class HeavyHitters<DomainPayload>;
template class HeavyHitters<ServerPayload>;

// ---- payloads -------------------------------------------------------------------------------

void DomainPayload::set(std::string_view s) noexcept {
  cut = s.size() > kMaxText;
  len = static_cast<std::uint8_t>(cut ? kMaxText : s.size());
  std::memcpy(text, s.data(), len);
}

void LatencyHistogram::add(Timestamp latency_ns) noexcept {
  const auto us = static_cast<std::uint64_t>(latency_ns < 0 ? 0 : latency_ns / 1000);
  const std::size_t b = us == 0 ? 0 : static_cast<std::size_t>(std::bit_width(us) - 1);
  ++n[std::min(b, kBuckets - 1)];
  sum_ns += static_cast<std::uint64_t>(latency_ns < 0 ? 0 : latency_ns);
  ++count;
}

void LatencyHistogram::merge(const LatencyHistogram& o) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) n[i] += o.n[i];
  sum_ns += o.sum_ns;
  count += o.count;
}

Timestamp LatencyHistogram::quantile(double q) const noexcept {
  if (count == 0) return 0;
  const double want = std::clamp(q, 0.0, 1.0) * static_cast<double>(count);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (n[i] == 0) continue;
    if (static_cast<double>(seen + n[i]) >= want) {
      // Linear within the bucket [2^i, 2^(i+1)) µs (bucket 0 from 0).
      const double lo = i == 0 ? 0.0 : static_cast<double>(std::uint64_t{1} << i);
      const double hi = static_cast<double>(std::uint64_t{1} << (i + 1));
      const double f = (want - static_cast<double>(seen)) / static_cast<double>(n[i]);
      return static_cast<Timestamp>((lo + f * (hi - lo)) * 1000.0);
    }
    seen += n[i];
  }
  return static_cast<Timestamp>((std::uint64_t{1} << kBuckets) * 1000);
}

void ServerPayload::merge(const ServerPayload& o) noexcept {
  queries += o.queries;
  responses += o.responses;
  nxdomain += o.nxdomain;
  servfail += o.servfail;
  unanswered += o.unanswered;
  latency.merge(o.latency);
}

// ---- Traffic --------------------------------------------------------------------------------

namespace {
std::uint64_t addr_hash(const sensor::IpAddr& a) noexcept { return XXH3_64bits(a.bytes.data(), a.bytes.size()); }
}  // namespace

Traffic::Traffic(const TrafficLimits& limits)
    : clients(limits.clients), domains(limits.domains), servers(limits.servers) {
  qtypes_high.reserve(kHighTypes);
}

void Traffic::on_event(const sensor::DnsEvent& ev) noexcept {
  if (ev.upstream() || ev.msg == nullptr) return;
  if (ev.ts < first_ts) first_ts = ev.ts;
  if (ev.ts > last_ts) last_ts = ev.ts;
  if (!ev.is_response()) {
    ++queries_total;
    queries.add(ev.ts);
    if (auto [c, inserted] = clients.add(addr_hash(ev.src)); inserted) c->payload.addr = ev.src;
    if (ev.qname != nullptr && !ev.qname->empty()) {
      const std::string_view rd = ev.qname->registered_domain();
      if (!rd.empty()) {
        if (auto [d, inserted] = domains.add(ev.qname->domain_hash()); inserted) d->payload.set(rd);
      }
    }
    if (ev.msg->has_question()) {
      const std::uint16_t t = ev.msg->question().type;
      if (t < qtypes.size()) {
        ++qtypes[t];
      } else {
        auto it = std::find_if(qtypes_high.begin(), qtypes_high.end(), [t](const auto& p) { return p.first == t; });
        if (it != qtypes_high.end()) {
          ++it->second;
        } else if (qtypes_high.size() < kHighTypes) {
          qtypes_high.emplace_back(t, 1);
        } else {
          ++qtypes_other;
        }
      }
    }
    auto [s, inserted] = servers.add(addr_hash(ev.dst));
    if (inserted) s->payload.addr = ev.dst;
    ++s->payload.queries;
    return;
  }
  ++responses_total;
  const std::uint16_t rc = ev.msg->rcode();
  if (rc < rcodes.size()) {
    ++rcodes[rc];
  } else {
    ++rcodes_other;
  }
  auto [s, inserted] = servers.add(addr_hash(ev.src));
  if (inserted) s->payload.addr = ev.src;
  ServerPayload& p = s->payload;
  ++p.responses;
  if (rc == dnsparse::rcode::NXDOMAIN) {
    ++nxdomain_total;
    ++p.nxdomain;
    nxdomain.add(ev.ts);
  } else if (rc == dnsparse::rcode::SERVFAIL) {
    ++p.servfail;
  }
  if (ev.matched && !ev.duplicate) {
    ++matched;
    const Timestamp l = ev.latency();
    latency.add(l);
    p.latency.add(l);
  }
}

void Traffic::on_unanswered(const sensor::UnansweredQuery& q) noexcept {
  ++unanswered;
  if (auto* s = servers.find(addr_hash(q.server))) ++s->payload.unanswered;
}

void Traffic::merge(const Traffic& o) noexcept {
  queries.merge(o.queries);
  nxdomain.merge(o.nxdomain);
  clients.merge(o.clients);
  domains.merge(o.domains);
  servers.merge(o.servers);
  for (std::size_t i = 0; i < qtypes.size(); ++i) qtypes[i] += o.qtypes[i];
  for (const auto& [t, n] : o.qtypes_high) {
    auto it = std::find_if(qtypes_high.begin(), qtypes_high.end(), [type = t](const auto& p) { return p.first == type; });
    if (it != qtypes_high.end()) {
      it->second += n;
    } else if (qtypes_high.size() < kHighTypes) {
      qtypes_high.emplace_back(t, n);
    } else {
      qtypes_other += n;
    }
  }
  qtypes_other += o.qtypes_other;
  for (std::size_t i = 0; i < rcodes.size(); ++i) rcodes[i] += o.rcodes[i];
  rcodes_other += o.rcodes_other;
  queries_total += o.queries_total;
  responses_total += o.responses_total;
  nxdomain_total += o.nxdomain_total;
  matched += o.matched;
  unanswered += o.unanswered;
  latency.merge(o.latency);
  first_ts = std::min(first_ts, o.first_ts);
  last_ts = std::max(last_ts, o.last_ts);
}

}  // namespace dnsvigil::output
