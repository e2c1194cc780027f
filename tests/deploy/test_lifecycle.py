"""The CLI against moto in server mode: real boto3 clients, parameters validated by botocore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.deploy.conftest import IMAGE_URI, ROLE_ARN, Aws, RunCli, queue_endpoint_results

pytestmark = pytest.mark.aws

PREFIX = "s3://boostbox-test-bucket/boostbox/boostbox/1.2.3"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A train file and a validation folder (with a hidden file that must not be uploaded)."""
    (tmp_path / "train.csv").write_text("1,0.5,0.25\n0,0.1,0.2\n")
    validation = tmp_path / "validation"
    (validation / "part").mkdir(parents=True)
    (validation / "part" / "v.csv").write_text("1,0.4,0.3\n")
    (validation / ".DS_Store").write_text("junk")
    return tmp_path


def train(run_cli: RunCli, *extra: str) -> str:
    """Start a training job on the uploaded layout; its name."""
    result = run_cli(
        "train", "--channel", "train", "--channel", "validation", "--job-name", "job-1", *extra
    )
    assert result.code == 0, result.log
    return str(result.output["TrainingJobName"])


def test_upload_puts_channels_under_model_and_version(
    run_cli: RunCli, aws: Aws, bucket: str, data: Path
) -> None:
    result = run_cli("upload", f"train={data / 'train.csv'}", f"validation={data / 'validation'}")
    assert result.code == 0, result.log
    assert result.output == {"train": f"{PREFIX}/train/", "validation": f"{PREFIX}/validation/"}
    listed = aws.s3().list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        "boostbox/boostbox/1.2.3/train/train.csv",
        "boostbox/boostbox/1.2.3/validation/part/v.csv",
    ]


