"""ECR for build_and_push.sh: create the repository if missing, hand out the login password."""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from deploy.errors import DeployError

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

logger = logging.getLogger(__name__)


def ensure_repository(ecr: ECRClient, name: str) -> str:
    """The repository's URI, creating the repository (scan on push) when it does not exist."""
    try:
        found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ecr.exceptions.RepositoryNotFoundException:
        logger.info("creating ECR repository %s", name)
        created = ecr.create_repository(
            repositoryName=name,
            imageScanningConfiguration={"scanOnPush": True},
            imageTagMutability="MUTABLE",
        )["repository"]
        return created["repositoryUri"]
    logger.info("ECR repository %s exists", name)
    return found["repositoryUri"]


def login_password(ecr: ECRClient) -> str:
    """The password for `docker login --username AWS --password-stdin <registry>`."""
    try:
        data = ecr.get_authorization_token()["authorizationData"]
    except ClientError as e:
        raise DeployError(f"ECR GetAuthorizationToken failed: {e}") from e
    if not data:
        raise DeployError("ECR GetAuthorizationToken returned no authorization data")
    user, _, password = base64.b64decode(data[0]["authorizationToken"]).decode().partition(":")
    if user != "AWS" or not password:
        raise DeployError("ECR authorization token is not of the form AWS:<password>")
    return password
