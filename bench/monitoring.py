"""`python -m bench.monitoring [--smoke]`: what drift monitoring costs, as ratios of one run.

- training: on the 1M x 28 set (bench.data.features), in one process: `xgboost.train` with the
  bench's training parameters, then the baseline as `train` writes it (predictions on up to
  2**17 training rows + boostbox.monitoring.baseline.write_baseline). Target: baseline / training
  time <= a few percent.
- in-process: the serving app in this process (Flask test client, lean path, no HTTP) pinned
  to one core, with and without a Monitor, for a 1-row CSV and a 1,000-row CSV batch: blocks
  of requests in alternating order (on/off, off/on, ...), CPU time per request, so other
  processes on a shared machine count on neither side. Gives us/request of each side, what
  monitoring adds, the throughput ratio on / off (median of the pairs), an A/A control (two
  apps without monitoring: this machine's noise floor), and the recording calls alone
  (observe + request). Target: 1-row on / off >= 0.95.
- serving: two `docker run IMAGE serve` containers at once on the same CPUs (bench model with
  its baseline), BOOSTBOX_MONITORING true and false, loaded in turn with 1-row CSV by the main
  bench's load generator (wrk, pinned as in `python -m bench`): ROUNDS rounds at c=1 and c=8,
  on/off and off/on, half of them with the containers started in the other order (the first
  started one came out up to 15 % apart in A/A runs). Per concurrency: req/s over all rounds,
  median p99, ratios on / off; `--control` runs it with monitoring off in both (A/A).
  Target: throughput on / off >= 0.95.

About 3-4 minutes (training ~1 min on 2 cores, in-process ~15 s, HTTP ~2 min with the
defaults). Ends with one line on stdout: `monitoring overhead: ...` with the ratios.
Writes bench/monitoring-results.json. Run it as `make bench` runs `python -m bench`:
`PYTHONPATH=local_test BOOSTBOX_IMAGE=boostbox:TAG .venv/bin/python -m bench.monitoring`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from bench import data, servers
from bench.loadgen import LoadGenerator, wrk_path
from bench.monitoring_serving import inprocess_overhead, monitored_model, serving_overhead
from bench.settings import BENCH_DIR, Settings
from boostbox.config import cpu_count
from boostbox.monitoring.baseline import rows_to_score, write_baseline

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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.monitoring",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="seconds-long run")
    parser.add_argument("--no-train", action="store_true", help="skip the training section")
    parser.add_argument("--no-serve", action="store_true", help="skip both serving sections")
    parser.add_argument("--no-http", action="store_true", help="skip the docker serving runs")
    parser.add_argument(
        "--pairs", type=int, default=200, help="in-process A/B block pairs (1-row; default 200)"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="HTTP rounds per concurrency (default 4)"
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="HTTP seconds per load point (default 5)"
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="HTTP A/A run: both containers without monitoring (this machine's noise floor)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def summary_line(result: dict[str, Any]) -> str:
    """One line with the overhead figures of this run (what the README quotes)."""
    parts = []
    if "inprocess" in result:
        for name in ("1-row", "batch"):
            found = result["inprocess"][name]
            parts.append(
                f"in-process {name} on/off throughput {found['on_over_off_throughput']:.3f} "
                f"({found['added_us_per_request']:+g} us/request)"
                + (f", A/A control {found['control_off_over_off']:.3f}" if name == "1-row" else "")
            )
    for key, found in result.get("serving", {}).items():
        if key.startswith("c="):
            parts.append(
                ("HTTP A/A control " if result["serving"]["control"] else "HTTP ")
                + f"1-row {key} on/off throughput {found['on_over_off_rps']:.3f}, "
                f"p99 {found['on_over_off_p99']:.3f}"
            )
    return "monitoring overhead: " + ("; ".join(parts) or "nothing measured")


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
        batch = data.ensure_payloads(
            settings.payload_dir,
            batch_rows=settings.batch_rows,
            large_bytes=settings.batch_large_bytes,
        ).batch_csv
        result["inprocess"] = inprocess_overhead(model, batch, 10 if args.smoke else args.pairs)
    if not args.no_serve and not args.no_http:
        if not servers.image_exists(settings.image):
            raise SystemExit(f"image {settings.image} not found: run `make build`")
        wrk = wrk_path(install=settings.install_wrk and not args.smoke)
        loadgen = LoadGenerator(wrk, settings.work_dir / "wrk", settings.client_cpus)
        result["load_generator"] = loadgen.tool
        rounds, seconds = (2, 1.0) if args.smoke else (args.rounds, args.seconds)
        result["serving"] = serving_overhead(settings, loadgen, rounds, seconds, args.control)
    result["summary"] = summary_line(result)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s", args.output)
    sys.stdout.write(result["summary"] + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
