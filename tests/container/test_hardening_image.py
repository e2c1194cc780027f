"""`serve` on a read-only root filesystem: only /tmp is writable (a tmpfs); /dev/shm, which
Docker always mounts as tmpfs, holds gunicorn's heartbeat files."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support import serving_container
from tests.unit.serving.conftest import save, train

pytestmark = pytest.mark.container

READ_ONLY = ["--read-only", "--tmpfs", "/tmp"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = save(train("binary:logistic"), tmp_path_factory.mktemp("ro") / "model")
    path.chmod(0o755)
    return path


def test_single_model_serves_read_only(image: str, model: Path) -> None:
    env = {"MODEL_SERVER_WORKERS": "2"}
    with serving_container(model, env=env, extra_args=READ_ONLY) as (url, _):
        answer = requests.post(
            f"{url}/invocations",
            data=b"1,2,3,4\n",
            headers={"Content-Type": "text/csv"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text


def test_multi_model_serves_read_only(image: str, model: Path) -> None:
    env = {"MODEL_SERVER_WORKERS": "2", "SAGEMAKER_MULTI_MODEL": "true"}
    args = [*READ_ONLY, "-v", f"{model}:/opt/ml/models/m/model:ro"]
    with serving_container(None, env=env, extra_args=args) as (url, _):
        load = requests.post(
            f"{url}/models", json={"model_name": "m", "url": "/opt/ml/models/m/model"}, timeout=60
        )
        assert load.status_code == 200, load.text
        answer = requests.post(
            f"{url}/models/m/invoke", data=b"1,2,3,4\n", headers={"Content-Type": "text/csv"},
            timeout=30,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
