"""Distances between a baseline's bin counts and live bin counts over the same bins.

`linf_simple` is Model Monitor's L-infinity distance between the two empirical CDFs (here
evaluated at the baseline's bin edges, 5 % quantiles, so it can only under-estimate the
exact distance by the mass inside one bin), `linf_robust` subtracts the two-sample
Kolmogorov-Smirnov critical value c_alpha * sqrt((n + m) / (n m)) with Deequ's c_alpha = 1.8
(alpha about 0.003), and `psi` is the population stability index over the same bins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

C_ALPHA = 1.8
"""Deequ's critical value for the robust L-infinity distance (alpha about 0.003)."""
PSI_FLOOR = 1e-4
"""Share given to an empty bin in PSI, so one empty bin does not make it infinite."""


@dataclass(frozen=True)
class Distance:
    linf_simple: float
    linf_robust: float
    psi: float

    def value(self, method: str) -> float:
        """The distance Model Monitor's comparison_method alarms on."""
        return self.linf_simple if method.lower() in {"simple", "linf_simple"} else self.linf_robust


def distance(baseline: np.ndarray, live: np.ndarray) -> Distance | None:
    """Distances between two count vectors over the same bins; None if either is empty."""
    n, m = float(baseline.sum()), float(live.sum())
    if n <= 0 or m <= 0:
        return None
    expected = baseline / n
    actual = live / m
    linf = float(np.max(np.abs(np.cumsum(expected) - np.cumsum(actual))))
    robust = max(0.0, linf - C_ALPHA * math.sqrt((n + m) / (n * m)))
    e = np.maximum(expected, PSI_FLOOR)
    a = np.maximum(actual, PSI_FLOOR)
    psi = float(np.sum((a - e) * np.log(a / e)))
    return Distance(linf_simple=linf, linf_robust=robust, psi=psi)
