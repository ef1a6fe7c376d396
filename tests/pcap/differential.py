#!/usr/bin/env python3
"""Differential test: dnsvigil's --dump-json against tshark, message by message.

For every capture under <root>/pcaps/ and, when present, <shared>/pcaps-conformance/ (recursive,
malformed/ included), both tools decode the DNS messages on port 53 (UDP and TCP, after IP
defragmentation, tunnel decapsulation and TCP reassembly) and the messages are compared.

Alignment
    A DNS message is keyed by (timestamp of the frame that completes it, DNS id, QR bit). Both
    tools stamp a reassembled message (IP fragments, TCP segments) with its completing frame, and
    several TCP messages may share one frame, so within one key messages pair up in order,
    preferring equal question names. Messages left over are paired again on (id, QR, question)
    alone with the nearest timestamp, and the timestamp difference is then reported.

Compared per message
    question name, type and class, the question's labels (from the name's wire octets: tshark's
    name string cannot show a '.' inside a label), opcode, header flags (AA TC RD RA AD CD), rcode of
    responses (the 4 header bits plus the OPT extended rcode, as dnsvigil prints it), the header
    counts ANCOUNT/NSCOUNT/ARCOUNT against dnsvigil's answers/authorities/additionals_count, the
    number of answer records decoded, the OPT record as dnsvigil.edns summarises it (UDP size,
    version, DO, COOKIE/NSID present, PADDING length, ECS address/source prefix), and per answer
    record in order: owner name, type, TTL and
    the RDATA of A AAAA CNAME NS PTR DNAME MX TXT SPF SOA SRV HINFO NAPTR CAA SSHFP TLSA DS DNSKEY
    RRSIG NSEC3PARAM; for any other type dnsvigil prints in RFC 3597 form (\\# len hex), the
    length and octets against the record's RDATA as tshark delimits it.

Normalisation (presentation differences that are not disagreements)
    names      dnsvigil's dig-style escapes (\\DDD, \\X) and tshark's escapes (\\xHH, \\ooo,
               C escapes) are both decoded to octets and ASCII case is folded; tshark's "<Root>"
               and dnsvigil's "." are the root. tshark's name string cannot show a '.' inside a
               label, so the question name is compared label by label from its wire octets
               (tshark -x) whenever it holds no compression pointer; other names compare as the
               octet string with labels joined by '.'. tshark prints a name's octets >= 0x80 as
               UTF-8 where they happen to be valid and as U+FFFD otherwise, so a name tshark shows
               with non-ASCII characters is compared on its ASCII octets only.
    TXT/HINFO  both sides become lists of <character-string> octets: dnsvigil's quoted strings
               decoded, tshark's taken from the RDATA octets it dissected (tshark shows no item for
               an empty string and cuts its display at a NUL).
    IPv6       both sides go through ipaddress.ip_address(...).compressed (RFC 5952).
    numbers    tshark prints some integers in hex (0x0001); both sides are compared as ints;
               RRSIG times as seconds (dnsvigil YYYYMMDDHHMMSS, tshark's raw octets).
    bytes      tshark's "aa:bb:cc" byte fields are compared as hex, DNSKEY/RRSIG as base64.
    UPDATE     tshark names the sections Zone/Prerequisites/Updates (opcode 5): they map to
               question/answers/authorities.
    SRV owner  tshark splits an SRV owner into service/proto/name: joined back with '.'.

tshark runs with its default preferences (-n; TCP out-of-order reassembly off, as in a plain
tshark or Wireshark session): after a capture hole it decodes the PDUs that follow at once,
which is what a passive sensor must do too. dnsvigil runs as `dnsvigil -r FILE --dump-json - -q
--alerts-json /dev/null` (alerts kept out of the dump stream, see pcaplib.run_dnsvigil).

Denominator
    Every DNS message tshark dissects counts, except the ones tshark itself flags as broken:
    a "_ws.malformed" item after the message, an expert item of severity error inside it, or a
    name tshark could not decode ("<Name contains a pointer that loops>" and the like). Those
    are still paired (so dnsvigil's line is not reported as extra) and dnsvigil must still not
    crash on the capture, but they are not compared.

Agreement figures
    Printed per folder and in total: agree / compared (the messages compared field by field; the
    threshold applies to it) and agree / seen, where "seen" is every DNS message tshark dissects in
    the capture: also those on other ports, in HTTP (cleartext DoH), quoted in ICMP errors, the ones
    excluded above and the ones KNOWN_DIFFERENCES excuses (a second, cheap tshark pass counts the
    messages outside DISPLAY_FILTER). Every message seen that does not count as agreeing is then
    listed by cause with its reason, marked "by design" or "disagreement" (OUTSIDE_REASONS,
    EXCLUDED_KINDS), and so is every KNOWN_DIFFERENCES entry in use. mDNS and LLMNR are other
    protocols to tshark (mdns, llmnr), not counted.

Exit status
    1 when the total agreement is below --threshold (99.5 %), when dnsvigil exits non-zero or
    reports a sanitizer/runtime error on any capture, or when tshark dissects a (counted)
    message dnsvigil does not report at all (that is a disagreement, and is printed as one).
    Lines dnsvigil prints that tshark has no message for are printed as "extra" and also fail
    the run unless a KNOWN_DIFFERENCES entry explains them.
    0 otherwise. 77 (CTest skip) when tshark is not installed.

Known differences
    KNOWN_DIFFERENCES below lists each case where tshark is wrong or the two tools
    legitimately differ, with the reason; only the listed (file, message, field) is excluded.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import concurrent.futures
import fnmatch
import hashlib
import inspect
import ipaddress
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pcaplib  # noqa: E402

# DNS on port 53 only. ICMP/ICMPv6 errors quote the offending IP/UDP/DNS packet and tshark
# dissects the quoted DNS header; dnsvigil (by design) does not decode DNS inside ICMP, so those
# frames are left out.
DISPLAY_FILTER = "dns && (udp.port == 53 || tcp.port == 53) && !icmp && !icmpv6"

PI_ERROR = 0x00800000  # expert severity "error" (epan/proto.h)

# Exclusions. Each entry names a capture (glob on the path relative to its collection root,
# e.g. "pcaps/pipeline/udp4-mix.pcap" or "conformance/zeek/dns-svcb.pcap"), optionally the
# message (tshark frame number and/or DNS id), and the field ("*" for the whole message, "extra"
# for a dnsvigil line tshark has no message for, "missing" for a tshark message dnsvigil does not
# report). Keep reasons specific: why tshark is wrong, or why the difference is legitimate.
KNOWN_DIFFERENCES: list[dict] = [
    {"file": "conformance/malformed/suricata-verify/dns_dns-forward-pointer_input.pcap", "frame": 1,
     "field": "missing",
     "reason": "the query's QNAME is a compression pointer to a later offset; tshark follows it, dnsvigil's "
               "name walker rejects forward pointers by design (CONVENTIONS 4, RFC 1035 4.1.4 'prior "
               "occurrence'; counted as parse error pointer_forward)"},
    {"file": "conformance/malformed/zeek/geneve-vxlan-dns-truncated.pcap", "field": "missing",
     "reason": "DNS inside VXLAN inside Geneve (UDP 6081), and the outer IPv4 packet is cut by the snap "
               "length (176 of 182 octets); tshark dissects the complete inner packet, dnsvigil drops the "
               "frame (ip_snaplen_cut) and does not decapsulate Geneve (GRE/ERSPAN/VXLAN only)"},
    {"file": "conformance/dnscap/dnso1tcp-bighole.pcap", "field": "extra",
     "reason": "after the capture hole the client sends each query as a 2-octet length segment then the "
               "message segment; tshark (default TCP preferences) never finds the framing again and shows no "
               "query after the hole, dnsvigil resynchronises (the server acknowledged the hole) and reports "
               "the 35 queries, each matched by its response"},
    {"file": "conformance/dnscap/do1t-nosyn-1nolen.pcap", "id": 35665, "field": "extra",
     "reason": "the capture starts without the SYN and without the first query's length prefix; tshark "
               "loses the framing for the client's whole stream, dnsvigil resynchronises on the second "
               "query (0x8b51), a real message whose response tshark shows (frame 9)"},
    {"file": "pcaps/pcapng/dumpcap-snaplen-differs.pcapng", "frame": 131, "field": "missing",
     "reason": "the first IP fragment of a UDP answer (huge.pcapng.test TXT, 2.6 KB) cut by its interface's 512-octet "
               "snap length: tshark dissects the header, question and records the fragment holds, dnsvigil drops "
               "cut fragments (ip_snaplen_cut, decode.cpp) although it reads a cut unfragmented datagram "
               "(dns.capture_truncated)"},
    {"file": "pcaps/pcapng/mergecap-snaplen-128.pcapng", "frame": 131, "field": "missing",
     "reason": "the first IP fragment of a UDP answer (huge.pcapng.test TXT) cut to 128 octets (editcap -s 128): "
               "tshark dissects what the fragment holds, dnsvigil drops cut fragments (ip_snaplen_cut, decode.cpp)"},
    {"file": "conformance/malformed/zeek/dns-edns-ecs-weirds.pcap", "field": "edns.client_subnet",
     "reason": "the ECS options break RFC 7871 6 (/32 with 3 address octets, /255, IPv6 /66 with 7 octets): "
               "tshark still prints an address/prefix, dnsvigil omits client_subnet and flags "
               "edns_option_malformed, which is the better reading"},
]

# tshark prints names it could not decode as a placeholder in angle brackets.
_TSHARK_BAD_NAME = re.compile(r"^<(?!Root>).*>$")

# RR type mnemonics dnsvigil prints (dnsparse/src/types.cpp, IANA registry), to get back to numbers.
RRTYPES = {
    "A": 1, "NS": 2, "MD": 3, "MF": 4, "CNAME": 5, "SOA": 6, "MB": 7, "MG": 8, "MR": 9, "NULL": 10,
    "WKS": 11, "PTR": 12, "HINFO": 13, "MINFO": 14, "MX": 15, "TXT": 16, "RP": 17, "AFSDB": 18,
    "X25": 19, "ISDN": 20, "RT": 21, "NSAP": 22, "NSAP-PTR": 23, "SIG": 24, "KEY": 25, "PX": 26,
    "GPOS": 27, "AAAA": 28, "LOC": 29, "NXT": 30, "EID": 31, "NIMLOC": 32, "SRV": 33, "ATMA": 34,
    "NAPTR": 35, "KX": 36, "CERT": 37, "A6": 38, "DNAME": 39, "SINK": 40, "OPT": 41, "APL": 42,
    "DS": 43, "SSHFP": 44, "IPSECKEY": 45, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "DHCID": 49,
    "NSEC3": 50, "NSEC3PARAM": 51, "TLSA": 52, "SMIMEA": 53, "HIP": 55, "NINFO": 56, "RKEY": 57,
    "TALINK": 58, "CDS": 59, "CDNSKEY": 60, "OPENPGPKEY": 61, "CSYNC": 62, "ZONEMD": 63, "SVCB": 64,
    "HTTPS": 65, "SPF": 99, "UINFO": 100, "UID": 101, "GID": 102, "UNSPEC": 103, "NID": 104,
    "L32": 105, "L64": 106, "LP": 107, "EUI48": 108, "EUI64": 109, "TKEY": 249, "TSIG": 250,
    "IXFR": 251, "AXFR": 252, "MAILB": 253, "MAILA": 254, "ANY": 255, "URI": 256, "CAA": 257,
    "AVC": 258, "DOA": 259, "AMTRELAY": 260, "RESINFO": 261, "TA": 32768, "DLV": 32769,
}
OPCODES = {"QUERY": 0, "IQUERY": 1, "STATUS": 2, "NOTIFY": 4, "UPDATE": 5, "DSO": 6}
# Header bits as dnsvigil lists them in dns.header_flags (DO comes from the OPT record).
FLAG_BITS = {"AA": 0x0400, "TC": 0x0200, "RD": 0x0100, "RA": 0x0080, "AD": 0x0020, "CD": 0x0010}
CLASSES = {"IN": 1, "CH": 3, "HS": 4, "NONE": 254, "ANY": 255}
RCODES = {
    "NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5, "YXDOMAIN": 6,
    "YXRRSET": 7, "NXRRSET": 8, "NOTAUTH": 9, "NOTZONE": 10, "DSOTYPENI": 11, "BADVERS": 16,
    "BADSIG": 16, "BADKEY": 17, "BADTIME": 18, "BADMODE": 19, "BADNAME": 20, "BADALG": 21,
    "BADTRUNC": 22, "BADCOOKIE": 23,
}


def mnemonic_number(text: str, table: dict[str, int]) -> int | None:
    """'A' -> 1, 'TYPE65534' / 'RCODE12' / '12' -> the number; None when unknown."""
    if text in table:
        return table[text]
    m = re.fullmatch(r"(?:TYPE|RCODE|CLASS|OPCODE)?(\d+)", text)
    return int(m.group(1)) if m else None


# ----------------------------------------------------------------------------- normalisation
def vigil_name_labels(s: str) -> list[bytes]:
    """dnsvigil's dig-style presentation name -> labels (octets). '.' is the root (no labels)."""
    if s in (".", ""):
        return []
    labels: list[bytes] = []
    cur = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            if s[i + 1:i + 4].isdigit() and len(s[i + 1:i + 4]) == 3:
                cur.append(int(s[i + 1:i + 4]) & 0xFF)
                i += 4
                continue
            cur += s[i + 1].encode("utf-8")
            i += 2
            continue
        if c == ".":
            labels.append(bytes(cur))
            cur = bytearray()
            i += 1
            continue
        cur += c.encode("utf-8")
        i += 1
    if cur or not labels:
        labels.append(bytes(cur))
    return labels


