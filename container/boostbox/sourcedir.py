"""A user's source directory (SDK `source_dir`) into a local folder, for both script modes.

`sagemaker_submit_directory` / SAGEMAKER_SUBMIT_DIRECTORY is an `s3://` tarball (what the SDKs
upload for SageMaker), a folder, a tar file, or a `file://` URL of either (local mode). S3
uses boto3's default credentials (the job's or endpoint's role); the image carries boto3
with botocore's service models trimmed to S3 and STS for this alone. A requirements.txt in
the code is pip-installed, as the training and inference toolkits do.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from boostbox.errors import ConfigError

logger = logging.getLogger(__name__)

REQUIREMENTS = "requirements.txt"


def _download_s3(url: str, target: Path, region: str | None) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = url.removeprefix("s3://").partition("/")
    try:
        boto3.client("s3", region_name=region).download_file(bucket, key, str(target))
    except (BotoCoreError, ClientError) as e:
        raise ConfigError(f"Cannot download the submit directory {url}: {e}") from e


def _extract(archive: Path, target: Path, source: str) -> None:
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    except (OSError, tarfile.TarError) as e:
        raise ConfigError(f"The submit directory {source} is not a readable tar file: {e}") from e


def fetch(source: str, target: Path, region: str | None = None) -> None:
    """Put the files of `source` into `target` (created; existing files are overwritten)."""
    target.mkdir(parents=True, exist_ok=True)
    if source.startswith("s3://"):
        with tempfile.TemporaryDirectory(prefix="boostbox-code-") as tmp:
            archive = Path(tmp) / "sourcedir.tar.gz"
            _download_s3(source, archive, region)
            _extract(archive, target, source)
        return
    if "://" in source and not source.startswith("file://"):
        raise ConfigError(f"The submit directory {source} is not an s3:// or file:// URL.")
    local = Path(source.removeprefix("file://"))
    if local.is_dir():
        if local.resolve() != target.resolve():
            shutil.copytree(local, target, dirs_exist_ok=True)
    elif local.is_file():
        _extract(local, target, source)
    else:
        raise ConfigError(f"The submit directory {source} does not exist in the container.")


def cached(source: str, parent: Path | None = None) -> Path:
    """`source` fetched once into a folder named by it: the serve master fetches, the workers
    find it there (a folder `source` is used in place)."""
    local = Path(source.removeprefix("file://"))
    if "://" not in source.removeprefix("file://") and local.is_dir():
        return local
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    target = (parent or Path(tempfile.gettempdir())) / f"boostbox-code-{digest}"
    if not (target / ".fetched").exists():
        staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        fetch(source, staging)
        (staging / ".fetched").touch()
        try:
            staging.rename(target)
        except OSError:  # another process got there first: use theirs
            shutil.rmtree(staging, ignore_errors=True)
    return target


def install_requirements(folder: Path, env: Mapping[str, str] | None = None) -> None:
    """`pip install -r requirements.txt` when `folder` has one (the toolkits' behaviour)."""
    if not (folder / REQUIREMENTS).is_file():
        return
    logger.info("Installing %s from %s.", REQUIREMENTS, folder)
    command = [sys.executable, "-m", "pip", "install", "-r", REQUIREMENTS]
    environ = dict(env) if env is not None else None
    status = subprocess.run(command, cwd=folder, env=environ, check=False).returncode
    if status != 0:
        raise ConfigError(f"pip install -r {REQUIREMENTS} failed with status {status}.")
