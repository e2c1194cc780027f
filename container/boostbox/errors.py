"""Typed errors: training errors split by blame, serving errors carry their HTTP status."""

from __future__ import annotations

import re

from sagemaker_training.errors import ClientError


class BoostboxError(Exception):
    """Base of every error boostbox raises on purpose."""


class ParseError(BoostboxError, ValueError):
    """A text payload (CSV, libsvm, ...) is malformed at a known place.

    Raised by the shared parsers; training wraps it into DataError (naming the file),
    serving into BadRequest. `line` and `column` are 1-based; None where unknown.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


class UnknownCharset(ParseError):
    """A media type names a charset Python does not know (serving answers 415)."""


def xgboost_message(error: BaseException) -> str:
    """XGBoost's 'Check failed' line without its timestamp, source path and stack trace."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    chosen = next((ln for ln in lines if "Check failed" in ln), lines[0] if lines else "")
    return re.sub(r"^\[[\d:]+\]\s+\S+:\d+:\s*", "", chosen) or type(error).__name__


# --- training -------------------------------------------------------------------------


class UserError(BoostboxError, ClientError):
    """The job's inputs are wrong (hyperparameters, data, channel config): the user can fix it.

    Subclassing the toolkit's ClientError keeps SageMaker's user/internal split.
    """

    exit_code = 2


class AlgorithmError(BoostboxError):
    """Something failed inside boostbox or XGBoost although the inputs were valid."""

    exit_code = 1


class PlatformError(AlgorithmError):
    """The machine failed the job (disk full, read-only volume): exit 1, but no bug either,
    so the failure line carries the cause and the fix instead of 'Internal error'."""


class ConfigError(UserError):
    """An environment variable or config file holds a value boostbox cannot use."""


class HyperparameterError(UserError):
    """A hyperparameter is unknown, missing, malformed or out of range."""


class DataError(UserError):
    """A channel's data cannot be read: names the file and line where it can."""


# --- serving --------------------------------------------------------------------------


class ServingError(BoostboxError):
    """An error with the HTTP status the one handler in serving.app answers with."""

    status = 500


class BadRequest(ServingError):
    """The body is of a supported type but malformed, or does not fit the model."""

    status = 400


class NotFound(ServingError):
    """A named model is not loaded (multi-model endpoints)."""

    status = 404


class NotAcceptable(ServingError):
    """The Accept header names no type boostbox can encode."""

    status = 406


class Conflict(ServingError):
    """A model of that name is already loaded (multi-model endpoints)."""

    status = 409


class PayloadTooLarge(ServingError):
    """The body is larger than the configured payload limit."""

    status = 413


class UnsupportedMediaType(ServingError):
    """The Content-Type names no type boostbox can decode."""

    status = 415


class ModelLoadError(ServingError):
    """The model directory holds no loadable model (logged at startup, 500 if ever served)."""

    status = 500


class InsufficientResources(ServingError):
    """Loading one more model would exceed memory (multi-model endpoints)."""

    status = 507
