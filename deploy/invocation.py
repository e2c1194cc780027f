"""Smoke-test an endpoint through sagemaker-runtime InvokeEndpoint."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

logger = logging.getLogger(__name__)


def invoke(
    runtime: SageMakerRuntimeClient,
    endpoint: str,
    body: bytes,
    *,
    content_type: str,
    accept: str,
) -> dict[str, str]:
    """One request; the response's content type, variant and body (decoded as UTF-8)."""
    logger.info("invoking %s with %d bytes of %s", endpoint, len(body), content_type)
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, Body=body, ContentType=content_type, Accept=accept
    )
    return {
        "ContentType": answer.get("ContentType", ""),
        "InvokedProductionVariant": answer.get("InvokedProductionVariant", ""),
        "Body": answer["Body"].read().decode("utf-8", errors="replace"),
    }
