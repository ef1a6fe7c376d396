#!/usr/bin/env python3
"""Seed corpus of fuzz_pcapng: small pcapng files written block by block (pcapng draft section 4)
covering what the reader handles -- both byte orders, several sections and interfaces, every
packet block kind, the IDB options it reads, skipped blocks -- plus the first packets of each
lab capture in pcaps/pcapng/ (made by pcaps/lab/make-pcapng.sh). Standard library only.

Usage: tests/fuzz/make_pcapng_seeds.py [OUTDIR]   (default tests/fuzz/corpus/fuzz_pcapng)
"""

import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A DNS query for example.org over UDP/IPv4, as raw IP, and behind an Ethernet header.
DNS = bytes.fromhex("12340100000100000000000007" "6578616d706c65" "036f72670000010001")
UDP = struct.pack(">HHHH", 40000, 53, 8 + len(DNS), 0) + DNS


def ipv4(payload: bytes) -> bytes:
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, 17, 0,
                      bytes([192, 0, 2, 10]), bytes([192, 0, 2, 53]))
    s = sum(struct.unpack(">10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return hdr[:10] + struct.pack(">H", ~s & 0xFFFF) + hdr[12:] + payload


RAW = ipv4(UDP)
ETH = bytes.fromhex("02000a140035 02000a14010b 0800".replace(" ", "")) + RAW


class W:
    def __init__(self, be=False):
        self.be = be
        self.out = b""

    def p(self, fmt, *v):
        return struct.pack((">" if self.be else "<") + fmt, *v)

    def opt(self, code, value: bytes):
        return self.p("HH", code, len(value)) + value + b"\0" * (-len(value) % 4)

    def block(self, btype, body: bytes):
        n = 12 + len(body)
        self.out += self.p("II", btype, n) + body + self.p("I", n)
        return self

    def shb(self, be):
        self.be = be
        return self.block(0x0A0D0D0A, self.p("IHHq", 0x1A2B3C4D, 1, 0, -1))

    def idb(self, linktype, snaplen, opts=b""):
        return self.block(1, self.p("HHI", linktype, 0, snaplen) + opts)

    def epb(self, iface, ts, data, orig=None):
        body = self.p("IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), orig or len(data))
        return self.block(6, body + data + b"\0" * (-len(data) % 4))

    def spb(self, orig, data):
        return self.block(3, self.p("I", orig) + data + b"\0" * (-len(data) % 4))

    def pb(self, iface, ts, data):
        body = self.p("HHIIII", iface, 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
        return self.block(2, body + data + b"\0" * (-len(data) % 4))


def seeds() -> dict[str, bytes]:
    out = {}
    w = W()
    w.shb(False).idb(1, 262144, w.opt(2, b"eth0") + w.opt(9, b"\x09") + w.opt(0, b""))
    w.idb(101, 96, w.opt(2, b"tun0") + w.opt(14, w.p("q", 3600)) + w.opt(0, b""))
    w.epb(0, 1_700_000_000_000_000_000, ETH).epb(1, 1_700_000_000_000_001, RAW)
    out["two-ifaces-le"] = w.out
    w = W()
    w.shb(True).idb(113, 60, w.opt(9, b"\x8a")).spb(len(ETH), ETH[:60])
    w.block(4, b"\0" * 4).block(5, w.p("IIIII", 0, 0, 0, 0, 0))
    w.idb(1, 0).epb(1, 5, ETH).pb(0, 6, b"\0" * 16 + ETH)
    out["be-spb-pb-skipped"] = w.out
    w = W()
    w.shb(False).idb(1, 0, w.opt(2, b"a")).epb(0, 1, ETH)
    w.shb(True).idb(228, 0, w.opt(2, b"b")).epb(0, 2, RAW)
    w.shb(False).idb(276, 0).idb(220, 0).epb(1, 3, b"\0" * 8).block(0x00000BAD, b"\0" * 8)
    out["three-sections"] = w.out
    return out


def main() -> int:
    outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/fuzz/corpus/fuzz_pcapng"
    outdir.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (outdir / f"{name}.pcapng").write_bytes(data)
    # The first packets of each lab capture: real dumpcap/editcap/mergecap blocks and options.
    for f in sorted((ROOT / "pcaps/pcapng").glob("*.pcapng")):
        if f.stem == "two-sections":
            continue
        dst = outdir / f"lab-{f.stem}.pcapng"
        subprocess.run(["editcap", "-r", str(f), str(dst), "1-12"], check=True, stdout=subprocess.DEVNULL)
    # Two sections as the lab file has them (editcap would write one), and a file cut mid-block.
    a, b = outdir / "lab-dumpcap-ether-and-any.pcapng", outdir / "lab-dumpcap-ether-rawip.pcapng"
    if a.exists() and b.exists():
        (outdir / "lab-two-sections.pcapng").write_bytes(a.read_bytes() + b.read_bytes())
        (outdir / "lab-cut.pcapng").write_bytes(b.read_bytes()[:-37])
    return 0


if __name__ == "__main__":
    sys.exit(main())
