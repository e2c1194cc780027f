"""The Flask app: /ping, /execution-parameters, /invocations, and the one error handler.

Single-model /invocations and multi-model /models/<name>/invoke run the same pipeline
(serving.invocation). Every error answers JSON `{"error": "..."}` whatever the Accept type,
and no error ends a worker.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from boostbox.config import MB, ServingConfig
from boostbox.errors import ServingError
from boostbox.serving.invocation import Served, invoke, too_large
from boostbox.serving.predictor import Predictor

logger = logging.getLogger(__name__)

JSON = "application/json"


def create_base_app(config: ServingConfig) -> Flask:
    """/ping, /execution-parameters and the error handler, shared by both serving modes."""
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
            status, message = 413, too_large(limit)
        elif isinstance(error, TimeoutError):  # the client stalled (server.CLIENT_IO_TIMEOUT)
            status, message = 408, "The request body stopped arriving; send it at once."
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
