"""Drive the boostbox image through SageMaker Python SDK local mode, with no AWS account.

Estimator(image_uri=IMAGE, instance_type="local").fit with file:// CSV channels, the same on
two instances (instance_count=2: one model through XGBoost's collective), the same in
script mode (entry_point=local_test/script/train_script.py: the image's `train` runs it) ->
deploy to a local endpoint -> predict with the CSV and JSON serializers -> delete model
and endpoint -> a local batch transform -> delete its model. Every container it started is
removed and its temp folders deleted, also on error, SIGTERM or the hard timeout.

    make sdk-venv   # .venv-sdk: Python 3.11 + sagemaker[local]==2.257.7, from requirements-sdk.lock
    .venv-sdk/bin/python local_test/local_mode.py [--image IMAGE] [--out-dir DIR] \
        [--serving-port N] [--transform-port N] [--timeout SECONDS]

A socket guard (netguard.py) is installed before the SDK is imported: any connection or DNS
lookup that is not loopback or a unix socket is refused and recorded, and a run with any
refusal fails, so success proves that no AWS endpoint was called. Output (default
local_test/out/sdk-local/): model/model.tar.gz, predictions.json, transform/*.out, summary.json.

Call-site fixes for SDK v2 local mode (see shared/SDK-LOCAL-MODE.md): telemetry opt-out
(both the config file and the session dict); fake credentials, a region and
AWS_EC2_METADATA_DISABLED; `deploy(wait=False)` (skips a fixed 30 s sleep);
`transform(wait=False)` (the local job is synchronous; waiting with logs calls CloudWatch);
the endpoint is deleted before the transform, which also gets its own serving port;
`delete_model()` before `delete_endpoint()`; `container_root` in a temp folder; leftover
containers found by their compose working-dir label (not by image, which other jobs share).

Against real SageMaker, change only these (and drop the guard and the fake credentials):
  - session: `sagemaker.Session()` instead of `LocalSession(...)`, credentials from your
    environment;
  - role: an IAM role ARN SageMaker can assume (`--role`), instead of the placeholder;
  - image: the ECR URI that `make push` printed (`--image`);
  - instance types: `ml.m5.xlarge` (or any CPU type) for fit, deploy and transformer,
    instead of "local";
  - paths: `s3://BUCKET/PREFIX/...` for the train/validation channels, output_path and the
    transform input/output, instead of file://;
  - `deploy(..., wait=True)` and `transform(..., wait=True)` are then fine.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import devtools
import netguard
import sdk_support
import seed

logger = logging.getLogger("local_mode")

HERE = Path(__file__).resolve().parent
PLACEHOLDER_ROLE = "arn:aws:iam::111111111111:role/SageMakerRole"
TIMEOUT_EXIT = 124
GUARD_EXIT = 3


@dataclass(frozen=True)
class Settings:
    """Everything this script reads from its arguments and the environment, in one place."""

    image: str
    """--image, else $BOOSTBOX_IMAGE, else boostbox:latest."""
    out_dir: Path
    data_dir: Path
    """Folder with train/ and validation/ CSV channels (label first, no header)."""
    payload: Path
    """CSV rows without label for the endpoint predictions."""
    serving_port: int
    """Host port of the endpoint container; 0 picks a free one."""
    transform_port: int
    """Host port of the batch-transform container; 0 picks a free one."""
    timeout: float
    """Hard limit for the whole run, seconds: containers are removed and the process exits 124."""
    role: str
    instance_type: str


def parse_args(
    argv: list[str] | None,
    environ: Mapping[str, str] = os.environ,
    *,
    out_name: str = "sdk-local",
    description: str = __doc__.splitlines()[0],
) -> Settings:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--image", default=environ.get("BOOSTBOX_IMAGE") or "boostbox:latest")
    parser.add_argument("--out-dir", type=Path, default=HERE / "out" / out_name)
    parser.add_argument("--data-dir", type=Path, default=HERE / "test_dir" / "input" / "data")
    parser.add_argument("--payload", type=Path, default=HERE / "payload.csv")
    parser.add_argument("--serving-port", type=int, default=0)
    parser.add_argument("--transform-port", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--role", default=PLACEHOLDER_ROLE)
    parser.add_argument("--instance-type", default="local")
    args = parser.parse_args(argv)
    return Settings(
        image=args.image,
        out_dir=args.out_dir.resolve(),
        data_dir=args.data_dir.resolve(),
        payload=args.payload.resolve(),
        serving_port=args.serving_port or devtools.free_port(),
        transform_port=args.transform_port or devtools.free_port(),
        timeout=args.timeout,
        role=args.role,
        instance_type=args.instance_type,
    )


def run(settings: Settings, container_root: Path) -> dict[str, Any]:
    """The SDK workflow; returns the summary. Imports the SDK: call after the guard is on."""
    from sagemaker.deserializers import CSVDeserializer, JSONDeserializer
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.local import LocalSession
    from sagemaker.serializers import CSVSerializer, JSONSerializer

    out = settings.out_dir
    timings: dict[str, float] = {}
    session = LocalSession(sagemaker_config=sdk_support.TELEMETRY_OPT_OUT)
    local = {"local_code": True, "container_root": str(container_root)}
    session.config = {"local": {**local, "serving_port": settings.serving_port}}

    channels = {
        name: TrainingInput(f"file://{settings.data_dir / name}", content_type="text/csv")
        for name in ("train", "validation")
    }

    def fit(step: str, folder: str, instances: int = 1, **job: Any) -> Any:
        """One training job of the image; `job` adds to or overrides the Estimator's arguments."""
        started = time.monotonic()
        arguments = {
            "image_uri": settings.image,
            "role": settings.role,
            "instance_count": instances,
            "instance_type": settings.instance_type,
            "output_path": f"file://{out / folder}",
            "base_job_name": f"boostbox-local-{folder}",
            "hyperparameters": seed.hyperparameters(),
            "sagemaker_session": session,
        }
        estimator = Estimator(**(arguments | job))
        estimator.fit(channels, logs=False)
        timings[step] = time.monotonic() - started
        logger.info("%s done in %.1f s: %s", step, timings[step], estimator.model_data)
        return estimator

    estimator = fit("fit", "model")
    two_hosts = fit("2-host fit", "model-2-hosts", instances=2)  # algo-1-*, algo-2-*: one model
    scripted = fit(  # script mode: sagemaker_program + sagemaker_submit_directory
        "script-mode fit",
        "script-model",
        entry_point="train_script.py",
        source_dir=str(HERE / "script"),
        hyperparameters={"n_estimators": 20, "max_depth": 3},
    )

    started = time.monotonic()
    predictor = estimator.deploy(1, settings.instance_type, wait=False)
    timings["deploy"] = time.monotonic() - started
    text = settings.payload.read_text(encoding="utf-8").splitlines()
    rows = [[float(v) for v in row] for row in csv.reader(text) if row]
    predictor.serializer, predictor.deserializer = CSVSerializer(), CSVDeserializer()
    as_csv = predictor.predict(rows)
    predictor.serializer, predictor.deserializer = JSONSerializer(), JSONDeserializer()
    as_json = predictor.predict(seed.json_request(rows))
    predictor.delete_model()
    predictor.delete_endpoint()
    logger.info("endpoint: csv %s, json %s", as_csv, json.dumps(as_json))

    started = time.monotonic()
    session.config = {"local": {**local, "serving_port": settings.transform_port}}
    transform_in = sdk_support.batch_input(settings.data_dir, out / "batch" / "validation.csv")
    transformer = estimator.transformer(
        1,
        settings.instance_type,
        strategy="MultiRecord",
        assemble_with="Line",
        accept="text/csv",
        output_path=f"file://{out / 'transform'}",
    )
    transformer.transform(
        f"file://{transform_in.parent}", content_type="text/csv", split_type="Line", wait=False
    )
    transformer.delete_model()
    timings["transform"] = time.monotonic() - started
    transformed = out / "transform" / f"{transform_in.name}.out"
    lines = [x for x in transformed.read_text(encoding="utf-8").splitlines() if x.strip()]
    logger.info("batch transform: %d predictions in %s", len(lines), transformed)

    predictions = {"text/csv": as_csv, "application/json": as_json}
    predictions_json = out / "predictions.json"
    predictions_json.write_text(json.dumps(predictions, indent=2) + "\n", encoding="utf-8")
    return {
        "model_data": str(estimator.model_data),
        "script_model_data": str(scripted.model_data),
        "two_hosts_model_data": str(two_hosts.model_data),
        "endpoint_predictions": str(predictions_json),
        "transform_output": str(transformed),
        "transform_rows": len(lines),
        "endpoint_rows": len(as_csv),
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }


