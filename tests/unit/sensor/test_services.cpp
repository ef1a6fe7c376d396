// The service catalogue (sensor/services.hpp): the services.txt format and its problems, the
// most specific entry a name falls under, the shipped list; QueryName's classification, its
// public TLD and search-list expansion (sensor/names.hpp); and the service member of an event's
// JSON document (--dump-json).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "json_check.hpp"
#include "dnsvigil/output/event_json.hpp"
#include "dnsvigil/sensor/names.hpp"
#include "dnsvigil/sensor/services.hpp"

using namespace dnsvigil;
using namespace dnsvigil::test;
using sensor::ServiceCatalogue;
using sensor::ServiceKind;

namespace {

sensor::DomainSplitter& splitter() {
  static sensor::DomainSplitter s;
  return s;
}

// A finished catalogue of `text` (read from "test.txt"); its problems in `problems`.
ServiceCatalogue catalogue(std::string_view text, std::vector<std::string>& problems) {
  ServiceCatalogue c;
  c.add_text(text, "test.txt", problems);
  c.finish();
  return c;
}

// The domain of the entry `name` falls under, "" when none.
std::string found(const ServiceCatalogue& c, std::string_view name) {
  const sensor::Service* s = c.find(name);
  return s != nullptr ? s->domain : std::string();
}

// A query for `name` put through QueryName (the name lives as long as this object).
struct Named {
  Octets wire;
  dnsparse::Message msg;
  sensor::QueryName q;
  explicit Named(std::string_view name, const ServiceCatalogue* services = nullptr,
                 sensor::DomainSplitter* sp = &splitter())
      : wire(query(7, name)) {
    REQUIRE(dnsparse::Message::parse(dnsparse::Bytes{wire}, msg) == dnsparse::Error::ok);
    q.set(msg, sp, services);
  }
  Named(const Named&) = delete;
  // The search suffix as text ("" when the name is no expansion).
  [[nodiscard]] std::string suffix() const {
    const std::uint16_t at = q.search_suffix();
    return at == 0 ? std::string() : std::string(q.lower().substr(at));
  }
};

}  // namespace

// --------------------------------------------------------------------------- the format

TEST_CASE("services: entries, comments, blank lines, case and trailing dots", "[services]") {
  std::vector<std::string> problems;
  const ServiceCatalogue c = catalogue(
      "# a comment line\n"
      "\n"
      "   \t \n"
      "blocklist  ZEN.Spamhaus.ORG.   Spamhaus ZEN   # trailing comment\n"
      "cdn cloudfront.net\r\n"
      "reverse\tin-addr.arpa\tIPv4 PTR\n"
      "reputation hash.cymru.com Team Cymru",  // no final newline
      problems);
  CHECK(problems.empty());
  REQUIRE(c.size() == 4);
  const auto& e = c.entries();
  CHECK(e[0].domain == "zen.spamhaus.org");
  CHECK(e[0].kind == ServiceKind::blocklist);
  CHECK(e[0].description == "Spamhaus ZEN");
  CHECK(e[0].source == "test.txt");
  CHECK(e[1].domain == "cloudfront.net");
  CHECK(e[1].kind == ServiceKind::cdn);
  CHECK(e[1].description.empty());
  CHECK(e[2].domain == "in-addr.arpa");
  CHECK(e[2].kind == ServiceKind::reverse);
  CHECK(e[2].description == "IPv4 PTR");
  CHECK(e[3].domain == "hash.cymru.com");
  CHECK(e[3].description == "Team Cymru");
}

TEST_CASE("services: every kind and its name", "[services]") {
  using enum ServiceKind;
  const std::vector<std::pair<std::string, ServiceKind>> kinds = {
      {"blocklist", blocklist}, {"allowlist", allowlist}, {"reputation", reputation}, {"av_cloud", av_cloud},
      {"update", update},       {"cdn", cdn},             {"cloud", cloud},           {"reverse", reverse}};
  std::string text;
  for (std::size_t i = 0; i < kinds.size(); ++i) text += kinds[i].first + " d" + std::to_string(i) + ".example\n";
  std::vector<std::string> problems;
  const ServiceCatalogue c = catalogue(text, problems);
  CHECK(problems.empty());
  REQUIRE(c.size() == kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    INFO(kinds[i].first);
    CHECK(sensor::service_kind_name(kinds[i].second) == kinds[i].first);
    const sensor::Service* s = c.find("x.d" + std::to_string(i) + ".example");
    REQUIRE(s != nullptr);
    CHECK(s->kind == kinds[i].second);
  }
}

