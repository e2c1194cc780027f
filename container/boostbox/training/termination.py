"""SIGTERM during training (StopTrainingJob, spot interruption, `docker stop`).

The handler only sets a flag; training polls it after every round (the round in progress
finishes), writes a final checkpoint and stops; the job then saves the model when
`save_model_on_termination` is true. On several hosts the flag is agreed through the
collective, so every host stops after the same round.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import numpy as np
from xgboost import collective

logger = logging.getLogger(__name__)


class Termination:
    """Whether SIGTERM arrived; `requested()` is what training polls after each round."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def signalled(self) -> bool:
        return self._event.is_set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        logger.warning("Received %s: finishing the current round.", signal.Signals(signum).name)
        self._event.set()

    def requested(self) -> bool:
        local = self._event.is_set()
        if not collective.is_distributed():
            return local
        agreed = collective.allreduce(np.array([int(local)], dtype=np.int32), collective.Op.MAX)
        if agreed[0] and not local:
            self._event.set()
        return bool(agreed[0])

    @contextmanager
    def installed(self) -> Iterator[Termination]:
        """The SIGTERM handler for the body (main thread only), the old one restored after."""
        previous = signal.signal(signal.SIGTERM, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGTERM, previous)
