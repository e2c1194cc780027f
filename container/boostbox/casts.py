"""String -> typed value casts for config.py; each cast's __name__ is what an error line says.

`Config 'X' has value 'v'. Not a valid <name>.`: the name tells the user what was expected.
"""

from __future__ import annotations

from boostbox.formats.mediatypes import ENCODABLE


def parse_bool(value: str) -> bool:
    """'true'/'1'/'yes'/'on' and their opposites, any case."""
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(value)


parse_bool.__name__ = "boolean"


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


positive_int.__name__ = "positive integer"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level(value: str) -> str:
    """A logging level name, any case (WARN is WARNING)."""
    name = value.strip().upper()
    name = "WARNING" if name == "WARN" else name
    if name not in LOG_LEVELS:
        raise ValueError(value)
    return name


log_level.__name__ = "log level (" + ", ".join(LOG_LEVELS) + ")"


def accept_type(value: str) -> str:
    """A media type boostbox can answer in."""
    media = value.strip().lower()
    if media not in ENCODABLE:
        raise ValueError(value)
    return media


accept_type.__name__ = "response type (" + ", ".join(ENCODABLE) + ")"


INFERENCE_OUTPUT_KEYS = (
    "predicted_label",
    "labels",
    "probability",
    "probabilities",
    "raw_score",
    "raw_scores",
    "predicted_score",
)


def parse_inference_output(value: str) -> tuple[str, ...]:
    """SAGEMAKER_INFERENCE_OUTPUT: comma list, case- and space-insensitive, known keys only."""
    keys = tuple(k.strip().lower() for k in value.split(",") if k.strip())
    unknown = [k for k in keys if k not in INFERENCE_OUTPUT_KEYS]
    if unknown:
        raise ValueError(value)
    return keys


parse_inference_output.__name__ = "list of " + "/".join(INFERENCE_OUTPUT_KEYS)
