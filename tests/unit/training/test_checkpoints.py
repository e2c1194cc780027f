"""Checkpoints: a resumed run equals an uninterrupted one (trees, best iteration), foreign or
corrupt checkpoints are not used, files appear atomically and only the newest few stay."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from boostbox.training.checkpoints import KEEP, Checkpoints, Resumed, fingerprint
from boostbox.training.dataset import Dataset
from boostbox.training.fit import Continuation, FitResult, fit
from boostbox.training.hyperparameters import Hyperparameters, parse
from tests.unit.training.builders import regression

ES_HPS = {
    "num_round": "300",
    "max_depth": "4",
    "eta": "0.3",
    "nthread": "1",
    "early_stopping_rounds": "8",
    "checkpoint_interval": "3",
}


def datasets(seed: int = 0) -> tuple[Dataset, Dataset]:
    x, y = regression(rows=300, features=4, seed=seed)
    # Noisy target: validation stops improving early, so early stopping really acts.
    y = y + np.random.default_rng(seed + 1).normal(0, 0.8, len(y))
    f32 = np.float32
    return (
        Dataset(x[:200].astype(f32), y[:200].astype(f32)),
        Dataset(x[200:].astype(f32), y[200:].astype(f32)),
    )


def store(folder: Path, hp: Hyperparameters, features: int = 4) -> Checkpoints:
    params = {**hp.xgb_params(), "early_stopping_rounds": hp.early_stopping_rounds}
    return Checkpoints(folder, fingerprint(params, features), hp.checkpoint_interval)


def stop_after(rounds: int) -> Continuation:
    """Stands in for SIGTERM arriving during round `rounds` (counted by the poll)."""
    polls = iter(range(1, 10**6))
    return Continuation(stop_requested=lambda: next(polls) >= rounds)


def interrupted_then_resumed(
    folder: Path, hp: Hyperparameters, at: int, seed: int = 0
) -> tuple[FitResult, FitResult]:
    train, validation = datasets(seed)
    checkpoints = store(folder, hp)
    how = stop_after(at)
    first = fit(hp, train, validation, how=Continuation(None, checkpoints, how.stop_requested))
    resumed = store(folder, hp).resume()
    assert resumed is not None and resumed.rounds == at
    second = fit(hp, train, validation, how=Continuation(resumed, store(folder, hp)))
    return first, second


def test_resumed_run_equals_uninterrupted_run_with_early_stopping(tmp_path: Path) -> None:
    hp = parse(ES_HPS)
    train, validation = datasets()
    whole = fit(hp, train, validation)
    assert whole.best_iteration < whole.rounds_trained - 1, "early stopping must act"
    # Interrupt after the best iteration, while early stopping counts rounds without gain.
    at = whole.best_iteration + 3
    first, second = interrupted_then_resumed(tmp_path / "ckpt", hp, at)
    assert first.stopped and first.rounds_trained == at
    assert second.best_iteration == whole.best_iteration
    assert second.rounds_trained == whole.rounds_trained
    assert second.booster.get_dump() == whole.booster.get_dump()
    assert second.best_score == pytest.approx(whole.best_score)


def test_without_the_saved_state_xgboost_continuation_would_differ(tmp_path: Path) -> None:
    """The test above can fail: drop the early-stopping state and the result changes."""
    hp = parse(ES_HPS)
    train, validation = datasets()
    whole = fit(hp, train, validation)
    at = whole.best_iteration + 3
    interrupted_then_resumed(tmp_path / "ckpt", hp, at)
    found = store(tmp_path / "ckpt", hp).resume()
    assert found is not None
    amnesic = Resumed(found.booster, found.rounds, None)
    again = fit(hp, train, validation, how=Continuation(amnesic))
    assert again.rounds_trained != whole.rounds_trained


def test_subsampling_resume_is_documented_as_close_not_equal(tmp_path: Path) -> None:
    """XGBoost restarts its random generator from `seed` on continuation: the rounds after
    the resume draw other rows, so the model differs; the metric stays close."""
    hp = parse({**ES_HPS, "subsample": "0.7", "early_stopping_rounds": "300", "num_round": "40"})
    train, validation = datasets()
    whole = fit(hp, train, validation)
    _, second = interrupted_then_resumed(tmp_path / "ckpt", hp, 20)
    assert second.rounds_trained == whole.rounds_trained == 40
    assert second.booster.get_dump()[:20] == whole.booster.get_dump()[:20]
    assert second.metrics["validation"]["rmse"] == pytest.approx(
        whole.metrics["validation"]["rmse"], rel=0.1
    )


def test_another_jobs_checkpoint_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "ckpt"
    old = parse({**ES_HPS, "max_depth": "6", "num_round": "9"})
    train, validation = datasets()
    fit(old, train, validation, how=Continuation(checkpoints=store(folder, old)))
    new = parse({**ES_HPS, "num_round": "5"})
    with caplog.at_level(logging.WARNING):
        assert store(folder, new).resume() is None
    assert "Ignoring checkpoint boostbox-checkpoint-000009" in caplog.text
    assert store(folder, new, features=5).resume() is None
    assert store(folder, old).resume() is not None


def test_corrupt_newest_checkpoint_falls_back_to_the_previous(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "ckpt"
    hp = parse({**ES_HPS, "num_round": "9", "early_stopping_rounds": "50"})
    train, validation = datasets()
    fit(hp, train, validation, how=Continuation(checkpoints=store(folder, hp)))
    (folder / "boostbox-checkpoint-000009.ubj").write_bytes(b"\x00garbage")
    with caplog.at_level(logging.WARNING):
        found = store(folder, hp).resume()
    assert found is not None and found.rounds == 6
    assert "Skipping unreadable checkpoint boostbox-checkpoint-000009" in caplog.text


def test_only_the_newest_checkpoints_stay_and_no_partial_files(tmp_path: Path) -> None:
    folder = tmp_path / "ckpt"
    hp = parse({**ES_HPS, "num_round": "20", "early_stopping_rounds": "50"})
    train, validation = datasets()
    fit(hp, train, validation, how=Continuation(checkpoints=store(folder, hp)))
    assert store(folder, hp).rounds_saved() == [12, 15, 18][-KEEP:]
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.endswith(".sagemaker-ignore")]
    sidecar = json.loads((folder / "boostbox-checkpoint-000018.json").read_text())
    assert sidecar["rounds"] == 18 and sidecar["stopping"]["metric"] == "rmse"


def test_resumed_blob_round_trips(tmp_path: Path) -> None:
    folder = tmp_path / "ckpt"
    hp = parse({**ES_HPS, "num_round": "6"})
    train, validation = datasets()
    fit(hp, train, validation, how=Continuation(checkpoints=store(folder, hp)))
    found = store(folder, hp).resume()
    assert found is not None
    again = Resumed.from_bytes(found.to_bytes())
    assert again.rounds == found.rounds and again.stopping == found.stopping
    assert again.booster.get_dump() == found.booster.get_dump()
