"""Target-tracking autoscaling of an endpoint variant on invocations per instance."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from deploy.errors import SettingsError

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient

logger = logging.getLogger(__name__)

DIMENSION: Final = "sagemaker:variant:DesiredInstanceCount"


def resource_id(endpoint: str, variant: str) -> str:
    """Application Auto Scaling's id for an endpoint variant."""
    return f"endpoint/{endpoint}/variant/{variant}"


def enable_autoscaling(
    aas: ApplicationAutoScalingClient,
    endpoint: str,
    variant: str,
    *,
    min_capacity: int,
    max_capacity: int,
    target_invocations: float,
    scale_in_cooldown: int = 300,
    scale_out_cooldown: int = 60,
) -> dict[str, str]:
    """Register the variant as a scalable target and attach a target-tracking policy."""
    if not 1 <= min_capacity <= max_capacity:
        raise SettingsError(f"--min {min_capacity} / --max {max_capacity}: need 1 <= min <= max")
    if target_invocations <= 0:
        raise SettingsError(f"--target has value {target_invocations}: must be > 0")
    rid = resource_id(endpoint, variant)
    logger.info("registering %s for %d..%d instances", rid, min_capacity, max_capacity)
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=rid,
        ScalableDimension=DIMENSION,
        MinCapacity=min_capacity,
        MaxCapacity=max_capacity,
    )
    policy = f"{endpoint}-invocations-per-instance"
    answer = aas.put_scaling_policy(
        PolicyName=policy,
        ServiceNamespace="sagemaker",
        ResourceId=rid,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": target_invocations,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": scale_in_cooldown,
            "ScaleOutCooldown": scale_out_cooldown,
        },
    )
    return {"ResourceId": rid, "PolicyName": policy, "PolicyARN": answer["PolicyARN"]}


def disable_autoscaling(aas: ApplicationAutoScalingClient, endpoint: str, variant: str) -> bool:
    """Deregister the variant (which deletes its policies); False when it was not registered."""
    rid = resource_id(endpoint, variant)
    found = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[rid])
    if not found["ScalableTargets"]:
        return False
    logger.info("deregistering scalable target %s", rid)
    aas.deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=rid, ScalableDimension=DIMENSION
    )
    return True
