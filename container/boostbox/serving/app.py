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
from boostbox.monitoring import http as monitoring_http
from boostbox.monitoring.service import Monitor
from boostbox.serving.ensemble import Ensemble
from boostbox.serving.invocation import Handler, Served, invoke, too_large
from boostbox.serving.lean import LeanInvocations
from boostbox.serving.predictor import Predictor

logger = logging.getLogger(__name__)

JSON = "application/json"


def error_body(error: Exception, limit: int, method: str, path: str) -> tuple[int, bytes]:
    """The one error mapping (Flask's handler and the lean path): status and JSON body.

    Typed errors carry their status; HTTP errors keep theirs; anything else is a bug: 500.
    """
    if isinstance(error, ServingError):
        status, message = error.status, str(error)
    elif isinstance(error, RequestEntityTooLarge):
        status, message = 413, too_large(limit)
    elif isinstance(error, TimeoutError | BlockingIOError):  # the client stalled (worker.py)
        status, message = 408, "The request body stopped arriving; send it at once."
    elif isinstance(error, HTTPException):
        status, message = error.code or 500, str(error.description)
    else:
        status, message = 500, f"Internal error ({type(error).__name__}); see the logs."
    if status >= 500:
        logger.error("%s %s -> %d: %s", method, path, status, error, exc_info=error)
    else:
        logger.info("%s %s -> %d: %s", method, path, status, message)
    return status, json.dumps({"error": message}).encode()


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
        status, body = error_body(error, limit, request.method, request.path)
        return Response(body, status=status, mimetype=JSON)

    app.register_error_handler(Exception, handle_error)
    return app


def create_app(
    model: Predictor | Ensemble | Handler, config: ServingConfig, monitor: Monitor | None = None
) -> Flask:
    """An app serving `model` (a predictor, fold ensemble, or script-mode handler).

    The model is already loaded, so /ping is simply 200. With a `monitor` (built-in models
    only), every invocation is counted and timed and GET /monitoring reports.
    """
    app = create_base_app(config)
    served = (
        Served.build(model, config, monitor) if isinstance(model, Predictor | Ensemble) else model
    )

    def invocations() -> Response:
        return invoke(served, config)

    if monitor is not None and isinstance(served, Served):
        monitoring_http.add_routes(app, monitor)
    app.add_url_rule("/invocations", "invocations", invocations, methods=["POST"])
    app.wsgi_app = LeanInvocations(app.wsgi_app, served, config, error_body)  # type: ignore[method-assign]
    return app
