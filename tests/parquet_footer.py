"""Rewrite the row counts a Parquet file's footer claims, for the "claims billions of rows"
inputs (tests/data/bad_inputs/parquet_claims_3e9_rows, serving and formats tests).

The footer is a Thrift FileMetaData in the compact protocol: num_rows is its field 3, and
each RowGroup of field 4 has its own num_rows (field 3), all zigzag varints. The walker
below knows just enough of the protocol to find them; the data pages stay as written.
"""

from __future__ import annotations

import struct

MAGIC = b"PAR1"
I64, LIST, STRUCT = 6, 9, 12
FIXED = {3: 1, 7: 8}
"""Compact types with a fixed width: byte, double."""
NUM_ROWS = {(3,), (4, 3)}
"""Field paths of FileMetaData.num_rows and RowGroup.num_rows (a list's items share its path)."""


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        shift += 7
        if not byte & 0x80:
            return value, at


def _zigzag(value: int) -> bytes:
    raw = (value << 1) ^ (value >> 63)
    out = bytearray()
    while raw > 0x7F:
        out.append(raw & 0x7F | 0x80)
        raw >>= 7
    out.append(raw)
    return bytes(out)


class _Walker:
    """Records the byte ranges of the num_rows varints while skipping everything else."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.spans: list[tuple[int, int]] = []

    def value(self, kind: int, at: int, path: tuple[int, ...]) -> int:
        if kind in (1, 2):  # booleans live in the field header
            return at
        if kind in FIXED:
            return at + FIXED[kind]
        if kind in (4, 5, 6):
            end = _varint(self.data, at)[1]
            if kind == I64 and path in NUM_ROWS:
                self.spans.append((at, end))
            return end
        if kind == 8:
            size, at = _varint(self.data, at)
            return at + size
        if kind in (LIST, 10):  # list, set: items of one type
            header = self.data[at]
            size, at = (header >> 4, at + 1) if header >> 4 != 15 else _varint(self.data, at + 1)
            for _ in range(size):
                at = at + 1 if (header & 0x0F) in (1, 2) else self.value(header & 0x0F, at, path)
            return at
        if kind == STRUCT:
            return self.struct(at, path)
        raise ValueError(f"compact type {kind} at byte {at} is not handled")

    def struct(self, at: int, path: tuple[int, ...]) -> int:
        """Walk a struct whose fields' paths start with `path`; return the byte after it."""
        field = 0
        while (header := self.data[at]) != 0:
            at += 1
            if header >> 4:  # short form: the field id as a delta
                field += header >> 4
            else:
                raw, at = _varint(self.data, at)
                field = (raw >> 1) ^ -(raw & 1)
            at = self.value(header & 0x0F, at, (*path, field))
        return at + 1


def claim_rows(parquet: bytes, rows: int) -> bytes:
    """`parquet` with its footer's num_rows (file and every row group) set to `rows`."""
    (length,) = struct.unpack_from("<I", parquet, len(parquet) - 8)
    start = len(parquet) - 8 - length
    footer = parquet[start : start + length]
    walker = _Walker(footer)
    walker.struct(0, ())
    if not walker.spans:
        raise ValueError("no num_rows found in the footer")
    rewritten, last = bytearray(), 0
    for begin, end in walker.spans:
        rewritten += footer[last:begin] + _zigzag(rows)
        last = end
    rewritten += footer[last:]
    return parquet[:start] + bytes(rewritten) + struct.pack("<I", len(rewritten)) + MAGIC
