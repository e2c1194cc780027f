"""Column summaries: the KLL compactor array, Model Monitor's buckets, the serving bins."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from boostbox.monitoring.baseline import Reference
from boostbox.monitoring.recorder import PENDING_REQUESTS, Layout
from boostbox.monitoring.service import Monitor
from boostbox.monitoring.sketch import (
    KLL_C,
    KLL_K,
    kll_capacity,
    kll_from_sorted,
    kll_weight,
    sparse_column_blocks,
    summarize,
    summarize_matrix,
)
from tests.unit.monitoring.conftest import TRAIN_ROWS, draw


@pytest.mark.parametrize("n", [0, 1, 7, 4096, 5_001, 300_000])
def test_kll_array_is_a_valid_sketch(n: int) -> None:
    values = np.sort(np.random.default_rng(n).normal(size=n))
    data = kll_from_sorted(values)
    assert kll_weight(data) == n
    levels = len(data)
    for height, level in enumerate(data):
        assert level == sorted(level)
        assert len(level) <= kll_capacity(height, levels)
        if height < levels - 1:
            assert len(level) <= 1  # only the odd item a compaction left behind
    assert len(data[-1]) <= kll_capacity(levels - 1, levels, KLL_K, KLL_C)


def test_kll_ranks_are_close_to_exact() -> None:
    values = np.sort(np.random.default_rng(3).gamma(2.0, size=200_000))
    data = kll_from_sorted(values)
    items = np.concatenate([np.asarray(level) for level in data])
    weights = np.concatenate([np.full(len(level), 2.0**h) for h, level in enumerate(data)])
    order = np.argsort(items)
    cdf = np.cumsum(weights[order]) / weights.sum()
    exact = np.searchsorted(values, items[order], side="right") / len(values)
    assert np.max(np.abs(cdf - exact)) < 0.005


def test_model_monitor_buckets_are_equal_width_and_cover_every_value() -> None:
    values = np.random.default_rng(4).uniform(2.0, 12.0, size=10_000).astype(np.float32)
    summary = summarize("x", values, rows=10_050)
    assert len(summary.buckets) == 10
    assert sum(count for _, _, count in summary.buckets) == 10_000
    widths = [high - low for low, high, _ in summary.buckets]
    assert max(widths) - min(widths) < 1e-9
    assert summary.buckets[0][0] == summary.minimum
    assert summary.buckets[-1][1] == summary.maximum
    assert summary.missing == 50


def test_integer_columns_are_integral_with_one_bin_per_value() -> None:
    values = np.random.default_rng(5).integers(0, 3, size=3_000).astype(np.float32)
    summary = summarize("x", values, rows=3_000)
    assert summary.integral
    assert list(summary.edges) == [0.0, 1.0, 2.0]
    assert summary.counts[0] == 0
    assert summary.counts.sum() == 3_000


def test_absent_sparse_entries_are_missing() -> None:
    dense = np.array([[1.0, np.nan], [np.nan, 2.0], [3.0, 4.0]], dtype=np.float32)
    sparse = sp.csr_matrix(np.nan_to_num(dense))
    for matrix in (dense, sparse):
        first, second = summarize_matrix(matrix, ["a", "b"])
        assert (first.present, first.missing) == (2, 1)
        assert (second.present, second.missing, second.maximum) == (2, 1, 4.0)


def test_serving_bins_the_training_data_exactly_as_the_baseline(reference: Reference) -> None:
    """Replaying the training rows through the recorder gives the reference's counts, and
    small requests (buffered) bin exactly as one large batch."""
    x = draw(TRAIN_ROWS, seed=1)
    layout = Layout.of(reference)
    large = Monitor(reference)
    for start in range(0, TRAIN_ROWS, 5_000):
        large.observe(x[start : start + 5_000], None)
    total = large.totals()
    for index, column in enumerate(reference.features):
        assert np.array_equal(layout.column_counts(total, index, column), column.counts)
        assert layout.column_missing(total, index) == column.missing
    head = x[: 2 * PENDING_REQUESTS * 8 + 5]  # fills the pending list twice
    small = Monitor(reference)
    for start in range(0, len(head), 8):
        small.observe(head[start : start + 8], None)
    small.observe(head[:1], None)
    single = Monitor(reference)
    single.observe(head, None)
    single.observe(head[:1], None)
    assert np.array_equal(small.totals(), single.totals())


@pytest.mark.parametrize("block", [1, 50, 1 << 23])
def test_sparse_columns_gathered_in_blocks_are_the_csc_columns(block: int) -> None:
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(200, 9)).astype(np.float32)
    dense[rng.random(dense.shape) < 0.6] = 0
    csr, csc = sp.csr_matrix(dense), sp.csc_matrix(dense)
    columns = [column for part in sparse_column_blocks(csr, block) for column in part]
    assert len(columns) == 9
    for j, column in enumerate(columns):
        np.testing.assert_array_equal(column, csc.data[csc.indptr[j] : csc.indptr[j + 1]])
    names = [f"f{j}" for j in range(9)]
    pairs = zip(summarize_matrix(csr, names), summarize_matrix(csc, names), strict=True)
    for ours, theirs in pairs:
        assert ours.present == theirs.present and ours.maximum == theirs.maximum
