"""The submit directory (s3:// tarball, folder, tar file, file:// URL) into a local folder."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from boostbox import sourcedir
from boostbox.errors import ConfigError


def tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="code")
        yield client


def test_s3_tarball(s3: Any, tmp_path: Path) -> None:
    body = tarball({"train.py": "print(1)\n", "lib/util.py": "X = 1\n"})
    s3.put_object(Bucket="code", Key="job/source/sourcedir.tar.gz", Body=body)
    sourcedir.fetch("s3://code/job/source/sourcedir.tar.gz", tmp_path / "code", "us-east-1")
    assert sorted(p.name for p in (tmp_path / "code").rglob("*.py")) == ["train.py", "util.py"]
    with pytest.raises(ConfigError, match="Cannot download the submit directory s3://code/no"):
        sourcedir.fetch("s3://code/no.tar.gz", tmp_path / "other", "us-east-1")


@pytest.mark.parametrize("prefix", ["", "file://"])
def test_folder_and_tar_file(tmp_path: Path, prefix: str) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.py").write_text("A = 1\n")
    archive = tmp_path / "s.tar.gz"
    archive.write_bytes(tarball({"b.py": "B = 1\n"}))
    target = tmp_path / "code"
    sourcedir.fetch(f"{prefix}{folder}", target)
    sourcedir.fetch(f"{prefix}{archive}", target)
    assert sorted(p.name for p in target.iterdir()) == ["a.py", "b.py"]


@pytest.mark.parametrize(
    ("source", "message"),
    [("/no/such/dir", "does not exist"), ("https://x/y.tar.gz", "not an s3:// or file://")],
)
def test_bad_sources(tmp_path: Path, source: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        sourcedir.fetch(source, tmp_path / "code")


def test_not_a_tar_file(tmp_path: Path) -> None:
    (tmp_path / "x.tar.gz").write_text("plain text")
    with pytest.raises(ConfigError, match="not a readable tar file"):
        sourcedir.fetch(str(tmp_path / "x.tar.gz"), tmp_path / "code")


def test_cached_fetches_once_and_uses_folders_in_place(tmp_path: Path) -> None:
    archive = tmp_path / "s.tar.gz"
    archive.write_bytes(tarball({"inference.py": "X = 1\n"}))
    first = sourcedir.cached(f"file://{archive}", tmp_path)
    (first / "inference.py").write_text("X = 2\n")  # a second fetch would overwrite this
    assert sourcedir.cached(f"file://{archive}", tmp_path) == first
    assert (first / "inference.py").read_text() == "X = 2\n"
    assert sourcedir.cached(str(tmp_path)) == tmp_path
