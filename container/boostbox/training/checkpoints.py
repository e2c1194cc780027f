"""Checkpoints a spot-interrupted job resumes from, giving the model an uninterrupted run gives.

Each checkpoint is two files in checkpointconfig.json's LocalPath:
  boostbox-checkpoint-<rounds:06d>.ubj   the model after <rounds> rounds (XGBoost UBJSON)
  boostbox-checkpoint-<rounds:06d>.json  fingerprint + early-stopping state (written second)
Both are written under a `.sagemaker-ignore` temporary name and renamed into place, so
SageMaker's uploader never copies half a file. The newest `KEEP` checkpoints are kept.

On start, the newest checkpoint whose sidecar and model both load AND whose fingerprint matches
this job is used; a corrupt one is skipped, another job's is ignored, each with a warning.
XGBoost's own continuation forgets early stopping (best score, rounds without improvement);
the sidecar carries it, so early stopping picks up exactly where it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import xgboost as xgb

from boostbox.errors import xgboost_message

logger = logging.getLogger(__name__)

PREFIX = "boostbox-checkpoint-"
KEEP = 3
DEFAULT_INTERVAL = 10
"""Rounds between checkpoints (hyperparameter `checkpoint_interval`)."""
UNSHAPING = frozenset({"nthread", "verbosity", "num_round"})
"""Params that do not change what a round computes: a job may differ in them and resume."""


def fingerprint(params: Mapping[str, Any], num_features: int) -> str:
    """What must match for a checkpoint to be this job's: params that shape the trees
    (objective, depth, eta, sampling, seed, ...), early stopping, and the feature count."""
    shaping = {k: v for k, v in params.items() if k not in UNSHAPING}
    text = json.dumps(
        {"params": shaping, "num_features": num_features}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StoppingState:
    """Early stopping's memory at a checkpoint (XGBoost's EarlyStopping fields)."""

    data: str
    metric: str
    best_score: float
    best_iteration: int
    rounds_without_improvement: int
    maximize: bool


@dataclass(frozen=True)
class Resumed:
    """A checkpoint loaded for continuation."""

    booster: xgb.Booster
    rounds: int
    stopping: StoppingState | None

    def to_bytes(self) -> bytes:
        """One blob (for sending to the other hosts): sidecar JSON line, then the model."""
        head = {"rounds": self.rounds, "stopping": asdict(self.stopping) if self.stopping else None}
        return json.dumps(head).encode() + b"\n" + bytes(self.booster.save_raw(raw_format="ubj"))

    @classmethod
    def from_bytes(cls, blob: bytes) -> Resumed:
        head_text, _, model = blob.partition(b"\n")
        head = json.loads(head_text)
        booster = xgb.Booster()
        booster.load_model(bytearray(model))
        stopping = head["stopping"]
        return cls(booster, int(head["rounds"]), StoppingState(**stopping) if stopping else None)


def _write_atomically(path: Path, blob: bytes) -> None:
    temporary = path.with_name(path.name + ".sagemaker-ignore")
    with temporary.open("wb") as handle:
        handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


class Checkpoints:
    """Checkpoint files in one folder for one job (identified by its fingerprint)."""

    def __init__(self, folder: Path, fingerprint: str, every: int = DEFAULT_INTERVAL) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self.every = every

    def _stem(self, rounds: int) -> Path:
        return self.folder / f"{PREFIX}{rounds:06d}"

    def rounds_saved(self) -> list[int]:
        """Round counts that have a complete checkpoint (sidecar written last), oldest first."""
        found = []
        for path in self.folder.glob(f"{PREFIX}*.json"):
            digits = path.name[len(PREFIX) : -len(".json")]
            if digits.isdigit() and path.with_suffix(".ubj").exists():
                found.append(int(digits))
        return sorted(found)

    def save(self, model: xgb.Booster, rounds: int, stopping: StoppingState | None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self._stem(rounds)
        _write_atomically(stem.with_suffix(".ubj"), bytes(model.save_raw(raw_format="ubj")))
        sidecar = {
            "rounds": rounds,
            "fingerprint": self.fingerprint,
            "stopping": asdict(stopping) if stopping is not None else None,
        }
        _write_atomically(stem.with_suffix(".json"), json.dumps(sidecar).encode())
        for old in self.rounds_saved()[:-KEEP]:
            for suffix in (".json", ".ubj"):
                self._stem(old).with_suffix(suffix).unlink(missing_ok=True)

    def _load(self, rounds: int) -> Resumed | None:
        stem = self._stem(rounds)
        try:
            sidecar = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
            booster = xgb.Booster()
            booster.load_model(bytearray(stem.with_suffix(".ubj").read_bytes()))
        except (OSError, ValueError) as e:
            logger.warning("Skipping unreadable checkpoint %s: %s", stem.name, e)
            return None
        except xgb.core.XGBoostError as e:
            logger.warning("Skipping unreadable checkpoint %s: %s", stem.name, xgboost_message(e))
            return None
        if sidecar.get("fingerprint") != self.fingerprint:
            logger.warning(
                "Ignoring checkpoint %s: it was written by a job with other hyperparameters or "
                "features (fingerprint %s, this job %s).",
                stem.name,
                sidecar.get("fingerprint"),
                self.fingerprint,
            )
            return None
        if booster.num_boosted_rounds() != rounds:
            logger.warning("Skipping checkpoint %s: it holds %d rounds.", stem.name, rounds)
            return None
        stopping = sidecar.get("stopping")
        return Resumed(booster, rounds, StoppingState(**stopping) if stopping else None)

    def resume(self) -> Resumed | None:
        """The newest usable checkpoint of this job, or None."""
        if not self.folder.is_dir():
            return None
        for rounds in reversed(self.rounds_saved()):
            found = self._load(rounds)
            if found is not None:
                return found
        return None
