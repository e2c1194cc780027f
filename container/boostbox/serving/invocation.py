"""The one invocation pipeline, shared by /invocations and /models/<name>/invoke.

Checks, in order: payload size (413), the custom-attributes header (400), the Accept header
(406, before any parsing or predicting), the Content-Encoding (415; gzip bodies are
decompressed, the limit counting the decompressed size), an empty body (204), the
Content-Type (415), the body (400 naming row/column), Parquet column names against the
model's (400), the feature count (400), then predicts and encodes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from flask import Response, request

from boostbox.config import MB, ServingConfig
from boostbox.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from boostbox.serving import attributes, features
from boostbox.serving.codecs import ENCODERS, decode, negotiate
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
class Served:
    """A loaded model with its output selection, built once per model and worker."""

    predictor: Scorer
    selection: Selection | None

    @classmethod
    def build(cls, predictor: Scorer, config: ServingConfig) -> Served:
        """Bind SAGEMAKER_INFERENCE_OUTPUT to this model's objective (warns once per load)."""
        selection = (
            Selection(config.inference_output, predictor.objective, predictor.num_class)
            if config.inference_output
            else None
        )
        return cls(predictor, selection)


def invoke(served: Served, config: ServingConfig) -> Response:
    """The one invocation pipeline: the current request through `served`'s model."""
    limit = config.max_payload_bytes
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(too_large(limit))
    kind = attributes.parse(request.headers.get(attributes.HEADER))
    accept = negotiate(request.headers.get("Accept"), config.default_accept)
    body = decompressed(
        request.get_data(cache=False), request.headers.get("Content-Encoding"), limit
    )
    if not body:
        return Response(status=204)
    decoded = decode(
        body, request.headers.get("Content-Type"), libsvm_one_based=config.libsvm_one_based
    )
    matrix = features.align(decoded, served.predictor.metadata.feature_names)
    if matrix.shape[0] == 0:
        raise BadRequest("The request body holds no records.")
    values = served.predictor.predict(matrix, kind)
    if served.selection is not None and kind is OutputKind.PREDICTION:
        output = served.selection.select(values)
    else:
        key = "score" if kind is OutputKind.PREDICTION else kind.value
        output = Output(key=key, values=values)
    return Response(ENCODERS[accept](output, config.batch), mimetype=accept)
