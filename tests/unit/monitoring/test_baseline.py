"""The baseline files: statistics.json and constraints.json as Model Monitor documents them,
and the reference serving loads."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from boostbox.errors import ModelLoadError
from boostbox.monitoring.baseline import (
    BASELINE_FILE,
    Reference,
    feature_names,
    load_reference,
    write_baseline,
)
from boostbox.monitoring.sketch import kll_weight
from tests.unit.monitoring.conftest import NUM_FEATURE, TRAIN_ROWS

NUMBER = (int, float)


def check_numerical(stats: dict[str, Any]) -> None:
    """numerical_statistics as the developer guide's statistics.json schema lays it out."""
    common = stats["common"]
    assert set(common) == {"num_present", "num_missing"}
    for key in ("mean", "sum", "std_dev", "min", "max"):
        assert isinstance(stats[key], NUMBER), key
    kll = stats["distribution"]["kll"]
    buckets = kll["buckets"]
    assert len(buckets) == 10
    for bucket in buckets:
        assert set(bucket) == {"lower_bound", "upper_bound", "count"}
        assert bucket["lower_bound"] <= bucket["upper_bound"]
    assert sum(b["count"] for b in buckets) == common["num_present"]
    sketch = kll["sketch"]
    assert set(sketch["parameters"]) == {"c", "k"}
    assert all(isinstance(level, list) for level in sketch["data"])
    assert kll_weight(sketch["data"]) == common["num_present"]


def check_statistics(doc: dict[str, Any]) -> None:
    """The documented structure: version, dataset.item_count, features with typed statistics."""
    assert doc["version"] == 0
    assert isinstance(doc["dataset"]["item_count"], int)
    for feature in doc["features"]:
        assert isinstance(feature["name"], str)
        kind = feature["inferred_type"]
        assert kind in {"Integral", "Fractional", "String", "Unknown"}
        if kind in {"Integral", "Fractional"}:
            check_numerical(feature["numerical_statistics"])
        else:
            assert "common" in feature["string_statistics"]


def statistics(trained: Path) -> dict[str, Any]:
    text = (trained / "output" / "data" / "baseline" / "statistics.json").read_text()
    return dict(json.loads(text))


def test_statistics_json_has_the_documented_structure(trained: Path) -> None:
    doc = statistics(trained)
    check_statistics(doc)
    assert doc["dataset"]["item_count"] == TRAIN_ROWS
    assert [f["name"] for f in doc["features"]] == [f"f{j}" for j in range(NUM_FEATURE)]
    types = [f["inferred_type"] for f in doc["features"]]
    assert types == ["Fractional", "Fractional", "Fractional", "Integral", "Fractional"]
    f4 = doc["features"][4]["numerical_statistics"]
    assert f4["common"]["num_missing"] == TRAIN_ROWS - f4["common"]["num_present"] > 0
    f0 = doc["features"][0]["numerical_statistics"]
    assert abs(f0["mean"]) < 0.05 and abs(f0["std_dev"] - 1) < 0.05


# The shape of the SageMaker Python SDK's test baseline (tests/data/monitor/statistics.json):
# version written as 0.0, a String feature with categorical buckets. Written here from the
# documented schema, not copied.
SDK_STYLE_SAMPLE = {
    "version": 0.0,
    "dataset": {"item_count": 3},
    "features": [
        {
            "name": "message",
            "inferred_type": "String",
            "string_statistics": {
                "common": {"num_present": 3, "num_missing": 0},
                "distinct_count": 1.0,
                "distribution": {"categorical": {"buckets": [{"value": "a", "count": 3}]}},
            },
        }
    ],
}


def test_statistics_parse_like_the_sdk_sample(trained: Path) -> None:
    """The same reader (structure check, then the SDK docs' json_normalize of `features`)
    accepts both files and finds the common columns in the same place."""
    ours = statistics(trained)
    for doc in (ours, SDK_STYLE_SAMPLE):
        check_statistics(doc)
    ours_table = pd.json_normalize(ours["features"])
    sample_table = pd.json_normalize(SDK_STYLE_SAMPLE["features"])  # type: ignore[arg-type]
    assert {"name", "inferred_type"} <= set(ours_table.columns) & set(sample_table.columns)
    assert "numerical_statistics.common.num_present" in ours_table.columns
    assert "string_statistics.common.num_present" in sample_table.columns
    assert (ours_table["numerical_statistics.common.num_present"] > 0).all()


def test_constraints_json(trained: Path) -> None:
    doc = json.loads((trained / "output" / "data" / "baseline" / "constraints.json").read_text())
    assert doc["version"] == 0
    comparison = doc["monitoring_config"]["distribution_constraints"]
    assert comparison["comparison_threshold"] == 0.1
    assert comparison["perform_comparison"] == "Enabled"
    by_name = {f["name"]: f for f in doc["features"]}
    assert by_name["f0"]["completeness"] == 1.0
    assert 0.9 < by_name["f4"]["completeness"] < 1.0
    assert by_name["f1"]["num_constraints"]["is_non_negative"] is True  # exponential
    assert by_name["f0"]["num_constraints"]["is_non_negative"] is False


def test_reference_holds_features_and_predictions(reference: Reference, trained: Path) -> None:
    assert [c.name for c in reference.features] == [f"f{j}" for j in range(NUM_FEATURE)]
    assert [c.name for c in reference.predictions] == ["prediction"]
    for column in reference.columns:
        assert column.present + column.missing == TRAIN_ROWS
        assert len(column.edges) <= 19
    assert (trained / "model" / BASELINE_FILE).stat().st_size < 20_000
    again = Reference.from_json(reference.to_json())
    for a, b in zip(again.columns, reference.columns, strict=True):
        assert a.name == b.name and np.array_equal(a.edges, b.edges)
        assert np.array_equal(a.counts, b.counts) and a.missing == b.missing


def test_names_come_from_the_data_else_xgboost_style(tmp_path: Path) -> None:
    assert feature_names(("age", "bmi"), 2) == ["age", "bmi"]
    assert feature_names(None, 3) == ["f0", "f1", "f2"]
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    ref = write_baseline(x, np.zeros(6), ["age", "bmi"], tmp_path / "m", tmp_path / "o")
    assert [c.name for c in ref.features] == ["age", "bmi"]


def test_multiclass_predictions_get_one_column_per_class(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    probabilities = np.random.default_rng(1).dirichlet([1, 1, 1], size=50)
    ref = write_baseline(x, probabilities, None, tmp_path / "m", tmp_path / "o")
    assert [c.name for c in ref.predictions] == ["prediction_0", "prediction_1", "prediction_2"]


def test_all_missing_column_writes_valid_json(tmp_path: Path) -> None:
    x = np.full((10, 2), np.nan, dtype=np.float32)
    x[:, 0] = 1.0
    write_baseline(x, np.zeros(10), None, tmp_path / "m", tmp_path / "o")
    doc = json.loads((tmp_path / "o" / "baseline" / "statistics.json").read_text())
    empty = doc["features"][1]["numerical_statistics"]
    assert empty["common"] == {"num_present": 0, "num_missing": 10}
    assert empty["mean"] is None and not math.isnan(empty["sum"])


def test_a_broken_reference_stops_loading(tmp_path: Path) -> None:
    assert load_reference(tmp_path) is None
    (tmp_path / BASELINE_FILE).write_text('{"features": [{"name": "a", "edges": [2, 1]}]}')
    with pytest.raises(ModelLoadError, match=BASELINE_FILE):
        load_reference(tmp_path)
