"""Tiny deterministic models (fixed seeds) and Flask test clients for the serving tests."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from flask.testing import FlaskClient

from boostbox import artifact
from boostbox.artifact import LoadedModel
from boostbox.config import ServingConfig
from boostbox.serving import server
from boostbox.serving.app import create_app
from boostbox.serving.predictor import Predictor

NUM_FEATURE = 4
ROWS = 400


def serve_main(environ: Mapping[str, str] = os.environ) -> int:
    """`serve`'s main (which configures logging) as a status, the root level put back after."""
    level = logging.getLogger().level
    try:
        return server.main(environ)
    finally:
        logging.getLogger().setLevel(level)


def features(rows: int = ROWS, seed: int = 7, missing: float = 0.1) -> np.ndarray:
    """Fixed random features with some NaN (missing) cells."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, NUM_FEATURE)).astype(np.float32)
    x[rng.random(size=x.shape) < missing] = np.nan
    return x


def labels_for(objective: str, x: np.ndarray) -> np.ndarray:
    signal = np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1])
    labels: np.ndarray
    if objective.startswith(("binary:", "reg:logistic")):
        labels = signal > 0
    elif objective.startswith(("multi:", "rank:")):
        labels = np.digitize(signal, [-0.5, 0.5])
    elif objective.startswith(("count:", "reg:gamma", "reg:tweedie", "reg:squaredlog")):
        labels = np.exp(signal / 2)
    else:
        labels = 3 * signal + 1
    return np.asarray(labels, dtype=np.float32)


def train(objective: str, rounds: int = 8, **params: Any) -> xgb.Booster:
    x = features()
    dtrain = xgb.DMatrix(x, labels_for(objective, x))
    if objective.startswith("rank:"):
        dtrain.set_group([ROWS // 4] * 4)
    settings: dict[str, Any] = {
        "objective": objective,
        "max_depth": 3,
        "eta": 0.3,
        "seed": 0,
        "nthread": 1,
        **params,
    }
    if objective.startswith("multi:"):
        settings["num_class"] = 3
    return xgb.train(settings, dtrain, num_boost_round=rounds)


def save(booster: xgb.Booster, directory: Path, **metadata: Any) -> Path:
    artifact.save(booster, directory, artifact.ModelMetadata.from_booster(booster, **metadata))
    return directory


MODELS = {
    "binary": "binary:logistic",
    "multiclass": "multi:softprob",
    "regression": "reg:squarederror",
}


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """binary / multiclass / regression models saved with artifact.save."""
    root = tmp_path_factory.mktemp("models")
    return {name: save(train(obj), root / name) for name, obj in MODELS.items()}


@pytest.fixture(scope="session")
def loaded(model_dirs: dict[str, Path]) -> dict[str, LoadedModel]:
    return {name: artifact.load(path) for name, path in model_dirs.items()}


@pytest.fixture(scope="session")
def predictors(loaded: dict[str, LoadedModel]) -> dict[str, Predictor]:
    return {name: Predictor(model) for name, model in loaded.items()}


ClientFactory = Callable[..., FlaskClient]


@pytest.fixture
def make_client(predictors: dict[str, Predictor]) -> ClientFactory:
    """make_client("binary", inference_output=(...), batch=True) -> Flask test client."""

    def make(model: str = "binary", **config: Any) -> FlaskClient:
        return create_app(predictors[model], ServingConfig(**config)).test_client()

    return make
