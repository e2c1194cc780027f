"""A small model trained on known distributions, with its baseline, and traffic helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from boostbox import artifact
from boostbox.config import ServingConfig
from boostbox.monitoring.baseline import Reference, load_reference, write_baseline
from boostbox.monitoring.service import Monitor
from boostbox.serving.app import create_app
from boostbox.serving.predictor import Predictor

NUM_FEATURE = 5
TRAIN_ROWS = 20_000
NAMES = [f"f{j}" for j in range(NUM_FEATURE)]


def draw(rows: int, seed: int) -> np.ndarray:
    """The training distribution: normals, one integer-valued column (f3), some missing f4."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, NUM_FEATURE)).astype(np.float32)
    x[:, 1] = rng.exponential(2.0, size=rows)
    x[:, 3] = rng.integers(0, 4, size=rows)
    x[rng.random(rows) < 0.05, 4] = np.nan
    return x


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """/opt/ml-like root: model/ with xgboost-model and boostbox-baseline.json, output/data."""
    root = tmp_path_factory.mktemp("monitored")
    x = draw(TRAIN_ROWS, seed=1)
    y = (np.nan_to_num(x[:, 0]) + 0.3 * x[:, 3] > 0.5).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": 3, "nthread": 1, "seed": 0}
    booster = xgb.train(params, xgb.DMatrix(x, y), num_boost_round=10)
    artifact.save(booster, root / "model", artifact.ModelMetadata.from_booster(booster))
    predictions = booster.inplace_predict(x)
    write_baseline(x, predictions, None, root / "model", root / "output" / "data")
    return root


@pytest.fixture(scope="session")
def reference(trained: Path) -> Reference:
    found = load_reference(trained / "model")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def predictor(trained: Path) -> Predictor:
    return Predictor(artifact.load(trained / "model"))


def monitored_app(predictor: Predictor, reference: Reference) -> tuple[Monitor, object]:
    monitor = Monitor(reference)
    return monitor, create_app(predictor, ServingConfig(), monitor).test_client()
