"""Every content type decodes to the same matrix; media types and Accept are negotiated."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sagemaker_training import recordio

from boostbox.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from boostbox.formats.mediatypes import parse_media_type
from boostbox.serving.codecs import csv as csv_codec
from boostbox.serving.codecs import decoder_for, negotiate
from boostbox.serving.codecs import json as json_codec
from boostbox.serving.codecs.common import Frame

ROWS = np.asarray([[1.5, -2.0, 0.0, 3.25], [0.5, np.nan, 7.0, -1.0]], dtype=np.float32)


def recordio_dense(x: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    recordio._write_numpy_to_dense_tensor(buffer, x)
    return buffer.getvalue()


def recordio_sparse(x: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    present = np.where(np.isnan(x), 0, x)
    recordio._write_spmatrix_to_sparse_tensor(buffer, sp.csr_matrix(present))
    return buffer.getvalue()


def parquet(x: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])]).to_parquet(buffer)
    return buffer.getvalue()


DENSE_BODIES = {
    "csv": ("text/csv", b"1.5,-2,0,3.25\n0.5,,7,-1\n"),
    "csv-charset": ("text/csv; charset=UTF-8", b"1.5,-2,0,3.25\r\n0.5,,7,-1"),
    "csv-label-size": ("text/csv;label_size=1", b"1.5,-2,0,3.25\n0.5,,7,-1\n"),
    "csv-bare": ("csv", b"1.5,-2,0,3.25\n0.5,NA,7,-1\n"),
    "csv-bare-upper": ("CSV", b"1.5,-2,0,3.25\n0.5,null,7,-1\n"),
    "csv-missing-spellings": ("text/csv", b"1.5,-2,0,3.25\n0.5,NaN,7,-1\n"),
    "json-instances": ("application/json", b'{"instances": [[1.5,-2,0,3.25],[0.5,null,7,-1]]}'),
    "json-instances-features": (
        "application/json",
        b'{"instances": [{"features": [1.5,-2,0,3.25]}, {"features": [0.5,null,7,-1]}]}',
    ),
    "json-features": ("application/json", b'{"features": [[1.5,-2,0,3.25],[0.5,null,7,-1]]}'),
    "json-rows": ("application/json", b"[[1.5,-2,0,3.25],[0.5,null,7,-1]]"),
    "jsonlines": ("application/jsonlines", b'[1.5,-2,0,3.25]\n{"features":[0.5,null,7,-1]}\n'),
    "parquet": ("application/x-parquet", parquet(ROWS)),
    "recordio-dense": ("application/x-recordio-protobuf", recordio_dense(ROWS)),
}


@pytest.mark.parametrize("case", sorted(DENSE_BODIES))
def test_dense_bodies_decode_to_the_same_rows(case: str) -> None:
    content_type, body = DENSE_BODIES[case]
    decode, params = decoder_for(content_type)
    got = decode(body, params)
    np.testing.assert_array_equal(np.asarray(got.matrix if isinstance(got, Frame) else got), ROWS)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/libsvm", b"1.5 0:1.5 1:-2 2:0 3:3.25\n0:0.5 2:7 3:-1\n"),
        ("text/x-libsvm", b"0:1.5 1:-2 2:0 3:3.25\n0:0.5 2:7 3:-1"),
        ("LibSVM", b"0:1.5 1:-2 2:0 3:3.25\n0:0.5 2:7 3:-1"),
        ("application/x-recordio-protobuf", recordio_sparse(ROWS)),
    ],
)
def test_sparse_bodies_keep_absent_entries_missing(content_type: str, body: bytes) -> None:
    decode, params = decoder_for(content_type)
    got = decode(body, params)
    assert isinstance(got, sp.csr_matrix)
    dense = np.full(got.shape, np.nan, dtype=np.float32)
    coo = got.tocoo()
    dense[coo.row, coo.col] = coo.data
    expected = ROWS.copy()
    if content_type.startswith("application/"):
        expected[ROWS == 0] = np.nan  # the SDK's sparse writer drops explicit zeros
    np.testing.assert_array_equal(dense, expected)


@pytest.mark.parametrize(
    ("body", "shape"),
    [(b"[1, 2, 3]", (1, 3)), (b'{"features": [1, 2]}', (1, 2)), (b'{"instances": [4, 5]}', (1, 2))],
)
def test_a_flat_json_list_is_one_row(body: bytes, shape: tuple[int, int]) -> None:
    params = decoder_for("application/json")[1]
    assert json_codec.decode(body, params).shape == shape


def test_one_row_csv_shortcut_agrees_with_the_parser() -> None:
    params = decoder_for("text/csv")[1]
    decode = csv_codec.decode
    assert decode(b"1, 2 ,3\n", params).tolist() == [[1.0, 2.0, 3.0]]
    assert np.isnan(decode(b"1,,3", params)[0, 1])
    assert decode(b"1\t2\t3", params).tolist() == [[1.0, 2.0, 3.0]]


def test_latin1_charset_is_honoured() -> None:
    params = decoder_for("application/json; charset=latin-1")[1]
    assert json_codec.decode(
        '{"features": [1, 2], "note": "café"}'.encode("latin-1"), params
    ).shape == (1, 2)


@pytest.mark.parametrize(
    ("content_type", "body", "names"),
    [
        ("text/csv", b"1,2,3\n4,x,6\n", ["line 2", "column 2", "'x'"]),
        ("text/csv", b"1,2,3\n4,5\n", ["line 2", "2 columns"]),
        ("text/csv", b"a,b,c\n1,2,3\n", ["header"]),
        ("text/libsvm", b"0:1 1:2\n1 0:x\n", ["line 2", "column 2"]),
        ("application/json", b'{"instances": [[1, 2], [3, "x"]]}', ["row 2", "column 2"]),
        ("application/json", b'{"instances": [[1, 2], [3]]}', ["row 2 has 1 values"]),
        ("application/json", b'{"rows": [[1]]}', ["'instances' or 'features'"]),
        ("application/json", b'{"instances": [1, 2', ["line 1", "column"]),
        ("application/jsonlines", b"[1, 2]\n[3, 4\n", ["JSON line 2"]),
        ("application/jsonlines", b"[1, 2]\n[3, {}]\n", ["record 2", "column 2"]),
        ("text/csv", b"\xff\xfe1,2", ["not valid utf-8", "byte 0"]),
        ("application/x-parquet", b"PAR1 not really", ["x-parquet"]),
        ("application/x-recordio-protobuf", b"\x00\x01\x02\x03\x04\x05\x06\x07", ["magic"]),
    ],
)
def test_malformed_bodies_are_400_naming_the_place(
    content_type: str, body: bytes, names: list[str]
) -> None:
    decode, params = decoder_for(content_type)
    with pytest.raises(BadRequest) as caught:
        decode(body, params)
    for name in names:
        assert name in str(caught.value)


def test_parquet_text_columns_are_rejected_by_name() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1.0], "colour": ["red"]}).to_parquet(buffer)
    decode, params = decoder_for("application/x-parquet")
    with pytest.raises(BadRequest, match="column 2 \\('colour'\\)"):
        decode(buffer.getvalue(), params)


def test_media_type_parameters_are_parsed() -> None:
    assert parse_media_type('Text/CSV; charset="utf-8"; label_size=1') == (
        "text/csv",
        (("charset", "utf-8"), ("label_size", "1")),
    )


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/x-npy", "csv/text"])
def test_unsupported_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType, match="not supported"):
        decoder_for(content_type)


def test_unknown_charset_is_415() -> None:
    decode, params = decoder_for("text/csv; charset=no-such-charset")
    with pytest.raises(UnsupportedMediaType, match="charset"):
        decode(b"1,2", params)


@pytest.mark.parametrize(
    ("accept", "default", "chosen"),
    [
        (None, "text/csv", "text/csv"),
        ("", "application/json", "application/json"),
        ("*/*", "application/jsonlines", "application/jsonlines"),
        ("application/json", "text/csv", "application/json"),
        ("application/json; charset=utf-8", "text/csv", "application/json"),
        ("image/png, application/jsonlines", "text/csv", "application/jsonlines"),
        ("text/csv;q=0.5, application/json", "text/csv", "application/json"),
        ("application/json;q=0, text/csv;q=0.1", "text/csv", "text/csv"),
        ("text/*", "application/json", "text/csv"),
        ("application/*", "text/csv", "application/json"),
        ("image/png, */*;q=0.1", "application/json", "application/json"),
        ("application/x-recordio-protobuf", "text/csv", "application/x-recordio-protobuf"),
    ],
)
def test_accept_negotiation(accept: str | None, default: str, chosen: str) -> None:
    assert negotiate(accept, default) == chosen


@pytest.mark.parametrize("accept", ["image/png", "text/html, application/xml", "text/csv;q=0"])
def test_unsupported_accept_is_406(accept: str) -> None:
    with pytest.raises(NotAcceptable, match="accepted: text/csv"):
        negotiate(accept, "text/csv")


def test_json_nan_is_null() -> None:
    from boostbox.serving.codecs.json import dumps

    assert json.loads(dumps({"a": math.nan, "b": [math.inf, -math.inf, 1.5]})) == {
        "a": None,
        "b": [None, None, 1.5],
    }


@pytest.mark.parametrize(
    ("content_type", "prefix"),
    [("text/csv", b""), ("text/csv; charset=latin-1", b""), ("text/csv", b"\xef\xbb\xbf")],
)
def test_large_csv_bodies_decode_like_small_ones(content_type: str, prefix: bytes) -> None:
    """Large ASCII UTF-8 bodies go to the parser as bytes; others are decoded first."""
    params = decoder_for(content_type)[1]
    row = b"1.5,-2,0,3.25\n0.5,,7,-1\n"
    out = csv_codec.decode(prefix + row * 500, params)
    assert out.shape == (1000, 4)
    np.testing.assert_array_equal(out[-2:], ROWS)


def test_large_csv_body_errors_name_the_line() -> None:
    decode, params = decoder_for("text/csv")
    with pytest.raises(BadRequest, match="line 1001, column 2: 'x'"):
        decode(b"1,2\n" * 1000 + b"3,x\n", params)
    with pytest.raises(BadRequest, match="not valid utf-8 text at byte 4000"):
        decode(b"1,2\n" * 1000 + b"\xff,3\n", params)
