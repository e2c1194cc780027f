"""SageMaker Model Monitor's file formats: statistics.json, constraints.json, violations.

Structures as the Model Monitor developer guide documents them (BYOC statistics and
constraints pages, interpreting violations). Numeric features only: XGBoost's inputs are
numbers, so every feature is `Integral` or `Fractional`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from boostbox.monitoring.sketch import KLL_C, KLL_K, ColumnSummary

DEFAULT_THRESHOLD = 0.1
"""distribution_constraints.comparison_threshold's documented default."""
DEFAULT_METHOD = "Robust"
"""comparison_method: `Robust` alarms on the sample-size corrected L-infinity distance."""
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def inferred_type(summary: ColumnSummary) -> str:
    return "Integral" if summary.integral else "Fractional"


def feature_statistics(summary: ColumnSummary) -> dict[str, Any]:
    """One entry of statistics.json's `features`."""
    return {
        "name": summary.name,
        "inferred_type": inferred_type(summary),
        "numerical_statistics": {
            "common": {"num_present": summary.present, "num_missing": summary.missing},
            "mean": _number(summary.mean),
            "sum": _number(summary.total),
            "std_dev": _number(summary.std),
            "min": _number(summary.minimum),
            "max": _number(summary.maximum),
            "distribution": {
                "kll": {
                    "buckets": [
                        {"lower_bound": low, "upper_bound": high, "count": float(count)}
                        for low, high, count in summary.buckets
                    ],
                    "sketch": {
                        "parameters": {"c": KLL_C, "k": float(KLL_K)},
                        "data": summary.sketch,
                    },
                }
            },
        },
    }


def statistics(features: Sequence[ColumnSummary], rows: int) -> dict[str, Any]:
    """statistics.json: dataset item count and one entry per feature."""
    return {
        "version": 0,
        "dataset": {"item_count": rows},
        "features": [feature_statistics(s) for s in features],
    }


def constraints(
    features: Sequence[ColumnSummary],
    threshold: float = DEFAULT_THRESHOLD,
    method: str = DEFAULT_METHOD,
) -> dict[str, Any]:
    """constraints.json: completeness as observed, non-negativity where no value was negative."""
    entries = []
    for s in features:
        entry: dict[str, Any] = {
            "name": s.name,
            "inferred_type": inferred_type(s),
            "completeness": s.present / s.rows if s.rows else 1.0,
        }
        if s.present:
            entry["num_constraints"] = {"is_non_negative": bool(s.minimum >= 0)}
        entries.append(entry)
    return {
        "version": 0,
        "features": entries,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 0.1,
            "domain_content_threshold": 0.1,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": threshold,
                "comparison_method": method,
                "categorical_comparison_threshold": threshold,
                "categorical_drift_method": "LInfinity",
            },
        },
    }


def drift_violation(feature: str, distance: float, threshold: float) -> dict[str, str]:
    """A `baseline_drift_check` entry of constraint_violations.json (parsers match the
    description with `distance: (.+) exceeds threshold: (.+)`, so it ends with the number)."""
    return {
        "feature_name": feature,
        "constraint_check_type": "baseline_drift_check",
        "description": f"Baseline drift distance: {distance:.6g} exceeds threshold: {threshold:g}",
    }


def completeness_violation(feature: str, observed: float, expected: float) -> dict[str, str]:
    """A `completeness_check` entry: more values missing than the baseline allows."""
    return {
        "feature_name": feature,
        "constraint_check_type": "completeness_check",
        "description": (
            f"Data completeness: {observed:.6g} is below the baseline completeness: {expected:.6g}"
        ),
    }


def violations(entries: list[dict[str, str]]) -> dict[str, Any]:
    return {"violations": entries}
