"""The compiled tree walk (serving/treewalk.c through serving.treewalknative) computes the NumPy
walk's margins bit for bit, and the NumPy walk serves when the library is absent.

The library under test is compiled from the current source (tests/unit/conftest.py)."""

from __future__ import annotations

import concurrent.futures
import ctypes
import functools
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from boostbox.serving import treewalknative
from boostbox.serving.fastpath import TreeEvaluator
from tests.unit.serving.conftest import NUM_FEATURE, features, train
from tests.unit.serving.test_fastpath import assert_matches, rows_with_edges

OBJECTIVES = [
    "binary:logistic",
    "reg:squarederror",
    "multi:softprob",
    "reg:logistic",
    "count:poisson",
    "binary:hinge",
]
NAN_RATES = (0.0, 0.2, 0.9)
BASE_SCORES = (None, 0.3)
DEPTHS = (1, 3, 5, 8)


@functools.cache
def booster(objective: str, base_score: float | None, depth: int) -> xgb.Booster:
    params = {} if base_score is None else {"base_score": base_score}
    return train(objective, rounds=15, max_depth=depth, **params)


def compiled_evaluator(
    library: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch, model: xgb.Booster
) -> TreeEvaluator:
    monkeypatch.setattr(treewalknative, "load", lambda: library)
    evaluator = TreeEvaluator.from_booster(model, model.num_boosted_rounds(), NUM_FEATURE)
    assert evaluator.engine == "compiled"
    return evaluator


def assert_same_margins(evaluator: TreeEvaluator, x: np.ndarray) -> None:
    compiled = evaluator._margins(x)
    numpy = evaluator._numpy_margins(x)
    assert compiled.dtype == numpy.dtype == np.float32
    assert compiled.shape == numpy.shape
    assert np.array_equal(compiled, numpy, equal_nan=True)


@pytest.mark.parametrize("rows", [1, 1000])
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("base_score", BASE_SCORES)
@pytest.mark.parametrize("missing", NAN_RATES)
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_compiled_margins_equal_numpy_margins(
    native_treewalk: ctypes.CDLL,
    monkeypatch: pytest.MonkeyPatch,
    objective: str,
    missing: float,
    base_score: float | None,
    depth: int,
    rows: int,
) -> None:
    model = booster(objective, base_score, depth)
    evaluator = compiled_evaluator(native_treewalk, monkeypatch, model)
    x = features(rows=rows, seed=rows + depth, missing=missing)
    assert_same_margins(evaluator, x)
    if rows > 1:  # and on thresholds exactly, and against xgboost itself
        edges = rows_with_edges(model, missing)
        assert_same_margins(evaluator, edges)
        assert_matches(evaluator, model, edges)