TEST_CASE("services: bad lines are reported as source:line and skipped", "[services]") {
  std::vector<std::string> problems;
  const ServiceCatalogue c = catalogue(
      "# header\n"                         // 1
      "blocklist good.example\n"           // 2
      "blacklist bad.example\n"            // 3: unknown kind
      "cdn\n"                              // 4: no domain
      "cdn   # only a comment after it\n"  // 5: no domain
      "cloud exa$mple.com\n"               // 6: not a domain
      "cloud a..b.com\n"                   // 7: empty label
      "cloud .\n"                          // 8: the root is no domain
      "cloud " + std::string(64, 'a') + ".com\n"  // 9: label over 63 octets
      "update also-good.example\n"         // 10
      "cdn a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q\n"  // 11: 17 labels, more than names are matched by
      "cdn b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q\n",   // 12: 16 labels: kept
      problems);
  REQUIRE(problems.size() == 8);
  CHECK(problems[0].starts_with("test.txt:3: unknown kind 'blacklist'"));
  CHECK(problems[1] == "test.txt:4: a domain must follow the kind");
  CHECK(problems[2] == "test.txt:5: a domain must follow the kind");
  CHECK(problems[3] == "test.txt:6: 'exa$mple.com' is not a domain name");
  CHECK(problems[4] == "test.txt:7: 'a..b.com' is not a domain name");
  CHECK(problems[5].starts_with("test.txt:8: "));
  CHECK(problems[6].starts_with("test.txt:9: '"));
  CHECK(problems[6].ends_with("' is not a domain name"));
  CHECK(problems[7] == "test.txt:11: 'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q' has more than 16 labels: such entries are "
                       "not supported");
  // The good lines around them are kept, and the deepest supported entry is found.
  REQUIRE(c.size() == 3);
  CHECK(c.entries()[0].domain == "good.example");
  CHECK(c.entries()[1].domain == "also-good.example");
  CHECK(c.find("x.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q") == &c.entries()[2]);
  CHECK(c.find("bad.example") == nullptr);
}

TEST_CASE("services: a later entry for the same domain replaces the earlier", "[services]") {
  ServiceCatalogue c;
  std::vector<std::string> problems;
  c.add_text("blocklist dnsbl.example First\ncdn cdn.example\n", "one.txt", problems);
  c.add_text("allowlist DNSBL.example. Second\n", "two.txt", problems);
  c.finish();
  CHECK(problems.empty());
  REQUIRE(c.size() == 2);
  const sensor::Service* s = c.find("1.2.0.127.dnsbl.example");
  REQUIRE(s != nullptr);
  CHECK(s->kind == ServiceKind::allowlist);
  CHECK(s->description == "Second");
  CHECK(s->source == "two.txt");
  CHECK(found(c, "a.cdn.example") == "cdn.example");
}

// --------------------------------------------------------------------------- lookups

TEST_CASE("services: the most specific entry, exact names and label boundaries", "[services]") {
  std::vector<std::string> problems;
  const ServiceCatalogue c = catalogue(
      "reputation spamhaus.org\n"
      "blocklist zen.spamhaus.org\n"
      "allowlist swl.zen.spamhaus.org\n"
      "cloud com\n",
      problems);
  REQUIRE(problems.empty());
  CHECK(found(c, "1.2.0.127.zen.spamhaus.org") == "zen.spamhaus.org");
  CHECK(c.find("1.2.0.127.zen.spamhaus.org")->kind == ServiceKind::blocklist);
  CHECK(found(c, "zen.spamhaus.org") == "zen.spamhaus.org");  // the domain itself
  CHECK(found(c, "x.swl.zen.spamhaus.org") == "swl.zen.spamhaus.org");
  CHECK(found(c, "www.spamhaus.org") == "spamhaus.org");
  CHECK(found(c, "spamhaus.org") == "spamhaus.org");
  CHECK(found(c, "xzen.spamhaus.org") == "spamhaus.org");  // not under zen.spamhaus.org
  CHECK(found(c, "www.example.com") == "com");              // a one-label entry
  CHECK(c.find("xspamhaus.org") == nullptr);                 // same ending, no dot boundary
  CHECK(c.find("spamhaus.org.evil.net") == nullptr);
  CHECK(c.find("org") == nullptr);
  CHECK(c.find(".") == nullptr);
  CHECK(c.find("") == nullptr);

  // An empty catalogue, finished or not, finds nothing.
  ServiceCatalogue none;
  CHECK(none.find("zen.spamhaus.org") == nullptr);
  none.finish();
  CHECK(none.find("zen.spamhaus.org") == nullptr);
  CHECK(none.size() == 0);
}

