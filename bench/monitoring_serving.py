"""The serving sections of `python -m bench.monitoring`: in-process A/B and HTTP A/B.

See bench/monitoring.py for what each measures and its target.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import shutil
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import data, inprocess, servers, stacks
from bench.loadgen import LoadGenerator, LoadResult
from bench.settings import Settings
from boostbox import artifact
from boostbox.config import ServingConfig, cpu_count
from boostbox.monitoring.baseline import load_reference, write_baseline
from boostbox.monitoring.service import Monitor
from boostbox.serving.app import create_app
from boostbox.serving.predictor import Predictor

logger = logging.getLogger("bench.monitoring")

CSV = "text/csv"


def _cpu_per_call(run: Callable[[], object], calls: int) -> float:
    """CPU seconds of this process per call: time other processes take is not counted."""
    started = time.process_time()
    for _ in range(calls):
        run()
    return (time.process_time() - started) / calls


def _recording_us(monitor: Monitor, rows: np.ndarray, predictions: np.ndarray) -> float:
    """CPU us per request of the recording alone (observe + request), fastest of 5 blocks."""
    calls = max(20, 20_000 // len(rows))

    def record() -> None:
        monitor.observe(rows, predictions)
        monitor.request(0.001, error=False)

    return min(_cpu_per_call(record, calls) for _ in range(5)) * 1e6


def _ab(posts: dict[str, Callable[[], object]], calls: int, pairs: int) -> dict[str, Any]:
    """`pairs` pairs of blocks of `calls` requests, on/off then off/on alternately: CPU us
    per request of each side (median block), what monitoring adds, and the throughput
    ratio on / off (median of the per-pair ratios)."""
    seconds: dict[str, list[float]] = {"on": [], "off": []}
    for pair in range(pairs):
        for side in ("on", "off") if pair % 2 == 0 else ("off", "on"):
            seconds[side].append(_cpu_per_call(posts[side], calls))
    ratios = [off / on for on, off in zip(seconds["on"], seconds["off"], strict=True)]
    median = {side: statistics.median(values) * 1e6 for side, values in seconds.items()}
    return {
        "cpu_us_per_request": {side: round(us, 1) for side, us in median.items()},
        "added_us_per_request": round(median["on"] - median["off"], 1),
        "on_over_off_throughput": round(statistics.median(ratios), 4),
    }


def inprocess_overhead(model: Path, batch: Path, pairs: int) -> dict[str, Any]:
    """The serving app in this process (Flask test client through the lean path, no HTTP),
    pinned to one core, with and without a Monitor: 1-row CSV and a batch CSV, interleaved
    A/B in CPU time; an A/A control (two apps without monitoring, 1-row: how far apart two
    identical apps come out); plus the recording calls alone."""
    predictor = Predictor(artifact.load(model))
    reference = load_reference(model)
    assert reference is not None
    row = np.random.default_rng(3).normal(size=(1, data.N_FEATURES)).astype(np.float32)
    bodies = {"1-row": ",".join(f"{v:.6f}" for v in row[0]).encode(), "batch": batch.read_bytes()}
    rows = np.loadtxt(batch, delimiter=",", dtype=np.float32, ndmin=2)
    apps = {
        "on": create_app(predictor, ServingConfig(), Monitor(reference)).test_client(),
        "off": create_app(predictor, ServingConfig()).test_client(),
    }
    twin = create_app(predictor, ServingConfig()).test_client()  # A/A control: both off
    out: dict[str, Any] = {"batch_rows": len(rows)}
    with inprocess.pinned("1" if cpu_count() > 1 else ""):
        for name, body in bodies.items():
            posts: dict[str, Callable[[], object]] = {
                side: functools.partial(client.post, "/invocations", data=body, content_type=CSV)
                for side, client in apps.items()
            }
            calls = 50 if name == "1-row" else 3
            out[name] = _ab(posts, calls, pairs if name == "1-row" else max(2, pairs // 5))
        twins: dict[str, Callable[[], object]] = {
            side: functools.partial(
                client.post, "/invocations", data=bodies["1-row"], content_type=CSV
            )
            for side, client in (("on", twin), ("off", apps["off"]))
        }
        control = _ab(twins, 50, max(2, pairs // 2))
        out["1-row"]["control_off_over_off"] = control["on_over_off_throughput"]
        for name, block in (("1-row", row), ("batch", rows)):
            monitor = Monitor(reference)
            out[name]["recording_cpu_us"] = round(
                _recording_us(monitor, block, predictor.predict(block)), 2
            )
    logger.info("in-process: %s", out)
    return out


def monitored_model(settings: Settings) -> Path:
    """The bench model plus a baseline from 100k rows of its training distribution."""
    target = settings.work_dir / "monitoring-model"
    booster = data.ensure_model(settings.model_dir, settings.work_dir / "mlserver-model")
    if not (target / "boostbox-baseline.json").is_file():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(settings.model_dir, target)
        x, _ = data.features(np.random.default_rng(data.SEED + 1), 100_000)
        write_baseline(x, booster.inplace_predict(x), None, target, settings.work_dir / "unused")
    artifact.load(target)  # the copy loads
    return target


def _started(
    settings: Settings, model: Path, monitoring: bool
) -> contextlib.AbstractContextManager[servers.Running]:
    """The bench model served by the image, with BOOSTBOX_MONITORING on or off."""
    env = stacks.serving_env(settings) | {"BOOSTBOX_MONITORING": str(monitoring).lower()}
    return servers.container(
        settings.image,
        ["serve"],
        ready_path="/ping",
        cpus=settings.server_cpus,
        mounts={model: "/opt/ml/model:ro"},
        env=env,
        timeout=settings.startup_timeout_s,
    )


def _monitoring_status(invocations_url: str) -> dict[str, Any]:
    """GET /monitoring: 200 and the requests it counted when on, 404 when off."""
    url = invocations_url.removesuffix("/invocations") + "/monitoring"
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            counted = json.loads(answer.read())["traffic"]["requests"]
            return {"status": answer.status, "requests": counted}
    except urllib.error.HTTPError as e:
        return {"status": e.code}


def _side_summary(results: list[LoadResult]) -> dict[str, float]:
    requests = sum(r.requests for r in results)
    return {
        "rps": round(requests / sum(r.duration_s for r in results), 1),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 3),
        "errors": sum(r.errors for r in results),
    }


def _round(
    loadgen: LoadGenerator,
    urls: dict[str, str],
    body: Path,
    runs: dict[int, dict[str, list[LoadResult]]],
    seconds: float,
    *,
    flip: bool,
) -> None:
    """One load point per concurrency and side, on first (off first when `flip`)."""
    for conns, sides in runs.items():
        for side in ("off", "on") if flip else ("on", "off"):
            result = loadgen.run(urls[side], body, CSV, conns, seconds)
            logger.info(
                "monitoring %-3s c=%-2d %7.0f req/s, p99 %.2f ms",
                *(side, conns, result.rps, result.p99_ms),
            )
            sides[side].append(result)


def serving_overhead(
    settings: Settings, loadgen: LoadGenerator, rounds: int, seconds: float, control: bool = False
) -> dict[str, Any]:
    """Two containers at once on the same CPUs, monitoring on and off, loaded in turn (one
    idles while the other is measured): `rounds` rounds of 1-row CSV at each concurrency,
    on/off and off/on, half of them with the containers started in the other order. Per
    concurrency: req/s of each side (all its rounds), median p99, and the ratios on / off.
    `control`: both containers without monitoring (an A/A run: how far apart two identical
    containers come out on this machine)."""
    model = monitored_model(settings)
    body = data.ensure_payloads(
        settings.payload_dir, batch_rows=settings.batch_rows, large_bytes=settings.batch_large_bytes
    ).one_row_csv
    runs: dict[int, dict[str, list[LoadResult]]] = {
        c: {"on": [], "off": []} for c in settings.concurrencies
    }
    checked: dict[str, Any] = {}
    # two halves, the containers started in opposite orders: the first-started one came
    # out slower or faster by up to 15 % in A/A runs here, whatever it served
    for half, starts in enumerate((("on", "off"), ("off", "on"))):
        with contextlib.ExitStack() as stack:
            urls = {
                side: stack.enter_context(
                    _started(settings, model, side == "on" and not control)
                ).base_url
                + "/invocations"
                for side in starts
            }
            for url in urls.values():
                loadgen.run(url, body, CSV, 8, settings.warmup_s)
            for round_ in range(half, rounds, 2):
                _round(loadgen, urls, body, runs, seconds, flip=round_ % 4 >= 2)
            checked = {side: _monitoring_status(url) for side, url in urls.items()}
    out: dict[str, Any] = {"rounds": rounds, "seconds": seconds, "control": control}
    out["monitoring_endpoint"] = checked
    for conns, sides in runs.items():
        summary = {side: _side_summary(results) for side, results in sides.items()}
        out[f"c={conns}"] = summary | {
            "on_over_off_rps": round(summary["on"]["rps"] / summary["off"]["rps"], 4),
            "on_over_off_p99": round(summary["on"]["p99_ms"] / summary["off"]["p99_ms"], 4),
        }
    logger.info("serving: %s", out)
    return out