def test_two_hundred_trees_sum_alike(
    native_treewalk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench model's shape (200 trees, depth 5, 28 features): float32 rounding of a long
    sum shows any change of order."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 28)).astype(np.float32)
    label = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": 5, "nthread": 1, "seed": 0}
    model = xgb.train(params, xgb.DMatrix(x, label), 200)
    monkeypatch.setattr(treewalknative, "load", lambda: native_treewalk)
    evaluator = TreeEvaluator.from_booster(model, 200, 28)
    assert evaluator.engine == "compiled"
    rows = rng.normal(size=(1000, 28)).astype(np.float32)
    rows[rng.random(size=rows.shape) < 0.1] = np.nan
    assert_same_margins(evaluator, rows)
    assert_matches(evaluator, model, rows)


def test_any_layout_of_float32_rows_is_walked_alike(
    native_treewalk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluator = compiled_evaluator(native_treewalk, monkeypatch, booster("multi:softprob", None, 4))
    x = features(rows=50, seed=2, missing=0.2)
    wide = np.concatenate([x, x], axis=1)
    for layout in (np.asfortranarray(x), wide[:, :NUM_FEATURE], x[::2]):
        assert evaluator._walk is not None
        assert evaluator._walk.margins(layout) is not None
        np.testing.assert_array_equal(evaluator.margin(layout), evaluator.margin(layout.copy()))
        assert_same_margins(evaluator, layout)


def test_rows_the_compiled_walk_declines_go_to_numpy(
    native_treewalk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """float64 rows (compared in float64 by NumPy) and rows narrower than the model reads
    (NumPy raises) are left to the NumPy walk, so they behave as before."""
    evaluator = compiled_evaluator(
        native_treewalk, monkeypatch, booster("reg:squarederror", None, 3)
    )
    walk = evaluator._walk
    assert walk is not None
    x = features(rows=3)
    assert walk.margins(x.astype(np.float64)) is None
    assert walk.margins(x[:, :1]) is None
    assert walk.margins(x) is not None
    np.testing.assert_array_equal(
        evaluator.margin(x.astype(np.float64)), evaluator._numpy_margins(x.astype(np.float64))[:, 0]
    )
    with pytest.raises(IndexError):
        evaluator.margin(x[:1, :1])


def test_a_compiled_intercept_one_ulp_off_fails_the_probe(
    native_treewalk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled walk reads base_margin where the evaluator keeps it: the probe sees it."""
    model = booster("binary:logistic", 0.3, 4)
    evaluator = compiled_evaluator(native_treewalk, monkeypatch, model)
    x = rows_with_edges(model)
    margin = model.inplace_predict(x, predict_type="margin").reshape(-1, 1)
    expected = model.inplace_predict(x)
    assert evaluator._disagreement(x, margin, expected) == ""
    evaluator.base_margin = np.nextafter(evaluator.base_margin, np.float32(np.inf))
    assert "margin differs" in evaluator._disagreement(x, margin, expected)


def test_without_the_library_numpy_walks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger=treewalknative.__name__)
    assert treewalknative.load.__wrapped__(tmp_path / "absent.so") is None
    assert [r.levelname for r in caplog.records] == ["INFO"]
    assert "walk the trees with NumPy" in caplog.records[0].getMessage()
    monkeypatch.setattr(treewalknative, "load", lambda: None)
    model = booster("binary:logistic", None, 5)
    evaluator = TreeEvaluator.from_booster(model, model.num_boosted_rounds(), NUM_FEATURE)
    assert evaluator.engine == "NumPy"
    assert evaluator._walk is None
    x = rows_with_edges(model)
    assert_matches(evaluator, model, x)
    assert_matches(evaluator, model, x[:1])


def test_the_installed_library_is_the_one_the_evaluator_uses() -> None:
    """`make venv` (and the image) build serving/_treewalk.so: the evaluator loads it."""
    if not treewalknative.LIBRARY.is_file():
        pytest.skip("serving/_treewalk.so not built (make venv builds it)")
    model = booster("reg:squarederror", None, 3)
    evaluator = TreeEvaluator.from_booster(model, model.num_boosted_rounds(), NUM_FEATURE)
    assert evaluator.engine == "compiled"


def test_node_arrays_the_c_code_cannot_trust_are_walked_by_numpy() -> None:
    """treewalk.c reads where the arrays point: anything that could lead outside them (a
    negative feature, a child past the end) keeps the NumPy walk."""
    model = booster("reg:squarederror", None, 3)
    evaluator = TreeEvaluator.from_booster(model, model.num_boosted_rounds(), NUM_FEATURE)
    nodes, roots = evaluator._nodes, evaluator._roots
    assert treewalknative.walkable(nodes, roots)
    split = int(np.flatnonzero(~np.isnan(nodes.threshold))[0])
    last = len(nodes.left) - 1
    broken = {
        "feature": (nodes.feature, split, -1),
        "left": (nodes.left, split, last),
        "default_right": (nodes.default_right, last, True),
    }
    for name, (array, index, value) in broken.items():
        changed = array.copy()
        changed[index] = value
        fields: dict[str, Any] = {name: changed}
        assert not treewalknative.walkable(replace(nodes, **fields), roots), name
    assert not treewalknative.walkable(nodes, np.append(roots, last + 1))


def test_request_threads_share_one_compiled_walk(
    native_treewalk: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gthread workers call one evaluator from several threads (the call releases the GIL):
    each caller gets its own output buffer and its own margins."""
    evaluator = compiled_evaluator(native_treewalk, monkeypatch, booster("multi:softprob", None, 5))
    inputs = [features(rows=1 + 37 * i, seed=i, missing=0.2) for i in range(8)]
    expected = [evaluator._numpy_margins(x) for x in inputs]

    def run(i: int) -> bool:
        return all(np.array_equal(evaluator._margins(inputs[i]), expected[i]) for _ in range(50))

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(run, range(len(inputs))))
