"""XGBoost training callbacks: the HPO metric line per round, and checkpoints.

Checkpoint files are written by a `Checkpoints` object that the job builds from
checkpointconfig.json and hands to fit; fit itself never sees a path.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import xgboost as xgb

from boostbox.errors import xgboost_message

logger = logging.getLogger(__name__)
metrics_logger = logging.getLogger("boostbox.metrics")
"""Carries only `[i]\\ttrain-m:v\\tvalidation-m:v` lines; main() gives it a bare format."""

CHECKPOINT_PREFIX = "xgboost-checkpoint."
CHECKPOINTS_KEPT = 2
CHECKPOINT_EVERY = 10
"""Rounds between checkpoints when checkpointconfig.json is present."""


def format_metrics(epoch: int, evals_log: Any) -> str:
    """XGBoost's EvaluationMonitor line, the format SageMaker HPO metric regexes expect."""
    line = f"[{epoch}]"
    for data, metrics in evals_log.items():
        for name, scores in metrics.items():
            score = scores[-1][0] if isinstance(scores[-1], tuple) else scores[-1]
            line += f"\t{data}-{name}:{score:.5f}"
    return line


class Resumable(xgb.callback.TrainingCallback):
    """Numbers rounds from the resumed model's size (xgb.train restarts `epoch` at 0)."""

    start = 0

    def before_training(self, model: Any) -> Any:
        self.start = model.num_boosted_rounds()
        return model


class MetricLogger(Resumable):
    """Writes one metric line per round through logging (EvaluationMonitor prints)."""

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        if evals_log:
            metrics_logger.info(format_metrics(self.start + epoch, evals_log))
        return False


class Checkpointing(Protocol):
    """What fit needs from checkpoints: the model to resume from, and a callback."""

    def resume(self) -> xgb.Booster | None: ...

    def callback(self) -> xgb.callback.TrainingCallback: ...


class Checkpoints:
    """Checkpoint files in one folder: every `every` rounds, atomically, the newest few kept."""

    def __init__(self, folder: Path, every: int = CHECKPOINT_EVERY) -> None:
        self.folder = folder
        self.every = every

    def files(self) -> list[tuple[Path, int]]:
        """Checkpoint files and their round counts, oldest first."""
        found = []
        for path in self.folder.glob(f"{CHECKPOINT_PREFIX}*"):
            suffix = path.name[len(CHECKPOINT_PREFIX) :]
            if suffix.isdigit():
                found.append((path, int(suffix)))
        return sorted(found, key=lambda item: item[1])

    def save(self, model: xgb.Booster, rounds: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{CHECKPOINT_PREFIX}{rounds}"
        partial = target.with_suffix(".partial")
        partial.write_bytes(bytes(model.save_raw(raw_format="ubj")))
        partial.replace(target)
        for old, _ in self.files()[:-CHECKPOINTS_KEPT]:
            old.unlink(missing_ok=True)

    def resume(self) -> xgb.Booster | None:
        """The newest loadable checkpoint, or None (a corrupt one is skipped with a warning)."""
        for path, _ in reversed(self.files()):
            booster = xgb.Booster()
            try:
                booster.load_model(bytearray(path.read_bytes()))
            except xgb.core.XGBoostError as e:
                logger.warning("Skipping unreadable checkpoint %s: %s", path, xgboost_message(e))
                continue
            return booster
        return None

    def callback(self) -> xgb.callback.TrainingCallback:
        return _Checkpointer(self)


class _Checkpointer(Resumable):
    def __init__(self, store: Checkpoints) -> None:
        super().__init__()
        self.store = store

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        rounds = self.start + epoch + 1
        if rounds % self.store.every == 0:
            self.store.save(model, rounds)
        return False
