"""Training contracts of the official SageMaker XGBoost algorithm that boostbox matches.

k-fold cross-validation (fold models, out-of-fold predictions, CV metric lines), channels
other than train/validation refused, libsvm `8:`, a trailing comma on every CSV row,
missing-value spellings, Parquet index columns.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from boostbox.artifact import fold_model_files
from boostbox.training.dataset import Dataset
from boostbox.training.hyperparameters import parse
from boostbox.training.kfold import cross_validate, predictions_table, splits
from tests.unit.training.builders import FAST_HPS, Channel, csv_text, regression, write_job
from tests.unit.training.conftest import Outcome

X, Y = regression(rows=80)
CV_LINE = re.compile(r"^\[\d+\]\ttrain-\w+:[0-9.]+\tvalidation-\w+:[0-9.]+$", re.MULTILINE)


def classes(rows: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 3))
    y = np.digitize(x[:, 0] + 0.2 * rng.random(rows), [0.5, 0.9]).astype(float)
    return x, y


def test_kfold_job_writes_fold_models_predictions_and_cv_lines(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    hps = {**FAST_HPS, "_kfold": "4", "_num_cv_round": "2", "early_stopping_rounds": "2"}
    write_job(
        opt_ml,
        hps,
        {
            "train": Channel("text/csv", {"a.csv": csv_text(X[:60], Y[:60])}),
            "validation": Channel("text/csv", {"b.csv": csv_text(X[60:], Y[60:])}),
        },
    )
    outcome = run_main()
    assert (outcome.code, outcome.failure) == (0, None), outcome.stderr
    models = fold_model_files(opt_ml / "model")
    assert [p.name for p in models] == [f"xgboost-model-{i}" for i in range(8)]
    table = np.loadtxt(opt_ml / "output" / "data" / "predictions.csv", delimiter=",")
    assert table.shape == (80, 2)  # y_true, mean prediction: every row of train + validation
    np.testing.assert_allclose(table[:, 0], np.concatenate([Y[:60], Y[60:]]), atol=1e-4)
    summaries = CV_LINE.findall(outcome.stdout)
    assert len(summaries) >= 3  # one per repeat, then the overall mean
    assert summaries[-1].startswith("[5]\ttrain-rmse:")


def test_each_fold_early_stops_on_its_own_held_out_rows() -> None:
    hp = parse({"num_round": "3", "_kfold": "3", "nthread": "1", "early_stopping_rounds": "2"})
    x, y = X.astype(np.float32), Y.astype(np.float32)
    result = cross_validate(hp, Dataset(x, y))
    folds = splits(hp, y)
    for fold, (train_rows, held_rows) in zip(result.folds, folds, strict=True):
        assert set(train_rows).isdisjoint(held_rows)
        # the fold's validation metric is computed on exactly its held-out rows
        held = fold.booster.predict(xgb.DMatrix(x[held_rows]))
        rmse = float(np.sqrt(np.mean((held - y[held_rows]) ** 2)))
        assert fold.metrics["validation"]["rmse"] == pytest.approx(rmse, rel=1e-4)


def test_classification_folds_are_stratified_and_the_table_has_labels() -> None:
    x, y = classes()
    hp = parse({"num_round": "4", "_kfold": "3", "objective": "multi:softprob", "num_class": "3"})
    for _, held in splits(hp, y):
        shares = np.bincount(y[held].astype(int), minlength=3) / len(held)
        np.testing.assert_allclose(shares, np.bincount(y.astype(int)) / len(y), atol=0.05)
    result = cross_validate(hp, Dataset(x.astype(np.float32), y.astype(np.float32)))
    assert result.predictions.shape == (len(y), 3)
    assert set(np.unique(result.predictions[:, 2])) <= {0.0, 1.0, 2.0}
    assert np.all((result.predictions[:, 1] > 0.33) & (result.predictions[:, 1] <= 1.0))


def test_label_objectives_get_a_per_row_mode_over_repeats() -> None:
    hp = parse({"num_round": "2", "_kfold": "2", "_num_cv_round": "3", "objective": "binary:hinge"})
    repeats = [np.array([1.0, 0.0, 1.0]), np.array([1.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0])]
    table = predictions_table(hp, np.array([1.0, 1.0, 0.0]), repeats)
    np.testing.assert_array_equal(table[:, 2], [1, 1, 0])
    np.testing.assert_allclose(table[:, 1], [2 / 3, 2 / 3, 2 / 3])


def test_too_few_rows_of_a_class_for_the_folds_is_a_clear_error(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    y = np.zeros(30)
    y[:2] = 1
    hps = {**FAST_HPS, "_kfold": "5", "objective": "binary:logistic"}
    write_job(opt_ml, hps, {"train": Channel("text/csv", {"a.csv": csv_text(X[:30], y)})})
    outcome = run_main()
    assert outcome.code == 2 and outcome.failure is not None
    assert "'_kfold' is 5" in outcome.failure and "2 row(s)" in outcome.failure


@pytest.mark.parametrize("channel", ["test", "valdation"])
def test_other_channels_are_refused_naming_them(
    opt_ml: Path, run_main: Callable[..., Outcome], channel: str
) -> None:
    data = Channel("text/csv", {"a.csv": csv_text(X, Y)})
    write_job(opt_ml, FAST_HPS, {"train": data, channel: data})
    outcome = run_main()
    assert outcome.code == 2 and outcome.failure is not None
    assert f"Channel '{channel}'" in outcome.failure


def test_script_mode_channels_are_not_errors(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    data = Channel("text/csv", {"a.csv": csv_text(X, Y)})
    scripts = Channel(None, {"train.py": "print('hi')\n"})
    write_job(opt_ml, FAST_HPS, {"train": data, "code": scripts, "sm_drivers": scripts})
    outcome = run_main()
    assert (outcome.code, outcome.failure) == (0, None), outcome.stderr


def test_trailing_comma_column_is_dropped_with_one_log_line(
    opt_ml: Path, run_main: Callable[..., Outcome], caplog: pytest.LogCaptureFixture
) -> None:
    text = "".join(line + ",\n" for line in csv_text(X, Y).splitlines())
    write_job(opt_ml, FAST_HPS, {"train": Channel("text/csv", {"a.csv": text})})
    outcome = run_main()
    assert (outcome.code, outcome.failure) == (0, None), outcome.stderr
    assert "empty in every row (a trailing comma?)" in outcome.stderr
    metadata = (opt_ml / "model" / "boostbox-metadata.json").read_text()
    assert '"num_feature": 3' in metadata


def test_missing_value_spellings_train(opt_ml: Path, run_main: Callable[..., Outcome]) -> None:
    rows = [line.split(",") for line in csv_text(X, Y).splitlines()]
    for number, spelling in enumerate(["NA", "null", "NaN", "", "N/A"]):
        rows[number * 7][1 + number % 3] = spelling
    body = "\n".join(",".join(row) for row in rows) + "\n"
    write_job(opt_ml, FAST_HPS, {"train": Channel("text/csv", {"a.csv": body})})
    outcome = run_main()
    assert (outcome.code, outcome.failure) == (0, None), outcome.stderr


def test_libsvm_index_without_value_trains_as_xgboost_reads_it(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    body = "1 1:2 2:0.61 8:\n" + "".join(
        f"{y:.3g} 1:{a:.3g} 2:{b:.3g} 8:{c:.3g}\n" for (a, b, c), y in zip(X, Y, strict=True)
    )
    write_job(opt_ml, FAST_HPS, {"train": Channel("text/libsvm", {"a.libsvm": body})})
    outcome = run_main()
    assert (outcome.code, outcome.failure) == (0, None), outcome.stderr
    assert "line 1 has an index without a value" in outcome.stderr
    bad = "1 1:2 2:abc\n"
    write_job(opt_ml, FAST_HPS, {"train": Channel("text/libsvm", {"a.libsvm": bad})})
    outcome = run_main()
    assert outcome.code == 2 and outcome.failure is not None and "2:abc" in outcome.failure


def test_parquet_index_column_is_not_a_feature(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    frame = pd.DataFrame({"label": Y, "a": X[:, 0], "b": X[:, 1], "c": X[:, 2]})
    frame.index = pd.RangeIndex(100, 100 + len(Y))  # written as __index_level_0__
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=True)
    write_job(
        opt_ml,
        FAST_HPS,
        {"train": Channel("application/x-parquet", {"a.parquet": buffer.getvalue()})},
    )
    outcome = run_main()
    assert (outcome.code, outcome.failure) == (0, None), outcome.stderr
    metadata = (opt_ml / "model" / "boostbox-metadata.json").read_text()
    assert "__index_level_0__" not in metadata and '"num_feature": 3' in metadata
