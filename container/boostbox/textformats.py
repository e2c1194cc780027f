"""CSV and libsvm text parsers shared by training (files) and serving (request bodies).

One implementation for both directions keeps a file and a request with the same text
meaning the same matrix. Errors are `ParseError`s naming the line, column and value.
"""

from __future__ import annotations

import csv
import io
import logging
import math

import numpy as np
import scipy.sparse as sp

from boostbox.errors import ParseError

logger = logging.getLogger(__name__)

SMALL_TEXT = 4096
"""Bodies up to this many characters are parsed in pure Python (no pandas call overhead)."""

SNIFF_DELIMITERS = (",", "\t", ";", "|")
"""Tried in order on the first non-blank line; a line with none of them is one column."""

SNIFF_BYTES = 65536
"""The delimiter is sniffed from the lines in this head of the input (not the whole body)."""

COUNT_BLOCK = 1 << 20
"""Bytes compared at a time when counting delimiters (bounds the temporary mask)."""


NAN_TEXTS = ["", "nan", "NaN", "NAN", "-nan", "-NaN"]
"""What both paths read as NaN (Python's float() accepts these; 'NA' or 'null' are errors)."""


def _show(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _head_lines(data: str | bytes) -> tuple[list[str], bool]:
    """The complete lines of the first SNIFF_BYTES, and whether they are the whole input."""
    head = data[:SNIFF_BYTES]
    text = head.decode("utf-8-sig", errors="replace") if isinstance(head, bytes) else head
    lines = text.splitlines()
    whole = len(head) == len(data)
    return (lines if whole else lines[:-1]), whole


def sniff_delimiter(data: str | bytes) -> str:
    """The first of , TAB ; | present in the first non-blank line, else a comma."""
    lines, whole = _head_lines(data)
    if not whole and not any(line.strip() for line in lines):
        whole_text = data if isinstance(data, str) else data.decode("utf-8-sig", errors="replace")
        lines = whole_text.splitlines()  # only blank lines up front: look further
    for line in lines:
        if line.strip():
            for candidate in SNIFF_DELIMITERS:
                if candidate in line:
                    return candidate
            if " " in line.strip():
                return " "
            return ","
    return ","


def _text(data: str | bytes, source: str) -> str:
    """Bytes as UTF-8 text (a BOM is dropped); str unchanged."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ParseError(f"{source}: is not UTF-8 text (byte {e.start}: {e.reason}).") from e


def _cell(value: str) -> float:
    stripped = value.strip()
    return math.nan if stripped == "" else float(stripped)


def _parse_csv_python(text: str, source: str, first_line: int, delimiter: str) -> np.ndarray:
    """Row by row with exact positions: small bodies, quoted text, and locating errors."""
    rows: list[list[float]] = []
    width: int | None = None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = first_line
    try:
        for record in reader:
            line = first_line + reader.line_num - 1
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if width is None:
                width = len(record)
            elif len(record) != width:
                raise ParseError(
                    f"{source}: line {line} has {len(record)} columns, expected {width} "
                    "like the lines before it (ragged rows).",
                    line=line,
                )
            values: list[float] = []
            for column, cell in enumerate(record, start=1):
                try:
                    values.append(_cell(cell))
                except ValueError:
                    if not rows and not _any_number(record):
                        raise ParseError(
                            f"{source}: line {line} looks like a header row "
                            f"('{_show(delimiter.join(record))}'): CSV input must not have a "
                            "header row.",
                            line=line,
                            column=column,
                        ) from None
                    raise ParseError(
                        f"{source}: line {line}, column {column}: '{_show(cell)}' is not a number.",
                        line=line,
                        column=column,
                    ) from None
            rows.append(values)
    except csv.Error as e:
        raise ParseError(f"{source}: line {line}: {e}", line=line) from e
    if not rows:
        return np.empty((0, 0), dtype=np.float32)
    return np.asarray(rows, dtype=np.float32)


def _any_number(record: list[str]) -> bool:
    for cell in record:
        try:
            _cell(cell)
        except ValueError:
            continue
        if cell.strip():
            return True
    return False


def _count_byte(raw: bytes, byte: int) -> int:
    """How often `byte` occurs, counted in blocks (bytes.count is ~10x slower; no big temp)."""
    view = np.frombuffer(raw, dtype=np.uint8)
    return sum(
        int(np.count_nonzero(view[start : start + COUNT_BLOCK] == byte))
        for start in range(0, view.size, COUNT_BLOCK)
    )


def _parse_csv_pandas(data: str | bytes, sep: str) -> np.ndarray | None:
    """pandas' C parser on bytes, or None where its result could differ from the Python path.

    The C parser pads short rows with NaN; without quotes, NULs or skipinitialspace every
    delimiter separates two fields of one row, so a delimiter count of rows * (width - 1)
    proves that every row is full. Blank lines hold no delimiter.
    """
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError:
        return None
    if b"\x00" in raw:
        return None
    import pandas as pd  # lazily: serving imports this module, and most requests are small

    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            sep=sep,
            header=None,
            dtype=np.float32,
            engine="c",
            skip_blank_lines=True,
            keep_default_na=False,
            na_values=NAN_TEXTS,
        )
    except (ValueError, pd.errors.ParserError):
        return None  # e.g. a non-numeric cell or a long row: the Python path names it
    rows, width = frame.shape
    if _count_byte(raw, ord(sep)) != rows * (width - 1):
        return None  # a short row (padded by pandas): the Python path names it
    return frame.to_numpy(dtype=np.float32, copy=False)


def parse_csv(
    data: str | bytes,
    *,
    source: str = "<request>",
    first_line: int = 1,
    delimiter: str | None = None,
) -> np.ndarray:
    """Parse headerless numeric CSV into a 2-D float32 array; empty cells become NaN.

    `data` is text or UTF-8 bytes (a BOM is dropped); bytes skip a decode and pandas'
    slower text input. Blank lines are skipped. `first_line` numbers the first line in
    error messages (a chunk of a larger file). Large inputs go through pandas' C parser;
    when that fails or a row is short, the Python path re-reads the input to name the
    exact line, column and value.
    """
    sep = delimiter or sniff_delimiter(data)
    quoted = (b'"' in data) if isinstance(data, bytes) else ('"' in data)
    if len(data) > SMALL_TEXT and not quoted and len(sep) == 1 and sep.isascii():
        table = _parse_csv_pandas(data, sep)
        if table is not None:
            return table
        logger.debug("%s: pandas could not parse the CSV; the Python parser decides.", source)
    return _parse_csv_python(_text(data, source), source, first_line, sep)


def _libsvm_line(
    tokens: list[str], source: str, line: int, labelled: bool
) -> tuple[float, float | None, list[int], list[float]]:
    """One line's label, weight, indices and values (qid tokens are ignored)."""
    label = math.nan
    weight: float | None = None
    start = 0
    if labelled or ":" not in tokens[0]:
        start = 1
        head, colon, tail = tokens[0].partition(":")
        try:
            label = float(head)
            weight = float(tail) if colon else None
        except ValueError:
            raise ParseError(
                f"{source}: line {line}, column 1: '{_show(tokens[0])}' is not a label "
                "(libsvm lines are 'label[:weight] index:value ...').",
                line=line,
                column=1,
            ) from None
    indices: list[int] = []
    values: list[float] = []
    for column, token in enumerate(tokens[start:], start=start + 1):
        index_text, colon, value_text = token.partition(":")
        if index_text == "qid":
            continue
        try:
            if not colon:
                raise ValueError(token)
            index = int(index_text)
            value = float(value_text)
            if index < 0:
                raise ValueError(token)
        except ValueError:
            raise ParseError(
                f"{source}: line {line}, column {column}: '{_show(token)}' is not "
                "index:value (libsvm needs 'label index:value ...').",
                line=line,
                column=column,
            ) from None
        indices.append(index)
        values.append(value)
    return label, weight, indices, values


def parse_libsvm(
    text: str, *, source: str = "<request>", first_line: int = 1, labelled: bool = False
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None]:
    """Parse libsvm text into (X float32 CSR, labels float32, weights or None).

    Line format: `label[:weight] index:value ...`; a line whose first token is an
    `index:value` pair has no label (NaN). `#` starts a comment; blank lines are skipped.
    Indexing: index i is column i, exactly as XGBoost's own libsvm reader does, so
    1-based data leaves column 0 empty (all missing). Training and serving both use this
    rule, so a libsvm file and a libsvm request always line up.
    `labelled=True` (training files) reads every first token as `label[:weight]`, which is
    XGBoost's rule and the only way to give weights; weights default to 1 on lines without.
    """
    labels: list[float] = []
    weights: list[float] = []
    any_weight = False
    indptr = [0]
    all_indices: list[int] = []
    all_values: list[float] = []
    for offset, raw in enumerate(text.splitlines()):
        content = raw.split("#", 1)[0]
        tokens = content.split()
        if not tokens:
            continue
        label, weight, indices, values = _libsvm_line(tokens, source, first_line + offset, labelled)
        labels.append(label)
        weights.append(1.0 if weight is None else weight)
        any_weight = any_weight or weight is not None
        all_indices.extend(indices)
        all_values.extend(values)
        indptr.append(len(all_indices))
    width = max(all_indices) + 1 if all_indices else 0
    matrix = sp.csr_matrix(
        (
            np.asarray(all_values, dtype=np.float32),
            np.asarray(all_indices, dtype=np.int64),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=(len(labels), width),
    )
    matrix.sum_duplicates()
    label_array = np.asarray(labels, dtype=np.float32)
    weight_array = np.asarray(weights, dtype=np.float32) if any_weight else None
    return matrix, label_array, weight_array
