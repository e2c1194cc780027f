"""text/csv: headerless numeric rows in, one line per record out.

Decoding uses the shared `boostbox.formats.csv.parse_csv` (the same rules as training
files), with a shortcut for a body of one short row. Encoding writes one line per record:
a single value, or comma-joined values (multi:softprob probabilities, contributions,
leaf indices); with SAGEMAKER_INFERENCE_OUTPUT the selected keys are the columns, in the
configured order, lists quoted (`1,"[0.2, 0.8]"`). Every line ends with a newline.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from boostbox.errors import BadRequest, ParseError
from boostbox.formats.csv import parse_csv
from boostbox.formats.text import is_utf8
from boostbox.serving.codecs.common import bad_request, rows_text, text
from boostbox.serving.outputs import Output

MEDIA = "text/csv"
ONE_ROW_SHORTCUT = 2048
"""Bodies up to this many bytes with a single line skip the general parser."""


def _plain_utf8(body: bytes, params: Mapping[str, str]) -> bool:
    """Whether the body can go to the parser as bytes: UTF-8 charset and all ASCII."""
    return is_utf8(params) and body.isascii()


def decode(body: bytes, params: Mapping[str, str]) -> np.ndarray:
    """CSV rows -> 2-D float32; empty cells, NA, null and NaN are missing values (NaN)."""
    label_size = params.get("label_size")
    if label_size is not None and label_size.strip() != "1":
        raise BadRequest(
            f"text/csv parameter label_size={label_size} is not supported: only label_size=1 "
            "(the default; request rows carry no label column)."
        )
    if len(body) > ONE_ROW_SHORTCUT and _plain_utf8(body, params):
        content: str | bytes = body  # no decode: pandas parses bytes fastest
    else:
        content = text(body, params, MEDIA)
    if len(content) <= ONE_ROW_SHORTCUT and isinstance(content, str):
        line = content.strip()
        if "\n" not in line and '"' not in line:
            try:
                with np.errstate(over="ignore"):  # beyond float32 -> inf, as the parser does
                    return np.array(line.split(","), dtype=np.float32).reshape(1, -1)
            except ValueError:
                pass  # empty cells, other delimiters or junk: the full parser decides
    try:
        return parse_csv(content, source="request")
    except ParseError as e:
        raise bad_request(MEDIA, e) from e


def encode(output: Output, batch: bool) -> bytes:
    """One line per record, newline-terminated."""
    if output.records is None:
        lines = rows_text(output)
    else:
        lines = [
            ",".join(
                f'"{record[key]}"' if isinstance(record[key], list) else str(record[key])
                for key in output.columns
            )
            for record in output.records
        ]
    return ("\n".join(lines) + "\n").encode()
