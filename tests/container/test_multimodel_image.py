"""`docker run IMAGE serve` as a multi-model endpoint: two workers, two models, one registry.

Run as the official test does (SAGEMAKER_MULTI_MODEL=true, models mounted under
/opt/ml/models); the worker that answered each request is read from the container log.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from boostbox import artifact
from tests.support import serving_container
from tests.unit.serving.conftest import save, train

pytestmark = pytest.mark.container

CSV = "0.5,-1,2,0.25\n-1.5,0.3,,1\n"
ROWS = np.asarray([[0.5, -1, 2, 0.25], [-1.5, 0.3, np.nan, 1]], np.float32)
MODELS = {"regressor": "reg:squarederror", "classifier": "binary:logistic"}
WORKERS = 2


def container_url(name: str) -> str:
    return f"/opt/ml/models/{name}/model"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    for name, objective in MODELS.items():
        save(train(objective), root / name / "model")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755)
    return root


@pytest.fixture(scope="module")
def endpoint(image: str, models_dir: Path) -> Iterator[tuple[str, str]]:
    env = {"SAGEMAKER_MULTI_MODEL": "true", "SAGEMAKER_MODEL_SERVER_WORKERS": str(WORKERS)}
    volume = ["-v", f"{models_dir}:/opt/ml/models:ro"]
    with serving_container(None, env=env, extra_args=volume) as started:
        yield started


def invoke(url: str, name: str) -> requests.Response:
    return requests.post(
        f"{url}/models/{name}/invoke",
        data=CSV,
        headers={
            "Content-Type": "text/csv",
            "Accept": "application/json",
            "X-Amzn-SageMaker-Target-Model": f"{name}.tar.gz",
        },
        timeout=30,
    )


def worker_pids(container: str, message: str) -> set[str]:
    """Workers that logged `message` so far ('... (pid N)' ends each worker's line)."""
    logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
    pattern = re.escape(message) + r".*\(pid (\d+)\)"
    return set(re.findall(pattern, logs.stdout + logs.stderr))


def loading_pids(container: str, name: str) -> set[str]:
    return worker_pids(container, f"Model {container_url(name)} loaded")


def test_the_image_declares_multi_model_support(image: str) -> None:
    labels = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(labels.stdout)["com.amazonaws.sagemaker.capabilities.multi-models"] == "true"


def test_load_invoke_list_unload_across_workers(
    endpoint: tuple[str, str], models_dir: Path
) -> None:
    url, container = endpoint
    assert requests.get(f"{url}/ping", timeout=5).status_code == 200
    assert requests.get(f"{url}/models", timeout=5).json() == {"models": []}
    missing = requests.post(
        f"{url}/models", json={"model_name": "x", "url": "/opt/ml/models/x/model"}, timeout=30
    )
    assert missing.status_code == 404

    for name in MODELS:
        body = {"model_name": name, "url": container_url(name)}
        loaded = requests.post(f"{url}/models", json=body, timeout=30)
        assert loaded.status_code == 200, loaded.text
        assert loaded.json() == {"status": "Workers scaled"}
        assert requests.post(f"{url}/models", json=body, timeout=30).status_code == 409

    expected = {
        name: artifact.load(models_dir / name / "model").booster.inplace_predict(ROWS)
        for name in MODELS
    }
    deadline = time.monotonic() + 60
    while any(len(loading_pids(container, name)) < WORKERS for name in MODELS):
        assert time.monotonic() < deadline, "requests never reached every worker"
        for _ in range(10):
            for name in MODELS:
                answer = invoke(url, name)
                assert answer.status_code == 200, answer.text
                got = [p["score"] for p in answer.json()["predictions"]]
                np.testing.assert_allclose(got, expected[name], rtol=1e-5)

    listed = requests.get(f"{url}/models", timeout=5).json()
    assert listed == {
        "models": [{"modelName": name, "modelUrl": container_url(name)} for name in sorted(MODELS)]
    }
    page = requests.get(f"{url}/models", params={"max_results": 1}, timeout=5).json()
    assert [m["modelName"] for m in page["models"]] == ["classifier"]
    rest = requests.get(
        f"{url}/models", params={"next_page_token": page["nextPageToken"]}, timeout=5
    ).json()
    assert [m["modelName"] for m in rest["models"]] == ["regressor"]
    described = requests.get(f"{url}/models/regressor", timeout=5).json()
    assert described == {"modelName": "regressor", "modelUrl": container_url("regressor")}

    unloaded = requests.delete(f"{url}/models/classifier", timeout=5)
    assert unloaded.status_code == 200
    assert unloaded.json() == {"status": 'Model "classifier" unregistered'}
    holders = loading_pids(container, "classifier")
    deadline = time.monotonic() + 60
    while worker_pids(container, "Model classifier released") != holders:
        assert time.monotonic() < deadline, "some worker never saw the unload"
        for _ in range(10):  # every worker answering now has released its copy
            gone = invoke(url, "classifier")
            assert gone.status_code == 404
            assert gone.json() == {"error": "Model not found: classifier"}
            assert invoke(url, "regressor").status_code == 200
    assert requests.get(f"{url}/models/classifier", timeout=5).status_code == 404
    assert requests.delete(f"{url}/models/classifier", timeout=5).status_code == 404
    remaining = requests.get(f"{url}/models", timeout=5).json()["models"]
    assert [m["modelName"] for m in remaining] == ["regressor"]
