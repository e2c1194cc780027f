"""The one invocation pipeline, shared by /invocations and /models/<name>/invoke.

Checks, in order: payload size (413), the custom-attributes header (400), the
Content-Encoding (415; gzip bodies are decompressed, the limit counting the decompressed
size), an empty body (204); then the model's handler answers. The built-in handler (`Served`)
checks the Accept header (406, before any parsing or predicting), the Content-Type (415), the
body (400 naming row/column), Parquet column names against the model's (400), the feature
count (400), then predicts and encodes. A script-mode handler (serving.hooks) runs the user's
hooks, each falling back to these same built-in stages.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from flask import Response, request

from boostbox.config import MB, ServingConfig
from boostbox.errors import BadRequest, PayloadTooLarge, ServingError, UnsupportedMediaType
from boostbox.formats import Matrix
from boostbox.monitoring.service import Monitor
from boostbox.serving import attributes, codecs, features
from boostbox.serving.codecs import ENCODERS, negotiate
from boostbox.serving.outputs import Output, Selection
from boostbox.serving.predictor import OutputKind, Scorer


def too_large(limit: int) -> str:
    return (
        f"The request body is larger than the {limit} byte limit "
        f"({limit / MB:g} MB; SAGEMAKER_MAX_PAYLOAD_IN_MB raises it)."
    )


GZIP_NAMES = ("gzip", "x-gzip")


def decompressed(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body without its Content-Encoding: gzip is inflated up to `limit` bytes, or 415."""
    name = (encoding or "").strip().lower()
    if name in ("", "identity"):
        return body
    if name not in GZIP_NAMES:
        raise UnsupportedMediaType(
            f"Content-Encoding '{encoding}' is not supported; send gzip or an unencoded body."
        )
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as e:
        raise BadRequest(f"The body is not valid gzip (Content-Encoding: {encoding}): {e}.") from e
    if len(data) > limit:
        raise PayloadTooLarge(too_large(limit) + " (counted after gzip decompression)")
    if not inflater.eof:
        raise BadRequest(f"The gzip body is truncated (Content-Encoding: {encoding}).")
    return data


@dataclass(frozen=True)
class Call:
    """One invocation as the handlers see it: body, headers, requested output."""

    body: bytes
    content_type: str | None
    accept: str | None
    kind: OutputKind


type Answer = tuple[int, str, bytes]
"""(status, media type, body): what the pipeline answers, whichever server runs it."""


class Handler(Protocol):
    """A loaded model that answers invocations (built-in or script mode)."""

    def respond(self, call: Call, config: ServingConfig) -> Answer: ...


def decode(
    body: bytes,
    content_type: str | None,
    *,
    libsvm_one_based: bool = False,
    feature_names: tuple[str, ...] | None = None,
) -> Matrix:
    """The built-in input stage: Content-Type (415), body (400), Parquet names, >= 1 record."""
    decoded = codecs.decode(body, content_type, libsvm_one_based=libsvm_one_based)
    matrix = features.align(decoded, feature_names)
    if matrix.shape[0] == 0:
        raise BadRequest("The request body holds no records.")
    return matrix


def output_for(values: object, kind: OutputKind, selection: Selection | None) -> Output:
    """The built-in output: the selection for plain predictions, else the kind's key.

    `values` is what a predict stage returned: an ndarray, anything NumPy can make one of
    (list, pandas), or an Output already.
    """
    if isinstance(values, Output):
        return values
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as e:
        raise ServingError(f"The prediction ({type(values).__name__}) is not an array.") from e
    if array.ndim == 0:
        array = array.reshape(1)
    if selection is not None and kind is OutputKind.PREDICTION:
        return selection.select(array)
    key = "score" if kind is OutputKind.PREDICTION else kind.value
    return Output(key=key, values=array)


@dataclass(frozen=True)
class Served:
    """A loaded model with its output selection, built once per model and worker."""

    predictor: Scorer
    selection: Selection | None
    monitor: Monitor | None = None
    """Drift monitoring: counts every decoded request and its plain predictions."""

    @classmethod
    def build(
        cls, predictor: Scorer, config: ServingConfig, monitor: Monitor | None = None
    ) -> Served:
        """Bind SAGEMAKER_INFERENCE_OUTPUT to this model's objective (warns once per load)."""
        selection = (
            Selection(config.inference_output, predictor.objective, predictor.num_class)
            if config.inference_output
            else None
        )
        return cls(predictor, selection, monitor)

    def respond(self, call: Call, config: ServingConfig) -> Answer:
        """The built-in stages: Accept first (406 before any work), decode, predict, encode."""
        accept = negotiate(call.accept, config.default_accept)
        matrix = decode(
            call.body,
            call.content_type,
            libsvm_one_based=config.libsvm_one_based,
            feature_names=self.predictor.metadata.feature_names,
        )
        values = self.predictor.predict(matrix, call.kind)
        if self.monitor is not None:
            self.monitor.observe(matrix, values if call.kind is OutputKind.PREDICTION else None)
        output = output_for(values, call.kind, self.selection)
        return 200, accept, ENCODERS[accept](output, config.batch)


@dataclass(frozen=True)
class Headers:
    """The request fields the pipeline reads, however the server parsed them."""

    content_length: int | None
    content_type: str | None
    accept: str | None
    custom_attributes: str | None
    content_encoding: str | None


def run(
    served: Handler, config: ServingConfig, headers: Headers, read: Callable[[], bytes]
) -> Answer:
    """The one invocation pipeline: (status, media type, body); errors are raised, typed.

    With drift monitoring on, every invocation is counted and timed here, whichever server
    (the lean path or Flask) runs it.
    """
    monitor = served.monitor if isinstance(served, Served) else None
    if monitor is None:
        return _answer(served, config, headers, read)
    started = time.perf_counter()
    try:
        answer = _answer(served, config, headers, read)
    except Exception:
        monitor.request(time.perf_counter() - started, error=True)
        raise
    monitor.request(time.perf_counter() - started, error=answer[0] >= 400)
    return answer


def _answer(
    served: Handler, config: ServingConfig, headers: Headers, read: Callable[[], bytes]
) -> Answer:
    limit = config.max_payload_bytes
    if headers.content_length is not None and headers.content_length > limit:
        raise PayloadTooLarge(too_large(limit))
    kind = attributes.parse(headers.custom_attributes)
    body = decompressed(read(), headers.content_encoding, limit)
    if not body:
        return 204, "", b""
    return served.respond(Call(body, headers.content_type, headers.accept, kind), config)


def invoke(served: Handler, config: ServingConfig) -> Response:
    """The pipeline for Flask's current request (large bodies, multi-model endpoints)."""
    headers = Headers(
        request.content_length,
        request.headers.get("Content-Type"),
        request.headers.get("Accept"),
        request.headers.get(attributes.HEADER),
        request.headers.get("Content-Encoding"),
    )
    status, media, body = run(served, config, headers, lambda: request.get_data(cache=False))
    if status == 204:
        return Response(status=204)
    return Response(body, status=status, mimetype=media)
