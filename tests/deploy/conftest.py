"""Fixtures for deploy/: a moto server on loopback, fake credentials, a local image registry."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from deploy.cli import main

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/boostbox-sagemaker"
IMAGE_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/boostbox:1.2.3"
REGISTRY = "127.0.0.1:5000"


@dataclass(frozen=True)
class Aws:
    """The moto endpoint and the environment that points boto3 (and the CLI) at it."""

    endpoint_url: str
    environ: Mapping[str, str]

    def sagemaker(self) -> SageMakerClient:
        return boto3.session.Session(region_name=REGION).client("sagemaker")

    def s3(self) -> S3Client:
        return boto3.session.Session(region_name=REGION).client("s3")

    def ecr(self) -> ECRClient:
        return boto3.session.Session(region_name=REGION).client("ecr")

    def autoscaling(self) -> ApplicationAutoScalingClient:
        return boto3.session.Session(region_name=REGION).client("application-autoscaling")


@dataclass(frozen=True)
class CliResult:
    """Exit code, parsed JSON stdout (or the raw string) and the deploy log of one CLI run."""

    code: int
    output: Any
    log: str


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """One moto server on a free loopback port for the whole session (all services)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _moto_api(url: str, path: str, payload: object | None = None) -> None:
    data = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(f"{url}/moto-api/{path}", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def queue_endpoint_results(aws: Aws, results: list[dict[str, str]]) -> None:
    """Tell moto what InvokeEndpoint answers next (its canned-results API)."""
    payload = {"account_id": "123456789012", "region": REGION, "results": results}
    _moto_api(aws.endpoint_url, "static/sagemaker/endpoint-results", payload)


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """A reset moto and a process environment with fake credentials and no real AWS config."""
    _moto_api(moto_url, "reset")
    for key in list(os.environ):
        if key.startswith(("AWS_", "BOOSTBOX_")):
            monkeypatch.delenv(key)
    environ = {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    return Aws(moto_url, environ)


@pytest.fixture
def bucket(aws: Aws) -> str:
    """An empty bucket in moto."""
    name = "boostbox-test-bucket"
    aws.s3().create_bucket(Bucket=name)
    return name


@pytest.fixture
def deploy_env(aws: Aws, bucket: str) -> dict[str, str]:
    """Environment for the lifecycle commands: moto plus role, bucket, image and version."""
    return {
        **aws.environ,
        "BOOSTBOX_ROLE_ARN": ROLE_ARN,
        "BOOSTBOX_BUCKET": bucket,
        "BOOSTBOX_IMAGE_URI": IMAGE_URI,
        "BOOSTBOX_VERSION": "1.2.3",
    }


RunCli = Callable[..., CliResult]


@pytest.fixture
def run_cli(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    deploy_env: dict[str, str],
) -> RunCli:
    """Run `python -m deploy ARGS` in-process with `deploy_env` (plus `extra` env).

    In-process, pytest's log capture owns the root logger, so main()'s basicConfig is a no-op
    and the log is read from caplog instead of stderr."""
    caplog.set_level(logging.INFO, logger="deploy")

    def run(*args: str, extra: Mapping[str, str] | None = None) -> CliResult:
        capsys.readouterr()
        caplog.clear()
        code = main(list(args), environ={**deploy_env, **(extra or {})})
        out = capsys.readouterr().out
        try:
            output: Any = json.loads(out)
        except json.JSONDecodeError:
            output = out.strip()
        log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("deploy"))
        return CliResult(code, output, log)

    return run


NO_REGISTRY = 3
"""local_test/registry.sh's status when neither a registry binary nor image can run."""


def _registry_up() -> bool:
    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _registry_script() -> Path:
    override = os.environ.get("BOOSTBOX_REGISTRY_SCRIPT")
    return Path(override) if override else ROOT / "local_test" / "registry.sh"


@pytest.fixture(scope="session")
def registry() -> Iterator[str]:
    """The local plain-HTTP registry on 127.0.0.1:5000; stopped afterwards only if we started it."""
    if _registry_up():
        yield REGISTRY
        return
    script = _registry_script()
    started = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    if started.returncode == NO_REGISTRY:
        pytest.skip(f"no local registry: {started.stderr.strip()}")
    if started.returncode != 0:
        pytest.fail(f"cannot start the local registry with {script}: {started.stderr.strip()}")
    try:
        yield REGISTRY
    finally:
        subprocess.run(["bash", str(script), "stop"], capture_output=True, timeout=60, check=False)
