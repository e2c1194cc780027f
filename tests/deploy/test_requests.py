"""Request builders and the update path, checked offline with botocore's Stubber."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from deploy.errors import SettingsError
from deploy.hosting import deploy_endpoint, endpoint_config_request
from deploy.settings import DeploySettings
from deploy.training import channel_uris, load_hyperparameters, training_job_request
from deploy.transform import transform_job_request

ENV = {
    "AWS_REGION": "us-east-1",
    "BOOSTBOX_BUCKET": "bkt",
    "BOOSTBOX_ROLE_ARN": "arn:aws:iam::123456789012:role/r",
    "BOOSTBOX_IMAGE_URI": "123456789012.dkr.ecr.us-east-1.amazonaws.com/boostbox:1",
    "BOOSTBOX_VERSION": "1",
}


@pytest.fixture
def settings() -> DeploySettings:
    return DeploySettings.from_sources({}, environ=ENV)


def test_hyperparameters_become_strings(tmp_path: Path) -> None:
    file = tmp_path / "hp.json"
    file.write_text(
        '{"max_depth": 3, "subsample": 0.5, "flag": false, "objective": "reg:squarederror"}'
    )
    assert load_hyperparameters(file, ["max_depth=4"]) == {
        "max_depth": "4",
        "subsample": "0.5",
        "flag": "false",
        "objective": "reg:squarederror",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [("[1]", "JSON object"), ('{"a": [1]}', "not a scalar"), ("{", "cannot read")],
)
def test_bad_hyperparameter_files_are_settings_errors(
    tmp_path: Path, content: str, message: str
) -> None:
    file = tmp_path / "hp.json"
    file.write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_hyperparameters(file, [])


def test_hp_assignment_without_equals_is_rejected() -> None:
    with pytest.raises(SettingsError, match="'eta' is not KEY=VALUE"):
        load_hyperparameters(None, ["eta"])


def test_channels_accept_explicit_s3_locations_only(settings: DeploySettings) -> None:
    assert channel_uris(settings, ["train", "validation=s3://x/v/"]) == {
        "train": "s3://bkt/boostbox/boostbox/1/train/",
        "validation": "s3://x/v/",
    }
    with pytest.raises(SettingsError, match="must be an s3:// URI"):
        channel_uris(settings, ["train=/tmp/train"])


def test_training_request_needs_the_image(settings: DeploySettings) -> None:
    no_image = DeploySettings.from_sources({}, environ={**ENV, "BOOSTBOX_IMAGE_URI": ""})
    with pytest.raises(SettingsError, match="'image_uri'"):
        training_job_request(no_image, hyperparameters={}, channels={}, content_type="text/csv")
    request = training_job_request(
        settings, hyperparameters={"eta": 0.1}, channels={}, content_type="text/csv"
    )
    assert request["HyperParameters"] == {"eta": "0.1"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_payload_mb": 0}, "not in 1..100"),
        ({"max_payload_mb": 10, "max_concurrent": 11}, "exceeds 100"),
        ({"input_uri": "/data"}, "--input has value '/data'"),
    ],
)
def test_transform_limits(
    settings: DeploySettings, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        transform_job_request(settings, "m", **kwargs)  # type: ignore[arg-type]


def test_data_capture_percentage_is_checked(settings: DeploySettings) -> None:
    with pytest.raises(SettingsError, match="not a percentage"):
        endpoint_config_request(settings, "m", capture_percent=0)


def test_existing_endpoint_is_updated_to_the_new_config(settings: DeploySettings) -> None:
    sm = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    ).client("sagemaker")
    config = endpoint_config_request(settings, "boostbox-1")
    name = config["EndpointConfigName"]
    arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/boostbox"
    with Stubber(sm) as stub:
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": f"{arn}-config"}, config)
        stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": "boostbox",
                "EndpointArn": arn,
                "EndpointStatus": "InService",
                "CreationTime": "2026-01-01T00:00:00Z",
                "LastModifiedTime": "2026-01-01T00:00:00Z",
            },
            {"EndpointName": "boostbox"},
        )
        stub.add_response(
            "update_endpoint",
            {"EndpointArn": arn},
            {"EndpointName": "boostbox", "EndpointConfigName": name},
        )
        result = deploy_endpoint(sm, "boostbox", config)
        stub.assert_no_pending_responses()
    assert result == {"EndpointName": "boostbox", "EndpointArn": arn, "EndpointConfigName": name}
