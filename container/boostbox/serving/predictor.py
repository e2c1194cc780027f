"""Predictor: a matrix in, an ndarray out; picks the NumPy fast path or xgboost. No HTTP.

Small batches of plain predictions or margins go through `fastpath.TreeEvaluator` when the
model allows it (checked against xgboost at load); larger batches and every other output
(SHAP contributions and interactions, leaf indices) go through xgboost. The model's best
iteration is honoured: if the metadata records one and the booster holds more rounds, only
rounds up to it are used. gblinear models have no in-place prediction, no leaves and no
SHAP interactions in XGBoost: they predict through a DMatrix, and those two outputs are a 400
naming the booster.
"""

from __future__ import annotations

import enum
import json
import logging
from typing import Protocol

import numpy as np
import scipy.sparse as sp
import xgboost as xgb

from boostbox.artifact import LoadedModel, ModelMetadata
from boostbox.errors import BadRequest, xgboost_message
from boostbox.formats import Matrix
from boostbox.serving.fastpath import TreeEvaluator
from boostbox.serving.treearrays import Unsupported

logger = logging.getLogger(__name__)

FAST_PATH_MAX_ROWS = 16
"""Rows the NumPy walk takes: it and inplace_predict break even at 24-48 rows (200 trees,
depth 5, measured here)."""
COMPILED_MAX_ROWS = 1 << 20
"""Dense rows the compiled walk takes when XGBoost predicts with one thread (boostbox's
default): it is 1.4-1.6x faster than one-thread inplace_predict at 1,000-10,000 rows
(measured; 10x at one row). With more XGBoost threads, larger batches go to XGBoost, which
parallelises them; sparse batches too (the walk would densify them)."""


class OutputKind(enum.StrEnum):
    """What a request asks the model for (custom attribute `output=`)."""

    PREDICTION = "prediction"
    MARGIN = "margin"
    CONTRIBUTIONS = "contributions"
    INTERACTIONS = "interactions"
    LEAF = "leaf"


class Scorer(Protocol):
    """What serving needs from a model: one Predictor, or an Ensemble of fold models."""

    metadata: ModelMetadata
    objective: str
    num_feature: int
    num_class: int

    def predict(self, matrix: Matrix, kind: OutputKind = ...) -> np.ndarray: ...


