"""S3 side of the lifecycle: upload channels under <prefix>/<model>/<version>/, delete it all."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.errors import DeployError
from deploy.settings import DeploySettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

logger = logging.getLogger(__name__)


def channel_files(path: Path) -> list[tuple[Path, str]]:
    """(file, key suffix) pairs for a file or a folder; hidden files are skipped (SageMaker
    containers reject them in a channel)."""
    if path.is_file():
        return [(path, path.name)]
    if not path.is_dir():
        raise DeployError(f"channel data {path} is neither a file nor a folder")
    found: list[tuple[Path, str]] = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        relative = file.relative_to(path)
        if any(part.startswith(".") for part in relative.parts):
            logger.warning("skipping hidden file %s", file)
            continue
        found.append((file, relative.as_posix()))
    if not found:
        raise DeployError(f"channel folder {path} holds no files")
    return found


def upload_channels(
    s3: S3Client, settings: DeploySettings, channels: Mapping[str, Path]
) -> dict[str, str]:
    """Upload each channel to s3://bucket/<prefix>/<model>/<version>/<channel>/; map channel
    name to that S3 prefix URI."""
    bucket = settings.need("bucket")
    uris: dict[str, str] = {}
    for channel, path in channels.items():
        prefix = settings.key_prefix(channel)
        for file, suffix in channel_files(path):
            logger.info("uploading %s to s3://%s/%s%s", file, bucket, prefix, suffix)
            s3.upload_file(str(file), bucket, prefix + suffix)
        uris[channel] = settings.s3_uri(channel)
    return uris


def delete_prefix(s3: S3Client, settings: DeploySettings) -> int:
    """Delete every object under <prefix>/<model>/<version>/; the count deleted."""
    bucket = settings.need("bucket")
    prefix = settings.key_prefix()
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys: list[ObjectIdentifierTypeDef] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if not keys:
            continue
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise DeployError(f"cannot delete s3://{bucket}/{first.get('Key')}: {first}")
        deleted += len(keys)
    logger.info("deleted %d objects under s3://%s/%s", deleted, bucket, prefix)
    return deleted
