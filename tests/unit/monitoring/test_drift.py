"""Drift decisions: traffic like the training data raises nothing, a shifted feature raises
exactly its own alarm, and alarms are logged once per feature per window."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from boostbox.monitoring import report
from boostbox.monitoring.baseline import Reference
from boostbox.monitoring.drift import C_ALPHA, distance
from boostbox.monitoring.service import Monitor
from boostbox.serving.predictor import Predictor
from tests.unit.monitoring.conftest import NUM_FEATURE, draw


def replay(monitor: Monitor, predictor: Predictor, x: np.ndarray, batch: int) -> None:
    for start in range(0, len(x), batch):
        rows = x[start : start + batch]
        monitor.observe(rows, predictor.predict(rows))


@pytest.mark.parametrize("batch", [1, 50, 1000])
def test_traffic_from_the_training_distribution_raises_no_alarm(
    reference: Reference, predictor: Predictor, batch: int
) -> None:
    monitor = Monitor(reference)
    replay(monitor, predictor, draw(2_000, seed=11), batch)
    drift = monitor.report()["drift"]
    assert drift["rows"] == 2_000
    assert drift["alarms"] == []
    assert all(c["linf_simple"] < 0.06 for c in drift["features"] + drift["predictions"])
    assert report.violations(monitor.report()) == {"violations": []}


@pytest.mark.parametrize("feature", [1, 2, 3])
def test_a_shifted_feature_raises_exactly_its_alarm(
    reference: Reference, predictor: Predictor, feature: int
) -> None:
    x = draw(2_000, seed=12)
    x[:, feature] += 1.0
    monitor = Monitor(reference)
    replay(monitor, predictor, x, 100)
    drift = monitor.report()["drift"]
    assert [c["name"] for c in drift["features"] if c["drift"]] == [f"f{feature}"]
    violations = report.violations(monitor.report())["violations"]
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations][0] == (
        f"f{feature}",
        "baseline_drift_check",
    )
    if feature in (1, 2):  # features the model does not use: its predictions do not move
        assert drift["alarms"] == [f"f{feature}"]
        assert len(violations) == 1


def test_a_shift_the_model_depends_on_moves_the_predictions(
    reference: Reference, predictor: Predictor
) -> None:
    x = draw(2_000, seed=13)
    x[:, 0] += 1.5
    monitor = Monitor(reference)
    replay(monitor, predictor, x, 200)
    assert monitor.report()["drift"]["alarms"] == ["f0", "prediction"]


def test_more_missing_values_than_in_training_is_a_completeness_violation(
    reference: Reference, predictor: Predictor
) -> None:
    x = draw(1_000, seed=14)
    x[:500, 2] = np.nan
    monitor = Monitor(reference)
    replay(monitor, predictor, x, 100)
    built = monitor.report()
    f2 = built["drift"]["features"][2]
    assert f2["missing_rate"] == 0.5 and f2["baseline_missing_rate"] == 0.0
    checks = {
        (v["feature_name"], v["constraint_check_type"])
        for v in report.violations(built)["violations"]
    }
    assert ("f2", "completeness_check") in checks


def test_alarm_is_logged_once_per_feature_per_window(
    reference: Reference, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    monitor = Monitor(reference, window=60, clock=lambda: now[0])
    x = draw(1_000, seed=15)
    x[:, 2] += 2.0
    monitor.observe(x, None)
    with caplog.at_level(logging.WARNING):
        monitor.report()
        monitor.report()
        now[0] += 30
        monitor.report()
        assert len([r for r in caplog.records if "'f2'" in r.getMessage()]) == 1
        now[0] += 31
        monitor.report()
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "'f2'" in m]) == 2
    assert not any("'f0'" in m or "'f1'" in m for m in messages)


def test_alarm_check_runs_from_the_request_path(
    reference: Reference, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    monitor = Monitor(reference, clock=lambda: now[0])
    x = draw(500, seed=16)
    x[:, 1] *= 3
    monitor.observe(x, None)
    with caplog.at_level(logging.WARNING):
        monitor.request(0.002, error=False)
        assert not caplog.records  # not due yet
        now[0] += 11
        monitor.request(0.002, error=False)
    assert ["'f1'" in r.getMessage() for r in caplog.records] == [True]


def test_distances() -> None:
    same = np.array([10, 20, 30, 40])
    found = distance(same, same * 3)
    assert found is not None
    assert (found.linf_simple, found.linf_robust, found.psi) == (0.0, 0.0, 0.0)
    moved = distance(np.array([50, 50, 0, 0]), np.array([0, 0, 50, 50]))
    assert moved is not None and moved.linf_simple == 1.0
    assert moved.linf_robust == pytest.approx(1.0 - C_ALPHA * (200 / 10_000) ** 0.5)
    assert moved.psi > 10
    assert distance(same, np.zeros(4)) is None


def test_report_lists_every_feature_even_before_traffic(reference: Reference) -> None:
    built = Monitor(reference).report()
    assert len(built["drift"]["features"]) == NUM_FEATURE
    assert built["drift"]["rows"] == 0
    assert built["drift"]["features"][0]["linf_simple"] is None
    assert built["traffic"] == {"requests": 0, "errors": 0, "latency_ms": {}}
