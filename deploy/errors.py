"""Typed failures of the deploy CLI; each message is one line that names what to fix."""

from __future__ import annotations

from botocore.exceptions import ClientError


class DeployError(Exception):
    """Base of every failure the CLI reports as one line and a non-zero exit."""


class SettingsError(DeployError):
    """A setting is missing or malformed (names the flag and the environment variable)."""


class ResourceConflict(DeployError):
    """A SageMaker resource exists already with different parameters, or is missing."""


class JobFailed(DeployError):
    """A job or endpoint reached a terminal state other than success."""


class WaitTimeout(DeployError):
    """A job or endpoint did not reach a terminal state before the deadline."""


def is_not_found(error: ClientError) -> bool:
    """True when a SageMaker/ECR/autoscaling error means "no such resource"."""
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    if code in {"ResourceNotFound", "RepositoryNotFoundException", "NoSuchKey", "NoSuchBucket"}:
        return True
    return code == "ValidationException" and "could not find" in message.lower()
