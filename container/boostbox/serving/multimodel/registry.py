"""The multi-model registry: which models are loaded, shared by every gunicorn worker.

One directory, created by the master before it forks the workers (on /dev/shm when there
is one), holds one small JSON file per loaded model, named by a hash of the model's name.
An entry is written to a hidden temporary file and then hard-linked to its final name:
link() fails if the name exists, so two workers loading the same model race safely (one
gets 409) and no reader ever sees a half-written file. Unloading removes the file, which
every worker notices at its next request. The file's inode and mtime are the entry's
stamp: a model unloaded and loaded again gets a new stamp, so no worker keeps the old copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from boostbox.errors import Conflict, NotFound

logger = logging.getLogger(__name__)

SHM = Path("/dev/shm")

type Stamp = tuple[int, int]
"""(inode, mtime in ns) of an entry file: changes whenever a model is loaded anew."""


def not_found(name: str) -> NotFound:
    """The official model server's wording for a model that is not loaded."""
    return NotFound(f"Model not found: {name}")


@dataclass(frozen=True)
class Entry:
    """One loaded model as the platform named it."""

    name: str
    url: str
    stamp: Stamp


class ModelRegistry:
    """Loaded models in a directory every worker sees; no state lives in the object."""

    def __init__(self, root: Path, *, owner_pid: int | None = None):
        self.root = root
        self.owner_pid = owner_pid
        """The process that created the directory and alone may remove it (not a fork)."""

    @classmethod
    def create(cls, parent: Path | None = None) -> ModelRegistry:
        """A fresh directory, on /dev/shm if present (memory, not the overlay filesystem)."""
        if parent is None and SHM.is_dir() and os.access(SHM, os.W_OK):
            parent = SHM
        root = Path(tempfile.mkdtemp(prefix="boostbox-models-", dir=parent))
        return cls(root, owner_pid=os.getpid())

    def destroy(self) -> None:
        """Remove the directory, in the creating process only (forked workers inherit us)."""
        if self.owner_pid == os.getpid():
            shutil.rmtree(self.root, ignore_errors=True)

    def _path(self, name: str) -> Path:
        """Names are opaque (any characters, any length): the file is named by a hash."""
        return self.root / (hashlib.sha256(name.encode("utf-8")).hexdigest() + ".json")

    def add(self, name: str, url: str) -> Entry:
        """Register `name`; Conflict if it is already registered (atomic across workers)."""
        fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"model_name": name, "url": url}, handle)
            os.link(temporary, self._path(name))
        except FileExistsError as e:
            raise Conflict(f"Model {name} is already registered.") from e
        finally:
            os.unlink(temporary)
        return self.get(name)

    def remove(self, name: str) -> None:
        """Unregister `name`; NotFound if it is not registered."""
        try:
            self._path(name).unlink()
        except FileNotFoundError as e:
            raise not_found(name) from e

    def stamp(self, name: str) -> Stamp | None:
        """The entry's stamp without reading it (one stat), None if not registered."""
        try:
            info = self._path(name).stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns)

    def contains(self, name: str) -> bool:
        return self.stamp(name) is not None

    def get(self, name: str) -> Entry:
        """The entry of `name`; NotFound if it is not registered."""
        entry = self._read(self._path(name))
        if entry is None or entry.name != name:
            raise not_found(name)
        return entry

    def entries(self) -> list[Entry]:
        """Every registered model, sorted by name (pagination relies on the order)."""
        found = []
        for path in self.root.glob("*.json"):
            entry = self._read(path)
            if entry is not None:
                found.append(entry)
        return sorted(found, key=lambda e: e.name)

    @staticmethod
    def _read(path: Path) -> Entry | None:
        """An entry file, None if it vanished meanwhile (unloaded by another worker)."""
        try:
            with path.open(encoding="utf-8") as handle:
                info = os.fstat(handle.fileno())
                data = json.load(handle)
        except FileNotFoundError:
            return None
        return Entry(str(data["model_name"]), str(data["url"]), (info.st_ino, info.st_mtime_ns))
