"""external_memory=true trains, under a container memory cap, data that in-memory training
cannot: 12 CSV files, 367 MB; measured peak RSS 725 MB in memory vs 459 MB with external memory
(same model), so a 560 MB cap kills the first and not the second."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support import image_name
from tests.unit.training.builders import write_job

pytestmark = pytest.mark.container

CAP_MB = 560
FILES, ROWS_PER_FILE, FEATURES = 12, 400_000, 8


def _write_parts(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(31)
    total = 0
    for i in range(FILES):
        x = rng.normal(size=(ROWS_PER_FILE, FEATURES)).astype(np.float32)
        y = x[:, 0] * 2 + np.sin(x[:, 1]) + rng.normal(0, 0.3, ROWS_PER_FILE)
        frame = pd.DataFrame(np.column_stack([y, x]))
        path = folder / f"part-{i}.csv"
        frame.to_csv(path, header=False, index=False, float_format="%.5f")
        total += path.stat().st_size
    return total


def _train_capped(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--memory", f"{CAP_MB}m",
         "--memory-swap", f"{CAP_MB}m", "-v", f"{root}:/opt/ml", image_name(), "train"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def test_external_memory_trains_where_in_memory_is_killed(image: str, tmp_path: Path) -> None:
    hps = {"num_round": "5", "max_depth": "4", "nthread": "1"}
    root = write_job(tmp_path / "opt_ml", hps, {})
    config = root / "input" / "config"
    (config / "inputdataconfig.json").write_text(json.dumps({"train": {"ContentType": "text/csv"}}))
    _write_parts(root / "input" / "data" / "train")
    in_memory = _train_capped(root)
    assert in_memory.returncode == 137, "in-memory training must not fit under the cap"
    (config / "hyperparameters.json").write_text(json.dumps({**hps, "external_memory": "true"}))
    done = _train_capped(root)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((root / "output" / "data" / "evaluation.json").read_text())
    assert summary["peak_rss_mb"] < CAP_MB
    assert summary["rounds_trained"] == 5
