"""Fixtures for the local_test/ workflow suites: the scripts, the SDK interpreter, containers."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
LOCAL_TEST = ROOT / "local_test"
COMPOSE_DIR_LABEL = "com.docker.compose.project.working_dir"
SDK_HARD_TIMEOUT = 480
VALIDATION_ROWS = len(
    (LOCAL_TEST / "test_dir/input/data/validation/validation.csv").read_text().split()
)
PAYLOAD_ROWS = len((LOCAL_TEST / "payload.csv").read_text().split())


def load_local_test_module(name: str) -> ModuleType:
    """Import local_test/<name>.py (a folder of scripts, not a package) without sys.path edits."""
    spec = importlib.util.spec_from_file_location(f"local_test_{name}", LOCAL_TEST / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve string annotations through it
    spec.loader.exec_module(module)
    return module


def compose_containers_under(root: Path) -> list[str]:
    """Containers whose docker-compose project folder is inside `root` (SDK local mode's)."""
    found = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"label={COMPOSE_DIR_LABEL}", "--format",
         "{{.ID}} {{.Label \"" + COMPOSE_DIR_LABEL + "\"}}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    prefix = f"{root}{os.sep}"
    return [
        cid
        for cid, _, workdir in (line.partition(" ") for line in found.stdout.splitlines())
        if workdir.startswith(prefix)
    ]


def remove_containers(ids: list[str]) -> None:
    for cid in ids:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)


def run_sdk_script(python: Path, script: str, image: str, out: Path) -> str:
    """Run a local_test SDK script (v2 or v3) on free ports; its log. Asserts the run's own
    contract: exit 0, no container and no container_root left behind (removed either way)."""
    serving_port = free_port()
    transform_port = free_port()
    while transform_port == serving_port:
        transform_port = free_port()
    command = [str(python), str(LOCAL_TEST / script), "--image", image, "--out-dir", str(out)]
    command += ["--serving-port", str(serving_port), "--transform-port", str(transform_port)]
    command += ["--timeout", str(SDK_HARD_TIMEOUT - 30)]
    try:
        done = subprocess.run(
            command,
            env={**os.environ, "BOOSTBOX_IMAGE": image},
            capture_output=True,
            text=True,
            timeout=SDK_HARD_TIMEOUT,
            check=False,
        )
    finally:
        leftovers = compose_containers_under(out.parent)
        remove_containers(leftovers)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-6000:]
    assert leftovers == [], f"{script} left containers behind"
    assert not list(out.glob("sagemaker-local-*")), f"{script} left its container_root"
    return log


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    """The SDK virtualenv's interpreter; `make test` builds it (`make sdk-venv`)."""
    path = Path(os.environ.get("BOOSTBOX_SDK_PYTHON") or ROOT / ".venv-sdk" / "bin" / "python")
    if not path.exists():
        pytest.fail(f"{path} not found: run `make sdk-venv`")
    return path


@pytest.fixture(scope="session")
def sdk3_python() -> Path:
    """The SDK v3 virtualenv's interpreter; `make test` builds it (`make sdk3-venv`)."""
    path = Path(os.environ.get("BOOSTBOX_SDK3_PYTHON") or ROOT / ".venv-sdk3" / "bin" / "python")
    if not path.exists():
        pytest.fail(f"{path} not found: run `make sdk3-venv`")
    return path
