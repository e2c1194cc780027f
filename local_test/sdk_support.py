"""Helpers for local_mode.py that need no SDK: environment, inputs, container cleanup.

Standard library only (runs in .venv-sdk).
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
from pathlib import Path

COMPOSE_DIR_LABEL = "com.docker.compose.project.working_dir"
"""docker-compose labels each container with its project folder: one SDK temp dir per job."""

TELEMETRY_OPT_OUT = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def sdk_environment(config_file: Path) -> dict[str, str]:
    """What the SDK and boto3 need to run offline: a region, fake keys, no metadata probe."""
    return {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fake-secret-for-local-mode",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config_file),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }


def remove_containers(root: Path) -> list[str]:
    """Remove every container whose compose project lives under `root` (the SDK's temp trees)."""
    listed = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"label={COMPOSE_DIR_LABEL}", "--format",
         "{{.ID}}\t{{.Label \"" + COMPOSE_DIR_LABEL + "\"}}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    mine = [
        cid
        for cid, _, workdir in (line.partition("\t") for line in listed.stdout.splitlines())
        if workdir == str(root) or workdir.startswith(f"{root}{os.sep}")
    ]
    for cid in mine:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)
    return mine


def batch_input(data_dir: Path, target: Path) -> Path:
    """The validation channel without its label column: what a transform job is given."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sources = sorted((data_dir / "validation").glob("*.csv"))
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        for source in sources:
            with source.open(newline="", encoding="utf-8") as rows:
                writer.writerows(row[1:] for row in csv.reader(rows) if row)
    return target


def kill_children() -> list[int]:
    """SIGKILL this process's direct children: the SDK's `docker-compose up` runs (Linux /proc)."""
    me, killed = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(after_name[1]) == me:
            pid = int(stat.parent.name)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    return killed
