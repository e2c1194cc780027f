"""The results table from canned measurements: ratios, targets and missing baselines."""

from __future__ import annotations

from typing import Any

from bench import report


def _point(rps: float, p99: float = 5.0) -> dict[str, Any]:
    return {"rps": rps, "p50_ms": 1.0, "p99_ms": p99}


def test_ratios_and_targets() -> None:
    raw: dict[str, Any] = {
        "stacks": {
            "boostbox": {"points": {"8": _point(3600, p99=12.0)}},
            "floor": {"points": {"8": _point(3500)}},
            "mlserver": {"points": {"8": _point(1200)}},
            "byoc": {"error": "build failed"},
        },
        "inprocess_one_row": {"per_second": 5000.0, "p50_ms": 0.2, "p99_ms": 0.3},
        "batch_inprocess": {
            "rows": {"rows": 1000, "bytes": 270_000, "decoder": "pandas", "total_ms": 4.0}
        },
        "batch_server": {"rows": {"server_ms": 6.0}},
        "image_size_mb": 538.0,
        "cold_start_s": [0.5, 2.5, 0.8],
        "worker_rss_mb": [120.0, 130.0],
    }
    rows = {(r.section, r.metric): r for r in report.all_rows(raw, (8,))}
    ml = rows[("serve 1-row c=8", "throughput x mlserver")]
    assert ml.ratio == 3.0 and ml.met is True
    floor = rows[("serve 1-row c=8", "throughput x floor")]
    assert floor.ratio is not None and abs(floor.ratio - 3600 / 3500) < 1e-9 and floor.met
    assert ("serve 1-row c=8", "throughput x byoc") not in rows  # failed peer: no ratio row
    p99 = rows[("serve 1-row c=8", "boostbox p99 x floor p99")]
    assert p99.ratio == 12.0 / 5.0 and p99.met is False
    assert rows[("batch rows", "server time, 1000 rows, 0.27 MB")].met is False  # 1.5x > 1.3x
    cold = rows[("image", "cold start (docker run serve -> 200 /ping), median")]
    assert cold.value == 0.8 and cold.met is True
    assert rows[("image", "RSS per worker (max, after load)")].met is False  # 130 > 100 MB
    text = report.table(list(rows.values()))
    assert "**NO**" in text and "3.00x" in text


def test_external_memory_rows_are_ratios_to_in_memory() -> None:
    side = {"docker_wall_s": 10.0, "peak_rss_mb": 800.0}
    raw: dict[str, Any] = {
        "training": {
            "external_memory": {
                "in_memory": side,
                "external_memory": {"docker_wall_s": 15.0, "peak_rss_mb": 400.0},
                "slowdown": 1.5,
            }
        }
    }
    rows = {(r.section, r.metric): r for r in report.all_rows(raw, (8,))}
    assert rows[("train csv external_memory", "docker run train wall")].ratio == 1.5
    assert rows[("train csv external_memory", "peak RSS")].ratio == 0.5
    assert report.external_memory_rows({"training": {"csv": {"reference": side}}}) == []


def test_paired_measurements_are_the_baselines_when_present() -> None:
    """The batch ratio uses the in-process reference timed beside each request, and the
    p99 row each side's better round, when the run measured them."""
    raw: dict[str, Any] = {
        "stacks": {
            "boostbox": {"points": {"8": _point(3600, p99=12.0) | {"p99_best_ms": 9.0}}},
            "floor": {"points": {"8": _point(3500, p99=10.0) | {"p99_best_ms": 10.0}}},
        },
        "batch_inprocess": {
            "rows": {"rows": 1000, "bytes": 270_000, "decoder": "pandas", "total_ms": 4.0}
        },
        "batch_server": {"rows": {"server_ms": 6.0, "reference_ms": 5.0}},
    }
    rows = {(r.section, r.metric): r for r in report.all_rows(raw, (8,))}
    batch = rows[("batch rows", "server time, 1000 rows, 0.27 MB")]
    assert batch.baseline_value == 5.0 and batch.ratio == 1.2 and batch.met is True
    assert "paired" in batch.baseline
    p99 = rows[("serve 1-row c=8", "boostbox p99 x floor p99")]
    assert p99.ratio == 0.9 and p99.met is True
