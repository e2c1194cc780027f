"""1 host vs 2 hosts (one core each) on the 1M x 28 set, and checkpoint cost per round.

`PYTHONPATH=local_test .venv/bin/python -m bench.distributed [--rows N] [--rounds R]`
(IMAGE from BOOSTBOX_IMAGE). Writes bench/results-distributed.json and prints a table.
Every figure is a ratio within this run: the machine is shared and noisy.
- one host: one core (`--cpuset-cpus 0`), both shards in its train channel;
- two hosts: algo-1/algo-2 on a user-defined network, a core each (`--cpuset-cpus 0` and `1`:
  an instance's own cores; a `--cpus 1` quota instead stalls a host whenever any of its
  threads overdraws the period, and the collective makes the other wait), one shard each
  (ShardedByS3Key); wall = the slower container;
- checkpoints: one host again with checkpointconfig.json and checkpoint_interval=1;
- XGBoost alone: the same training (matrix build + rounds) in bare processes on loopback, one
  pinned core each, 1 worker vs 2 (`xgboost.tracker.RabitTracker`): the ceiling of the speed-up
  XGBoost's collective gives on this data, with none of boostbox around it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.data import SEED, csv_lines, features
from bench.settings import BENCH_DIR

WORK = BENCH_DIR / ".work" / "distributed"


def _write(path: Path, rows: int, seed: int) -> None:
    if path.is_file():
        return
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".partial")
    with tmp.open("w", encoding="utf-8") as out:
        for start in range(0, rows, 100_000):
            x, y = features(rng, min(100_000, rows - start))
            out.write(csv_lines(x, y))
    tmp.rename(path)


def _data(rows: int) -> dict[str, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    files = {
        "shard0": WORK / f"shard0_{rows}.csv",
        "shard1": WORK / f"shard1_{rows}.csv",
        "validation": WORK / f"validation_{rows}.csv",
    }
    _write(files["shard0"], rows // 2, SEED + 10)
    _write(files["shard1"], rows - rows // 2, SEED + 11)
    _write(files["validation"], max(rows // 10, 1000), SEED + 12)
    return files


def _job(root: Path, host: str, hosts: list[str], hps: dict[str, str], ckpt: bool) -> Path:
    if root.exists():
        shutil.rmtree(root)
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hps))
    channel = {"ContentType": "text/csv", "TrainingInputMode": "File"}
    (config / "inputdataconfig.json").write_text(
        json.dumps(
            {
                "train": {**channel, "S3DistributionType": "ShardedByS3Key"},
                "validation": {**channel, "S3DistributionType": "FullyReplicated"},
            }
        )
    )
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
    if ckpt:
        (config / "checkpointconfig.json").write_text(
            json.dumps({"LocalPath": "/opt/ml/checkpoints"})
        )
    return root


def _mounts(files: dict[str, Path], shards: Sequence[str]) -> list[str]:
    args = []
    for shard in shards:
        args += ["-v", f"{files[shard]}:/opt/ml/input/data/train/{shard}.csv:ro"]
    return [*args, "-v", f"{files['validation']}:/opt/ml/input/data/validation/v.csv:ro"]


def _run(image: str, boxes: list[tuple[str, Path, list[str]]], network: str | None) -> float:
    """Start the containers together; wall seconds until the last one exits (rc checked)."""
    tag = re.sub(r"[^a-zA-Z0-9]+", "-", image)
    names = []
    started = time.monotonic()
    for core, (host, root, mounts) in enumerate(boxes):
        name = f"{tag}-bench-{host}-{uuid.uuid4().hex[:6]}"
        net = ["--network", network, "--network-alias", host] if network else ["--network", "none"]
        cmd = ["docker", "run", "-d", "--name", name, "--hostname", host, *net]
        cmd += ["--cpuset-cpus", str(core % (os.cpu_count() or 1))]
        subprocess.run(
            [*cmd, "-v", f"{root}:/opt/ml", *mounts, image, "train"],
            check=True,
            capture_output=True,
        )
        names.append(name)
    try:
        codes = [
            subprocess.run(["docker", "wait", n], capture_output=True, text=True, check=True)
            for n in names
        ]
        wall = time.monotonic() - started
        for name, code in zip(names, codes, strict=True):
            if code.stdout.strip() != "0":
                logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
                raise RuntimeError(f"{name} exited {code.stdout.strip()}: {logs.stderr[-2000:]}")
    finally:
        for name in names:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    return wall


def _summary(root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((root / "output" / "data" / "evaluation.json").read_text())
    return loaded


def _alone_worker(rank: int, rows: int, params: dict[str, Any], rounds: int, args: Any) -> float:
    """One bare XGBoost worker on core `rank`: seconds for matrix build + rounds."""
    import xgboost as xgb
    from xgboost import collective

    os.sched_setaffinity(0, {rank % (os.cpu_count() or 1)})
    rng = np.random.default_rng(SEED + 10 + rank)
    x, y = features(rng, rows)
    xv, yv = features(rng, max(rows // 10, 100))
    with collective.CommunicatorContext(**args, dmlc_task_id=str(rank)):
        started = time.perf_counter()
        train = xgb.QuantileDMatrix(x, y, nthread=1)
        validation = xgb.QuantileDMatrix(xv, yv, ref=train, nthread=1)
        evals = [(train, "train"), (validation, "validation")]
        xgb.train(params, train, rounds, evals=evals, verbose_eval=False)
        return time.perf_counter() - started


def xgboost_alone(rows: int, rounds: int, params: dict[str, Any]) -> dict[str, Any]:
    """Seconds of the slowest worker with 1 and with 2 workers, and their ratio."""
    from xgboost.tracker import RabitTracker

    seconds = {}
    context = multiprocessing.get_context("spawn")
    for workers in (1, 2):
        tracker = RabitTracker(host_ip="127.0.0.1", n_workers=workers, sortby="task")
        tracker.start()
        jobs = [(r, rows // workers, params, rounds, tracker.worker_args()) for r in range(workers)]
        with context.Pool(workers) as pool:
            seconds[workers] = max(pool.starmap(_alone_worker, jobs))
        tracker.wait_for()
        tracker.free()
    return {"one_s": seconds[1], "two_s": seconds[2], "speedup": seconds[1] / seconds[2]}


def measure(image: str, rows: int, rounds: int) -> dict[str, Any]:
    files = _data(rows)
    hps = {
        "objective": "binary:logistic",
        "num_round": str(rounds),
        "max_depth": "6",
        "eta": "0.3",
        "eval_metric": "logloss",
        "nthread": "1",
    }
    runs = WORK / "runs"
    one = _job(runs / "one", "algo-1", ["algo-1"], hps, ckpt=False)
    wall_one = _run(image, [("algo-1", one, _mounts(files, ["shard0", "shard1"]))], None)

    hosts = ["algo-1", "algo-2"]
    network = f"{re.sub(r'[^a-zA-Z0-9]+', '-', image)}-bench-net-{uuid.uuid4().hex[:6]}"
    subprocess.run(["docker", "network", "create", network], check=True, capture_output=True)
    try:
        pair = [
            (h, _job(runs / h, h, hosts, hps, ckpt=False), _mounts(files, [f"shard{i}"]))
            for i, h in enumerate(hosts)
        ]
        wall_two = _run(image, pair, network)
    finally:
        subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)

    ckpt_hps = {**hps, "checkpoint_interval": "1"}
    ckpt = _job(runs / "ckpt", "algo-1", ["algo-1"], ckpt_hps, ckpt=True)
    wall_ckpt = _run(image, [("algo-1", ckpt, _mounts(files, ["shard0", "shard1"]))], None)

    params = {k: v for k, v in hps.items() if k != "num_round"} | {"tree_method": "hist"}
    alone = xgboost_alone(rows, rounds, params)
    s_one, s_two, s_ckpt = _summary(one), _summary(runs / "algo-1"), _summary(ckpt)
    per_round_ms = (s_ckpt["seconds"]["train"] - s_one["seconds"]["train"]) / rounds * 1000
    return {
        "rows": rows,
        "rounds": rounds,
        "one_host": {"wall_s": wall_one, "train_s": s_one["seconds"]["train"], **s_one["metrics"]},
        "two_hosts": {"wall_s": wall_two, "train_s": s_two["seconds"]["train"], **s_two["metrics"]},
        "speedup_wall": wall_one / wall_two,
        "speedup_train": s_one["seconds"]["train"] / s_two["seconds"]["train"],
        "xgboost_alone": alone,
        "validation_logloss_one_vs_two": [
            s_one["metrics"]["validation"]["logloss"],
            s_two["metrics"]["validation"]["logloss"],
        ],
        "checkpoint_every_round": {
            "wall_s": wall_ckpt,
            "train_s": s_ckpt["seconds"]["train"],
            "overhead_ms_per_round": per_round_ms,
            "overhead_ratio": s_ckpt["seconds"]["train"] / s_one["seconds"]["train"],
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args(argv)
    image = os.environ.get("BOOSTBOX_IMAGE", "boostbox:latest")
    result = measure(image, args.rows, args.rounds)
    (BENCH_DIR / "results-distributed.json").write_text(json.dumps(result, indent=2) + "\n")
    out = json.dumps(result, indent=2)
    os.write(1, (out + "\n").encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
