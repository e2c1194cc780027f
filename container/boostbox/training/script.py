"""Training script mode: run the user's entry point instead of the built-in algorithm.

`train` gets here when the hyperparameters carry `sagemaker_program` (SDK v2 framework and
`source_dir` estimators, the v3 HyperparameterTuner) or SAGEMAKER_PROGRAM is set. As the
training toolkit does: the submit directory (an s3:// tarball, a folder, a tar file or a
file:// URL; none = the code is already in /opt/ml/code) is unpacked into /opt/ml/code, its
requirements.txt installed with pip, and the entry point run there with the toolkit's SM_*
variables and the user's hyperparameters as `--name value` arguments (the reserved
`sagemaker_*` and `_tuning_objective_metric` names stripped; values JSON-decoded where they
are JSON, so `"\\"x\\""`, `x`, `true` and `True` arrive alike as the toolkit passes them).
A `.py` entry point runs under boostbox.training.launch, which reports an exception as one line; any
other file runs as a command. A failure becomes ScriptError: one line in output/failure,
exit 2, the script's own traceback on stderr. SIGTERM is passed on to the script.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from sagemaker_training import mapping

from boostbox import sourcedir
from boostbox.config import TrainingConfig
from boostbox.errors import UserError

logger = logging.getLogger(__name__)

RESERVED = frozenset(
    {
        "sagemaker_program",
        "sagemaker_submit_directory",
        "sagemaker_enable_cloudwatch_metrics",
        "sagemaker_region",
        "sagemaker_container_log_level",
        "sagemaker_job_name",
        "default_user_module_name",
        "_tuning_objective_metric",
        "sagemaker_s3_output",
    }
)
"""The training toolkit's reserved names; every other `sagemaker_*` name is reserved too."""


class ScriptError(UserError):
    """The user's entry point could not be prepared, or it failed."""


def user_hyperparameters(raw: Mapping[str, str]) -> dict[str, Any]:
    """The script's hyperparameters: reserved names out, each value JSON-decoded if it is JSON."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name in RESERVED or name.startswith("sagemaker_"):
            continue
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out


def user_args(hyperparameters: Mapping[str, Any]) -> list[str]:
    """`--name value` pairs, sorted by name, formatted as the training toolkit formats them."""
    return [str(arg) for arg in mapping.to_cmd_args(dict(hyperparameters))]


def _log_level(name: str) -> int:
    level = logging.getLevelName(name.strip().upper())
    return level if isinstance(level, int) else logging.INFO


def script_environment(
    config: TrainingConfig, code_dir: Path, hyperparameters: Mapping[str, Any]
) -> dict[str, str]:
    """The toolkit's SM_* variables (SM_MODEL_DIR, SM_CHANNEL_TRAIN, SM_HPS, ...)."""
    paths = config.paths
    resources = dict(config.resources) or {
        "current_host": config.current_host,
        "hosts": list(config.hosts),
    }
    data_config = {
        name: {
            "ContentType": channel.content_type,
            "TrainingInputMode": channel.input_mode,
            "S3DistributionType": channel.s3_distribution_type,
        }
        for name, channel in config.channels.items()
    }
    program = config.program or ""
    env: dict[str, Any] = {
        "hosts": list(config.hosts),
        "current_host": config.current_host,
        "current_host_rank": config.hosts.index(config.current_host)
        if config.current_host in config.hosts
        else 0,
        "network_interface_name": resources.get("network_interface_name", "eth0"),
        "current_instance_type": resources.get("current_instance_type", "local"),
        "hps": dict(hyperparameters),
        "user_entry_point": program,
        "module_name": program.removesuffix(".py"),
        "module_dir": str(code_dir),
        "framework_module": "",
        "framework_params": {},
        "resource_config": resources,
        "input_data_config": data_config,
        "channels": sorted(config.channels),
        "log_level": _log_level(config.log_level),
        "input_dir": str(paths.root / "input"),
        "input_config_dir": str(paths.config_dir),
        "output_dir": str(paths.output_dir),
        "output_data_dir": str(paths.output_data_dir),
        "output_intermediate_dir": str(paths.output_dir / "intermediate"),
        "model_dir": str(paths.model_dir),
        "num_cpus": config.num_cpus,
        "num_gpus": 0,
    }
    env["user_args"] = user_args(hyperparameters)
    env["training_env"] = dict(env)
    env.update({f"channel_{name}": str(paths.channel(name)) for name in config.channels})
    env.update({f"hp_{name}": value for name, value in hyperparameters.items()})
    return {str(k): str(v) for k, v in mapping.to_env_vars(env).items()}


def command_for(entry: Path, args: list[str], error_file: Path) -> list[str]:
    """A .py entry point under boostbox.training.launch; anything else run as an executable."""
    if entry.suffix == ".py":
        return [
            sys.executable,
            "-m",
            "boostbox.training.launch",
            str(error_file),
            str(entry),
            *args,
        ]
    entry.chmod(entry.stat().st_mode | 0o111)
    return [str(entry), *args]


def _run(command: list[str], cwd: Path, env: Mapping[str, str]) -> int:
    """Run the script to its end; SIGTERM (a stopped job) is passed on to it."""
    child = subprocess.Popen(command, cwd=cwd, env=dict(env))

    def forward(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _failure(program: str, status: int, error_file: Path) -> str:
    recorded = error_file.read_text(encoding="utf-8").strip() if error_file.exists() else ""
    if recorded:
        return recorded
    if status < 0:
        return f"{program} was killed by signal {signal.Signals(-status).name}."
    return f"{program} exited with status {status}."


def run_script(config: TrainingConfig, environ: Mapping[str, str]) -> int:
    """Run the user's entry point as the training job; 0, or ScriptError naming the failure."""
    program = config.program
    if program is None:
        raise ScriptError("Script mode needs sagemaker_program or SAGEMAKER_PROGRAM.")
    paths = config.paths
    paths.failure_file.unlink(missing_ok=True)
    paths.success_file.unlink(missing_ok=True)
    for folder in (paths.model_dir, paths.output_data_dir):
        folder.mkdir(parents=True, exist_ok=True)
    code_dir = paths.root / "code"
    code_dir.mkdir(parents=True, exist_ok=True)
    if config.submit_directory is not None:
        region = config.hyperparameters.get("sagemaker_region")
        sourcedir.fetch(config.submit_directory, code_dir, region)
    entry = code_dir / program
    if not entry.is_file():
        found = ", ".join(sorted(p.name for p in code_dir.iterdir())) or "nothing"
        raise ScriptError(f"sagemaker_program {program} is not in {code_dir} (found: {found}).")
    hyperparameters = user_hyperparameters(config.hyperparameters)
    env = {**environ, **script_environment(config, code_dir, hyperparameters)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code_dir), environ.get("PYTHONPATH")) if p)
    sourcedir.install_requirements(code_dir, env)
    args = user_args(hyperparameters)
    logger.info("Script mode: running %s %s in %s.", program, " ".join(args), code_dir)
    with tempfile.TemporaryDirectory(prefix="boostbox-script-") as tmp:
        error_file = Path(tmp) / "error"
        status = _run(command_for(entry, args, error_file), code_dir, env)
        if status != 0:
            raise ScriptError(_failure(program, status, error_file))
    paths.success_file.write_text("", encoding="utf-8")
    logger.info("Script mode: %s finished.", program)
    return 0