TEST_CASE("services: add_file reads a file, an unreadable one is a problem", "[services]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::string path = (dir / "dnsvigil_test_services.txt").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << "av_cloud avlookup.example  AV cloud\nbogus line\n";
  }
  ServiceCatalogue c;
  std::vector<std::string> problems;
  c.add_file(path, problems);
  const std::string missing = (dir / "dnsvigil_no_such_dir" / "services.txt").string();
  c.add_file(missing, problems);
  c.finish();
  std::filesystem::remove(path);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].starts_with(path + ":2: unknown kind 'bogus'"));
  CHECK(problems[1] == missing + ": cannot read the service catalogue file");
  REQUIRE(c.size() == 1);
  CHECK(c.entries()[0].source == path);
  CHECK(c.entries()[0].kind == ServiceKind::av_cloud);
  CHECK(found(c, "0123abcd.avlookup.example") == "avlookup.example");
}

TEST_CASE("services: the shipped catalogue parses cleanly and classifies real names", "[services]") {
  // The built-in text is packaging/services.txt, and has no bad line.
  std::vector<std::string> problems;
  const ServiceCatalogue fresh = catalogue(ServiceCatalogue::builtin_text(), problems);
  CHECK(problems.empty());
  ServiceCatalogue file;
  file.add_file(std::string(DNSVIGIL_SOURCE_DIR) + "/packaging/services.txt", problems);
  CHECK(problems.empty());
  CHECK(file.size() == fresh.size());
  CHECK(fresh.size() > 100);

  const auto builtin = ServiceCatalogue::builtin();
  REQUIRE(builtin != nullptr);
  CHECK(builtin == ServiceCatalogue::builtin());  // loaded once
  CHECK(builtin->size() == fresh.size());
  CHECK(builtin->entries().front().source == "built-in");

  const auto kind = [&](std::string_view name) {
    const sensor::Service* s = builtin->find(name);
    return s != nullptr ? std::string(sensor::service_kind_name(s->kind)) : std::string("none");
  };
  CHECK(kind("1.2.0.127.zen.spamhaus.org") == "blocklist");
  CHECK(builtin->find("1.2.0.127.zen.spamhaus.org")->domain == "zen.spamhaus.org");
  CHECK(kind("d1234abcd.cloudfront.net") == "cdn");
  CHECK(kind("4.3.2.1.in-addr.arpa") == "reverse");
  CHECK(kind("0.1.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.d.f.ip6.arpa") == "reverse");
  CHECK(kind("733a48a9cb49651d72fe824ca91e8d00.malware.hash.cymru.com") == "reputation");
  CHECK(kind("www.example.com") == "none");
  // A list operator's whole domain counts (its other zones are lists too); a vendor's web site
  // under an entry of its lookup zone only does not.
  CHECK(builtin->find("x.new-zone.spamhaus.org")->domain == "spamhaus.org");
  CHECK(kind("www.symantec.com") == "none");
  CHECK(kind("a1b2.ws.symantec.com") == "av_cloud");
}

// ------------------------------------------------------------------------ QueryName

TEST_CASE("services: QueryName::set classifies the name with the catalogue", "[services][names]") {
  const auto builtin = ServiceCatalogue::builtin();
  const Named dnsbl("1.2.0.127.ZEN.spamhaus.org", builtin.get());
  REQUIRE(dnsbl.q.service() != nullptr);
  CHECK(dnsbl.q.service()->domain == "zen.spamhaus.org");
  CHECK(dnsbl.q.service()->kind == ServiceKind::blocklist);
  // The same name without a catalogue, and a name the catalogue does not hold.
  CHECK(Named("1.2.0.127.zen.spamhaus.org").q.service() == nullptr);
  CHECK(Named("www.example.com", builtin.get()).q.service() == nullptr);
  CHECK(Named(".", builtin.get()).q.service() == nullptr);
  // Deeper than the 16 suffix hashes: a 34-label ip6.arpa name still falls under ip6.arpa.
  const Named v6("0.1.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.d.f.ip6.arpa", builtin.get());
  REQUIRE(v6.q.service() != nullptr);
  CHECK(v6.q.service()->domain == "ip6.arpa");
  // The most specific entry, through the suffix hashes.
  std::vector<std::string> problems;
  const ServiceCatalogue c = catalogue("reputation spamhaus.org\nblocklist zen.spamhaus.org\n", problems);
  CHECK(Named("a.zen.spamhaus.org", &c).q.service()->domain == "zen.spamhaus.org");
  CHECK(Named("a.pbl.spamhaus.org", &c).q.service()->domain == "spamhaus.org");
  CHECK(Named("a.xspamhaus.org", &c).q.service() == nullptr);
}

