"""The shared store: separate processes add to their own rows, a reader sees the sum, and a
restarted process takes over a free slot without losing counts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from boostbox.monitoring.baseline import Reference
from boostbox.monitoring.recorder import Layout
from boostbox.monitoring.service import Monitor, create_shared_store
from boostbox.monitoring.store import SharedStore, StoreFull
from tests.unit.monitoring.conftest import draw

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import numpy as np
    from boostbox.monitoring.baseline import load_reference
    from boostbox.monitoring.service import Monitor
    from boostbox.monitoring.store import SharedStore

    root, slots, size, columns, model, rows = sys.argv[1:]
    shared = SharedStore(Path(root), int(slots), int(size), int(columns))
    store = shared.attach()
    monitor = Monitor(load_reference(Path(model)), store)
    x = np.random.default_rng(int(rows)).normal(size=(int(rows), 5)).astype(np.float32)
    for row in x:
        monitor.observe(row.reshape(1, -1), None)
        monitor.request(0.001, error=False)
    monitor.recorder.flush()  # a serving worker's flush thread does this every second
    print(store.slot)
    """
)


def run_worker(shared: SharedStore, model: Path, rows: int) -> int:
    args = [str(shared.root), str(shared.slots), str(shared.size), str(shared.columns)]
    done = subprocess.run(
        [sys.executable, "-c", WORKER, *args, str(model), str(rows)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(done.stdout.strip())


def test_processes_merge_through_the_store(trained: Path, reference: Reference) -> None:
    shared = create_shared_store(trained / "model", True, workers=2)
    assert shared is not None
    try:
        reader = Monitor(reference, shared.attach())  # this process holds slot 0
        slots = [run_worker(shared, trained / "model", rows) for rows in (30, 50, 70)]
        # each worker exited and released its slot: the next one reclaimed the same slot
        assert slots == [1, 1, 1]
        report = reader.report()
        assert report["drift"]["rows"] == 150
        assert report["traffic"]["requests"] == 150
        layout = Layout.of(reference)
        assert int(reader.totals()[: layout.counters].sum()) == 150 * 5
    finally:
        shared.destroy()
    assert not shared.root.exists()


def test_no_free_slot_is_an_error(tmp_path: Path) -> None:
    shared = SharedStore.create(slots=1, size=8, columns=1)
    try:
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from boostbox.monitoring.store import "
                "SharedStore; s = SharedStore(Path(sys.argv[1]), 1, 8, 1).attach(); "
                "print('held', flush=True); sys.stdin.read()",
                str(shared.root),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(StoreFull):
                shared.attach()
        finally:
            holder.communicate("", timeout=30)
        assert shared.attach().slot == 0
    finally:
        shared.destroy()


def test_store_lives_in_shared_memory_when_there_is_one() -> None:
    shared = SharedStore.create(slots=3, size=4, columns=2)
    try:
        if Path("/dev/shm").is_dir():
            assert shared.root.parent == Path("/dev/shm")
        rows = np.fromfile(shared.root / "counts.bin", dtype=np.int64)
        assert rows.shape == (12,) and not rows.any()
    finally:
        shared.destroy()


def test_requests_recorded_while_another_thread_flushes_are_counted_once(
    reference: Reference,
) -> None:
    """The request path takes no lock: rows and latencies appended while a flush takes the
    pending ones are counted in this flush or the next, never lost or twice."""
    x = draw(2_000, seed=31)
    monitor = Monitor(reference)
    stop = threading.Event()

    def flush() -> None:
        while not stop.is_set():
            monitor.recorder.flush()

    def serve(rows: np.ndarray) -> None:
        for row in rows:
            monitor.observe(row.reshape(1, -1), None)
            monitor.request(0.001, error=False)

    flusher = threading.Thread(target=flush)
    flusher.start()
    servers = [threading.Thread(target=serve, args=(part,)) for part in np.array_split(x, 4)]
    for thread in servers:
        thread.start()
    for thread in servers:
        thread.join()
    stop.set()
    flusher.join()
    report = monitor.report()
    assert report["drift"]["rows"] == report["traffic"]["requests"] == 2_000
    once = Monitor(reference)
    once.observe(x, None)
    counters = Layout.of(reference).counters
    assert np.array_equal(monitor.totals()[:counters], once.totals()[:counters])


def test_recording_leaves_the_request_arrays_as_they_were(reference: Reference) -> None:
    """Binning sorts a copy: the rows and predictions the server goes on to encode stay put."""
    rows = draw(100, seed=32)
    predictions = np.random.default_rng(33).random(100).astype(np.float32)
    kept = rows.copy(), predictions.copy()
    monitor = Monitor(reference)
    assert monitor.observe(rows, predictions)
    assert monitor.observe(rows[:1], predictions[:1])
    monitor.recorder.flush()
    assert np.array_equal(rows, kept[0], equal_nan=True)
    assert np.array_equal(predictions, kept[1])
