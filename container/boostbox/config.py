"""The only reader of the process environment: SageMaker's variables and files -> frozen configs.

Every reader takes an injected ``environ`` mapping (starlette's Config style) so tests pass a
dict; nothing here runs at import time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boostbox.casts import (
    accept_type,
    log_level,
    parse_bool,
    parse_inference_output,
    positive_int,
)
from boostbox.errors import ConfigError
from boostbox.paths import OptMl

DEFAULT_BASE_DIR = "/opt/ml"
TRAIN_CHANNEL = "train"
VALIDATION_CHANNEL = "validation"
DEFAULT_CONTENT_TYPE = "text/libsvm"
"""SageMaker's XGBoost algorithm reads a channel with no ContentType as libsvm."""


def _get[T](environ: Mapping[str, str], key: str, cast: Callable[[str], T], default: T) -> T:
    raw = environ.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        return cast(raw.strip())
    except ValueError as e:
        raise ConfigError(
            f"Config '{key}' has value '{raw}'. Not a valid {getattr(cast, '__name__', cast)}."
        ) from e


def _first(environ: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = environ.get(key)
        if value is not None and value.strip():
            return key
    return None


def cpu_count() -> int:
    """CPUs this process may use (cgroup/affinity aware where the OS says so)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def read_json(path: Path, *, required: bool) -> Any:
    """A SageMaker config file; a missing optional one is None, a broken one a ConfigError."""
    if not path.exists():
        if required:
            raise ConfigError(f"Required config file {path} does not exist.")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"Config file {path} is not valid JSON: {e}") from e


def base_dir(environ: Mapping[str, str]) -> Path:
    """SAGEMAKER_BASE_DIR stands in for /opt/ml (the training toolkit's name)."""
    return Path(environ.get("SAGEMAKER_BASE_DIR") or DEFAULT_BASE_DIR)


# --- training -------------------------------------------------------------------------


def decode_hyperparameter(value: str) -> str:
    """A hyperparameters.json value as the user wrote it, whichever client encoded it.

    Plain text (SDK v2 Estimator: `True`), JSON (v2 framework estimators: `"\"train.py\""`,
    `true`), v3 (strings as text, the rest JSON: `true`, `[1, 2]`): only a JSON string
    literal needs decoding; numbers, booleans and lists are parsed by their reader.
    """
    text = value.strip()
    try:
        decoded = json.loads(text) if text[:1] == '"' else None
    except json.JSONDecodeError:
        decoded = None
    return decoded if isinstance(decoded, str) else value


@dataclass(frozen=True)
class ChannelConfig:
    """One entry of inputdataconfig.json."""

    name: str
    content_type: str = DEFAULT_CONTENT_TYPE
    """The raw ContentType (media type plus parameters); data.py parses it."""
    input_mode: str = "File"
    s3_distribution_type: str = "FullyReplicated"

    @classmethod
    def from_json(cls, name: str, spec: Any, source: Path) -> ChannelConfig:
        """One inputdataconfig.json entry; anything but an object is a ConfigError."""
        if not isinstance(spec, dict):
            raise ConfigError(
                f"Config file {source}: channel '{name}' has value {json.dumps(spec)[:60]}; "
                'expected an object such as {"ContentType": "text/csv"}.'
            )
        return cls(
            name=name,
            content_type=str(spec.get("ContentType") or DEFAULT_CONTENT_TYPE),
            input_mode=str(spec.get("TrainingInputMode") or "File"),
            s3_distribution_type=str(spec.get("S3DistributionType") or "FullyReplicated"),
        )


@dataclass(frozen=True)
class TrainingConfig:
    """What a training job is given: paths, hyperparameter strings, channels, hosts."""

    paths: OptMl
    hyperparameters: Mapping[str, str]
    """Raw strings, as SageMaker writes them; hyperparameters.py parses them once."""
    channels: Mapping[str, ChannelConfig]
    current_host: str = "algo-1"
    hosts: tuple[str, ...] = ("algo-1",)
    checkpoint_dir: Path | None = None
    job_name: str | None = None
    num_cpus: int = 1
    log_level: str = "INFO"
    program: str | None = None
    """Script mode: sagemaker_program, else SAGEMAKER_PROGRAM; None = the built-in algorithm."""
    submit_directory: str | None = None
    """sagemaker_submit_directory, else SAGEMAKER_SUBMIT_DIRECTORY; None = code in /opt/ml/code."""
    resources: Mapping[str, Any] = field(default_factory=dict)
    """resourceconfig.json as read (script mode passes it on)."""
    tracker_port: int = 9099
    """BOOSTBOX_TRACKER_PORT: XGBoost's tracker on the first host (beacon: one below)."""
    collective_timeout: int = 1800
    """BOOSTBOX_COLLECTIVE_TIMEOUT: seconds XGBoost waits in ANY collective operation."""
    peer_timeout: int = 60
    """BOOSTBOX_PEER_TIMEOUT: seconds a silent peer is tolerated before the job fails."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> TrainingConfig:
        paths = OptMl(base_dir(environ))
        raw_hps = read_json(paths.hyperparameters, required=False) or {}
        if not isinstance(raw_hps, dict):
            raise ConfigError(f"Config file {paths.hyperparameters} must hold a JSON object.")
        hps = {
            str(k): decode_hyperparameter(v) if isinstance(v, str) else json.dumps(v)
            for k, v in raw_hps.items()
        }

        raw_channels = read_json(paths.input_data_config, required=False)
        if raw_channels is None:
            # Local runs without inputdataconfig.json: every folder under input/data is a channel.
            found = sorted(p.name for p in paths.data_dir.glob("*") if p.is_dir())
            raw_channels = {name: {} for name in found}
        if not isinstance(raw_channels, dict):
            raise ConfigError(f"Config file {paths.input_data_config} must hold a JSON object.")
        channels = {
            name: ChannelConfig.from_json(name, spec, paths.input_data_config)
            for name, spec in raw_channels.items()
        }

        resources = read_json(paths.resource_config, required=False) or {}
        if not isinstance(resources, dict):
            raise ConfigError(f"Config file {paths.resource_config} must hold a JSON object.")
        checkpoint = read_json(paths.checkpoint_config, required=False)
        checkpoint_dir = None
        if isinstance(checkpoint, dict):
            checkpoint_dir = Path(checkpoint.get("LocalPath") or paths.checkpoints_dir)

        return cls(
            paths=paths,
            hyperparameters=hps,
            channels=channels,
            current_host=str(resources.get("current_host", "algo-1")),
            hosts=tuple(resources.get("hosts", ["algo-1"])),
            checkpoint_dir=checkpoint_dir,
            job_name=environ.get("TRAINING_JOB_NAME"),
            num_cpus=_get(environ, "SM_NUM_CPUS", positive_int, cpu_count()),
            log_level=_get(environ, "SM_LOG_LEVEL_NAME", log_level, "INFO"),
            program=hps.get("sagemaker_program") or environ.get("SAGEMAKER_PROGRAM") or None,
            submit_directory=hps.get("sagemaker_submit_directory")
            or environ.get("SAGEMAKER_SUBMIT_DIRECTORY")
            or None,
            resources=resources,
            tracker_port=_get(environ, "BOOSTBOX_TRACKER_PORT", positive_int, 9099),
            collective_timeout=_get(environ, "BOOSTBOX_COLLECTIVE_TIMEOUT", positive_int, 1800),
            peer_timeout=_get(environ, "BOOSTBOX_PEER_TIMEOUT", positive_int, 60),
        )


# --- serving --------------------------------------------------------------------------

MB = 1024 * 1024


@dataclass(frozen=True)
class ServingConfig:
    """How `serve` runs: port, workers, limits, output choices. Defaults fit ml.m4.xlarge."""

    paths: OptMl = field(default_factory=lambda: OptMl(Path(DEFAULT_BASE_DIR)))
    port: int = 8080
    """SAGEMAKER_BIND_TO_PORT (the image declares accept-bind-to-port)."""
    workers: int = 1
    """SAGEMAKER_MODEL_SERVER_WORKERS or MODEL_SERVER_WORKERS; default: one per CPU."""
    worker_threads: int = 4
    """BOOSTBOX_WORKER_THREADS: request threads per worker (gunicorn gthread, keep-alive)."""
    timeout: int = 60
    """SAGEMAKER_MODEL_SERVER_TIMEOUT or MODEL_SERVER_TIMEOUT, seconds per request."""
    max_payload_bytes: int = 6 * MB
    """SAGEMAKER_MAX_PAYLOAD_IN_MB (or the official MAX_CONTENT_LENGTH in bytes)."""
    batch: bool = False
    """SAGEMAKER_BATCH: batch transform, newline-terminated records."""
    batch_strategy: str = "MULTI_RECORD"
    max_concurrent_transforms: int = 1
    default_accept: str = "text/csv"
    """SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, used for a missing or */* Accept."""
    inference_output: tuple[str, ...] = ()
    """SAGEMAKER_INFERENCE_OUTPUT keys; empty means the objective's plain prediction."""
    multi_model: bool = False
    """SAGEMAKER_MULTI_MODEL: serve the /models API instead of one model in /opt/ml/model."""
    max_models_per_worker: int = 16
    """BOOSTBOX_MME_MAX_MODELS: models each worker keeps in memory (least recently used out)."""
    allow_pickle: bool = False
    """BOOSTBOX_ALLOW_PICKLE: load legacy pickled models (runs code from the file)."""
    inference_ensemble: bool = True
    """SAGEMAKER_INFERENCE_ENSEMBLE: serve every fold model `xgboost-model-<i>` as one model
    (false: only `xgboost-model`, or the first fold model if that is absent)."""
    libsvm_one_based: bool = False
    """BOOSTBOX_LIBSVM_ONE_BASED: libsvm request index i is column i - 1 (default: column i)."""
    predict_threads: int = 1
    """Threads per worker for XGBoost prediction (OMP_NUM_THREADS); workers give parallelism."""
    program: str | None = None
    """SAGEMAKER_PROGRAM: the user's inference module (script mode); None = built-in only."""
    submit_directory: str | None = None
    """SAGEMAKER_SUBMIT_DIRECTORY (a folder, file:// or s3:// URL) holding `program`; default
    /opt/ml/model/code. Multi-model endpoints look in each model's own code/ folder."""
    monitoring: bool = True
    """BOOSTBOX_MONITORING: drift statistics and GET /monitoring when the model has a baseline."""
    monitoring_window: int = 3600
    """BOOSTBOX_MONITORING_WINDOW: seconds between two drift alarm log lines for one feature."""
    log_level: str = "INFO"
    worker_user: str = "boostbox"
    """BOOSTBOX_WORKER_USER: the account gunicorn's workers switch to when `serve` starts as
    root ("root" keeps them root); the master keeps root to bind the port."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> ServingConfig:
        cpus = cpu_count()
        workers_key = _first(environ, ("SAGEMAKER_MODEL_SERVER_WORKERS", "MODEL_SERVER_WORKERS"))
        timeout_key = _first(environ, ("SAGEMAKER_MODEL_SERVER_TIMEOUT", "MODEL_SERVER_TIMEOUT"))
        payload = _get(environ, "SAGEMAKER_MAX_PAYLOAD_IN_MB", positive_int, 0) * MB
        if not payload:
            payload = _get(environ, "MAX_CONTENT_LENGTH", positive_int, 6 * MB)
        strategy = environ.get("SAGEMAKER_BATCH_STRATEGY", "MULTI_RECORD").strip().upper()
        if strategy not in {"MULTI_RECORD", "SINGLE_RECORD"}:
            raise ConfigError(
                f"Config 'SAGEMAKER_BATCH_STRATEGY' has value '{strategy}'. "
                "Not one of MULTI_RECORD, SINGLE_RECORD."
            )
        return cls(
            paths=OptMl(base_dir(environ)),
            port=_get(environ, "SAGEMAKER_BIND_TO_PORT", positive_int, 8080),
            workers=_get(environ, workers_key, positive_int, cpus) if workers_key else cpus,
            timeout=_get(environ, timeout_key, positive_int, 60) if timeout_key else 60,
            max_payload_bytes=payload,
            batch=_get(environ, "SAGEMAKER_BATCH", parse_bool, False),
            batch_strategy=strategy,
            max_concurrent_transforms=_get(
                environ, "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS", positive_int, cpus
            ),
            default_accept=_get(
                environ, "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", accept_type, "text/csv"
            ),
            inference_output=_get(
                environ, "SAGEMAKER_INFERENCE_OUTPUT", parse_inference_output, ()
            ),
            multi_model=_get(environ, "SAGEMAKER_MULTI_MODEL", parse_bool, False),
            worker_threads=_get(environ, "BOOSTBOX_WORKER_THREADS", positive_int, 4),
            max_models_per_worker=_get(environ, "BOOSTBOX_MME_MAX_MODELS", positive_int, 16),
            allow_pickle=_get(environ, "BOOSTBOX_ALLOW_PICKLE", parse_bool, False),
            inference_ensemble=_get(environ, "SAGEMAKER_INFERENCE_ENSEMBLE", parse_bool, True),
            libsvm_one_based=_get(environ, "BOOSTBOX_LIBSVM_ONE_BASED", parse_bool, False),
            predict_threads=_get(environ, "OMP_NUM_THREADS", positive_int, 1),
            program=environ.get("SAGEMAKER_PROGRAM", "").strip() or None,
            submit_directory=environ.get("SAGEMAKER_SUBMIT_DIRECTORY", "").strip() or None,
            monitoring=_get(environ, "BOOSTBOX_MONITORING", parse_bool, True),
            monitoring_window=_get(environ, "BOOSTBOX_MONITORING_WINDOW", positive_int, 3600),
            log_level=_get(environ, "BOOSTBOX_LOG_LEVEL", log_level, "INFO"),
            worker_user=_get(environ, "BOOSTBOX_WORKER_USER", str, "boostbox"),
        )
