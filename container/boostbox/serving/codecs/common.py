"""Helpers the codecs share: request text, parse-error wrapping, plain-output rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from boostbox.errors import BadRequest, ParseError, UnknownCharset, UnsupportedMediaType
from boostbox.formats.text import decode
from boostbox.serving.outputs import Output, float32_text, short_floats


class Frame(NamedTuple):
    """Decoded rows whose columns carry names (Parquet): matched to the model's by name."""

    matrix: np.ndarray
    names: tuple[str, ...]


def text(body: bytes, params: Mapping[str, str], media: str) -> str:
    """The body decoded with the Content-Type's charset (`formats.text`), errors as 400/415."""
    try:
        return decode(body, params, f"{media} body")
    except UnknownCharset as e:
        raise UnsupportedMediaType(str(e)) from e
    except ParseError as e:
        raise BadRequest(str(e)) from e


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
    if values.dtype.kind in "iub":
        strings = list(values.astype(str).reshape(-1).tolist())
    else:
        strings = float32_text(values)
    if values.ndim == 1:
        return strings
    width = int(np.prod(values.shape[1:]))
    return [",".join(strings[i : i + width]) for i in range(0, len(strings), width)]
