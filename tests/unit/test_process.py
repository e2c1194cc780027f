"""Exit discipline: a finished job keeps its exit status; short-lived Parquet paths exit 0.

The abort this guards against (pyarrow IO threads releasing a Python-owned buffer while
Python 3.13 finalizes -> SIGABRT, exit 134) showed up in 2-70 % of runs depending on load.
The thread test is deterministic (a read that starts no thread cannot race finalization);
the repeated runs catch a 20 % abort with probability 1 - 0.8**20 > 98 %.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.training.builders import (
    FAST_HPS,
    Channel,
    parquet_bytes,
    regression,
    write_job,
)

ROOT = Path(__file__).resolve().parents[2]
RUNS = 20


def python(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT / "container"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=environ,
    )


THREADS_AFTER = """
import io, os, sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
buffer = io.BytesIO()
pq.write_table(pa.table({"a": np.arange(5.0), "b": np.arange(5)}), buffer)
data = buffer.getvalue()
from boostbox.formats.parquet import read_table
def threads():
    return len(os.listdir("/proc/self/task"))
before = threads()
{read}
print(threads() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    ("read", "new_threads"),
    [
        ("read_table(data); read_table(data)", 0),
        ("pq.read_table(io.BytesIO(data)); pq.read_table(io.BytesIO(data))", None),
    ],
    ids=["boostbox", "control-pq.read_table"],
)
def test_parquet_read_starts_no_native_thread(read: str, new_threads: int | None) -> None:
    done = python(THREADS_AFTER.replace("{read}", read))
    assert done.returncode == 0, done.stderr
    started = int(done.stdout.strip())
    if new_threads is None:  # the control: the way that aborted does start IO threads
        assert started > 0
    else:
        assert started == new_threads


READ_AND_EXIT = """
import io
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
from boostbox.formats.parquet import read_table
from boostbox.serving.codecs import parquet
buffer = io.BytesIO()
pq.write_table(pa.table({"a": np.arange(3.0), "b": [16777217, 1, 2]}), buffer)
read_table(buffer.getvalue())
parquet.decode(buffer.getvalue(), {})
"""


def test_short_lived_parquet_reads_exit_0_every_time() -> None:
    """Normal interpreter exit (no os._exit) right after a read, RUNS times."""
    codes = [python(READ_AND_EXIT) for _ in range(RUNS)]
    failed = [(c.returncode, c.stderr[-300:]) for c in codes if c.returncode != 0]
    assert not failed, f"{len(failed)}/{RUNS} runs failed: {failed[:3]}"


def test_train_on_parquet_exits_0_every_time(tmp_path: Path) -> None:
    x, y = regression(rows=40, features=3)
    runs = 5  # exits through os._exit; the read loop above is the statistical catcher
    failed = []
    for n in range(runs):
        root = write_job(
            tmp_path / f"job{n}",
            FAST_HPS,
            {"train": Channel("application/x-parquet", {"a.parquet": parquet_bytes(x, y)})},
        )
        done = subprocess.run(
            [sys.executable, "-m", "boostbox", "train"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "SAGEMAKER_BASE_DIR": str(root)},
        )
        if done.returncode != 0 or not (root / "output" / "success").exists():
            failed.append((done.returncode, done.stderr[-300:]))
    assert not failed, f"{len(failed)}/{runs} train runs failed: {failed[:3]}"


# A native abort during finalization, simulated: atexit handlers run during finalization.
ABORT_AT_EXIT = "import atexit, os; atexit.register(os.abort)\n"


@pytest.mark.parametrize("good", [True, False], ids=["success", "user-error"])
def test_train_status_survives_an_abort_at_exit(tmp_path: Path, good: bool) -> None:
    x, y = regression(rows=40, features=3)
    hps = FAST_HPS if good else {**FAST_HPS, "eta": "abc"}
    root = write_job(
        tmp_path,
        hps,
        {"train": Channel("application/x-parquet", {"a.parquet": parquet_bytes(x, y)})},
    )
    done = python(
        ABORT_AT_EXIT + "from boostbox.__main__ import main\nmain(['train'])",
        env={"SAGEMAKER_BASE_DIR": str(root)},
    )
    assert done.returncode == (0 if good else 2), done.stderr[-2000:]
    assert (root / "output" / ("success" if good else "failure")).exists()


def test_serve_status_survives_an_abort_at_exit() -> None:
    """`serve` with a bad setting: exit 2, decided before any worker, kept at exit."""
    done = python(
        ABORT_AT_EXIT + "from boostbox.__main__ import main\nmain(['serve'])",
        env={"SAGEMAKER_BIND_TO_PORT": "not-a-port"},
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "SAGEMAKER_BIND_TO_PORT" in done.stderr


@pytest.mark.parametrize("code", [0, 3])
def test_worker_exit_hook_keeps_the_workers_status(code: int) -> None:
    """gunicorn calls worker_exit in the worker's `finally` while SystemExit propagates."""
    done = python(
        ABORT_AT_EXIT
        + "import sys\nfrom boostbox.serving.server import worker_exit\n"
        + f"try:\n    sys.exit({code})\nfinally:\n    worker_exit(None, None)\n"
    )
    assert done.returncode == code, done.stderr[-2000:]


def test_flushes_before_leaving(tmp_path: Path) -> None:
    done = python(
        "import logging, sys\nfrom boostbox.process import finish\n"
        "logging.basicConfig(stream=sys.stderr)\n"
        "sys.stdout.write('partial line without newline')\n"
        "logging.getLogger('x').error('last log line')\n"
        "finish(0)\n"
    )
    assert done.returncode == 0
    assert done.stdout == "partial line without newline"
    assert "last log line" in done.stderr
