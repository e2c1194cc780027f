"""local_test/local_mode_v3.py: the image through SageMaker Python SDK v3 local mode, offline."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support import free_port
from tests.workflow.conftest import LOCAL_TEST, compose_containers_under, remove_containers

pytestmark = pytest.mark.sdk

HARD_TIMEOUT = 480
VALIDATION_ROWS = len(
    (LOCAL_TEST / "test_dir/input/data/validation/validation.csv").read_text().split()
)
PAYLOAD_ROWS = len((LOCAL_TEST / "payload.csv").read_text().split())


def test_sdk_v3_local_mode_both_training_routes_script_endpoint_and_transform(
    image: str, sdk3_python: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sdk3"
    serving_port = free_port()
    transform_port = free_port()
    while transform_port == serving_port:
        transform_port = free_port()
    command = [str(sdk3_python), str(LOCAL_TEST / "local_mode_v3.py"), "--image", image]
    command += ["--out-dir", str(out), "--serving-port", str(serving_port)]
    command += ["--transform-port", str(transform_port), "--timeout", str(HARD_TIMEOUT - 30)]
    try:
        done = subprocess.run(
            command,
            env={**os.environ, "BOOSTBOX_IMAGE": image},
            capture_output=True,
            text=True,
            timeout=HARD_TIMEOUT,
            check=False,
        )
    finally:
        leftovers = compose_containers_under(tmp_path)
        remove_containers(leftovers)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-6000:]
    assert leftovers == [], "local_mode_v3.py left containers behind"
    assert not list(out.glob("sagemaker-local-*")), "local_mode_v3.py left its container_root"

    summary = json.loads((out / "summary.json").read_text())
    assert summary["refused_connections"] == []
    for folder in ("model", "script-model"):
        with tarfile.open(out / folder / "model.tar.gz") as model:
            assert "xgboost-model" in model.getnames()
    with tarfile.open(out / "script-model" / "model.tar.gz") as model:
        assert "code/inference.py" in model.getnames()
    # The source_code route ran the SDK's own driver with the user's script in the image.
    assert "Running Basic Script driver" in log
    assert "train_script.py --n_estimators 20 --max_depth 3" in log
    assert "validation_0-rmse" in log

    transformed = (out / "transform" / "validation.csv.out").read_text().split()
    assert len(transformed) == VALIDATION_ROWS
    # The endpoint served the script-trained model through local_test/script/inference.py.
    predictions = json.loads((out / "predictions.json").read_text())
    assert predictions["hooks"] == "inference.py"
    assert len(predictions["predictions"]) == PAYLOAD_ROWS
