"""Spot resume for real: SIGKILL a training container mid-run, start it again on the same
folders, and compare with an uninterrupted run (same trees, same best iteration)."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from tests.support import docker_run, image_name
from tests.unit.training.builders import Channel, csv_text, regression, write_job

pytestmark = pytest.mark.container

HPS = {
    "num_round": "400",
    "max_depth": "6",
    "eta": "0.03",
    "nthread": "1",
    "early_stopping_rounds": "15",
    "checkpoint_interval": "5",
}


def _job(root: Path, checkpoints: str) -> Path:
    x, y = regression(rows=200000, features=10, seed=21)
    y = y + np.random.default_rng(22).normal(0, 0.6, len(y))
    return write_job(
        root,
        HPS,
        {
            "train": Channel("text/csv", {"t.csv": csv_text(x[:160000], y[:160000])}),
            "validation": Channel("text/csv", {"v.csv": csv_text(x[160000:], y[160000:])}),
        },
        checkpoint_dir=checkpoints,
    )


def _model(root: Path) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(bytearray((root / "model" / "xgboost-model").read_bytes()))
    return booster


def _summary(root: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(
        (root / "output" / "data" / "evaluation.json").read_text()
    )
    return loaded


def test_sigkilled_job_resumes_to_the_uninterrupted_model(image: str, tmp_path: Path) -> None:
    whole = _job(tmp_path / "whole", "/opt/ml/checkpoints")
    done = docker_run(["train"], opt_ml=whole, timeout=600)
    assert done.returncode == 0, done.stderr

    spot = _job(tmp_path / "spot", "/opt/ml/checkpoints")
    name = f"{re.sub(r'[^a-zA-Z0-9]+', '-', image_name())}-spot-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "--network", "none",
         "-v", f"{spot}:/opt/ml", image_name(), "train"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        # Kill at the first checkpoint: on a quiet machine the whole job takes seconds, and a
        # fixed round's files are pruned (newest 3 kept) before a slower poll would see them.
        deadline = time.monotonic() + 300
        while not list((spot / "checkpoints").glob("boostbox-checkpoint-*.json")):
            assert time.monotonic() < deadline, "no checkpoint written"
            time.sleep(0.02)
        subprocess.run(["docker", "kill", name], check=False, capture_output=True)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    assert not (spot / "model" / "xgboost-model").exists(), "killed too late to prove anything"

    again = docker_run(["train"], opt_ml=spot, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "Resuming from a checkpoint with" in again.stderr
    assert _summary(spot)["best_iteration"] == _summary(whole)["best_iteration"]
    assert _summary(spot)["rounds_trained"] == _summary(whole)["rounds_trained"]
    assert _model(spot).get_dump() == _model(whole).get_dump()
