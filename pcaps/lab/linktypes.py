#!/usr/bin/python3
"""Writes pcaps/linktypes/ files of link types and tunnels the lab kernel cannot produce (PPP,
PPP_HDLC, PPPoE, PPTP's enhanced GRE, GTP-U, PKTAP) around the IP packets of a real capture.

usage: linktypes.py SOURCE_ETHERNET.pcap LOOPBACK.pcap OUT_DIR

Called by make-linktypes.sh, which made both inputs (dig <-> knotd in two namespaces, tcpdump on
the client's veth and on the server's loopback). Every output frame is one input frame, with its
timestamp; only the few extra signalling frames (LCP echo, GTP echo, a GRE acknowledgement) are
new, and they are stamped just before the first or just after the last input frame. The
encapsulation headers come from scapy's layers where it has them, the PPP framing and the PKTAP
header are written field by field here (scapy would compress the PPP protocol field on its own).
"""

import struct
import sys
from pathlib import Path

from scapy.contrib.gtp import (GTP_U_Header, GTPEchoRequest, GTPEchoResponse, GTPPDUSessionContainer,
                               IE_Recovery)
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import GRE_PPTP, Ether
from scapy.layers.ppp import PPPoE
from scapy.packet import Raw

CLIENT_MAC = bytes.fromhex("02000a14010a")  # dvlt-cli's veth (make-linktypes.sh)

# libpcap LINKTYPE_* values written in the file headers.
LINKTYPE_ETHERNET, LINKTYPE_PPP, LINKTYPE_PPP_HDLC, LINKTYPE_PPP_ETHER, LINKTYPE_PKTAP = 1, 9, 50, 51, 258

PPP_IP, PPP_IPV6, PPP_LCP = 0x0021, 0x0057, 0xC021


def read_pcap(path):
    """(linktype, [(sec, usec, frame)]) of a classic pcap file with microsecond times."""
    data = Path(path).read_bytes()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        e = ">"
    else:
        sys.exit(f"{path}: not a microsecond pcap file")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    out, pos = [], 24
    while pos + 16 <= len(data):
        sec, usec, caplen, _ = struct.unpack(e + "IIII", data[pos:pos + 16])
        out.append((sec, usec, data[pos + 16:pos + 16 + caplen]))
        pos += 16 + caplen
    return linktype, out


