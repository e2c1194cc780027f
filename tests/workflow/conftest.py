"""Fixtures for the local_test/ workflow suites: the scripts, the SDK interpreter, containers."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCAL_TEST = ROOT / "local_test"
COMPOSE_DIR_LABEL = "com.docker.compose.project.working_dir"


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


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    """The SDK virtualenv's interpreter; `make test` builds it (`make sdk-venv`)."""
    path = Path(os.environ.get("BOOSTBOX_SDK_PYTHON") or ROOT / ".venv-sdk" / "bin" / "python")
    if not path.exists():
        pytest.fail(f"{path} not found: run `make sdk-venv`")
    return path
