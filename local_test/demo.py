"""The seed workflow end to end on data that ships with scikit-learn, with no AWS account.

split 80/20 and 67/33 -> train (`docker run IMAGE train`, the seed's hyperparameters as
strings) -> batch transform of the test set (`SAGEMAKER_BATCH=true serve`, split by line,
MultiRecord, as a SageMaker transform job does) -> endpoint (`docker run IMAGE serve`),
a few predictions as CSV and JSON -> metrics and a predicted-vs-actual plot -> every
container removed, also on error, Ctrl-C or SIGTERM.

    .venv/bin/python local_test/demo.py [--classification] [--image IMAGE] [--out-dir DIR]

Regression: load_diabetes, objective reg:linear, RMSE/MAE. Classification: load_breast_cancer,
objective binary:logistic, accuracy/AUC. Output: local_test/out/<kind>/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import demo_data
import demo_docker
import devtools
import matplotlib
import numpy as np
import requests
import seed

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after matplotlib.use(): the backend is chosen first

logger = logging.getLogger("demo")

HERE = Path(__file__).resolve().parent
ENDPOINT_ROWS = 5


@dataclass(frozen=True)
class Settings:
    """Everything the demo reads from its arguments and the environment, in one place."""

    image: str
    """--image, else $BOOSTBOX_IMAGE, else boostbox:latest."""
    out_dir: Path
    """--out-dir, else local_test/out/<regression|classification>."""
    classification: bool
    port: int
    """Host port for the serving containers; 0 picks a free loopback port."""
    startup_timeout: float
    train_timeout: float

    @property
    def kind(self) -> str:
        return "classification" if self.classification else "regression"


def parse_args(argv: list[str] | None, environ: Mapping[str, str] = os.environ) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classification", action="store_true", help="breast cancer, binary")
    parser.add_argument("--image", default=environ.get("BOOSTBOX_IMAGE") or "boostbox:latest")
    parser.add_argument("--out-dir", type=Path, default=None)
    parser.add_argument("--port", type=int, default=0, help="host port (0: any free one)")
    parser.add_argument("--startup-timeout", type=float, default=120.0, help="seconds")
    parser.add_argument("--train-timeout", type=float, default=600.0, help="seconds")
    args = parser.parse_args(argv)
    kind = "classification" if args.classification else "regression"
    out_dir = (args.out_dir or HERE / "out" / kind).resolve()
    return Settings(
        image=args.image,
        out_dir=out_dir,
        classification=args.classification,
        port=args.port,
        startup_timeout=args.startup_timeout,
        train_timeout=args.train_timeout,
    )


def _parse_csv_predictions(text: str) -> np.ndarray:
    return np.array([float(line) for line in text.splitlines() if line.strip()])


def metrics(predicted: np.ndarray, actual: np.ndarray, *, classification: bool) -> dict[str, float]:
    if classification:
        from sklearn.metrics import roc_auc_score

        accuracy = float(np.mean((predicted > 0.5) == (actual > 0.5)))
        return {"accuracy": accuracy, "auc": float(roc_auc_score(actual, predicted))}
    error = predicted - actual
    return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}


def plot(
    predicted: np.ndarray, actual: np.ndarray, path: Path, *, title: str, classification: bool
) -> Path:
    """Scatter of predicted vs actual (regression) or score histograms per class (binary)."""
    fig, ax = plt.subplots(figsize=(6, 5))
    if classification:
        for label in (0.0, 1.0):
            scores = predicted[actual == label]
            ax.hist(scores, bins=20, range=(0, 1), alpha=0.6, label=f"actual {label:.0f}")
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("test rows")
        ax.legend()
    else:
        ax.scatter(actual, predicted, s=12, alpha=0.7)
        low, high = (
            float(min(actual.min(), predicted.min())),
            float(max(actual.max(), predicted.max())),
        )
        ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("actual")
        ax.set_ylabel("predicted")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def endpoint_predictions(base: str, rows: np.ndarray) -> dict[str, object]:
    """A few rows as text/csv and as application/json, the way a client would invoke."""
    csv_body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows)
    as_csv = requests.post(
        f"{base}/invocations",
        data=csv_body,
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
        timeout=30,
    )
    as_csv.raise_for_status()
    as_json = requests.post(
        f"{base}/invocations",
        json=seed.json_request([[float(v) for v in row] for row in rows]),
        headers={"Accept": "application/json"},
        timeout=30,
    )
    as_json.raise_for_status()
    return {"text/csv": as_csv.text.splitlines(), "application/json": as_json.json()}


def run(settings: Settings, docker: demo_docker.Docker) -> dict[str, Path]:
    """The workflow; returns the artifacts by name. Containers are removed by the caller."""
    out = settings.out_dir
    opt_ml, batch = out / "opt_ml", out / "batch"
    for stale in (opt_ml, batch):
        shutil.rmtree(stale, ignore_errors=True)

    data = demo_data.split(demo_data.load(classification=settings.classification))
    hps = seed.hyperparameters(classification=settings.classification)
    demo_data.write_opt_ml(opt_ml, data, hps)
    logger.info("hyperparameters: %s", json.dumps(hps))

    started = time.monotonic()
    log = docker.train(opt_ml, timeout=settings.train_timeout)
    for line in log.splitlines()[-5:]:
        logger.info("train | %s", line)
    model_dir = opt_ml / "model"
    if not any(model_dir.iterdir()):
        raise RuntimeError(f"training succeeded but {model_dir} is empty")
    files = ", ".join(sorted(p.name for p in model_dir.iterdir()))
    logger.info("trained in %.1f s: %s", time.monotonic() - started, files)

    test_csv = demo_data.write_csv(data.test_features, batch / "test.csv")
    labels_csv = demo_data.write_csv(data.test[[demo_data.LABEL]], batch / "test_labels.csv")
    transformed = batch / "test.csv.out"
    port = settings.port or devtools.free_port()
    batch_env = {
        "SAGEMAKER_BATCH": "true",
        "SAGEMAKER_MAX_PAYLOAD_IN_MB": "6",
        "SAGEMAKER_BATCH_STRATEGY": "MULTI_RECORD",
        "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "1",
    }
    base, name = docker.serve(
        model_dir,
        port=port,
        env=batch_env,
        role="transform",
        startup_timeout=settings.startup_timeout,
    )
    posts = demo_docker.batch_transform(base, test_csv, transformed, content_type="text/csv")
    docker.remove(name)
    predicted = _parse_csv_predictions(transformed.read_text(encoding="utf-8"))
    if len(predicted) != len(data.test):
        raise RuntimeError(f"batch transform gave {len(predicted)} rows for {len(data.test)}")
    logger.info(
        "batch transform: %d rows in %d request(s) -> %s", len(predicted), posts, transformed
    )

    port = settings.port or devtools.free_port()
    base, name = docker.serve(
        model_dir, port=port, env={}, role="endpoint", startup_timeout=settings.startup_timeout
    )
    answers = endpoint_predictions(base, data.test_features.to_numpy()[:ENDPOINT_ROWS])
    docker.remove(name)
    answers["actual"] = data.test_labels[:ENDPOINT_ROWS].tolist()
    endpoint_json = demo_data.write_json(out / "endpoint_predictions.json", answers)
    logger.info("endpoint, first %d test rows: %s", ENDPOINT_ROWS, json.dumps(answers))

    scores = metrics(predicted, data.test_labels, classification=settings.classification)
    summary = {"kind": settings.kind, "test_rows": len(predicted), **scores}
    metrics_json = demo_data.write_json(out / "metrics.json", summary)
    dataset = "load_breast_cancer" if settings.classification else "load_diabetes"
    title = f"{settings.kind}: {dataset} test set, n={len(predicted)}\n" + ", ".join(
        f"{k.upper()} {v:.3f}" for k, v in scores.items()
    )
    png = out / "predicted_vs_actual.png"
    plot(predicted, data.test_labels, png, title=title, classification=settings.classification)
    logger.info("test metrics: %s", ", ".join(f"{k.upper()}={v:.4f}" for k, v in scores.items()))
    return {
        "training data (/opt/ml)": opt_ml,
        "model": model_dir,
        "batch input": test_csv,
        "test labels": labels_csv,
        "batch output": transformed,
        "endpoint predictions": endpoint_json,
        "metrics": metrics_json,
        "plot": png,
    }


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    docker = demo_docker.Docker(settings.image, str(settings.out_dir))
    logger.info("demo (%s) with image %s -> %s", settings.kind, settings.image, settings.out_dir)
    finished = False
    try:
        artifacts = run(settings, docker)
        finished = True
    except (RuntimeError, TimeoutError, requests.RequestException, OSError) as e:
        logger.error("demo failed: %s", e)
        return 1
    except subprocess.CalledProcessError as e:
        logger.error("demo failed: %s: %s", e, e.stderr)
        return 1
    except KeyboardInterrupt:
        logger.warning("interrupted")
        return 130
    finally:
        docker.cleanup(settle=0.0 if finished else 1.0)
        logger.info("removed every container the demo started")
    logger.info("artifacts:")
    for what, path in artifacts.items():
        logger.info("%-22s %s", what, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
