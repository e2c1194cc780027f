"""external_memory=true: the train channel goes through ExtMemQuantileDMatrix file by file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.training.builders import Channel, csv_text, regression, write_job
from tests.unit.training.conftest import Outcome

X, Y = regression(rows=3000, features=4, seed=9)
HPS = {"num_round": "20", "max_depth": "4", "nthread": "1", "eval_metric": "rmse"}


def _job(opt_ml: Path, hps: dict[str, str]) -> None:
    parts = {f"part-{i}.csv": csv_text(X[i::3][:900], Y[i::3][:900]) for i in range(3)}
    write_job(
        opt_ml,
        hps,
        {
            "train": Channel("text/csv", parts),
            "validation": Channel("text/csv", {"v.csv": csv_text(X[2700:], Y[2700:])}),
        },
    )


def _rmse(opt_ml: Path) -> float:
    summary = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    return float(summary["metrics"]["validation"]["rmse"])


def test_external_memory_trains_like_in_memory(
    opt_ml: Path, run_main: Callable[[], Outcome]
) -> None:
    _job(opt_ml, HPS)
    assert run_main().code == 0
    in_memory = _rmse(opt_ml)
    _job(opt_ml, {**HPS, "external_memory": "true"})
    outcome = run_main()
    assert outcome.code == 0, outcome.stderr
    assert "Channel 'train': external memory over 3 file(s)" in outcome.stderr
    assert _rmse(opt_ml) == pytest.approx(in_memory, rel=0.05)


def test_external_memory_checks_labels_per_file(
    opt_ml: Path, run_main: Callable[[], Outcome]
) -> None:
    bad = csv_text(X[:50], Y[:50] * 0 + 5)
    write_job(
        opt_ml,
        {**HPS, "objective": "binary:logistic", "external_memory": "true"},
        {"train": Channel("text/csv", {"a.csv": bad})},
    )
    outcome = run_main()
    assert outcome.code == 2
    assert outcome.failure is not None and "has label 5" in outcome.failure
