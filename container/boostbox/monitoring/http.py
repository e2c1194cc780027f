"""The serving hooks: GET /monitoring and the timing wrapper around an invocation route."""

from __future__ import annotations

import json

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
