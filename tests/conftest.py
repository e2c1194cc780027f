"""Fixtures every suite may use; suite-specific fixtures live in each folder's conftest."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import image_name


@pytest.fixture(scope="session")
def image() -> str:
    """The built boostbox image; a missing image fails the test (run `make build`)."""
    name = image_name()
    found = subprocess.run(
        ["docker", "image", "inspect", name], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        pytest.fail(f"image {name} not found: run `make build` ({found.stderr.strip()})")
    return name
