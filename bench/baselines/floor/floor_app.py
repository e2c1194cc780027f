"""The HTTP floor: flask + gunicorn answering /invocations with a constant, no parsing, no model.

Served by the boostbox image's own gunicorn and flask, so only the application code differs.
"""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)


@app.get("/ping")
def ping() -> Response:
    return Response(status=200)


@app.post("/invocations")
def invocations() -> Response:
    request.get_data()
    return Response("0.5\n", status=200, mimetype="text/csv")
