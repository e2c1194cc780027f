"""Small collective exchanges the hosts use to agree: row totals, identical models, the
checkpoint to resume from. Each is a no-op on one host."""

from __future__ import annotations

import hashlib

import numpy as np
from xgboost import collective


def same_on_every_host(blob: bytes) -> bool:
    """True when every host holds the same bytes (e.g. its model): compares SHA-256 digests
    through an allreduce of their minimum and maximum. One host: trivially True."""
    if not collective.is_distributed():
        return True
    digest = np.frombuffer(hashlib.sha256(blob).digest(), dtype=np.uint8).astype(np.int32)
    low = collective.allreduce(digest, collective.Op.MIN)
    high = collective.allreduce(digest, collective.Op.MAX)
    return bool(np.array_equal(low, high))


def total_rows(rows: int) -> int:
    """Rows summed over the hosts (this host's count alone when not distributed)."""
    if not collective.is_distributed():
        return rows
    return int(collective.allreduce(np.array([rows], dtype=np.int64), collective.Op.SUM)[0])


def broadcast_bytes(blob: bytes | None) -> bytes | None:
    """The first host's bytes (None: nothing) on every host, without pickling: the length and
    then the bytes travel as integer allreduces in which only the first host adds non-zeros."""
    if not collective.is_distributed():
        return blob
    mine = blob if collective.get_rank() == 0 else None
    size = np.array([-1 if mine is None else len(mine)], dtype=np.int64)
    length = int(collective.allreduce(size, collective.Op.MAX)[0])
    if length < 0:
        return None
    values = np.zeros(length, dtype=np.int32)
    if mine is not None:
        values[:] = np.frombuffer(mine, dtype=np.uint8)
    summed = collective.allreduce(values, collective.Op.SUM)
    return bytes(summed.astype(np.uint8).tobytes())
