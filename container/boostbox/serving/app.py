"""The Flask app: /ping, /execution-parameters, /invocations, and the one error handler.

An invocation checks, in order: payload size (413), the custom-attributes header (400), the
Accept header (406, before any parsing or predicting), an empty body (204, no content, as
the official container does), the Content-Type (415), the body (400 naming row/column),
the feature count (400 naming expected vs got), then predicts and encodes. Single-model
/invocations and multi-model /models/<name>/invoke run the same `invoke`. Every error
answers JSON `{"error": "..."}` whatever the Accept type, and no error ends a worker.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from boostbox.config import MB, ConfigError, ServingConfig
from boostbox.errors import BadRequest, PayloadTooLarge, ServingError
from boostbox.serving import attributes
from boostbox.serving.codecs import ENCODERS, decoder_for, negotiate
from boostbox.serving.outputs import Output, Selection
from boostbox.serving.predictor import OutputKind, Predictor

logger = logging.getLogger(__name__)

JSON = "application/json"


def _too_large(limit: int) -> str:
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
        raise PayloadTooLarge(_too_large(limit))
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


def create_base_app(config: ServingConfig) -> Flask:
    """/ping, /execution-parameters and the error handler, shared by both serving modes."""
    if config.default_accept not in ENCODERS:
        raise ConfigError(
            f"Config 'SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT' has value '{config.default_accept}'. "
            f"Not one of {', '.join(ENCODERS)}."
        )
    app = Flask("boostbox")
    limit = config.max_payload_bytes
    app.config["MAX_CONTENT_LENGTH"] = limit
    parameters = json.dumps(
        {
            "MaxConcurrentTransforms": config.max_concurrent_transforms,
            "BatchStrategy": config.batch_strategy,
            "MaxPayloadInMB": max(1, limit // MB),
        }
    )

    @app.get("/ping")
    def ping() -> Response:
        return Response(status=200)

    @app.get("/execution-parameters")
    def execution_parameters() -> Response:
        return Response(parameters, mimetype=JSON)

    def handle_error(error: Exception) -> Response:
        """The one error handler: typed errors, HTTP errors and bugs, all as JSON."""
        if isinstance(error, ServingError):
            status, message = error.status, str(error)
        elif isinstance(error, RequestEntityTooLarge):
            status, message = 413, _too_large(limit)
        elif isinstance(error, HTTPException):
            status, message = error.code or 500, str(error.description)
        else:
            status, message = 500, f"Internal error ({type(error).__name__}); see the logs."
        if status >= 500:
            logger.error(
                "%s %s -> %d: %s", request.method, request.path, status, error, exc_info=error
            )
        else:
            logger.info("%s %s -> %d: %s", request.method, request.path, status, message)
        return Response(json.dumps({"error": message}), status=status, mimetype=JSON)

    app.register_error_handler(Exception, handle_error)
    return app


def create_app(predictor: Predictor, config: ServingConfig) -> Flask:
    """An app serving `predictor`; the model is already loaded, so /ping is simply 200."""
    app = create_base_app(config)
    served = Served.build(predictor, config)

    @app.post("/invocations")
    def invocations() -> Response:
        return invoke(served, config)

    return app
