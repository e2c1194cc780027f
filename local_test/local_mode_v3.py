"""Drive the boostbox image through SageMaker Python SDK v3 local mode, with no AWS account.

1. ModelTrainer(training_image=IMAGE, training_mode=LOCAL_CONTAINER) with the seed's
   hyperparameters: the image's own `train` (algorithm mode).
2. ModelTrainer(source_code=SourceCode(local_test/script, train_script.py)): SDK v3 runs
   /bin/bash on its own sm_train.sh in the image (needs bash, python3 and pip3 on PATH),
   which runs the user script; the script reads the channels with boostbox's readers.
3. A local endpoint serving the script-mode model in serving script mode: the model.tar.gz
   repacked with code/inference.py (only output_fn) and SAGEMAKER_PROGRAM=inference.py, as
   SDK framework models are; invoked with CSV, then deleted.
4. A batch transform of the validation rows with the algorithm-mode model (Transformer with
   `base_transform_job_name`).

Endpoint and transform go through `sagemaker.core.local.LocalSession` (boto-shaped local
SageMaker clients), not ModelBuilder: ModelBuilder in LOCAL_CONTAINER mode `docker pull`s the
image and then only starts the SDK's own model servers (TorchServe, TGI, ...), so it cannot
deploy a custom image locally (shared/SDK-LOCAL-MODE.md). The socket guard, hard timeout,
signal cleanup and fake credentials are local_mode.py's (`guarded`).

    make sdk3-venv   # .venv-sdk3: Python 3.11 + sagemaker==3.27.0, from requirements-sdk3.lock
    .venv-sdk3/bin/python local_test/local_mode_v3.py [--image IMAGE] [--out-dir DIR] \
        [--serving-port N] [--transform-port N] [--timeout SECONDS]

Output (default local_test/out/sdk3-local/): model/model.tar.gz (algorithm mode),
script-model/model.tar.gz (script mode, with code/inference.py), predictions.json,
transform/*.out, summary.json.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import local_mode
import sdk_support
import seed

logger = logging.getLogger("local_mode_v3")

HERE = Path(__file__).resolve().parent
SCRIPT_DIR = HERE / "script"
SCRIPT = "train_script.py"
INFERENCE = "inference.py"


def _channels(settings: local_mode.Settings) -> list[Any]:
    from sagemaker.core.training.configs import InputData

    return [
        InputData(
            channel_name=name, data_source=str(settings.data_dir / name), content_type="text/csv"
        )
        for name in ("train", "validation")
    ]


def train(settings: local_mode.Settings, root: Path, name: str, **extra: Any) -> tuple[Path, float]:
    """One ModelTrainer job in LOCAL_CONTAINER mode; the model.tar.gz it wrote, seconds."""
    from sagemaker.core.training.configs import Compute
    from sagemaker.train import ModelTrainer
    from sagemaker.train.model_trainer import Mode

    job_root = root / name
    job_root.mkdir()
    started = time.monotonic()
    trainer = ModelTrainer(
        training_mode=Mode.LOCAL_CONTAINER,
        training_image=settings.image,
        role=settings.role,
        compute=Compute(instance_type=settings.instance_type, instance_count=1),
        local_container_root=str(job_root),
        base_job_name=f"boostbox-v3-{name}",
        **extra,
    )
    trainer.train(input_data_config=_channels(settings), wait=True, logs=False)
    artifact = job_root / "compressed_artifacts" / "model.tar.gz"
    with tarfile.open(artifact) as tar:  # the exit status is not enough (SDK-LOCAL-MODE.md 5)
        if "xgboost-model" not in tar.getnames():
            raise RuntimeError(f"{name}: {artifact} holds no xgboost-model: {tar.getnames()}")
    return artifact, time.monotonic() - started


def repack(artifact: Path, target: Path) -> Path:
    """model.tar.gz plus code/inference.py: the layout serving script mode finds by default."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(artifact) as source, tarfile.open(target, "w:gz") as out:
        for member in source.getmembers():
            out.addfile(member, source.extractfile(member) if member.isfile() else None)
        out.add(SCRIPT_DIR / INFERENCE, arcname=f"code/{INFERENCE}")
    return target


def create_model(sm: Any, settings: local_mode.Settings, name: str, data: Path, **env: str) -> None:
    container = {"Image": settings.image, "ModelDataUrl": f"file://{data}", "Environment": env}
    sm.create_model(ModelName=name, ExecutionRoleArn=settings.role, PrimaryContainer=container)


