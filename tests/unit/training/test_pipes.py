"""Pipe mode with real FIFOs fed by writer threads: slow, gzip, dying and stalling writers."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from boostbox.config import ChannelConfig
from boostbox.errors import DataError
from boostbox.training.pipes import load_pipe
from tests.unit.training.builders import Channel, csv_text, libsvm_text, regression, write_job
from tests.unit.training.conftest import Outcome

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
    dataset = load_pipe(data_dir, ChannelConfig("train", "text/csv"), "text/csv", csv_weights=False)
    assert dataset.rows == 3000 and dataset.num_features == 5
    assert np.allclose(dataset.labels, Y, atol=1e-3)


def test_gzip_libsvm_stream_with_two_members(fifo: Callable[..., Path]) -> None:
    text = libsvm_text(X, Y).encode()
    half = text.rfind(b"\n", 0, len(text) // 2) + 1
    blob = gzip.compress(text[:half]) + gzip.compress(text[half:])
    data_dir = fifo(pieces(blob, 4096))
    dataset = load_pipe(
        data_dir, ChannelConfig("train", "text/libsvm"), "text/libsvm", csv_weights=False
    )
    assert dataset.rows == 3000 and dataset.num_features == 5


def test_writer_dying_inside_gzip_data_is_a_clear_failure(fifo: Callable[..., Path]) -> None:
    blob = gzip.compress(CSV)
    data_dir = fifo([blob[: len(blob) // 2]])
    with pytest.raises(DataError, match="ended inside gzip data"):
        load_pipe(data_dir, ChannelConfig("train", "text/csv"), "text/csv", csv_weights=False)


def test_writer_dying_mid_row_names_the_line(fifo: Callable[..., Path]) -> None:
    cut = CSV.find(b",", len(CSV) // 2)
    data_dir = fifo([CSV[:cut]])
    last = CSV[:cut].count(b"\n") + 1
    with pytest.raises(DataError, match=rf"line {last} has 5 columns, expected 6"):
        load_pipe(data_dir, ChannelConfig("train", "text/csv"), "text/csv", csv_weights=False)


def test_a_stalled_writer_fails_instead_of_hanging(fifo: Callable[..., Path]) -> None:
    data_dir = fifo([CSV[:1000]], 0.0, 5.0)
    with pytest.raises(DataError, match="no data from train_0 for 1s"):
        load_pipe(
            data_dir,
            ChannelConfig("train", "text/csv"),
            "text/csv",
            csv_weights=False,
            idle_timeout=1,
        )


def test_a_fifo_that_never_appears_fails(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="did not appear"):
        load_pipe(
            tmp_path,
            ChannelConfig("train", "text/csv"),
            "text/csv",
            csv_weights=False,
            open_timeout=0.3,
        )


def _config_mode(opt_ml: Path, mode: str) -> None:
    path = opt_ml / "input" / "config" / "inputdataconfig.json"
    config = json.loads(path.read_text())
    config["train"]["TrainingInputMode"] = mode
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
    assert "(Pipe): 3000 rows, 5 features streamed from train_0" in outcome.stderr


def test_fastfile_mode_trains_like_file_mode(opt_ml: Path, run_main: Callable[[], Outcome]) -> None:
    write_job(
        opt_ml, {"num_round": "5", "nthread": "1"}, {"train": Channel("text/csv", {"a.csv": CSV})}
    )
    _config_mode(opt_ml, "FastFile")
    (opt_ml / "input" / "data" / "train").chmod(0o555)  # FastFile channels are read-only
    outcome = run_main()
    assert outcome.code == 0, outcome.stderr
    assert "Channel 'train': 3000 rows, 5 features" in outcome.stderr
