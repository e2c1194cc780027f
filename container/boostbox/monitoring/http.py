"""The serving hooks: GET /monitoring and the timing wrapper around an invocation route."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from flask import Flask, Response, request

from boostbox.errors import BadRequest
from boostbox.monitoring.service import Monitor

PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


def add_routes(app: Flask, monitor: Monitor) -> None:
    """GET /monitoring (JSON) and GET /monitoring?format=prometheus."""

    @app.get("/monitoring")
    def monitoring() -> Response:
        wanted = request.args.get("format", "json").lower()
        if wanted == "prometheus":
            return Response(monitor.prometheus(), content_type=PROMETHEUS)
        if wanted != "json":
            raise BadRequest(f"Query 'format' has value '{wanted}': use json or prometheus.")
        return Response(json.dumps(monitor.report()), mimetype="application/json")


def timed(monitor: Monitor, handler: Callable[[], Response]) -> Response:
    """Run an invocation handler, counting it, its latency and whether it failed."""
    started = time.perf_counter()
    try:
        response = handler()
    except Exception:
        monitor.request(time.perf_counter() - started, error=True)
        raise
    monitor.request(time.perf_counter() - started, error=response.status_code >= 400)
    return response
