"""local_test/local_mode.py: the image through SageMaker Python SDK v2 local mode, offline."""

from __future__ import annotations

import json
import signal
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support import terminate_once_started
from tests.workflow.conftest import (
    LOCAL_TEST,
    PAYLOAD_ROWS,
    SDK_HARD_TIMEOUT,
    VALIDATION_ROWS,
    compose_containers_under,
    remove_containers,
    run_sdk_script,
)

pytestmark = pytest.mark.sdk


def test_sdk_local_mode(image: str, sdk_python: Path, tmp_path: Path) -> None:
    out = tmp_path / "sdk"
    log = run_sdk_script(sdk_python, "local_mode.py", image, out)

    summary = json.loads((out / "summary.json").read_text())
    assert summary["refused_connections"] == []
    for folder in ("model", "model-2-hosts", "script-model"):
        with tarfile.open(out / folder / "model.tar.gz") as model:
            assert "xgboost-model" in model.getnames()
    assert "2-host fit done" in log
    assert "Script mode: running train_script.py --max_depth 3 --n_estimators 20" in log

    transformed = (out / "transform" / "validation.csv.out").read_text().split()
    assert len(transformed) == VALIDATION_ROWS
    predictions = json.loads((out / "predictions.json").read_text())
    as_csv = [float(row[0]) for row in predictions["text/csv"]]
    as_json = [p["score"] for p in predictions["application/json"]["predictions"]]
    assert len(as_csv) == PAYLOAD_ROWS
    assert as_json == pytest.approx(as_csv, rel=1e-5)


def test_sdk_hard_timeout_cleans_up(image: str, sdk_python: Path, tmp_path: Path) -> None:
    """A run that outlives --timeout exits 124 and still removes its containers and temp root."""
    out = tmp_path / "sdk"
    command = [str(sdk_python), str(LOCAL_TEST / "local_mode.py"), "--image", image]
    command += ["--out-dir", str(out), "--timeout", "6"]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=SDK_HARD_TIMEOUT, check=False
        )
    finally:
        leftovers = compose_containers_under(tmp_path)
        remove_containers(leftovers)
    log = done.stdout + done.stderr
    assert done.returncode == 124, log[-4000:]
    assert "hard timeout" in log
    assert leftovers == []
    assert not list(out.glob("sagemaker-local-*"))


def test_sdk_sigterm_removes_containers(image: str, sdk_python: Path, tmp_path: Path) -> None:
    """SIGTERM while an SDK container runs: exit 143, no container and no temp root left."""
    out = tmp_path / "sdk"
    command = [str(sdk_python), str(LOCAL_TEST / "local_mode.py"), "--image", image]
    command += ["--out-dir", str(out), "--timeout", str(SDK_HARD_TIMEOUT - 20)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        log = terminate_once_started(run, lambda: bool(compose_containers_under(tmp_path)))
    finally:
        leftovers = compose_containers_under(tmp_path)
        remove_containers(leftovers)
    assert run.returncode == 128 + signal.SIGTERM, log[-4000:]
    assert leftovers == []
    assert not list(out.glob("sagemaker-local-*"))
