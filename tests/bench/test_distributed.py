"""bench.distributed's XGBoost-alone reference: bare workers on loopback, 1 vs 2."""

from __future__ import annotations

from bench.distributed import xgboost_alone


def test_xgboost_alone_times_one_and_two_workers() -> None:
    params = {"objective": "binary:logistic", "max_depth": "3", "nthread": "1"}
    result = xgboost_alone(rows=2000, rounds=2, params=params)
    assert result["one_s"] > 0
    assert result["two_s"] > 0
    assert result["speedup"] == result["one_s"] / result["two_s"]
