"""libsvm text: `label[:weight] index:value ...`, for training files and request bodies.

`parse_libsvm` defines the format and names bad lines, but runs token by token in Python
(~19 us a 28-feature line). Training files go through `formats.libsvmnative` first (the
compiled reader, which streams the file and hands unsure lines back to this parser), or,
where it is not built, `parse_libsvm_fast`: `formats.libsvmscan` (NumPy + pyarrow over whole
blocks, ~0.3 us a line), only on input both readers read alike; anything else (weights, qid,
odd line breaks, see `_plain` and libsvmscan) returns None and the Python parser decides.
"""

from __future__ import annotations

import logging
import math
import re

import numpy as np
import scipy.sparse as sp

from boostbox.errors import ParseError
from boostbox.formats import overflow_is_inf
from boostbox.formats.libsvmscan import scan_libsvm
from boostbox.formats.text import show

logger = logging.getLogger(__name__)

SCAN_BLOCK = 1 << 22
"""Bytes checked at a time for control characters (bounds the temporary mask)."""

HEAD_BYTES = 65536
"""The first line is looked at in this head: a weighted file skips the fast path at once."""

TAB, LF, CR = 9, 10, 13

BARE_INDEX = re.compile(rb":(?=\s|$)")
"""`8:` (an index with no value): the Python parser reads it as XGBoost's does, with a warning."""

MAX_INDEX = 2**32 - 2
"""The largest feature index XGBoost can hold (its feature ids are 32-bit)."""


def _plain(data: bytes) -> bool:
    """ASCII, lines split only by LF or CRLF, no qid and no label:weight on the first line.

    Python's splitlines/split also break on VT, FF, FS..US and lone CR, which sklearn reads
    differently; sklearn accepts qid only right after the label; weights it cannot read.
    """
    if not data.isascii() or b"qid" in data or BARE_INDEX.search(data):
        return False
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return False
    view = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, view.size, SCAN_BLOCK):
        block = view[start : start + SCAN_BLOCK]
        if np.any((block < 32) & (block != TAB) & (block != LF) & (block != CR)):
            return False
    for line in data[:HEAD_BYTES].splitlines():
        tokens = line.split(b"#", 1)[0].split()
        if tokens:
            return b":" not in tokens[0]  # label:weight: sklearn would refuse the file
    return True


@overflow_is_inf
def parse_libsvm_fast(
    data: bytes,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None] | None:
    """(X float32 CSR, labels float32, no weights) as parse_libsvm(labelled=True), or None."""
    if not _plain(data):
        return None
    scanned = scan_libsvm(data)
    if scanned is None:
        logger.debug("libsvm fast path declined; using the Python parser.")
        return None
    matrix, labels = scanned
    return matrix, labels, None


def _libsvm_line(
    tokens: list[str], source: str, line: int, labelled: bool
) -> tuple[float, float | None, list[int], list[float], bool]:
    """One line's label, weight, indices, values (qid tokens are ignored), and whether it has
    an index without a value (`8:`), which XGBoost's parser reads as 0."""
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
                f"{source}: line {line}, column 1: '{show(tokens[0])}' is not a label "
                "(libsvm lines are 'label[:weight] index:value ...').",
                line=line,
                column=1,
            ) from None
    indices: list[int] = []
    values: list[float] = []
    bare = False
    for column, token in enumerate(tokens[start:], start=start + 1):
        index_text, colon, value_text = token.partition(":")
        if index_text == "qid":
            continue
        try:
            if not colon:
                raise ValueError(token)
            index = int(index_text)
            value = float(value_text) if value_text else 0.0
            bare = bare or not value_text
            if not 0 <= index <= MAX_INDEX:
                raise ValueError(token)
        except ValueError:
            raise ParseError(
                f"{source}: line {line}, column {column}: '{show(token)}' is not "
                "index:value (libsvm needs 'label index:value ...', index 0 to "
                f"{MAX_INDEX}).",
                line=line,
                column=column,
            ) from None
        indices.append(index)
        values.append(value)
    return label, weight, indices, values, bare


def warn_bare(source: str, first: int, count: int) -> None:
    """The one warning for indices without a value (`8:`), naming the first such line."""
    logger.warning(
        "%s: line %d has an index without a value (e.g. '8:'); read as 0, as XGBoost's "
        "libsvm parser does (%d line(s) like it).",
        source,
        first,
        count,
    )


@overflow_is_inf
def parse_libsvm(
    text: str, *, source: str = "<request>", first_line: int = 1, labelled: bool = False
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None]:
    """Parse libsvm text into (X float32 CSR, labels float32, weights or None).

    Line format: `label[:weight] index:value ...`; a line whose first token is an
    `index:value` pair has no label (NaN). `#` starts a comment; blank lines are skipped.
    Indexing: index i is column i, exactly as XGBoost's own libsvm reader does, so
    1-based data leaves column 0 empty (all missing). Training and serving both use this
    rule, so a libsvm file and a libsvm request always line up. An index without a value
    (`8:`, as in the official abalone sample) is the value 0, as XGBoost's parser reads it,
    with one warning naming the first such line.
    `labelled=True` (training files) reads every first token as `label[:weight]`, which is
    XGBoost's rule and the only way to give weights; weights default to 1 on lines without.
    """
    labels: list[float] = []
    weights: list[float] = []
    any_weight = False
    indptr = [0]
    all_indices: list[int] = []
    all_values: list[float] = []
    bare_lines: list[int] = []
    for offset, raw in enumerate(text.splitlines()):
        content = raw.split("#", 1)[0]
        tokens = content.split()
        if not tokens:
            continue
        line = first_line + offset
        label, weight, indices, values, bare = _libsvm_line(tokens, source, line, labelled)
        if bare:
            bare_lines.append(line)
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
    if bare_lines:
        warn_bare(source, bare_lines[0], len(bare_lines))
    label_array = np.asarray(labels, dtype=np.float32)
    weight_array = np.asarray(weights, dtype=np.float32) if any_weight else None
    return matrix, label_array, weight_array
