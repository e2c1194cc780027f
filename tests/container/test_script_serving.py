"""`docker run IMAGE serve` in script mode: the user's inference.py under /opt/ml/model/code."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from boostbox import artifact
from tests.support import docker_run, serving_container
from tests.unit.serving.conftest import save, train

pytestmark = pytest.mark.container

ROW = [0.5, -1.0, 2.0, 0.25]

INFERENCE = """
import json

import numpy as np


def input_fn(body, content_type):
    if content_type != "text/x-pipes":
        raise ValueError(f"unsupported {content_type}")
    return np.asarray([[float(v) for v in line.split("|")] for line in body.decode().split()])


def output_fn(prediction, accept):
    return json.dumps({"probabilities": prediction.tolist()}), "application/json"
"""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = save(train("binary:logistic"), tmp_path_factory.mktemp("scripted") / "model")
    code = root / "code"
    code.mkdir()
    (code / "inference.py").write_text(textwrap.dedent(INFERENCE), encoding="utf-8")
    for path in (root, code):
        path.chmod(0o755)
    return root


@pytest.fixture(scope="module")
def url(image: str, model_dir: Path) -> Iterator[str]:
    env = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_MODEL_SERVER_WORKERS": "1"}
    with serving_container(model_dir, env=env) as (base, _):
        yield base


def test_hooks_replace_input_and_output_around_the_builtin_predictor(
    url: str, model_dir: Path
) -> None:
    body = "|".join(str(v) for v in ROW)
    response = requests.post(
        f"{url}/invocations",
        data=f"{body}\n{body}",
        headers={"Content-Type": "text/x-pipes"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    expected = artifact.load(model_dir).booster.inplace_predict(np.asarray([ROW] * 2))
    np.testing.assert_allclose(response.json()["probabilities"], expected, rtol=1e-5)


def test_a_raising_hook_is_a_500_and_the_worker_serves_on(url: str) -> None:
    for _ in range(2):
        failed = requests.post(
            f"{url}/invocations", data="1,2,3,4", headers={"Content-Type": "text/csv"}, timeout=30
        )
        assert failed.status_code == 500
        assert failed.json() == {
            "error": "inference.py: input_fn raised ValueError: unsupported text/csv"
        }
    assert requests.get(f"{url}/ping", timeout=5).status_code == 200


def test_a_hook_conflict_stops_serve_with_exit_2(image: str, tmp_path: Path) -> None:
    code = tmp_path / "model" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text(
        "def transform_fn(model, body, content_type, accept):\n    return body\n\n"
        "def predict_fn(data, model):\n    return data\n",
        encoding="utf-8",
    )
    tmp_path.chmod(0o755)
    finished = docker_run(["serve"], opt_ml=tmp_path, env={"SAGEMAKER_PROGRAM": "inference.py"})
    assert finished.returncode == 2, finished.stderr
    assert "transform_fn and predict_fn" in finished.stderr
