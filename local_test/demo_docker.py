"""Containers the demo starts: `docker run IMAGE train|serve`, each labelled so it can be found,
waited for and removed even after an interrupt. Also the batch-transform client.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
from devtools import containers_labelled, wait_for_http

logger = logging.getLogger(__name__)

LABEL_KEY = "org.boostbox.demo.out"
"""Every demo container carries this label with the demo's output folder as its value."""

MB = 1024 * 1024


@dataclass
class Docker:
    """Starts containers of one image under one label; `cleanup()` removes them all."""

    image: str
    label_value: str
    started: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{LABEL_KEY}={self.label_value}"

    def _name(self, role: str) -> str:
        return f"boostbox-demo-{role}-{uuid.uuid4().hex[:8]}"

    def train(self, opt_ml: Path, *, timeout: float) -> str:
        """`docker run IMAGE train` on `opt_ml` with no network; returns the container's log."""
        name = self._name("train")
        self.started.append(name)
        cmd = ["docker", "run", "--rm", "--name", name, "--label", self.label]
        cmd += ["--network", "none", "-v", f"{opt_ml}:/opt/ml", self.image, "train"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"training did not finish within {timeout:.0f} s") from e
        log = done.stdout + done.stderr
        if done.returncode != 0:
            failure = opt_ml / "output" / "failure"
            reason = (
                failure.read_text(encoding="utf-8") if failure.exists() else "(no failure file)"
            )
            raise RuntimeError(
                f"training exited {done.returncode}: {reason}\n--- log tail ---\n{log[-3000:]}"
            )
        return log

    def serve(
        self,
        model_dir: Path,
        *,
        port: int,
        env: Mapping[str, str],
        role: str,
        startup_timeout: float,
    ) -> tuple[str, str]:
        """`docker run -d IMAGE serve` on 127.0.0.1:`port`; (base URL, name) once /ping is 200."""
        name = self._name(role)
        self.started.append(name)
        cmd = ["docker", "run", "-d", "--name", name, "--label", self.label]
        cmd += ["-p", f"127.0.0.1:{port}:8080", "-v", f"{model_dir}:/opt/ml/model:ro"]
        for key, value in env.items():
            cmd += ["-e", f"{key}={value}"]
        cmd += [self.image, "serve"]
        subprocess.run(cmd, capture_output=True, text=True, check=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{base}/ping", timeout=startup_timeout, interval=0.2)
        except TimeoutError as e:
            raise TimeoutError(f"{e}\n--- {name} log ---\n{self.logs(name)}") from e
        logger.info("%s answers /ping at %s", name, base)
        return base, name

    def logs(self, name: str) -> str:
        out = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False)
        return out.stdout + out.stderr

    def remove(self, name: str) -> None:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        if name in self.started:
            self.started.remove(name)

    def cleanup(self, *, settle: float = 0.0) -> None:
        """Remove every container this demo started, by name and then by label.

        After an interrupt, a `docker run` killed mid-way may still have its create request
        in the daemon: `settle` seconds later the label is swept once more.
        """
        for name in list(self.started):
            self.remove(name)
        self._sweep()
        if settle:
            time.sleep(settle)
            self._sweep()

    def _sweep(self) -> None:
        for container_id in containers_labelled(self.label):
            subprocess.run(["docker", "rm", "-f", container_id], capture_output=True, check=False)


@dataclass(frozen=True)
class ExecutionParameters:
    """What SageMaker's batch transform asks the container with GET /execution-parameters."""

    max_payload_bytes: int = 6 * MB
    batch_strategy: str = "MULTI_RECORD"


def execution_parameters(base: str) -> ExecutionParameters:
    """The container's answer, or SageMaker's defaults when it has none (404)."""
    answer = requests.get(f"{base}/execution-parameters", timeout=10)
    if answer.status_code == 404:
        return ExecutionParameters()
    answer.raise_for_status()
    body = answer.json()
    return ExecutionParameters(
        max_payload_bytes=int(body.get("MaxPayloadInMB", 6)) * MB,
        batch_strategy=str(body.get("BatchStrategy", "MULTI_RECORD")).upper(),
    )


def chunks(lines: Iterable[bytes], params: ExecutionParameters) -> Iterator[bytes]:
    """SplitType=Line: one record per request (SINGLE_RECORD) or as many as fit (MULTI_RECORD)."""
    batch: list[bytes] = []
    size = 0
    for line in lines:
        record = line if line.endswith(b"\n") else line + b"\n"
        if len(record) > params.max_payload_bytes:
            raise ValueError(f"one record is {len(record)} bytes, over MaxPayloadInMB")
        single = params.batch_strategy == "SINGLE_RECORD"
        if batch and (single or size + len(record) > params.max_payload_bytes):
            yield b"".join(batch)
            batch, size = [], 0
        batch.append(record)
        size += len(record)
    if batch:
        yield b"".join(batch)


def batch_transform(base: str, source: Path, target: Path, *, content_type: str) -> int:
    """Mimic a SageMaker transform job: split `source` by line, POST, AssembleWith=Line."""
    params = execution_parameters(base)
    logger.info("execution parameters: %s", json.dumps(params.__dict__))
    requests_made = 0
    with source.open("rb") as lines, target.open("wb") as out:
        for body in chunks((line for line in lines if line.strip()), params):
            answer = requests.post(
                f"{base}/invocations",
                data=body,
                headers={"Content-Type": content_type, "Accept": "text/csv"},
                timeout=60,
            )
            if answer.status_code != 200:
                raise RuntimeError(f"/invocations answered {answer.status_code}: {answer.text}")
            out.write(answer.content if answer.content.endswith(b"\n") else answer.content + b"\n")
            requests_made += 1
    return requests_made
