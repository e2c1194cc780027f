"""`python -m boostbox.monitor report`: files written, bad inputs exit 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from boostbox import monitor
from boostbox.monitoring.baseline import BASELINE_FILE
from boostbox.monitoring.capture import CaptureError, payload, predictions


def write_capture(folder: Path, lines: list[str]) -> None:
    hour = folder / "ep" / "AllTraffic" / "2026" / "11" / "30" / "09"
    hour.mkdir(parents=True)
    (hour / "a.jsonl").write_text("".join(line + "\n" for line in lines))


def record(row: str, score: str = "0.5") -> str:
    return json.dumps(
        {
            "eventMetadata": {"eventId": "e", "inferenceTime": "2026-11-30T09:00:00Z"},
            "eventVersion": "0",
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": row,
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": score,
                    "encoding": "CSV",
                },
            },
        }
    )


def test_report_command_writes_its_files(trained: Path, tmp_path: Path) -> None:
    write_capture(tmp_path / "cap", [record("0.1,2,0.3,1,0.5")] * 5 + ["not json", record("1,2")])
    out = tmp_path / "out"
    args = ["report", "--baseline", str(trained / "model"), "--capture", str(tmp_path / "cap")]
    assert monitor.main([*args, "--out", str(out)]) == 0
    report = json.loads((out / "monitoring_report.json").read_text())
    assert report["drift"]["rows"] == 5
    assert report["traffic"]["skipped_records"] == 2
    assert (out / "constraint_violations.json").is_file()
    assert (out / "drift.png").is_file()


def test_baseline_from_a_model_tarball(trained: Path, tmp_path: Path) -> None:
    tarball = tmp_path / "model.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(trained / "model" / BASELINE_FILE, arcname=BASELINE_FILE)
    write_capture(tmp_path / "cap", [record("0.1,2,0.3,1,0.5")])
    args = ["report", "--baseline", str(tarball), "--capture", str(tmp_path / "cap")]
    assert monitor.main([*args, "--out", str(tmp_path / "out")]) == 0


def test_bad_inputs_exit_2(trained: Path, tmp_path: Path) -> None:
    args = ["report", "--baseline", str(tmp_path), "--capture", str(tmp_path)]
    assert monitor.main(args) == 2
    args = ["report", "--baseline", str(trained / "model"), "--capture", str(tmp_path / "nope")]
    assert monitor.main(args) == 2


def test_runs_as_a_module(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "boostbox.monitor", "report", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--capture" in done.stdout


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"data": "1,2", "encoding": "CSV"}, b"1,2"),
        ({"data": '{"a": 1}', "encoding": "JSON"}, b'{"a": 1}'),
        ({"data": "MSwy", "encoding": "BASE64"}, b"1,2"),
    ],
)
def test_payload_encodings(entry: dict[str, str], expected: bytes) -> None:
    assert payload(entry) == expected


def test_payload_rejects_unknown_encodings() -> None:
    with pytest.raises(CaptureError):
        payload({"data": "x", "encoding": "GZIP"})
    with pytest.raises(CaptureError):
        payload({"data": "!!!", "encoding": "BASE64"})


def test_selected_outputs_are_not_read_as_scores() -> None:
    entry = {"observedContentType": "application/json", "encoding": "JSON"}
    scored = predictions({**entry, "data": '{"predictions": [{"score": 0.25}]}'})
    assert scored is not None and scored.tolist() == [[0.25]]
    labelled = {**entry, "data": '{"predictions": [{"predicted_label": 1}]}'}
    assert predictions(labelled) is None
