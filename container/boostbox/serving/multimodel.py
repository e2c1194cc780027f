"""Multi-model endpoints: SageMaker's /models API over a registry every worker shares.

POST /models loads a model (409 if loaded, 404 if the url does not exist, 400 if it holds
no loadable model, 507 if memory looks short), GET /models lists them (sorted by name,
paginated with next_page_token and max_results), GET and DELETE /models/<name> read and
unload one, POST /models/<name>/invoke runs the same pipeline as /invocations.

The worker that answers POST /models loads the model and registers it; every other worker
loads it lazily on its first invocation and keeps at most `max_models_per_worker` models
(least recently used out). Before each request a worker drops its copies of models whose
registry entry vanished or changed, so an unload takes effect in every worker at once.
Sync workers serve one request at a time, so the cache needs no lock.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from boostbox import artifact
from boostbox.config import MB, ServingConfig
from boostbox.errors import BadRequest, Conflict, InsufficientResources, ModelLoadError, NotFound
from boostbox.serving.app import Served, create_base_app, invoke
from boostbox.serving.predictor import load_predictor
from boostbox.serving.registry import Entry, ModelRegistry, Stamp, not_found

logger = logging.getLogger(__name__)

MEMORY_FACTOR = 4
"""Bytes of memory per byte of model file while loading: file, parse copy, booster, fast path."""
MEMORY_MARGIN = 64 * MB
"""Headroom kept free for requests and the Python heap."""
DEFAULT_PAGE = 100
MAX_PAGE = 1000
MEMINFO = Path("/proc/meminfo")
CGROUP = Path("/sys/fs/cgroup")

type MemoryProbe = Callable[[], int | None]
"""Bytes of memory still available, None where unknown (then no check is made)."""


def _meminfo_available(meminfo: Path) -> int | None:
    """MemAvailable: what the machine can allocate without swapping."""
    for line in meminfo.read_text(encoding="ascii").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


CGROUP_FILES = {
    2: ("memory.max", "memory.current", "inactive_file "),
    1: ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes", "total_inactive_file "),
}
"""cgroup v2 and v1 names of the memory limit, the usage, and the reclaimable page cache."""


def _cgroup_available(cgroup: Path) -> int | None:
    """Room under a cgroup memory limit (docker --memory), page cache counted as free."""
    version = 2 if (cgroup / CGROUP_FILES[2][0]).exists() else 1
    limit_file, usage_file, inactive_key = CGROUP_FILES[version]
    limit = (cgroup / limit_file).read_text(encoding="ascii").strip()
    if limit == "max":
        return None
    used = int((cgroup / usage_file).read_text(encoding="ascii"))
    stat = (cgroup / limit_file).with_name("memory.stat")
    for line in stat.read_text(encoding="ascii").splitlines():
        if line.startswith(inactive_key):
            used -= int(line.split()[1])
    return int(limit) - used


def available_memory(meminfo: Path = MEMINFO, cgroup: Path = CGROUP) -> int | None:
    """The smaller of the machine's and the container's free memory, None if neither reads."""
    found = []
    for probe, source in ((_meminfo_available, meminfo), (_cgroup_available, cgroup)):
        try:
            value = probe(source)
        except (OSError, ValueError, IndexError) as e:
            logger.debug("No available memory from %s: %s", source, e)
            continue
        if value is not None:
            found.append(value)
    return min(found) if found else None


def required_memory(model_bytes: int, workers: int) -> int:
    """A conservative estimate: every worker may end up holding its own copy."""
    return MEMORY_FACTOR * model_bytes * workers + MEMORY_MARGIN


def load_served(url: str, config: ServingConfig) -> Served:
    """Load the model in `url` (a directory holding `xgboost-model`) into this worker."""
    return Served.build(load_predictor(Path(url), config), config)


@dataclass(frozen=True)
class Cached:
    """A worker's copy of a model, valid while the registry entry keeps `stamp`."""

    url: str
    stamp: Stamp
    served: Served


