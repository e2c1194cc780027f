"""`docker run IMAGE train` on a 1M x 28 file vs the in-process reference in the same image.

Both run in the boostbox image under bench/baselines/train/measure.py, so both pay the same
container start and are timed (wall, peak RSS of the process tree) the same way.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from bench.settings import BENCH_DIR, Settings

logger = logging.getLogger(__name__)

CONTENT_TYPES = {"csv": "text/csv", "libsvm": "text/libsvm"}


def hyperparameters(settings: Settings) -> dict[str, str]:
    """SageMaker-style strings; the reference gets the same values."""
    return {
        "objective": "binary:logistic",
        "num_round": str(settings.train_rounds),
        "max_depth": str(settings.train_depth),
        "eta": "0.3",
        "tree_method": "hist",
        "eval_metric": "logloss",
    }


def _opt_ml(run_dir: Path, fmt: str, hps: dict[str, str]) -> Path:
    """A fresh /opt/ml tree (config, empty model/output); the data file is mounted in."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    config = run_dir / "input" / "config"
    config.mkdir(parents=True)
    (run_dir / "input" / "data" / "train").mkdir(parents=True)
    (run_dir / "model").mkdir()
    (run_dir / "output").mkdir()
    (config / "hyperparameters.json").write_text(json.dumps(hps), encoding="utf-8")
    channels = {"train": {"ContentType": CONTENT_TYPES[fmt], "TrainingInputMode": "File"}}
    (config / "inputdataconfig.json").write_text(json.dumps(channels), encoding="utf-8")
    resources = {"current_host": "algo-1", "hosts": ["algo-1"]}
    (config / "resourceconfig.json").write_text(json.dumps(resources), encoding="utf-8")
    return run_dir


def _run_measured(
    settings: Settings, mounts: list[str], cmd: list[str], out_dir: Path, log_name: str
) -> dict[str, Any]:
    """docker run the image with measure.py wrapping `cmd`; return its JSON plus docker wall."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"boostbox-bench-train-{uuid.uuid4().hex[:8]}"
    docker = ["docker", "run", "--rm", "--name", name, "--network", "none"]
    docker += ["-v", f"{BENCH_DIR / 'baselines' / 'train'}:/bench:ro", "-v", f"{out_dir}:/out"]
    for mount in mounts:
        docker += ["-v", mount]
    docker += ["--entrypoint", "/opt/venv/bin/python", settings.image]
    docker += ["/bench/measure.py", "/out/measure.json", "--", *cmd]
    start = time.perf_counter()
    try:
        proc = subprocess.run(docker, capture_output=True, text=True, timeout=1200, check=False)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    wall = time.perf_counter() - start
    (out_dir / log_name).write_text(proc.stdout + proc.stderr, encoding="utf-8")
    measured_path = out_dir / "measure.json"
    if proc.returncode != 0 or not measured_path.is_file():
        tail = (proc.stdout + proc.stderr)[-2000:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
    measured: dict[str, Any] = json.loads(measured_path.read_text(encoding="utf-8"))
    measured["docker_wall_s"] = wall
    return measured


def run_boostbox(
    settings: Settings, data: Path, fmt: str, extra: dict[str, str] | None = None
) -> dict[str, Any]:
    tag = "_".join([fmt, *(extra or {})])
    hps = hyperparameters(settings) | (extra or {})
    run_dir = _opt_ml(settings.work_dir / f"opt_ml_{tag}", fmt, hps)
    mounts = [
        f"{run_dir}:/opt/ml",
        f"{data.resolve()}:/opt/ml/input/data/train/{data.name}:ro",
    ]
    out = settings.work_dir / f"train_out_{tag}"
    result = _run_measured(
        settings, mounts, ["/opt/venv/bin/python", "-m", "boostbox", "train"], out, "train.log"
    )
    result["model_written"] = (run_dir / "model" / "xgboost-model").is_file()
    if not result["model_written"]:
        raise RuntimeError(f"boostbox train ({fmt}) wrote no model/xgboost-model")
    return result


def run_reference(settings: Settings, data: Path, fmt: str) -> dict[str, Any]:
    params = dict(hyperparameters(settings))
    out = settings.work_dir / f"train_ref_{fmt}"
    cmd = ["/opt/venv/bin/python", "/bench/train_ref.py", f"/data/{data.name}", fmt]
    cmd += [json.dumps(params), "/out/ref.json"]
    result = _run_measured(
        settings, [f"{data.resolve()}:/data/{data.name}:ro"], cmd, out, "ref.log"
    )
    result |= json.loads((out / "ref.json").read_text(encoding="utf-8"))
    return result


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run (least disturbed by other load), with every run's wall time beside it."""
    best = dict(min(runs, key=lambda r: r["docker_wall_s"]))
    best["all_walls_s"] = [r["docker_wall_s"] for r in runs]
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def run_external_memory(settings: Settings, data: Path) -> dict[str, Any]:
    """boostbox `train` on one CSV file in memory and with external_memory=true, alternating
    (ABBA...) and keeping each side's fastest run; `slowdown` is external / in-memory wall."""
    runs: dict[str, list[dict[str, Any]]] = {"in_memory": [], "external_memory": []}
    for i in range(settings.train_repeats):
        for side in sorted(runs, reverse=i % 2 == 0):
            extra = {"external_memory": "true"} if side == "external_memory" else None
            runs[side].append(run_boostbox(settings, data, "csv", extra))
    best = {side: _best(found) for side, found in runs.items()}
    slowdown = best["external_memory"]["docker_wall_s"] / best["in_memory"]["docker_wall_s"]
    memory = best["external_memory"]["peak_rss_mb"] / best["in_memory"]["peak_rss_mb"]
    logger.info("train csv external memory: %.2fx the wall, %.2fx the peak RSS", slowdown, memory)
    return best | {"slowdown": slowdown, "peak_rss_ratio": memory, "bytes": data.stat().st_size}


def run(settings: Settings, files: dict[str, Path]) -> dict[str, Any]:
    """Per format, `train_repeats` rounds of reference and boostbox in alternating order
    (ABBA...), keeping each side's fastest run: the machine is shared and noisy."""
    out: dict[str, Any] = {"hyperparameters": hyperparameters(settings)}
    for fmt, path in files.items():
        refs: list[dict[str, Any]] = []
        boxes: list[dict[str, Any]] = []
        error = ""
        for i in range(settings.train_repeats):
            order = ("ref", "box") if i % 2 == 0 else ("box", "ref")
            for side in order:
                if side == "ref":
                    refs.append(run_reference(settings, path, fmt))
                    continue
                if error:
                    continue
                try:
                    boxes.append(run_boostbox(settings, path, fmt))
                except RuntimeError as e:
                    logger.error("boostbox train %s failed: %s", fmt, e)
                    error = str(e)[-1500:]
        ref = _best(refs)
        logger.info(
            "train ref %-6s best %5.1f s of %s, peak %4.0f MB",
            fmt,
            ref["docker_wall_s"],
            [round(w, 1) for w in ref["all_walls_s"]],
            ref["peak_rss_mb"],
        )
        if error:
            out[fmt] = {"reference": ref, "boostbox_error": error}
            continue
        box = _best(boxes)
        logger.info(
            "train box %-6s best %5.1f s of %s, peak %4.0f MB",
            fmt,
            box["docker_wall_s"],
            [round(w, 1) for w in box["all_walls_s"]],
            box["peak_rss_mb"],
        )
        out[fmt] = {"reference": ref, "boostbox": box, "bytes": path.stat().st_size}
    if "csv" in files:
        out["external_memory"] = run_external_memory(settings, files["csv"])
    return out
