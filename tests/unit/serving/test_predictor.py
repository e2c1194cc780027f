"""Predictor: feature-count checks, path choice, custom outputs, best iteration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from boostbox import artifact
from boostbox.errors import BadRequest
from boostbox.serving.fastpath import PREDICTION_ULPS, ulp_distance
from boostbox.serving.predictor import FAST_PATH_MAX_ROWS, OutputKind, Predictor
from tests.unit.serving.conftest import NUM_FEATURE, features, save, train


@pytest.mark.parametrize("model", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("rows", [1, FAST_PATH_MAX_ROWS, FAST_PATH_MAX_ROWS + 1, 200])
def test_fast_and_xgboost_paths_agree(
    predictors: dict[str, Predictor], model: str, rows: int
) -> None:
    predictor = predictors[model]
    assert predictor.evaluator is not None
    x = features(rows=rows, seed=rows)
    expected = predictor.booster.inplace_predict(x)
    assert ulp_distance(predictor.predict(x), expected) <= PREDICTION_ULPS
    margin = predictor.booster.inplace_predict(x, predict_type="margin")
    np.testing.assert_array_equal(predictor.predict(x, OutputKind.MARGIN), margin)


def test_sparse_rows_match_dense_rows_with_missing(predictors: dict[str, Predictor]) -> None:
    predictor = predictors["binary"]
    x = np.asarray([[0.5, np.nan, -1.0, np.nan]], dtype=np.float32)
    narrow = sp.csr_matrix(([0.5, -1.0], [0, 2], [0, 2]), shape=(1, 3), dtype=np.float32)
    np.testing.assert_array_equal(predictor.predict(narrow), predictor.predict(x))
    many = sp.vstack([narrow] * 50).tocsr()
    np.testing.assert_allclose(predictor.predict(many), predictor.predict(np.repeat(x, 50, 0)))


@pytest.mark.parametrize("width", [NUM_FEATURE - 1, NUM_FEATURE + 1])
def test_dense_width_mismatch_is_400(predictors: dict[str, Predictor], width: int) -> None:
    with pytest.raises(BadRequest, match=f"expects {NUM_FEATURE} features.*has {width} columns"):
        predictors["binary"].predict(np.zeros((2, width), dtype=np.float32))


def test_sparse_wider_than_model_is_400(predictors: dict[str, Predictor]) -> None:
    wide = sp.csr_matrix(np.ones((1, NUM_FEATURE + 2), dtype=np.float32))
    with pytest.raises(BadRequest, match="highest feature index"):
        predictors["binary"].predict(wide)


@pytest.mark.parametrize(
    ("model", "kind", "shape"),
    [
        ("binary", OutputKind.CONTRIBUTIONS, (3, NUM_FEATURE + 1)),
        ("multiclass", OutputKind.CONTRIBUTIONS, (3, 3, NUM_FEATURE + 1)),
        ("binary", OutputKind.INTERACTIONS, (3, NUM_FEATURE + 1, NUM_FEATURE + 1)),
        ("binary", OutputKind.LEAF, (3, 8)),
        ("multiclass", OutputKind.LEAF, (3, 24)),
        ("multiclass", OutputKind.MARGIN, (3, 3)),
    ],
)
def test_custom_output_shapes(
    predictors: dict[str, Predictor], model: str, kind: OutputKind, shape: tuple[int, ...]
) -> None:
    out = predictors[model].predict(features(rows=3), kind)
    assert out.shape == shape
    if kind is OutputKind.LEAF:
        assert out.dtype.kind == "i"


def test_contributions_sum_to_the_margin(predictors: dict[str, Predictor]) -> None:
    predictor = predictors["regression"]
    x = features(rows=5)
    contributions = predictor.predict(x, OutputKind.CONTRIBUTIONS)
    np.testing.assert_allclose(contributions.sum(axis=1), predictor.predict(x), rtol=1e-4)


def test_best_iteration_limits_the_rounds(tmp_path: Path) -> None:
    booster = train("binary:logistic", rounds=10)
    model = artifact.load(save(booster, tmp_path, best_iteration=3))
    predictor = Predictor(model)
    assert predictor.rounds == 4
    x = features(rows=FAST_PATH_MAX_ROWS * 3)
    expected = booster.inplace_predict(x, iteration_range=(0, 4))
    assert ulp_distance(predictor.predict(x[:1]), expected[:1]) <= PREDICTION_ULPS
    assert ulp_distance(predictor.predict(x), expected) <= PREDICTION_ULPS
    leaves = predictor.predict(x[:2], OutputKind.LEAF)
    assert leaves.shape == (2, 4)


def test_without_fast_path_xgboost_serves_everything(tmp_path: Path) -> None:
    model = artifact.load(save(train("multi:softmax"), tmp_path))
    slow = Predictor(model, fast_path=False)
    fast = Predictor(model)
    assert slow.evaluator is None and fast.evaluator is not None
    x = features(rows=4)
    np.testing.assert_array_equal(slow.predict(x), fast.predict(x))


@pytest.mark.parametrize(
    ("engine", "threads", "sparse", "walked"),
    [
        ("compiled", 1, False, True),  # one XGBoost thread: the compiled walk is faster
        ("compiled", 2, False, False),  # XGBoost parallelises big batches
        ("compiled", 1, True, False),  # the walk would densify sparse rows
        ("NumPy", 1, False, False),  # the NumPy walk only pays off up to FAST_PATH_MAX_ROWS
    ],
)
def test_who_answers_a_batch(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
    threads: int,
    sparse: bool,
    walked: bool,
) -> None:
    booster = train("binary:logistic")
    predictor = Predictor(artifact.load(save(booster, tmp_path)), threads)
    assert predictor.evaluator is not None
    monkeypatch.setattr(predictor.evaluator, "engine", engine)
    asked: list[int] = []
    xgboost = predictor._xgboost

    def spy(matrix: Any, kind: OutputKind) -> np.ndarray:
        asked.append(matrix.shape[0])
        return xgboost(matrix, kind)

    monkeypatch.setattr(predictor, "_xgboost", spy)
    x = features(rows=200)
    batch = sp.csr_matrix(x) if sparse else x
    got = predictor.predict(batch)
    assert asked == ([] if walked else [200])
    assert ulp_distance(got, booster.inplace_predict(x)) <= PREDICTION_ULPS
    assert predictor.predict(x[:1]) is not None and asked == ([] if walked else [200])
