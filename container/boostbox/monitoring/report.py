"""The monitoring report: store totals vs the reference, as JSON, Prometheus text or violations.

`build` is the one function both GET /monitoring and the offline report call, so the same
traffic gives the same `drift` section online and offline. `traffic` (requests, errors,
latency) is what only a live endpoint knows; offline it counts capture records.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from boostbox.monitoring import modelmonitor
from boostbox.monitoring.baseline import ColumnReference, Reference
from boostbox.monitoring.drift import distance
from boostbox.monitoring.recorder import (
    ERRORS,
    LATENCY_EDGES,
    LATENCY_MICROSECONDS,
    REQUESTS,
    ROWS,
    Layout,
    latency_percentiles,
)

PERCENTILES = (0.5, 0.9, 0.99)


def _column(
    reference: Reference, layout: Layout, total: np.ndarray, index: int, column: ColumnReference
) -> dict[str, Any]:
    live = layout.column_counts(total, index, column)
    missing = layout.column_missing(total, index)
    seen = int(live.sum()) + missing
    base_rows = column.present + column.missing
    found = distance(column.counts, live)
    entry: dict[str, Any] = {
        "name": column.name,
        "rows": seen,
        "missing_rate": missing / seen if seen else None,
        "baseline_missing_rate": column.missing / base_rows if base_rows else None,
        "linf_simple": None,
        "linf_robust": None,
        "psi": None,
        "drift": False,
    }
    if found is not None:
        entry.update(
            linf_simple=round(found.linf_simple, 6),
            linf_robust=round(found.linf_robust, 6),
            psi=round(found.psi, 6),
            drift=found.value(reference.method) > reference.threshold,
        )
    return entry


def build(reference: Reference, total: np.ndarray) -> dict[str, Any]:
    """The report for summed counters `total` (a store row's layout)."""
    layout = Layout.of(reference)
    columns = [_column(reference, layout, total, i, c) for i, c in enumerate(reference.columns)]
    features = columns[: layout.features]
    predictions = columns[layout.features :]
    counters = layout.counters
    histogram = total[layout.latency : layout.latency + len(LATENCY_EDGES) + 1]
    return {
        "drift": {
            "threshold": reference.threshold,
            "method": reference.method,
            "baseline_rows": reference.rows,
            "rows": int(total[counters + ROWS]),
            "alarms": [c["name"] for c in columns if c["drift"]],
            "features": features,
            "predictions": predictions,
        },
        "traffic": {
            "requests": int(total[counters + REQUESTS]),
            "errors": int(total[counters + ERRORS]),
            "latency_ms": latency_percentiles(histogram, PERCENTILES),
        },
    }


def violations(report: dict[str, Any]) -> dict[str, Any]:
    """constraint_violations.json for a report: drift and completeness per feature."""
    drift = report["drift"]
    threshold, method = drift["threshold"], drift["method"]
    entries = []
    for column in drift["features"] + drift["predictions"]:
        if column["drift"]:
            value = column["linf_simple" if method.lower() == "simple" else "linf_robust"]
            entries.append(modelmonitor.drift_violation(column["name"], value, threshold))
        expected, observed = column["baseline_missing_rate"], column["missing_rate"]
        if expected is not None and observed is not None and observed > expected + threshold:
            entries.append(
                modelmonitor.completeness_violation(column["name"], 1 - observed, 1 - expected)
            )
    return modelmonitor.violations(entries)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _gauges(out: list[str], name: str, help_text: str, samples: list[tuple[str, Any]]) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} gauge")
    for labels, value in samples:
        out.append(f"{name}{{{labels}}} {'NaN' if value is None else float(value):g}")


def prometheus(report: dict[str, Any], total: np.ndarray, reference: Reference) -> str:
    """The report in Prometheus' text exposition format (version 0.0.4)."""
    drift, traffic = report["drift"], report["traffic"]
    out: list[str] = []
    for kind in ("features", "predictions"):
        key = "feature" if kind == "features" else "output"
        prefix = f"boostbox_{'feature' if kind == 'features' else 'prediction'}"
        cols = drift[kind]
        for metric, text in (
            ("linf_simple", "L-infinity CDF distance to the training baseline"),
            ("linf_robust", "L-infinity distance minus the KS critical value"),
            ("psi", "population stability index against the training baseline"),
            ("missing_rate", "share of missing values"),
        ):
            samples = [(f'{key}="{_label(c["name"])}"', c[metric]) for c in cols]
            _gauges(out, f"{prefix}_{metric}", text, samples)
        samples = [(f'{key}="{_label(c["name"])}"', int(c["drift"])) for c in cols]
        _gauges(out, f"{prefix}_drift_alarm", "1 when the distance exceeds the threshold", samples)
    for name, value, text in (
        ("boostbox_rows_total", drift["rows"], "rows served"),
        ("boostbox_requests_total", traffic["requests"], "invocations"),
        ("boostbox_request_errors_total", traffic["errors"], "invocations answered 4xx/5xx"),
    ):
        out += [f"# HELP {name} {text}", f"# TYPE {name} counter", f"{name} {value}"]
    layout = Layout.of(reference)
    histogram = total[layout.latency : layout.latency + len(LATENCY_EDGES) + 1]
    name = "boostbox_request_duration_seconds"
    out += [f"# HELP {name} invocation latency", f"# TYPE {name} histogram"]
    cumulative = np.cumsum(histogram)
    for edge, count in zip(LATENCY_EDGES, cumulative[:-1], strict=True):
        out.append(f'{name}_bucket{{le="{edge:.6g}"}} {int(count)}')
    out.append(f'{name}_bucket{{le="+Inf"}} {int(cumulative[-1])}')
    out.append(f"{name}_sum {total[layout.counters + LATENCY_MICROSECONDS] / 1e6:.6f}")
    out.append(f"{name}_count {int(cumulative[-1])}")
    return "\n".join(out) + "\n"
