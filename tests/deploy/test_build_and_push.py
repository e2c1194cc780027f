"""build_and_push.sh: argument errors, then real pushes to a loopback registry with ECR in moto."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, Aws

SCRIPT = ROOT / "deploy" / "build_and_push.sh"


def run_script(
    *args: str, env: Mapping[str, str], cwd: Path, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOOSTBOX_"))}


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def test_missing_region_is_an_error_not_a_default(tmp_path: Path) -> None:
    done = run_script("--account", "123456789012", "--no-build", env=clean_env(), cwd=tmp_path)
    assert done.returncode == 2
    assert "missing region: pass --region or set AWS_REGION" in done.stderr
    assert done.stdout == ""


def test_missing_account_without_registry_is_an_error(tmp_path: Path) -> None:
    done = run_script("--region", "us-east-1", "--no-build", env=clean_env(), cwd=tmp_path)
    assert done.returncode == 2
    assert "missing account: pass --account or set AWS_ACCOUNT_ID" in done.stderr


def test_usage_and_unknown_arguments(tmp_path: Path) -> None:
    assert "Usage: deploy/build_and_push.sh" in run_script("--help", env={}, cwd=tmp_path).stdout
    done = run_script("--bogus", env=clean_env(), cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown argument: --bogus" in done.stderr


@pytest.fixture
def pushed_tags() -> Iterator[list[str]]:
    """Local tags the test created; untagged afterwards (the images they name stay)."""
    tags: list[str] = []
    yield tags
    for tag in tags:
        subprocess.run(["docker", "rmi", tag], capture_output=True, check=False)


def push_and_pull_back(
    aws: Aws, registry: str, image: str, tags: list[str], cwd: Path, *extra: str
) -> None:
    """Run the script against moto + the local registry; pull the version tag back."""
    name = "boostbox-deploy-test"
    version = f"t{uuid.uuid4().hex[:12]}"
    target = f"{registry}/{name}"
    tags += [f"{target}:{version}", f"{target}:latest"]
    env = {**clean_env(), **aws.environ, "PYTHON": sys.executable}
    args = ["--region", "us-east-1", "--registry", registry, "--name", name]
    done = run_script(*args, "--version", version, "--image", image, *extra, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{target}:{version}"
    assert "skipping docker login" in done.stderr
    repositories = aws.ecr().describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in repositories] == [name]

    local_id = docker("image", "inspect", "--format", "{{.Id}}", image)
    docker("rmi", f"{target}:{version}")  # untag, so the pull must fetch the manifest
    docker("pull", f"{target}:{version}")
    assert docker("image", "inspect", "--format", "{{.Id}}", f"{target}:{version}") == local_id


@pytest.mark.aws
def test_pushes_an_existing_image_and_pulls_it_back(
    aws: Aws, registry: str, image: str, pushed_tags: list[str], tmp_path: Path
) -> None:
    push_and_pull_back(aws, registry, image, pushed_tags, tmp_path, "--no-build")


@pytest.mark.aws
def test_builds_for_amd64_then_pushes(
    aws: Aws, registry: str, pushed_tags: list[str], tmp_path: Path
) -> None:
    context = tmp_path / "context"
    context.mkdir()
    marker = uuid.uuid4().hex
    (context / "Dockerfile").write_text(f"FROM debian:trixie-slim\nLABEL boostbox.test={marker}\n")
    image = f"boostbox-deploy-test-build:{marker[:12]}"
    pushed_tags.append(image)
    push_and_pull_back(aws, registry, image, pushed_tags, tmp_path, "--context", str(context))
    assert docker("image", "inspect", "--format", "{{.Architecture}}", image) == "amd64"
