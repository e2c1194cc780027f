"""GET /monitoring on the app, and the offline report agreeing with it on the same traffic."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from boostbox.config import ServingConfig
from boostbox.monitoring import offline
from boostbox.monitoring.baseline import Reference
from boostbox.monitoring.service import Monitor, open_monitor
from boostbox.serving.app import create_app
from boostbox.serving.predictor import Predictor
from tests.unit.monitoring.conftest import draw


def client(predictor: Predictor, reference: Reference) -> tuple[Monitor, FlaskClient]:
    monitor = Monitor(reference)
    return monitor, create_app(predictor, ServingConfig(), monitor).test_client()


def csv_body(rows: np.ndarray) -> str:
    return "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in rows)


def json_body(rows: np.ndarray) -> str:
    return json.dumps({"instances": [[None if np.isnan(v) else float(v) for v in r] for r in rows]})


def jsonlines_body(rows: np.ndarray) -> str:
    return "\n".join(json.dumps([None if np.isnan(v) else float(v) for v in r]) for r in rows)


def libsvm_body(rows: np.ndarray) -> str:
    return "\n".join(
        " ".join(f"{j}:{float(v)!r}" for j, v in enumerate(r) if not np.isnan(v)) for r in rows
    )


BODIES = {
    "text/csv": (csv_body, "CSV"),
    "application/json": (json_body, "JSON"),
    "application/jsonlines": (jsonlines_body, "BASE64"),
    "text/libsvm": (libsvm_body, "BASE64"),
}
ACCEPTS = ["text/csv", "application/json", "application/jsonlines"]


def capture_entry(data: str | bytes, content_type: str, encoding: str, mode: str) -> dict[str, Any]:
    raw = data.encode() if isinstance(data, str) else data
    text = base64.b64encode(raw).decode() if encoding == "BASE64" else raw.decode()
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def send_and_capture(
    http: FlaskClient, x: np.ndarray, capture: Path, batch: int
) -> list[dict[str, Any]]:
    """POST `x` in batches, rotating content types and Accept; write capture JSONL as
    SageMaker would (hour folders, several files)."""
    records = []
    for i, start in enumerate(range(0, len(x), batch)):
        content_type = list(BODIES)[i % len(BODIES)]
        make, encoding = BODIES[content_type]
        accept = ACCEPTS[i % len(ACCEPTS)]
        body = make(x[start : start + batch])
        answer = http.post(
            "/invocations", data=body, headers={"Content-Type": content_type, "Accept": accept}
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        out_encoding = "CSV" if accept == "text/csv" else "JSON" if i % 2 else "BASE64"
        records.append(
            {
                "captureData": {
                    "endpointInput": capture_entry(body, content_type, encoding, "INPUT"),
                    "endpointOutput": capture_entry(
                        answer.get_data(), answer.content_type, out_encoding, "OUTPUT"
                    ),
                },
                "eventMetadata": {"eventId": f"id-{i}", "inferenceTime": "2026-11-30T12:00:00Z"},
                "eventVersion": "0",
            }
        )
    for part, hour in enumerate(("10", "11", "12")):
        folder = capture / "endpoint" / "AllTraffic" / "2026" / "11" / "30" / hour
        folder.mkdir(parents=True)
        chunk = records[part::3]
        (folder / f"part-{part}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chunk))
    return records


@pytest.mark.parametrize("shift", [None, 2])
def test_online_and_offline_reports_agree(
    predictor: Predictor, reference: Reference, trained: Path, tmp_path: Path, shift: int | None
) -> None:
    x = draw(600, seed=21)
    if shift is not None:
        x[:, shift] += 1.5
    monitor, http = client(predictor, reference)
    records = send_and_capture(http, x, tmp_path / "capture", batch=7)
    online = http.get("/monitoring").get_json()
    outcome = offline.run(trained / "model", tmp_path / "capture", tmp_path / "out")
    assert outcome.skipped == []
    assert outcome.report["drift"] == online["drift"]
    assert online["drift"]["rows"] == 600
    assert outcome.report["traffic"]["requests"] == online["traffic"]["requests"] == len(records)
    assert online["drift"]["alarms"] == ([] if shift is None else [f"f{shift}"])
    saved = json.loads((tmp_path / "out" / "monitoring_report.json").read_text())
    assert saved["drift"] == online["drift"]
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())
    assert [v["feature_name"] for v in violations["violations"]] == online["drift"]["alarms"]
    assert (tmp_path / "out" / "drift.png").stat().st_size > 10_000


def test_monitoring_counts_requests_errors_and_latency(
    predictor: Predictor, reference: Reference
) -> None:
    _, http = client(predictor, reference)
    rows = draw(3, seed=22)
    for _ in range(4):
        assert (
            http.post("/invocations", data=csv_body(rows), content_type="text/csv").status_code
            == 200
        )
    assert http.post("/invocations", data="1,2", content_type="text/csv").status_code == 400
    assert http.post("/invocations", data="x", content_type="image/png").status_code == 415
    report = http.get("/monitoring").get_json()
    assert report["traffic"]["requests"] == 6
    assert report["traffic"]["errors"] == 2
    assert report["drift"]["rows"] == 12
    assert set(report["traffic"]["latency_ms"]) == {"p50", "p90", "p99"}
    assert report["drift"]["predictions"][0]["rows"] == 12


def test_custom_outputs_count_features_but_not_predictions(
    predictor: Predictor, reference: Reference
) -> None:
    _, http = client(predictor, reference)
    headers = {"X-Amzn-SageMaker-Custom-Attributes": "output=contributions"}
    body = csv_body(draw(5, seed=23))
    assert (
        http.post("/invocations", data=body, content_type="text/csv", headers=headers).status_code
        == 200
    )
    drift = http.get("/monitoring").get_json()["drift"]
    assert drift["rows"] == 5 and drift["predictions"][0]["rows"] == 0


def test_prometheus_text(predictor: Predictor, reference: Reference) -> None:
    _, http = client(predictor, reference)
    http.post("/invocations", data=csv_body(draw(20, seed=24)), content_type="text/csv")
    answer = http.get("/monitoring?format=prometheus")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=0.0.4")
    lines = answer.get_data(as_text=True).splitlines()
    samples = {line.split(" ")[0]: line.split(" ")[1] for line in lines if not line.startswith("#")}
    assert samples["boostbox_rows_total"] == "20"
    assert samples["boostbox_requests_total"] == "1"
    assert 'boostbox_feature_linf_simple{feature="f0"}' in samples
    assert 'boostbox_prediction_psi{output="prediction"}' in samples
    assert samples['boostbox_request_duration_seconds_bucket{le="+Inf"}'] == "1"
    assert "boostbox_request_duration_seconds_sum" in samples
    for line in lines:
        if line.startswith("# TYPE"):
            assert line.split()[-1] in {"gauge", "counter", "histogram"}


def test_unknown_format_is_400(predictor: Predictor, reference: Reference) -> None:
    _, http = client(predictor, reference)
    answer = http.get("/monitoring?format=xml")
    assert answer.status_code == 400 and "format" in answer.get_json()["error"]


def test_no_route_without_a_monitor(predictor: Predictor) -> None:
    http = create_app(predictor, ServingConfig()).test_client()
    assert http.get("/monitoring").status_code == 404


def test_open_monitor_is_off_when_disabled_or_without_baseline(
    trained: Path, tmp_path: Path
) -> None:
    assert open_monitor(trained / "model", False, 3600, None) is None
    assert open_monitor(tmp_path, True, 3600, None) is None
    assert open_monitor(trained / "model", True, 3600, None) is not None


def test_config_reads_the_switch_and_window() -> None:
    assert ServingConfig.from_environ({}).monitoring is True
    config = ServingConfig.from_environ(
        {"BOOSTBOX_MONITORING": "false", "BOOSTBOX_MONITORING_WINDOW": "60"}
    )
    assert (config.monitoring, config.monitoring_window) == (False, 60)
    from boostbox.errors import ConfigError

    with pytest.raises(ConfigError, match="BOOSTBOX_MONITORING"):
        ServingConfig.from_environ({"BOOSTBOX_MONITORING": "maybe"})
