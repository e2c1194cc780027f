"""The demo's drift step: the endpoint watches its traffic against the training baseline.

1. `docker run IMAGE serve` on the trained model (its baseline came out of `train`).
2. POST the test set, 10 rows per request: GET /monitoring must show no feature alarm.
3. POST a copy with SHIFTED columns moved by 3 standard deviations: the alarms must name
   exactly those features, and the container logs a "Drift alarm" line for each.
4. The same traffic, written as SageMaker data-capture JSONL, goes through the offline
   report (boostbox.monitoring.offline): its drift section must equal the endpoint's, and
   it saves constraint_violations.json and drift.png.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import demo_docker
import devtools
import numpy as np
import requests

from boostbox.monitoring import offline

logger = logging.getLogger(__name__)

ROWS_PER_REQUEST = 10


def feature_alarms(report: dict[str, Any]) -> list[str]:
    return [c["name"] for c in report["drift"]["features"] if c["drift"]]


def shifted_copy(x: np.ndarray, columns: tuple[int, ...]) -> np.ndarray:
    moved = x.copy()
    for column in columns:
        moved[:, column] += 3 * x[:, column].std()
    return moved


def _entry(data: str, content_type: str, mode: str) -> dict[str, str]:
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": "CSV"}


def send(base: str, rows: np.ndarray, captured: list[dict[str, Any]]) -> None:
    """CSV requests of ROWS_PER_REQUEST rows; each recorded as a data-capture record."""
    for start in range(0, len(rows), ROWS_PER_REQUEST):
        chunk = rows[start : start + ROWS_PER_REQUEST]
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in chunk)
        answer = requests.post(
            f"{base}/invocations", data=body, headers={"Content-Type": "text/csv"}, timeout=30
        )
        answer.raise_for_status()
        captured.append(
            {
                "captureData": {
                    "endpointInput": _entry(body, "text/csv", "INPUT"),
                    "endpointOutput": _entry(answer.text, answer.headers["Content-Type"], "OUTPUT"),
                },
                "eventMetadata": {
                    "eventId": f"demo-{len(captured)}",
                    "inferenceTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
                "eventVersion": "0",
            }
        )


def monitoring(base: str, rows: int, timeout: float = 15.0) -> dict[str, Any]:
    """GET /monitoring once it has counted `rows` rows (each worker bins its buffered rows
    at least once a second, so the merged counts can lag a moment behind the requests)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.get(f"{base}/monitoring", timeout=10)
        answer.raise_for_status()
        report = dict(answer.json())
        if report["drift"]["rows"] >= rows or time.monotonic() > deadline:
            return report
        time.sleep(0.2)


def write_capture(folder: Path, records: list[dict[str, Any]]) -> Path:
    """SageMaker's layout: <endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl."""
    hour = folder / "demo-endpoint" / "AllTraffic" / datetime.now(UTC).strftime("%Y/%m/%d/%H")
    hour.mkdir(parents=True, exist_ok=True)
    path = hour / "capture.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def run(
    docker: demo_docker.Docker,
    model_dir: Path,
    test: np.ndarray,
    shifted: tuple[int, ...],
    out: Path,
    *,
    startup_timeout: float,
) -> dict[str, Path]:
    """Steps 1-4 above; RuntimeError when an alarm is missing, extra, or the reports differ."""
    base, name = docker.serve(
        model_dir,
        port=devtools.free_port(),
        env={},
        role="monitored",
        startup_timeout=startup_timeout,
    )
    captured: list[dict[str, Any]] = []
    send(base, test, captured)
    clean = monitoring(base, len(test))
    logger.info(
        "drift: test set, %d rows: feature alarms %s (max L-inf %.3f)",
        clean["drift"]["rows"],
        feature_alarms(clean) or "none",
        max(c["linf_simple"] for c in clean["drift"]["features"]),
    )
    if feature_alarms(clean):
        raise RuntimeError(f"the test set raised drift alarms: {feature_alarms(clean)}")
    send(base, shifted_copy(test, shifted), captured)
    drifted = monitoring(base, 2 * len(test))
    expected = [f"f{c}" for c in shifted]
    logger.info("drift: + shifted copy of %s: alarms %s", expected, drifted["drift"]["alarms"])
    if feature_alarms(drifted) != expected:
        raise RuntimeError(f"expected alarms on {expected}, got {feature_alarms(drifted)}")
    alarm_lines = [line for line in docker.logs(name).splitlines() if "Drift alarm" in line]
    for line in alarm_lines:
        logger.info("endpoint log | %s", line)
    docker.remove(name)

    capture = out / "capture"
    write_capture(capture, captured)
    outcome = offline.run(model_dir, capture, out / "monitoring")
    if outcome.report["drift"] != drifted["drift"]:
        raise RuntimeError("the offline report differs from the endpoint's /monitoring")
    logger.info("drift: offline report of %d capture records agrees", len(captured))
    return {
        "data capture": capture,
        "drift report": outcome.files["report"],
        "violations": outcome.files["violations"],
        "drift plot": outcome.files.get("plot", out / "monitoring"),
    }
