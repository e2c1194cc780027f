"""The one reader of deploy settings: CLI flags first, then environment, then safe defaults.

Region, role ARN and bucket have no defaults: a command that needs one and lacks it fails
with a message naming the flag and the environment variable.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from deploy.errors import SettingsError

PROJECT_ROOT: Final = Path(__file__).resolve().parents[1]
_NAME_MAX: Final = 63
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class Source:
    """Where one setting comes from: its CLI flag, its environment variables, its default."""

    flag: str
    env: tuple[str, ...]
    default: str | None = None


SOURCES: Final[Mapping[str, Source]] = {
    "region": Source("--region", ("AWS_REGION", "AWS_DEFAULT_REGION")),
    "role_arn": Source("--role-arn", ("BOOSTBOX_ROLE_ARN",)),
    "bucket": Source("--bucket", ("BOOSTBOX_BUCKET",)),
    "prefix": Source("--prefix", ("BOOSTBOX_PREFIX",), "boostbox"),
    "model": Source("--model", ("BOOSTBOX_MODEL",), "boostbox"),
    "version": Source("--version", ("BOOSTBOX_VERSION",)),
    "image_uri": Source("--image-uri", ("BOOSTBOX_IMAGE_URI",)),
    "endpoint_name": Source("--endpoint-name", ("BOOSTBOX_ENDPOINT_NAME",)),
    "training_instance_type": Source(
        "--training-instance-type", ("BOOSTBOX_TRAINING_INSTANCE_TYPE",), "ml.m5.xlarge"
    ),
    "hosting_instance_type": Source(
        "--hosting-instance-type", ("BOOSTBOX_HOSTING_INSTANCE_TYPE",), "ml.m5.large"
    ),
    "transform_instance_type": Source(
        "--transform-instance-type", ("BOOSTBOX_TRANSFORM_INSTANCE_TYPE",), "ml.m5.xlarge"
    ),
}


def project_version(root: Path = PROJECT_ROOT) -> str:
    """The `[project] version` of pyproject.toml: the default image tag and S3 version."""
    try:
        with (root / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError) as e:
        raise SettingsError(
            f"cannot read the project version from {root / 'pyproject.toml'}: {e}; "
            "pass --version or set BOOSTBOX_VERSION"
        ) from e


def resource_name(*parts: str, suffix: str = "") -> str:
    """A SageMaker resource name (`[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`) from free-form parts."""
    base = re.sub(r"[^a-zA-Z0-9]+", "-", "-".join(parts)).strip("-")
    room = _NAME_MAX - (len(suffix) + 1 if suffix else 0)
    base = base[:room].rstrip("-")
    name = f"{base}-{suffix}" if suffix else base
    if not name:
        raise SettingsError(f"cannot make a resource name from {parts!r}")
    return name


def timestamp() -> str:
    """UTC time to the second, for unique job and endpoint-config names."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


@dataclass(frozen=True)
class DeploySettings:
    """Everything the lifecycle commands share; built once by `from_sources`."""

    region: str
    """AWS region of every call; required (no default)."""
    role_arn: str | None
    """SageMaker execution role: required for training, models and transform."""
    bucket: str | None
    """S3 bucket for channels, model artifacts, transform output and data capture."""
    prefix: str
    """Key prefix under the bucket; objects go to <prefix>/<model>/<version>/."""
    model: str
    """Model name used in S3 keys and in SageMaker resource names."""
    version: str
    """Model/image version: S3 folder, model name suffix, default image tag."""
    image_uri: str | None
    """The pushed image (ECR URI with tag): required for training and models."""
    endpoint_name: str | None
    """Endpoint name; defaults to the model name when unset."""
    training_instance_type: str
    hosting_instance_type: str
    transform_instance_type: str

    @classmethod
    def from_sources(
        cls, values: Mapping[str, str | None], environ: Mapping[str, str] = os.environ
    ) -> DeploySettings:
        """Flags (`values`, by field name) win over `environ`; empty strings count as unset."""

        def pick(name: str) -> str | None:
            source = SOURCES[name]
            value = values.get(name) or next(
                (environ[key] for key in source.env if environ.get(key)), None
            )
            return value or source.default

        def given(name: str) -> str:
            value = pick(name)
            if value is None:
                raise SettingsError(_missing(name))
            return value

        settings = cls(
            region=given("region"),
            role_arn=pick("role_arn"),
            bucket=pick("bucket"),
            prefix=given("prefix"),
            model=given("model"),
            version=pick("version") or project_version(),
            image_uri=pick("image_uri"),
            endpoint_name=pick("endpoint_name"),
            training_instance_type=given("training_instance_type"),
            hosting_instance_type=given("hosting_instance_type"),
            transform_instance_type=given("transform_instance_type"),
        )
        settings._validate()
        return settings

    def _validate(self) -> None:
        _check("region", self.region, _REGION.match(self.region) is not None, "an AWS region")
        if self.role_arn is not None:
            ok = _ROLE_ARN.match(self.role_arn) is not None
            _check("role_arn", self.role_arn, ok, "an IAM role ARN")
        if self.bucket is not None:
            ok = _BUCKET.match(self.bucket) is not None
            _check("bucket", self.bucket, ok, "a bucket name (no s3://, no key)")
        _check("prefix", self.prefix, not self.prefix.startswith("/"), "a key prefix")
        for name in ("model", "version"):
            value = getattr(self, name)
            ok = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value) is not None
            _check(name, value, ok, "a name of letters, digits, '.', '_' and '-'")

    def need(self, name: str) -> str:
        """The value of an optional setting that this command requires."""
        value = getattr(self, name)
        if not value:
            raise SettingsError(_missing(name))
        return str(value)

    @property
    def endpoint(self) -> str:
        """The endpoint name: the explicit one, else the model name."""
        return resource_name(self.endpoint_name or self.model)

    @property
    def model_name(self) -> str:
        """The SageMaker Model of this model and version."""
        return resource_name(self.model, self.version)

    def key_prefix(self, *parts: str) -> str:
        """S3 key `<prefix>/<model>/<version>/<parts...>/` (always ends with a slash)."""
        segments = [self.prefix.strip("/"), self.model, self.version, *parts]
        return "/".join(s for s in segments if s) + "/"

    def s3_uri(self, *parts: str) -> str:
        """`s3://<bucket>/<prefix>/<model>/<version>/<parts...>/`."""
        return f"s3://{self.need('bucket')}/{self.key_prefix(*parts)}"


def _missing(name: str) -> str:
    source = SOURCES[name]
    envs = " or ".join(source.env)
    return f"missing setting '{name}': pass {source.flag} or set {envs}"


def _check(name: str, value: str, ok: bool, expected: str) -> None:
    if not ok:
        raise SettingsError(
            f"setting '{name}' ({SOURCES[name].flag}) has value {value!r}: not {expected}"
        )
