"""Housekeeping: remove autoscaling, endpoint, endpoint configs, model and (on request) S3."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from deploy.autoscaling import disable_autoscaling
from deploy.errors import is_not_found
from deploy.hosting import VARIANT
from deploy.settings import DeploySettings
from deploy.storage import delete_prefix

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

logger = logging.getLogger(__name__)


def _delete(kind: str, name: str, call: Callable[[], object], removed: list[str]) -> None:
    """Run a Delete* call; a resource that is already gone is not an error."""
    try:
        call()
    except ClientError as e:
        if not is_not_found(e):
            raise
        logger.info("%s %s: already gone", kind, name)
        return
    logger.info("deleted %s %s", kind, name)
    removed.append(f"{kind}/{name}")


def _endpoint_chain(sm: SageMakerClient, endpoint: str) -> tuple[set[str], set[str]]:
    """(endpoint config names, model names) the endpoint currently uses."""
    try:
        config = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except ClientError as e:
        if not is_not_found(e):
            raise
        return set(), set()
    try:
        variants = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    except ClientError as e:
        if not is_not_found(e):
            raise
        return {config}, set()
    return {config}, {v["ModelName"] for v in variants if "ModelName" in v}


def _own_configs(sm: SageMakerClient, model_name: str) -> set[str]:
    """Endpoint configs this model+version created (named `<model>-<version>-<timestamp>`)."""
    own = re.compile(re.escape(model_name) + r"-\d{8}-\d{6}")
    names: set[str] = set()
    for page in sm.get_paginator("list_endpoint_configs").paginate(NameContains=model_name):
        names |= {
            c["EndpointConfigName"]
            for c in page["EndpointConfigs"]
            if own.fullmatch(c["EndpointConfigName"])
        }
    return names


def cleanup(
    sm: SageMakerClient,
    aas: ApplicationAutoScalingClient,
    s3: S3Client,
    settings: DeploySettings,
    *,
    delete_s3: bool,
) -> dict[str, Any]:
    """Delete everything `deploy` made for this model+version; S3 only when asked."""
    endpoint = settings.endpoint
    removed: list[str] = []
    configs, models = _endpoint_chain(sm, endpoint)
    configs |= _own_configs(sm, settings.model_name)
    models.add(settings.model_name)
    if disable_autoscaling(aas, endpoint, VARIANT):
        removed.append(f"scalable-target/{endpoint}/{VARIANT}")
    _delete("endpoint", endpoint, lambda: sm.delete_endpoint(EndpointName=endpoint), removed)
    for config in sorted(configs):
        call = partial(sm.delete_endpoint_config, EndpointConfigName=config)
        _delete("endpoint-config", config, call, removed)
    for model in sorted(models):
        _delete("model", model, partial(sm.delete_model, ModelName=model), removed)
    result: dict[str, Any] = {"Removed": removed}
    if delete_s3:
        result["DeletedObjects"] = delete_prefix(s3, settings)
        result["S3Prefix"] = settings.s3_uri()
    return result
