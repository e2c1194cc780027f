"""Batch transform: one CreateTransformJob over an S3 prefix, line-split, multi-record."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from deploy.errors import SettingsError
from deploy.settings import DeploySettings, resource_name, timestamp

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.literals import TransformInstanceTypeType
    from mypy_boto3_sagemaker.type_defs import CreateTransformJobRequestTypeDef

logger = logging.getLogger(__name__)

MAX_PAYLOAD_MB = 100
"""SageMaker's cap on MaxPayloadInMB (and on concurrency x payload)."""


def transform_job_request(
    settings: DeploySettings,
    model_name: str,
    *,
    input_uri: str | None = None,
    output_uri: str | None = None,
    content_type: str = "text/csv",
    accept: str = "text/csv",
    max_payload_mb: int = 6,
    max_concurrent: int | None = None,
    instance_count: int = 1,
    job_name: str | None = None,
) -> CreateTransformJobRequestTypeDef:
    """The CreateTransformJob request; input defaults to the `batch` channel's S3 prefix."""
    if not 0 < max_payload_mb <= MAX_PAYLOAD_MB:
        raise SettingsError(
            f"--max-payload-mb has value {max_payload_mb}: not in 1..{MAX_PAYLOAD_MB}"
        )
    if max_concurrent is not None and max_concurrent * max_payload_mb > MAX_PAYLOAD_MB:
        raise SettingsError(
            f"--max-concurrent {max_concurrent} x --max-payload-mb {max_payload_mb} "
            f"exceeds {MAX_PAYLOAD_MB}"
        )
    for flag, uri in (("--input", input_uri), ("--output", output_uri)):
        if uri is not None and not uri.startswith("s3://"):
            raise SettingsError(f"{flag} has value {uri!r}: not an s3:// URI")
    request: CreateTransformJobRequestTypeDef = {
        "TransformJobName": job_name or resource_name(model_name, suffix=timestamp()),
        "ModelName": model_name,
        "BatchStrategy": "MultiRecord",
        "MaxPayloadInMB": max_payload_mb,
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": input_uri or settings.s3_uri("batch"),
                }
            },
            "ContentType": content_type,
            "SplitType": "Line",
            "CompressionType": "None",
        },
        "TransformOutput": {
            "S3OutputPath": output_uri or settings.s3_uri("batch-output"),
            "Accept": accept,
            "AssembleWith": "Line",
        },
        "TransformResources": {
            "InstanceType": cast("TransformInstanceTypeType", settings.transform_instance_type),
            "InstanceCount": instance_count,
        },
        "Tags": [{"Key": "boostbox:version", "Value": settings.version}],
    }
    if max_concurrent is not None:
        request["MaxConcurrentTransforms"] = max_concurrent
    return request


def create_transform_job(sm: SageMakerClient, request: CreateTransformJobRequestTypeDef) -> str:
    """Start the job; its ARN."""
    logger.info(
        "creating transform job %s (model %s, input %s)",
        request["TransformJobName"],
        request["ModelName"],
        request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"],
    )
    return sm.create_transform_job(**request)["TransformJobArn"]