def test_train_creates_the_job_with_image_string_hyperparameters_and_channels(
    run_cli: RunCli, aws: Aws, tmp_path: Path
) -> None:
    hp_file = tmp_path / "hp.json"
    hp_file.write_text(json.dumps({"max_depth": 5, "eta": 0.2, "verbosity": True}))
    train(run_cli, "--hyperparameters", str(hp_file), "--hp", "num_round=50", "--hp", "eta=0.3")
    job = aws.sagemaker().describe_training_job(TrainingJobName="job-1")
    assert job["AlgorithmSpecification"]["TrainingImage"] == IMAGE_URI
    assert job["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert job["RoleArn"] == ROLE_ARN
    assert job["HyperParameters"] == {
        "max_depth": "5",
        "eta": "0.3",
        "verbosity": "true",
        "num_round": "50",
    }
    channels = {c["ChannelName"]: c for c in job["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}
    assert channels["train"]["ContentType"] == "text/csv"
    s3 = channels["validation"]["DataSource"]["S3DataSource"]
    assert s3["S3Uri"] == f"{PREFIX}/validation/"
    assert s3["S3DataType"] == "S3Prefix"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"{PREFIX}/output/"
    assert job["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600


def test_train_wait_and_wait_report_the_completed_job(run_cli: RunCli) -> None:
    result = run_cli("train", "--channel", "train", "--wait", "--poll", "0.1", "--timeout", "30")
    assert result.code == 0, result.log
    assert result.output["TrainingJobStatus"] == "Completed"
    assert "Completed/Completed" in result.log
    name = result.output["TrainingJobName"]
    assert name.startswith("boostbox-1-2-3-")
    waited = run_cli("wait", "training", name, "--poll", "0.1", "--timeout", "30")
    assert waited.code == 0, waited.log
    artifacts = waited.output["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts == f"{PREFIX}/output/{name}/output/model.tar.gz"


def test_transform_creates_model_and_line_split_multirecord_job(run_cli: RunCli, aws: Aws) -> None:
    job = train(run_cli)
    result = run_cli(
        "transform", "--training-job", job, "--max-payload-mb", "8", "--job-name", "batch-1"
    )
    assert result.code == 0, result.log
    sm = aws.sagemaker()
    described = sm.describe_transform_job(TransformJobName="batch-1")
    assert described["ModelName"] == "boostbox-1-2-3"
    assert described["BatchStrategy"] == "MultiRecord"
    assert described["MaxPayloadInMB"] == 8
    assert described["TransformInput"]["ContentType"] == "text/csv"
    assert described["TransformInput"]["SplitType"] == "Line"
    assert described["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == f"{PREFIX}/batch/"
    assert described["TransformOutput"]["S3OutputPath"] == f"{PREFIX}/batch-output/"
    model = sm.describe_model(ModelName="boostbox-1-2-3")
    assert model["PrimaryContainer"]["Image"] == IMAGE_URI
    assert model["PrimaryContainer"]["ModelDataUrl"].endswith(f"/{job}/output/model.tar.gz")


@pytest.mark.parametrize("capture", [None, 40])
def test_deploy_creates_model_config_endpoint_and_optional_capture(
    run_cli: RunCli, aws: Aws, capture: int | None
) -> None:
    extra = ["--data-capture", str(capture)] if capture is not None else []
    result = run_cli("deploy", "--model-data", "s3://b/model.tar.gz", "--wait", *extra)
    assert result.code == 0, result.log
    assert result.output["EndpointStatus"] == "InService"
    sm = aws.sagemaker()
    endpoint = sm.describe_endpoint(EndpointName="boostbox")
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    variant = config["ProductionVariants"][0]
    assert (variant["ModelName"], variant["InstanceType"]) == ("boostbox-1-2-3", "ml.m5.large")
    if capture is None:
        assert not config.get("DataCaptureConfig")  # moto echoes {} for "not sent"
    else:
        captured = config["DataCaptureConfig"]
        assert captured["EnableCapture"] is True
        assert captured["InitialSamplingPercentage"] == capture
        assert captured["DestinationS3Uri"] == f"{PREFIX}/data-capture/"


def test_deploy_refuses_a_model_with_other_data(run_cli: RunCli) -> None:
    assert run_cli("deploy", "--model-data", "s3://b/one.tar.gz").code == 0
    again = run_cli("deploy", "--model-data", "s3://b/two.tar.gz")
    assert again.code == 1
    assert "exists with model data s3://b/one.tar.gz" in again.log


def test_invoke_sends_the_request_and_returns_the_answer(run_cli: RunCli, aws: Aws) -> None:
    assert run_cli("deploy", "--model-data", "s3://b/model.tar.gz").code == 0
    answer = {"Body": "0.73\n", "ContentType": "text/csv", "InvokedProductionVariant": "AllTraffic"}
    queue_endpoint_results(aws, [answer])
    result = run_cli("invoke", "--body", "0.5,0.25", "--accept", "text/csv")
    assert result.code == 0, result.log
    assert result.output == answer


def test_autoscale_registers_target_tracking_on_invocations(run_cli: RunCli, aws: Aws) -> None:
    result = run_cli("autoscale", "--min", "1", "--max", "4", "--target", "70")
    assert result.code == 0, result.log
    client = aws.autoscaling()
    rid = "endpoint/boostbox/variant/AllTraffic"
    target = client.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in target] == [(rid, 1, 4)]
    policy = client.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"][0]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert tracking["TargetValue"] == 70.0
    metric = tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
    assert metric == "SageMakerVariantInvocationsPerInstance"


def test_cleanup_removes_everything_and_is_idempotent(
    run_cli: RunCli, aws: Aws, bucket: str, data: Path
) -> None:
    assert run_cli("upload", f"train={data / 'train.csv'}").code == 0
    assert run_cli("deploy", "--model-data", "s3://b/model.tar.gz", "--data-capture", "5").code == 0
    # What a redeploy (UpdateEndpoint, which moto lacks) leaves behind: an older own config.
    aws.sagemaker().create_endpoint_config(
        EndpointConfigName="boostbox-1-2-3-20200101-000000",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "boostbox-1-2-3",
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    assert run_cli("autoscale", "--max", "2", "--target", "100").code == 0
    result = run_cli("cleanup", "--s3")
    assert result.code == 0, result.log
    assert result.output["DeletedObjects"] == 1
    sm = aws.sagemaker()
    assert sm.list_endpoints()["Endpoints"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_models()["Models"] == []
    assert (
        aws.autoscaling().describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
        == []
    )
    assert aws.s3().list_objects_v2(Bucket=bucket).get("Contents", []) == []
    again = run_cli("cleanup")
    assert again.code == 0, again.log
    assert again.output == {"Removed": []}


def test_missing_role_fails_with_a_one_line_message(run_cli: RunCli) -> None:
    result = run_cli("train", "--channel", "train", extra={"BOOSTBOX_ROLE_ARN": ""})
    assert result.code == 2
    assert "missing setting 'role_arn': pass --role-arn or set BOOSTBOX_ROLE_ARN" in result.log


def test_ecr_helpers_create_the_repository_once_and_decode_the_token(
    run_cli: RunCli, aws: Aws
) -> None:
    first = run_cli("ecr", "ensure-repository", "boostbox")
    second = run_cli("ecr", "ensure-repository", "boostbox")
    assert first.code == second.code == 0
    assert first.output == second.output == "123456789012.dkr.ecr.us-east-1.amazonaws.com/boostbox"
    repos = aws.ecr().describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in repos] == ["boostbox"]
    password = run_cli("ecr", "login-password")
    assert password.code == 0
    assert password.output == "123456789012-auth-token"
