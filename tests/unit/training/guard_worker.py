"""One of two workers proving the model-identity guard bites (run as a module by a test).

Usage: python -m tests.unit.training.guard_worker RANK TRACKER_PORT inside|outside
Prints `same=True|False`: whether `same_on_every_host` found both hosts' models identical.
"""

from __future__ import annotations

import sys

import numpy as np
import xgboost as xgb

from boostbox.training.agreement import same_on_every_host
from boostbox.training.distributed import Cluster, Settings, communicator

HOSTS = ("127.0.0.1", "127.0.0.2")


def main() -> None:
    rank, port, where = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(rank)
    x = rng.normal(loc=rank, size=(500, 4)).astype(np.float32)
    y = x[:, 0] + rng.normal(size=500)
    early = xgb.QuantileDMatrix(x, y) if where == "outside" else None
    cluster = Cluster(HOSTS, HOSTS[rank])
    with communicator(cluster, Settings(tracker_port=port, beacon_port=port - 1)):
        matrix = early if early is not None else xgb.QuantileDMatrix(x, y)
        booster = xgb.train({"max_depth": 3, "nthread": 1}, matrix, 5)
        same = same_on_every_host(bytes(booster.save_raw(raw_format="ubj")))
    sys.stdout.write(f"same={same}\n")


if __name__ == "__main__":
    main()