def vigil_name(s: str) -> bytes:
    """Flattened, case-folded octets of a dnsvigil name (labels joined by '.')."""
    return b".".join(vigil_name_labels(s)).lower()


_C_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34, "'": 39}


def tshark_text_bytes(s: str) -> bytes:
    """tshark's displayed string -> octets: \\xHH, \\ooo and C escapes decoded, the rest UTF-8.

    tshark shows the octets >= 0x80 of a name as UTF-8 where they happen to form valid UTF-8 and
    as U+FFFD otherwise (one per invalid sequence), so such names are compared through lossy().
    """
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", s[i + 2:i + 4] or ""):
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            if re.fullmatch(r"[0-7]{3}", s[i + 1:i + 4] or ""):
                out.append(int(s[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
            if n in _C_ESCAPES:
                out.append(_C_ESCAPES[n])
                i += 2
                continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def lossy(b: bytes | None) -> bytes | None:
    """Only the ASCII octets: what survives of a name tshark printed with non-ASCII characters."""
    return None if b is None else bytes(x for x in b if x < 0x80)


def non_ascii(s: str) -> bool:
    return any(ord(c) >= 0x80 for c in s)


def tshark_name(s: str) -> bytes:
    """Flattened, case-folded octets of a tshark name ('<Root>' is the root)."""
    if s in ("<Root>", ""):
        return b""
    return tshark_text_bytes(s).lower()


def wire_name_labels(raw: bytes) -> list[bytes] | None:
    """Labels of an uncompressed wire-format name; None when it holds a pointer or is cut."""
    labels, i = [], 0
    while i < len(raw):
        n = raw[i]
        if n == 0:
            return labels
        if n & 0xC0 or i + 1 + n > len(raw):
            return None
        labels.append(raw[i + 1:i + 1 + n])
        i += 1 + n
    return None


def vigil_quoted_strings(s: str) -> list[bytes] | None:
    """'"a" "b\\032c"' -> [b'a', b'b c']; None when s is not a list of quoted strings."""
    out: list[bytes] = []
    i = 0
    while i < len(s):
        if s[i] == " ":
            i += 1
            continue
        if s[i] != '"':
            return None
        i += 1
        cur = bytearray()
        while i < len(s) and s[i] != '"':
            if s[i] == "\\" and i + 1 < len(s):
                if s[i + 1:i + 4].isdigit() and len(s[i + 1:i + 4]) == 3:
                    cur.append(int(s[i + 1:i + 4]) & 0xFF)
                    i += 4
                else:
                    cur += s[i + 1].encode("utf-8")
                    i += 2
                continue
            cur += s[i].encode("utf-8")
            i += 1
        if i >= len(s):
            return None
        i += 1
        out.append(bytes(cur))
    return out


def split_unescaped(s: str) -> list[str]:
    """Splits RDATA presentation on spaces outside quotes (names escape spaces as \\032)."""
    out, cur, quoted, i = [], [], False, 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == " " and not quoted:
            if cur:
                out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if cur:
        out.append("".join(cur))
    return out


def ipv6(s: str) -> str:
    try:
        return ipaddress.ip_address(s).compressed
    except ValueError:
        return s


def to_int(s) -> int | None:
    if s is None:
        return None
    try:
        return int(str(s), 0)
    except ValueError:
        return None


def hexbytes(s: str) -> str:
    return s.replace(":", "").replace(" ", "").lower()


# ----------------------------------------------------------------------------- tshark side
class Pairs(list):
    """A JSON object kept as a list of (key, value) pairs: tshark repeats keys (two 'dns' layers
    in one frame, several 'dns.txt' in one record, identical record summaries)."""

    def get(self, key, default=None):
        for k, v in self:
            if k == key:
                return v
        return default

    def getall(self, key) -> list:
        return [v for k, v in self if k == key]

    def find(self, key, default=None):
        """First value of `key` at any depth (tshark nests some fields in *_tree subtrees)."""
        found = self.findall(key)
        return found[0] if found else default

    def findall(self, key) -> list:
        out = []
        for k, v in self:
            if k == key:
                out.append(v)
            elif isinstance(v, Pairs):
                out += v.findall(key)
        return out


def _has_expert_error(node: Pairs) -> bool:
    for k, v in node:
        if k == "_ws.expert.severity" and to_int(v) == PI_ERROR:
            return True
        if isinstance(v, Pairs) and _has_expert_error(v):
            return True
    return False


@dataclass
class Msg:
    """One DNS message, from either tool, in comparable form."""
    ts: int
    id: int
    qr: int
    qname: bytes | None = None
    qname_text: str = ""
    qtype: int | None = None
    qlabels: list[bytes] | None = None
    qname_lossy: bool = False
    qclass: int | None = None
    edns: dict | None = None          # None: no OPT record
    rcode: int | None = None
    ancount: int | None = None
    nscount: int | None = None
    arcount: int | None = None
    opcode: int | None = None
    flags: int | None = None          # the FLAG_BITS that are set
    answers: list[dict] = field(default_factory=list)
    frame: int | None = None          # tshark only
    excluded: str = ""                # tshark only: why the message is not compared
    transport: str = ""


def _tshark_field_bytes(rec: Pairs, name: str) -> list[bytes]:
    """Octets of every occurrence of a field, from its '<name>_raw' companion (-x)."""
    out = []
    for raw in rec.findall(name + "_raw"):
        hexstr = raw[0] if isinstance(raw, list) else raw
        out.append(bytes.fromhex(hexstr))
    return out


def _tshark_answer(rec: Pairs) -> dict:
    owner = rec.get("dns.resp.name")
    if owner is None:
        # SRV records: tshark splits the owner into service, protocol and name.
        owner = ".".join(x for x in (rec.get("dns.srv.service"), rec.get("dns.srv.proto"),
                                     rec.get("dns.srv.name")) if x)
    a: dict = {
        "name": tshark_name(owner),
        "name_text": owner,
        "type": to_int(rec.get("dns.resp.type")),
        "ttl": to_int(rec.get("dns.resp.ttl")),
    }
    t = a["type"]
    g = rec.get
    d = None
    rd = _tshark_rdata(rec) if t in (13, 16, 99) else None
    if t == 1:
        d = g("dns.a")
    elif t == 28:
        d = ipv6(g("dns.aaaa", ""))
    elif t in (2, 5, 12, 39):
        key = {2: "dns.ns", 5: "dns.cname", 12: "dns.ptr.domain_name", 39: "dns.dname"}[t]
        d = tshark_name(g(key, "")) if g(key) is not None else None
    elif t == 15:
        d = (to_int(g("dns.mx.preference")), tshark_name(g("dns.mx.mail_exchange", "")))
    elif t in (16, 99):
        # From the RDATA octets tshark dissected: tshark emits no dns.txt item for an empty
        # <character-string>, and its strings stop at a NUL octet.
        d = character_strings(rd) if rd is not None else None
    elif t == 6:
        d = (tshark_name(g("dns.soa.mname", "")), tshark_name(g("dns.soa.rname", "")),
             *(to_int(g("dns.soa." + k)) for k in ("serial_number", "refresh_interval", "retry_interval",
                                                   "expire_limit", "minimum_ttl")))
    elif t == 33:
        d = (to_int(g("dns.srv.priority")), to_int(g("dns.srv.weight")), to_int(g("dns.srv.port")),
             tshark_name(g("dns.srv.target", "")))
    elif t == 13:
        d = tuple(character_strings(rd) or []) if rd is not None else None
    elif t == 35:
        d = (to_int(g("dns.naptr.order")), to_int(g("dns.naptr.preference")),
             *(b"".join(_tshark_field_bytes(rec, "dns.naptr." + k)) for k in ("flags", "service", "regex")),
             tshark_name(g("dns.naptr.replacement", "")))
    elif t == 257:
        # The value is dns.caa.issue / issuewild / iodef for the known tags, dns.caa.value otherwise.
        value = b""
        for key in ("dns.caa.issue", "dns.caa.issuewild", "dns.caa.iodef", "dns.caa.value", "dns.caa.unknown"):
            got = rec.find(key)
            if got is not None:
                value = tshark_text_bytes(got)
                break
        d = (to_int(g("dns.caa.flags")), tshark_text_bytes(rec.find("dns.caa.tag", "")), value)
    elif t == 44:
        d = (to_int(g("dns.sshfp.algorithm")), to_int(g("dns.sshfp.fingerprint.type")),
             hexbytes(g("dns.sshfp.fingerprint", "")))
    elif t == 52:
        d = (to_int(g("dns.tlsa.certificate_usage")), to_int(g("dns.tlsa.selector")),
             to_int(g("dns.tlsa.matching_type")), hexbytes(g("dns.tlsa.certificate_association_data", "")))
    elif t in (43, 59):
        d = (to_int(g("dns.ds.key_id")), to_int(g("dns.ds.algorithm")), to_int(g("dns.ds.digest_type")),
             hexbytes(g("dns.ds.digest", "")))
    elif t in (48, 60):
        key = bytes.fromhex(hexbytes(g("dns.dnskey.public_key", "")))
        d = (to_int(g("dns.dnskey.flags")), to_int(g("dns.dnskey.protocol")), to_int(g("dns.dnskey.algorithm")),
             base64.b64encode(key).decode())
    elif t == 46:
        d = (to_int(g("dns.rrsig.type_covered")), to_int(g("dns.rrsig.algorithm")), to_int(g("dns.rrsig.labels")),
             to_int(g("dns.rrsig.original_ttl")),
             *(int.from_bytes((_tshark_field_bytes(rec, "dns.rrsig." + k) or [b""])[0], "big")
               for k in ("signature_expiration", "signature_inception")),
             to_int(g("dns.rrsig.key_tag")), tshark_name(g("dns.rrsig.signers_name", "")),
             base64.b64encode(bytes.fromhex(hexbytes(g("dns.rrsig.signature", "")))).decode())
    elif t == 51:
        d = (to_int(g("dns.nsec3.algo")), to_int(g("dns.nsec3.flags")), to_int(g("dns.nsec3.iterations")),
             hexbytes(g("dns.nsec3.salt_value", "")) or "-")
    a["data"] = d
    # The octets are only needed where dnsvigil may print RFC 3597 form (types not decoded above).
    a["rdata"] = rd if d is not None else _tshark_rdata(rec)
    a["rdlength"] = to_int(rec.get("dns.resp.len"))
    return a


def character_strings(rd: bytes) -> list[bytes] | None:
    """RFC 1035 <character-string>s of an RDATA; None when the last one runs past the end."""
    out, i = [], 0
    while i < len(rd):
        n = rd[i]
        if i + 1 + n > len(rd):
            return None
        out.append(rd[i + 1:i + 1 + n])
        i += 1 + n
    return out


def _raw_fields(node):
    """(offset, octets) of every '*_raw' field under node (tshark -x: [hex, offset, length, mask, type])."""
    for k, v in node:
        if k.endswith("_raw") and isinstance(v, list) and len(v) >= 3 and isinstance(v[0], str) \
                and isinstance(v[1], int):
            try:
                yield v[1], bytes.fromhex(v[0])
            except ValueError:
                pass
        elif isinstance(v, Pairs):
            yield from _raw_fields(v)


def _tshark_rdata(rec: Pairs) -> bytes | None:
    """The record's RDATA octets as on the wire, pieced together from the raw octets of the
    fields tshark dissected after RDLENGTH; None when tshark did not cover all of them."""
    lenraw = rec.get("dns.resp.len_raw")
    rdlen = to_int(rec.get("dns.resp.len"))
    if not isinstance(lenraw, list) or rdlen is None:
        return None
    start = lenraw[1] + 2
    octets: dict[int, int] = {}
    for off, b in _raw_fields(rec):
        for i, x in enumerate(b):
            octets.setdefault(off + i, x)
    if any((start + i) not in octets for i in range(rdlen)):
        return None
    return bytes(octets[start + i] for i in range(rdlen))


def _tshark_edns(rec: Pairs) -> dict:
    """The OPT record as dnsvigil summarises it in dnsvigil.edns."""
    e = {"udp_size": to_int(rec.get("dns.rr.udp_payload_size")), "version": to_int(rec.get("dns.resp.edns0_version")),
         "do": to_int(rec.find("dns.resp.z.do")) == 1, "cookie": False, "nsid": False, "padding": None,
         "client_subnet": None}
    for opt in rec.findall("dns.opt"):
        if not isinstance(opt, Pairs):
            continue
        code = to_int(opt.get("dns.opt.code"))
        if code == 10:
            e["cookie"] = True
        elif code == 3:
            e["nsid"] = True
        elif code == 12:
            e["padding"] = to_int(opt.get("dns.opt.len"))
        elif code == 8 and e["client_subnet"] is None:
            addr = opt.get("dns.opt.client.addr4") or opt.get("dns.opt.client.addr6")
            if addr is not None:
                e["client_subnet"] = f"{ipaddress.ip_address(addr).compressed}/{to_int(opt.get('dns.opt.client.netmask'))}"
    return e


def _tshark_message(frame: Pairs, dns: Pairs, malformed_after: bool, tcp: bool, experts: bool) -> Msg:
    flags = to_int(dns.get("dns.flags")) or 0
    m = Msg(ts=pcaplib.epoch_ns(frame.get("frame.time_epoch")), id=to_int(dns.get("dns.id")) or 0,
            qr=(flags >> 15) & 1, frame=to_int(frame.get("frame.number")))
    # UPDATE (opcode 5) names the sections Zone / Prerequisites / Updates.
    m.ancount = to_int(dns.get("dns.count.answers", dns.get("dns.count.prerequisites")))
    m.nscount = to_int(dns.get("dns.count.auth_rr", dns.get("dns.count.updates")))
    m.arcount = to_int(dns.get("dns.count.add_rr"))
    m.opcode = (flags >> 11) & 0xF
    m.flags = flags & sum(FLAG_BITS.values())
    rcode = flags & 0xF
    reasons = []
    if malformed_after:
        reasons.append("tshark: malformed packet")
    if tcp and (to_int(frame.get("frame.cap_len")) or 0) < (to_int(frame.get("frame.len")) or 0):
        # dnsvigil does not read TCP segments the snap length cut (ip_snaplen_cut, docs/outputs.md):
        # their stream is incomplete. UDP datagrams cut the same way are compared.
        reasons.append("TCP segment cut by the snap length")
    if experts and _has_expert_error(dns):
        reasons.append("tshark: expert error")
    queries = dns.get("Queries", dns.get("Zone"))
    if isinstance(queries, Pairs) and queries:
        q = queries[0][1]
        if isinstance(q, Pairs):
            name = q.get("dns.qry.name", "")
            m.qname_text = name
            if _TSHARK_BAD_NAME.match(name):
                reasons.append(f"tshark: undecodable name {name}")
            m.qname = tshark_name(name)
            m.qtype = to_int(q.get("dns.qry.type"))
            m.qclass = to_int(q.get("dns.qry.class"))
            # tshark's dns.count.labels counts '.' characters of the displayed string, so the
            # labels come from the name's wire octets instead (when it holds no pointer).
            raw = _tshark_field_bytes(q, "dns.qry.name")
            m.qlabels = wire_name_labels(raw[0]) if raw else None
            if m.qlabels is not None:
                m.qname = b".".join(m.qlabels).lower()   # exact octets from the wire
            else:
                m.qname_lossy = non_ascii(name)
    answers = dns.get("Answers", dns.get("Prerequisites"))
    if isinstance(answers, Pairs):
        for _, rec in answers:
            if isinstance(rec, Pairs):
                a = _tshark_answer(rec)
                if _TSHARK_BAD_NAME.match(a["name_text"]):
                    reasons.append(f"tshark: undecodable name {a['name_text']}")
                m.answers.append(a)
    add = dns.get("Additional records")
    if isinstance(add, Pairs):
        for _, rec in add:
            if isinstance(rec, Pairs) and to_int(rec.get("dns.resp.type")) == 41:
                ext = to_int(rec.get("dns.resp.ext_rcode"))
                if ext:
                    rcode |= ext << 4
                m.edns = _tshark_edns(rec)
                break
    m.rcode = rcode
    m.excluded = "; ".join(reasons)
    m.transport = "tcp" if tcp else "udp"
    return m


_TSHARK_VERSION: dict[str, str] = {}


def tshark_version(tshark: str) -> str:
    if tshark not in _TSHARK_VERSION:
        p = subprocess.run([tshark, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
        _TSHARK_VERSION[tshark] = p.stdout.decode("utf-8", "replace").splitlines()[0] if p.stdout else "?"
    return _TSHARK_VERSION[tshark]


def _tshark_side_source() -> str:
    """The source of everything that turns tshark's output into Msg objects: the cache key, so
    an edit there invalidates the cache while edits to the comparison do not."""
    parts = [DISPLAY_FILTER, str(PI_ERROR), inspect.getsource(Msg), inspect.getsource(Pairs)]
    parts += [inspect.getsource(f) for f in (
        tshark_messages, _tshark_message, _tshark_answer, _tshark_rdata, _raw_fields, _tshark_field_bytes,
        _has_expert_error, character_strings, wire_name_labels, tshark_name, tshark_text_bytes, non_ascii,
        ipv6, to_int, hexbytes)]
    return "\n".join(parts)


def cached_tshark_messages(path: Path, tshark: str, cache: Path | None,
                           off_ports: tuple = ()) -> tuple[list[Msg], str]:
    """tshark_messages(), remembered in `cache` by the capture's content, the tshark version and
    this script's source (any edit invalidates), so repeated CTest runs skip tshark."""
    if cache is None:
        return tshark_messages(path, tshark, off_ports)
    h = hashlib.sha256()
    h.update(_tshark_side_source().encode())
    h.update(repr(off_ports).encode())
    h.update(tshark_version(tshark).encode())
    h.update(path.read_bytes())
    entry = cache / (h.hexdigest() + ".pickle")
    try:
        with entry.open("rb") as f:
            return pickle.load(f), ""
    except (OSError, pickle.PickleError, EOFError, AttributeError):
        pass
    msgs, err = tshark_messages(path, tshark, off_ports)
    if not err:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(msgs, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    return msgs, err


def tshark_messages(path: Path, tshark: str, off_ports: tuple = ()) -> tuple[list[Msg], str]:
    """DNS messages tshark dissects on port 53, and on the (transport, port) pairs of `off_ports`
    (where dnsvigil recognised DNS on another port: tshark is told to decode them as DNS);
    ("", error text) on failure."""
    display = DISPLAY_FILTER
    decode_as: list[str] = []
    for transport, port in off_ports:
        decode_as += ["-d", f"{transport}.port=={port},dns"]
    if off_ports:
        more = "".join(f" || {transport}.port == {port}" for transport, port in off_ports)
        display = display.replace("tcp.port == 53)", "tcp.port == 53" + more + ")")
    argv = [tshark, "-n", "-r", str(path), "-T", "json", "-x", "-Y", display,
            "-J", "frame dns _ws.malformed"] + decode_as
    # tshark's TCP preferences stay at their defaults (tcp.reassemble_out_of_order FALSE): after
    # a capture hole tshark dissects the PDUs that follow at once, as a passive sensor must;
    # with out-of-order reassembly on it would hold everything behind a hole that never fills.
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode != 0 and not p.stdout.strip():
        return [], f"tshark failed ({p.returncode}): {err.strip()}"
    text = p.stdout.decode("utf-8", "replace").strip()
    if not text:
        return [], ""
    frames = json.loads(text, object_pairs_hook=Pairs)
    # Walking every tree for expert items is slow: only when the output holds an error-level one.
    experts = f'"_ws.expert.severity": "{PI_ERROR}"' in text
    out: list[Msg] = []
    for pkt in frames:
        layers = pkt.get("_source").get("layers")
        frame = layers.get("frame")
        tcp = ":tcp:" in (frame.get("frame.protocols") or "")
        dns_layers: list[list] = []   # [dns pairs, malformed_after]
        for k, v in layers:
            if k == "dns" and isinstance(v, Pairs):
                dns_layers.append([v, False])
            elif k == "_ws.malformed" and dns_layers:
                dns_layers[-1][1] = True
        for dns, malformed in dns_layers:
            out.append(_tshark_message(frame, dns, malformed, tcp, experts))
    return out, ""


# ----------------------------------------------------------------------------- outside the comparison
# Every DNS message tshark dissects counts in "seen"; the comparison takes those on port 53 (and on
# the ports where dnsvigil reported DNS). The rest are counted by what they are, with the reason
# dnsvigil does or does not report them: a reason marked by design is a choice, the others are
# disagreements.
OUTSIDE_FILTER = f"dns && !({DISPLAY_FILTER})"
OUTSIDE_REASONS = {
    "icmp-quoted": ("by design", "DNS quoted in an ICMP/ICMPv6 error: dnsvigil does not decode the copy of a packet "
                                 "an ICMP error carries (the packet itself is on the wire)"),
    "http": ("by design", "DNS inside HTTP (DoH without TLS): dnsvigil does not parse HTTP; a server's DoH reaches it "
                          "through dnstap"),
    "other-port": ("disagreement", "DNS on a port outside capture.dns_ports that dnsvigil did not report "
                                   "(capture.dns_heuristic did not take it)"),
}
# Why a compared message was left out (Msg.excluded), by the start of the reason.
EXCLUDED_KINDS = (("tshark:", "tshark-malformed", "by design",
                   "tshark flags the message malformed (a _ws.malformed item, an error-level expert item, or a "
                   "name it cannot decode): its dissection is not a reference; dnsvigil must only not fail"),
                  ("TCP segment cut", "cut-tcp-segment", "by design",
                   "in a TCP segment cut by the snap length: dnsvigil does not read cut segments (ip_snaplen_cut), "
                   "their stream has a hole; tshark dissects the octets captured"))


def excluded_kind(reason: str) -> str:
    for prefix, kind, _, _ in EXCLUDED_KINDS:
        if reason.startswith(prefix):
            return kind
    return "other-excluded"


def tshark_outside(path: Path, tshark: str) -> tuple[list[tuple[int, str, str, tuple, int]], str]:
    """DNS messages tshark dissects that OUTSIDE_FILTER selects, per frame: (frame number, kind,
    transport, (source port, destination port), number of messages)."""
    argv = [tshark, "-n", "-r", str(path), "-Y", OUTSIDE_FILTER, "-T", "fields", "-E", "occurrence=a",
            "-E", "aggregator=,", "-e", "frame.number", "-e", "frame.protocols", "-e", "udp.srcport",
            "-e", "udp.dstport", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "dns.id"]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0 and not p.stdout.strip():
        return [], f"tshark failed ({p.returncode}): {p.stderr.decode('utf-8', 'replace').strip()}"
    out = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[0].isdigit():
            continue
        protos = ":" + f[1] + ":"
        n = len([x for x in f[6].split(",") if x])
        if ":icmp:" in protos or ":icmpv6:" in protos:
            kind = "icmp-quoted"
        elif ":http2:" in protos or ":http:" in protos:
            kind = "http"
        else:
            kind = "other-port"
        transport = "tcp" if f[4] else "udp"
        # The first (outermost) ports; ICMP errors: those of the packet they quote.
        ports = tuple(int(x.split(",")[0]) if x.split(",")[0].isdigit() else 0
                      for x in (f[4:6] if f[4] else f[2:4]))
        out.append((int(f[0]), kind, transport, ports, n))
    return out, ""


def cached_tshark_outside(path: Path, tshark: str, cache: Path | None) -> tuple[list[tuple], str]:
    """tshark_outside(), cached like cached_tshark_messages()."""
    if cache is None:
        return tshark_outside(path, tshark)
    h = hashlib.sha256()
    h.update(b"outside\n" + (OUTSIDE_FILTER + inspect.getsource(tshark_outside)).encode())
    h.update(tshark_version(tshark).encode())
    h.update(path.read_bytes())
    entry = cache / (h.hexdigest() + ".pickle")
    try:
        with entry.open("rb") as f:
            return pickle.load(f), ""
    except (OSError, pickle.PickleError, EOFError, AttributeError):
        pass
    got, err = tshark_outside(path, tshark)
    if not err:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(got, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    return got, err


# ----------------------------------------------------------------------------- dnsvigil side
def _vigil_answer(a: dict) -> dict:
    tname = a.get("type", "")
    t = mnemonic_number(tname, RRTYPES)
    data = a.get("data", "")
    out = {"name": vigil_name(a.get("name", "")), "name_text": a.get("name", ""), "type": t,
           "ttl": a.get("ttl"), "data_text": data}
    d = None
    toks = split_unescaped(data)
    try:
        if t == 1:
            d = data
        elif t == 28:
            d = ipv6(data)
        elif t in (2, 5, 12, 39):
            d = vigil_name(data)
        elif t == 15:
            d = (int(toks[0]), vigil_name(toks[1]))
        elif t in (16, 99):
            d = vigil_quoted_strings(data)
        elif t == 6:
            d = (vigil_name(toks[0]), vigil_name(toks[1]), *(int(x) for x in toks[2:7]))
        elif t == 33:
            d = (int(toks[0]), int(toks[1]), int(toks[2]), vigil_name(toks[3]))
        elif t == 13:
            d = tuple(vigil_quoted_strings(data) or [])
        elif t == 35:
            strs = [(vigil_quoted_strings(x) or [b""])[0] for x in toks[2:5]]
            d = (int(toks[0]), int(toks[1]), *strs, vigil_name(toks[5]))
        elif t == 257:
            d = (int(toks[0]), toks[1].encode(), (vigil_quoted_strings(toks[2]) or [b""])[0])
        elif t in (44,):
            d = (int(toks[0]), int(toks[1]), "".join(toks[2:]).lower())
        elif t == 52:
            d = (int(toks[0]), int(toks[1]), int(toks[2]), "".join(toks[3:]).lower())
        elif t in (43, 59):
            d = (int(toks[0]), int(toks[1]), int(toks[2]), "".join(toks[3:]).lower())
        elif t in (48, 60):
            d = (int(toks[0]), int(toks[1]), int(toks[2]), "".join(toks[3:]))
        elif t == 46:
            d = (mnemonic_number(toks[0], RRTYPES), int(toks[1]), int(toks[2]), int(toks[3]),
                 calendar.timegm(time.strptime(toks[4], "%Y%m%d%H%M%S")),
                 calendar.timegm(time.strptime(toks[5], "%Y%m%d%H%M%S")),
                 int(toks[6]), vigil_name(toks[7]), "".join(toks[8:]))
        elif t == 51:
            d = (int(toks[0]), int(toks[1]), int(toks[2]), toks[3].lower())
    except (IndexError, ValueError):
        d = ("unparsable", data)
    m = re.fullmatch(r"\\# (\d+)(?: ([0-9a-fA-F ]*))?", data)
    if m:
        # RFC 3597 form: an unknown type, or a known type whose RDATA dnsvigil could not decode.
        out["generic"] = (int(m.group(1)), bytes.fromhex((m.group(2) or "").replace(" ", "")))
        if d is not None:
            d = ("rfc3597", data)
    out["data"] = d
    return out


def vigil_messages(events: list[dict]) -> list[Msg]:
    out = []
    for ev in events:
        if ev.get("event", {}).get("kind", "event") != "event":
            continue  # an alert line, not a DNS message
        dns = ev.get("dns", {})
        q = dns.get("question")
        m = Msg(ts=pcaplib.rfc3339_ns(ev["@timestamp"]), id=int(dns.get("id", -1)),
                qr=1 if dns.get("type") == "answer" else 0,
                transport=ev.get("network", {}).get("transport", ""))
        if q is not None:
            m.qname_text = q.get("name", "")
            m.qname = vigil_name(m.qname_text)
            m.qtype = mnemonic_number(q.get("type", ""), RRTYPES)
            m.qclass = mnemonic_number(q.get("class", ""), CLASSES)
            m.qlabels = [x.lower() for x in vigil_name_labels(m.qname_text)]
        if m.qr:
            m.rcode = mnemonic_number(dns.get("response_code", ""), RCODES)
        m.ancount = dns.get("answers_count")
        m.nscount = dns.get("authorities_count")
        m.arcount = dns.get("additionals_count")
        m.opcode = mnemonic_number(dns.get("op_code", ""), OPCODES)
        m.flags = sum(FLAG_BITS.get(f, 0) for f in dns.get("header_flags", []))
        m.answers = [_vigil_answer(a) for a in dns.get("answers", [])]
        e = ev.get("dnsvigil", {}).get("edns")
        if e is not None:
            cs = e.get("client_subnet")
            if cs is not None and "/" in cs:
                a, _, n = cs.partition("/")
                cs = f"{ipv6(a)}/{n}"
            m.edns = {"udp_size": e.get("udp_size"), "version": e.get("version"), "do": bool(e.get("do")),
                      "cookie": bool(e.get("cookie")), "nsid": bool(e.get("nsid")), "padding": e.get("padding"),
                      "client_subnet": cs}
        out.append(m)
    return out


# ----------------------------------------------------------------------------- comparison
def show(v) -> str:
    if isinstance(v, bytes):
        return repr(v)[2:-1] if v else "''"
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(show(x) for x in v) + ")"
    return str(v)


def flag_names(bits: int | None) -> str:
    return " ".join(k for k, b in FLAG_BITS.items() if bits is not None and bits & b) or "-"


def compare(t: Msg, v: Msg) -> list[tuple[str, str, str]]:
    """(field, tshark value, dnsvigil value) for every difference."""
    diffs = []

    def chk(fieldname, a, b, ta=None, tb=None):
        if a != b:
            diffs.append((fieldname, ta if ta is not None else show(a), tb if tb is not None else show(b)))

    if t.qname_lossy:
        chk("question.name", lossy(t.qname), lossy(v.qname), t.qname_text, v.qname_text)
    else:
        chk("question.name", t.qname, v.qname, t.qname_text, v.qname_text)
    chk("question.type", t.qtype, v.qtype)
    chk("question.class", t.qclass, v.qclass)
    if t.qlabels is not None and v.qlabels is not None:
        tl = [x.lower() for x in t.qlabels]
        chk("question.labels", tl, v.qlabels, " | ".join(map(show, tl)), " | ".join(map(show, v.qlabels)))
    if t.qr:
        chk("response_code", t.rcode, v.rcode)
    chk("op_code", t.opcode, v.opcode)
    chk("header_flags", flag_names(t.flags), flag_names(v.flags))
    chk("answers_count", t.ancount, v.ancount)
    chk("authorities_count", t.nscount, v.nscount)
    chk("additionals_count", t.arcount, v.arcount)
    chk("answers.decoded", len(t.answers), len(v.answers))
    if t.edns is None or v.edns is None:
        chk("edns", "present" if t.edns else "absent", "present" if v.edns else "absent")
    else:
        for k in t.edns:
            chk("edns." + k, t.edns[k], v.edns.get(k))
    for i, (ta, va) in enumerate(zip(t.answers, v.answers)):
        p = f"answers[{i}]"
        if non_ascii(ta["name_text"]):
            chk(p + ".name", lossy(ta["name"]), lossy(va["name"]), ta["name_text"], va["name_text"])
        else:
            chk(p + ".name", ta["name"], va["name"], ta["name_text"], va["name_text"])
        chk(p + ".type", ta["type"], va["type"])
        chk(p + ".ttl", ta["ttl"], va["ttl"])
        if ta["type"] != va["type"]:
            continue
        if ta["data"] is not None and va["data"] is not None:
            chk(p + ".data", ta["data"], va["data"], None, va["data_text"])
        elif "generic" in va:
            # dnsvigil printed the octets (RFC 3597): they must be the record's RDATA.
            n, octets = va["generic"]
            chk(p + ".rdlength", ta["rdlength"], n)
            if ta["rdata"] is not None:
                chk(p + ".rdata", ta["rdata"].hex(), octets.hex(), None, va["data_text"])
    return diffs


def pair_messages(ts_msgs: list[Msg], vg_msgs: list[Msg]):
    """Pairs tshark and dnsvigil messages; returns (pairs, unpaired tshark, unpaired dnsvigil)."""
    by_key: dict[tuple, list[int]] = {}
    for i, m in enumerate(vg_msgs):
        by_key.setdefault((m.ts, m.id, m.qr), []).append(i)
    used = [False] * len(vg_msgs)
    pairs: list[tuple[Msg, Msg]] = []
    left_t: list[Msg] = []
    for t in ts_msgs:
        cands = [i for i in by_key.get((t.ts, t.id, t.qr), []) if not used[i]]
        pick = next((i for i in cands if vg_msgs[i].qname == t.qname), cands[0] if cands else None)
        if pick is None:
            left_t.append(t)
            continue
        used[pick] = True
        pairs.append((t, vg_msgs[pick]))
    # Second chance: same id, QR and question, nearest timestamp (a different completing frame).
    still: list[Msg] = []
    for t in left_t:
        cands = [i for i, m in enumerate(vg_msgs)
                 if not used[i] and m.id == t.id and m.qr == t.qr and m.qname == t.qname]
        if not cands:
            still.append(t)
            continue
        pick = min(cands, key=lambda i: abs(vg_msgs[i].ts - t.ts))
        used[pick] = True
        pairs.append((t, vg_msgs[pick]))
    extra = [m for i, m in enumerate(vg_msgs) if not used[i]]
    return pairs, still, extra


def known(relpath: str, frame: int | None, msg_id: int | None, fieldname: str) -> str | None:
    """The reason of a KNOWN_DIFFERENCES entry covering this case, or None."""
    for k in KNOWN_DIFFERENCES:
        if not fnmatch.fnmatch(relpath, k["file"]):
            continue
        if "frame" in k and k["frame"] != frame:
            continue
        if "id" in k and k["id"] != msg_id:
            continue
        f = k.get("field", "*")
        if f == "*" or fnmatch.fnmatch(fieldname, f):
            return k["reason"]
    return None


def fmt_ts(ns: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + f".{ns % 1_000_000_000:09d}Z"


@dataclass
class FileResult:
    rel: str
    counted: int = 0
    agreed: int = 0
    excluded: int = 0
    known: int = 0
    known_fields: int = 0
    crash: str = ""
    tshark_error: str = ""
    lines: list[str] = field(default_factory=list)
    extra: int = 0
    missing: int = 0
    seconds: float = 0.0
    excluded_by: dict = field(default_factory=dict)   # excluded_kind() -> messages
    known_by: dict = field(default_factory=dict)      # KNOWN_DIFFERENCES reason -> messages (or fields) excused
    outside: dict = field(default_factory=dict)       # OUTSIDE_REASONS kind -> messages
    outside_ports: dict = field(default_factory=dict)  # "udp/5353" -> messages (other-port)

    @property
    def seen(self) -> int:
        """Every DNS message tshark dissects in the capture."""
        return self.counted + self.excluded + self.known + sum(self.outside.values())


def check_file(path: Path, rel: str, dnsvigil: str, tshark: str, verbose: bool, cache: Path | None) -> FileResult:
    r = FileResult(rel)
    t0 = time.monotonic()
    run = pcaplib.run_dnsvigil(dnsvigil, [path])
    if run.crashed:
        r.crash = run.describe_failure()
    events: list[dict] = []
    try:
        events = run.events() if not run.crashed else []
        vg = vigil_messages(events)
    except (ValueError, KeyError) as e:
        r.crash = r.crash or f"unparsable --dump-json output: {e}"
        vg = []
    # DNS dnsvigil recognised on other ports (capture.dns_heuristic): tshark decodes those ports too.
    off_ports = tuple(sorted({(e["network"]["transport"], e["destination"]["port"] if e["dns"]["type"] == "query"
                               else e["source"]["port"])
                              for e in events if e.get("dnsvigil", {}).get("off_port")}))
    ts, err = cached_tshark_messages(path, tshark, cache, off_ports)
    r.tshark_error = err
    pairs, missing, extra = pair_messages(ts, vg)
    for t, v in pairs:
        where = f"frame {t.frame} {fmt_ts(t.ts)} id {t.id} {'R' if t.qr else 'Q'} {t.qname_text or '-'}"
        if t.excluded:
            r.excluded += 1
            kind = excluded_kind(t.excluded)
            r.excluded_by[kind] = r.excluded_by.get(kind, 0) + 1
            if verbose:
                r.lines.append(f"  excluded   {where}: {t.excluded}")
            continue
        whole = known(rel, t.frame, t.id, "*")
        if whole:
            r.known += 1
            r.known_by[whole] = r.known_by.get(whole, 0) + 1
            if verbose:
                r.lines.append(f"  known      {where}: {whole}")
            continue
        diffs = compare(t, v)
        if t.ts != v.ts:
            diffs.append(("timestamp", fmt_ts(t.ts), fmt_ts(v.ts)))
        real = []
        for d in diffs:
            why = known(rel, t.frame, t.id, d[0])
            if why:
                r.known_fields += 1
                r.known_by[why] = r.known_by.get(why, 0) + 1
                if verbose:
                    r.lines.append(f"  known      {where}: {d[0]}: {why}")
            else:
                real.append(d)
        r.counted += 1
        if real:
            for f, a, b in real:
                r.lines.append(f"  DIFF       {rel} {where}: {f}: tshark={a!s} dnsvigil={b!s}")
        else:
            r.agreed += 1
    for t in missing:
        where = f"frame {t.frame} {fmt_ts(t.ts)} id {t.id} {'R' if t.qr else 'Q'} {t.qname_text or '-'}"
        if t.excluded:
            r.excluded += 1
            kind = excluded_kind(t.excluded)
            r.excluded_by[kind] = r.excluded_by.get(kind, 0) + 1
            if verbose:
                r.lines.append(f"  excluded   {where}: {t.excluded} (not reported by dnsvigil)")
            continue
        why = known(rel, t.frame, t.id, "missing")
        if why:
            r.known += 1
            r.known_by[why] = r.known_by.get(why, 0) + 1
            if verbose:
                r.lines.append(f"  known      {where}: missing: {why}")
            continue
        r.counted += 1
        r.missing += 1
        r.lines.append(f"  MISSING    {rel} {where}: tshark dissects it, dnsvigil does not report it")
    for v in extra:
        where = f"{fmt_ts(v.ts)} id {v.id} {'R' if v.qr else 'Q'} {v.qname_text or '-'} ({v.transport})"
        why = known(rel, None, v.id, "extra")
        if why:
            r.known_by[why] = r.known_by.get(why, 0) + 1
            if verbose:
                r.lines.append(f"  known      {where}: extra: {why}")
            continue
        r.extra += 1
        r.lines.append(f"  EXTRA      {rel} {where}: dnsvigil reports a message tshark does not dissect")
    outside, err = cached_tshark_outside(path, tshark, cache)
    r.tshark_error = r.tshark_error or err
    for frame_no, kind, transport, ports, n in outside:
        if any((transport, p) in off_ports for p in ports):
            continue  # dnsvigil reported DNS on that port: tshark decoded it for the comparison
        r.outside[kind] = r.outside.get(kind, 0) + n
        if kind == "other-port":
            key = f"{transport}/{min(p for p in ports if p) if any(ports) else 0}"
            r.outside_ports[key] = r.outside_ports.get(key, 0) + n
        if verbose:
            r.lines.append(f"  outside    frame {frame_no}: {n} message(s), {kind} ({transport} {ports[0]}->{ports[-1]})")
    r.seconds = time.monotonic() - t0
    return r


def folder_of(rel: str) -> str:
    """The folder a capture is reported under: its directory (pcaps/pipeline, conformance/zeek, ...)."""
    return rel.rsplit("/", 1)[0] if "/" in rel else "."


def print_agreement(results: list[FileResult]) -> None:
    """The agreement figures per folder and in total, and what the comparison leaves out, and why.

    compared: the messages compared field by field (port 53 and the ports where dnsvigil reported
    DNS; not excluded, not excused): agree / compared is the figure the threshold applies to.
    seen: every DNS message tshark dissects in the capture (any port, ICMP-quoted, malformed,
    excused): agree / seen is the figure over all of DNS as tshark sees it.
    """
    folders: dict[str, list[FileResult]] = {}
    for r in results:
        folders.setdefault(folder_of(r.rel), []).append(r)

    def pct(a: int, b: int) -> str:
        return f"{100.0 * a / b:7.3f} %" if b else "      - "

    print(f"{'folder':<44} {'files':>5} {'seen':>7} {'compared':>8} {'agree':>7} {'of compared':>12} {'of seen':>10}")
    rows = sorted(folders.items()) + [("total", results)]
    for name, rs in rows:
        seen, counted, agreed = sum(r.seen for r in rs), sum(r.counted for r in rs), sum(r.agreed for r in rs)
        if name == "total":
            print("-" * 101)
        print(f"{name:<44} {len(rs):>5} {seen:>7} {counted:>8} {agreed:>7} {pct(agreed, counted):>12} "
              f"{pct(agreed, seen):>10}")
    seen, counted, agreed = (sum(r.seen for r in results), sum(r.counted for r in results),
                             sum(r.agreed for r in results))
    print()
    print(f"agreement: {agreed} of {counted} compared messages agree ({pct(agreed, counted).strip()}); "
          f"{agreed} of the {seen} DNS messages tshark sees ({pct(agreed, seen).strip()})")
    # What keeps a message tshark sees from agreeing: compared and different, or not compared.
    causes: list[tuple[int, str, str, str]] = []   # (messages, what, design/disagreement, why)
    differ = sum(r.counted - r.agreed - r.missing for r in results)
    missing = sum(r.missing for r in results)
    if differ:
        causes.append((differ, "compared, a field differs", "disagreement", "listed DIFF above"))
    if missing:
        causes.append((missing, "compared, not reported by dnsvigil", "disagreement", "listed MISSING above"))
    kinds: dict[str, int] = {}
    for r in results:
        for k, n in r.excluded_by.items():
            kinds[k] = kinds.get(k, 0) + n
    for prefix, kind, how, why in EXCLUDED_KINDS:
        if kinds.get(kind):
            causes.append((kinds[kind], f"not compared: {kind}", how, why))
    if kinds.get("other-excluded"):
        causes.append((kinds["other-excluded"], "not compared: other-excluded", "?", "see --verbose"))
    outside: dict[str, int] = {}
    ports: dict[str, int] = {}
    for r in results:
        for k, n in r.outside.items():
            outside[k] = outside.get(k, 0) + n
        for k, n in r.outside_ports.items():
            ports[k] = ports.get(k, 0) + n
    for kind, (how, why) in OUTSIDE_REASONS.items():
        if outside.get(kind):
            extra = ""
            if kind == "other-port":
                extra = " (" + ", ".join(f"{p}: {n}" for p, n in sorted(ports.items(), key=lambda x: -x[1])) + ")"
            causes.append((outside[kind], f"not compared: {kind}", how, why + extra))
    known_n = sum(r.known for r in results)
    if known_n:
        causes.append((known_n, "not compared: KNOWN_DIFFERENCES", "listed", "each entry's reason below"))
    if causes:
        print(f"the {seen - agreed} messages tshark sees that do not count as agreeing, by cause:")
        for n, what, how, why in sorted(causes, key=lambda c: -c[0]):
            print(f"  {n:>6}  {what} [{how}]: {why}")
    used: dict[str, int] = {}
    for r in results:
        for why, n in r.known_by.items():
            used[why] = used.get(why, 0) + n
    if used:
        print("KNOWN_DIFFERENCES in use (messages, fields or extra lines excused):")
        for why, n in sorted(used.items(), key=lambda x: -x[1]):
            print(f"  {n:>6}  {why}")


def main(argv: list[str] | None = None) -> int:
    root_default = pcaplib.default_root()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dnsvigil", help="dnsvigil binary (default: $DNSVIGIL or build/*/sensor/app/dnsvigil)")
    ap.add_argument("--root", type=Path, default=root_default, help="repository root (default: %(default)s)")
    ap.add_argument("--shared", type=Path, help="shared folder holding pcaps-conformance/ (default: ROOT/../shared)")
    ap.add_argument("--tshark", default=shutil.which("tshark") or "tshark", help="tshark binary")
    ap.add_argument("--threshold", type=float, default=99.5, help="minimum total agreement in %% (default 99.5)")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 2, help="captures checked in parallel")
    ap.add_argument("--cache", type=Path, help="folder where tshark's decoded messages are kept between runs")
    ap.add_argument("--only", action="append", default=[], help="glob on the capture's relative path (repeatable)")
    ap.add_argument("--verbose", "-v", action="store_true", help="also list excluded and known cases, and timings")
    ap.add_argument("files", nargs="*", type=Path, help="check only these captures")
    args = ap.parse_args(argv)

    if not shutil.which(args.tshark):
        print("SKIP: tshark not found")
        return pcaplib.SKIP
    dnsvigil = args.dnsvigil or pcaplib.default_dnsvigil(args.root)
    if not dnsvigil:
        print("error: no dnsvigil binary; pass --dnsvigil PATH", file=sys.stderr)
        return 2
    root = args.root.resolve()
    shared = (args.shared or pcaplib.default_shared(root)).resolve()
    conformance = shared / "pcaps-conformance"

    todo: list[tuple[Path, str]] = []
    if args.files:
        for f in args.files:
            f = f.resolve()
            try:
                rel = "pcaps/" + str(f.relative_to(root / "pcaps"))
            except ValueError:
                try:
                    rel = "conformance/" + str(f.relative_to(conformance))
                except ValueError:
                    rel = str(f)
            todo.append((f, rel))
    else:
        for f in pcaplib.find_captures(root / "pcaps"):
            todo.append((f, "pcaps/" + str(f.relative_to(root / "pcaps"))))
        if conformance.is_dir():
            for f in pcaplib.find_captures(conformance):
                todo.append((f, "conformance/" + str(f.relative_to(conformance))))
        else:
            print(f"note: {conformance} absent: public conformance captures skipped")
    if args.only:
        todo = [(f, rel) for f, rel in todo if any(fnmatch.fnmatch(rel, g) for g in args.only)]
    if not todo:
        print("SKIP: no captures found")
        return pcaplib.SKIP

    t0 = time.monotonic()
    # Largest captures first, so the parallel workers finish together; results keep `todo` order.
    todo.sort(key=lambda fr: fr[1])
    order = sorted(range(len(todo)), key=lambda i: -todo[i][0].stat().st_size)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {i: pool.submit(check_file, todo[i][0], todo[i][1], dnsvigil, args.tshark, args.verbose,
                                  args.cache) for i in order}
        results = [futures[i].result() for i in range(len(todo))]

    total = agreed = excluded = knowns = known_fields = extra = missing = 0
    crashes, tshark_errors = [], []
    print(f"{'capture':<72} {'agree':>7} {'msgs':>6} {'%':>7}  excl  known   seen")
    for r in results:
        total += r.counted
        agreed += r.agreed
        excluded += r.excluded
        knowns += r.known
        known_fields += r.known_fields
        extra += r.extra
        missing += r.missing
        pct = 100.0 * r.agreed / r.counted if r.counted else 100.0
        flag = ""
        if r.crash:
            crashes.append(r)
            flag = "  CRASH"
        if r.tshark_error:
            tshark_errors.append(r)
            flag += "  TSHARK-ERROR"
        if r.agreed != r.counted or r.extra:
            flag += f"  ({r.counted - r.agreed} disagree, {r.extra} extra)"
        timing = f"  {r.seconds:.2f}s" if args.verbose else ""
        print(f"{r.rel:<72} {r.agreed:>7} {r.counted:>6} {pct:>6.2f}% {r.excluded:>5} {r.known:>6} {r.seen:>6}"
              f"{flag}{timing}")
        for line in r.lines:
            print(line)
        if r.crash:
            print("  " + r.crash.replace("\n", "\n  "))
        if r.tshark_error:
            print("  " + r.tshark_error)

    pct = 100.0 * agreed / total if total else 100.0
    print()
    print_agreement(results)
    print()
    print(f"total: {agreed}/{total} messages agree ({pct:.3f} %); {total - agreed} disagree "
          f"({missing} not reported by dnsvigil); {extra} extra dnsvigil lines; "
          f"{excluded} excluded (tshark-malformed or cut: see the causes above); {knowns} messages and {known_fields} fields "
          f"excused by KNOWN_DIFFERENCES; "
          f"{len(results)} captures in {time.monotonic() - t0:.1f} s")
    failed = False
    if crashes:
        print(f"FAIL: dnsvigil crashed or exited non-zero on {len(crashes)} capture(s): "
              + ", ".join(r.rel for r in crashes))
        failed = True
    if tshark_errors:
        print(f"FAIL: tshark failed on {len(tshark_errors)} capture(s)")
        failed = True
    if pct < args.threshold:
        print(f"FAIL: agreement {pct:.3f} % is below {args.threshold} %")
        failed = True
    if missing:
        print(f"FAIL: {missing} message(s) tshark dissects are not reported by dnsvigil")
        failed = True
    if extra:
        print(f"FAIL: {extra} dnsvigil line(s) have no tshark message")
        failed = True
    if not failed:
        print("PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
