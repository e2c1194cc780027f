"""`python -m bench [--smoke]`: run the benchmarks, print the table, write bench/results.json."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Any

import xgboost as xgb

from bench import data, inprocess, report, servers, serving, stacks, training
from bench.loadgen import LoadGenerator, wrk_path
from bench.settings import Settings

logger = logging.getLogger("bench")

FAILURES = (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError, ValueError, KeyError)
"""What one stack or section may raise without stopping the others (recorded, exit 1)."""


def environment(settings: Settings, loadgen: LoadGenerator) -> dict[str, Any]:
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host_cpus": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
        "python": platform.python_version(),
        "xgboost": xgb.__version__,
        "load_generator": loadgen.tool,
        "pinning": {"server": settings.server_cpus, "client": settings.client_cpus},
    }


def measure_inprocess(settings: Settings, booster: xgb.Booster, p: data.Payloads) -> dict[str, Any]:
    """Compute limits on the server's CPU: 1-row predict, decode + predict of batch payloads."""
    out: dict[str, Any] = {}
    with inprocess.pinned(settings.server_cpus):
        one = inprocess.one_row_predict(booster, p.one_row, min(5.0, settings.duration_s))
        out["inprocess_one_row"] = asdict(one) | {"per_second": one.per_second}
        out["batch_inprocess"] = {
            name: asdict(r) | {"total_ms": r.total_ms}
            for name, path in (("rows", p.batch_csv), ("large", p.large_csv))
            for r in [inprocess.decode_predict(booster, path.read_bytes(), settings.batch_repeats)]
        }
    logger.info("in-process 1-row inplace_predict: p50 %.3f ms", one.p50_ms)
    return out


PAIRED = ("boostbox", "floor")
"""Loaded in turn while both run (serving.load_in_turn): the 1-row target is their ratio."""


def _groups(keys: tuple[str, ...]) -> list[list[str]]:
    """boostbox with the floor when both are asked for, every other stack alone."""
    paired = [k for k in PAIRED if k in keys]
    groups = [paired] if len(paired) == 2 else [[k] for k in paired]
    return groups + [[k] for k in keys if k not in PAIRED]


def _boostbox_extras(
    settings: Settings,
    p: data.Payloads,
    running: servers.Running,
    result: dict[str, Any],
    references: dict[str, Callable[[bytes], object]],
) -> dict[str, Any]:
    """Batch times (each request paired with the in-process reference), RSS, first start."""
    batches = {"rows": p.batch_csv, "large": p.large_csv}
    return {
        "cold_start_s": [running.startup_s],
        "worker_rss_mb": result.get("worker_rss_mb"),
        "batch_server": serving.batch_times(
            running,
            batches,
            settings.batch_repeats,
            warmups=2 * settings.workers,
            references=references,
            cpus=settings.server_cpus,
        ),
    }


def measure_stacks(
    settings: Settings,
    p: data.Payloads,
    loadgen: LoadGenerator,
    expected: float,
    references: dict[str, Callable[[bytes], object]],
) -> tuple[dict[str, Any], list[str]]:
    """boostbox and the floor together, every other stack alone; boostbox also gets its
    batch, RSS and cold-start measurements."""
    out: dict[str, Any] = {"stacks": {}}
    failed: list[str] = []
    known = stacks.stacks(p)
    for group in _groups(settings.stacks):
        logger.info("--- %s", " + ".join(known[k].label for k in group))
        try:
            with contextlib.ExitStack() as started:
                running = {k: started.enter_context(stacks.STARTERS[k](settings)) for k in group}
                pair = [(known[k], running[k]) for k in group]
                results = serving.load_in_turn(pair, loadgen, settings, expected)
                if "boostbox" in running:
                    box = running["boostbox"]
                    out |= _boostbox_extras(settings, p, box, results["boostbox"], references)
                if "floor" in running:
                    out["floor_start_s"] = running["floor"].startup_s
            out["stacks"] |= results
        except FAILURES as e:
            logger.error("%s failed: %s", " + ".join(group), e)
            for key in group:
                out["stacks"][key] = {"label": known[key].label, "error": str(e)[-2000:]}
            failed += group
    if "boostbox" in out["stacks"] and "error" not in out["stacks"]["boostbox"]:
        more = serving.cold_starts(stacks.boostbox, settings, settings.cold_start_repeats - 1)
        out["cold_start_s"] = out.get("cold_start_s", []) + more
    return out, failed


