"""The benchmark harness end to end in seconds, so it cannot rot between full `make bench` runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.bench
@pytest.mark.container
def test_smoke_run_writes_a_table_and_results(image: str, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "BOOSTBOX_IMAGE": image, "PYTHONPATH": str(ROOT / "local_test")},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "| serve 1-row c=1 |" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["failed"] == []
    stacks = result["raw"]["stacks"]
    assert set(stacks) == {"boostbox", "floor"}
    for stack in stacks.values():
        for point in stack["points"].values():
            assert point["requests"] > 0
            assert point["errors"] == 0
    assert stacks["boostbox"]["check"]["abs_err"] < 1e-4
    metrics = {row["metric"] for row in result["rows"]}
    assert {"throughput x floor", "image size", "RSS per worker (max, after load)"} <= metrics
    assert result["raw"]["batch_server"]["rows"]["rows"] == 1000
