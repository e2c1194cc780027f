"""k-fold models served as one: the mean of the fold models' outputs, or a per-row vote.

k-fold training writes `xgboost-model-<i>` per fold (as the official algorithm does). With
SAGEMAKER_INFERENCE_ENSEMBLE (default true) serving loads every fold model (and
`xgboost-model` if present) and answers with the mean of their predictions (probabilities
for classifiers, margins, SHAP values); objectives whose prediction is a label
(multi:softmax, binary:hinge) answer each row's majority vote, ties going to the smaller
label. Leaf indices are every model's leaves side by side. The official image votes with
`scipy.stats.mode(...).mode[0]`, which since scipy 1.11 is the first row's vote for every
row; boostbox votes per row.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from boostbox import artifact
from boostbox.artifact import MODEL_FILE, ModelMetadata
from boostbox.config import ServingConfig
from boostbox.errors import ModelLoadError
from boostbox.formats import Matrix
from boostbox.serving.predictor import OutputKind, Predictor

logger = logging.getLogger(__name__)

VOTING_OBJECTIVES = ("multi:softmax", "binary:hinge")
"""Objectives whose prediction is a class label: the ensemble votes instead of averaging."""


def vote(labels: np.ndarray) -> np.ndarray:
    """Per-row majority of (models, rows) labels; a tie goes to the smaller label."""
    per_row = labels.T  # (rows, models)
    counts = (per_row[:, :, None] == per_row[:, None, :]).sum(axis=2)
    best = counts.max(axis=1, keepdims=True)
    winners = np.where(counts == best, per_row, np.inf)
    return winners.min(axis=1).astype(labels.dtype)


class Ensemble:
    """Several Predictors of one objective and feature count, answering as one model."""

    def __init__(self, members: list[Predictor]):
        first = members[0]
        for member in members[1:]:
            if (member.objective, member.num_feature, member.num_class) != (
                first.objective,
                first.num_feature,
                first.num_class,
            ):
                raise ModelLoadError(
                    "The fold models differ: "
                    f"{first.objective}/{first.num_feature} features/{first.num_class} classes vs "
                    f"{member.objective}/{member.num_feature}/{member.num_class}."
                )
        self.members = members
        self.metadata: ModelMetadata = first.metadata
        self.objective = first.objective
        self.num_feature = first.num_feature
        self.num_class = first.num_class

    def predict(self, matrix: Matrix, kind: OutputKind = OutputKind.PREDICTION) -> np.ndarray:
        outputs = [member.predict(matrix, kind) for member in self.members]
        if kind is OutputKind.LEAF:
            return np.concatenate([o.reshape(o.shape[0], -1) for o in outputs], axis=1)
        stacked = np.stack(outputs)
        if kind is OutputKind.PREDICTION and self.objective in VOTING_OBJECTIVES:
            return vote(stacked)
        return np.asarray(stacked.mean(axis=0), dtype=stacked.dtype)


def ensemble_files(model_dir: Path) -> list[Path]:
    """The files an ensemble serves: `xgboost-model` (if present) and every fold model."""
    main = model_dir / MODEL_FILE
    return ([main] if main.is_file() else []) + artifact.fold_model_files(model_dir)


def load_members(model_dir: Path, config: ServingConfig) -> list[Predictor]:
    """One Predictor per served file: all fold models, or only the one model file."""
    files = ensemble_files(model_dir) if config.inference_ensemble else []
    if len(files) < 2:
        return [
            Predictor(
                artifact.load(model_dir, allow_pickle=config.allow_pickle), config.predict_threads
            )
        ]
    names = ", ".join(f.name for f in files)
    logger.info("Serving %d models as one ensemble: %s.", len(files), names)
    return [
        Predictor(
            artifact.load_file(path, allow_pickle=config.allow_pickle, fold=True),
            config.predict_threads,
        )
        for path in files
    ]


def load_predictor(model_dir: Path, config: ServingConfig) -> Predictor | Ensemble:
    """Load the model(s) in `model_dir` into this worker (both serving modes) and log them."""
    members = load_members(model_dir, config)
    scorer = members[0] if len(members) == 1 else Ensemble(members)
    logger.info(
        "Model %s loaded: objective %s, %d features, %d model(s), rounds %s, fast path %s "
        "(pid %d).",
        model_dir,
        scorer.objective,
        scorer.num_feature,
        len(members),
        "/".join(str(m.rounds) for m in members),
        "/".join("off" if m.evaluator is None else m.evaluator.engine for m in members),
        os.getpid(),
    )
    return scorer
