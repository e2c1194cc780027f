"""The model artifact: `xgboost-model` in XGBoost's native format plus a small metadata JSON.

The file name and format are the official algorithm's, so models move both ways between it
and boostbox. Legacy pickles load only when the caller opts in: unpickling runs code.
"""

from __future__ import annotations

import errno
import json
import logging
import pickle
import platform
import re
import struct
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xgboost as xgb

from boostbox import __version__
from boostbox.errors import ModelLoadError, PlatformError, xgboost_message
from boostbox.imports import readmit

logger = logging.getLogger(__name__)

MODEL_FILE = "xgboost-model"
"""The file name the official algorithm and boostbox both use for the native model."""

METADATA_FILE = "boostbox-metadata.json"
"""Small JSON beside the model: objective, features, classes, versions, timestamp."""

OTHER_MODEL_NAMES = ("model.ubj", "model.json", "model.bst")
"""Accepted when `xgboost-model` is absent (names other XGBoost servers use)."""

PICKLE_OPT_IN = "BOOSTBOX_ALLOW_PICKLE"

FOLD_MODEL = re.compile(r"^xgboost-model-(\d+)$")
"""Fold models written by k-fold training (boostbox and the official algorithm alike)."""

LEGACY_PARAM_BYTES = 136
"""XGBoost < 2's binary model: an optional 'binf' tag, a 136-byte parameter block (base_score,
num_feature, num_class, two flags, major and minor version, ...), then the objective's name
as a little-endian uint64 length and ASCII text."""


@dataclass(frozen=True)
class ModelMetadata:
    """What serving and humans need to know about a model without loading it."""

    objective: str
    num_feature: int
    num_class: int = 0
    feature_names: tuple[str, ...] | None = None
    best_iteration: int | None = None
    best_score: float | None = None
    eval_metric: str | None = None
    xgboost_version: str = xgb.__version__
    boostbox_version: str = __version__
    python_version: str = field(default_factory=platform.python_version)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_booster(cls, booster: xgb.Booster, **extra: Any) -> ModelMetadata:
        """Derive objective, feature count and class count from the model's own config."""
        learner = json.loads(booster.save_config())["learner"]
        params = learner["learner_model_param"]
        names = booster.feature_names
        return cls(
            objective=learner["objective"]["name"],
            num_feature=int(params.get("num_feature", booster.num_features())),
            num_class=int(params.get("num_class", 0)),
            feature_names=tuple(names) if names else None,
            **extra,
        )


@dataclass(frozen=True)
class LoadedModel:
    booster: xgb.Booster
    metadata: ModelMetadata


def save(
    booster: xgb.Booster, model_dir: Path, metadata: ModelMetadata, *, fold: int | None = None
) -> Path:
    """Write `xgboost-model` (UBJSON, what save_model picks for a name without extension),
    or k-fold's `xgboost-model-<fold>`."""
    path = model_dir / (MODEL_FILE if fold is None else f"{MODEL_FILE}-{fold}")
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(booster.save_raw(raw_format="ubj")))
        (model_dir / METADATA_FILE).write_text(metadata.to_json(), encoding="utf-8")
    except OSError as e:  # disk full, read-only volume: the platform's side, not the inputs
        hint = ""
        if e.errno == errno.ENOSPC:
            hint = " (the model volume is full: give the job a larger VolumeSizeInGB)"
        raise PlatformError(f"Could not write the model to {model_dir}: {e}{hint}") from e
    return path


def find_model_file(model_dir: Path) -> Path:
    """`xgboost-model` by name (never 'the only file': SDK local mode adds tarballs beside it),
    else the first k-fold model `xgboost-model-0`."""
    for name in (MODEL_FILE, *OTHER_MODEL_NAMES):
        candidate = model_dir / name
        if candidate.is_file():
            return candidate
    folds = fold_model_files(model_dir)
    if folds:
        return folds[0]
    present = sorted(p.name for p in model_dir.iterdir()) if model_dir.is_dir() else []
    raise ModelLoadError(
        f"No model file in {model_dir}: expected '{MODEL_FILE}' "
        f"(found: {', '.join(present) if present else 'nothing'})."
    )


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _read_metadata(model_dir: Path) -> dict[str, Any] | None:
    path = model_dir / METADATA_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        logger.warning("Ignoring unreadable %s: %s", path, e)
        return None
    return data if isinstance(data, dict) else None


def _load_pickle(path: Path, data: bytes, allow_pickle: bool) -> xgb.Booster:
    if not allow_pickle:
        raise ModelLoadError(
            f"{path} is a pickled model, which boostbox does not load by default because "
            f"unpickling runs code from the file. Set {PICKLE_OPT_IN}=true to load it, "
            "or re-save it with Booster.save_model."
        )
    logger.warning("Loading pickled model %s because %s is set.", path, PICKLE_OPT_IN)
    readmit()  # a pickled sklearn estimator may import scikit-learn
    try:
        obj = pickle.loads(data)  # unpickling runs code: the user opted in
    except Exception as e:
        raise ModelLoadError(
            f"{path} could not be unpickled: {str(e).splitlines()[0] if str(e) else e!r}. "
            "Pickles from the official images 0.90 to 1.2 hold XGBoost's legacy binary model, "
            f"which XGBoost {xgb.__version__} cannot read: unpickle it with the XGBoost that "
            "wrote it and re-save it with Booster.save_model('model.json')."
        ) from e
    booster = obj.get_booster() if hasattr(obj, "get_booster") else obj
    if not isinstance(booster, xgb.Booster):
        raise ModelLoadError(f"{path} unpickles to {type(obj).__name__}, not an XGBoost model.")
    return booster


