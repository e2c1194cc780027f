"""The one invocation pipeline, shared by /invocations and /models/<name>/invoke.

Checks, in order: payload size (413), the custom-attributes header (400), the Accept header
(406, before any parsing or predicting), an empty body (204), the Content-Type (415), the
body (400 naming row/column), the feature count (400), then predicts and encodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, request

from boostbox.config import MB, ServingConfig
from boostbox.errors import BadRequest, PayloadTooLarge
from boostbox.serving import attributes
from boostbox.serving.codecs import ENCODERS, decoder_for, negotiate
from boostbox.serving.outputs import Output, Selection
from boostbox.serving.predictor import OutputKind, Predictor


def too_large(limit: int) -> str:
    return (
        f"The request body is larger than the {limit} byte limit "
        f"({limit / MB:g} MB; SAGEMAKER_MAX_PAYLOAD_IN_MB raises it)."
    )


@dataclass(frozen=True)
class Served:
    """A loaded model with its output selection, built once per model and worker."""

    predictor: Predictor
    selection: Selection | None

    @classmethod
    def build(cls, predictor: Predictor, config: ServingConfig) -> Served:
        """Bind SAGEMAKER_INFERENCE_OUTPUT to this model's objective (warns once per load)."""
        selection = (
            Selection(config.inference_output, predictor.objective, predictor.num_class)
            if config.inference_output
            else None
        )
        return cls(predictor, selection)


@dataclass(frozen=True)
class Headers:
    """The request fields the pipeline reads, however the server parsed them."""

    content_length: int | None
    content_type: str | None
    accept: str | None
    custom_attributes: str | None


def run(
    served: Served, config: ServingConfig, headers: Headers, read: Callable[[], bytes]
) -> tuple[int, str, bytes]:
    """The one invocation pipeline: (status, media type, body); errors are raised, typed."""
    limit = config.max_payload_bytes
    if headers.content_length is not None and headers.content_length > limit:
        raise PayloadTooLarge(too_large(limit))
    kind = attributes.parse(headers.custom_attributes)
    accept = negotiate(headers.accept, config.default_accept)
    body = read()
    if not body:
        return 204, "", b""
    decode, params = decoder_for(headers.content_type)
    matrix = decode(body, params)
    if matrix.shape[0] == 0:
        raise BadRequest("The request body holds no records.")
    values = served.predictor.predict(matrix, kind)
    if served.selection is not None and kind is OutputKind.PREDICTION:
        output = served.selection.select(values)
    else:
        key = "score" if kind is OutputKind.PREDICTION else kind.value
        output = Output(key=key, values=values)
    return 200, accept, ENCODERS[accept](output, config.batch)


def invoke(served: Served, config: ServingConfig) -> Response:
    """The pipeline for Flask's current request (large bodies, multi-model endpoints)."""
    headers = Headers(
        request.content_length,
        request.headers.get("Content-Type"),
        request.headers.get("Accept"),
        request.headers.get(attributes.HEADER),
    )
    status, media, body = run(served, config, headers, lambda: request.get_data(cache=False))
    if status == 204:
        return Response(status=204)
    return Response(body, mimetype=media)
