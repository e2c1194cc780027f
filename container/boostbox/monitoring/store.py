"""Counters shared by gunicorn's workers: one int64 row per worker slot, summed on read.

Choice: a file-backed NumPy memmap in /dev/shm (tmpfs, so memory speed and no disk), created
by the master before it forks the workers and removed when it stops. Each worker claims a
slot with a non-blocking POSIX record lock on one byte of `slots.lock` (fcntl.lockf); the
lock dies with the process, so a worker that gunicorn restarts reclaims a free slot and keeps
adding to its counts: nothing served is lost. A worker writes only its own row (its threads
serialise on a threading lock), readers sum all rows, so there are no cross-process write
races and no atomics. Why not multiprocessing.shared_memory: its resource tracker unlinks
the segment when the first process that opened it exits. Why not a Manager/server process:
one IPC round trip per request, against the per-request budget.

`alarms.bin` holds, per monitored column, when its drift alarm was last logged (float64
seconds), read and written under a lock on another byte of `slots.lock`, so the workers
together log a column at most once per window.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHM = Path("/dev/shm")
COUNTS_FILE = "counts.bin"
ALARMS_FILE = "alarms.bin"
LOCK_FILE = "slots.lock"


class StoreFull(RuntimeError):
    """Every slot is held by a live process (more workers than the store was sized for)."""


@dataclass
class LocalStore:
    """One process's counters in plain memory (tests, in-process apps, the offline report)."""

    size: int
    columns: int

    def __post_init__(self) -> None:
        self.row = np.zeros(self.size, dtype=np.int64)
        self.alarm_times = np.zeros(self.columns, dtype=np.float64)
        self.lock = threading.Lock()

    def total(self) -> np.ndarray:
        return self.row.copy()

    @contextmanager
    def alarm_lock(self) -> Iterator[np.ndarray]:
        with self.lock:
            yield self.alarm_times


class SharedStore:
    """The master's view: creates (and finally removes) the files; `attach` runs in a worker."""

    def __init__(self, root: Path, slots: int, size: int, columns: int):
        self.root = root
        self.slots = slots
        self.size = size
        self.columns = columns

    @classmethod
    def create(cls, slots: int, size: int, columns: int) -> SharedStore:
        parent = SHM if SHM.is_dir() and os.access(SHM, os.W_OK) else None
        root = Path(tempfile.mkdtemp(prefix="boostbox-monitoring-", dir=parent))
        np.zeros((slots, size), dtype=np.int64).tofile(root / COUNTS_FILE)
        np.zeros(columns, dtype=np.float64).tofile(root / ALARMS_FILE)
        (root / LOCK_FILE).write_bytes(b"\0" * (slots + 1))
        return cls(root, slots, size, columns)

    def destroy(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def attach(self) -> WorkerStore:
        """Claim a free slot for this process (call it in the worker, after the fork)."""
        return WorkerStore(self)


class WorkerStore:
    """A worker's handle: its own row to add to, every row to sum, the shared alarm times."""

    def __init__(self, shared: SharedStore):
        self.shared = shared
        self.columns = shared.columns
        self._lock_fd = os.open(shared.root / LOCK_FILE, os.O_RDWR)
        self.slot = self._claim()
        self.rows = np.memmap(
            shared.root / COUNTS_FILE, dtype=np.int64, mode="r+", shape=(shared.slots, shared.size)
        )
        self.row = self.rows[self.slot]
        self._alarm_times = np.memmap(
            shared.root / ALARMS_FILE, dtype=np.float64, mode="r+", shape=(shared.columns,)
        )
        self.lock = threading.Lock()

    def _claim(self) -> int:
        for slot in range(self.shared.slots):
            try:
                fcntl.lockf(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot, os.SEEK_SET)
            except OSError:
                continue
            return slot
        os.close(self._lock_fd)
        raise StoreFull(f"all {self.shared.slots} monitoring slots are taken")

    def total(self) -> np.ndarray:
        return np.asarray(self.rows.sum(axis=0))

    @contextmanager
    def alarm_lock(self) -> Iterator[np.ndarray]:
        """The alarm times, locked against the other workers (and this worker's threads)."""
        alarm_byte = self.shared.slots
        with self.lock:
            fcntl.lockf(self._lock_fd, fcntl.LOCK_EX, 1, alarm_byte, os.SEEK_SET)
            try:
                yield self._alarm_times
            finally:
                fcntl.lockf(self._lock_fd, fcntl.LOCK_UN, 1, alarm_byte, os.SEEK_SET)


type Store = LocalStore | WorkerStore
