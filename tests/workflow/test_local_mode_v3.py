"""local_test/local_mode_v3.py: the image through SageMaker Python SDK v3 local mode, offline."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from tests.workflow.conftest import PAYLOAD_ROWS, VALIDATION_ROWS, run_sdk_script

pytestmark = pytest.mark.sdk


def test_sdk_v3_local_mode_both_training_routes_script_endpoint_and_transform(
    image: str, sdk3_python: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sdk3"
    log = run_sdk_script(sdk3_python, "local_mode_v3.py", image, out)

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
