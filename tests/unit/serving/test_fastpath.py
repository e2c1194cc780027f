"""The NumPy evaluator's margins are bit-identical to xgboost's on every objective it serves;
its predictions (after the link function) are within PREDICTION_ULPS float32 ulps."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from boostbox.serving.fastpath import PREDICTION_ULPS, TreeEvaluator, ulp_distance
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
    "survival:cox",
]
NAN_RATES = (0.0, 0.2, 0.5)
BASE_SCORES = (None, 0.3)
"""None: XGBoost estimates the intercept from the labels (boost_from_average)."""


def assert_matches(
    evaluator: TreeEvaluator, booster: xgb.Booster, x: np.ndarray, rounds: int = 0
) -> None:
    """Margins bit for bit; predictions within the stated ulp bound."""
    kwargs: dict[str, object] = {"iteration_range": (0, rounds)}
    margin = np.asarray(booster.inplace_predict(x, predict_type="margin", **kwargs))
    np.testing.assert_array_equal(evaluator.margin(x), margin.reshape(evaluator.margin(x).shape))
    expected = np.asarray(booster.inplace_predict(x, **kwargs))
    assert ulp_distance(evaluator.predict(x), expected) <= PREDICTION_ULPS


def rows_with_edges(booster: xgb.Booster, missing: float = 0.2, seed: int = 11) -> np.ndarray:
    """Random rows with `missing` NaN cells, plus rows sitting exactly on split thresholds."""
    x = features(rows=300, seed=seed, missing=missing)
    frame = booster.trees_to_dataframe()
    splits = frame[frame["Feature"] != "Leaf"]
    for i, (feature, threshold) in enumerate(zip(splits["Feature"], splits["Split"], strict=True)):
        x[i % len(x), int(str(feature).lstrip("f"))] = np.float32(threshold)
    return x


@pytest.mark.parametrize("base_score", BASE_SCORES)
@pytest.mark.parametrize("missing", NAN_RATES)
@pytest.mark.parametrize("objective", SERVED)
def test_evaluator_matches_xgboost(
    objective: str, missing: float, base_score: float | None
) -> None:
    params = {} if base_score is None else {"base_score": base_score}
    booster = train(objective, rounds=12, max_depth=4, **params)
    x = rows_with_edges(booster, missing)
    evaluator = TreeEvaluator.from_booster(booster, booster.num_boosted_rounds(), NUM_FEATURE)
    assert_matches(evaluator, booster, x)
    assert_matches(evaluator, booster, x[:1])


def test_scale_pos_weight_intercept_is_exact() -> None:
    """The reported case: base_score 0.616 (scale_pos_weight=2.5) as a float32 logit was 1 ulp
    off, so margins differed by up to 2.4e-7 on many rows; the probe let it through."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 10)).astype(np.float32)
    label = (x[:, 0] + x[:, 1] * 0.5 + rng.normal(size=2000) * 0.5 > 0.3).astype(np.float32)
    x[rng.random(size=x.shape) < 0.2] = np.nan
    params = {"objective": "binary:logistic", "scale_pos_weight": 2.5, "max_depth": 5}
    booster = xgb.train({**params, "nthread": 1, "seed": 0}, xgb.DMatrix(x, label), 200)
    evaluator = TreeEvaluator.from_booster(booster, 200, 10)
    rows = rng.normal(size=(200, 10)).astype(np.float32)
    rows[rng.random(size=rows.shape) < 0.2] = np.nan
    assert_matches(evaluator, booster, rows)


def test_an_intercept_one_ulp_off_fails_the_probe() -> None:
    """The load-time probe demands bit-identical margins: one ulp off in the intercept fails."""
    booster = train("binary:logistic", rounds=12, max_depth=4, base_score=0.3)
    evaluator = TreeEvaluator.from_booster(booster, 12, NUM_FEATURE)
    x = rows_with_edges(booster)
    margin = booster.inplace_predict(x, predict_type="margin").reshape(-1, 1)
    expected = booster.inplace_predict(x)
    assert evaluator._disagreement(x, margin, expected) == ""
    evaluator.base_margin = np.nextafter(evaluator.base_margin, np.float32(np.inf))
    assert "margin differs" in evaluator._disagreement(x, margin, expected)


def test_base_score_is_applied() -> None:
    booster = train("reg:squarederror", rounds=2, base_score=40.0)
    evaluator = TreeEvaluator.from_booster(booster, 2, NUM_FEATURE)
    x = features(rows=5)
    assert_matches(evaluator, booster, x)
    assert float(evaluator.base_margin[0]) == 40.0


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
    assert_matches(evaluator, booster, x)


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
