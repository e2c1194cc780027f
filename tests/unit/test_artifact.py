"""artifact: the file names, save/load round trip, fallbacks, pickles only on opt-in, versions."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from boostbox import artifact
from boostbox.artifact import METADATA_FILE, MODEL_FILE, ModelMetadata
from boostbox.errors import AlgorithmError, ModelLoadError


@pytest.fixture
def booster() -> xgb.Booster:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    params = {"objective": "binary:logistic", "nthread": 1}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=3)


def test_save_then_load_round_trips_model_and_metadata(
    tmp_path: Path, booster: xgb.Booster
) -> None:
    metadata = ModelMetadata.from_booster(booster, best_iteration=2, eval_metric="logloss")
    path = artifact.save(booster, tmp_path, metadata)
    assert path == tmp_path / MODEL_FILE
    assert json.loads((tmp_path / METADATA_FILE).read_text())["best_iteration"] == 2
    loaded = artifact.load(tmp_path)
    assert loaded.metadata.objective == "binary:logistic"
    assert loaded.metadata.num_feature == 3
    assert loaded.booster.num_boosted_rounds() == 3


@pytest.mark.parametrize("name", artifact.OTHER_MODEL_NAMES)
def test_other_model_names_are_found_when_xgboost_model_is_absent(
    tmp_path: Path, booster: xgb.Booster, name: str
) -> None:
    booster.save_model(tmp_path / (name if name != "model.bst" else "model.ubj"))
    if name == "model.bst":
        (tmp_path / "model.ubj").rename(tmp_path / name)
    assert artifact.find_model_file(tmp_path).name == name
    assert artifact.load(tmp_path).booster.num_boosted_rounds() == 3


def test_xgboost_model_wins_over_other_names(tmp_path: Path, booster: xgb.Booster) -> None:
    booster.save_model(tmp_path / "model.json")
    artifact.save(booster, tmp_path, ModelMetadata.from_booster(booster))
    assert artifact.find_model_file(tmp_path).name == MODEL_FILE


def test_missing_model_lists_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "model.tar.gz").write_bytes(b"")
    with pytest.raises(ModelLoadError, match=r"expected 'xgboost-model' \(found: model.tar.gz\)"):
        artifact.load(tmp_path)


def test_pickle_is_refused_without_opt_in(tmp_path: Path, booster: xgb.Booster) -> None:
    (tmp_path / MODEL_FILE).write_bytes(pickle.dumps(booster))
    with pytest.raises(ModelLoadError, match="BOOSTBOX_ALLOW_PICKLE=true"):
        artifact.load(tmp_path)


def test_pickle_loads_with_opt_in(
    tmp_path: Path, booster: xgb.Booster, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / MODEL_FILE).write_bytes(pickle.dumps(booster))
    with caplog.at_level(logging.WARNING):
        loaded = artifact.load(tmp_path, allow_pickle=True)
    assert loaded.booster.num_boosted_rounds() == 3
    assert "Loading pickled model" in caplog.text


def test_pickle_of_something_else_is_refused_even_with_opt_in(tmp_path: Path) -> None:
    (tmp_path / MODEL_FILE).write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(ModelLoadError, match="unpickles to dict"):
        artifact.load(tmp_path, allow_pickle=True)


def test_model_from_a_newer_xgboost_warns(
    tmp_path: Path, booster: xgb.Booster, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = ModelMetadata.from_booster(booster)
    artifact.save(booster, tmp_path, metadata)
    stored = json.loads((tmp_path / METADATA_FILE).read_text())
    stored["xgboost_version"] = "99.0.0"
    (tmp_path / METADATA_FILE).write_text(json.dumps(stored))
    with caplog.at_level(logging.WARNING):
        artifact.load(tmp_path)
    assert "written by XGBoost 99.0.0, newer than" in caplog.text


def test_model_from_the_same_xgboost_does_not_warn(
    tmp_path: Path, booster: xgb.Booster, caplog: pytest.LogCaptureFixture
) -> None:
    artifact.save(booster, tmp_path, ModelMetadata.from_booster(booster))
    with caplog.at_level(logging.WARNING):
        artifact.load(tmp_path)
    assert "newer than" not in caplog.text


def test_garbage_model_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / MODEL_FILE).write_bytes(b"{not a model")
    with pytest.raises(ModelLoadError, match="is not a model XGBoost"):
        artifact.load(tmp_path)


def test_unreadable_model_file_is_a_load_error(
    tmp_path: Path, booster: xgb.Booster, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact.save(booster, tmp_path, ModelMetadata.from_booster(booster))

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # root ignores chmod 0, so fake the denial
    with pytest.raises(ModelLoadError, match="cannot be read: Permission denied"):
        artifact.load(tmp_path)


def test_write_failure_is_the_platforms_fault(tmp_path: Path, booster: xgb.Booster) -> None:
    blocker = tmp_path / "model"
    blocker.write_text("a file where the model folder should be")
    with pytest.raises(AlgorithmError, match="Could not write the model"):
        artifact.save(booster, blocker, ModelMetadata.from_booster(booster))
