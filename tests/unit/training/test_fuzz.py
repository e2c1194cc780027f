"""Property tests: any file a reader gets, any hyperparameters.json, any small job either
works or fails with a UserError (exit 2, one line); never an internal error."""

from __future__ import annotations

import gzip
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boostbox.errors import UserError
from boostbox.training import job
from boostbox.training.hyperparameters import parse
from boostbox.training.hyperparameters.table import ALIASES, OBJECTIVES, TABLE
from boostbox.training.readers import READERS, ReadOptions
from tests.unit.training.builders import FAST_HPS, Channel, write_job

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOKENS = st.sampled_from(
    ["0", "1", "-1", "0.5", "1e39", "-1e400", "inf", "-inf", "nan", "NaN", "", " ", "abc",
     "18446744073709551616", "9" * 40, "1:2", "-1:0.5", "0:inf", "1.5:2", "#", '"', "\t"]
)  # fmt: skip
SEPARATORS = st.sampled_from([",", " ", "\n", "\r\n", ":", ";", "\t"])


@st.composite
def texts(draw: st.DrawFn) -> bytes:
    """Rows of numbers-or-junk tokens: close enough to CSV/libsvm to reach the parsers."""
    parts = draw(st.lists(st.tuples(TOKENS, SEPARATORS), max_size=60))
    text = "".join(token + sep for token, sep in parts)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@st.composite
def parquet_files(draw: st.DrawFn) -> bytes:
    columns = draw(st.integers(min_value=1, max_value=4))
    rows = draw(st.integers(min_value=0, max_value=6))
    kinds = st.sampled_from(["float", "int", "bool", "str", "null"])
    frame = {}
    for number in range(columns):
        kind = draw(kinds)
        if kind == "float":
            values: list[object] = draw(st.lists(st.floats(width=64), min_size=rows, max_size=rows))
        elif kind == "int":
            values = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows))
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
        elif kind == "str":
            values = draw(st.lists(st.text(max_size=5), min_size=rows, max_size=rows))
        else:
            values = [None] * rows
        frame[f"c{number}"] = pd.Series(values, dtype=object if kind == "null" else None)
    buffer = io.BytesIO()
    pd.DataFrame(frame).to_parquet(buffer, index=False)
    data = buffer.getvalue()
    cut = draw(st.sampled_from([None, None, None, len(data) // 2, len(data) - 1]))
    return data if cut is None else data[:cut]


BODIES = st.one_of(
    texts(),
    st.binary(max_size=300),
    parquet_files(),
    texts().map(lambda b: gzip.compress(b, mtime=0)),
    texts().map(lambda b: gzip.compress(b, mtime=0)[:-4]),
)


@FUZZ
@given(media=st.sampled_from(sorted(READERS)), body=BODIES, weights=st.booleans())
def test_readers_return_a_dataset_or_raise_a_user_error(
    media: str, body: bytes, weights: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "part"
        path.write_bytes(body)
        try:
            dataset = READERS[media](path, ReadOptions(csv_weights=weights))
        except UserError:
            return
        assert dataset.features.shape[0] == dataset.labels.shape[0]
        assert np.isfinite(dataset.labels).all()


NAMES = st.sampled_from(sorted({*TABLE, *ALIASES}))
VALUES = st.one_of(
    TOKENS,
    st.sampled_from(OBJECTIVES),
    st.sampled_from(["[[0, 1]]", "[[0, 7]]", "(1,-1,0)", "[1, 0, -1]", "true", "hist", "gbtree"]),
    st.integers(-5, 300).map(str),
    st.floats(allow_nan=True).map(str),
    st.text(max_size=12),
)


@FUZZ
@given(raw=st.dictionaries(st.one_of(NAMES, st.text(max_size=10)), VALUES, max_size=8))
def test_hyperparameter_parser_never_fails_internally(raw: dict[str, str]) -> None:
    try:
        parse({"num_round": "3", **raw}, num_cpus=2)
    except UserError:
        pass


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=BODIES,
    media=st.sampled_from(["text/csv", "text/libsvm", "application/x-parquet"]),
    hps=st.dictionaries(NAMES, VALUES, max_size=3),
)
def test_small_jobs_train_or_fail_with_a_user_error(
    body: bytes, media: str, hps: dict[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write_job(
            Path(folder), {**FAST_HPS, **hps}, {"train": Channel(media, {"part": body})}
        )
        code = job.main({"SAGEMAKER_BASE_DIR": str(root)})
        failure = root / "output" / "failure"
        assert code in (0, 2), failure.read_text() if failure.exists() else code
        if code == 2:
            assert failure.read_text().count("\n") == 1
        else:
            assert json.loads((root / "model" / "boostbox-metadata.json").read_text())
