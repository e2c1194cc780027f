"""Pipe mode in the image: FIFOs on the mounted /opt/ml, fed by writers on the host, train the
same model as the same bytes as files (File mode)."""

from __future__ import annotations

import gzip
import json
import os
import threading
from pathlib import Path

import pytest
import xgboost as xgb

from tests.support import docker_run
from tests.unit.training.builders import Channel, csv_text, regression, write_job
from tests.unit.training.test_external import recordio_bytes

pytestmark = pytest.mark.container

X, Y = regression(rows=4000, features=6, seed=11)
VX, VY = regression(rows=500, features=6, seed=12)
HPS = {"num_round": "30", "max_depth": "4", "eta": "0.4", "early_stopping_rounds": "3"}
BLOBS = {
    "train": ("text/csv", gzip.compress(csv_text(X, Y).encode())),
    "validation": ("application/x-recordio-protobuf", recordio_bytes(VX, VY)),
}


def _write(fifo: Path, blob: bytes) -> None:
    try:
        with fifo.open("wb") as out:
            for start in range(0, len(blob), 4096):
                out.write(blob[start : start + 4096])
    except BrokenPipeError:
        pass  # the container gave up; its failure line says why


def _trees(opt_ml: Path) -> list[str]:
    booster = xgb.Booster()
    booster.load_model(bytearray((opt_ml / "model" / "xgboost-model").read_bytes()))
    return list(booster.get_dump())


def test_pipe_mode_trains_like_file_mode(image: str, tmp_path: Path) -> None:
    del image  # built and named by the fixture
    files = tmp_path / "file"
    write_job(files, HPS, {n: Channel(t, {"part": b}) for n, (t, b) in BLOBS.items()})
    done = docker_run(["train"], opt_ml=files)
    assert done.returncode == 0, done.stderr[-3000:]

    piped = tmp_path / "pipe"
    write_job(piped, HPS, {n: Channel(t, {}) for n, (t, _) in BLOBS.items()})
    config_path = piped / "input" / "config" / "inputdataconfig.json"
    config = json.loads(config_path.read_text())
    writers = []
    for name, (_, blob) in BLOBS.items():
        config[name]["TrainingInputMode"] = "Pipe"
        fifo = piped / "input" / "data" / f"{name}_0"
        os.mkfifo(fifo, 0o666)
        writers.append(threading.Thread(target=_write, args=(fifo, blob), daemon=True))
        writers[-1].start()
    config_path.write_text(json.dumps(config))
    done = docker_run(["train"], opt_ml=piped)
    for writer in writers:
        writer.join(timeout=30)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Channel 'train' (Pipe): 4000 rows, 6 features" in done.stderr
    assert "Channel 'validation' (Pipe): 500 rows, 6 features" in done.stderr
    assert _trees(piped) == _trees(files)
