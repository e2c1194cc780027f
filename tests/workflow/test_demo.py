"""local_test/demo.py end to end with the seed's hyperparameters, and its cleanup on SIGTERM."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from devtools import containers_labelled

from tests.support import terminate_once_started
from tests.workflow.conftest import LOCAL_TEST

pytestmark = pytest.mark.container

DEMO = LOCAL_TEST / "demo.py"
LABEL_KEY = "org.boostbox.demo.out"


def demo_command(out: Path, *flags: str) -> list[str]:
    return [sys.executable, str(DEMO), "--out-dir", str(out), *flags]


def demo_env(image: str) -> dict[str, str]:
    return {**os.environ, "BOOSTBOX_IMAGE": image}


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_demo_end_to_end(image: str, tmp_path: Path, kind: str) -> None:
    out = tmp_path / kind
    flags = ("--classification",) if kind == "classification" else ()
    done = subprocess.run(
        demo_command(out, *flags),
        env=demo_env(image),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]

    metrics = json.loads((out / "metrics.json").read_text())
    labels = [float(x) for x in (out / "batch" / "test_labels.csv").read_text().split()]
    predictions = [float(x) for x in (out / "batch" / "test.csv.out").read_text().split()]
    assert len(predictions) == len(labels) == metrics["test_rows"]
    if kind == "regression":
        mean = sum(labels) / len(labels)
        std = math.sqrt(sum((y - mean) ** 2 for y in labels) / len(labels))
        assert 0 < metrics["mae"] <= metrics["rmse"] < std, (metrics, std)  # beats the mean
        assert "RMSE=" in log and "MAE=" in log
    else:
        assert metrics["accuracy"] > 0.9 and metrics["auc"] > 0.95, metrics
        assert "ACCURACY=" in log and "AUC=" in log

    endpoint = json.loads((out / "endpoint_predictions.json").read_text())
    as_csv = [float(x) for x in endpoint["text/csv"]]
    as_json = [p["score"] for p in endpoint["application/json"]["predictions"]]
    assert as_json == pytest.approx(as_csv, rel=1e-5)
    assert as_csv == pytest.approx(predictions[: len(as_csv)], rel=1e-5)  # endpoint == batch

    assert (out / "predicted_vs_actual.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "opt_ml" / "model" / "xgboost-model").is_file()
    for artifact in ("metrics.json", "predicted_vs_actual.png", "test.csv.out"):
        assert artifact in log  # the summary says where each artifact is

    # drift step: alarms on the shifted features only, offline report and plot
    violations = json.loads((out / "monitoring" / "constraint_violations.json").read_text())
    shifted = {"regression": ["f2", "f8"], "classification": ["f0", "f7"]}[kind]
    drifted = [v["feature_name"] for v in violations["violations"]]
    assert [f for f in drifted if f.startswith("f")] == shifted
    assert (out / "monitoring" / "drift.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Drift alarm: feature 'f" in log and "offline report" in log
    assert containers_labelled(f"{LABEL_KEY}={out}") == []


def test_demo_sigterm_removes_containers(image: str, tmp_path: Path) -> None:
    """SIGTERM while a container runs: the demo exits 143 and leaves no container behind."""
    out = tmp_path / "interrupted"
    demo = subprocess.Popen(
        demo_command(out),
        env=demo_env(image),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    label = f"{LABEL_KEY}={out}"
    log = terminate_once_started(demo, lambda: bool(containers_labelled(label)))
    assert demo.returncode == 128 + signal.SIGTERM, log[-4000:]
    assert containers_labelled(label) == []
