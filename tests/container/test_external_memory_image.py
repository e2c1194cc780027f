"""external_memory=true in the image: a CSV channel larger than the container's memory trains.

The same job in memory is killed at the same cap first, so the data really does not fit.
The train channel is 640 MiB of CSV in 4 files (each bigger than the cap's headroom, so a file
is never read whole), the cap 400 MB with no swap."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.unit.training.builders import Channel, csv_text, regression, write_job

pytestmark = pytest.mark.container

MEMORY_MB = 400
"""The container's cap (--memory, no swap): the Python stack alone takes ~230 MB of it."""
DATA_MB = 640
"""CSV in the train channel: 1.6x the cap. The in-memory path needs about 3x the data."""
FILES = 4

MEASURE = """
import pathlib, resource, subprocess, sys
done = subprocess.run(["/opt/venv/bin/python", "-m", "boostbox", "train"], check=False)
for name in ("memory.peak", "memory/memory.max_usage_in_bytes"):
    path = pathlib.Path("/sys/fs/cgroup") / name
    if path.exists():
        print(f"cgroup_peak_bytes={path.read_text().strip()}", file=sys.stderr)
        break
print(f"train_maxrss_kb={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(done.returncode)
"""
"""Runs `train` as a child, then prints the cgroup's peak usage and the child's peak RSS."""


def _write_csv_files(folder: Path) -> int:
    """FILES CSV files of DATA_MB in all: two 40k-row blocks, full precision, repeated."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    blocks = []
    for _ in range(2):
        x = rng.random((40_000, 10))
        y = 3 * x[:, 0] + x[:, 1] + rng.normal(0, 0.05, len(x))
        frame = pd.DataFrame(np.column_stack([y, x]))
        blocks.append(frame.to_csv(header=False, index=False, float_format="%.17g").encode())
    per_file = DATA_MB * 2**20 // FILES
    for number in range(FILES):
        with (folder / f"part-{number:04d}.csv").open("wb") as out:
            written, turn = 0, number
            while written < per_file:
                written += out.write(blocks[turn % 2])
                turn += 1
    return sum(p.stat().st_size for p in folder.iterdir())


HPS = {
    "num_round": "6",
    "max_depth": "2",
    "eta": "0.9",
    "early_stopping_rounds": "2",
    "nthread": "2",
    "external_memory": "true",
}


def _train_capped(
    image: str, opt_ml: Path, hps: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`train` under --memory MEMORY_MB (no swap) with `hps`, measured by MEASURE."""
    (opt_ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hps))
    name = f"boostbox-test-external-memory-{uuid.uuid4().hex[:8]}"
    return subprocess.run(
        [
            *("docker", "run", "--rm", "--name", name, "--network", "none"),
            *("--memory", f"{MEMORY_MB}m", "--memory-swap", f"{MEMORY_MB}m"),
            *("-v", f"{opt_ml}:/opt/ml", "--entrypoint", "/opt/venv/bin/python", image),
            *("-c", MEASURE),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )


def test_larger_than_memory_csv_trains_under_the_cap(image: str, tmp_path: Path) -> None:
    opt_ml = tmp_path / "opt_ml"
    vx, vy = regression(rows=2000, features=10, seed=1)
    write_job(
        opt_ml,
        HPS,
        {
            "train": Channel("text/csv", {}),
            "validation": Channel("text/csv", {"v.csv": csv_text(vx, 3 * vx[:, 0] + vx[:, 1])}),
        },
    )
    size = _write_csv_files(opt_ml / "input" / "data" / "train" / "parts")
    assert size >= 1.5 * MEMORY_MB * 2**20
    in_memory = _train_capped(image, opt_ml, {**HPS, "external_memory": "false"})
    assert in_memory.returncode != 0, "the data fits in memory: the test proves nothing"
    assert not (opt_ml / "model" / "xgboost-model").exists()
    done = _train_capped(image, opt_ml, HPS)
    assert done.returncode == 0, done.stderr[-3000:]  # 137 would be the OOM killer
    assert "read in batches (external memory)" in done.stderr
    cap = MEMORY_MB * 2**20
    rss = int(re.findall(r"train_maxrss_kb=(\d+)", done.stderr)[-1]) * 1024
    peaks = re.findall(r"cgroup_peak_bytes=(\d+)", done.stderr)
    assert rss < cap, f"peak RSS {rss / 2**20:.0f} MB"
    assert not peaks or int(peaks[-1]) <= cap
    print(
        f"data {size / 2**20:.0f} MB, cap {MEMORY_MB} MB, train peak RSS {rss / 2**20:.0f} MB, "
        f"cgroup peak {int(peaks[-1]) / 2**20 if peaks else float('nan'):.0f} MB"
    )
    summary = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    assert summary["rows"]["validation"] == 2000
    assert summary["rows"]["train"] > 2_000_000
    assert summary["metrics"]["validation"]["rmse"] < 0.5
    assert (opt_ml / "model" / "xgboost-model").stat().st_size > 0
    cache = opt_ml / "output" / "extmem-cache"
    assert not cache.exists() or not any(cache.rglob("*")), sorted(cache.rglob("*"))
