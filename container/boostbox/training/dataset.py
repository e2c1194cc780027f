"""Dataset: one channel in memory, the hand-off between the readers and fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from boostbox.formats import Matrix


@dataclass(frozen=True)
class Dataset:
    """One channel in memory: what fit needs, nothing about where it came from."""

    features: Matrix
    labels: np.ndarray
    weights: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None
    files: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.features.shape[1])
