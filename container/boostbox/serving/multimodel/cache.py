"""A worker's loaded models (LRU-bounded, checked against the registry) and the memory check.

Every worker other than the one that answered POST /models loads a model lazily on its first
invocation and keeps at most `max_models_per_worker` models (least recently used out). Before
each request a worker drops its copies of models whose registry entry vanished or changed, so
an unload takes effect in every worker at once. gthread workers answer several requests at
once, so the cache holds a lock.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from boostbox.config import MB, ServingConfig
from boostbox.serving.ensemble import load_predictor
from boostbox.serving.invocation import Served
from boostbox.serving.multimodel.registry import Entry, ModelRegistry, Stamp, not_found

logger = logging.getLogger(__name__)

MEMORY_FACTOR = 4
"""Bytes of memory per byte of model file while loading: file, parse copy, booster, fast path."""
MEMORY_MARGIN = 64 * MB
"""Headroom kept free for requests and the Python heap."""
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
