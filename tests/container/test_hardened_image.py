"""The hardened image: unprivileged workers under a root master, a read-only root filesystem.

SageMaker starts the container as root; gunicorn's master keeps root and its workers switch
to the image's `boostbox` account. `docker run --read-only`, alone (nothing writable besides
docker's own /dev/shm tmpfs: gunicorn's heartbeat files, the multi-model registry) or with a
tmpfs on /tmp, still serves one model and the multi-model API.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from tests.support import booted_worker_pids, init_pid, processes, serving_container
from tests.unit.serving.conftest import save, train

pytestmark = pytest.mark.container

CSV = "0.5,-1,2,0.25\n-1.5,0.3,,1\n"
WORKERS = 2
READ_ONLY = {
    "read-only": ["--read-only"],
    "read-only+tmpfs": ["--read-only", "--tmpfs", "/tmp"],
}
"""`docker run` arguments: the bare read-only root filesystem, and with a tmpfs on /tmp."""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = save(train("binary:logistic"), tmp_path_factory.mktemp("hardened") / "model")
    for path in [directory, *directory.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return directory


@pytest.fixture(scope="module")
def models_dir(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hardened-models")
    save(train("reg:squarederror"), root / "m" / "model")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def boostbox_uid(container: str) -> int:
    found = subprocess.run(
        ["docker", "exec", container, "id", "-u", "boostbox"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(found.stdout)


def assert_workers_unprivileged(container: str) -> None:
    workers = booted_worker_pids(container, WORKERS)  # then one snapshot that holds them all
    table = processes(container)
    assert len(workers) == WORKERS, table
    uid = boostbox_uid(container)
    assert uid != 0
    for pid in workers:
        assert table[pid].uid == [uid] * 4, (pid, table[pid])
        assert 0 not in table[pid].gid + table[pid].groups, (pid, table[pid])
    master = init_pid(container)
    assert table[master].uid == [0] * 4, table[master]  # binds the port, reaps workers


def predict(url: str) -> list[float]:
    response = requests.post(
        f"{url}/invocations",
        data=CSV,
        headers={"Content-Type": "text/csv", "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [float(p["score"]) for p in response.json()["predictions"]]


def test_workers_run_as_boostbox_under_a_root_master(image: str, model_dir: Path) -> None:
    env = {"SAGEMAKER_MODEL_SERVER_WORKERS": str(WORKERS)}
    with serving_container(model_dir, env=env) as (url, name):
        assert len(predict(url)) == 2
        assert_workers_unprivileged(name)


@pytest.mark.parametrize("read_only", list(READ_ONLY.values()), ids=list(READ_ONLY))
def test_read_only_root_filesystem_serves(
    image: str, model_dir: Path, read_only: list[str]
) -> None:
    env = {"SAGEMAKER_MODEL_SERVER_WORKERS": str(WORKERS)}
    with serving_container(model_dir, env=env, extra_args=read_only) as (url, name):
        first = predict(url)
        assert predict(url) == first
        assert_workers_unprivileged(name)


@pytest.mark.parametrize("read_only", list(READ_ONLY.values()), ids=list(READ_ONLY))
def test_read_only_multi_model_endpoint_loads_invokes_unloads(
    image: str, models_dir: Path, read_only: list[str]
) -> None:
    env = {"SAGEMAKER_MULTI_MODEL": "true", "SAGEMAKER_MODEL_SERVER_WORKERS": str(WORKERS)}
    args = [*read_only, "-v", f"{models_dir}:/opt/ml/models:ro"]
    with serving_container(None, env=env, extra_args=args) as (url, name):
        body = {"model_name": "m", "url": "/opt/ml/models/m/model"}
        loaded = requests.post(f"{url}/models", json=body, timeout=30)
        assert loaded.status_code == 200, loaded.text
        invoked = requests.post(
            f"{url}/models/m/invoke", data=CSV, headers={"Content-Type": "text/csv"}, timeout=30
        )
        assert invoked.status_code == 200, invoked.text
        assert len(invoked.text.split()) == 2
        assert requests.delete(f"{url}/models/m", timeout=30).status_code == 200
        assert_workers_unprivileged(name)


def test_a_model_only_root_can_read_keeps_workers_root(
    image: str, model_dir: Path, tmp_path: Path
) -> None:
    private = save(train("binary:logistic"), tmp_path / "private")
    private.chmod(0o755)
    for path in private.iterdir():
        path.chmod(0o600)  # owned by the host user, not boostbox: unreadable for the workers
    env = {"SAGEMAKER_MODEL_SERVER_WORKERS": str(WORKERS)}
    with serving_container(private, env=env) as (url, name):
        assert len(predict(url)) == 2
        workers = booted_worker_pids(name, WORKERS)
        table = processes(name)
        assert {table[pid].uid[1] for pid in workers} == {0}
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
        assert "not readable by user 'boostbox'" in logs.stderr
