"""serving/openapi.yaml against the app: the same routes, and every documented status is
produced by a request below (so a status cannot be documented and dead, nor a route added
without the file)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import boostbox.serving
from boostbox.config import ServingConfig
from boostbox.serving.app import create_app
from boostbox.serving.multimodel.app import create_multi_model_app
from boostbox.serving.multimodel.registry import ModelRegistry
from boostbox.serving.predictor import Predictor

SPEC_FILE = Path(boostbox.serving.__file__).parent / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text())
METHODS = {"get", "post", "put", "delete", "patch"}


def documented(mode: str) -> dict[tuple[str, str], set[int]]:
    """(path, method) -> documented statuses, for the operations of one serving mode."""
    found = {}
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in METHODS and mode in op["x-boostbox-mode"]:
                found[(path, method)] = {int(s) for s in op["responses"]}
    return found


def routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add((path, method.lower()))
    return found


@pytest.fixture
def single(predictors: dict[str, Predictor]) -> Flask:
    return create_app(predictors["binary"], ServingConfig(max_payload_bytes=1000))


@pytest.fixture
def multi(tmp_path: Path) -> Iterator[Flask]:
    registry = ModelRegistry.create(tmp_path)
    yield create_multi_model_app(
        registry, ServingConfig(max_payload_bytes=1000), memory=lambda: None
    )
    registry.destroy()


def test_single_model_routes_match(single: Flask) -> None:
    assert routes(single) == set(documented("single"))


def test_multi_model_routes_match(multi: Flask) -> None:
    assert routes(multi) == set(documented("multi"))


CSV = "text/csv"
Call = Callable[[FlaskClient], TestResponse]


def invocations(url: str) -> dict[int, Call]:
    def post(body: bytes, content_type: str = CSV, **headers: str) -> Call:
        return lambda c: c.post(url, data=body, headers={"Content-Type": content_type, **headers})

    return {
        200: post(b"1,2,3,4\n"),
        204: post(b""),
        400: post(b"1,2,x,4\n"),
        406: post(b"1,2,3,4\n", Accept="image/png"),
        413: post(b"1,2,3,4\n" * 300),
        415: post(b"1,2,3,4\n", "image/png"),
    }


def single_calls() -> dict[tuple[str, str], dict[int, Call]]:
    return {
        ("/ping", "get"): {200: lambda c: c.get("/ping")},
        ("/execution-parameters", "get"): {200: lambda c: c.get("/execution-parameters")},
        ("/invocations", "post"): invocations("/invocations"),
    }


def multi_calls(model: Path, missing: Path) -> dict[tuple[str, str], dict[int, Call]]:
    def load(name: str, url: Path | str) -> Call:
        return lambda c: c.post("/models", json={"model_name": name, "url": str(url)})

    invoke = invocations("/models/m/invoke") | {
        404: lambda c: c.post("/models/nope/invoke", data=b"1,2,3,4", content_type=CSV)
    }
    return {
        ("/ping", "get"): {200: lambda c: c.get("/ping")},
        ("/execution-parameters", "get"): {200: lambda c: c.get("/execution-parameters")},
        ("/models", "post"): {
            200: load("m", model),
            400: lambda c: c.post("/models", json=["m"]),
            404: load("x", missing),
            409: load("m", model),
            413: lambda c: c.post(
                "/models", data=b"{" + b" " * 2000 + b"}", content_type="application/json"
            ),
        },
        ("/models", "get"): {
            200: lambda c: c.get("/models"),
            400: lambda c: c.get("/models?max_results=0"),
        },
        ("/models/{name}", "get"): {
            200: lambda c: c.get("/models/m"),
            404: lambda c: c.get("/models/nope"),
        },
        ("/models/{name}/invoke", "post"): invoke,
        ("/models/{name}", "delete"): {
            200: lambda c: c.delete("/models/m"),
            404: lambda c: c.delete("/models/m"),
        },
    }


def check(client: FlaskClient, calls: dict[tuple[str, str], dict[int, Call]], mode: str) -> None:
    spec = documented(mode)
    assert {k: set(v) for k, v in calls.items()} | {} == {
        k: v - UNREACHABLE.get(k, set()) for k, v in spec.items()
    }
    for operation, by_status in calls.items():  # in order: load before invoke before delete
        for status, call in by_status.items():
            answer = call(client)
            assert answer.status_code == status, (operation, status, answer.data[:200])
            if status >= 400:
                assert answer.get_json() == {"error": answer.get_json()["error"]}


UNREACHABLE = {
    ("/models", "post"): {507},
    ("/invocations", "post"): {408},
    ("/models/{name}/invoke", "post"): {408},
}
"""Documented statuses produced in other tests (507: test_multimodel's memory probe; 408: a
stalled body, tests/container/test_faults_image.py)."""


def test_every_documented_single_model_status_is_produced(single: Flask) -> None:
    check(single.test_client(), single_calls(), "single")


def test_every_documented_multi_model_status_is_produced(
    multi: Flask, model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    check(multi.test_client(), multi_calls(model_dirs["binary"], tmp_path / "none"), "multi")
