"""The lean WSGI path answers exactly as the Flask route does: status, headers and body.

Each request goes once through the app as built (small bodies take the lean path) and once
through the Flask app alone (the middleware's inner app), and the answers are compared.
"""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from boostbox.config import ServingConfig
from boostbox.serving.app import create_app
from boostbox.serving.invocation import too_large
from boostbox.serving.lean import LeanInvocations
from boostbox.serving.predictor import Predictor

ROW = b"0.5,-1,2,0.25\n"
CASES: list[tuple[str, dict[str, str], bytes]] = [
    ("csv", {"Content-Type": "text/csv"}, ROW),
    ("csv-charset", {"Content-Type": "text/csv; charset=utf-8", "Accept": "text/csv"}, ROW),
    ("json-out", {"Content-Type": "text/csv", "Accept": "application/json"}, ROW),
    ("jsonlines-out", {"Content-Type": "text/csv", "Accept": "application/jsonlines"}, ROW),
    ("json-in", {"Content-Type": "application/json"}, b'{"instances": [[0.5, -1, 2, 0.25]]}'),
    (
        "margin",
        {"Content-Type": "text/csv", "X-Amzn-SageMaker-Custom-Attributes": "output=margin"},
        ROW,
    ),
    ("empty", {"Content-Type": "text/csv"}, b""),
    ("gzip", {"Content-Type": "text/csv", "Content-Encoding": "gzip"}, gzip.compress(ROW)),
    ("bad-encoding", {"Content-Type": "text/csv", "Content-Encoding": "br"}, ROW),
    ("bad-type", {"Content-Type": "text/plain"}, ROW),
    ("no-type", {}, ROW),
    ("bad-accept", {"Content-Type": "text/csv", "Accept": "application/xml"}, ROW),
    ("bad-attribute", {"Content-Type": "text/csv", "X-Amzn-SageMaker-Custom-Attributes": "x"}, ROW),
    ("malformed", {"Content-Type": "text/csv"}, b"1,2,3,4\n5,six,7,8\n"),
    ("too-few", {"Content-Type": "text/csv"}, b"1,2,3\n"),
]


def _answer(app: Any, headers: dict[str, str], body: bytes) -> tuple[str, list[Any], bytes]:
    response = Client(app).post("/invocations", data=body, headers=headers)
    kept = [(k, v) for k, v in response.headers.items() if k in ("Content-Type", "Content-Length")]
    return response.status, kept, response.get_data()


def _both(app: Flask) -> tuple[Any, Any]:
    assert isinstance(app.wsgi_app, LeanInvocations)
    return app.wsgi_app, app.wsgi_app.app


@pytest.mark.parametrize(("name", "headers", "body"), CASES, ids=[c[0] for c in CASES])
def test_lean_answers_as_flask_does(
    predictors: dict[str, Predictor], name: str, headers: dict[str, str], body: bytes
) -> None:
    app = create_app(predictors["binary"], ServingConfig())
    lean_app, flask_app = _both(app)
    assert _answer(lean_app, headers, body) == _answer(flask_app, headers, body)


def test_invocations_take_the_lean_path_and_everything_else_flask(
    predictors: dict[str, Predictor],
) -> None:
    app = create_app(predictors["binary"], ServingConfig(max_payload_bytes=1024))
    calls: list[str] = []
    inner = app.wsgi_app.app  # type: ignore[attr-defined]

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app.app = counting  # type: ignore[attr-defined]
    client = app.test_client()
    assert client.post("/invocations", data=ROW, content_type="text/csv").status_code == 200
    assert calls == []
    over = client.post("/invocations", data=ROW * 100, content_type="text/csv")
    assert over.status_code == 413
    assert over.get_json() == {"error": too_large(1024)}
    assert client.get("/ping").status_code == 200
    assert calls == ["/invocations", "/ping"]


def test_a_large_batch_answers_as_flask_does(predictors: dict[str, Predictor]) -> None:
    app = create_app(predictors["binary"], ServingConfig())
    lean_app, flask_app = _both(app)
    headers = {"Content-Type": "text/csv"}
    batch = ROW * 20_000
    assert _answer(lean_app, headers, batch) == _answer(flask_app, headers, batch)


def test_the_payload_limit_is_the_same_on_both_paths(predictors: dict[str, Predictor]) -> None:
    app = create_app(predictors["binary"], ServingConfig(max_payload_bytes=8))
    lean_app, flask_app = _both(app)
    headers = {"Content-Type": "text/csv"}
    answer = _answer(lean_app, headers, ROW)
    assert answer == _answer(flask_app, headers, ROW)
    assert answer[0] == "413 REQUEST ENTITY TOO LARGE"