TEST_CASE("services: public TLDs of the names and of the splitter", "[services][names]") {
  CHECK(Named("www.example.com").q.public_tld());
  CHECK(Named("bbc.co.uk").q.public_tld());
  CHECK_FALSE(Named("redis.default.svc.cluster.local").q.public_tld());
  CHECK_FALSE(Named("host.corp").q.public_tld());
  CHECK_FALSE(Named("x.lan").q.public_tld());
  CHECK(Named("x.lan", nullptr, nullptr).q.public_tld());  // no list: every TLD counts as public

  CHECK(splitter().public_tld("com"));
  CHECK(splitter().public_tld("uk"));
  CHECK(splitter().public_tld("arpa"));
  CHECK(splitter().public_tld("google"));  // brand TLDs are TLDs too
  CHECK_FALSE(splitter().public_tld("local"));
  CHECK_FALSE(splitter().public_tld("internal"));
  CHECK_FALSE(splitter().public_tld("corp"));
  CHECK_FALSE(splitter().public_tld(""));
}

TEST_CASE("services: search-list expansions and where their suffix starts", "[services][names]") {
  const Named k8s("api.github.com.default.svc.cluster.local");
  CHECK(k8s.q.search_suffix() == std::string_view("api.github.com.").size());
  CHECK(k8s.suffix() == "default.svc.cluster.local");
  CHECK(Named("www.example.org.corp.example.com").suffix() == "corp.example.com");
  CHECK(Named("www.google.co.uk.corp.local").suffix() == "corp.local");
  const Named lan("api.github.com.lan");
  CHECK(lan.q.search_suffix() == 15);
  CHECK(lan.suffix() == "lan");
  CHECK(Named("API.GitHub.COM.lan").suffix() == "lan");  // offsets are in lower()
  // No splitter: no expansion.
  CHECK(Named("api.github.com.lan", nullptr, nullptr).q.search_suffix() == 0);
}

TEST_CASE("services: ordinary names are no search-list expansion", "[services][names]") {
  // Per names.hpp, the suffix must follow an embedded fully qualified name; the label right
  // before a public suffix is the registered domain's own, even when it is a brand TLD.
  for (const std::string_view name :
       {"www.example.com", "example.com", "com", ".", "www.bbc.co.uk", "mail.google.com", "a.b.example.co.uk"}) {
    INFO(name);
    const Named n(name);
    CHECK(n.q.search_suffix() == 0);
  }
}

// ------------------------------------------------------------------------ event JSON

TEST_CASE("services: an event's JSON names the catalogue entry, when there is one", "[services][json]") {
  const auto builtin = ServiceCatalogue::builtin();
  const auto document = [&](std::string_view name) {
    const Named n(name, builtin.get());
    sensor::DnsEvent ev;
    ev.msg = &n.msg;
    ev.qname = &n.q;
    ev.size = n.wire.size();
    ev.src = addr("192.0.2.25");
    ev.dst = addr("192.0.2.53");
    ev.sport = 40000;
    ev.dport = 53;
    output::Json j;
    output::write_event_json(ev, j);
    json::Result r = json::parse(j.line());
    INFO(j.line());
    INFO(r.error);
    REQUIRE(r.ok);
    return r.value;
  };
  const json::Value listed = document("1.2.0.127.zen.spamhaus.org");
  const json::Value& sv = listed["dnsvigil"]["service"];
  REQUIRE(sv.is(json::Value::Kind::object));
  CHECK(sv.keys() == std::vector<std::string>{"kind", "domain"});
  CHECK(sv["kind"].text == "blocklist");
  CHECK(sv["domain"].text == "zen.spamhaus.org");
  CHECK(listed["dns"]["question"]["name"].text == "1.2.0.127.zen.spamhaus.org");

  CHECK(document("d1234abcd.cloudfront.net")["dnsvigil"]["service"]["kind"].text == "cdn");

  const json::Value plain = document("www.example.com");
  CHECK(plain["dnsvigil"]["size"].exists());
  CHECK_FALSE(plain["dnsvigil"]["service"].exists());
}
