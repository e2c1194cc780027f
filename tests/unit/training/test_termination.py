"""SIGTERM during `train` (StopTrainingJob, spot interruption, docker stop), real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import xgboost as xgb

from tests.unit.training.builders import Channel, csv_text, regression, write_job
from tests.unit.training.hostpair import poll

SLOW = {"num_round": "100000", "max_depth": "6", "nthread": "1", "checkpoint_interval": "5"}


def _start(root: Path, hps: dict[str, str], checkpoints: Path | None) -> subprocess.Popen[bytes]:
    x, y = regression(rows=5000, features=6, seed=2)
    write_job(
        root,
        hps,
        {"train": Channel("text/csv", {"t.csv": csv_text(x, y)})},
        checkpoint_dir=str(checkpoints) if checkpoints else None,
    )
    with (root / "stdout.txt").open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "boostbox", "train"],
            env={**os.environ, "SAGEMAKER_BASE_DIR": str(root)},
            stdout=out,
            stderr=subprocess.DEVNULL,
        )


def _terminate_after_round(process: subprocess.Popen[bytes], root: Path, line: str) -> int:
    stdout = root / "stdout.txt"
    poll(lambda: line in stdout.read_text(), 120, f"metric line {line!r}")
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def test_save_model_on_termination_leaves_a_loadable_model(tmp_path: Path) -> None:
    root = tmp_path / "opt_ml"
    process = _start(root, {**SLOW, "save_model_on_termination": "true"}, None)
    assert _terminate_after_round(process, root, "[3]\t") == 0
    booster = xgb.Booster()
    booster.load_model(bytearray((root / "model" / "xgboost-model").read_bytes()))
    rounds = booster.num_boosted_rounds()
    assert 4 <= rounds < 100000
    summary = json.loads((root / "output" / "data" / "evaluation.json").read_text())
    assert summary["stopped_by_sigterm"] is True and summary["rounds_trained"] == rounds
    assert (root / "output" / "success").exists()


def test_sigterm_without_it_writes_a_final_checkpoint_and_a_failure_line(tmp_path: Path) -> None:
    root = tmp_path / "opt_ml"
    checkpoints = tmp_path / "checkpoints"
    process = _start(root, SLOW, checkpoints)
    assert _terminate_after_round(process, root, "[3]\t") == 143
    failure = (root / "output" / "failure").read_text()
    assert "Training stopped by SIGTERM after" in failure
    stopped_at = int(failure.split("after ")[1].split(" ")[0])
    assert (checkpoints / f"boostbox-checkpoint-{stopped_at:06d}.ubj").exists()
    assert not (root / "model" / "xgboost-model").exists()
