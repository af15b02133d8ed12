#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The service of the trace corpus (bench/traces/corpus.sh): an HTTP
session store and the load that drives it.

  corpus-service.py serve PORT
      ThreadingHTTPServer on 127.0.0.1:PORT.  GET /open?kib=K&ttl=T builds
      a session of K KiB (written, so it is resident) kept for T seconds;
      GET /stats sums the live sessions.  A sweeper drops expired
      sessions every 0.5 s, so the memory held follows the recent
      request rate times the session size and lifetime.
  corpus-service.py load PORT SEED SECONDS
      the client: 1-4 threads whose total request rate follows a seeded
      wave (period 40-90 s, 2-20 requests/s) with 5 s bursts at twice the
      rate; sessions of 256 KiB-3 MiB living 3-20 s; one line per
      5 s on stdout: "<CLOCK_MONOTONIC ns> rate <target> done <n>".
"""
import math
import random
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

sessions = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/open":
            kib = int(q.get("kib", ["256"])[0])
            ttl = float(q.get("ttl", ["10"])[0])
            data = b"\x5a" * (kib << 10)
            with lock:
                sid = len(sessions) + int(time.monotonic() * 1e6)
                sessions[sid] = (time.monotonic() + ttl, data)
            body = b"%d\n" % sid
        else:
            with lock:
                n = len(sessions)
                kib = sum(len(d) for _, d in sessions.values()) >> 10
            body = b"%d %d\n" % (n, kib)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client killed at the segment's end: not an error here


def sweep():
    while True:
        time.sleep(0.5)
        now = time.monotonic()
        with lock:
            for sid in [s for s, (t, _) in sessions.items() if t < now]:
                del sessions[sid]


def serve(port):
    threading.Thread(target=sweep, daemon=True).start()
    Server(("127.0.0.1", port), Handler).serve_forever()


def load(port, seed, seconds):
    rnd = random.Random(seed)
    period = rnd.uniform(40, 90)
    lo, hi = rnd.uniform(2, 5), rnd.uniform(8, 20)
    kib_lo, kib_hi = 256, rnd.choice([1024, 2048, 3072])
    ttl_lo, ttl_hi = 3, rnd.uniform(8, 20)
    bursts = sorted(rnd.uniform(0, seconds) for _ in range(int(seconds / 60) + 1))
    nthreads = rnd.randint(1, 4)
    t0 = time.monotonic()
    end = t0 + seconds
    done = [0]

    def rate(t):
        r = lo + (hi - lo) * (0.5 - 0.5 * math.cos(2 * math.pi * t / period))
        if any(b <= t < b + 5 for b in bursts):
            r *= 2
        return r

    def worker(k):
        wr = random.Random(seed * 10 + k)
        nxt = time.monotonic()
        while nxt < end:
            now = time.monotonic()
            if nxt > now:
                time.sleep(nxt - now)
            elif nxt < now - 1:
                nxt = now  # behind: no catch-up burst
            kib = wr.randint(kib_lo, kib_hi)
            ttl = wr.uniform(ttl_lo, ttl_hi)
            try:
                urllib.request.urlopen(
                    "http://127.0.0.1:%d/open?kib=%d&ttl=%.1f" % (port, kib, ttl),
                    timeout=10).read()
                done[0] += 1
            except OSError:
                pass
            nxt += nthreads / rate(nxt - t0)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
    for t in threads:
        t.start()
    while time.monotonic() < end:
        time.sleep(5)
        print(time.monotonic_ns(), "rate %.1f done %d" % (rate(time.monotonic() - t0), done[0]),
              flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        load(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