Workflow = Callable[[Settings, Path], dict[str, Any]]


def main(argv: list[str] | None = None) -> int:
    return guarded(parse_args(argv), run)


def guarded(settings: Settings, workflow: Workflow) -> int:
    """Run `workflow` under the socket guard, the hard timeout and signal cleanup.

    Shared by this script (SDK v2) and local_mode_v3.py; `workflow` imports its SDK itself.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    guard = netguard.install()
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("model", "script-model", "transform", "batch"):
        shutil.rmtree(settings.out_dir / stale, ignore_errors=True)
    container_root = Path(tempfile.mkdtemp(prefix="sagemaker-local-", dir=settings.out_dir))
    config_file = container_root / "sagemaker-config.yaml"  # JSON is valid YAML
    config_file.write_text(json.dumps(sdk_support.TELEMETRY_OPT_OUT) + "\n", encoding="utf-8")
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(sdk_support.sdk_environment(config_file))

    def clean_up() -> None:
        removed = sdk_support.remove_containers(container_root)
        shutil.rmtree(container_root, ignore_errors=True)
        logger.info("removed %d container(s) and %s", len(removed), container_root)

    aborting = threading.Event()

    def abort(code: int, reason: str) -> None:
        """Clean up and exit at once: the SDK swallows SystemExit and KeyboardInterrupt raised
        inside its telemetry-decorated calls (a `return` in a `finally`), and a thread of its
        may still wait on a container, so an exception cannot be relied on to stop it."""
        aborting.set()
        logger.error("%s: removing containers and exiting %d", reason, code)
        sdk_support.kill_children()  # no docker-compose may create a container after the sweep
        clean_up()
        time.sleep(1.0)  # a create request already sent to the daemon: sweep once more
        clean_up()
        logging.shutdown()
        os._exit(code)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        abort(128 + signum, signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    watchdog = threading.Timer(
        settings.timeout, abort, (TIMEOUT_EXIT, f"hard timeout: {settings.timeout:.0f} s passed")
    )
    watchdog.daemon = True
    watchdog.start()
    logger.info("SDK local mode with image %s -> %s", settings.image, settings.out_dir)
    try:
        summary = workflow(settings, container_root)  # an SDK error: traceback, exit 1
    except BaseException:
        if aborting.is_set():  # the SDK failed because the watchdog is killing its containers:
            threading.Event().wait()  # let the watchdog finish and exit with its own code
        raise
    finally:
        clean_up()  # the watchdog stays armed: it ends a process an SDK thread keeps alive
    summary["refused_connections"] = guard.refused
    (settings.out_dir / "summary.json").write_text(
        json.dumps(summary, indent=2) + "\n", encoding="utf-8"
    )
    if guard.refused:
        logger.error("netguard refused %d connection(s): %s", len(guard.refused), guard.refused)
        return GUARD_EXIT
    logger.info("no connection beyond loopback; summary: %s", json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
