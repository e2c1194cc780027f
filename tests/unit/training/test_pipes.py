"""Pipe mode with real FIFOs fed by writer threads: slow, gzip, dying and stalling writers."""

from __future__ import annotations

import gc
import gzip
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from boostbox.config import ChannelConfig
from boostbox.errors import DataError
from boostbox.training import batches, hyperparameters, pipes
from boostbox.training.channels import load_channel
from boostbox.training.dataset import Dataset
from boostbox.training.fit import fit
from boostbox.training.pipes import load_pipe
from tests.unit.training.builders import (
    Channel,
    csv_text,
    libsvm_text,
    parquet_bytes,
    regression,
    write_job,
)
from tests.unit.training.conftest import Outcome
from tests.unit.training.test_external import recordio_bytes

X, Y = regression(rows=3000, features=5, seed=7)
CSV = csv_text(X, Y).encode()


class Writer(threading.Thread):
    """Opens the FIFO (blocks until the reader does) and writes `pieces`, pausing between."""

    def __init__(self, fifo: Path, pieces: list[bytes], pause: float = 0.0, hold: float = 0.0):
        super().__init__(daemon=True)
        self.fifo, self.pieces, self.pause, self.hold = fifo, pieces, pause, hold

    def run(self) -> None:
        try:
            with self.fifo.open("wb") as out:
                for piece in self.pieces:
                    out.write(piece)
                    out.flush()
                    time.sleep(self.pause)
                time.sleep(self.hold)  # a stalled writer keeps the FIFO open without writing
        except BrokenPipeError:
            pass  # the reader gave up first


def pieces(blob: bytes, size: int) -> list[bytes]:
    return [blob[i : i + size] for i in range(0, len(blob), size)]


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Callable[[list[bytes], float, float], Path]]:
    writers: list[Writer] = []

    def make(parts: list[bytes], pause: float = 0.0, hold: float = 0.0) -> Path:
        path = tmp_path / "train_0"
        os.mkfifo(path)
        writer = Writer(path, parts, pause, hold)
        writer.start()
        writers.append(writer)
        return tmp_path

    yield make
    for writer in writers:
        writer.join(timeout=10)


def test_slow_csv_writer_streams_all_rows(fifo: Callable[..., Path]) -> None:
    data_dir = fifo(pieces(CSV, 7000), 0.002)
    dataset = load_pipe(data_dir, ChannelConfig("train", "text/csv"), csv_weights=False)
    assert dataset.rows == 3000 and dataset.num_features == 5
    assert np.allclose(batches.labels(dataset).labels, Y, atol=1e-3)


