"""Helpers the codecs share: charset-aware text, parse-error wrapping, plain-output rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from boostbox.errors import BadRequest, ParseError, UnsupportedMediaType
from boostbox.serving.outputs import Output, short_floats

UTF8_NAMES = ("utf-8", "utf8")


class Frame(NamedTuple):
    """Decoded rows whose columns carry names (Parquet): matched to the model's by name."""

    matrix: np.ndarray
    names: tuple[str, ...]


def charset(params: Mapping[str, str]) -> str:
    """The Content-Type's charset, lower-cased; UTF-8 when absent or empty."""
    return params.get("charset", "utf-8").strip().lower() or "utf-8"


def text(body: bytes, params: Mapping[str, str], media: str) -> str:
    """The body decoded with the Content-Type's charset (UTF-8 by default; a BOM is dropped)."""
    charset_ = charset(params)
    try:
        decoded = body.decode("utf-8-sig" if charset_ in UTF8_NAMES else charset_)
    except LookupError as e:
        raise UnsupportedMediaType(f"{media}: unknown charset '{charset_}'.") from e
    except UnicodeDecodeError as e:
        raise BadRequest(
            f"{media} body is not valid {charset_} text at byte {e.start}: {e.reason}."
        ) from e
    return decoded


def bad_request(media: str, error: ParseError) -> BadRequest:
    """A ParseError (which names line and column) as a 400 naming the media type."""
    return BadRequest(f"Malformed {media} body: {error}")


def plain_rows(output: Output) -> list[Any]:
    """Per-record values of a plain output: scalars, lists, or nested lists (multi-class SHAP)."""
    values = output.values
    if values.ndim == 1:
        return short_floats(values)
    if values.dtype.kind in "iub":
        return list(values.tolist())
    flat = np.asarray(short_floats(values.reshape(-1)), dtype=object)
    return list(flat.reshape(values.shape).tolist())


def rows_text(output: Output) -> list[str]:
    """Per-record CSV lines of a plain output: values comma-joined, extra dimensions flattened."""
    values = output.values
    if values.dtype.kind not in "iub":
        values = values.astype(np.float32)
    strings = values.astype(str)
    if strings.ndim == 1:
        return list(strings.tolist())
    return [",".join(row) for row in strings.reshape(strings.shape[0], -1).tolist()]
