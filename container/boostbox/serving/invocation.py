"""The one invocation pipeline, shared by /invocations and /models/<name>/invoke.

Checks, in order: payload size (413), the custom-attributes header (400), the Accept header
(406, before any parsing or predicting), an empty body (204), the Content-Type (415), the
body (400 naming row/column), the feature count (400), then predicts and encodes.
"""

from __future__ import annotations

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


def invoke(served: Served, config: ServingConfig) -> Response:
    """The one invocation pipeline: the current request through `served`'s model."""
    limit = config.max_payload_bytes
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(too_large(limit))
    kind = attributes.parse(request.headers.get(attributes.HEADER))
    accept = negotiate(request.headers.get("Accept"), config.default_accept)
    body = request.get_data(cache=False)
    if not body:
        return Response(status=204)
    decode, params = decoder_for(request.headers.get("Content-Type"))
    matrix = decode(body, params)
    if matrix.shape[0] == 0:
        raise BadRequest("The request body holds no records.")
    values = served.predictor.predict(matrix, kind)
    if served.selection is not None and kind is OutputKind.PREDICTION:
        output = served.selection.select(values)
    else:
        key = "score" if kind is OutputKind.PREDICTION else kind.value
        output = Output(key=key, values=values)
    return Response(ENCODERS[accept](output, config.batch), mimetype=accept)
