"""Drift monitoring in the image: `train` writes the baseline, `serve` (2 workers) reports
merged counts on GET /monitoring, alarms only on the shifted feature, and logs the alarm."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from demo_drift import monitoring

from tests.support import docker_run, serving_container
from tests.unit.training.builders import FAST_HPS, Channel, csv_text, write_job

pytestmark = pytest.mark.container

FEATURES = 4


def draw(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES))
    return x, 2 * x[:, 0] + x[:, 1]


def body(rows: np.ndarray) -> str:
    return "\n".join(",".join(f"{v:.6g}" for v in row) for row in rows)


@pytest.fixture(scope="module")
def model_dir(image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained by the image itself: the baseline is the image's own."""
    root = tmp_path_factory.mktemp("monitored") / "opt_ml"
    x, y = draw(3_000, seed=1)
    write_job(root, FAST_HPS, {"train": Channel("text/csv", {"t.csv": csv_text(x, y)})})
    done = docker_run(["train"], opt_ml=root)
    assert done.returncode == 0, done.stderr
    assert (root / "model" / "boostbox-baseline.json").is_file()
    assert (root / "output" / "data" / "baseline" / "statistics.json").is_file()
    return root / "model"


@pytest.fixture(scope="module")
def served(model_dir: Path) -> Iterator[tuple[str, str]]:
    with serving_container(model_dir, env={"MODEL_SERVER_WORKERS": "2"}) as started:
        yield started


def test_counts_merge_across_workers_and_only_the_shift_alarms(served: tuple[str, str]) -> None:
    url, name = served
    x, _ = draw(300, seed=2)
    for row in x[:200]:  # a new connection each: gunicorn hands them to either worker
        answer = requests.post(
            f"{url}/invocations", data=body(row[None]), headers={"Content-Type": "text/csv"}
        )
        assert answer.status_code == 200
    requests.post(f"{url}/invocations", data=body(x[200:]), headers={"Content-Type": "text/csv"})
    answers = [monitoring(url, 300) for _ in range(6)]  # whichever worker answers, the same totals
    for seen in answers:
        drift, traffic = seen["drift"], seen["traffic"]
        assert drift["rows"] == 300
        assert traffic["requests"] == 201
        assert drift["alarms"] == []
    shifted, _ = draw(600, seed=3)
    shifted[:, 2] += 1.5
    requests.post(
        f"{url}/invocations", data=body(shifted), headers={"Content-Type": "text/csv"}
    ).raise_for_status()
    drift = monitoring(url, 900)["drift"]
    assert drift["alarms"] == ["f2"]
    prometheus = requests.get(f"{url}/monitoring?format=prometheus", timeout=10).text
    assert 'boostbox_feature_drift_alarm{feature="f2"} 1' in prometheus
    assert "boostbox_rows_total 900" in prometheus
    deadline = time.monotonic() + 30
    while True:
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
        if "Drift alarm: feature 'f2'" in logs.stderr + logs.stdout:
            break
        assert time.monotonic() < deadline, logs.stderr[-2000:]
        time.sleep(0.5)
    assert "Drift alarm: feature 'f0'" not in logs.stderr + logs.stdout


def test_monitoring_can_be_switched_off(model_dir: Path) -> None:
    with serving_container(model_dir, env={"BOOSTBOX_MONITORING": "false"}) as (url, _):
        assert requests.get(f"{url}/monitoring", timeout=10).status_code == 404
        answer = requests.post(
            f"{url}/invocations", data="1,2,3,4", headers={"Content-Type": "text/csv"}
        )
        assert answer.status_code == 200


def test_offline_report_runs_in_the_image_without_matplotlib(model_dir: Path) -> None:
    root = model_dir.parent
    x, _ = draw(50, seed=4)
    hour = root / "capture" / "ep" / "AllTraffic" / "2026" / "11" / "30" / "12"
    hour.mkdir(parents=True, exist_ok=True)
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": body(x),
                "encoding": "CSV",
            }
        },
        "eventMetadata": {"eventId": "e1"},
        "eventVersion": "0",
    }
    (hour / "a.jsonl").write_text(json.dumps(record) + "\n")
    args = ["--baseline", "/opt/ml/model", "--capture", "/opt/ml/capture", "--out", "/opt/ml/r"]
    done = docker_run(["python", "-m", "boostbox.monitor", "report", *args], opt_ml=root)
    assert done.returncode == 0, done.stderr
    assert "matplotlib is not installed" in done.stderr
    report = json.loads((root / "r" / "monitoring_report.json").read_text())
    assert report["drift"]["rows"] == 50
    assert (root / "r" / "constraint_violations.json").is_file()
    assert not (root / "r" / "drift.png").exists()
