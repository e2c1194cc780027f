"""`python -m bench.monitoring [--smoke]`: what drift monitoring costs, as ratios of one run.

- training: on the 1M x 28 set (bench.data.features), in one process: `xgboost.train` with the
  bench's training parameters, then the baseline as `train` writes it (predictions on up to
  2**17 training rows + boostbox.monitoring.baseline.write_baseline). Target: baseline / training
  time <= a few percent.
- in-process: the Flask app in this process, 1-row CSV through the whole pipeline, with and
  without a Monitor, CPU time per request (blocks in alternating order, so other processes
  on a shared machine count neither side): throughput ratio on / off. Target >= 0.95.
- serving: `docker run IMAGE serve` on the bench model with its baseline, 1-row CSV
  requests (wrk, pinned as in `python -m bench`), monitoring on vs BOOSTBOX_MONITORING=false,
  in A B B A order; the best run of each side is compared. Target: on / off >= 0.95.

Writes bench/monitoring-results.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from bench import data, inprocess, servers, stacks
from bench.loadgen import LoadGenerator, wrk_path
from bench.settings import BENCH_DIR, Settings
from boostbox import artifact
from boostbox.config import ServingConfig, cpu_count
from boostbox.monitoring.baseline import load_reference, rows_to_score, write_baseline
from boostbox.monitoring.service import Monitor
from boostbox.serving.app import create_app
from boostbox.serving.predictor import Predictor

logger = logging.getLogger("bench.monitoring")

RESULTS = BENCH_DIR / "monitoring-results.json"


def training_cost(rows: int, rounds: int, depth: int) -> dict[str, Any]:
    """Seconds to train vs seconds to write the baseline, same process, same matrix."""
    x, y = data.features(np.random.default_rng(data.SEED), rows)
    params = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "max_depth": depth,
        "eta": 0.3,
        "eval_metric": "logloss",
        "nthread": cpu_count(),
    }
    started = time.perf_counter()
    booster = xgb.train(params, xgb.QuantileDMatrix(x, y), num_boost_round=rounds)
    trained = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        predictions = booster.inplace_predict(rows_to_score(x))
        predicted = time.perf_counter()
        write_baseline(x, predictions, None, Path(tmp) / "model", Path(tmp) / "data")
        done = time.perf_counter()
    out = {
        "rows": rows,
        "features": int(x.shape[1]),
        "rounds": rounds,
        "train_s": round(trained - started, 3),
        "predict_s": round(predicted - trained, 3),
        "summarize_s": round(done - predicted, 3),
        "baseline_s": round(done - trained, 3),
    }
    out["baseline_over_train"] = round(out["baseline_s"] / out["train_s"], 4)
    logger.info("training: %s", out)
    return out


def _cpu_per_call(run: Callable[[], None], calls: int) -> float:
    """CPU seconds of this process per call: time other processes take is not counted."""
    started = time.process_time()
    for _ in range(calls):
        run()
    return (time.process_time() - started) / calls


def inprocess_overhead(model: Path, calls: int, pairs: int) -> dict[str, Any]:
    """The serving app in this process (Flask test client, no HTTP), 1-row CSV, with and
    without a Monitor: `pairs` pairs of blocks in alternating order, CPU time per request;
    the median of the per-pair ratios and the ratio of the fastest blocks. Also the
    recording calls alone."""
    predictor = Predictor(artifact.load(model))
    reference = load_reference(model)
    assert reference is not None
    row = np.random.default_rng(3).normal(size=(1, data.N_FEATURES)).astype(np.float32)
    body = ",".join(f"{v:.6f}" for v in row[0])
    monitor = Monitor(reference)
    apps = {
        "on": create_app(predictor, ServingConfig(), monitor).test_client(),
        "off": create_app(predictor, ServingConfig()).test_client(),
    }
    seconds: dict[str, list[float]] = {"on": [], "off": []}
    prediction = predictor.predict(row)

    def record() -> None:
        monitor.observe(row, prediction)
        monitor.request(0.001, error=False)

    with inprocess.pinned("1" if cpu_count() > 1 else ""):
        for pair in range(pairs):
            sides = ("on", "off") if pair % 2 == 0 else ("off", "on")
            for side in sides:
                client = apps[side]

                def post(client: Any = client) -> None:
                    client.post("/invocations", data=body, content_type="text/csv")

                seconds[side].append(_cpu_per_call(post, calls))
        recording = min(_cpu_per_call(record, calls * 10) for _ in range(5))
    ratios = [off / on for on, off in zip(seconds["on"], seconds["off"], strict=True)]
    fastest = {side: min(values) for side, values in seconds.items()}
    out = {
        "cpu_us_per_request_fastest": {k: round(v * 1e6, 1) for k, v in fastest.items()},
        "cpu_us_per_request_median": {
            k: round(statistics.median(v) * 1e6, 1) for k, v in seconds.items()
        },
        "on_over_off_throughput_median_pair": round(statistics.median(ratios), 4),
        "on_over_off_throughput_fastest": round(fastest["off"] / fastest["on"], 4),
        "recording_cpu_us": round(recording * 1e6, 2),
    }
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


def serving_overhead(settings: Settings, loadgen: LoadGenerator) -> dict[str, Any]:
    """1-row req/s with monitoring on and off, A B B A, best of each side per concurrency."""
    model = monitored_model(settings)
    payloads = data.ensure_payloads(
        settings.payload_dir, batch_rows=settings.batch_rows, large_bytes=settings.batch_large_bytes
    )
    runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    for side in ("on", "off", "off", "on"):
        env = stacks.serving_env(settings) | {"BOOSTBOX_MONITORING": str(side == "on").lower()}
        with servers.container(
            settings.image,
            ["serve"],
            ready_path="/ping",
            cpus=settings.server_cpus,
            mounts={model: "/opt/ml/model:ro"},
            env=env,
            timeout=settings.startup_timeout_s,
        ) as running:
            url = running.base_url + "/invocations"
            loadgen.run(url, payloads.one_row_csv, "text/csv", 8, settings.warmup_s)
            points = {}
            for conns in settings.concurrencies:
                result = loadgen.run(
                    url, payloads.one_row_csv, "text/csv", conns, settings.duration_s
                )
                points[str(conns)] = asdict(result) | {"rps": result.rps}
                logger.info("monitoring %-3s c=%-3d %8.0f req/s", side, conns, result.rps)
            runs[side].append(points)
    best = {
        side: {c: max(run[c]["rps"] for run in results) for c in results[0]}
        for side, results in runs.items()
    }
    ratio = {c: round(best["on"][c] / best["off"][c], 4) for c in best["on"]}
    logger.info("serving: best req/s %s; on/off %s", best, ratio)
    return {"runs": runs, "best_rps": best, "on_over_off": ratio}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.monitoring", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="seconds-long run")
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--no-serve", action="store_true", help="skip both serving sections")
    parser.add_argument("--no-http", action="store_true", help="skip the docker serving runs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr
    )
    args = parse_args(argv)
    # one row sent over and over is drift on every feature: the alarm lines are not news here
    logging.getLogger("boostbox.monitoring.service").setLevel(logging.ERROR)
    settings = Settings.smoke_run() if args.smoke else Settings.full()
    settings = replace(settings, concurrencies=(1, 8) if not args.smoke else (1,))
    result: dict[str, Any] = {"smoke": args.smoke, "image": settings.image}
    if not args.no_train:
        rows = 20_000 if args.smoke else settings.train_rows
        result["training"] = training_cost(rows, settings.train_rounds, settings.train_depth)
    if not args.no_serve:
        model = monitored_model(settings)
        result["inprocess"] = inprocess_overhead(model, 50, 10 if args.smoke else 100)
    if not args.no_serve and not args.no_http:
        if not servers.image_exists(settings.image):
            raise SystemExit(f"image {settings.image} not found: run `make build`")
        wrk = wrk_path(install=settings.install_wrk and not args.smoke)
        loadgen = LoadGenerator(wrk, settings.work_dir / "wrk", settings.client_cpus)
        result["load_generator"] = loadgen.tool
        result["serving"] = serving_overhead(settings, loadgen)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s", args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
