"""DeploySettings: flags over environment, no silent region/role/bucket, clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import SettingsError
from deploy.settings import SOURCES, DeploySettings, project_version, resource_name

BASE = {"AWS_DEFAULT_REGION": "eu-west-1", "BOOSTBOX_VERSION": "2.0"}


def test_sources_cover_every_field() -> None:
    assert set(SOURCES) == set(DeploySettings.__dataclass_fields__)


def test_missing_region_names_flag_and_variables() -> None:
    with pytest.raises(SettingsError, match=r"'region': pass --region or set AWS_REGION"):
        DeploySettings.from_sources({}, environ={})


@pytest.mark.parametrize(
    ("name", "flag", "env"),
    [
        ("role_arn", "--role-arn", "BOOSTBOX_ROLE_ARN"),
        ("bucket", "--bucket", "BOOSTBOX_BUCKET"),
        ("image_uri", "--image-uri", "BOOSTBOX_IMAGE_URI"),
    ],
)
def test_required_later_settings_have_no_default(name: str, flag: str, env: str) -> None:
    settings = DeploySettings.from_sources({}, environ=BASE)
    assert getattr(settings, name) is None
    with pytest.raises(SettingsError, match=f"'{name}': pass {flag} or set {env}"):
        settings.need(name)


def test_flags_win_over_environment_and_empty_counts_as_unset() -> None:
    environ = {**BASE, "AWS_REGION": "", "BOOSTBOX_BUCKET": "env-bucket", "BOOSTBOX_PREFIX": ""}
    settings = DeploySettings.from_sources(
        {"bucket": "flag-bucket", "region": None, "model": "churn"}, environ=environ
    )
    assert settings.region == "eu-west-1"
    assert settings.bucket == "flag-bucket"
    assert settings.prefix == "boostbox"
    assert settings.s3_uri("train") == "s3://flag-bucket/boostbox/churn/2.0/train/"
    assert settings.model_name == "churn-2-0"
    assert settings.endpoint == "churn"


def test_version_defaults_to_the_project_version() -> None:
    settings = DeploySettings.from_sources({}, environ={"AWS_REGION": "us-east-1"})
    assert settings.version == project_version()


def test_project_version_missing_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="pass --version or set BOOSTBOX_VERSION"):
        project_version(tmp_path)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"region": "mars"}, r"'region' \(--region\) has value 'mars'"),
        ({"role_arn": "my-role"}, "not an IAM role ARN"),
        ({"bucket": "s3://b/k"}, "not a bucket name"),
        ({"version": "1 0"}, "'version'"),
    ],
)
def test_malformed_values_name_setting_and_value(values: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        DeploySettings.from_sources(values, environ=BASE)


def test_settings_are_frozen() -> None:
    settings = DeploySettings.from_sources({}, environ=BASE)
    with pytest.raises(AttributeError):
        settings.region = "us-west-2"  # type: ignore[misc]


def test_resource_name_is_sagemaker_safe_and_keeps_the_suffix() -> None:
    assert resource_name("My_Model", "1.2.3") == "My-Model-1-2-3"
    long = resource_name("x" * 80, suffix="20260101-000000")
    assert len(long) == 63
    assert long.endswith("-20260101-000000")
    with pytest.raises(SettingsError):
        resource_name("..")
