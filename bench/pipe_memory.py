"""Pipe mode's memory: read a CSV channel from a real FIFO and build XGBoost's training matrix
(what `train` does before the first round), each in a fresh process, with this tree's boostbox
and with any other checkout's (`--source OTHER/container`), to compare before and after.

    PYTHONPATH=. .venv/bin/python -m bench.pipe_memory --rows 200000 --source /tmp/old/container

For every source it prints the peak RSS growth over the imports (ru_maxrss; a process of its
own, no tracemalloc) and, in a second process, tracemalloc's peak (NumPy's buffers are traced,
XGBoost's C++ allocations are not). Writes bench/results-pipe-memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
CHILD = r"""
import json, os, resource, sys, threading, tracemalloc
from pathlib import Path
from boostbox.config import ChannelConfig
from boostbox.training import hyperparameters, placement
from boostbox.training.distributed import Cluster
from boostbox.training.fit import build_evals

csv, data_dir, trace = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "trace"
fifo = data_dir / "train_0"
os.mkfifo(fifo)

def write():
    with csv.open("rb") as source, fifo.open("wb") as out:
        while piece := source.read(1 << 20):
            out.write(piece)

threading.Thread(target=write, daemon=True).start()
hp = hyperparameters.parse({"num_round": "1", "nthread": "1"})
config = ChannelConfig("train", "text/csv", input_mode="Pipe")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if trace:
    tracemalloc.start()
data = placement.load_for_host(
    data_dir / "train", config, Cluster(("algo-1",), "algo-1"), csv_weights=False
)
evals = build_evals(hp, data, None, 1)
out = {"rows": data.rows, "type": type(data).__name__}
if trace:
    out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
else:
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out |= {"rss_before_mb": before / 1024, "peak_rss_mb": after / 1024}
    out["peak_growth_mb"] = (after - before) / 1024
print(json.dumps(out))
"""


def write_csv(path: Path, rows: int, features: int) -> int:
    rng = np.random.default_rng(0)
    with path.open("w", encoding="ascii") as out:
        for start in range(0, rows, 50_000):
            x = rng.random((min(50_000, rows - start), features), dtype=np.float32)
            y = (x[:, 0] > 0.5).astype(np.float32)
            np.savetxt(out, np.column_stack([y, x]), delimiter=",", fmt="%.6g")
    return path.stat().st_size


def measure(source: Path, csv: Path, trace: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="boostbox-pipe-memory-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(source)}
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(csv), tmp, "trace" if trace else "rss"],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{source}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=28)
    parser.add_argument("--source", type=Path, action="append", default=[])
    args = parser.parse_args()
    sources = [HERE.parent / "container", *args.source]
    with tempfile.TemporaryDirectory(prefix="boostbox-pipe-data-") as tmp:
        csv = Path(tmp) / "train.csv"
        size = write_csv(csv, args.rows, args.features)
        results = {
            str(source): measure(source, csv, trace=False) | measure(source, csv, trace=True)
            for source in sources
        }
    report = {"rows": args.rows, "features": args.features, "csv_mb": size / 2**20}
    report["sources"] = results
    (HERE / "results-pipe-memory.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
