"""Two `train` containers on a user-defined docker network as SageMaker's algo-1 and algo-2."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import docker_run, image_name
from tests.unit.training.builders import Channel, csv_text, regression, write_job

pytestmark = pytest.mark.container

HOSTS = ("algo-1", "algo-2")
HPS = {"num_round": "40", "max_depth": "4", "eta": "0.3", "nthread": "1", "eval_metric": "rmse"}
X, Y = regression(rows=2000, features=5, seed=11)
XV, YV = regression(rows=400, features=5, seed=12)
VALIDATION = Channel("text/csv", {"v.csv": csv_text(XV, YV)})


def _tag() -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", image_name()).strip("-")


@dataclass
class Box:
    host: str
    name: str
    root: Path

    def logs(self) -> str:
        done = subprocess.run(["docker", "logs", self.name], capture_output=True, text=True)
        return done.stdout + done.stderr

    def wait(self, timeout: float) -> int:
        done = subprocess.run(
            ["docker", "wait", self.name], capture_output=True, text=True, timeout=timeout
        )
        return int(done.stdout.strip())

    @property
    def failure(self) -> str | None:
        path = self.root / "output" / "failure"
        return path.read_text() if path.exists() else None


@contextlib.contextmanager
def cluster(
    base: Path, hps: Mapping[str, str], channels: list[Mapping[str, Channel]], distribution: str
) -> Iterator[list[Box]]:
    """Start one container per host on a fresh network; remove both and the network after."""
    suffix = uuid.uuid4().hex[:8]
    network = f"{_tag()}-net-{suffix}"
    subprocess.run(["docker", "network", "create", network], check=True, capture_output=True)
    boxes = []
    try:
        for host, host_channels in zip(HOSTS, channels, strict=True):
            root = write_job(
                base / host,
                hps,
                host_channels,
                resources={"current_host": host, "hosts": list(HOSTS)},
                distribution=distribution,
            )
            box = Box(host, f"{_tag()}-{host}-{suffix}", root)
            subprocess.run(
                ["docker", "run", "-d", "--name", box.name, "--hostname", host,
                 "--network", network, "--network-alias", host, "--cpus", "1",
                 "-e", "BOOSTBOX_PEER_TIMEOUT=30", "-v", f"{root}:/opt/ml",
                 image_name(), "train"],
                check=True,
                capture_output=True,
            )  # fmt: skip
            boxes.append(box)
        yield boxes
    finally:
        for box in boxes:
            subprocess.run(["docker", "rm", "-f", box.name], capture_output=True, check=False)
        subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)


def _rmse(root: Path) -> float:
    summary = json.loads((root / "output" / "data" / "evaluation.json").read_text())
    return float(summary["metrics"]["validation"]["rmse"])


def test_two_containers_train_like_one_on_the_union(image: str, tmp_path: Path) -> None:
    shards = [slice(0, 1000), slice(1000, 2000)]
    channels: list[Mapping[str, Channel]] = [
        {"train": Channel("text/csv", {"part.csv": csv_text(X[s], Y[s])}), "validation": VALIDATION}
        for s in shards
    ]
    with cluster(tmp_path, HPS, channels, "ShardedByS3Key") as boxes:
        codes = [box.wait(timeout=300) for box in boxes]
        assert codes == [0, 0], [box.logs() for box in boxes]
        logs = [box.logs() for box in boxes]
    leader, worker = boxes
    assert all("Model identical on all 2 hosts" in log for log in logs)
    assert (leader.root / "model" / "xgboost-model").exists()
    assert not (worker.root / "model").exists()
    assert len(re.findall(r"^\[\d+\]\ttrain-rmse", logs[0], re.MULTILINE)) == 40
    assert not re.search(r"^\[\d+\]\t", logs[1], re.MULTILINE)

    alone = write_job(
        tmp_path / "alone",
        HPS,
        {"train": Channel("text/csv", {"all.csv": csv_text(X, Y)}), "validation": VALIDATION},
    )
    done = docker_run(["train"], opt_ml=alone, timeout=300)
    assert done.returncode == 0, done.stderr
    # Quantile sketches of two halves vs the whole differ slightly: a 2% tolerance.
    assert _rmse(leader.root) == pytest.approx(_rmse(alone), rel=0.02)


def test_killing_one_container_fails_the_other_naming_it(image: str, tmp_path: Path) -> None:
    big_x, big_y = regression(rows=30000, features=8, seed=13)
    hps = {**HPS, "num_round": "100000", "max_depth": "8"}
    everything = {"train": Channel("text/csv", {"all.csv": csv_text(big_x, big_y)})}
    with cluster(tmp_path, hps, [everything, everything], "FullyReplicated") as boxes:
        leader, worker = boxes
        deadline = time.monotonic() + 240
        while "[3]\t" not in leader.logs():
            assert time.monotonic() < deadline, leader.logs()
            time.sleep(0.5)
        subprocess.run(["docker", "kill", worker.name], check=True, capture_output=True)
        code = leader.wait(timeout=180)
        logs = leader.logs()
    assert code == 1, logs
    assert leader.failure is not None, logs
    assert "lost contact with host(s) algo-2 (" in leader.failure
