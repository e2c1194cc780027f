"""SageMaker's /models API over the registry every worker shares.

POST /models loads a model (409 if loaded, 404 if the url does not exist, 400 if it holds
no loadable model, 507 if memory looks short), GET /models lists them (sorted by name,
paginated with next_page_token and max_results), GET and DELETE /models/<name> read and
unload one, POST /models/<name>/invoke runs the same pipeline as /invocations.
"""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from boostbox import artifact
from boostbox.config import MB, ServingConfig
from boostbox.errors import BadRequest, Conflict, InsufficientResources, ModelLoadError, NotFound
from boostbox.serving.app import create_base_app
from boostbox.serving.invocation import invoke
from boostbox.serving.multimodel.cache import (
    MEMORY_FACTOR,
    MEMORY_MARGIN,
    MemoryProbe,
    ModelCache,
    available_memory,
    load_served,
    required_memory,
)
from boostbox.serving.multimodel.registry import Entry, ModelRegistry

logger = logging.getLogger(__name__)

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def _load_request() -> tuple[str, str]:
    """model_name and url from the POST /models body."""
    body: Any = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise BadRequest('The body must be a JSON object: {"model_name": ..., "url": ...}.')
    name, url = body.get("model_name"), body.get("url")
    if not isinstance(name, str) or not name or not isinstance(url, str) or not url:
        raise BadRequest('The body needs non-empty strings "model_name" and "url".')
    return name, url


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 1:
        raise BadRequest(f"max_results has value '{raw}'. Not a positive integer.")
    return min(size, MAX_PAGE)


def _encode_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (ValueError, binascii.Error) as e:
        raise BadRequest(f"next_page_token has value '{token}', which no listing returned.") from e


def _summary(entry: Entry) -> dict[str, str]:
    return {"modelName": entry.name, "modelUrl": entry.url}


class ModelsApi:
    """The /models handlers over one registry and this worker's cache."""

    def __init__(self, registry: ModelRegistry, config: ServingConfig, memory: MemoryProbe):
        self.registry = registry
        self.config = config
        self.memory = memory
        self.cache = ModelCache(registry, config)

    def check_memory(self, name: str, model_file: Path) -> None:
        """507 when every worker holding its own copy would not fit in what is free."""
        size = model_file.stat().st_size
        needed = required_memory(size, self.config.workers)
        available = self.memory()
        if available is not None and needed > available:
            raise InsufficientResources(
                f"Not enough memory to load model {name}: about {needed // MB} MiB needed "
                f"({MEMORY_FACTOR} x its {size / MB:.1f} MiB file in each of "
                f"{self.config.workers} worker(s), plus {MEMORY_MARGIN // MB} MiB), "
                f"{available // MB} MiB available."
            )

    def load(self) -> Response:
        name, url = _load_request()
        if self.registry.contains(name):
            raise Conflict(f"Model {name} is already registered.")
        directory = Path(url)
        if not directory.exists():
            raise NotFound(f"Model {name}: url {url} does not exist in the container.")
        try:
            self.check_memory(name, artifact.find_model_file(directory))
            served = load_served(url, self.config)
        except ModelLoadError as e:
            raise BadRequest(f"Model {name} cannot be loaded: {e}") from e
        self.cache.put(self.registry.add(name, url), served)
        logger.info("Model %s registered from %s.", name, url)
        return jsonify(status="Workers scaled")

    def list_models(self) -> Response:
        size = _page_size(request.args.get("max_results"))
        token = request.args.get("next_page_token")
        entries = self.registry.entries()
        if token:
            start = _decode_token(token)
            entries = [e for e in entries if e.name >= start]
        page: dict[str, Any] = {"models": [_summary(e) for e in entries[:size]]}
        if len(entries) > size:
            page["nextPageToken"] = _encode_token(entries[size].name)
        return jsonify(page)

    def describe(self, name: str) -> Response:
        return jsonify(_summary(self.registry.get(name)))

    def unload(self, name: str) -> Response:
        self.registry.remove(name)
        self.cache.drop(name)
        logger.info("Model %s unregistered.", name)
        return jsonify(status=f'Model "{name}" unregistered')

    def invoke(self, name: str) -> Response:
        return invoke(self.cache.served(name), self.config)


def create_multi_model_app(
    registry: ModelRegistry, config: ServingConfig, *, memory: MemoryProbe = available_memory
) -> Flask:
    """An app serving the models in `registry`; `memory` is injectable for tests."""
    app = create_base_app(config)
    api = ModelsApi(registry, config, memory)
    app.extensions["boostbox.model_cache"] = api.cache
    app.before_request(api.cache.prune)
    app.add_url_rule("/models", view_func=api.load, methods=["POST"])
    app.add_url_rule("/models", view_func=api.list_models, methods=["GET"])
    app.add_url_rule("/models/<name>", view_func=api.describe, methods=["GET"])
    app.add_url_rule("/models/<name>", view_func=api.unload, methods=["DELETE"])
    app.add_url_rule("/models/<name>/invoke", view_func=api.invoke, methods=["POST"])
    return app
