"""external_memory=true: batches from files train the same model as the in-memory path."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sagemaker_training import recordio

from boostbox.config import ChannelConfig
from boostbox.errors import DataError, HyperparameterError
from boostbox.training import batches, external, hyperparameters
from boostbox.training.channels import align, load_channel
from boostbox.training.dataset import Dataset
from boostbox.training.fit import check_labels, fit
from tests.unit.training.builders import (
    Channel,
    csv_text,
    gz,
    libsvm_text,
    parquet_bytes,
    regression,
    write_job,
)
from tests.unit.training.conftest import Outcome
from tests.unit.training.test_channels import layout

X, Y = regression(rows=1200, features=5, seed=3)
VX, VY = regression(rows=300, features=5, seed=4)
HPS = {
    "num_round": "40",
    "max_depth": "4",
    "eta": "0.5",
    "early_stopping_rounds": "3",
    "nthread": "1",
}
SMALL_BATCH = 8192
"""Bytes of input per batch in these tests, so every text or RecordIO file is several."""


def recordio_bytes(x: np.ndarray, y: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    recordio._write_numpy_to_dense_tensor(buffer, x.astype(np.float32), y.astype(np.float32))
    return buffer.getvalue()


Files = Callable[[np.ndarray, np.ndarray], dict[str, str | bytes]]


def _half(x: np.ndarray) -> int:
    return len(x) // 2


FORMATS: dict[str, tuple[str, Files]] = {
    "csv": (
        "text/csv",
        lambda x, y: {
            "a.csv": csv_text(x[: _half(x)], y[: _half(x)]),
            "b/c.csv": csv_text(x[_half(x) :], y[_half(x) :]),
        },
    ),
    "csv_gzip": ("text/csv", lambda x, y: {"part-0": gz(csv_text(x, y))}),
    "csv_tabs": ("text/csv", lambda x, y: {"a.tsv": csv_text(x, y).replace(",", "\t")}),
    # the first file never uses the last feature: its batches are narrower until widened
    "libsvm": (
        "text/libsvm",
        lambda x, y: {
            "a.libsvm": libsvm_text(x[: _half(x), :4], y[: _half(x)]),
            "b.libsvm.gz": gz(libsvm_text(x[_half(x) :], y[_half(x) :])),
        },
    ),
    "parquet": (
        "application/x-parquet",
        lambda x, y: {
            "a.parquet": parquet_bytes(x[: _half(x)], y[: _half(x)]),
            "b.parquet": parquet_bytes(x[_half(x) :], y[_half(x) :]),
        },
    ),
    "recordio": (
        "application/x-recordio-protobuf",
        lambda x, y: {
            "a.rec": recordio_bytes(x[: _half(x)], y[: _half(x)]),
            "b.rec": gzip.compress(recordio_bytes(x[_half(x) :], y[_half(x) :])),
        },
    ),
}


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "CHUNK_BYTES", SMALL_BATCH)


def _no_check(batch: Dataset, name: str) -> None:
    del batch, name


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_external_memory_trains_the_same_trees(tmp_path: Path, name: str) -> None:
    content_type, files = FORMATS[name]
    folders = {
        "train": layout(tmp_path / "train", files(X, Y)),
        "validation": layout(tmp_path / "validation", files(VX, VY)),
    }
    hp = hyperparameters.parse(HPS)
    memory = {n: load_channel(f, ChannelConfig(n, content_type)) for n, f in folders.items()}
    cache = tmp_path / "cache"
    stream = {
        n: external.scan(f, ChannelConfig(n, content_type), cache, _no_check)
        for n, f in folders.items()
    }
    train, validation = align(stream["train"], stream["validation"])
    assert (train.rows, validation.rows) == (1200, 300)
    assert train.num_features == memory["train"].num_features == 5
    if name != "parquet":  # one batch per Parquet file; text and RecordIO are cut
        assert stream["train"].count > 2
    expected = fit(hp, memory["train"], memory["validation"])
    got = fit(hp, train, validation)
    # XGBoost merges the per-batch quantile sketches; on these sizes the cuts, and so every
    # split, come out identical (seen with xgboost 3.4): compare the trees exactly.
    assert got.booster.get_dump() == expected.booster.get_dump()
    assert got.best_iteration == expected.best_iteration < got.rounds_trained - 1
    for channel, values in expected.metrics.items():
        assert got.metrics[channel] == pytest.approx(values, rel=1e-6)
    assert not any(cache.rglob("*")), "the page cache outlives the matrices"


def test_label_errors_name_the_file_and_line_of_a_later_chunk(tmp_path: Path) -> None:
    lines = csv_text(X, Y).splitlines(keepends=True)
    lines[900] = "," + lines[900].split(",", 1)[1]  # empty label on line 901
    folder = layout(tmp_path / "train", {"a.csv": "".join(lines)})
    with pytest.raises(DataError, match=r"a\.csv: line 901: the label is empty"):
        external.scan(folder, ChannelConfig("train", "text/csv"), tmp_path, _no_check)


def test_objective_label_check_runs_on_every_batch(tmp_path: Path) -> None:
    folder = layout(tmp_path / "train", {"a.csv": csv_text(X, (Y > 2).astype(float) + 1)})
    hp = hyperparameters.parse({"num_round": "2", "objective": "binary:logistic"})
    check = external.label_check(lambda data, name: check_labels(hp, data, name))
    with pytest.raises(DataError, match=r"needs labels in \[0, 1\].*a\.csv"):
        external.scan(folder, ChannelConfig("train", "text/csv"), tmp_path, check)


def test_dense_files_of_different_widths_are_refused(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "a.csv": csv_text(X[:10], Y[:10]),
        "b.csv": csv_text(X[10:20, :3], Y[10:20]),
    }
    folder = layout(tmp_path / "train", files)
    with pytest.raises(DataError, match=r"b\.csv has 3 feature columns but the rows before"):
        external.scan(folder, ChannelConfig("train", "text/csv"), tmp_path, _no_check)


def test_sparse_batches_are_widened_to_the_channel(tmp_path: Path) -> None:
    folder = layout(
        tmp_path / "train",
        {"a": libsvm_text(X[:5, :2], Y[:5]), "b": libsvm_text(X[5:10], Y[5:10])},
    )
    channel = external.scan(folder, ChannelConfig("train", "text/libsvm"), tmp_path, _no_check)
    assert (channel.rows, channel.num_features, channel.sparse) == (10, 5, True)
    widths = [sp.csr_matrix(b.features).shape[1] for b in channel.batches()]
    assert widths == [2, 5]  # BatchIter widens each to channel.num_features


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"booster": "gblinear"}, "tree_method hist and a tree booster, not gblinear"),
        ({"tree_method": "approx"}, "not gbtree/approx"),
        ({"tree_method": "exact"}, "not gbtree/exact"),
        ({"_kfold": "3"}, "k-fold"),
    ],
)
def test_external_memory_needs_hist_and_no_kfold(extra: dict[str, str], expected: str) -> None:
    with pytest.raises(
        HyperparameterError, match=f"'external_memory' has value 'true'.*{expected}"
    ):
        hyperparameters.parse({"num_round": "2", "external_memory": "true", **extra})
    assert hyperparameters.parse(
        {"num_round": "2", "tree_method": "auto", "external_memory": "true"}
    ).external_memory
    assert not hyperparameters.parse({"num_round": "2"}).external_memory


def test_job_with_external_memory(opt_ml: Path, run_main: Callable[..., Outcome]) -> None:
    stale = opt_ml / "output" / external.CACHE_FOLDER / "train-old"
    stale.mkdir(parents=True)
    (stale / "pages.gradient_index.page").write_bytes(b"left by a killed run")
    write_job(
        opt_ml,
        {**HPS, "external_memory": "true"},
        {
            "train": Channel("text/csv", {"a.csv": csv_text(X, Y)}),
            "validation": Channel("text/csv", {"v.csv.gz": gz(csv_text(VX, VY))}),
        },
    )
    done = run_main()
    assert done.code == 0, done.stderr
    assert "read in batches (external memory)" in done.stderr
    summary = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    assert summary["rows"] == {"train": 1200, "validation": 300}
    assert summary["best_iteration"] < summary["rounds_trained"] - 1
    assert (opt_ml / "model" / "xgboost-model").stat().st_size > 0
    cache = opt_ml / "output" / external.CACHE_FOLDER
    assert not cache.exists() or not any(cache.rglob("*")), list(cache.rglob("*"))


def test_job_with_external_memory_checks_labels_per_batch(
    opt_ml: Path, run_main: Callable[[], Outcome]
) -> None:
    write_job(
        opt_ml,
        {**HPS, "objective": "binary:logistic", "external_memory": "true"},
        {"train": Channel("text/csv", {"a.csv": csv_text(X[:50], Y[:50] * 0 + 5)})},
    )
    outcome = run_main()
    assert outcome.code == 2
    assert outcome.failure is not None and "has label 5" in outcome.failure
    assert "a.csv" in outcome.failure


def test_job_refuses_unknown_channels_with_external_memory(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    write_job(
        opt_ml,
        {"num_round": "2", "external_memory": "true"},
        {
            "train": Channel("text/csv", {"a.csv": csv_text(X, Y)}),
            "validaton": Channel("text/csv", {"v.csv": csv_text(VX, VY)}),
        },
    )
    done = run_main()
    assert done.code == 2
    assert done.failure is not None and "Channel 'validaton' is not one" in done.failure
