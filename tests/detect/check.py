#!/usr/bin/env python3
"""Detector tests on real traffic: replays one lab capture (pcaps/detect/<rule>/<pos|neg>-*.pcap,
made by real tools in private namespaces, see pcaps/README.md) through dnsvigil with the lab's
network policy (tests/detect/lab.yaml) and checks the alerts.

  pos-*.pcap        at least one alert of <rule>
  neg-*.pcap        no alert of <rule>
  benign/*.pcap     no alert at all
  precision/*.pcap  no alert at all, replayed with the sanctioned resolvers configured but no client
                    role (tests/detect/precision.yaml) and with nothing but the internal networks
                    (tests/detect/zero-config.yaml): roles must be learned, not configured
  zero_config/*     replayed with tests/detect/zero-config.yaml only: pos-* must raise a
                    rogue_resolver deviation, neg-* nothing at all
No attack capture may raise two rules for one activity (the same client and registered domain)
where one rule explains the other (PRECEDENCE below, docs/detectors.md "One activity, one alert").
Captures listed in EXTRA below have further checks (severity, outcome, evidence).
Rules in QUIET_ELSEWHERE must not alert on the captures of other folders; captures in
ROLE_SILENCES must be silent for their rule under another policy file.

usage: check.py DNSVIGIL REPO_ROOT CAPTURE_RELATIVE_PATH
"""
import json
import os
import subprocess
import sys


