"""The demo's embedded data: a scikit-learn bundled dataset, split as the seed does, as CSV.

SageMaker's CSV convention: label in column 0, no header, no index.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import seed
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import train_test_split

logger = logging.getLogger(__name__)

LABEL = "label"


@dataclass(frozen=True)
class Split:
    """Label-first frames: 80 % of the rows split 67/33 into train/validation, 20 % test."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame

    @property
    def test_features(self) -> pd.DataFrame:
        return self.test.drop(columns=[LABEL])

    @property
    def test_labels(self) -> np.ndarray:
        return self.test[LABEL].to_numpy(dtype=np.float64)


def load(*, classification: bool) -> pd.DataFrame:
    """diabetes (regression, 442 rows) or breast cancer (binary, 569 rows), label first."""
    bunch = load_breast_cancer(as_frame=True) if classification else load_diabetes(as_frame=True)
    features: pd.DataFrame = bunch.data
    frame = features.copy()
    frame.insert(0, LABEL, bunch.target.astype(np.float64))
    return frame


def split(frame: pd.DataFrame) -> Split:
    """The seed's two train_test_split calls with a fixed random_state."""
    rest, test = train_test_split(
        frame, test_size=seed.TEST_FRACTION, random_state=seed.RANDOM_STATE
    )
    train, validation = train_test_split(
        rest, test_size=seed.VALIDATION_FRACTION, random_state=seed.RANDOM_STATE
    )
    return Split(train=train, validation=validation, test=test)


def write_csv(frame: pd.DataFrame, path: Path, *, float_format: str | None = None) -> Path:
    """No header, no index: what SageMaker's CSV channels and transform inputs expect."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, header=False, index=False, float_format=float_format)
    return path


def write_json(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    return path


def write_opt_ml(
    root: Path,
    data: Split,
    hyperparameters: dict[str, str],
    *,
    float_format: str | None = None,
) -> None:
    """Lay out `root` as SageMaker lays out /opt/ml for a training job with two CSV channels."""
    config = root / "input" / "config"
    write_json(config / "hyperparameters.json", hyperparameters)
    write_json(config / "inputdataconfig.json", seed.input_data_config())
    write_json(config / "resourceconfig.json", seed.RESOURCE_CONFIG)
    channels = root / "input" / "data"
    write_csv(data.train, channels / "train" / "train.csv", float_format=float_format)
    write_csv(
        data.validation, channels / "validation" / "validation.csv", float_format=float_format
    )
    logger.info(
        "wrote %s: %d train, %d validation rows, %d features",
        root,
        len(data.train),
        len(data.validation),
        data.train.shape[1] - 1,
    )
