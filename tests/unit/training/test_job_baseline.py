"""The training job writes the drift-monitoring baseline (and skips it with baseline=false)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from boostbox.errors import HyperparameterError
from boostbox.monitoring.baseline import BASELINE_FILE, load_reference
from boostbox.training import hyperparameters
from tests.unit.training.builders import (
    FAST_HPS,
    Channel,
    csv_text,
    libsvm_text,
    regression,
    write_job,
)
from tests.unit.training.conftest import Outcome

X, Y = regression(rows=80, features=3)


def named_parquet() -> bytes:
    frame = pd.DataFrame({"price": Y, "age": X[:, 0], "bmi": X[:, 1], "bp": X[:, 2]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("channel", "names"),
    [
        (Channel("text/csv", {"a.csv": csv_text(X, Y)}), ["f0", "f1", "f2"]),
        (Channel("text/libsvm", {"a.libsvm": libsvm_text(X, Y)}), ["f0", "f1", "f2"]),
        (Channel("application/x-parquet", {"a.parquet": named_parquet()}), ["age", "bmi", "bp"]),
    ],
    ids=["csv", "libsvm", "parquet"],
)
def test_training_writes_the_baseline(
    channel: Channel, names: list[str], opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    write_job(opt_ml, FAST_HPS, {"train": channel})
    outcome = run_main()
    assert outcome.code == 0, outcome.stderr
    reference = load_reference(opt_ml / "model")
    assert reference is not None
    assert [c.name for c in reference.features] == names
    assert reference.rows == 80
    assert [c.present for c in reference.predictions] == [80]
    baseline = opt_ml / "output" / "data" / "baseline"
    statistics = json.loads((baseline / "statistics.json").read_text())
    assert [f["name"] for f in statistics["features"]] == names
    assert (baseline / "constraints.json").is_file()
    summary = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    assert summary["seconds"]["baseline"] >= 0


def test_predictions_come_from_validation_when_there_is_one(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    channels = {
        "train": Channel("text/csv", {"t.csv": csv_text(X[:60], Y[:60])}),
        "validation": Channel("text/csv", {"v.csv": csv_text(X[60:], Y[60:])}),
    }
    write_job(opt_ml, FAST_HPS, channels)
    assert run_main().code == 0
    reference = load_reference(opt_ml / "model")
    assert reference is not None
    assert reference.rows == 60
    assert reference.predictions[0].present == 20


def test_baseline_false_skips_it(opt_ml: Path, run_main: Callable[..., Outcome]) -> None:
    write_job(
        opt_ml,
        {**FAST_HPS, "baseline": "false"},
        {"train": Channel("text/csv", {"a.csv": csv_text(X, Y)})},
    )
    assert run_main().code == 0
    assert not (opt_ml / "model" / BASELINE_FILE).exists()
    assert not (opt_ml / "output" / "data" / "baseline").exists()


def test_baseline_hyperparameter_is_a_boolean() -> None:
    assert hyperparameters.parse({"num_round": "1"}).baseline is True
    assert hyperparameters.parse({"num_round": "1", "baseline": "False"}).baseline is False
    assert "baseline" not in hyperparameters.parse({"num_round": "1"}).xgb_params()
    with pytest.raises(HyperparameterError, match="baseline"):
        hyperparameters.parse({"num_round": "1", "baseline": "0.5"})
