"""Monitor: a serving worker's monitoring (record, report, alarm), over a store.

Drift is checked on GET /monitoring and, at most every CHECK_SECONDS, after a request, so
an alarm is logged even when nobody polls the endpoint. A feature (or prediction column)
whose distance exceeds the threshold is logged as a WARNING at most once per `window`
seconds across all workers (the last time is shared through the store).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from boostbox.monitoring import report
from boostbox.monitoring.baseline import BASELINE_FILE, Reference, load_reference
from boostbox.monitoring.recorder import Layout, Recorder
from boostbox.monitoring.store import LocalStore, SharedStore, Store, StoreFull

logger = logging.getLogger(__name__)

CHECK_SECONDS = 10.0
"""A worker looks at the merged counts at most this often from the request path."""
FLUSH_SECONDS = 1.0
"""A serving worker bins its buffered rows at least this often (background thread)."""


class Monitor:
    """Recording, the merged report and the drift alarms of one worker (or process)."""

    def __init__(
        self,
        reference: Reference,
        store: Store | None = None,
        *,
        window: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ):
        layout = Layout.of(reference)
        self.reference = reference
        self.store = store if store is not None else LocalStore(layout.size, layout.columns)
        self.recorder = Recorder(reference, self.store)
        self.window = window
        self.clock = clock
        self._next_check = clock() + CHECK_SECONDS
        self._stopped = threading.Event()

    def observe(self, matrix: np.ndarray | sp.spmatrix, predictions: np.ndarray | None) -> bool:
        return self.recorder.observe(matrix, predictions)

    def request(self, seconds: float | None, *, error: bool) -> None:
        self.recorder.request(seconds, error=error)
        now = self.clock()
        if now >= self._next_check:
            self._next_check = now + CHECK_SECONDS
            self.report()

    def start_flushing(self, seconds: float = FLUSH_SECONDS) -> None:
        """Bin this process's buffered rows every `seconds` (a daemon thread; serving)."""

        def loop() -> None:
            while not self._stopped.wait(seconds):
                self.recorder.flush()

        threading.Thread(target=loop, name="boostbox-monitoring-flush", daemon=True).start()

    def stop_flushing(self) -> None:
        self._stopped.set()
        self.recorder.flush()

    def totals(self) -> np.ndarray:
        """Every worker's counters summed, this process's buffered rows included."""
        self.recorder.flush()
        return self.store.total()

    def report(self) -> dict[str, Any]:
        """The merged report (every worker's counts); logs new alarms."""
        built = report.build(self.reference, self.totals())
        self._alarm(built)
        return built

    def prometheus(self) -> str:
        total = self.totals()
        built = report.build(self.reference, total)
        self._alarm(built)
        return report.prometheus(built, total, self.reference)

    def _alarm(self, built: dict[str, Any]) -> None:
        drift = built["drift"]
        columns = drift["features"] + drift["predictions"]
        if not any(c["drift"] for c in columns):
            return
        now = self.clock()
        due = []
        with self.store.alarm_lock() as last:
            for index, column in enumerate(columns):
                if column["drift"] and (last[index] == 0 or now - last[index] >= self.window):
                    last[index] = now
                    due.append((index, column))
        for index, column in due:
            kind = "feature" if index < len(drift["features"]) else "prediction"
            logger.warning(
                "Drift alarm: %s '%s': L-infinity distance %.4f (robust %.4f, PSI %.3f) "
                "exceeds the threshold %g (method %s) over %d rows.",
                kind,
                column["name"],
                column["linf_simple"],
                column["linf_robust"],
                column["psi"],
                drift["threshold"],
                drift["method"],
                column["rows"],
            )


def open_monitor(
    model_dir: Path, enabled: bool, window: int, shared: SharedStore | None
) -> Monitor | None:
    """A worker's Monitor for the model in `model_dir`, None when off or without a baseline.

    `shared` is the master's store (gunicorn); without one (an app built in-process) the
    counts live in this process only.
    """
    if not enabled:
        return None
    reference = load_reference(model_dir)
    if reference is None:
        logger.info("No %s in %s: drift monitoring off.", BASELINE_FILE, model_dir)
        return None
    try:
        store = shared.attach() if shared is not None else None
    except (StoreFull, OSError) as e:
        logger.warning("Drift monitoring off in this worker: %s", e)
        return None
    monitor = Monitor(reference, store, window=float(window))
    monitor.start_flushing()
    return monitor


def create_shared_store(model_dir: Path, enabled: bool, workers: int) -> SharedStore | None:
    """The master's store, sized for twice the workers (a restarted worker's new process
    may boot before the old one has released its slot); None when off or without a baseline."""
    if not enabled:
        return None
    reference = load_reference(model_dir)
    if reference is None:
        return None
    layout = Layout.of(reference)
    return SharedStore.create(2 * workers + 1, layout.size, layout.columns)
