#!/usr/bin/python3
"""k8sapp.py SEED SECONDS -- the workloads of a Kubernetes node (make-precision.sh k8s-node-ndots5): one thread per
"pod" resolving its dependencies with glibc (socket.getaddrinfo, i.e. the node's resolv.conf: cluster search list,
ndots:5) at typical application rates: periodic polling every 10-60 s with jitter, plus a rollout burst in the
middle (every pod re-resolves everything at once) and occasional error bursts. Logs one line per lookup."""
import random
import socket
import sys
import threading
import time

seed, secs = sys.argv[1], float(sys.argv[2])
T0 = time.time()
PODS = {  # pod: [(name, port, period-seconds)]
    "web-7d9f": [("redis", 6379, 10), ("postgres.db", 5432, 15), ("api.default.svc.cluster.local", 8080, 20)],
    "api-5c4b": [("postgres.db", 5432, 12), ("redis-master", 6379, 10), ("rabbitmq.messaging", 5672, 30),
                 ("api.github.com", 443, 30), ("www.googleapis.com", 443, 45)],
    "worker-6f8d": [("rabbitmq.messaging", 5672, 20), ("sqs.us-east-1.amazonaws.com", 443, 20),
                    ("hooks.slack.com", 443, 60), ("o450123.ingest.sentry.io", 443, 60)],
    "prometheus-0": [("web.default.svc.cluster.local", 9090, 15), ("api.default.svc.cluster.local", 9090, 15),
                     ("alertmanager.monitoring", 9093, 30), ("kubernetes.default", 443, 30)],
    "controller-8b2a": [("kubernetes.default", 443, 20), ("kubernetes.default.svc", 443, 60)],
    "kubelet": [("registry-1.docker.io", 443, 90), ("auth.docker.io", 443, 90), ("ghcr.io", 443, 120)],
}
lock = threading.Lock()


def look(pod, n, port):
    t = time.time()
    try:
        res = socket.getaddrinfo(n, port, type=socket.SOCK_STREAM)
        out = res[0][4][0]
    except socket.gaierror as e:
        out = f"error {e.errno}"
    with lock:
        print(f"{t - T0:7.2f} {pod:16} {n:40} {out} ({(time.time() - t) * 1000:.0f} ms)", flush=True)


def pod(name, deps, r):
    nxt = {n: r.uniform(0, min(p, 15)) for n, p, _ in [(d[0], d[2], 0) for d in deps]}
    rollout = secs * 0.5 + r.uniform(0, 5)
    burst_at = r.uniform(secs * 0.2, secs * 0.9) if r.random() < 0.5 else None
    while True:
        now = time.time() - T0
        if now >= secs:
            return
        if rollout is not None and now >= rollout:          # rollout: the new replica resolves everything
            for n, port, _ in deps:
                look(name, n, port)
            rollout = None
        if burst_at is not None and now >= burst_at:        # retries after an upstream error
            for _ in range(r.randint(3, 8)):
                n, port, _ = r.choice(deps)
                look(name, n, port)
                time.sleep(r.uniform(0.2, 1.0))
            burst_at = None
        for n, port, per in deps:
            if now >= nxt[n]:
                look(name, n, port)
                nxt[n] = now + per * r.uniform(0.85, 1.15)
        time.sleep(0.25)


threads = []
for i, (p, deps) in enumerate(PODS.items()):
    th = threading.Thread(target=pod, args=(p, deps, random.Random(f"{seed}-{i}")))
    th.start()
    threads.append(th)
for th in threads:
    th.join()
