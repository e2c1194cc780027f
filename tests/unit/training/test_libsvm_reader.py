"""read_libsvm with the compiled reader and without it (NumPy reader, then the Python parser):
the same Dataset, the same error text, the same warning."""

from __future__ import annotations

import ctypes
import gzip
import logging
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
import scipy.sparse as sp

from boostbox.errors import DataError
from boostbox.formats import libsvmnative
from boostbox.training import readers
from boostbox.training.dataset import Dataset
from boostbox.training.readers import ReadOptions, read_libsvm

TEXTS = {
    "plain": "1 1:0.5 3:2\n0 2:1\n1 1:-1.25e-3 2:7\n",
    "weighted": "1:2 1:0.5\n0 2:1\n1:0.5 3:1\n",
    "commented": "# header\n1 1:0.5 # note\n\n0 2:1\r\n",
    "qid": "1 qid:1 1:0.5\n0 qid:2 2:1\n",
    "bare": "1 1:0.5 8:\n0 2:1\n1 9:\n",
    "declined": "1 1:1_5\n0 2:1\n",  # underscores: the Python parser reads it
    "utf8 comment": "1 1:0.5 # caf\u00e9\n0 2:1\n",
}
BAD = {
    "token": "1 1:0.5\n0 2:1\n1 2:x\n",
    "index": "1 1:0.5\n0 4294967295:1\n",
    "label": "1 1:0.5\n\nnan 2:1\n",
    "weight": "1:-1 1:0.5\n",
    "infinite": "1 1:0.5\n0 2:1e39\n",
    "undecodable": "1 1:0.5\n0 2:x\n1 3:\udcff\n",
}

type Read = Callable[[Path], Dataset]


@pytest.fixture(params=["compiled", "numpy"])
def read(
    request: pytest.FixtureRequest, native_libsvm: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> Read:
    library = native_libsvm if request.param == "compiled" else None
    monkeypatch.setattr(libsvmnative, "load", lambda: library)

    def run(path: Path) -> Dataset:
        return read_libsvm(path, ReadOptions())

    return run


def _write(tmp_path: Path, text: str, gz: bool = False) -> Path:
    path = tmp_path / "train.libsvm"
    data = text.encode("utf-8", "surrogateescape")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _python(path: Path, monkeypatch: pytest.MonkeyPatch) -> Dataset:
    with monkeypatch.context() as patch:
        patch.setattr(libsvmnative, "load", lambda: None)
        patch.setattr(readers, "parse_libsvm_fast", lambda content: None)
        return read_libsvm(path, ReadOptions())


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_both_readers_give_the_python_parsers_dataset(
    tmp_path: Path, read: Read, monkeypatch: pytest.MonkeyPatch, name: str, gz: bool
) -> None:
    path = _write(tmp_path, TEXTS[name], gz)
    got, judge = read(path), _python(path, monkeypatch)
    assert got.features.shape == judge.features.shape
    dense = [sp.csr_matrix(d.features).toarray() for d in (got, judge)]
    np.testing.assert_array_equal(dense[0], dense[1])
    np.testing.assert_array_equal(got.labels, judge.labels)
    if judge.weights is None:
        assert got.weights is None
    else:
        assert got.weights is not None
        np.testing.assert_array_equal(got.weights, judge.weights)


@pytest.mark.parametrize("name", sorted(BAD))
def test_both_readers_word_errors_as_the_python_parser(
    tmp_path: Path, read: Read, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = _write(tmp_path, BAD[name])
    with pytest.raises(DataError) as judged:
        _python(path, monkeypatch)
    with pytest.raises(DataError) as got:
        read(path)
    assert str(got.value) == str(judged.value)
    assert "line" in str(got.value) or name == "undecodable"


def test_both_readers_warn_once_for_indices_without_values(
    tmp_path: Path, read: Read, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    path = _write(tmp_path, TEXTS["bare"])
    read(path)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{path}: line 1 has an index without a value (e.g. '8:'); read as 0, as XGBoost's "
        "libsvm parser does (2 line(s) like it)."
    ]


def test_another_charset_skips_the_compiled_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the compiled reader reads UTF-8/ASCII text only")

    monkeypatch.setattr(libsvmnative, "parse_file", refuse)
    path = _write(tmp_path, "1 1:0.5\n")
    options = ReadOptions(params=MappingProxyType({"charset": "latin-1"}))
    assert read_libsvm(path, options).rows == 1
