"""SageMaker data capture: JSONL records -> decoded request matrices and predictions.

A capture folder holds `<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl` (any depth is walked),
one record per line:

    {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                        "data": "...", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                        "data": "...", "encoding": "CSV"}},
     "eventMetadata": {...}, "eventVersion": "0"}

`encoding` is CSV or JSON (the payload as text) or BASE64. The input is decoded with the
serving codecs themselves (so a captured request bins exactly as it did when served);
the output's plain scores are read back from text/csv, application/json or jsonlines.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from boostbox.errors import BoostboxError
from boostbox.formats.mediatypes import parse_media_type
from boostbox.serving import features
from boostbox.serving.codecs import decode

logger = logging.getLogger(__name__)


class CaptureError(BoostboxError, ValueError):
    """A capture record that cannot be read (named by file and line)."""


@dataclass(frozen=True)
class Captured:
    """One captured invocation: the decoded rows and, when readable, the plain predictions."""

    matrix: np.ndarray | sp.csr_matrix
    predictions: np.ndarray | None


def capture_files(folder: Path) -> list[Path]:
    """Every .jsonl file under `folder` (hour folders sort chronologically), hidden ones skipped."""
    files = [p for p in folder.rglob("*.jsonl") if not any(s.startswith(".") for s in p.parts)]
    return sorted(files)


def payload(entry: dict[str, Any]) -> bytes:
    """The captured body: CSV and JSON encodings hold the text, BASE64 the bytes."""
    data = entry.get("data", "")
    encoding = str(entry.get("encoding", "CSV")).upper()
    if not isinstance(data, str):
        raise CaptureError(f"'data' must be a string, not {type(data).__name__}")
    if encoding == "BASE64":
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as e:
            raise CaptureError(f"'data' is not valid base64: {e}") from e
    if encoding in {"CSV", "JSON"}:
        return data.encode("utf-8")
    raise CaptureError(f"unknown encoding '{encoding}' (expected CSV, JSON or BASE64)")


def _score(value: Any) -> list[float]:
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, list):
        return [float("nan") if v is None else float(v) for v in value]
    if isinstance(value, int | float):
        return [float(value)]
    raise CaptureError("no plain 'score' in the captured output")


def predictions(entry: dict[str, Any]) -> np.ndarray | None:
    """Plain scores from a captured response (float32, as served); None if not readable."""
    media, _ = parse_media_type(str(entry.get("observedContentType", "")))
    text = payload(entry).decode("utf-8", errors="replace").strip()
    if not text:
        return None
    try:
        if media == "text/csv":
            rows = [[float(v) for v in line.split(",")] for line in text.splitlines()]
        elif media == "application/json":
            document = json.loads(text)
            items = document.get("predictions") if isinstance(document, dict) else document
            rows = [_score(item) for item in items or []]
        elif media in {"application/jsonlines", "application/x-jsonlines"}:
            rows = [_score(json.loads(line)) for line in text.splitlines() if line.strip()]
        else:
            return None
    except (ValueError, TypeError, AttributeError, CaptureError):
        return None  # selected outputs (predicted_label, ...) are not the baseline's scores
    if not rows or len({len(r) for r in rows}) != 1:
        return None
    return np.asarray(rows, dtype=np.float32)


def record(line: str, feature_names: tuple[str, ...] | None = None) -> Captured:
    """One JSONL line -> its decoded rows (Parquet columns by name when the model has
    names, as serving does) and predictions."""
    try:
        data = json.loads(line)
        captured = data["captureData"]
        request = captured["endpointInput"]
    except (ValueError, KeyError, TypeError) as e:
        raise CaptureError(f"not a data-capture record ({type(e).__name__}: {e})") from e
    content_type = str(request.get("observedContentType", ""))
    decoded = decode(payload(request), content_type, libsvm_one_based=False)
    matrix = features.align(decoded, feature_names)
    response = captured.get("endpointOutput")
    scores = predictions(response) if isinstance(response, dict) else None
    if scores is not None and scores.shape[0] != matrix.shape[0]:
        scores = None
    return Captured(matrix, scores)


def read_capture(
    folder: Path, errors: list[str], feature_names: tuple[str, ...] | None = None
) -> Iterator[Captured]:
    """Every readable record under `folder`; unreadable ones are described in `errors`."""
    for path in capture_files(folder):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    yield record(line, feature_names)
                except BoostboxError as e:
                    errors.append(f"{path}:{number}: {e}")
