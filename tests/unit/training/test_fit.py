"""train.fit: pure training with metric lines, early stopping, best-iteration cut, checkpoints."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import scipy.sparse as sp
import xgboost as xgb

from boostbox.errors import DataError
from boostbox.training.callbacks import format_metrics
from boostbox.training.dataset import Dataset
from boostbox.training.fit import check_labels, fit
from boostbox.training.hyperparameters import parse
from tests.unit.training.builders import regression

METRIC_LINE = re.compile(r"^\[\d+\]\ttrain-rmse:[\d.]+\tvalidation-rmse:[\d.]+$")


def datasets(rows: int = 80) -> tuple[Dataset, Dataset]:
    x, y = regression(rows=rows, features=3)
    cut = rows * 3 // 4
    f32 = np.float32
    return (
        Dataset(x[:cut].astype(f32), y[:cut].astype(f32)),
        Dataset(x[cut:].astype(f32), y[cut:].astype(f32)),
    )


def test_metric_line_format() -> None:
    line = format_metrics(3, {"train": {"rmse": [0.7, 0.51]}, "validation": {"rmse": [0.62]}})
    assert line == "[3]\ttrain-rmse:0.51000\tvalidation-rmse:0.62000"


def test_early_stopping_keeps_the_best_iteration(caplog: pytest.LogCaptureFixture) -> None:
    train, validation = datasets()
    hp = parse({"num_round": "200", "early_stopping_rounds": "3", "eta": "0.5", "nthread": "1"})
    with caplog.at_level(logging.INFO, logger="boostbox.metrics"):
        result = fit(hp, train, validation)
    lines = [r.getMessage() for r in caplog.records if r.name == "boostbox.metrics"]
    assert lines and all(METRIC_LINE.match(line) for line in lines)
    assert result.rounds_trained < 200
    assert result.rounds_trained == len(lines)
    assert result.booster.num_boosted_rounds() == result.best_iteration + 1
    assert result.eval_metric == "rmse"
    assert result.best_score == pytest.approx(result.metrics["validation"]["rmse"], rel=1e-5)


def test_without_validation_early_stopping_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    train, _ = datasets()
    hp = parse({"num_round": "4", "early_stopping_rounds": "2", "nthread": "1"})
    with caplog.at_level(logging.WARNING):
        result = fit(hp, train, None)
    assert "no validation channel" in caplog.text
    assert result.booster.num_boosted_rounds() == 4
    assert result.best_iteration == 3
    assert set(result.metrics) == {"train"}


@pytest.mark.parametrize(
    "values",
    [
        {"objective": "multi:softprob", "num_class": "3", "eval_metric": "mlogloss,merror"},
        {"objective": "binary:logistic", "eval_metric": "auc,logloss"},
        pytest.param(
            {"booster": "gblinear"},
            marks=pytest.mark.filterwarnings("ignore:.*booster=gblinear. is deprecated"),
        ),
        {"booster": "dart", "rate_drop": "0.1"},
        {"tree_method": "approx", "monotone_constraints": "(1,0,0)"},
        {"tree_method": "exact", "interaction_constraints": "[[0,1],[2]]"},
    ],
    ids=["multi", "binary", "gblinear", "dart", "approx", "exact"],
)
def test_objectives_and_boosters_train(values: dict[str, str]) -> None:
    train, validation = datasets()
    if "num_class" in values:
        train = Dataset(train.features, np.floor(train.labels) % 3)
        validation = Dataset(validation.features, np.floor(validation.labels) % 3)
    elif values.get("objective") == "binary:logistic":
        train = Dataset(train.features, (train.labels > 2).astype(np.float32))
        validation = Dataset(validation.features, (validation.labels > 2).astype(np.float32))
    hp = parse({"num_round": "3", "nthread": "1", "early_stopping_rounds": "2", **values})
    result = fit(hp, train, validation)
    assert result.booster.num_boosted_rounds() >= 1
    if "eval_metric" in values:
        assert result.eval_metric == values["eval_metric"].split(",")[-1]


def test_sparse_features_and_weights() -> None:
    x, y = regression(rows=40)
    data = Dataset(
        sp.csr_matrix(x.astype(np.float32)), y.astype(np.float32), np.ones(40, np.float32)
    )
    result = fit(parse({"num_round": "2", "nthread": "1"}), data)
    assert result.booster.num_features() == 3


@pytest.mark.parametrize(
    ("values", "labels", "expected"),
    [
        ({"objective": "multi:softmax", "num_class": "3"}, [0, 1, 3], "row 3 has label 3"),
        ({"objective": "multi:softmax", "num_class": "3"}, [0, 1.5], "row 2 has label 1.5"),
        ({"objective": "binary:logistic"}, [0, 1, 2], "needs labels in [0, 1]"),
        ({"objective": "count:poisson"}, [1, -1], "needs labels >= 0"),
    ],
)
def test_labels_checked_against_objective(
    values: dict[str, str], labels: list[float], expected: str
) -> None:
    data = Dataset(np.zeros((len(labels), 1), np.float32), np.asarray(labels, np.float32))
    with pytest.raises(DataError, match=re.escape(expected)):
        check_labels(parse({"num_round": "1", **values}), data, "train")


def test_saved_model_predicts_like_best_iteration() -> None:
    train, validation = datasets()
    hp = parse({"num_round": "50", "early_stopping_rounds": "2", "eta": "0.9", "nthread": "1"})
    result = fit(hp, train, validation)
    reloaded = xgb.Booster()
    reloaded.load_model(bytearray(result.booster.save_raw(raw_format="ubj")))
    dval = xgb.DMatrix(validation.features)
    np.testing.assert_allclose(reloaded.predict(dval), result.booster.predict(dval))
    assert reloaded.num_boosted_rounds() == result.best_iteration + 1


@pytest.mark.parametrize(
    "values",
    [
        {"num_round": "6", "eval_metric": "rmse,mae"},
        {"num_round": "200", "early_stopping_rounds": "3", "eta": "0.5"},  # cut at the best
        {"num_round": "6", "eval_metric": "rmse,r2"},  # one of the official's own metrics
    ],
    ids=["plain", "early-stopping", "custom-metric"],
)
def test_final_metrics_come_from_the_training_log_not_another_pass(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str]
) -> None:
    """xgboost.train drops its prediction cache on return: evaluating the model again would
    be a full pass over every data set. The kept model's metrics are the logged ones."""
    train, validation = datasets()
    hp = parse(values | {"nthread": "1"})
    after: list[str] = []
    evaluate = xgb.Booster.eval_set
    training = [True]

    def spy(self: xgb.Booster, *args: object, **kwargs: object) -> str:
        if not training[0]:
            after.append("eval_set")
        return evaluate(self, *args, **kwargs)  # type: ignore[arg-type]

    real_cut = fit.__globals__["_cut"]

    def cut(*args: object) -> object:
        training[0] = False
        return real_cut(*args)

    monkeypatch.setattr(xgb.Booster, "eval_set", spy)
    monkeypatch.setitem(fit.__globals__, "_cut", cut)
    result = fit(hp, train, validation)
    assert after == []
    for data, matrix in (("train", train), ("validation", validation)):
        line = evaluate(result.booster, [(xgb.DMatrix(matrix.features, matrix.labels), data)])
        for item in line.split("\t")[1:]:
            key, _, value = item.rpartition(":")
            metric = key.partition("-")[2]
            assert result.metrics[data][metric] == pytest.approx(float(value), rel=1e-6)
