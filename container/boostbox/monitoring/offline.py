"""The offline report: a baseline and a data-capture folder -> Model Monitor's violations file,
the same JSON report GET /monitoring gives for that traffic, and a PNG.

Writes into `out`: constraint_violations.json, monitoring_report.json, drift.png (when
matplotlib is installed).
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boostbox.errors import UserError
from boostbox.monitoring import plot
from boostbox.monitoring import report as reports
from boostbox.monitoring.baseline import BASELINE_FILE, Reference, feature_names
from boostbox.monitoring.capture import read_capture
from boostbox.monitoring.modelmonitor import VIOLATIONS_FILE
from boostbox.monitoring.service import Monitor

logger = logging.getLogger(__name__)

REPORT_FILE = "monitoring_report.json"
PLOT_FILE = "drift.png"


def read_reference(path: Path) -> Reference:
    """The reference from a model folder, the file itself, or a model.tar.gz."""
    try:
        if path.is_dir():
            path = path / BASELINE_FILE
        if path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path) as archive:
                member = next(m for m in archive.getmembers() if Path(m.name).name == BASELINE_FILE)
                handle = archive.extractfile(member)
                text = io.TextIOWrapper(handle, encoding="utf-8").read() if handle else ""
        else:
            text = path.read_text(encoding="utf-8")
        return Reference.from_json(text)
    except StopIteration as e:
        raise UserError(f"{path} holds no {BASELINE_FILE}.") from e
    except (OSError, ValueError, KeyError, TypeError, tarfile.TarError) as e:
        raise UserError(f"Baseline {path} cannot be read: {e}") from e


@dataclass(frozen=True)
class Outcome:
    report: dict[str, Any]
    files: dict[str, Path]
    skipped: list[str]


def run(baseline: Path, capture: Path, out: Path, top: int = 6) -> Outcome:
    """Replay the captured traffic through a Monitor and write the three outputs."""
    reference = read_reference(baseline)
    if not capture.is_dir():
        raise UserError(f"Capture folder {capture} does not exist.")
    monitor = Monitor(reference)
    skipped: list[str] = []
    width = len(reference.features)
    names = tuple(c.name for c in reference.features)
    named = names if names != tuple(feature_names(None, width)) else None  # f0..: by position
    for captured in read_capture(capture, skipped, named):
        if not monitor.observe(captured.matrix, captured.predictions):
            found = captured.matrix.shape[1]
            skipped.append(f"a record with {found} columns (the baseline has {width} features)")
            continue
        monitor.recorder.request(None, error=False)
    for message in skipped:
        logger.warning("Skipped %s", message)
    total = monitor.totals()
    report = reports.build(reference, total)
    report["traffic"]["skipped_records"] = len(skipped)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "violations": _dump(out / VIOLATIONS_FILE, reports.violations(report)),
        "report": _dump(out / REPORT_FILE, report),
    }
    if report["drift"]["rows"] == 0:
        logger.warning("No readable capture records under %s: nothing to compare.", capture)
    elif plot.available():
        files["plot"] = plot.save(reference, total, report, out / PLOT_FILE, top)
    else:
        logger.info("matplotlib is not installed: no %s (pip install boostbox[plot]).", PLOT_FILE)
    return Outcome(report, files, skipped)


def _dump(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path