def fold_model_files(model_dir: Path) -> list[Path]:
    """`xgboost-model-<i>` files (k-fold training's fold models), in fold order."""
    if not model_dir.is_dir():
        return []
    folds = [p for p in model_dir.iterdir() if p.is_file() and FOLD_MODEL.match(p.name)]
    return sorted(folds, key=lambda p: int(p.name.rsplit("-", 1)[1]))


def legacy_binary(data: bytes) -> tuple[str, str] | None:
    """(objective, writer version) if `data` is XGBoost < 2's binary model format, else None."""
    body = data[4:] if data[:4] == b"binf" else data
    if len(body) < LEGACY_PARAM_BYTES + 8 or body[:1] in (b"{", b"\x80"):
        return None
    major, minor = struct.unpack_from("<II", body, 20)
    (length,) = struct.unpack_from("<Q", body, LEGACY_PARAM_BYTES)
    name = body[LEGACY_PARAM_BYTES + 8 : LEGACY_PARAM_BYTES + 8 + length]
    if not 0 < length < 64 or len(name) != length or not re.fullmatch(rb"[a-z]+:[a-z_]+", name):
        return None
    version = f"{major}.{minor}" if major else "0.x"
    return name.decode("ascii"), version


def _legacy_message(path: Path, objective: str, version: str) -> str:
    return (
        f"{path} is in XGBoost's legacy binary format (written by XGBoost {version}, objective "
        f"{objective}, as the official SageMaker XGBoost images 1.x save 'xgboost-model'); "
        f"XGBoost {xgb.__version__} cannot read it (the format was removed in 3.1). Re-save "
        "it with an XGBoost that reads it (pip install 'xgboost<3.1'): "
        "b = xgboost.Booster(model_file='xgboost-model'); b.save_model('model.json'); "
        "then package model.json as 'xgboost-model'."
    )


def check_format(path: Path, *, allow_pickle: bool = False) -> None:
    """Fail fast, before workers start, on a file whose format alone rules it out."""
    with path.open("rb") as handle:
        head = handle.read(4 + LEGACY_PARAM_BYTES + 8 + 64)
    if head[:1] == b"\x80" and not allow_pickle:
        _load_pickle(path, head, allow_pickle)
    legacy = legacy_binary(head)
    if legacy is not None:
        raise ModelLoadError(_legacy_message(path, *legacy))


def load_booster(path: Path, *, allow_pickle: bool = False) -> xgb.Booster:
    """One model file: native JSON/UBJSON, an opted-in pickle, or a clear legacy-format error."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelLoadError(f"{path} cannot be read: {e.strerror or e}") from e
    if data[:1] == b"\x80":  # pickle protocol 2+ opcode PROTO
        return _load_pickle(path, data, allow_pickle)
    legacy = legacy_binary(data)
    if legacy is not None:
        raise ModelLoadError(_legacy_message(path, *legacy))
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(data))
    except xgb.core.XGBoostError as e:
        raise ModelLoadError(
            f"{path} is not a model XGBoost {xgb.__version__} can load: {xgboost_message(e)}"
        ) from e
    return booster


def load(model_dir: Path, *, allow_pickle: bool = False) -> LoadedModel:
    """Load the native model (or an opted-in pickle) and its metadata, checking versions."""
    return load_file(find_model_file(model_dir), allow_pickle=allow_pickle)


def load_file(path: Path, *, allow_pickle: bool = False, fold: bool = False) -> LoadedModel:
    """Load one model file with the metadata beside it (a fold model ignores best_iteration)."""
    model_dir = path.parent
    booster = load_booster(path, allow_pickle=allow_pickle)
    derived = ModelMetadata.from_booster(booster)
    stored = _read_metadata(model_dir)
    if stored and fold:
        stored = {k: v for k, v in stored.items() if k not in ("best_iteration", "best_score")}
    if stored:
        written_by = str(stored.get("xgboost_version", ""))
        if written_by and _version_tuple(written_by) > _version_tuple(xgb.__version__):
            logger.warning(
                "Model %s was written by XGBoost %s, newer than the %s serving it: "
                "predictions may differ (base_score handling changed between releases).",
                path,
                written_by,
                xgb.__version__,
            )
        known = {f for f in ModelMetadata.__dataclass_fields__ if f in stored}
        merged = {**asdict(derived), **{k: stored[k] for k in known}}
        if merged.get("feature_names") is not None:
            merged["feature_names"] = tuple(merged["feature_names"])
        derived = ModelMetadata(**merged)
    return LoadedModel(booster=booster, metadata=derived)
