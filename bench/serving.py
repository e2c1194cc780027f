"""Load each HTTP stack in turn with 1-row requests; time boostbox's batch requests."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import statistics
import time
import urllib.parse
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import servers
from bench.loadgen import LoadGenerator
from bench.settings import Settings
from bench.stacks import Stack

logger = logging.getLogger(__name__)

TOLERANCE = 1e-4
"""|server - xgboost| allowed for the 1-row check (float32 sums, 6-decimal CSV text)."""


def post(base_url: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes, float]:
    """One POST on a fresh connection: (status, body, seconds until the body was read)."""
    parsed = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=60)
    try:
        start = time.perf_counter()
        conn.connect()
        assert conn.sock is not None
        # http.client sends headers and a large body in two writes: without NODELAY, Nagle
        # plus the peer's delayed ACK adds tens of ms that no real client pays.
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - start
    finally:
        conn.close()


def first_value(stack: Stack, body: bytes) -> float:
    """The first prediction in a response (CSV line or V2 JSON outputs[0].data[0])."""
    if stack.content_type == "application/json":
        return float(json.loads(body)["outputs"][0]["data"][0])
    return float(body.decode().strip().splitlines()[0].split(",")[0])


def check(stack: Stack, running: servers.Running, expected: float) -> dict[str, Any]:
    """One request before the load: status 200 and, for model stacks, xgboost's prediction."""
    status, body, seconds = post(
        running.base_url, stack.path, stack.body.read_bytes(), stack.content_type
    )
    if status != 200:
        raise RuntimeError(f"{stack.key}: status {status} for a 1-row request: {body[:300]!r}")
    result: dict[str, Any] = {"status": status, "first_request_ms": seconds * 1e3}
    if stack.checks_prediction:
        value = first_value(stack, body)
        result |= {"value": value, "expected": expected, "abs_err": abs(value - expected)}
        if abs(value - expected) > TOLERANCE:
            logger.warning("%s predicts %r, xgboost %r", stack.key, value, expected)
    return result


def load_stack(
    stack: Stack,
    running: servers.Running,
    loadgen: LoadGenerator,
    settings: Settings,
    expected: float,
) -> dict[str, Any]:
    """Check, warm up (unmeasured), then one load point per concurrency."""
    url = running.base_url + stack.path
    out: dict[str, Any] = {
        "label": stack.label,
        "startup_s": running.startup_s,
        "proxied": running.proxied,
    }
    out["check"] = check(stack, running, expected)
    loadgen.run(url, stack.body, stack.content_type, 8, settings.warmup_s)
    points: dict[str, Any] = {}
    for conns in settings.concurrencies:
        result = loadgen.run(url, stack.body, stack.content_type, conns, settings.duration_s)
        points[str(conns)] = asdict(result) | {"rps": result.rps}
        logger.info(
            "%-10s c=%-3d %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d",
            stack.key,
            conns,
            result.rps,
            result.p50_ms,
            result.p99_ms,
            result.errors,
        )
    out["points"] = points
    if running.container:
        out["worker_rss_mb"] = servers.worker_rss_mb(running.container)
    return out


def batch_times(
    running: servers.Running, payloads: dict[str, Path], repeats: int, warmups: int
) -> dict[str, Any]:
    """Median server time (client-side, loopback) per CSV payload, rows checked.

    `warmups` unmeasured requests first, so every worker has served one (lazy imports).
    """
    out: dict[str, Any] = {}
    for name, path in payloads.items():
        body = path.read_bytes()
        rows = body.count(b"\n")
        samples = []
        for _ in range(repeats + warmups):
            status, data, seconds = post(running.base_url, "/invocations", body, "text/csv")
            if status != 200:
                raise RuntimeError(f"batch {name}: status {status}: {data[:300]!r}")
            samples.append(seconds)
        answered = len(data.decode().strip().splitlines())
        if answered != rows:
            logger.warning("batch %s: %d rows sent, %d predictions back", name, rows, answered)
        out[name] = {
            "bytes": len(body),
            "rows": rows,
            "server_ms": statistics.median(samples[warmups:]) * 1e3,
            "min_ms": min(samples[warmups:]) * 1e3,
        }
        logger.info("batch %-6s %7d rows: %8.1f ms", name, rows, out[name]["server_ms"])
    return out


def cold_starts(
    starter: Callable[[Settings], AbstractContextManager[servers.Running]],
    settings: Settings,
    repeats: int,
) -> list[float]:
    """`docker run ... serve` to the first 200 /ping, `repeats` times (fresh containers)."""
    times = []
    for _ in range(repeats):
        with starter(settings) as running:
            times.append(running.startup_s)
    return times
