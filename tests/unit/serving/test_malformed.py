"""Bodies that answered 500 before (found by fuzzing), and a Parquet footer claiming 3e9
rows (pyarrow allocated 8 GiB for it before reading 1 row): each is a 4xx with a JSON error,
or a prediction when the same numbers sent as CSV give one."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.parquet_footer import claim_rows
from tests.unit.serving.conftest import ClientFactory


def _parquet(value: int) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": [value], "b": [1], "c": [2], "d": [3]}), buffer)
    return buffer.getvalue()


DEEP = b"[" * 100_000 + b"]" * 100_000
ERRORS = {
    "libsvm-index-2^64": ("text/libsvm", b"0:1 18446744073709551616:1\n", 400, "index 0 to"),
    "libsvm-index-negative": ("text/libsvm", b"-1:1\n", 400, "is not index:value"),
    "json-int-beyond-float": (
        "application/json",
        b'{"instances": [[' + b"9" * 400 + b", 1, 2, 3]]}",
        400,
        "beyond the float range",
    ),
    "json-deep": ("application/json", DEEP, 400, "nested too deeply"),
    "jsonlines-deep": ("application/jsonlines", DEEP + b"\n", 400, "nested too deeply"),
    "parquet-claims-3e9-rows": (
        "application/x-parquet",
        claim_rows(_parquet(1), 3_000_000_000),
        400,
        "claims 3,000,000,000 rows",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_former_500s_are_400s(make_client: ClientFactory, case: str) -> None:
    content_type, body, status, words = ERRORS[case]
    response = make_client().post("/invocations", data=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.data[:300]
    error = response.get_json()
    assert set(error) == {"error"} and words in error["error"]


@pytest.mark.parametrize(
    ("content_type", "body", "same_as_csv"),
    [
        ("application/x-parquet", _parquet(16777217), b"16777217,1,2,3\n"),
        ("application/json", b'{"instances": [[1e39, 1, 2, 3]]}', b"1e39,1,2,3\n"),
        ("application/json", b'{"instances": [[1e400, 1, 2, 3]]}', b"1e400,1,2,3\n"),
        ("text/csv", b"1e39,1,2,3\n" * 30, b"1e39,1,2,3\n" * 30),
    ],
    ids=["parquet-int64-16777217", "json-1e39", "json-1e400", "csv-many-1e39"],
)
def test_numbers_beyond_float32_predict_as_their_csv_spelling(
    make_client: ClientFactory, content_type: str, body: bytes, same_as_csv: bytes
) -> None:
    client = make_client()
    got = client.post("/invocations", data=body, headers={"Content-Type": content_type})
    want = client.post("/invocations", data=same_as_csv, headers={"Content-Type": "text/csv"})
    assert got.status_code == want.status_code == 200, got.data[:300]
    assert got.data == want.data
