"""Real-time hosting: SageMaker Model, EndpointConfig (optional data capture), Endpoint."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from botocore.exceptions import ClientError

from deploy.errors import ResourceConflict, SettingsError, is_not_found
from deploy.settings import DeploySettings, resource_name, timestamp

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sagemaker.literals import ProductionVariantInstanceTypeType
    from mypy_boto3_sagemaker.type_defs import (
        CreateEndpointConfigInputTypeDef,
        DataCaptureConfigTypeDef,
    )

logger = logging.getLogger(__name__)

VARIANT = "AllTraffic"
"""The single production variant every boostbox endpoint has (autoscaling targets it)."""


def ensure_model(
    sm: SageMakerClient,
    settings: DeploySettings,
    model_data: str | None,
    environment: Mapping[str, str] | None = None,
) -> str:
    """The SageMaker Model `<model>-<version>`: reused when it exists with the same artifact,
    created from `model_data` (an s3:// model.tar.gz) otherwise."""
    name = settings.model_name
    try:
        existing = sm.describe_model(ModelName=name)
    except ClientError as e:
        if not is_not_found(e):
            raise
    else:
        url = existing.get("PrimaryContainer", {}).get("ModelDataUrl")
        if model_data is not None and url != model_data:
            raise ResourceConflict(
                f"model {name} exists with model data {url}, not {model_data}: "
                "run cleanup or pick another --version"
            )
        logger.info("reusing model %s (%s)", name, url)
        return name
    if model_data is None:
        raise SettingsError(
            f"model {name} does not exist: pass --training-job NAME or --model-data s3://..."
        )
    logger.info("creating model %s from %s", name, model_data)
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=settings.need("role_arn"),
        PrimaryContainer={
            "Image": settings.need("image_uri"),
            "ModelDataUrl": model_data,
            "Environment": dict(environment or {}),
        },
        Tags=[{"Key": "boostbox:version", "Value": settings.version}],
    )
    return name


def data_capture(destination: str, percent: int) -> DataCaptureConfigTypeDef:
    """Capture requests and responses of `percent` % of invocations to `destination`."""
    if not 0 < percent <= 100:
        raise SettingsError(f"--data-capture has value {percent}: not a percentage in 1..100")
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": percent,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json", "application/jsonlines"],
        },
    }


def endpoint_config_request(
    settings: DeploySettings,
    model_name: str,
    *,
    instance_count: int = 1,
    capture_percent: int | None = None,
) -> CreateEndpointConfigInputTypeDef:
    """A new, uniquely named endpoint config with one variant serving `model_name`."""
    instance_type = cast("ProductionVariantInstanceTypeType", settings.hosting_instance_type)
    request: CreateEndpointConfigInputTypeDef = {
        "EndpointConfigName": resource_name(model_name, suffix=timestamp()),
        "ProductionVariants": [
            {
                "VariantName": VARIANT,
                "ModelName": model_name,
                "InitialInstanceCount": instance_count,
                "InstanceType": instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
        "Tags": [{"Key": "boostbox:version", "Value": settings.version}],
    }
    if capture_percent is not None:
        destination = settings.s3_uri("data-capture")
        request["DataCaptureConfig"] = data_capture(destination, capture_percent)
    return request


def deploy_endpoint(
    sm: SageMakerClient, endpoint: str, config: CreateEndpointConfigInputTypeDef
) -> dict[str, str]:
    """Create the config, then create the endpoint, or point an existing one at the config."""
    config_name = config["EndpointConfigName"]
    logger.info("creating endpoint config %s", config_name)
    sm.create_endpoint_config(**config)
    try:
        sm.describe_endpoint(EndpointName=endpoint)
    except ClientError as e:
        if not is_not_found(e):
            raise
        logger.info("creating endpoint %s", endpoint)
        arn = sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
    else:
        logger.info("updating endpoint %s to config %s", endpoint, config_name)
        arn = sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
    return {
        "EndpointName": endpoint,
        "EndpointArn": arn["EndpointArn"],
        "EndpointConfigName": config_name,
    }
