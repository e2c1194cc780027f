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

from bench import inprocess, servers
from bench.loadgen import LoadGenerator
from bench.settings import Settings
from bench.stacks import Stack

logger = logging.getLogger(__name__)

TOLERANCE = 1e-4
"""|server - xgboost| allowed for the 1-row check (float32 sums, 6-decimal CSV text)."""


def connect(base_url: str) -> http.client.HTTPConnection:
    """A connection to `base_url`, opened, with TCP_NODELAY: http.client sends headers and a
    large body in two writes, and Nagle plus the peer's delayed ACK would add tens of ms that
    no real client pays."""
    parsed = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=60)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def exchange(
    conn: http.client.HTTPConnection, path: str, body: bytes, content_type: str
) -> tuple[int, bytes]:
    """One POST on `conn`: (status, response body)."""
    conn.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    return response.status, response.read()


def post(base_url: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes, float]:
    """One POST on a fresh connection: (status, body, seconds from connecting to the body read)."""
    start = time.perf_counter()
    conn = connect(base_url)
    try:
        status, data = exchange(conn, path, body, content_type)
        return status, data, time.perf_counter() - start
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


def _started(
    stack: Stack,
    running: servers.Running,
    loadgen: LoadGenerator,
    settings: Settings,
    expected: float,
) -> dict[str, Any]:
    """Check, then warm up (unmeasured): what every stack gets before its load points."""
    out: dict[str, Any] = {
        "label": stack.label,
        "startup_s": running.startup_s,
        "proxied": running.proxied,
        "check": check(stack, running, expected),
    }
    loadgen.run(running.base_url + stack.path, stack.body, stack.content_type, 8, settings.warmup_s)
    return out


def _log_point(key: str, conns: int, point: dict[str, Any]) -> None:
    logger.info(
        "%-10s c=%-3d %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d",
        key,
        conns,
        point["rps"],
        point["p50_ms"],
        point["p99_ms"],
        point["errors"],
    )


def load_in_turn(
    pair: list[tuple[Stack, servers.Running]],
    loadgen: LoadGenerator,
    settings: Settings,
    expected: float,
) -> dict[str, dict[str, Any]]:
    """Running stacks loaded in turn, A B B A at each concurrency (half the duration a
    round; one stack alone: A A): a drift of the shared machine's speed hits both alike.
    Each side's point is its best round by throughput (other load only ever slows a round
    down), with `p99_best_ms` its lower p99 of the two and `rounds` every round's figures."""
    out = {s.key: _started(s, running, loadgen, settings, expected) for s, running in pair}
    points: dict[str, dict[str, Any]] = {stack.key: {} for stack, _ in pair}
    order = [*pair, *reversed(pair)]
    for conns in settings.concurrencies:
        rounds: dict[str, list[dict[str, Any]]] = {stack.key: [] for stack, _ in pair}
        for stack, running in order:
            result = loadgen.run(
                running.base_url + stack.path,
                stack.body,
                stack.content_type,
                conns,
                settings.duration_s / 2,
            )
            rounds[stack.key].append(asdict(result) | {"rps": result.rps})
            _log_point(stack.key, conns, rounds[stack.key][-1])
        for key, taken in rounds.items():
            best = max(taken, key=lambda r: r["rps"])
            points[key][str(conns)] = best | {
                "p99_best_ms": min(r["p99_ms"] for r in taken),
                "rounds": taken,
            }
    for stack, running in pair:
        out[stack.key]["points"] = points[stack.key]
        if running.container:
            out[stack.key]["worker_rss_mb"] = servers.worker_rss_mb(running.container)
    return out


def batch_times(
    running: servers.Running,
    payloads: dict[str, Path],
    repeats: int,
    warmups: int,
    references: dict[str, Callable[[bytes], object]] | None = None,
    cpus: str = "",
) -> dict[str, Any]:
    """Median server time (client-side, loopback) per CSV payload, rows checked: on one
    kept-alive connection, as a client with a connection pool sends (`server_ms`), and on a
    new connection each (`new_connection_ms`: plus docker-proxy's accept and dial).

    `warmups` unmeasured requests first, so every worker has served one (lazy imports).
    With `references` (per payload, the in-process decode + predict), each request is paired
    with one reference call just before it, on the server's core (`cpus`): `reference_ms`
    is measured in the same seconds as `server_ms`, so a drift of the machine's speed moves
    both.
    """
    out: dict[str, Any] = {}
    for name, path in payloads.items():
        body = path.read_bytes()
        rows = body.count(b"\n")
        kept, fresh, paired = [], [], []
        reference = (references or {}).get(name)
        conn = connect(running.base_url)
        try:
            for i in range(repeats + warmups):
                if reference is not None and i >= warmups:
                    with inprocess.pinned(cpus):
                        start = time.perf_counter()
                        reference(body)
                        paired.append(time.perf_counter() - start)
                start = time.perf_counter()
                status, data = exchange(conn, "/invocations", body, "text/csv")
                kept.append(time.perf_counter() - start)
                if status != 200:
                    raise RuntimeError(f"batch {name}: status {status}: {data[:300]!r}")
                fresh.append(post(running.base_url, "/invocations", body, "text/csv")[2])
        finally:
            conn.close()
        answered = len(data.decode().strip().splitlines())
        if answered != rows:
            logger.warning("batch %s: %d rows sent, %d predictions back", name, rows, answered)
        out[name] = {
            "bytes": len(body),
            "rows": rows,
            "server_ms": statistics.median(kept[warmups:]) * 1e3,
            "min_ms": min(kept[warmups:]) * 1e3,
            "new_connection_ms": statistics.median(fresh[warmups:]) * 1e3,
        }
        if paired:
            out[name]["reference_ms"] = statistics.median(paired) * 1e3
        logger.info(
            "batch %-6s %7d rows: %8.1f ms (new connection each: %.1f ms)",
            name,
            rows,
            out[name]["server_ms"],
            out[name]["new_connection_ms"],
        )
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
