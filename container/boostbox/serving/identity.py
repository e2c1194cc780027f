"""Who gunicorn's workers run as: an unprivileged account when `serve` starts as root.

SageMaker starts the container as root. The master keeps root (it binds the port and reaps
workers); each worker switches to `ServingConfig.worker_user` (the image's `boostbox`
account) before it loads the model, so code parsing untrusted request bodies never runs as
root. The workers need only to read the model and the code, and to write their heartbeat
file (gunicorn creates it in the master and hands it over) and the multi-model registry
(the master hands the directory over, see `hand_over`).

A model the account cannot read (a root-only file from a tar with mode 0600) keeps the
workers as root, with a warning: refusing would break an endpoint that worked before.
"""

from __future__ import annotations

import logging
import os
import pwd
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """A numeric user and group for gunicorn's `user`/`group` settings."""

    name: str
    uid: int
    gid: int

    def can_read(self, path: Path) -> bool:
        """Whether this account may read `path` and traverse every parent (mode bits)."""
        for part in [path, *path.parents]:
            try:
                info = part.stat()
            except OSError:
                return False
            need = stat.S_IXOTH if part != path else stat.S_IROTH
            if info.st_uid == self.uid:
                need <<= 6
            elif info.st_gid == self.gid:
                need <<= 3
            if not info.st_mode & need:
                return False
        return True


def worker_identity(user: str, model_file: Path | None = None) -> Identity | None:
    """The account workers switch to, or None to leave them as this process's user.

    None when this process is not root, when `user` is "root" or unknown here (a host run
    without the account), or when the account could not read `model_file`.
    """
    if os.geteuid() != 0 or user in {"", "root"}:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        logger.warning("Worker user %r does not exist: workers keep running as root.", user)
        return None
    identity = Identity(user, entry.pw_uid, entry.pw_gid)
    if model_file is not None and not identity.can_read(model_file):
        logger.warning(
            "%s is not readable by user %r: workers keep running as root "
            "(make the model file world-readable to run them unprivileged).",
            model_file,
            user,
        )
        return None
    return identity


def drop_groups(identity: Identity) -> Callable[[object, object], None]:
    """gunicorn's post_fork hook: in the worker, still root, keep only the account's group.

    gunicorn's `group` setting calls setgid but leaves root's supplementary groups; its
    `initgroups` sets those and skips setgid, leaving gid 0 (both seen in /proc). setgroups
    here, then gunicorn's setgid and setuid, leave uid, gid and groups the account's only.
    """

    def post_fork(server: object, worker: object) -> None:
        os.setgroups([identity.gid])

    return post_fork


def hand_over(directory: Path, identity: Identity | None) -> None:
    """Give `directory` (created by the master) and what it holds to the workers' account."""
    if identity is None:
        return
    os.chown(directory, identity.uid, identity.gid)
    for root, folders, files in os.walk(directory):
        for name in (*folders, *files):
            os.chown(os.path.join(root, name), identity.uid, identity.gid)
