"""external_memory=true trains a data set larger than the container's memory cap."""

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

CAP_MB = 320
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


def test_data_bigger_than_the_memory_cap_trains(image: str, tmp_path: Path) -> None:
    root = write_job(
        tmp_path / "opt_ml",
        {"num_round": "5", "max_depth": "4", "nthread": "1", "external_memory": "true"},
        {},
    )
    config = root / "input" / "config" / "inputdataconfig.json"
    config.write_text(json.dumps({"train": {"ContentType": "text/csv"}}))
    size = _write_parts(root / "input" / "data" / "train")
    assert size > CAP_MB * 1024 * 1024, "the data must not fit in the container's memory"
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--memory", f"{CAP_MB}m",
         "--memory-swap", f"{CAP_MB}m", "-v", f"{root}:/opt/ml", image_name(), "train"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((root / "output" / "data" / "evaluation.json").read_text())
    assert summary["peak_rss_mb"] < CAP_MB
    assert summary["rounds_trained"] == 5
