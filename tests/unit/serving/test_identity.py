"""serving.identity: which account gunicorn's workers switch to, from mode bits alone."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from boostbox.serving.identity import Identity, worker_identity

NOBODY = Identity("nobody-here", uid=54321, gid=54321)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every account can reach (pytest's own tmp root is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="boostbox-identity-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.mark.parametrize(
    ("file_mode", "dir_mode", "readable"),
    [(0o644, 0o755, True), (0o600, 0o755, False), (0o644, 0o700, False), (0o604, 0o711, True)],
)
def test_can_read_follows_other_bits_for_a_foreign_account(
    open_dir: Path, file_mode: int, dir_mode: int, readable: bool
) -> None:
    directory = open_dir / "model"
    directory.mkdir()
    model = directory / "xgboost-model"
    model.write_bytes(b"{}")
    model.chmod(file_mode)
    directory.chmod(dir_mode)
    try:
        assert NOBODY.can_read(model) is readable
    finally:
        directory.chmod(0o755)


def test_the_owner_reads_through_owner_bits(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.write_bytes(b"{}")
    model.chmod(0o600)
    info = model.stat()
    owner = Identity("owner", uid=info.st_uid, gid=info.st_gid + 1)
    tmp_path.chmod(0o700)
    assert owner.can_read(model)
    assert not NOBODY.can_read(tmp_path / "missing")


@pytest.mark.parametrize("user", ["", "root", "no-such-account-boostbox-test"])
def test_root_empty_or_unknown_user_keeps_the_current_user(user: str) -> None:
    assert worker_identity(user) is None
