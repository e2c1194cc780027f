"""The NumPy evaluator agrees with xgboost within RTOL/ATOL on every objective it serves."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from boostbox.serving.fastpath import ATOL, RTOL, TreeEvaluator
from boostbox.serving.treearrays import Unsupported
from tests.unit.serving.conftest import NUM_FEATURE, features, train

SERVED = [
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "reg:squarederror",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:absoluteerror",
    "reg:squaredlogerror",
    "reg:gamma",
    "reg:tweedie",
    "count:poisson",
    "multi:softprob",
    "multi:softmax",
    "rank:pairwise",
]


def rows_with_edges(booster: xgb.Booster) -> np.ndarray:
    """Random rows, 20% missing, plus rows sitting exactly on split thresholds."""
    x = features(rows=300, seed=11, missing=0.2)
    frame = booster.trees_to_dataframe()
    splits = frame[frame["Feature"] != "Leaf"]
    for i, (feature, threshold) in enumerate(zip(splits["Feature"], splits["Split"], strict=True)):
        x[i % len(x), int(str(feature).lstrip("f"))] = np.float32(threshold)
    return x


@pytest.mark.parametrize("objective", SERVED)
def test_evaluator_matches_xgboost(objective: str) -> None:
    booster = train(objective, rounds=12, max_depth=4)
    x = rows_with_edges(booster)
    evaluator = TreeEvaluator.from_booster(booster, booster.num_boosted_rounds(), NUM_FEATURE)
    expected = booster.inplace_predict(x)
    np.testing.assert_allclose(evaluator.predict(x), expected, rtol=RTOL, atol=ATOL)
    margin = booster.inplace_predict(x, predict_type="margin")
    np.testing.assert_allclose(evaluator.margin(x), margin, rtol=RTOL, atol=ATOL)
    one = x[:1]
    np.testing.assert_allclose(evaluator.predict(one), booster.inplace_predict(one), RTOL, ATOL)


def test_iteration_range_is_honoured() -> None:
    booster = train("multi:softprob", rounds=10)
    evaluator = TreeEvaluator.from_booster(booster, 4, NUM_FEATURE)
    x = features(rows=50, seed=3)
    expected = booster.inplace_predict(x, iteration_range=(0, 4))
    np.testing.assert_allclose(evaluator.predict(x), expected, rtol=RTOL, atol=ATOL)


def test_base_score_is_applied() -> None:
    booster = train("reg:squarederror", rounds=2, base_score=40.0)
    evaluator = TreeEvaluator.from_booster(booster, 2, NUM_FEATURE)
    x = features(rows=5)
    np.testing.assert_allclose(evaluator.predict(x), booster.inplace_predict(x), RTOL, ATOL)
    assert float(evaluator.base_margin[0]) == pytest.approx(40.0, rel=1e-3)


@pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")
@pytest.mark.parametrize(
    ("objective", "params", "reason"),
    [
        ("reg:squarederror", {"booster": "gblinear"}, "gblinear"),
        ("survival:aft", {}, "survival:aft"),
    ],
)
def test_unsupported_models_fall_back(
    objective: str, params: dict[str, object], reason: str
) -> None:
    x = features()
    dtrain = xgb.DMatrix(x, np.abs(np.nan_to_num(x[:, 0])) + 1)
    if objective == "survival:aft":
        dtrain.set_float_info("label_lower_bound", np.ones(len(x)))
        dtrain.set_float_info("label_upper_bound", np.ones(len(x)) * 2)
    booster = xgb.train({"objective": objective, **params}, dtrain, 3)
    with pytest.raises(Unsupported, match=reason):
        TreeEvaluator.from_booster(booster, 3, NUM_FEATURE)


@pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")
def test_dart_is_served_only_if_it_agrees() -> None:
    """XGBoost 3.4 saves dart as plain gbtree trees; the load-time check decides, not the name."""
    booster = train("reg:squarederror", rounds=6, booster="dart", rate_drop=0.2)
    x = features(rows=40, seed=5)
    try:
        evaluator = TreeEvaluator.from_booster(booster, 6, NUM_FEATURE)
    except Unsupported:
        return
    np.testing.assert_allclose(evaluator.predict(x), booster.inplace_predict(x), RTOL, ATOL)


def test_categorical_splits_fall_back() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(200, 2)).astype(np.float32)
    dtrain = xgb.DMatrix(x, x[:, 0] * 2, feature_types=["c", "q"], enable_categorical=True)
    booster = xgb.train({"max_cat_to_onehot": 1}, dtrain, 3)
    with pytest.raises(Unsupported, match="categorical"):
        TreeEvaluator.from_booster(booster, 3, 2)


def test_margins_follow_xgboost_float32_summation_order() -> None:
    """200 trees: a pairwise or float64 sum drifts ~1e-5 from xgboost; XGBoost's order does not."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 28)).astype(np.float32)
    label = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.float32)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 5, "nthread": 1, "seed": 0},
        xgb.DMatrix(x, label),
        200,
    )
    evaluator = TreeEvaluator.from_booster(booster, 200, 28)
    rows = rng.normal(size=(300, 28)).astype(np.float32)
    rows[rng.random(size=rows.shape) < 0.1] = np.nan
    margin = booster.inplace_predict(rows, predict_type="margin")
    assert np.max(np.abs(evaluator.margin(rows) - margin)) <= 1e-6
    assert np.max(np.abs(evaluator.predict(rows) - booster.inplace_predict(rows))) <= 1e-6