class Predictor:
    """One loaded model, ready to predict; built once per worker before the first request."""

    def __init__(self, model: LoadedModel, threads: int = 1, *, fast_path: bool = True):
        self.booster = model.booster
        self.metadata = model.metadata
        self.objective = model.metadata.objective
        self.num_feature = model.metadata.num_feature
        self.num_class = model.metadata.num_class
        self.booster.set_param({"nthread": threads})
        self.threads = threads
        self.booster_type = booster_type(self.booster)
        self.inplace = self.booster_type != "gblinear"
        total = self.booster.num_boosted_rounds()
        best = model.metadata.best_iteration
        self.rounds = best + 1 if best is not None and 0 <= best < total - 1 else total
        if self.rounds < total:
            logger.info("Using the best iteration: %d of %d rounds.", self.rounds, total)
        self.evaluator: TreeEvaluator | None = None
        if fast_path:
            try:
                self.evaluator = TreeEvaluator.from_booster(
                    self.booster, self.rounds, self.num_feature
                )
            except Unsupported as e:
                logger.info("Small-batch fast path off (%s): every request uses xgboost.", e)

    def _check_width(self, matrix: Matrix) -> Matrix:
        """Dense rows must match the model's feature count (one extra column empty in every
        row, as a trailing comma makes, is dropped, as training drops it); sparse rows may
        be narrower."""
        width = matrix.shape[1]
        if width == self.num_feature:
            return matrix
        if (
            isinstance(matrix, np.ndarray)
            and width == self.num_feature + 1
            and np.isnan(matrix[:, -1]).all()
        ):
            return matrix[:, :-1]  # a comma ending every row: an empty column, not a feature
        if not isinstance(matrix, np.ndarray) and width < self.num_feature:
            return sp.csr_matrix(
                (matrix.data, matrix.indices, matrix.indptr),
                shape=(matrix.shape[0], self.num_feature),
            )
        what = "columns" if isinstance(matrix, np.ndarray) else "highest feature index + 1"
        hint = (
            " Sparse indices are 0-based (index i is column i); if the client writes 1-based "
            "libsvm for a model trained on dense columns, set BOOSTBOX_LIBSVM_ONE_BASED=true."
            if not isinstance(matrix, np.ndarray) and width == self.num_feature + 1
            else ""
        )
        raise BadRequest(
            f"The model expects {self.num_feature} features per row; the request has "
            f"{width} {what}. Send exactly {self.num_feature} feature values per row, "
            f"without a label column.{hint}"
        )

    def predict(self, matrix: Matrix, kind: OutputKind = OutputKind.PREDICTION) -> np.ndarray:
        """Predictions shaped as xgboost returns them (rows first)."""
        matrix = self._check_width(matrix)
        rows = matrix.shape[0]
        if kind in (OutputKind.PREDICTION, OutputKind.MARGIN) and self._walks(matrix, rows):
            assert self.evaluator is not None
            dense = _dense(matrix)
            if kind is OutputKind.MARGIN:
                return self.evaluator.margin(dense)
            return self.evaluator.predict(dense)
        if not self.inplace and kind in (OutputKind.LEAF, OutputKind.INTERACTIONS):
            raise BadRequest(
                f"output={kind.value} is not available for a {self.booster_type} model "
                "(XGBoost computes it for tree boosters only)."
            )
        try:
            return self._xgboost(matrix, kind)
        except xgb.core.XGBoostError as e:
            raise BadRequest(f"XGBoost could not evaluate the payload: {xgboost_message(e)}") from e

    def _walks(self, matrix: Matrix, rows: int) -> bool:
        """Whether the fast path's tree walk answers these rows (else XGBoost does)."""
        if self.evaluator is None:
            return False
        if rows <= FAST_PATH_MAX_ROWS:
            return True
        return (
            self.evaluator.engine == "compiled"
            and self.threads == 1
            and isinstance(matrix, np.ndarray)
            and rows <= COMPILED_MAX_ROWS
        )

    def _xgboost(self, matrix: Matrix, kind: OutputKind) -> np.ndarray:
        iterations = (0, self.rounds)
        if self.inplace and kind in (OutputKind.PREDICTION, OutputKind.MARGIN):
            predict_type = "margin" if kind is OutputKind.MARGIN else "value"
            return np.asarray(
                self.booster.inplace_predict(
                    matrix, iteration_range=iterations, predict_type=predict_type
                )
            )
        dmatrix = xgb.DMatrix(matrix, missing=np.nan)
        result = np.asarray(
            self.booster.predict(
                dmatrix,
                output_margin=kind is OutputKind.MARGIN,
                iteration_range=iterations,
                pred_contribs=kind is OutputKind.CONTRIBUTIONS,
                pred_interactions=kind is OutputKind.INTERACTIONS,
                pred_leaf=kind is OutputKind.LEAF,
                validate_features=False,
            )
        )
        return result.astype(np.int64) if kind is OutputKind.LEAF else result


def booster_type(booster: xgb.Booster) -> str:
    """gbtree, dart or gblinear, from the model's own configuration."""
    learner = json.loads(booster.save_config())["learner"]
    return str(learner["gradient_booster"]["name"])


def _dense(matrix: Matrix) -> np.ndarray:
    """Float32 C-contiguous rows; absent sparse entries become NaN (missing), as in xgboost."""
    if isinstance(matrix, np.ndarray):
        return np.ascontiguousarray(matrix, dtype=np.float32)
    out = np.full(matrix.shape, np.nan, dtype=np.float32)
    coo = matrix.tocoo()
    out[coo.row, coo.col] = coo.data
    return out
