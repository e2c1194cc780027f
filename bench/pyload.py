"""Fallback load generator (smoke runs without wrk): N threads POST one body for D seconds.

Runs as its own process (`python -m bench.pyload URL BODY ...`) and prints one JSON line.
Bounded in time (`--duration`) and count (`--max-requests`); loopback URLs only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _worker(
    parsed: urllib.parse.SplitResult,
    body: bytes,
    content_type: str,
    deadline: float,
    budget: list[int],
    lock: threading.Lock,
    latencies: list[float],
    errors: list[int],
) -> None:
    conn: http.client.HTTPConnection | None = None
    path = parsed.path or "/"
    while time.monotonic() < deadline:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        start = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=5)
                conn.connect()
                if conn.sock is not None:  # headers and body go in two writes: no Nagle wait
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.request("POST", path, body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            response.read()
            ok = 200 <= response.status < 300
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except OSError:
            ok = False
            conn = None
        elapsed = time.perf_counter() - start
        with lock:
            if ok:
                latencies.append(elapsed)
            else:
                errors[0] += 1
    if conn is not None:
        conn.close()


def run(
    url: str, body: bytes, content_type: str, concurrency: int, duration: float, max_requests: int
) -> dict[str, float]:
    """Closed-loop load; returns requests, errors, duration_s, p50_ms, p99_ms."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.hostname not in LOOPBACK:
        raise ValueError(f"refusing to load a non-loopback host: {parsed.hostname}")
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    budget = [max_requests]
    start = time.monotonic()
    deadline = start + duration
    threads = [
        threading.Thread(
            target=_worker,
            args=(parsed, body, content_type, deadline, budget, lock, latencies, errors),
            daemon=True,
        )
        for _ in range(concurrency)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 10)
    elapsed = time.monotonic() - start
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3 if latencies else 0

    return {
        "requests": len(latencies),
        "errors": errors[0],
        "duration_s": elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("body", type=Path)
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args(argv)
    result = run(
        args.url,
        args.body.read_bytes(),
        args.content_type,
        args.concurrency,
        args.duration,
        args.max_requests,
    )
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