class ModelCache:
    """This worker's loaded models, keyed by name and registry stamp; LRU-bounded."""

    def __init__(self, registry: ModelRegistry, config: ServingConfig):
        self.registry = registry
        self.config = config
        self.capacity = config.max_models_per_worker
        self._models: OrderedDict[str, Cached] = OrderedDict()
        self._lock = threading.RLock()
        """gthread workers answer several requests at once; the cache is per process."""

    def __len__(self) -> int:
        return len(self._models)

    def put(self, entry: Entry, served: Served) -> None:
        with self._lock:
            self._models[entry.name] = Cached(entry.url, entry.stamp, served)
            self._models.move_to_end(entry.name)
            while len(self._models) > self.capacity:
                evicted, _ = self._models.popitem(last=False)
                logger.info("Model %s evicted from this worker (pid %d).", evicted, os.getpid())

    def drop(self, name: str) -> None:
        with self._lock:
            if self._models.pop(name, None) is not None:
                logger.info("Model %s released in this worker (pid %d).", name, os.getpid())

    def prune(self) -> None:
        """Forget models unloaded (or loaded anew) through any worker since we last looked."""
        with self._lock:
            for name, cached in list(self._models.items()):
                if self.registry.stamp(name) != cached.stamp:
                    self.drop(name)

    def served(self, name: str) -> Served:
        """The model `name` for an invocation: cached, or loaded now; NotFound if unloaded."""
        with self._lock:
            stamp = self.registry.stamp(name)
            cached = self._models.get(name)
            if stamp is None:
                self.drop(name)
                raise not_found(name)
            if cached is not None and cached.stamp == stamp:
                self._models.move_to_end(name)
                return cached.served
            entry = self.registry.get(name)
            served = load_served(entry.url, self.config)
            self.put(entry, served)
            return served


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


def create_multi_model_app(
    registry: ModelRegistry, config: ServingConfig, *, memory: MemoryProbe = available_memory
) -> Flask:
    """An app serving the models in `registry`; `memory` is injectable for tests."""
    app = create_base_app(config)
    cache = ModelCache(registry, config)
    app.extensions["boostbox.model_cache"] = cache

    @app.before_request
    def prune() -> None:
        cache.prune()

    def check_memory(name: str, model_file: Path) -> None:
        size = model_file.stat().st_size
        needed = required_memory(size, config.workers)
        available = memory()
        if available is not None and needed > available:
            raise InsufficientResources(
                f"Not enough memory to load model {name}: about {needed // MB} MiB needed "
                f"({MEMORY_FACTOR} x its {size / MB:.1f} MiB file in each of {config.workers} "
                f"worker(s), plus {MEMORY_MARGIN // MB} MiB), {available // MB} MiB available."
            )

    @app.post("/models")
    def load() -> Response:
        name, url = _load_request()
        if registry.contains(name):
            raise Conflict(f"Model {name} is already registered.")
        directory = Path(url)
        if not directory.exists():
            raise NotFound(f"Model {name}: url {url} does not exist in the container.")
        try:
            check_memory(name, artifact.find_model_file(directory))
            served = load_served(url, config)
        except ModelLoadError as e:
            raise BadRequest(f"Model {name} cannot be loaded: {e}") from e
        cache.put(registry.add(name, url), served)
        logger.info("Model %s registered from %s.", name, url)
        return jsonify(status="Workers scaled")

    @app.get("/models")
    def list_models() -> Response:
        size = _page_size(request.args.get("max_results"))
        token = request.args.get("next_page_token")
        entries = registry.entries()
        if token:
            start = _decode_token(token)
            entries = [e for e in entries if e.name >= start]
        page: dict[str, Any] = {"models": [_summary(e) for e in entries[:size]]}
        if len(entries) > size:
            page["nextPageToken"] = _encode_token(entries[size].name)
        return jsonify(page)

    @app.get("/models/<name>")
    def describe(name: str) -> Response:
        return jsonify(_summary(registry.get(name)))

    @app.delete("/models/<name>")
    def unload(name: str) -> Response:
        registry.remove(name)
        cache.drop(name)
        logger.info("Model %s unregistered.", name)
        return jsonify(status=f'Model "{name}" unregistered')

    @app.post("/models/<name>/invoke")
    def invoke_model(name: str) -> Response:
        served = cache.served(name)
        return invoke(served, config)

    return app