def test_gzip_libsvm_stream_with_two_members(fifo: Callable[..., Path]) -> None:
    text = libsvm_text(X, Y).encode()
    half = text.rfind(b"\n", 0, len(text) // 2) + 1
    blob = gzip.compress(text[:half]) + gzip.compress(text[half:])
    data_dir = fifo(pieces(blob, 4096))
    dataset = load_pipe(data_dir, ChannelConfig("train", "text/libsvm"), csv_weights=False)
    assert dataset.rows == 3000 and dataset.num_features == 5


def test_writer_dying_inside_gzip_data_is_a_clear_failure(fifo: Callable[..., Path]) -> None:
    blob = gzip.compress(CSV)
    data_dir = fifo([blob[: len(blob) // 2]])
    with pytest.raises(DataError, match="ended inside gzip data"):
        load_pipe(data_dir, ChannelConfig("train", "text/csv"), csv_weights=False)


def test_writer_dying_mid_row_names_the_line(fifo: Callable[..., Path]) -> None:
    cut = CSV.find(b",", len(CSV) // 2)
    data_dir = fifo([CSV[:cut]])
    last = CSV[:cut].count(b"\n") + 1
    with pytest.raises(DataError, match=rf"line {last} has 5 columns, expected 6"):
        load_pipe(data_dir, ChannelConfig("train", "text/csv"), csv_weights=False)


def test_a_stalled_writer_fails_instead_of_hanging(fifo: Callable[..., Path]) -> None:
    data_dir = fifo([CSV[:1000]], 0.0, 5.0)
    with pytest.raises(DataError, match="no data from train_0 for 1s"):
        load_pipe(
            data_dir,
            ChannelConfig("train", "text/csv"),
            csv_weights=False,
            idle_timeout=1,
        )


def test_a_fifo_that_never_appears_fails(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="did not appear"):
        load_pipe(
            tmp_path,
            ChannelConfig("train", "text/csv"),
            csv_weights=False,
            open_timeout=0.3,
        )


def _config_mode(opt_ml: Path, mode: str, channel: str = "train") -> None:
    path = opt_ml / "input" / "config" / "inputdataconfig.json"
    config = json.loads(path.read_text())
    config[channel]["TrainingInputMode"] = mode
    path.write_text(json.dumps(config))


def test_pipe_mode_job_trains(opt_ml: Path, run_main: Callable[[], Outcome]) -> None:
    write_job(opt_ml, {"num_round": "5", "nthread": "1"}, {"train": Channel("text/csv", {})})
    _config_mode(opt_ml, "Pipe")
    data = opt_ml / "input" / "data"
    os.mkfifo(data / "train_0")
    writer = Writer(data / "train_0", pieces(gzip.compress(CSV), 5000), 0.001)
    writer.start()
    outcome = run_main()
    writer.join(timeout=10)
    assert outcome.code == 0, outcome.stderr
    assert "(Pipe): 3000 rows, 5 features in 1 batch(es) streamed from train_0" in outcome.stderr


def test_fastfile_mode_trains_like_file_mode(opt_ml: Path, run_main: Callable[[], Outcome]) -> None:
    write_job(
        opt_ml, {"num_round": "5", "nthread": "1"}, {"train": Channel("text/csv", {"a.csv": CSV})}
    )
    _config_mode(opt_ml, "FastFile")
    (opt_ml / "input" / "data" / "train").chmod(0o555)  # FastFile channels are read-only
    outcome = run_main()
    assert outcome.code == 0, outcome.stderr
    assert "Channel 'train': 3000 rows, 5 features" in outcome.stderr


STREAMS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], bytes]]] = {
    "csv": ("text/csv", lambda x, y: csv_text(x, y).encode()),
    "csv_gzip": ("text/csv", lambda x, y: gzip.compress(csv_text(x, y).encode())),
    # the first rows never use the last feature: their batches are narrower until widened
    "libsvm": (
        "text/libsvm",
        lambda x, y: (libsvm_text(x[:600, :4], y[:600]) + libsvm_text(x[600:], y[600:])).encode(),
    ),
    "libsvm_gzip": ("text/libsvm", lambda x, y: gzip.compress(libsvm_text(x, y).encode())),
    "recordio": ("application/x-recordio-protobuf", lambda x, y: recordio_bytes(x, y)),
    "recordio_gzip": (
        "application/x-recordio-protobuf",
        lambda x, y: gzip.compress(recordio_bytes(x, y)),
    ),
    "parquet": ("application/x-parquet", lambda x, y: parquet_bytes(x, y)),
}
TX, TY = regression(rows=1200, features=5, seed=3)
VX, VY = regression(rows=300, features=5, seed=4)
FIT_HPS = {"num_round": "40", "max_depth": "4", "eta": "0.5", "early_stopping_rounds": "3"}


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few KB of input per batch, so every stream becomes several batches."""
    monkeypatch.setattr(batches, "CHUNK_BYTES", 8192)
    monkeypatch.setattr(pipes, "HELD_BATCH_BYTES", 8192)


@pytest.mark.parametrize("name", sorted(STREAMS))
@pytest.mark.usefixtures("small_batches")
def test_pipe_trains_the_same_trees_as_file_mode(
    fifo: Callable[..., Path], tmp_path: Path, name: str
) -> None:
    content_type, encode = STREAMS[name]
    blob = encode(TX, TY)
    folder = tmp_path / "file" / "train"
    folder.mkdir(parents=True)
    (folder / "part").write_bytes(blob)
    config = ChannelConfig("train", content_type)
    in_file = load_channel(folder, config)
    piped = load_pipe(fifo(pieces(blob, 5000)), config, csv_weights=False)
    assert piped.rows == 1200 and piped.num_features == in_file.num_features == 5
    assert piped.held and piped.cache is None
    if name != "parquet":  # Parquet needs its footer: one batch
        assert piped.count > 2
    validation = Dataset(VX.astype(np.float32), VY.astype(np.float32))
    hp = hyperparameters.parse({**FIT_HPS, "nthread": "1"})
    expected = fit(hp, in_file, validation)
    got = fit(hp, piped, validation)
    assert got.booster.get_dump() == expected.booster.get_dump()
    assert got.best_iteration == expected.best_iteration < got.rounds_trained - 1


@pytest.mark.usefixtures("small_batches")
def test_pipe_builds_the_matrix_from_its_batches_not_a_stacked_copy(
    fifo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[int] = []
    original = batches.BatchIter.next

    def counting(self: batches.BatchIter, input_data: Callable[..., None]) -> bool:
        more = original(self, input_data)
        handed.append(int(more))
        return more

    def no_stack(data: batches.Batched) -> Dataset:
        raise AssertionError("the batches were stacked")

    monkeypatch.setattr(batches.BatchIter, "next", counting)
    monkeypatch.setattr(batches, "stack", no_stack)
    piped = load_pipe(
        fifo(pieces(CSV, 7000)), ChannelConfig("train", "text/csv"), csv_weights=False
    )
    hp = hyperparameters.parse({"num_round": "3", "nthread": "1"})
    result = fit(hp, piped)
    assert piped.count > 1
    passes = handed.count(0)  # every pass over the batches ends with next() -> False
    assert passes >= 2 and sum(handed) >= 2 * piped.count
    assert result.rounds_trained == 3


@pytest.mark.usefixtures("small_batches")
def test_pipe_with_external_memory_spills_its_batches_once(
    fifo: Callable[..., Path], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    blob = gzip.compress(csv_text(TX, TY).encode())
    piped = load_pipe(
        fifo(pieces(blob, 5000)), ChannelConfig("train", "text/csv"), csv_weights=False, cache=cache
    )
    assert not piped.held and piped.cache == cache and piped.count > 2
    spilled = sorted(cache.rglob("*.npz"))
    assert len(spilled) == piped.count
    validation = Dataset(VX.astype(np.float32), VY.astype(np.float32))
    hp = hyperparameters.parse({**FIT_HPS, "nthread": "1"})
    (tmp_path / "file").mkdir()
    (tmp_path / "file" / "a.csv.gz").write_bytes(blob)
    in_file = load_channel(tmp_path / "file", ChannelConfig("train", "text/csv"))
    expected = fit(hp, in_file, validation)
    got = fit(hp, piped, validation)  # the FIFO is gone: every pass reads the spilled batches
    assert got.booster.get_dump() == expected.booster.get_dump()
    del piped
    gc.collect()  # XGBoost's DataIter sits in a reference cycle (its C callbacks)
    assert not any(cache.rglob("*")), "spilled batches outlive the channel"


def _pipe_job(opt_ml: Path, hps: dict[str, str], mode: str) -> list[Writer]:
    """train and validation (gzip CSV) as files (mode File) or FIFOs fed by writers (Pipe)."""
    blobs = {
        "train": gzip.compress(csv_text(TX, TY).encode()),
        "validation": gzip.compress(csv_text(VX, VY).encode()),
    }
    piped = mode == "Pipe"
    channels = {n: Channel("text/csv", {} if piped else {"a.gz": b}) for n, b in blobs.items()}
    write_job(opt_ml, hps, channels)
    writers: list[Writer] = []
    if piped:
        for name, blob in blobs.items():
            _config_mode(opt_ml, "Pipe", name)
            os.mkfifo(opt_ml / "input" / "data" / f"{name}_0")
            writers.append(Writer(opt_ml / "input" / "data" / f"{name}_0", pieces(blob, 4096)))
            writers[-1].start()
    return writers


def _trees(opt_ml: Path) -> list[str]:
    booster = xgb.Booster()
    booster.load_model(bytearray((opt_ml / "model" / "xgboost-model").read_bytes()))
    return list(booster.get_dump())


@pytest.mark.parametrize("external_memory", ["false", "true"])
def test_pipe_job_with_validation_trains_like_file_mode(
    opt_ml: Path, run_main: Callable[[], Outcome], external_memory: str
) -> None:
    hps = {**FIT_HPS, "nthread": "1", "external_memory": external_memory}
    _pipe_job(opt_ml, hps, "File")
    assert run_main().code == 0
    expected = _trees(opt_ml)
    writers = _pipe_job(opt_ml, hps, "Pipe")
    outcome = run_main()
    for writer in writers:
        writer.join(timeout=10)
    assert outcome.code == 0, outcome.stderr
    assert "Channel 'validation' (Pipe): 300 rows, 5 features" in outcome.stderr
    summary = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    assert summary["rows"] == {"train": 1200, "validation": 300}
    assert summary["best_iteration"] < summary["rounds_trained"] - 1
    assert _trees(opt_ml) == expected


def test_fully_replicated_hosts_take_every_nth_row_across_batches() -> None:
    parts = [
        Dataset(np.full((rows, 2), i, np.float32), np.arange(start, start + rows, dtype=np.float32))
        for i, (start, rows) in enumerate([(0, 5), (5, 4), (9, 7)])
    ]
    held = batches.hold("train", parts)
    for rank in (0, 1, 2):
        mine = batches.every_nth(held, rank, 3)
        assert batches.labels(mine).labels.tolist() == list(range(rank, 16, 3))
        assert mine.num_features == 2 and mine.rows == len(range(rank, 16, 3))
