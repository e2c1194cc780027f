"""CreateTrainingJob for the boostbox image: File mode, S3 channels, string hyperparameters."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, cast

from deploy.errors import DeployError, SettingsError
from deploy.settings import DeploySettings, resource_name, timestamp

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.literals import TrainingInstanceTypeType
    from mypy_boto3_sagemaker.type_defs import ChannelTypeDef, CreateTrainingJobRequestTypeDef

logger = logging.getLogger(__name__)

Scalar = str | int | float | bool


def as_hyperparameter(value: Scalar) -> str:
    """SageMaker passes hyperparameters as strings: booleans as true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_assignments(items: list[str], what: str) -> dict[str, str]:
    """`KEY=VALUE` strings to a dict; a missing `=` or key is a SettingsError."""
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SettingsError(f"{what} {item!r} is not KEY=VALUE")
        parsed[key] = value
    return parsed


def load_hyperparameters(file: Path | None, assignments: list[str]) -> dict[str, str]:
    """Hyperparameters from a JSON object file, overridden by `--hp KEY=VALUE` items."""
    loaded: dict[str, str] = {}
    if file is not None:
        try:
            data = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise SettingsError(f"cannot read hyperparameters file {file}: {e}") from e
        if not isinstance(data, dict):
            raise SettingsError(f"hyperparameters file {file} must hold a JSON object")
        for key, value in data.items():
            if not isinstance(value, str | int | float | bool):
                raise SettingsError(f"hyperparameter {key!r} in {file} is not a scalar: {value!r}")
            loaded[str(key)] = as_hyperparameter(value)
    loaded.update(parse_assignments(assignments, "hyperparameter"))
    return loaded


def channel_uris(settings: DeploySettings, channels: list[str]) -> dict[str, str]:
    """`NAME` or `NAME=s3://...` items to {name: S3 prefix}; bare names use the upload layout."""
    uris: dict[str, str] = {}
    for item in channels:
        name, sep, uri = item.partition("=")
        if sep and not uri.startswith("s3://"):
            raise SettingsError(f"channel {item!r}: the location must be an s3:// URI")
        uris[name] = uri if sep else settings.s3_uri(name)
    if not uris:
        raise SettingsError("at least one --channel is required (e.g. --channel train)")
    return uris


def training_job_request(
    settings: DeploySettings,
    *,
    hyperparameters: Mapping[str, Scalar],
    channels: Mapping[str, str],
    content_type: str,
    job_name: str | None = None,
    instance_count: int = 1,
    volume_gb: int = 10,
    max_runtime_s: int = 3600,
) -> CreateTrainingJobRequestTypeDef:
    """The full CreateTrainingJob request; validated by botocore when sent."""
    input_config: list[ChannelTypeDef] = [
        {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": content_type,
            "CompressionType": "None",
        }
        for name, uri in channels.items()
    ]
    return {
        "TrainingJobName": job_name
        or resource_name(settings.model, settings.version, suffix=timestamp()),
        "RoleArn": settings.need("role_arn"),
        "AlgorithmSpecification": {
            "TrainingImage": settings.need("image_uri"),
            "TrainingInputMode": "File",
        },
        "HyperParameters": {k: as_hyperparameter(v) for k, v in hyperparameters.items()},
        "InputDataConfig": input_config,
        "OutputDataConfig": {"S3OutputPath": settings.s3_uri("output")},
        "ResourceConfig": {
            "InstanceType": cast("TrainingInstanceTypeType", settings.training_instance_type),
            "InstanceCount": instance_count,
            "VolumeSizeInGB": volume_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_s},
        "Tags": [{"Key": "boostbox:version", "Value": settings.version}],
    }


def create_training_job(sm: SageMakerClient, request: CreateTrainingJobRequestTypeDef) -> str:
    """Start the job; its ARN."""
    logger.info(
        "creating training job %s (image %s, channels %s)",
        request["TrainingJobName"],
        request["AlgorithmSpecification"].get("TrainingImage"),
        ", ".join(c["ChannelName"] for c in request.get("InputDataConfig", [])),
    )
    return sm.create_training_job(**request)["TrainingJobArn"]


def model_artifacts(sm: SageMakerClient, job_name: str) -> str:
    """The model.tar.gz of a Completed training job."""
    job = sm.describe_training_job(TrainingJobName=job_name)
    if job["TrainingJobStatus"] != "Completed":
        raise DeployError(
            f"training job {job_name} is {job['TrainingJobStatus']}, not Completed: "
            "wait for it (python -m deploy wait training NAME)"
        )
    return job["ModelArtifacts"]["S3ModelArtifacts"]