def run(settings: Settings) -> tuple[dict[str, Any], list[str]]:
    if not servers.image_exists(settings.image):
        raise SystemExit(f"image {settings.image} not found: run `make build`")
    wrk = None if settings.load_generator == "python" else wrk_path(install=settings.install_wrk)
    if wrk is None and settings.load_generator == "wrk":
        raise SystemExit("wrk not found (apt-get install -y wrk)")
    if wrk is None and not settings.smoke and settings.load_generator == "auto":
        logger.warning("wrk not found: the Python load generator caps throughput far lower")
    loadgen = LoadGenerator(wrk, settings.work_dir / "wrk", settings.client_cpus)
    raw: dict[str, Any] = {"environment": environment(settings, loadgen)}
    raw["image_size_mb"] = servers.image_size_mb(settings.image)
    failed: list[str] = []
    if settings.stacks:  # `--stacks none`: the training comparison only
        booster = data.ensure_model(settings.model_dir, settings.work_dir / "mlserver-model")
        payloads = data.ensure_payloads(
            settings.payload_dir,
            batch_rows=settings.batch_rows,
            large_bytes=settings.batch_large_bytes,
        )
        expected = float(booster.inplace_predict(payloads.one_row)[0])
        raw |= measure_inprocess(settings, booster, payloads)
        references = {
            name: inprocess.reference(booster, measured["decoder"])
            for name, measured in raw["batch_inprocess"].items()
        }
        measured, failed = measure_stacks(settings, payloads, loadgen, expected, references)
        raw |= measured
    if settings.train_rows > 0 and settings.train_formats:
        files = data.ensure_training_files(
            settings.train_dir, settings.train_rows, settings.train_formats
        )
        try:
            raw["training"] = training.run(settings, files)
        except FAILURES as e:
            logger.error("training failed: %s", e)
            raw["training"] = {"error": str(e)[-2000:]}
            failed.append("training")
        if any("boostbox_error" in v for v in raw["training"].values() if isinstance(v, dict)):
            failed.append("training")
    raw["environment"]["loadavg_after"] = os.getloadavg()
    return raw, failed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="seconds-long run, cheap stacks only")
    parser.add_argument("--duration", type=float, help="seconds per load point")
    parser.add_argument(
        "--stacks", help="comma list of stacks (boostbox,floor,byoc,mlserver,...), or none"
    )
    parser.add_argument("--no-train", action="store_true", help="skip the training comparison")
    parser.add_argument("--train-formats", help="comma list of training formats (csv,libsvm)")
    parser.add_argument("--train-rows", type=int, help="rows of the training files")
    parser.add_argument("--train-repeats", type=int, help="rounds of (reference, boostbox)")
    parser.add_argument("--no-pin", action="store_true", help="no taskset/--cpuset-cpus pinning")
    parser.add_argument("--load-generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--output", help="results JSON path (default bench/results.json)")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.smoke_run() if args.smoke else Settings.full()
    if args.duration:
        settings = replace(settings, duration_s=args.duration)
    if args.stacks:
        names = tuple(s.strip() for s in args.stacks.split(",") if s.strip() != "none")
        settings = replace(settings, stacks=names)
    if args.train_formats:
        formats = tuple(f.strip() for f in args.train_formats.split(","))
        settings = replace(settings, train_formats=formats)
    if args.train_rows is not None:
        settings = replace(settings, train_rows=args.train_rows)
    if args.train_repeats:
        settings = replace(settings, train_repeats=args.train_repeats)
    settings = replace(settings, load_generator=args.load_generator)
    if args.no_train:
        settings = replace(settings, train_rows=0)
    if args.no_pin:
        settings = replace(settings, server_cpus="", client_cpus="")
    if args.output:
        settings = replace(settings, results_path=type(settings.results_path)(args.output))
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr
    )
    settings = settings_from(parse_args(argv))
    unknown = set(settings.stacks) - set(stacks.STARTERS)
    if unknown:
        raise SystemExit(f"unknown stacks: {', '.join(sorted(unknown))}")
    unknown = set(settings.train_formats) - set(training.CONTENT_TYPES)
    if unknown:
        raise SystemExit(f"unknown training formats: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    raw, failed = run(settings)
    rows = report.all_rows(raw, settings.concurrencies)
    result = {
        "settings": {
            k: str(v) if not isinstance(v, int | float | bool) else v
            for k, v in asdict(settings).items()
        },
        "elapsed_s": time.monotonic() - started,
        "failed": failed,
        "rows": [r.to_json() for r in rows],
        "raw": raw,
    }
    settings.results_path.parent.mkdir(parents=True, exist_ok=True)
    settings.results_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(report.table(rows) + "\n")
    logger.info("wrote %s in %.0f s", settings.results_path, result["elapsed_s"])
    return report_failures(failed, raw)


def report_failures(failed: list[str], raw: dict[str, Any]) -> int:
    """After every section ran: one loud line per failed section (with its error), exit 1."""
    for key in failed:
        section = raw.get("stacks", {}).get(key) or raw.get(key) or {}
        reason = section.get("error", "see the log above") if isinstance(section, dict) else ""
        last = str(reason).strip().splitlines()[-1:] or ["see the log above"]
        logger.error("FAILED section %s: %s", key, last[0])
    if failed:
        logger.error("bench incomplete: %d section(s) failed: %s", len(failed), ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
