"""One handler per subcommand: turn parsed flags into calls on real boto3 clients.

Clients come from one boto3 Session in the settings' region; boto3 itself honours
AWS_ENDPOINT_URL (the tests point it at moto), credentials and retries.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from deploy import ecr, hosting, storage, training, transform, waiting
from deploy.autoscaling import enable_autoscaling
from deploy.cleanup import cleanup
from deploy.errors import SettingsError
from deploy.invocation import invoke
from deploy.settings import DeploySettings, project_version

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

Result = str | Mapping[str, Any]


def version() -> str:
    """The project version: the default image tag and S3 version folder."""
    return project_version()


def _session(settings: DeploySettings) -> boto3.session.Session:
    return boto3.session.Session(region_name=settings.region)


def _ecr(args: argparse.Namespace, settings: DeploySettings) -> Result:
    client = _session(settings).client("ecr")
    if args.ecr_command == "ensure-repository":
        return ecr.ensure_repository(client, args.name)
    return ecr.login_password(client)


def _upload(args: argparse.Namespace, settings: DeploySettings) -> Result:
    paths = training.parse_assignments(args.channels, "channel")
    channels = {name: Path(path) for name, path in paths.items()}
    return storage.upload_channels(_session(settings).client("s3"), settings, channels)


def _wait(sm: SageMakerClient, kind: str, name: str, args: argparse.Namespace) -> dict[str, Any]:
    describe = waiting.describer(sm, kind)
    answer = waiting.wait_for(kind, name, describe, timeout=args.timeout, interval=args.poll)
    return waiting.summary(kind, answer)


def _train(args: argparse.Namespace, settings: DeploySettings) -> Result:
    sm = _session(settings).client("sagemaker")
    request = training.training_job_request(
        settings,
        hyperparameters=training.load_hyperparameters(args.hyperparameters, args.hp),
        channels=training.channel_uris(settings, args.channel),
        content_type=args.content_type,
        job_name=args.job_name,
        instance_count=args.instance_count,
        volume_gb=args.volume_gb,
        max_runtime_s=args.max_runtime,
    )
    arn = training.create_training_job(sm, request)
    result: dict[str, Any] = {"TrainingJobName": request["TrainingJobName"], "TrainingJobArn": arn}
    if args.wait:
        result |= _wait(sm, "training", request["TrainingJobName"], args)
    return result


def _wait_command(args: argparse.Namespace, settings: DeploySettings) -> Result:
    name = args.name or (settings.endpoint if args.kind == "endpoint" else None)
    if name is None:
        raise SettingsError(f"wait {args.kind} needs the job NAME")
    return _wait(_session(settings).client("sagemaker"), args.kind, name, args)


def _model(sm: SageMakerClient, args: argparse.Namespace, settings: DeploySettings) -> str:
    """Ensure the model exists, from --model-data or the artifact of --training-job."""
    data = args.model_data
    if args.training_job:
        data = training.model_artifacts(sm, args.training_job)
    environment = training.parse_assignments(args.env, "--env")
    return hosting.ensure_model(sm, settings, data, environment)


def _transform(args: argparse.Namespace, settings: DeploySettings) -> Result:
    sm = _session(settings).client("sagemaker")
    request = transform.transform_job_request(
        settings,
        _model(sm, args, settings),
        input_uri=args.input,
        output_uri=args.output,
        content_type=args.content_type,
        accept=args.accept,
        max_payload_mb=args.max_payload_mb,
        max_concurrent=args.max_concurrent,
        instance_count=args.instance_count,
        job_name=args.job_name,
    )
    arn = transform.create_transform_job(sm, request)
    result: dict[str, Any] = {
        "TransformJobName": request["TransformJobName"],
        "TransformJobArn": arn,
    }
    if args.wait:
        result |= _wait(sm, "transform", request["TransformJobName"], args)
    return result


def _deploy(args: argparse.Namespace, settings: DeploySettings) -> Result:
    sm = _session(settings).client("sagemaker")
    config = hosting.endpoint_config_request(
        settings,
        _model(sm, args, settings),
        instance_count=args.instance_count,
        capture_percent=args.data_capture,
    )
    result: dict[str, Any] = hosting.deploy_endpoint(sm, settings.endpoint, config)
    if args.wait:
        result |= _wait(sm, "endpoint", settings.endpoint, args)
    return result


def _invoke(args: argparse.Namespace, settings: DeploySettings) -> Result:
    if args.body is not None:
        body = args.body.encode()
    elif str(args.file) == "-":
        body = sys.stdin.buffer.read()
    else:
        try:
            body = args.file.read_bytes()
        except OSError as e:
            raise SettingsError(f"cannot read --file {args.file}: {e}") from e
    runtime = _session(settings).client("sagemaker-runtime")
    return invoke(
        runtime, settings.endpoint, body, content_type=args.content_type, accept=args.accept
    )


def _autoscale(args: argparse.Namespace, settings: DeploySettings) -> Result:
    return enable_autoscaling(
        _session(settings).client("application-autoscaling"),
        settings.endpoint,
        hosting.VARIANT,
        min_capacity=args.min_capacity,
        max_capacity=args.max_capacity,
        target_invocations=args.target,
        scale_in_cooldown=args.scale_in_cooldown,
        scale_out_cooldown=args.scale_out_cooldown,
    )


def _cleanup(args: argparse.Namespace, settings: DeploySettings) -> Result:
    session = _session(settings)
    return cleanup(
        session.client("sagemaker"),
        session.client("application-autoscaling"),
        session.client("s3"),
        settings,
        delete_s3=args.s3,
    )


HANDLERS: Mapping[str, Callable[[argparse.Namespace, DeploySettings], Result]] = {
    "ecr": _ecr,
    "upload": _upload,
    "train": _train,
    "wait": _wait_command,
    "transform": _transform,
    "deploy": _deploy,
    "invoke": _invoke,
    "autoscale": _autoscale,
    "cleanup": _cleanup,
}


def run(args: argparse.Namespace, settings: DeploySettings) -> Result:
    """Run the parsed subcommand; its result for stdout."""
    return HANDLERS[args.command](args, settings)