def write_pcap(path, linktype, records):
    """A classic little-endian pcap file (microseconds, snap length 262144)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for sec, usec, frame in records:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def shifted(sec, usec, delta_us):
    t = sec * 1_000_000 + usec + delta_us
    return t // 1_000_000, t % 1_000_000


def ip_packets(records):
    """[(sec, usec, ip_packet, from_client)] of Ethernet frames carrying IPv4/IPv6."""
    out = []
    for sec, usec, frame in records:
        etype = struct.unpack(">H", frame[12:14])[0]
        ip = frame[14:]
        if etype == 0x0800:
            ip = ip[:struct.unpack(">H", ip[2:4])[0]]
        elif etype == 0x86DD:
            ip = ip[:40 + struct.unpack(">H", ip[4:6])[0]]
        else:
            continue
        out.append((sec, usec, ip, frame[6:12] == CLIENT_MAC))
    return out


def ppp_protocol(ip):
    return PPP_IP if ip[0] >> 4 == 4 else PPP_IPV6


def ppp_frame(proto, payload, acf=True, pfc=False):
    """PPP (RFC 1661 2, RFC 1662 3.1): [FF 03] protocol (2 octets, or 1 with PFC) payload."""
    head = b"\xff\x03" if acf else b""
    head += bytes([proto]) if pfc else struct.pack(">H", proto)
    return head + payload


def lcp_echo(code, ident):
    """LCP Echo-Request (9) / Echo-Reply (10) (RFC 1661 5.8): code, id, length 8, magic number."""
    return struct.pack(">BBHI", code, ident, 8, 0x5EED0001 if code == 9 else 0x5EED0002)


def make_ppp(pkts, first):
    s, u = first
    recs = [(*shifted(s, u, -400_000), ppp_frame(PPP_LCP, lcp_echo(9, 1))),
            (*shifted(s, u, -399_000), ppp_frame(PPP_LCP, lcp_echo(10, 1), acf=False))]
    for sec, usec, ip, up in pkts:
        # The client's side sends full framing, the server's side both compressions (ACFC + PFC).
        recs.append((sec, usec, ppp_frame(ppp_protocol(ip), ip) if up else
                     ppp_frame(ppp_protocol(ip), ip, acf=False, pfc=True)))
    return recs


def make_ppp_hdlc(pkts):
    return [(sec, usec, ppp_frame(ppp_protocol(ip), ip)) for sec, usec, ip, _ in pkts]


def make_pppoe(pkts, first):
    s, u = first
    sess = 0x1A2B

    def pppoe(payload):
        return bytes(PPPoE(version=1, type=1, code=0, sessionid=sess) / Raw(payload))

    recs = [(*shifted(s, u, -400_000), pppoe(ppp_frame(PPP_LCP, lcp_echo(9, 7), acf=False))),
            (*shifted(s, u, -399_000), pppoe(ppp_frame(PPP_LCP, lcp_echo(10, 7), acf=False)))]
    for sec, usec, ip, _ in pkts:
        recs.append((sec, usec, pppoe(ppp_frame(ppp_protocol(ip), ip, acf=False))))
    return recs


def make_pptp(pkts, last):
    cli = ("02:00:c6:33:64:07", "198.51.100.7", 0x0B02)  # MAC, address, the call id the peer assigned
    srv = ("02:00:c6:33:64:01", "198.51.100.1", 0x0A01)
    seq = {True: 0, False: 0}       # next sequence number sent, per direction (True: from the client)
    seen = {True: None, False: None}  # last sequence number received, per receiving side
    recs, ip_id = [], 0x3000

    def frame(up, gre_fields, payload):
        nonlocal ip_id
        src, dst = (cli, srv) if up else (srv, cli)
        ip_id += 1
        pkt = (Ether(src=src[0], dst=dst[0]) / IP(src=src[1], dst=dst[1], id=ip_id, ttl=64) /
               GRE_PPTP(call_id=src[2], **gre_fields) / Raw(payload))
        return bytes(pkt)

    for sec, usec, ip, up in pkts:
        ppp = ppp_frame(ppp_protocol(ip), ip, acf=True, pfc=True)
        fields = {"seqnum_present": 1, "sequence_number": seq[up]}
        if seen[up] is not None:
            fields.update(acknum_present=1, ack_number=seen[up])
        recs.append((sec, usec, frame(up, fields, ppp)))
        seen[not up] = seq[up]
        seq[up] += 1
    # The client acknowledges the last answer without data of its own (RFC 2637 4.4).
    s, u = last
    recs.append((*shifted(s, u, 200_000), frame(True, {"acknum_present": 1, "ack_number": seen[True],
                                                       "payload_len": 0}, b"")))
    return recs


def make_gtpu(pkts, first):
    gnb = ("02:00:c0:00:02:65", "192.0.2.101", 0x1001)  # MAC, address, TEID of the uplink tunnel at the UPF
    upf = ("02:00:c0:00:02:66", "192.0.2.102", 0x2002)  # the downlink tunnel at the gNB
    ip_id = 0x5000

    def frame(up, gtp):
        nonlocal ip_id
        src, dst = (gnb, upf) if up else (upf, gnb)
        ip_id += 1
        return bytes(Ether(src=src[0], dst=dst[0]) / IP(src=src[1], dst=dst[1], id=ip_id, ttl=64) /
                     UDP(sport=2152, dport=2152) / gtp)

    s, u = first
    recs = [(*shifted(s, u, -400_000), frame(True, GTP_U_Header(S=1, seq=1, gtp_type=1) / GTPEchoRequest())),
            (*shifted(s, u, -399_000), frame(False, GTP_U_Header(S=1, seq=1, gtp_type=2) /
                                             GTPEchoResponse(IE_list=[IE_Recovery(restart_counter=0)])))]
    for sec, usec, ip, up in pkts:
        teid = upf[2] if up else gnb[2]
        # PDU session container (TS 38.415): PDU type 1 = UL PDU SESSION INFORMATION, 0 = DL; QFI 9.
        gtp = (GTP_U_Header(E=1, next_ex=0x85, gtp_type=255, teid=teid) /
               GTPPDUSessionContainer(type=1 if up else 0, QFI=9, NextExtHdr=0) / Raw(ip))
        recs.append((sec, usec, frame(up, gtp)))
    return recs


def pktap_header(dlt, ifname, iftype, family, pre_length, direction_out, comm, pid):
    """Apple net/pktap.h pktap_header (version 1, 108 octets), little-endian like every Apple host
    that has PKTAP."""
    PTH_TYPE_PACKET, PTH_FLAG_DIR_IN, PTH_FLAG_DIR_OUT = 1, 0x1, 0x2
    h = struct.pack("<III", 108, PTH_TYPE_PACKET, dlt)               # pth_length, pth_type_next, pth_dlt
    h += ifname.encode().ljust(24, b"\0")                             # pth_ifname
    h += struct.pack("<IIIIi", PTH_FLAG_DIR_OUT if direction_out else PTH_FLAG_DIR_IN,  # pth_flags
                     family, pre_length, 0, pid)                      # family, pre/post length, pid
    h += comm.encode().ljust(17, b"\0") + b"\0" * 3                  # pth_comm + alignment
    h += struct.pack("<IHHi", 0, iftype, 0, pid)                     # pth_svc, iftype, ifunit, epid
    h += comm.encode().ljust(17, b"\0") + b"\0" * 3                  # pth_ecomm + alignment
    assert len(h) == 108
    return h


def make_pktap(ether_records, loop_records):
    AF_INET, AF_INET6_DARWIN, IFT_ETHER, IFT_LOOP = 2, 30, 6, 24
    recs = []
    for sec, usec, frame in ether_records:
        up = frame[6:12] == CLIENT_MAC
        fam = AF_INET if frame[12:14] == b"\x08\x00" else AF_INET6_DARWIN
        recs.append((sec, usec, pktap_header(1, "en0", IFT_ETHER, fam, 14, up, "dig", 4242) + frame))
    for sec, usec, frame in loop_records:
        etype = frame[12:14]
        if etype not in (b"\x08\x00", b"\x86\xdd"):
            continue
        fam = AF_INET if etype == b"\x08\x00" else AF_INET6_DARWIN
        ip = frame[14:]
        sport = struct.unpack(">H", ip[20:22] if fam == AF_INET else ip[40:42])[0]
        from_server = sport == 53
        null = struct.pack("<I", fam)  # DLT_NULL: the address family in the host's (little-endian) order
        recs.append((sec, usec, pktap_header(0, "lo0", IFT_LOOP, fam, 4, True,
                                             "knotd" if from_server else "dig", 777 if from_server else 4243)
                     + null + ip))
    return recs


def main():
    src, loop, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    lt, ether = read_pcap(src)
    if lt != LINKTYPE_ETHERNET:
        sys.exit(f"{src}: link type {lt}, expected Ethernet")
    lt, looped = read_pcap(loop)
    if lt != LINKTYPE_ETHERNET:  # Linux lo is Ethernet with zero addresses
        sys.exit(f"{loop}: link type {lt}, expected Ethernet")
    pkts = ip_packets(ether)
    if not pkts:
        sys.exit(f"{src}: no IP packets")
    first, last = pkts[0][:2], pkts[-1][:2]
    write_pcap(out / "ppp.pcap", LINKTYPE_PPP, make_ppp(pkts, first))
    write_pcap(out / "ppp-hdlc.pcap", LINKTYPE_PPP_HDLC, make_ppp_hdlc(pkts))
    write_pcap(out / "pppoe.pcap", LINKTYPE_PPP_ETHER, make_pppoe(pkts, first))
    write_pcap(out / "pptp-gre.pcap", LINKTYPE_ETHERNET, make_pptp(pkts, last))
    write_pcap(out / "gtpu.pcap", LINKTYPE_ETHERNET, make_gtpu(pkts, first))
    write_pcap(out / "pktap.pcap", LINKTYPE_PKTAP, make_pktap(ether, looped))


if __name__ == "__main__":
    main()
