"""Two `python -m boostbox train` processes on loopback acting as hosts 127.0.0.1 and 127.0.0.2.

Linux answers every 127/8 address on loopback, so each "host" resolves to its own address
(its beacon binds there) while XGBoost's tracker and workers talk over 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support import free_port
from tests.unit.training.builders import Channel, write_job

HOSTS = ("127.0.0.1", "127.0.0.2")


@dataclass
class Host:
    name: str
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def stdout(self) -> str:
        return (self.root / "stdout.txt").read_text()

    @property
    def stderr(self) -> str:
        return (self.root / "stderr.txt").read_text()

    @property
    def failure(self) -> str | None:
        path = self.root / "output" / "failure"
        return path.read_text() if path.exists() else None

    def evaluation(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(
            (self.root / "output" / "data" / "evaluation.json").read_text()
        )
        return loaded


def start_hosts(
    base: Path,
    hps: Mapping[str, str],
    channels_per_host: Sequence[Mapping[str, Channel]],
    *,
    distribution: str,
    env: Mapping[str, str] | None = None,
    checkpoints: bool = False,
) -> list[Host]:
    """Write one /opt/ml per host and start `train` in each (not waited for)."""
    port = free_port()
    hosts = []
    for name, channels in zip(HOSTS, channels_per_host, strict=True):
        root = write_job(
            base / name,
            hps,
            channels,
            resources={"current_host": name, "hosts": list(HOSTS)},
            distribution=distribution,
            checkpoint_dir=str(base / name / "checkpoints") if checkpoints else None,
        )
        environ = {
            **os.environ,
            "SAGEMAKER_BASE_DIR": str(root),
            "BOOSTBOX_TRACKER_PORT": str(port),
            "BOOSTBOX_PEER_TIMEOUT": "20",
            **(env or {}),
        }
        with (root / "stdout.txt").open("wb") as out, (root / "stderr.txt").open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "boostbox", "train"], env=environ, stdout=out, stderr=err
            )
        hosts.append(Host(name, root, process))
    return hosts


def restart(hosts: Sequence[Host]) -> list[Host]:
    """Start `train` again in each host's folder, with a new tracker port."""
    port = str(free_port())
    again = []
    for host in hosts:
        environ = {
            **os.environ,
            "SAGEMAKER_BASE_DIR": str(host.root),
            "BOOSTBOX_TRACKER_PORT": port,
            "BOOSTBOX_PEER_TIMEOUT": "20",
        }
        with (
            (host.root / "stdout.txt").open("wb") as out,
            (host.root / "stderr.txt").open("wb") as err,
        ):
            process = subprocess.Popen(
                [sys.executable, "-m", "boostbox", "train"], env=environ, stdout=out, stderr=err
            )
        again.append(Host(host.name, host.root, process))
    return again


def wait_all(hosts: Sequence[Host], timeout: float = 240) -> list[int]:
    codes = []
    for host in hosts:
        try:
            codes.append(host.process.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            for other in hosts:
                other.process.kill()
            raise
    return codes


def poll(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout}s")
        time.sleep(0.1)


def split_rows(rows: int, parts: int) -> list[np.ndarray]:
    return [np.arange(i, rows, parts) for i in range(parts)]