def run(binary, root, capture, config="tests/detect/lab.yaml", extra_args=()):
    cmd = [binary, "-q", "-c", os.path.join(root, config), "-r", os.path.join(root, capture), "--alerts-json", "-"]
    cmd += list(extra_args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: dnsvigil exited {p.returncode}: {p.stderr.strip()}")
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def first(alerts, rule, pred=lambda a: True):
    for a in alerts:
        if a["rule"]["name"] == rule and pred(a):
            return a
    return None


def ev(a, key):
    return a["dnsvigil"]["evidence"].get(key)


def alert_key(a):
    if a["rule"]["name"] == "answer_change":
        # A change of a zone's answers, whichever client received it first (with -j N, the
        # worker that claims it first raises it).
        return ("answer_change", ev(a, "record_name"), ev(a, "record_type"), ev(a, "value"), ev(a, "trigger"))
    return (a["rule"]["name"], a.get("source", {}).get("ip"), a.get("destination", {}).get("ip"),
            a.get("dns", {}).get("question", {}).get("registered_domain"), str(ev(a, "trigger")))


def alert_keys(alerts):
    return {alert_key(a) for a in alerts}


# Further checks: capture -> list of (description, predicate over the alert list).
EXTRA = {
    "pcaps/detect/zone_transfer/pos-axfr-outside-dig.pcap": [
        ("transfer reported high with records streamed",
         lambda al: first(al, "zone_transfer", lambda a: a["dnsvigil"]["severity"] == "high"
                          and ev(a, "outcome") == "transferred" and ev(a, "records") > 10
                          and a["source"]["ip"] == "203.0.113.66" and not ev(a, "insider"))),
    ],
    "pcaps/detect/zone_transfer/pos-axfr-outside-refused.pcap": [
        ("refused transfer reported medium",
         lambda al: first(al, "zone_transfer", lambda a: a["dnsvigil"]["severity"] == "medium"
                          and ev(a, "outcome") == "refused" and ev(a, "response_code") == "REFUSED")),
    ],
    "pcaps/detect/zone_transfer/pos-insider-axfr.pcap": [
        ("insider flagged", lambda al: first(al, "zone_transfer", lambda a: ev(a, "insider") is True)),
        ("both the allowed and the refused zone",
         lambda al: {ev(a, "outcome") for a in al if a["rule"]["name"] == "zone_transfer"} >= {"transferred", "refused"}),
    ],
    "pcaps/detect/zone_transfer/pos-ixfr-udp.pcap": [
        ("IXFR over UDP", lambda al: first(al, "zone_transfer", lambda a: a["network"]["transport"] == "udp"
                                           and a["dns"]["question"]["type"] == "IXFR")),
    ],
    "pcaps/detect/zone_transfer/pos-ixfr-tcp.pcap": [
        ("IXFR over TCP with the serial asked", lambda al: first(al, "zone_transfer", lambda a: a["dns"]["question"]["type"] == "IXFR"
                                                                 and ev(a, "serial_asked") == 2024060101)),
    ],
    "pcaps/detect/rogue_resolver/pos-8888.pcap": [
        ("client and server", lambda al: first(al, "rogue_resolver", lambda a: a["source"]["ip"] == "10.20.1.10"
                                               and a["destination"]["ip"] == "8.8.8.8")),
        ("8.8.8.8's own recursion is not rogue use", lambda al: not first(al, "rogue_resolver", lambda a: a["source"]["ip"] == "8.8.8.8")),
    ],
    "pcaps/detect/rogue_resolver/pos-multi-resolvers.pcap": [
        ("aggregated alert over three servers",
         lambda al: first(al, "rogue_resolver", lambda a: ev(a, "trigger") == "many_resolvers" and len(ev(a, "servers")) >= 3)),
    ],
    "pcaps/detect/rogue_resolver/pos-switch-to-9999.pcap": [
        ("switch from the sanctioned resolver",
         lambda al: first(al, "rogue_resolver", lambda a: a["destination"]["ip"] == "9.9.9.9" and ev(a, "switched_from") == "10.20.0.53")),
    ],
    "pcaps/detect/rogue_resolver/pos-dot853-1111.pcap": [
        ("DNS over TLS", lambda al: first(al, "rogue_resolver", lambda a: ev(a, "port") == 853 and ev(a, "encrypted") is True)),
    ],
    "pcaps/detect/rogue_resolver/pos-offport-8053.pcap": [
        ("DNS on port 8053, readable", lambda al: first(al, "rogue_resolver", lambda a: ev(a, "port") == 8053
                                                        and ev(a, "encrypted") is False
                                                        and "DNS on port 8053" in a["message"]
                                                        and a["destination"]["ip"] == "8.8.8.8")),
    ],
    "pcaps/detect/rogue_resolver/pos-offport-udp443.pcap": [
        ("plain DNS on UDP 443", lambda al: first(al, "rogue_resolver", lambda a: ev(a, "port") == 443
                                                  and a["network"]["transport"] == "udp")),
    ],
    "pcaps/detect/rogue_resolver/pos-offport-5353.pcap": [
        ("an outside resolver on 5353", lambda al: first(al, "rogue_resolver", lambda a: ev(a, "port") == 5353
                                                         and a["destination"]["ip"] == "9.9.9.9")),
    ],
    "pcaps/detect/tunneling/pos-atomic-burst.pcap": [
        ("the seed ES|QL rule fires", lambda al: first(al, "tunneling", lambda a: ev(a, "trigger") == "seed_esql_rule"
                                                      and ev(a, "query_count") > 20 and ev(a, "unique_subdomains") > 10)),
    ],
    "pcaps/detect/tunneling/pos-iodine.pcap": [
        ("binary labels seen", lambda al: first(al, "tunneling", lambda a: a["dns"]["question"]["registered_domain"] == "badexample.org")),
    ],
    "pcaps/detect/recon_sweep/pos-single-domain.pcap": [
        ("sweep of example.com", lambda al: first(al, "recon_sweep", lambda a: a["dns"]["question"]["registered_domain"] == "example.com"
                                                  and a["source"]["ip"] == "203.0.113.66")),
    ],
    "pcaps/detect/recon_sweep/pos-multi-domain.pcap": [
        ("multi-domain variant", lambda al: first(al, "recon_sweep", lambda a: ev(a, "trigger") == "domains_10m")),
    ],
    "pcaps/detect/beaconing/pos-5s-same-name.pcap": [
        ("5 s interval", lambda al: first(al, "beaconing", lambda a: 4.5 <= ev(a, "interval_median_s") <= 5.5)),
    ],
    # issue 7
    "pcaps/detect/cache_snooping/pos-dig-norecurse.pcap": [
        ("client, resolver and cache hits", lambda al: first(al, "cache_snooping", lambda a: a["source"]["ip"] == "10.20.1.13"
                                                             and a["destination"]["ip"] == "10.20.0.53"
                                                             and ev(a, "distinct_names") >= 10 and ev(a, "cache_hits") > 0)),
    ],
    "pcaps/detect/cache_snooping/pos-kdig-norecurse-ipv6.pcap": [
        ("IPv6 resolver", lambda al: first(al, "cache_snooping", lambda a: a["destination"]["ip"] == "fd20::54")),
    ],
    "pcaps/detect/resolver_switch/pos-switch-internal-rogue.pcap": [
        ("switch from the sanctioned resolver to the internal rogue one",
         lambda al: first(al, "resolver_switch", lambda a: a["source"]["ip"] == "10.20.1.12" and a["destination"]["ip"] == "10.20.1.13"
                          and ev(a, "switched_from") == "10.20.0.53" and ev(a, "sanctioned_queries") >= 10)),
        ("the rogue resolver's own recursion is no switch",
         lambda al: not first(al, "resolver_switch", lambda a: a["source"]["ip"] == "10.20.1.13")),
    ],
    "pcaps/detect/resolver_switch/pos-switch-ipv6-authoritative.pcap": [
        ("IPv6 switch", lambda al: first(al, "resolver_switch", lambda a: a["destination"]["ip"] == "fd20::10"
                                         and ev(a, "switched_from") == "fd20::53")),
    ],
    "pcaps/detect/resolver_switch/neg-switch-external.pcap": [
        ("rogue_resolver reports the switch (one switch, one alert)",
         lambda al: first(al, "rogue_resolver", lambda a: a["destination"]["ip"] == "9.9.9.9" and ev(a, "switched_from") == "10.20.0.53")),
    ],
    "pcaps/detect/answer_change/pos-ns-hijack.pcap": [
        ("every part of the hijack: new NS target, glue, address and MX",
         lambda al: {(ev(a, "trigger"), ev(a, "value")) for a in al if a["rule"]["name"] == "answer_change"} >= {
             ("new_nameserver", "ns1.attacker-dns.net"), ("new_glue", "203.0.113.53"),
             ("new_address", "203.0.113.80"), ("new_mail_exchanger", "mx.attacker-mail.net")}),
        ("several changes in one zone within an hour are high",
         lambda al: all(a["dnsvigil"]["severity"] == "high" for a in al if a["rule"]["name"] == "answer_change")
         and first(al, "answer_change", lambda a: ev(a, "zone") == "example.org" and ev(a, "zone_changes_1h") >= 3)),
    ],
    "pcaps/detect/answer_change/pos-ttl-lowered.pcap": [
        ("TTL drop of www.example.org 3600 -> 60, and nothing else",
         lambda al: first(al, "answer_change", lambda a: ev(a, "trigger") == "ttl_drop" and ev(a, "record_name") == "www.example.org"
                          and ev(a, "ttl") == 60 and ev(a, "learned_ttl") == 3600)
         and all(ev(a, "trigger") == "ttl_drop" for a in al if a["rule"]["name"] == "answer_change")),
    ],
    "pcaps/detect/answer_change/pos-public-to-internal.pcap": [
        ("public name now internal", lambda al: first(al, "answer_change", lambda a: ev(a, "trigger") == "internal_address"
                                                      and ev(a, "record_name") == "intranet.example.org"
                                                      and ev(a, "value") == "10.20.9.9" and a["dnsvigil"]["severity"] == "high")),
    ],
    "pcaps/detect/spoofed_response/pos-race-forged-answer.pcap": [
        ("forged answer racing the resolver's", lambda al: first(al, "spoofed_response", lambda a: ev(a, "trigger") == "conflicting_answers"
                                                                 and a["source"]["ip"] == "10.20.1.10" and a["destination"]["ip"] == "10.20.0.53"
                                                                 and a["dns"]["question"]["name"] == "www.example.com")),
    ],
    "pcaps/detect/spoofed_response/pos-txid-guessing.pcap": [
        ("guessed ids toward the client's port", lambda al: first(al, "spoofed_response", lambda a: ev(a, "trigger") == "txid_mismatch"
                                                                  and a["source"]["ip"] == "10.20.1.10")),
        ("not a reflection", lambda al: not first(al, "spoofed_response", lambda a: ev(a, "trigger") == "reflection")),
    ],
    "pcaps/detect/spoofed_response/pos-wrong-source.pcap": [
        ("response from 10.20.0.99 to a query sent to 10.20.0.53",
         lambda al: first(al, "spoofed_response", lambda a: ev(a, "trigger") == "wrong_source" and a["source"]["ip"] == "10.20.1.10"
                          and a["destination"]["ip"] == "10.20.0.99" and ev(a, "queried_server") == "10.20.0.53")),
    ],
    "pcaps/detect/spoofed_response/pos-reflection.pcap": [
        ("reflection toward 10.20.1.13 from several servers",
         lambda al: first(al, "spoofed_response", lambda a: ev(a, "trigger") == "reflection" and a["source"]["ip"] == "10.20.1.13"
                          and ev(a, "servers") >= 3)),
        ("random ports are no id guessing", lambda al: not first(al, "spoofed_response", lambda a: ev(a, "trigger") == "txid_mismatch")),
    ],
}

# Negative captures that must alert once the role that silences them is removed: proves the
# role (not luck) keeps them quiet.
ROLE_MATTERS = {
    "pcaps/detect/recon_sweep/neg-mail-server.pcap": ("recon_sweep", "tests/detect/lab-no-roles.yaml"),
    "pcaps/detect/zone_transfer/neg-secondary-xfr.pcap": ("zone_transfer", "tests/detect/lab-no-roles.yaml"),
}

# Positive captures that must be silent under another policy: the setting (not the traffic) decides.
ROLE_SILENCES = {
    "pcaps/detect/cache_snooping/pos-dig-norecurse.pcap": ("cache_snooping", "tests/detect/lab-authoritative.yaml"),
}

# Rules that must stay silent on every capture outside their own folder (issue 7: the new rules
# must not alert on traffic made for the other rules), unless the capture is listed here.
QUIET_ELSEWHERE = {"cache_snooping", "resolver_switch", "answer_change", "spoofed_response"}
ALLOWED_ELSEWHERE = set()  # {(rule, capture)}

# Threat-intel lists (issue 7 item 5): lab.yaml has none, so intel_match is silent on every
# capture; tests/detect/intel.yaml adds lists (tests/detect/intel/) and these captures are
# replayed with it too. intel_match must alert as listed, and other rules' alerts must carry the
# matched indicator in threat.enrichments; benign captures stay silent with the lists.
QUIET_ELSEWHERE |= {"intel_match"}
INTEL_CONFIG = "tests/detect/intel.yaml"


def enriched(a, indicator, field, provider):
    """The alert carries `indicator` of list `provider`, matched by its `field` (ECS threat.enrichments),
    and threat.indicator repeats the first enrichment's indicator."""
    enrichments = a.get("threat", {}).get("enrichments", [])
    return any(e["indicator"]["name"] == indicator and e["matched"]["field"] == field
               and e["indicator"]["provider"] == provider
               for e in enrichments) and a["threat"].get("indicator") == enrichments[0]["indicator"]


def intel_hit(client, indicator, match, lst):
    return lambda a: (a["source"]["ip"] == client and ev(a, "indicator") == indicator and ev(a, "match") == match
                      and ev(a, "list") == lst)


INTEL = {
    "pcaps/detect/beaconing/pos-5s-same-name.pcap": [
        ("intel_match: 10.20.1.11 looks up names under listed C2 domain badexample.io",
         lambda al: first(al, "intel_match", intel_hit("10.20.1.11", "badexample.io", "domain", "c2-domains.txt"))),
        ("the beaconing alert carries the domain indicator",
         lambda al: first(al, "beaconing", lambda a: enriched(a, "badexample.io", "dns.question.name", "c2-domains.txt")
                          and any(e["indicator"]["type"] == "domain-name" and e["indicator"]["url"]["domain"] == "badexample.io"
                                  for e in a["threat"]["enrichments"]))),
    ],
    "pcaps/detect/tunneling/pos-iodine.pcap": [
        ("intel_match: the resolver talks DNS to the listed tunnel server (medium: it forwards for a user)",
         lambda al: first(al, "intel_match", lambda a: intel_hit("10.20.0.53", "198.51.100.53", "server", "c2-ips.txt")(a)
                          and a["destination"]["ip"] == "198.51.100.53" and ev(a, "client_is_resolver") is True
                          and a["dnsvigil"]["severity"] == "medium")),
        ("the tunneling alert on the upstream leg carries the server indicator",
         lambda al: first(al, "tunneling", lambda a: enriched(a, "198.51.100.53", "destination.ip", "c2-ips.txt")
                          and any(e["indicator"]["ip"] == "198.51.100.53" and e["indicator"]["type"] == "ipv4-addr"
                                  for e in a["threat"]["enrichments"]))),
        ("the workstation's own tunneling alert is not tagged (nothing of it is listed)",
         lambda al: first(al, "tunneling", lambda a: a["source"]["ip"] == "10.20.1.10" and "enrichments" not in a["threat"])),
    ],
    "pcaps/detect/rogue_resolver/pos-8888.pcap": [
        ("intel_match: a listed server", lambda al: first(al, "intel_match", intel_hit("10.20.1.10", "8.8.8.8", "server", "watchlist.txt"))),
        ("the rogue_resolver alert carries it", lambda al: first(al, "rogue_resolver", lambda a: enriched(a, "8.8.8.8", "destination.ip", "watchlist.txt"))),
    ],
    "pcaps/detect/rogue_resolver/pos-ipv6-google.pcap": [
        ("intel_match: an IPv6 prefix", lambda al: first(al, "intel_match", lambda a: intel_hit("fd20::1:10", "2001:4860:4860::/48", "server", "watchlist.txt")(a)
                                                        and a["threat"]["enrichments"][0]["indicator"]["type"] == "ipv6-addr"
                                                        and a["threat"]["enrichments"][0]["indicator"]["ip"] == "2001:4860:4860::8888")),
        ("the unlisted resolver is not tagged", lambda al: first(al, "rogue_resolver", lambda a: a["destination"]["ip"] == "2606:4700:4700::1111"
                                                                 and "enrichments" not in a["threat"])),
    ],
    "pcaps/detect/zone_transfer/pos-axfr-outside-dig.pcap": [
        ("intel_match: a listed address as the DNS client",
         lambda al: first(al, "intel_match", intel_hit("203.0.113.66", "203.0.113.64/26", "client", "watchlist.txt"))),
        ("the zone_transfer alert carries the client indicator",
         lambda al: first(al, "zone_transfer", lambda a: enriched(a, "203.0.113.64/26", "source.ip", "watchlist.txt"))),
    ],
}


def check_intel(binary, root, capture, rule):
    """Replays `capture` with the intel lists when it has intel checks (or is benign)."""
    if capture not in INTEL and rule != "benign":
        return []
    failures = []
    alerts = run(binary, root, capture, INTEL_CONFIG)
    if rule == "benign":
        for a in alerts:
            if a["rule"]["name"] == "intel_match" or "enrichments" in a.get("threat", {}):
                failures.append(f"with {INTEL_CONFIG}, benign capture matched the lists: {a['message']}")
    for desc, pred in INTEL.get(capture, []):
        if not pred(alerts):
            failures.append(f"with {INTEL_CONFIG}: check failed: {desc}")
    for a in alerts:
        if a["rule"]["name"] == "intel_match":
            print(f"  {'(intel.yaml)':15} {a['dnsvigil']['severity']:7} {a['message']}")
    # The lists are shared by the workers: the same alerts with -j 3.
    sharded = run(binary, root, capture, INTEL_CONFIG, extra_args=["-j", "3"])
    if alert_keys(sharded) != alert_keys(alerts):
        failures.append(f"with {INTEL_CONFIG}, -j 3 gave a different alert set")
    return failures


PRECISION_CONFIGS = ("tests/detect/precision.yaml", "tests/detect/zero-config.yaml")
ZERO_CONFIG = "tests/detect/zero-config.yaml"
# rule -> the rules whose alerts on the same (client, registered domain) it explains.
PRECEDENCE = {"tunneling": {"enumeration", "beaconing", "recon_sweep"}}


def one_activity_two_rules(alerts):
    """Pairs of alerts where one rule explains the other on the same client and domain."""
    found = []
    for hi in alerts:
        for lo in alerts:
            if lo["rule"]["name"] not in PRECEDENCE.get(hi["rule"]["name"], ()):
                continue
            if (hi.get("source", {}).get("ip") == lo.get("source", {}).get("ip")
                    and hi.get("dns", {}).get("question", {}).get("registered_domain")
                    == lo.get("dns", {}).get("question", {}).get("registered_domain")):
                found.append(f"{hi['rule']['name']} and {lo['rule']['name']} for {hi.get('source', {}).get('ip')} / "
                             f"{hi.get('dns', {}).get('question', {}).get('registered_domain')}")
    return sorted(set(found))


def check_quiet(binary, root, capture, configs):
    """Benign infrastructure: no alert under any of `configs`, and the same with 3 workers."""
    failures = []
    for cfg in configs:
        alerts = run(binary, root, capture, cfg)
        for a in alerts:
            print(f"  {'(' + os.path.basename(cfg) + ')':20} {a['rule']['name']:15} {a['message']}")
        if alerts:
            failures.append(f"with {cfg}: {len(alerts)} alerts: {sorted({a['rule']['name'] for a in alerts})}")
        if alert_keys(run(binary, root, capture, cfg, extra_args=["-j", "3"])) != alert_keys(alerts):
            failures.append(f"with {cfg}, -j 3 gave a different alert set")
    return failures


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    binary, root, capture = sys.argv[1:]
    if not os.path.exists(os.path.join(root, capture)):
        print(f"SKIP: {capture} is missing")
        return 77
    parts = capture.split("/")
    rule, name = parts[-2], parts[-1]
    if rule == "precision":
        failures = check_quiet(binary, root, capture, PRECISION_CONFIGS)
        for f in failures:
            print("FAIL: " + f)
        if not failures:
            print(f"PASS: {capture} (no alert with {', '.join(PRECISION_CONFIGS)})")
        return 1 if failures else 0
    if rule == "zero_config":
        alerts = run(binary, root, capture, ZERO_CONFIG)
        for a in alerts:
            print(f"  {a['rule']['name']:15} {a['dnsvigil']['severity']:7} {a['message']}")
        failures = []
        if name.startswith("pos-") and not first(alerts, "rogue_resolver", lambda a: ev(a, "trigger") == "deviation"):
            failures.append("expected a rogue_resolver deviation")
        if name.startswith("neg-") and alerts:
            failures.append(f"expected no alert, got {sorted({a['rule']['name'] for a in alerts})}")
        if alert_keys(run(binary, root, capture, ZERO_CONFIG, extra_args=["-j", "3"])) != alert_keys(alerts):
            failures.append("-j 3 gave a different alert set")
        for f in failures:
            print("FAIL: " + f)
        if not failures:
            print(f"PASS: {capture} ({len(alerts)} alerts)")
        return 1 if failures else 0
    alerts = run(binary, root, capture)
    rules = sorted({a["rule"]["name"] for a in alerts})
    failures = []
    if rule == "benign":
        if alerts:
            failures.append(f"benign capture raised alerts: {rules}")
    elif name.startswith("pos-"):
        if not first(alerts, rule):
            failures.append(f"expected a {rule} alert, got {rules or 'none'}")
        for pair in one_activity_two_rules(alerts):
            failures.append(f"one activity, two alerts: {pair}")
    elif name.startswith("neg-"):
        if first(alerts, rule):
            a = first(alerts, rule)
            failures.append(f"unexpected {rule} alert: {a['message']}")
    for r in sorted(QUIET_ELSEWHERE - {rule}):
        if first(alerts, r) and (r, capture) not in ALLOWED_ELSEWHERE:
            failures.append(f"{r} alerted outside pcaps/detect/{r}/: {first(alerts, r)['message']}")
    if capture in ROLE_SILENCES:
        r, cfg = ROLE_SILENCES[capture]
        if first(run(binary, root, capture, cfg), r):
            failures.append(f"with {cfg}, {r} should be silent")
    for desc, pred in EXTRA.get(capture, []):
        if not pred(alerts):
            failures.append(f"check failed: {desc}")
    if capture in ROLE_MATTERS:
        r, cfg = ROLE_MATTERS[capture]
        if not first(run(binary, root, capture, cfg), r):
            failures.append(f"without the role, {r} should alert (the negative would prove nothing)")
    failures += check_intel(binary, root, capture, rule)
    # Determinism: packet time only, so a second replay gives the same alerts, byte for byte.
    again = run(binary, root, capture)
    if again != alerts:
        failures.append("a second replay gave different alerts")
    # Workers: sharding by client address loses no stateful alert. The same (rule, client,
    # server, domain, trigger) set must come out of 1 and 3 workers (counts inside the alerts
    # may differ for aggregates merged once a second, and the order does).
    sharded = run(binary, root, capture, extra_args=["-j", "3"])
    if alert_keys(sharded) != alert_keys(alerts):
        failures.append(f"-j 3 gave a different alert set: only with -j 1: {sorted(alert_keys(alerts) - alert_keys(sharded))}, "
                        f"only with -j 3: {sorted(alert_keys(sharded) - alert_keys(alerts))}")
    for a in alerts:
        print(f"  {a['rule']['name']:15} {a['dnsvigil']['severity']:7} {a['message']}")
    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print(f"PASS: {capture} ({len(alerts)} alerts: {', '.join(rules) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
