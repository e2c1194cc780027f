"""`python -m deploy`: argparse front end of the lifecycle; results go to stdout, logs to stderr.

A command's result is written to stdout as JSON, except `version` and the `ecr` helpers,
which write one bare string for shell use (`$(python -m deploy ecr login-password)`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from deploy import commands
from deploy.errors import DeployError, SettingsError
from deploy.settings import SOURCES, DeploySettings

logger = logging.getLogger(__name__)


def _settings_parser() -> argparse.ArgumentParser:
    """Flags every AWS subcommand accepts; each falls back to its environment variable."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (flag, else environment variable)")
    for name, source in SOURCES.items():
        default = f", default {source.default}" if source.default else ""
        group.add_argument(source.flag, dest=name, help=f"env {' / '.join(source.env)}{default}")
    return parent


def _wait_flags(parser: argparse.ArgumentParser, *, with_switch: bool) -> None:
    if with_switch:
        parser.add_argument("--wait", action="store_true", help="poll until it settles")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds (3600)")
    parser.add_argument("--poll", type=float, default=30.0, help="seconds between polls (30)")


def _model_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--training-job", help="take model data from this Completed job")
    source.add_argument("--model-data", help="s3:// URI of a model.tar.gz")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")


def build_parser() -> argparse.ArgumentParser:
    """The full command line: one subcommand per lifecycle stage."""
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_settings_parser()]

    sub.add_parser("version", help="print the project version (the default image tag)")

    ecr = sub.add_parser("ecr", help="ECR helpers for build_and_push.sh")
    ecr_sub = ecr.add_subparsers(dest="ecr_command", required=True, metavar="ACTION")
    ensure = ecr_sub.add_parser(
        "ensure-repository", help="create if missing; print its URI", parents=common
    )
    ensure.add_argument("name")
    ecr_sub.add_parser("login-password", help="print the docker login password", parents=common)

    upload = sub.add_parser("upload", help="upload channels to S3", parents=common)
    upload.add_argument("channels", nargs="+", metavar="CHANNEL=PATH", help="file or folder")

    train = sub.add_parser("train", help="create a training job", parents=common)
    train.add_argument(
        "--channel",
        action="append",
        required=True,
        metavar="NAME[=S3URI]",
        help="repeat per channel; a bare name uses the upload layout",
    )
    train.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE")
    train.add_argument("--hyperparameters", type=Path, help="JSON object file")
    train.add_argument("--content-type", default="text/csv", help="of every channel")
    train.add_argument("--instance-count", type=int, default=1)
    train.add_argument("--volume-gb", type=int, default=10)
    train.add_argument("--max-runtime", type=int, default=3600, help="seconds")
    train.add_argument("--job-name")
    _wait_flags(train, with_switch=True)

    wait = sub.add_parser("wait", help="poll a job or endpoint until it settles", parents=common)
    wait.add_argument("kind", choices=["training", "transform", "endpoint"])
    wait.add_argument("name", nargs="?", help="default for endpoint: the endpoint setting")
    _wait_flags(wait, with_switch=False)

    transform = sub.add_parser("transform", help="create a batch transform job", parents=common)
    _model_source(transform)
    transform.add_argument("--input", help="s3:// prefix (default: the batch channel)")
    transform.add_argument("--output", help="s3:// prefix (default: .../batch-output/)")
    transform.add_argument("--content-type", default="text/csv")
    transform.add_argument("--accept", default="text/csv")
    transform.add_argument("--max-payload-mb", type=int, default=6)
    transform.add_argument("--max-concurrent", type=int)
    transform.add_argument("--instance-count", type=int, default=1)
    transform.add_argument("--job-name")
    _wait_flags(transform, with_switch=True)

    deploy = sub.add_parser("deploy", help="model + endpoint config + endpoint", parents=common)
    _model_source(deploy)
    deploy.add_argument("--instance-count", type=int, default=1)
    deploy.add_argument("--data-capture", type=int, metavar="PERCENT", help="enable capture")
    _wait_flags(deploy, with_switch=True)

    invoke = sub.add_parser("invoke", help="send one request to the endpoint", parents=common)
    body = invoke.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", help="request body text")
    body.add_argument("--file", type=Path, help="request body file ('-' for stdin)")
    invoke.add_argument("--content-type", default="text/csv")
    invoke.add_argument("--accept", default="text/csv")

    scale = sub.add_parser("autoscale", help="target tracking on invocations", parents=common)
    scale.add_argument("--min", type=int, default=1, dest="min_capacity")
    scale.add_argument("--max", type=int, required=True, dest="max_capacity")
    scale.add_argument("--target", type=float, required=True, help="invocations per instance")
    scale.add_argument("--scale-in-cooldown", type=int, default=300)
    scale.add_argument("--scale-out-cooldown", type=int, default=60)

    clean = sub.add_parser("cleanup", help="delete endpoint, configs, model", parents=common)
    clean.add_argument("--s3", action="store_true", help="also delete the S3 version prefix")
    return parser


def _write(result: object) -> None:
    if isinstance(result, str):
        sys.stdout.write(result + "\n")
    else:
        sys.stdout.write(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """Parse, run one command, print its result; 2 for bad settings, 1 for AWS failures."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "boto3", "s3transfer", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        if args.command == "version":
            _write(commands.version())
            return 0
        values = {name: getattr(args, name) for name in SOURCES}
        settings = DeploySettings.from_sources(values, environ)
        _write(commands.run(args, settings))
    except SettingsError as e:
        logger.error("%s", e)
        return 2
    except DeployError as e:
        logger.error("%s", e)
        return 1
    except ClientError as e:
        logger.error("AWS call failed: %s", e)
        return 1
    except BotoCoreError as e:
        logger.error("AWS client error: %s", e)
        return 1
    return 0
