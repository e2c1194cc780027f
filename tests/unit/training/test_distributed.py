"""Multi-host training through XGBoost's collective, with two real processes on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from boostbox.errors import AlgorithmError, UserError
from boostbox.training.distributed import (
    Cluster,
    Settings,
    check_params,
    replicated_share,
    resolve,
    wait_for_leader,
)
from boostbox.training.peers import Beacon, Watchdog, unreachable
from tests.support import free_port
from tests.unit.training.builders import Channel, csv_text, regression, write_job
from tests.unit.training.hostpair import (
    HOSTS,
    poll,
    restart,
    split_rows,
    start_hosts,
    wait_all,
)

HPS = {"num_round": "30", "max_depth": "3", "eta": "0.3", "nthread": "1", "eval_metric": "rmse"}
X, Y = regression(rows=600, features=4, seed=3)
XV, YV = regression(rows=200, features=4, seed=4)
VALIDATION = Channel("text/csv", {"v.csv": csv_text(XV, YV)})


def _rmse(evaluation: dict[str, object]) -> float:
    metrics = evaluation["metrics"]
    assert isinstance(metrics, dict)
    return float(metrics["validation"]["rmse"])


# --- pieces -----------------------------------------------------------------------------


def test_cluster_sorts_hosts_and_ranks_by_index() -> None:
    cluster = Cluster(("algo-3", "algo-1", "algo-2"), "algo-2")
    assert cluster.hosts == ("algo-1", "algo-2", "algo-3")
    assert (cluster.rank, cluster.size, cluster.leader, cluster.is_leader) == (
        1,
        3,
        "algo-1",
        False,
    )
    assert cluster.peers == ("algo-1", "algo-3")


def test_current_host_must_be_listed() -> None:
    with pytest.raises(UserError, match="current_host 'algo-9'"):
        Cluster(("algo-1",), "algo-9")


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_replicated_share_uses_each_row_once(size: int) -> None:
    shares = [
        replicated_share(101, Cluster(tuple(f"h{i}" for i in range(size)), f"h{rank}"))
        for rank in range(size)
    ]
    joined = np.sort(np.concatenate(shares))
    assert np.array_equal(joined, np.arange(101))
    assert max(len(s) for s in shares) - min(len(s) for s in shares) <= 1


def test_exact_tree_method_on_two_hosts_is_a_user_error() -> None:
    with pytest.raises(UserError, match="'tree_method' has value 'exact'.*2 hosts"):
        check_params({"tree_method": "exact"}, Cluster(("a", "b"), "a"))
    check_params({"tree_method": "exact"}, Cluster(("a",), "a"))


def test_resolve_retries_until_the_name_appears() -> None:
    answers: list[str | OSError] = [OSError("no such host"), OSError("no such host"), "10.0.0.7"]

    def resolver(host: str) -> str:
        answer = answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer

    slept: list[float] = []
    settings = Settings(resolver=resolver, connect_deadline=60)
    assert resolve("algo-2", settings, sleep=slept.append) == "10.0.0.7"
    assert len(slept) == 2


def test_resolve_gives_up_at_the_deadline() -> None:
    def resolver(host: str) -> str:
        raise OSError("no such host")

    settings = Settings(resolver=resolver, connect_deadline=0)
    with pytest.raises(AlgorithmError, match="'algo-2' did not resolve"):
        resolve("algo-2", settings, sleep=lambda s: None)


def test_wait_for_leader_polls_the_first_hosts_beacon_until_it_accepts() -> None:
    refusals = [ConnectionRefusedError("refused"), ConnectionRefusedError("refused")]
    opened: list[tuple[str, int]] = []

    def connect(address: tuple[str, int], timeout: float) -> socket.socket:
        if refusals:
            raise refusals.pop(0)
        opened.append(address)
        return socket.socket()

    slept: list[float] = []
    settings = Settings(resolver=lambda host: {"algo-1": "10.0.0.7"}[host])
    cluster = Cluster(hosts=("algo-2", "algo-1"), current_host="algo-2")
    wait_for_leader(cluster, settings, connect=connect, sleep=slept.append)
    assert opened == [("10.0.0.7", settings.beacon_port)]
    assert slept == [0.05, 0.05]


def test_wait_for_leader_gives_up_at_the_deadline_naming_the_host() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings = Settings(beacon_port=port, connect_deadline=0, resolver=lambda host: "127.0.0.1")
    cluster = Cluster(hosts=("algo-1", "algo-2"), current_host="algo-2")
    with pytest.raises(AlgorithmError, match=rf"first host algo-1 \(127.0.0.1:{port}\) did not"):
        wait_for_leader(cluster, settings, sleep=lambda s: None)


def test_unreachable_names_hosts_without_a_beacon() -> None:
    port = free_port()
    beacon = Beacon(("127.0.0.1", port))
    try:
        address = {"up": ("127.0.0.1", port), "down": ("127.0.0.2", port)}
        assert unreachable(["up", "down"], address.__getitem__, timeout=2) == ["down"]
    finally:
        beacon.close()


def test_unreachable_counts_a_name_that_no_longer_resolves() -> None:
    def address(host: str) -> tuple[str, int]:
        raise socket.gaierror("Name or service not known")

    assert unreachable(["algo-2"], address) == ["algo-2"]


def test_watchdog_reports_a_silent_peer() -> None:
    port = free_port()
    reported: list[list[str]] = []
    done = threading.Event()

    def on_lost(hosts: list[str]) -> None:
        reported.append(hosts)
        done.set()

    dog = Watchdog(
        ["gone"], lambda h: ("127.0.0.2", port), on_lost, peer_timeout=0.2, interval=0.05
    ).start()
    assert done.wait(timeout=30)
    dog.stop()
    assert reported == [["gone"]]


# --- two hosts, real processes ------------------------------------------------------------


def _single_host(root: Path) -> dict[str, object]:
    write_job(
        root,
        HPS,
        {"train": Channel("text/csv", {"t.csv": csv_text(X, Y)}), "validation": VALIDATION},
    )
    done = subprocess.run(
        [sys.executable, "-m", "boostbox", "train"],
        env={"SAGEMAKER_BASE_DIR": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, object] = json.loads(
        (root / "output" / "data" / "evaluation.json").read_text()
    )
    return loaded


def test_two_sharded_hosts_train_one_model_like_one_host(tmp_path: Path) -> None:
    shards = split_rows(len(Y), 2)
    hosts = start_hosts(
        tmp_path,
        HPS,
        [
            {"train": Channel("text/csv", {"t.csv": csv_text(X[s], Y[s])}), "validation": v}
            for s, v in zip(shards, [VALIDATION, VALIDATION], strict=True)
        ],
        distribution="ShardedByS3Key",
    )
    assert wait_all(hosts) == [0, 0], [h.stderr for h in hosts]
    leader, worker = hosts
    # Every host checks through the collective that all hold the same model bytes.
    for host in hosts:
        assert "Model identical on all 2 hosts" in host.stderr
    # Only the first host writes the model, output/data and the metric lines.
    assert (leader.root / "model" / "xgboost-model").exists()
    assert not (worker.root / "model").exists()
    assert not (worker.root / "output" / "data").exists()
    assert "validation-rmse" in leader.stdout
    assert "validation-rmse" not in worker.stdout
    # The union of the shards trains like one host on all rows (histogram cuts differ a little).
    alone = _single_host(tmp_path / "alone")
    assert _rmse(leader.evaluation()) == pytest.approx(_rmse(alone), rel=0.05)


def test_fully_replicated_hosts_each_take_half_of_the_rows(tmp_path: Path) -> None:
    everything = {"train": Channel("text/csv", {"t.csv": csv_text(X, Y)}), "validation": VALIDATION}
    hosts = start_hosts(tmp_path, HPS, [everything, everything], distribution="FullyReplicated")
    assert wait_all(hosts) == [0, 0], [h.stderr for h in hosts]
    assert "trains on every 2-th row from row 1, 300 of 600 rows" in hosts[1].stderr
    alone = _single_host(tmp_path / "alone")
    assert _rmse(hosts[0].evaluation()) == pytest.approx(_rmse(alone), rel=0.05)


def test_a_host_with_an_empty_shard_takes_part(tmp_path: Path) -> None:
    hosts = start_hosts(
        tmp_path,
        HPS,
        [
            {"train": Channel("text/csv", {"t.csv": csv_text(X, Y)}), "validation": VALIDATION},
            {"train": Channel("text/csv", {}), "validation": VALIDATION},
        ],
        distribution="ShardedByS3Key",
    )
    assert wait_all(hosts) == [0, 0], [h.stderr for h in hosts]
    assert "received no files" in hosts[1].stderr
    assert hosts[0].evaluation()["rounds_trained"] == 30


def test_exact_on_two_hosts_fails_both_with_a_clear_line(tmp_path: Path) -> None:
    channels = {"train": Channel("text/csv", {"t.csv": csv_text(X, Y)})}
    hosts = start_hosts(
        tmp_path,
        {**HPS, "tree_method": "exact"},
        [channels, channels],
        distribution="ShardedByS3Key",
    )
    assert wait_all(hosts, timeout=120) == [2, 2]
    for host in hosts:
        assert host.failure is not None and "'tree_method' has value 'exact'" in host.failure


@pytest.mark.parametrize("victim", [1, 0], ids=["worker_dies", "leader_dies"])
def test_losing_a_host_fails_the_other_naming_it(tmp_path: Path, victim: int) -> None:
    big_x, big_y = regression(rows=20000, features=8, seed=5)
    slow = {**HPS, "num_round": "100000", "max_depth": "8"}
    channels = {"train": Channel("text/csv", {"t.csv": csv_text(big_x, big_y)})}
    hosts = start_hosts(tmp_path, slow, [channels, channels], distribution="FullyReplicated")
    leader, survivor = hosts[0], hosts[1 - victim]
    try:
        poll(lambda: "[3]\t" in leader.stdout, 180, "the leader's fourth metric line")
        hosts[victim].process.kill()
        code = survivor.process.wait(timeout=120)
    finally:
        for host in hosts:
            host.process.kill()
    assert code == 1
    assert survivor.failure is not None
    assert f"lost contact with host(s) {HOSTS[victim]} (" in survivor.failure, survivor.failure


@pytest.mark.parametrize(("where", "same"), [("inside", True), ("outside", False)])
def test_model_identity_guard_catches_a_matrix_built_outside_the_group(
    where: str, same: bool
) -> None:
    """Built before joining, each host sketches its own cuts: trees differ, the guard says so."""
    port = free_port()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.unit.training.guard_worker", str(r), str(port), where],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(2)
    ]
    outputs = [w.communicate(timeout=180) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    assert [out.strip().splitlines()[-1] for out, _ in outputs] == [f"same={same}"] * 2


def test_hosts_resume_together_from_the_first_hosts_checkpoint(tmp_path: Path) -> None:
    """Only the first host has checkpoints; it sends its checkpoint to the others."""
    shards = split_rows(len(Y), 2)
    channels = [
        {"train": Channel("text/csv", {"t.csv": csv_text(X[s], Y[s])}), "validation": VALIDATION}
        for s in shards
    ]
    ten = {**HPS, "num_round": "10", "checkpoint_interval": "5"}
    first = start_hosts(
        tmp_path / "a", ten, channels, distribution="ShardedByS3Key", checkpoints=True
    )
    assert wait_all(first) == [0, 0], [h.stderr for h in first]
    assert (first[0].root / "checkpoints" / "boostbox-checkpoint-000010.ubj").exists()
    assert not (first[1].root / "checkpoints").exists()
    # The same hosts again, asked for 15 rounds, on the same folders.
    for host in first:
        hps_file = host.root / "input" / "config" / "hyperparameters.json"
        hps_file.write_text(json.dumps({**ten, "num_round": "15"}))
    again = restart(first)
    assert wait_all(again) == [0, 0], [h.stderr for h in again]
    for host in again:
        assert "Resuming from a checkpoint with 10 of 15 rounds" in host.stderr
        assert "Model identical on all 2 hosts" in host.stderr
    assert again[0].evaluation()["rounds_trained"] == 15
