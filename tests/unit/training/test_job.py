"""job.main end to end on a tmp /opt/ml: outputs on success, one failure line otherwise."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import xgboost as xgb

from boostbox.config import TrainingConfig
from boostbox.errors import UserError
from boostbox.paths import OptMl
from boostbox.training import job
from tests.unit.training.builders import (
    BAD_CASES,
    FAST_HPS,
    SEED_HPS,
    BadCase,
    Channel,
    csv_text,
    good_csv,
    gz,
    libsvm_text,
    parquet_bytes,
    regression,
    write_job,
)
from tests.unit.training.conftest import Outcome

X, Y = regression(rows=80, features=3)
TRAIN, VALID = slice(0, 60), slice(60, 80)

CHANNELS = {
    "csv": Channel("text/csv", {"a.csv": csv_text(X, Y)}),
    "libsvm_default": Channel(None, {"a.libsvm": libsvm_text(X, Y)}),
    "parquet": Channel("application/x-parquet", {"a.parquet": parquet_bytes(X, Y)}),
    "csv_gzip": Channel("text/csv; charset=utf-8", {"a.csv.gz": gz(csv_text(X, Y))}),
    "csv_nested": Channel(
        "text/csv",
        {"a.csv": csv_text(X[:40], Y[:40]), "p=1/q/b.csv": csv_text(X[40:], Y[40:])},
    ),
}


def model_of(opt_ml: Path) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(bytearray((opt_ml / "model" / "xgboost-model").read_bytes()))
    return booster


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_content_types_train(name: str, opt_ml: Path, run_main: Callable[..., Outcome]) -> None:
    write_job(opt_ml, FAST_HPS, {"train": CHANNELS[name]})
    outcome = run_main()
    assert (outcome.code, outcome.failure) == (0, None), outcome.stderr
    assert model_of(opt_ml).num_features() == 3
    metadata = json.loads((opt_ml / "model" / "boostbox-metadata.json").read_text())
    assert metadata["num_feature"] == 3
    assert metadata["objective"] == "reg:squarederror"
    if name == "parquet":
        assert metadata["feature_names"] == ["f0", "f1", "f2"]
    summary = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    assert summary["rows"] == {"train": 80}
    assert summary["best_iteration"] == 4
    assert (opt_ml / "output" / "success").exists()


def test_seed_hyperparameters_with_validation(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    write_job(
        opt_ml,
        SEED_HPS,
        {
            "train": Channel("text/csv", {"t.csv": csv_text(X[TRAIN], Y[TRAIN])}),
            "validation": Channel("text/csv", {"v.csv": csv_text(X[VALID], Y[VALID])}),
        },
    )
    outcome = run_main()
    assert outcome.code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0].startswith("[0]\ttrain-rmse:")
    assert all(
        re.match(r"^\[\d+\]\ttrain-rmse:[\d.]+\tvalidation-rmse:[\d.]+$", ln) for ln in lines
    )
    assert len(lines) < 200  # early stopping stopped it
    assert "reg:linear" in outcome.stderr
    summary = json.loads((opt_ml / "output" / "data" / "evaluation.json").read_text())
    assert summary["rows"] == {"train": 60, "validation": 20}
    assert model_of(opt_ml).num_boosted_rounds() == summary["best_iteration"] + 1
    assert set(summary["metrics"]) == {"train", "validation"}
    assert summary["best_score"] == pytest.approx(summary["metrics"]["validation"]["rmse"])


@pytest.mark.parametrize("case", BAD_CASES, ids=[c.name for c in BAD_CASES])
def test_bad_inputs_fail_with_one_line(
    case: BadCase, opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    case.build(opt_ml)
    with pytest.raises(UserError) as info:
        job.run(TrainingConfig.from_environ({"SAGEMAKER_BASE_DIR": str(opt_ml)}))
    for words in case.expected:
        assert words in str(info.value)
    outcome = run_main()
    assert outcome.code == 2
    assert outcome.failure is not None
    assert outcome.failure.endswith("\n") and outcome.failure.count("\n") == 1
    assert len(outcome.failure.encode()) < 1024
    for words in case.expected:
        assert words in outcome.failure
    assert "Traceback" not in outcome.failure
    assert not (opt_ml / "model" / "xgboost-model").exists()
    assert not (opt_ml / "output" / "success").exists()


def test_internal_error_exit_1_traceback_on_stderr_only(
    opt_ml: Path, run_main: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_job(opt_ml, FAST_HPS, {"train": CHANNELS["csv"]})

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(job, "fit_on_hosts", broken)
    outcome = run_main()
    assert outcome.code == 1
    assert outcome.failure == "Internal error (RuntimeError): boom second line\n"
    assert "Traceback" in outcome.stderr


def test_long_messages_are_cut_under_1024_bytes(opt_ml: Path) -> None:
    job.write_failure(OptMl(opt_ml), "é" * 2000)
    text = (opt_ml / "output" / "failure").read_text()
    assert len(text.encode()) < 1024 and text.endswith("...\n")


def test_broken_config_json_is_a_user_error(opt_ml: Path, run_main: Callable[..., Outcome]) -> None:
    write_job(opt_ml, FAST_HPS, {"train": CHANNELS["csv"]})
    (opt_ml / "input" / "config" / "hyperparameters.json").write_text("{not json")
    outcome = run_main()
    assert outcome.code == 2
    assert outcome.failure is not None and "not valid JSON" in outcome.failure


def test_stale_failure_file_is_removed_on_success(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    write_job(opt_ml, FAST_HPS, {"train": CHANNELS["csv"]})
    (opt_ml / "output").mkdir()
    (opt_ml / "output" / "failure").write_text("old\n")
    assert run_main().failure is None


def test_exact_on_two_hosts_fails_before_any_network(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    write_job(
        opt_ml,
        {**FAST_HPS, "tree_method": "exact"},
        {"train": CHANNELS["csv"]},
        resources={"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]},
    )
    outcome = run_main()
    assert outcome.code == 2
    assert outcome.failure is not None and "'tree_method' has value 'exact'" in outcome.failure


def test_checkpoint_config_resumes(opt_ml: Path, run_main: Callable[..., Outcome]) -> None:
    checkpoints = opt_ml / "checkpoints"
    job = {"train": CHANNELS["csv"]}
    write_job(opt_ml, {**FAST_HPS, "num_round": "12"}, job, checkpoint_dir=str(checkpoints))
    first = run_main()
    assert first.code == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == [
        "boostbox-checkpoint-000010.json",
        "boostbox-checkpoint-000010.ubj",
    ]
    write_job(opt_ml, {**FAST_HPS, "num_round": "13"}, job, checkpoint_dir=str(checkpoints))
    second = run_main()
    assert second.code == 0
    assert "Resuming from a checkpoint with 10 of 13 rounds" in second.stderr
    assert second.stdout.splitlines()[0].startswith("[10]\t")
    assert model_of(opt_ml).num_boosted_rounds() == 13


def test_bad_log_level_is_one_line_exit_2(opt_ml: Path, run_main: Callable[..., Outcome]) -> None:
    write_job(opt_ml, {"num_round": "3"}, {"train": Channel("text/csv", {"a.csv": good_csv()})})
    outcome = run_main(SM_LOG_LEVEL_NAME="LOUD")
    assert outcome.code == 2
    assert outcome.failure == "Config 'SM_LOG_LEVEL_NAME' has value 'LOUD'. " + (
        "Not a valid log level (DEBUG, INFO, WARNING, ERROR, CRITICAL).\n"
    )


def test_channel_that_is_not_an_object_is_a_user_error(
    opt_ml: Path, run_main: Callable[..., Outcome]
) -> None:
    write_job(opt_ml, {"num_round": "3"}, {"train": Channel("text/csv", {"a.csv": good_csv()})})
    (opt_ml / "input/config/inputdataconfig.json").write_text('{"train": "text/csv"}')
    outcome = run_main()
    assert outcome.code == 2
    assert outcome.failure is not None
    assert "inputdataconfig.json: channel 'train' has value \"text/csv\"" in outcome.failure
    assert "Internal error" not in outcome.failure
