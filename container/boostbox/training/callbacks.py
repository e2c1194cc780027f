"""XGBoost training callbacks: the HPO metric line per round, resumable early stopping, and
the end-of-round step that writes checkpoints and honours a termination request.

Checkpoint files are written by a `Checkpoints` object that the job builds from
checkpointconfig.json and hands to fit; fit itself never sees a path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import xgboost as xgb

from boostbox.training.checkpoints import Checkpoints, StoppingState

logger = logging.getLogger(__name__)
metrics_logger = logging.getLogger("boostbox.metrics")
"""Carries only `[i]\\ttrain-m:v\\tvalidation-m:v` lines; main() gives it a bare format."""


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


class EarlyStop(xgb.callback.EarlyStopping):
    """XGBoost's EarlyStopping that can start from a checkpoint's state and report its own."""

    def __init__(
        self,
        rounds: int,
        state: StoppingState | None = None,
        *,
        metric_name: str | None = None,
        data_name: str | None = None,
        maximize: bool | None = None,
    ) -> None:
        super().__init__(
            rounds=rounds,
            metric_name=metric_name,
            data_name=data_name,
            maximize=state.maximize if state else maximize,
        )
        if state is not None:
            self.stopping_history = {state.data: {state.metric: [state.best_score]}}
            self.best_scores = {state.data: {state.metric: [state.best_score]}}
            self.current_rounds = state.rounds_without_improvement

    def state(self, model: xgb.Booster) -> StoppingState | None:
        if not self.best_scores:
            return None
        data = next(iter(self.best_scores))
        metric = next(iter(self.best_scores[data]))
        best = self.best_scores[data][metric][-1]
        return StoppingState(
            data=data,
            metric=metric,
            best_score=float(best[0] if isinstance(best, tuple) else best),
            best_iteration=int(model.attr("best_iteration") or 0),
            rounds_without_improvement=int(self.current_rounds),
            maximize=bool(self.maximize),
        )


class RoundEnd(Resumable):
    """Last callback of a round: checkpoint when due, and stop when termination was asked for
    (SIGTERM), after writing a final checkpoint so a restart loses nothing."""

    def __init__(
        self,
        store: Checkpoints | None,
        stopping: EarlyStop | None,
        stop_requested: Callable[[], bool],
    ) -> None:
        super().__init__()
        self.store = store
        self.stopping = stopping
        self.stop_requested = stop_requested
        self.stopped_at: int | None = None

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        rounds = self.start + epoch + 1
        stop = self.stop_requested()
        if self.store is not None and (stop or rounds % self.store.every == 0):
            state = self.stopping.state(model) if self.stopping is not None else None
            self.store.save(model, rounds, state)
        if stop:
            self.stopped_at = rounds
            logger.warning("Termination requested: stopping after %d rounds.", rounds)
        return stop
