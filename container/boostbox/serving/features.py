"""Named request columns (Parquet) -> the model's feature order, by name, never by position.

A model that recorded its feature names (trained on Parquet) gets a request's columns by
name: the same names in another order are reordered; missing or unexpected names are a 400
naming them. A model without names (trained on CSV, libsvm, recordio) reads columns by
position, as it was trained.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from boostbox.errors import BadRequest
from boostbox.serving.codecs.common import Frame

SHOWN = 5
"""Names listed per kind of mismatch in an error."""


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def align(
    decoded: np.ndarray | sp.csr_matrix | Frame, feature_names: tuple[str, ...] | None
) -> np.ndarray | sp.csr_matrix:
    """The rows in the model's column order."""
    if not isinstance(decoded, Frame):
        return decoded
    matrix, names = decoded
    if feature_names is None or names == feature_names:
        return matrix
    position = {name: i for i, name in enumerate(names)}
    missing = [n for n in feature_names if n not in position]
    unexpected = [n for n in names if n not in set(feature_names)]
    if missing or unexpected or len(position) != len(names):
        problems = []
        if missing:
            problems.append(f"missing {_listed(missing)}")
        if unexpected:
            problems.append(f"unexpected {_listed(unexpected)}")
        if len(position) != len(names):
            problems.append("repeated column names")
        raise BadRequest(
            "Parquet columns are matched to the model's features by name: "
            + "; ".join(problems)
            + f" (the model's features: {_listed(list(feature_names))})."
        )
    return np.ascontiguousarray(matrix[:, [position[n] for n in feature_names]])
