"""Poll a training job, transform job or endpoint until it settles, logging each transition."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from deploy.errors import JobFailed, WaitTimeout

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

logger = logging.getLogger(__name__)

Describe = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class Kind:
    """How to read one resource's Describe* answer."""

    label: str
    status_key: str
    succeeded: frozenset[str]
    failed: frozenset[str]
    secondary_key: str | None = None


KINDS: Final[Mapping[str, Kind]] = {
    "training": Kind(
        "training job",
        "TrainingJobStatus",
        frozenset({"Completed"}),
        frozenset({"Failed", "Stopped"}),
        "SecondaryStatus",
    ),
    "transform": Kind(
        "transform job",
        "TransformJobStatus",
        frozenset({"Completed"}),
        frozenset({"Failed", "Stopped"}),
    ),
    "endpoint": Kind(
        "endpoint",
        "EndpointStatus",
        frozenset({"InService"}),
        frozenset({"Failed", "OutOfService", "Deleting"}),
    ),
}


def describer(sm: SageMakerClient, kind: str) -> Describe:
    """The Describe* call for `kind`, taking the resource name."""
    calls: dict[str, Describe] = {
        "training": lambda name: sm.describe_training_job(TrainingJobName=name),
        "transform": lambda name: sm.describe_transform_job(TransformJobName=name),
        "endpoint": lambda name: sm.describe_endpoint(EndpointName=name),
    }
    return calls[kind]


def _detail(answer: Mapping[str, Any]) -> str:
    transitions = answer.get("SecondaryStatusTransitions") or []
    message = transitions[-1].get("StatusMessage", "") if transitions else ""
    return f" - {message}" if message else ""


def wait_for(
    kind: str,
    name: str,
    describe: Describe,
    *,
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Mapping[str, Any]:
    """The final Describe* answer once `name` succeeds; JobFailed or WaitTimeout otherwise."""
    spec = KINDS[kind]
    deadline = clock() + timeout
    seen: tuple[str, str] | None = None
    while True:
        answer = describe(name)
        status = str(answer[spec.status_key])
        secondary = str(answer.get(spec.secondary_key, "")) if spec.secondary_key else ""
        if (status, secondary) != seen:
            shown = f"{status}/{secondary}" if secondary else status
            logger.info("%s %s: %s%s", spec.label, name, shown, _detail(answer))
            seen = (status, secondary)
        if status in spec.succeeded:
            return answer
        if status in spec.failed:
            reason = answer.get("FailureReason") or "no FailureReason given"
            raise JobFailed(f"{spec.label} {name} ended {status}: {reason}")
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(f"{spec.label} {name} still {status} after {timeout:g}s")
        sleep(min(interval, remaining))


def summary(kind: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """The fields worth printing for a settled resource."""
    spec = KINDS[kind]
    keys = {
        "training": ("TrainingJobName", "ModelArtifacts"),
        "transform": ("TransformJobName", "TransformOutput"),
        "endpoint": ("EndpointName", "EndpointArn"),
    }[kind]
    return {spec.status_key: answer[spec.status_key], **{k: answer.get(k) for k in keys}}
