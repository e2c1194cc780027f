"""The official algorithm's own metrics: values as sklearn defines them, lines, early stopping."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn import metrics as sk

from boostbox.training.dataset import Dataset
from boostbox.training.fit import fit
from boostbox.training.hyperparameters import parse
from boostbox.training.metrics import CLASSIFICATION, classification, regression

SKLEARN = {
    "accuracy": sk.accuracy_score,
    "balanced_accuracy": sk.balanced_accuracy_score,
    "f1": lambda t, p: sk.f1_score(t, p, average="macro"),
    "f1_macro": lambda t, p: sk.f1_score(t, p, average="macro"),
    "f1_binary": lambda t, p: sk.f1_score(t, p, average="binary", zero_division=0),
    "precision": lambda t, p: sk.precision_score(t, p, zero_division=0),
    "precision_macro": lambda t, p: sk.precision_score(t, p, average="macro", zero_division=0),
    "precision_micro": lambda t, p: sk.precision_score(t, p, average="micro", zero_division=0),
    "recall": lambda t, p: sk.recall_score(t, p, zero_division=0),
    "recall_macro": lambda t, p: sk.recall_score(t, p, average="macro", zero_division=0),
    "recall_micro": lambda t, p: sk.recall_score(t, p, average="micro", zero_division=0),
}


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("classes", [2, 3])
def test_classification_metrics_match_sklearn(name: str, classes: int) -> None:
    if name in ("f1_binary", "precision", "recall") and classes > 2:
        return
    rng = np.random.default_rng(classes)
    truth = rng.integers(0, classes, 200)
    pred = np.where(rng.random(200) < 0.7, truth, rng.integers(0, classes, 200))
    assert classification(name, truth, pred) == pytest.approx(SKLEARN[name](truth, pred))


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    truth, pred = rng.random(100), rng.random(100)
    assert regression("mse", truth, pred) == pytest.approx(sk.mean_squared_error(truth, pred))
    assert regression("r2", truth, pred) == pytest.approx(sk.r2_score(truth, pred))


def _data(seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.random((200, 4)).astype(np.float32)
    y = ((x[:, 0] + 0.3 * rng.random(200)) > 0.6).astype(np.float32)
    return Dataset(x, y)


def test_each_metric_is_its_own_line_field_and_early_stopping_follows_the_tuning_metric(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hp = parse(
        {
            "num_round": "40",
            "objective": "binary:logistic",
            "eval_metric": "logloss,f1",
            "early_stopping_rounds": "3",
            "_tuning_objective_metric": "validation:accuracy",
            "nthread": "1",
        }
    )
    with caplog.at_level(logging.INFO, logger="boostbox.metrics"):
        result = fit(hp, _data(0), _data(1))
    lines = [r.getMessage() for r in caplog.records if r.name == "boostbox.metrics"]
    for field in ("validation-logloss:", "validation-f1:", "validation-accuracy:", "train-f1:"):
        assert field in lines[0]
    assert result.eval_metric == "accuracy"
    assert result.best_score == pytest.approx(result.metrics["validation"]["accuracy"])
    assert result.rounds_trained < 40  # accuracy plateaus: stopped on it, maximising


def test_regression_with_mse_and_r2() -> None:
    rng = np.random.default_rng(2)
    x = rng.random((150, 3)).astype(np.float32)
    data = Dataset(x, (3 * x[:, 0] + x[:, 1]).astype(np.float32))
    hp = parse({"num_round": "10", "eval_metric": "r2,mse", "nthread": "1"})
    result = fit(hp, data, data)
    assert 0.5 < result.metrics["validation"]["r2"] <= 1.0
    assert result.metrics["validation"]["mse"] >= 0.0


def test_survival_aft_trains_with_its_metric_on_exact_times() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((120, 3)).astype(np.float32)
    data = Dataset(x, (1 + 3 * x[:, 0]).astype(np.float32))
    for method in ("hist", "exact"):
        hp = parse(
            {
                "num_round": "5",
                "objective": "survival:aft",
                "eval_metric": "aft-nloglik",
                "tree_method": method,
                "nthread": "1",
            }
        )
        result = fit(hp, data, data)
        assert np.isfinite(result.metrics["validation"]["aft-nloglik"])
