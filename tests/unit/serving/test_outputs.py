"""SAGEMAKER_INFERENCE_OUTPUT selection and the encoders' record layout."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from boostbox.formats.recordio import frames as _frames
from boostbox.serving.codecs import ENCODERS
from boostbox.serving.codecs.common import rows_text
from boostbox.serving.outputs import FAST_TEXT_MIN, Output, Selection, float32_text

ALL = ("predicted_label", "labels", "probability", "probabilities", "raw_score", "raw_scores")


def records(objective: str, values: list[Any], keys: tuple[str, ...] = ALL) -> list[Any]:
    selected = Selection(keys, objective, 3).select(np.asarray(values, dtype=np.float32))
    assert selected.records is not None
    return selected.records


def test_binary_logistic_answers_every_classification_key() -> None:
    assert records("binary:logistic", [0.25, 0.75]) == [
        {
            "predicted_label": 0,
            "labels": [0, 1],
            "probability": 0.25,
            "probabilities": [0.75, 0.25],
            "raw_score": 0.25,
            "raw_scores": [0.75, 0.25],
        },
        {
            "predicted_label": 1,
            "labels": [0, 1],
            "probability": 0.75,
            "probabilities": [0.25, 0.75],
            "raw_score": 0.75,
            "raw_scores": [0.25, 0.75],
        },
    ]


def test_softprob_uses_argmax_and_max() -> None:
    (row,) = records("multi:softprob", [[0.25, 0.5, 0.25]])
    assert row["predicted_label"] == 1
    assert row["labels"] == [0, 1, 2]
    assert row["probability"] == 0.5
    assert row["probabilities"] == [0.25, 0.5, 0.25]
    assert row["raw_scores"] == [0.25, 0.5, 0.25]


@pytest.mark.parametrize(
    ("objective", "value", "label"),
    [
        ("binary:logitraw", -0.5, 0),
        ("binary:logitraw", 1.5, 1),
        ("binary:hinge", 1.0, 1),
        ("multi:softmax", 2.0, 2),
    ],
)
def test_raw_objectives_have_no_probabilities(objective: str, value: float, label: int) -> None:
    (row,) = records(objective, [value])
    assert row["predicted_label"] == label
    assert row["raw_score"] == value
    assert row["raw_scores"] == [1 - value, value]  # the official container's formula
    assert math.isnan(row["probability"]) and math.isnan(row["probabilities"])


def test_regression_answers_predicted_score_and_nan_for_the_rest() -> None:
    (row,) = records("reg:squarederror", [3.5], ("predicted_score", "predicted_label"))
    assert row["predicted_score"] == 3.5
    assert math.isnan(row["predicted_label"])
    assert list(row) == ["predicted_score", "predicted_label"]


def selected_output() -> Output:
    return Selection(("predicted_label", "probabilities"), "binary:logistic", 0).select(
        np.asarray([0.25, 0.75], dtype=np.float32)
    )


@pytest.mark.parametrize(
    ("accept", "batch", "expected"),
    [
        ("text/csv", False, b'0,"[0.75, 0.25]"\n1,"[0.25, 0.75]"\n'),
        ("text/csv", True, b'0,"[0.75, 0.25]"\n1,"[0.25, 0.75]"\n'),
        (
            "application/json",
            False,
            b'{"predictions":[{"predicted_label":0,"probabilities":[0.75,0.25]},'
            b'{"predicted_label":1,"probabilities":[0.25,0.75]}]}',
        ),
        (
            "application/json",
            True,
            b'{"predicted_label":0,"probabilities":[0.75,0.25]}\n'
            b'{"predicted_label":1,"probabilities":[0.25,0.75]}\n',
        ),
        (
            "application/jsonlines",
            False,
            b'{"predicted_label":0,"probabilities":[0.75,0.25]}\n'
            b'{"predicted_label":1,"probabilities":[0.25,0.75]}\n',
        ),
    ],
)
def test_selected_outputs_encode(accept: str, batch: bool, expected: bytes) -> None:
    assert ENCODERS[accept](selected_output(), batch) == expected


@pytest.mark.parametrize(
    ("values", "accept", "batch", "expected"),
    [
        ([0.43, 0.1], "text/csv", False, b"0.43\n0.1\n"),
        ([[0.2, 0.8]], "text/csv", True, b"0.2,0.8\n"),
        ([0.43, 0.1], "application/json", False, b'{"predictions":[{"score":0.43},{"score":0.1}]}'),
        ([[0.2, 0.8]], "application/json", False, b'{"predictions":[{"score":[0.2,0.8]}]}'),
        ([0.43, 0.1], "application/json", True, b"0.43\n0.1\n"),
        ([[0.2, 0.8]], "application/json", True, b"[0.2,0.8]\n"),
        ([0.43, float("nan")], "application/jsonlines", False, b'{"score":0.43}\n{"score":null}\n'),
    ],
)
def test_plain_outputs_encode(values: list[Any], accept: str, batch: bool, expected: bytes) -> None:
    output = Output(key="score", values=np.asarray(values, dtype=np.float32))
    assert ENCODERS[accept](output, batch) == expected


def test_multiclass_contributions_flatten_in_csv_and_nest_in_json() -> None:
    values = np.arange(12, dtype=np.float32).reshape(1, 2, 6)
    output = Output(key="contributions", values=values)
    expected = ",".join(f"{i}.0" for i in range(12)) + "\n"
    assert ENCODERS["text/csv"](output, False) == expected.encode()
    body = json.loads(ENCODERS["application/json"](output, False))
    assert body == {"predictions": [{"contributions": [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]}]}


def test_recordio_output_has_one_record_per_prediction() -> None:
    from sagemaker_training.record_pb2 import Record

    body = ENCODERS["application/x-recordio-protobuf"](selected_output(), False)
    frames = list(_frames(body))
    assert len(frames) == 2
    record = Record()
    record.ParseFromString(frames[1])
    assert list(record.label["predicted_label"].float32_tensor.values) == [1.0]
    assert list(record.label["probabilities"].float32_tensor.values) == [0.25, 0.75]


@pytest.mark.parametrize("size", [10, FAST_TEXT_MIN, 5000])
@pytest.mark.parametrize("kind", ["probabilities", "any-bits", "magnitudes", "whole", "special"])
def test_float32_text_is_numpys_text(size: int, kind: str) -> None:
    """The fast formatter writes every value exactly as NumPy's str(np.float32(v)) does."""
    rng = np.random.default_rng(size)
    if kind == "probabilities":
        values = rng.random(size).astype(np.float32)
    elif kind == "any-bits":
        values = rng.integers(0, 2**32, size=size, dtype=np.uint64).astype(np.uint32)
        values = values.view(np.float32)
    elif kind == "magnitudes":
        values = (rng.random(size) * 10.0 ** rng.uniform(-6, 8, size)).astype(np.float32)
        values *= rng.choice(np.asarray([-1, 1], dtype=np.float32), size)
    elif kind == "whole":
        values = rng.integers(-200_000, 200_000, size).astype(np.float32)
    else:
        edges = [0.0, -0.0, 1e-3, 1e5, 99999.99, 1e-4, 1e6, np.nan, np.inf, -np.inf, 1.0, 0.5]
        values = np.resize(np.asarray(edges, dtype=np.float32), size)
        values[::3] = np.nextafter(values[::3], np.float32(np.inf))
    np.testing.assert_array_equal(float32_text(values), values.astype(str))
    two_d = Output(key="score", values=np.resize(values, (size // 2, 2)))
    expected = [",".join(row) for row in two_d.values.astype(str).tolist()]
    assert rows_text(two_d) == expected
