"""Every knob of a benchmark run in one frozen dataclass: the full run and the smoke run."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
"""bench/ itself: baselines/ lives here; .work/ and results.json are git-ignored."""


@dataclass(frozen=True)
class Settings:
    """What one `python -m bench` run measures and how hard it pushes."""

    image: str = "boostbox:latest"
    """The boostbox image under test (BOOSTBOX_IMAGE, as in the Makefile)."""
    work_dir: Path = BENCH_DIR / ".work"
    """Generated models, payloads, training data and the MLServer venv (git-ignored)."""
    results_path: Path = BENCH_DIR / "results.json"
    smoke: bool = False
    """Seconds-long run of the cheap comparisons only (boostbox, HTTP floor, in-process)."""
    duration_s: float = 20.0
    """wrk duration per (stack, concurrency) point."""
    warmup_s: float = 2.0
    """Unmeasured load before each stack's first point (imports, page cache, JIT-free warm)."""
    concurrencies: tuple[int, ...] = (1, 8, 32)
    workers: int = 2
    """gunicorn workers (or equivalent) for every HTTP stack."""
    floor_worker_class: str = "gthread"
    """gunicorn worker class of the HTTP floor: keep it equal to boostbox's (gthread today;
    boostbox's serving.worker.BoundedThreadWorker only adds time bounds on stalled clients)."""
    floor_threads: int = 4
    """Threads per floor worker: boostbox's default BOOSTBOX_WORKER_THREADS."""
    server_cpus: str = "1"
    """cpuset for the server under test (docker --cpuset-cpus / taskset -c); '' = no pinning."""
    client_cpus: str = "0"
    """CPU the load generator is pinned to (taskset -c); '' = no pinning."""
    stacks: tuple[str, ...] = ("boostbox", "floor", "byoc", "mlserver", "floor-host")
    """HTTP stacks to load, in order; the in-process limit is always measured."""
    batch_rows: int = 1000
    batch_large_bytes: int = 6 * 1024 * 1024 - 4096
    """Just under SageMaker's 6 MB real-time payload cap."""
    batch_repeats: int = 15
    train_rows: int = 1_000_000
    train_formats: tuple[str, ...] = ("csv", "libsvm")
    train_rounds: int = 50
    train_depth: int = 6
    train_repeats: int = 2
    """Rounds of (reference, boostbox) in alternating order; the fastest of each is kept."""
    cold_start_repeats: int = 3
    startup_timeout_s: float = 120.0
    install_wrk: bool = True
    """apt-get install wrk when it is missing (full run only; smoke falls back to Python)."""
    load_generator: str = "auto"
    """'auto' (wrk when present, else the Python fallback), 'wrk' or 'python'."""
    mlserver_parallel_workers: int = 0
    """0 = inference in MLServer's HTTP process: its fastest setting here (PERF-NOTES)."""

    @classmethod
    def full(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(image=environ.get("BOOSTBOX_IMAGE", cls.image))

    @classmethod
    def smoke_run(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """A few seconds: tiny data, 1 s loads, no peer image builds, no training."""
        return replace(
            cls.full(environ),
            smoke=True,
            duration_s=1.0,
            warmup_s=0.3,
            concurrencies=(1, 4),
            stacks=("boostbox", "floor"),
            batch_large_bytes=256 * 1024,
            batch_repeats=3,
            train_rows=0,
            train_formats=(),
            cold_start_repeats=1,
            install_wrk=False,
        )

    @property
    def model_dir(self) -> Path:
        return self.work_dir / "model"

    @property
    def payload_dir(self) -> Path:
        return self.work_dir / "payloads"

    @property
    def train_dir(self) -> Path:
        return self.work_dir / "train"

    @property
    def mlserver_venv(self) -> Path:
        return self.work_dir / "mlserver-venv"
