"""Dataset: one channel in memory, the hand-off between data loading and train.fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

type Matrix = np.ndarray | sp.csr_matrix
"""Dense float32 rows (CSV, Parquet) or sparse CSR rows (libsvm)."""


@dataclass(frozen=True)
class Dataset:
    """One channel in memory: what train.fit needs, nothing about where it came from."""

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
