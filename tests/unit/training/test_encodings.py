"""Algorithm mode reads hyperparameters.json alike whichever client encoded it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boostbox.config import TrainingConfig, decode_hyperparameter
from boostbox.training import hyperparameters

ENCODINGS = {
    "plain (v2 Estimator, str())": {
        "objective": "binary:logistic",
        "num_round": "5",
        "eta": "0.1",
        "csv_weights": "True",
        "eval_metric": "['auc', 'logloss']",
        "monotone_constraints": "(1, 0)",
    },
    "JSON (v2 framework estimators)": {
        "objective": '"binary:logistic"',
        "num_round": "5",
        "eta": "0.1",
        "csv_weights": "true",
        "eval_metric": '["auc", "logloss"]',
        "monotone_constraints": '"(1, 0)"',
        "sagemaker_program": '"train.py"',
    },
    "v3 (strings plain, JSON otherwise)": {
        "objective": "binary:logistic",
        "num_round": "5",
        "eta": "0.1",
        "csv_weights": "true",
        "eval_metric": '["auc", "logloss"]',
        "monotone_constraints": "[1, 0]",
    },
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_each_encoding_parses_to_the_same_hyperparameters(tmp_path: Path, encoding: str) -> None:
    config_dir = tmp_path / "input" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "hyperparameters.json").write_text(json.dumps(ENCODINGS[encoding]))
    config = TrainingConfig.from_environ({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    hp = hyperparameters.parse(config.hyperparameters)
    assert hp.objective == "binary:logistic"
    assert hp.num_round == 5
    assert hp.params["eta"] == pytest.approx(0.1)
    assert hp.csv_weights is True
    assert hp.eval_metric == ("auc", "logloss")
    assert hp.monotone_constraints == (1, 0)


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ('"train.py"', "train.py"),
        ("train.py", "train.py"),
        ("true", "true"),
        ("[1, 2]", "[1, 2]"),
        ('"unterminated', '"unterminated'),
        ('"a" "b"', '"a" "b"'),
        ("", ""),
    ],
)
def test_only_json_string_literals_are_decoded(raw: str, decoded: str) -> None:
    assert decode_hyperparameter(raw) == decoded
