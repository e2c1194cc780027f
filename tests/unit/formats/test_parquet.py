"""formats.parquet: the row counts a footer claims are checked before anything is read
(pyarrow allocates for the claimed rows: 4 GiB for a 3-row file claiming 2e9)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from boostbox.errors import ParseError
from boostbox.formats import parquet
from tests.parquet_footer import claim_rows


def small(rows: int = 3, row_group_size: int | None = None) -> bytes:
    buffer = io.BytesIO()
    table = pa.table({"label": list(range(rows)), "x": [0.5] * rows})
    pq.write_table(table, buffer, row_group_size=row_group_size)
    return buffer.getvalue()


@pytest.mark.parametrize("groups", [1, 3])
def test_claim_rows_rewrites_only_the_row_counts(groups: int) -> None:
    data = small(6, row_group_size=6 // groups)
    assert claim_rows(small(6), 6) == small(6)  # the same count: the same bytes
    claimed = pq.ParquetFile(io.BytesIO(claim_rows(data, 5_000_000_000))).metadata
    assert claimed.num_rows == 5_000_000_000
    assert [claimed.row_group(i).num_rows for i in range(groups)] == [5_000_000_000] * groups


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        (3_000_000_000, "its metadata claims 3,000,000,000 rows; boostbox reads at most"),
        (parquet.MAX_ROWS + 1, f"claims {parquet.MAX_ROWS + 1:,} rows"),
        (-5, "its metadata claims -5 rows (a corrupt footer)."),
        (2_000_000_000, "row group 1 claims 2,000,000,000 rows but its column 1 holds 3 values"),
        (4, "row group 1 claims 4 rows but its column 1 holds 3 values (a corrupt footer)."),
    ],
)
def test_a_footer_claiming_too_many_rows_is_refused_before_reading(
    monkeypatch: pytest.MonkeyPatch, rows: int, words: str
) -> None:
    def read(*args: object, **kwargs: object) -> pa.Table:
        raise AssertionError("read the columns of a file claiming too many rows")

    monkeypatch.setattr(pq.ParquetFile, "read", read)
    with pytest.raises(ParseError, match="split the data|corrupt") as refused:
        parquet.read_table(claim_rows(small(), rows))
    assert words in str(refused.value)


def test_an_honest_footer_reads() -> None:
    matrix, names = parquet.read_table(small())
    assert names == ("label", "x") and matrix.shape == (3, 2)
