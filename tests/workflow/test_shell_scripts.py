"""local_test/train_local.sh, serve_local.sh and predict.sh against the image, from any folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from devtools import containers_labelled

from tests.support import free_port, wait_for_http
from tests.workflow.conftest import LOCAL_TEST

PAYLOAD_ROWS = 5
DIABETES_RANGE = (25.0, 346.0)
"""Min and max of the diabetes target: a sane regression prediction lies near this range."""


@pytest.fixture
def test_dir(tmp_path: Path) -> Path:
    """A private copy of local_test/test_dir without model/ or output/."""
    target = tmp_path / "test_dir"
    shutil.copytree(
        LOCAL_TEST / "test_dir", target, ignore=shutil.ignore_patterns("model", "output")
    )
    return target


def script_env(test_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "BOOSTBOX_TEST_DIR": str(test_dir), **extra}


def train(image: str, test_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOCAL_TEST / "train_local.sh"), image],
        env=script_env(test_dir),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.container
def test_train_serve_predict(image: str, test_dir: Path, tmp_path: Path) -> None:
    trained = train(image, test_dir, cwd=tmp_path)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert (test_dir / "model" / "xgboost-model").is_file()

    port = str(free_port())
    serve = subprocess.Popen(
        [str(LOCAL_TEST / "serve_local.sh"), image],
        env=script_env(test_dir, BOOSTBOX_PORT=port),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/ping", timeout=90)
        as_csv = subprocess.run(
            [str(LOCAL_TEST / "predict.sh")],
            env=script_env(test_dir, BOOSTBOX_PORT=port),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        as_json = subprocess.run(
            [
                str(LOCAL_TEST / "predict.sh"),
                "payload.json",  # relative: predict.sh runs from local_test/ here
                "application/json",
                "application/json",
            ],
            env=script_env(test_dir, BOOSTBOX_PORT=port),
            cwd=LOCAL_TEST,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        serve.send_signal(signal.SIGTERM)
        log, _ = serve.communicate(timeout=60)

    assert as_csv.returncode == 0, as_csv.stderr
    predictions = [float(line) for line in as_csv.stdout.split()]
    assert len(predictions) == PAYLOAD_ROWS
    low, high = DIABETES_RANGE
    assert all(low / 2 < p < high * 1.5 for p in predictions), predictions
    assert as_json.returncode == 0, as_json.stderr
    scores = [item["score"] for item in json.loads(as_json.stdout)["predictions"]]
    assert scores == pytest.approx(predictions, rel=1e-5)
    assert serve.returncode == 128 + signal.SIGTERM, log
    assert containers_labelled(f"org.boostbox.local-test={test_dir}") == []


@pytest.mark.container
def test_train_failure_is_reported(image: str, test_dir: Path, tmp_path: Path) -> None:
    hps = test_dir / "input" / "config" / "hyperparameters.json"
    hps.write_text(json.dumps({**json.loads(hps.read_text()), "num_round": "zero"}))
    trained = train(image, test_dir, cwd=tmp_path)
    assert trained.returncode != 0
    assert "num_round" in trained.stderr
    assert (test_dir / "output" / "failure").exists()
    assert containers_labelled(f"org.boostbox.local-test={test_dir}") == []


def test_predict_reports_http_errors(tmp_path: Path) -> None:
    """predict.sh fails loudly when nothing answers (a closed port), without docker."""
    missing = subprocess.run(
        [str(LOCAL_TEST / "predict.sh"), str(tmp_path / "absent.csv")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert missing.returncode == 2
    assert "no such payload file" in missing.stderr
    refused = subprocess.run(
        [str(LOCAL_TEST / "predict.sh")],
        env={**os.environ, "BOOSTBOX_PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode != 0