def run(settings: local_mode.Settings, container_root: Path) -> dict[str, Any]:
    """The SDK v3 workflow; returns the summary. Imports the SDK: call after the guard is on."""
    os.environ["SAGEMAKER_VALIDATE_ROLE"] = "false"
    from sagemaker.core.local import LocalSession
    from sagemaker.core.training.configs import SourceCode
    from sagemaker.core.transformer import Transformer

    out = settings.out_dir
    timings: dict[str, float] = {}
    algorithm, timings["fit"] = train(
        settings, container_root, "algorithm", hyperparameters=seed.hyperparameters()
    )
    scripted, timings["fit_script"] = train(
        settings,
        container_root,
        "script",
        source_code=SourceCode(source_dir=str(SCRIPT_DIR), entry_script=SCRIPT),
        hyperparameters={"n_estimators": 20, "max_depth": 3},
    )
    (out / "model").mkdir(parents=True, exist_ok=True)
    shutil.copy(algorithm, out / "model" / "model.tar.gz")
    scripted = repack(scripted, out / "script-model" / "model.tar.gz")
    logger.info("fit done in %.1f s, script fit in %.1f s", timings["fit"], timings["fit_script"])

    session = LocalSession()
    local = {"container_root": str(container_root)}
    session.config = {"local": {**local, "serving_port": settings.serving_port}}
    sm, runtime = session.sagemaker_client, session.sagemaker_runtime_client
    endpoint = "boostbox-v3-script"
    create_model(sm, settings, endpoint, scripted, SAGEMAKER_PROGRAM=INFERENCE)
    started = time.monotonic()
    variant = {"VariantName": "all", "ModelName": endpoint, "InitialInstanceCount": 1}
    sm.create_endpoint_config(
        EndpointConfigName=endpoint,
        ProductionVariants=[{**variant, "InstanceType": settings.instance_type}],
    )
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    timings["deploy"] = time.monotonic() - started
    payload = settings.payload.read_text(encoding="utf-8")
    answer = runtime.invoke_endpoint(EndpointName=endpoint, Body=payload, ContentType="text/csv")
    predictions = json.loads(answer["Body"].read())
    sm.delete_endpoint(EndpointName=endpoint)
    sm.delete_endpoint_config(EndpointConfigName=endpoint)
    sm.delete_model(ModelName=endpoint)
    logger.info("script-mode endpoint: %s", predictions)

    model = "boostbox-v3-model"
    create_model(sm, settings, model, out / "model" / "model.tar.gz")

    started = time.monotonic()
    session.config = {"local": {**local, "serving_port": settings.transform_port}}
    transform_in = sdk_support.batch_input(settings.data_dir, out / "batch" / "validation.csv")
    Transformer(
        model_name=model,
        instance_count=1,
        instance_type=settings.instance_type,
        strategy="MultiRecord",
        assemble_with="Line",
        accept="text/csv",
        output_path=f"file://{out / 'transform'}",
        base_transform_job_name="boostbox-v3-transform",
        sagemaker_session=session,
    ).transform(f"file://{transform_in.parent}", content_type="text/csv", split_type="Line")
    sm.delete_model(ModelName=model)
    timings["transform"] = time.monotonic() - started
    transformed = out / "transform" / f"{transform_in.name}.out"
    lines = [x for x in transformed.read_text(encoding="utf-8").splitlines() if x.strip()]
    logger.info("batch transform: %d predictions in %s", len(lines), transformed)

    predictions_json = out / "predictions.json"
    predictions_json.write_text(json.dumps(predictions, indent=2) + "\n", "utf-8")
    return {
        "model_data": str(out / "model" / "model.tar.gz"),
        "script_model_data": str(out / "script-model" / "model.tar.gz"),
        "endpoint_predictions": str(predictions_json),
        "transform_output": str(transformed),
        "transform_rows": len(lines),
        "endpoint_rows": len(predictions["predictions"]),
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }


def main(argv: list[str] | None = None) -> int:
    settings = local_mode.parse_args(
        argv, out_name="sdk3-local", description=__doc__.splitlines()[0]
    )
    for stale in ("script-model",):
        shutil.rmtree(settings.out_dir / stale, ignore_errors=True)
    return local_mode.guarded(settings, run)


if __name__ == "__main__":
    sys.exit(main())
