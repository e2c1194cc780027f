"""Codec registry: Content-Type -> decoder (bytes -> matrix), Accept -> encoder (Output -> bytes).

Media-type parameters (charset, label_size, ...) are parsed by `boostbox.formats.mediatypes`. The
official algorithm's bare names (`csv`, `libsvm`, `parquet`, `recordio-protobuf`, any case)
are accepted as Content-Type, and `application/x-jsonlines` as Accept like
`application/jsonlines`.
Accept lists are ordered by q-value (stable, so equal q keeps the client's order) and the
first supported type wins; `*/*` (or a missing Accept) means the configured default,
`text/*` means text/csv and `application/*` the default if it is an application type,
else application/json.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType

import scipy.sparse as sp

from boostbox.errors import NotAcceptable, UnsupportedMediaType
from boostbox.formats import Matrix
from boostbox.formats.mediatypes import parse_media_type
from boostbox.serving.codecs import csv, json, jsonlines, libsvm, parquet, recordio
from boostbox.serving.codecs.common import Frame
from boostbox.serving.outputs import Output

Decoder = Callable[[bytes, Mapping[str, str]], Matrix | Frame]
Encoder = Callable[[Output, bool], bytes]

DECODERS: Mapping[str, Decoder] = MappingProxyType(
    {
        "text/csv": csv.decode,
        "csv": csv.decode,
        "text/libsvm": libsvm.decode,
        "text/x-libsvm": libsvm.decode,
        "libsvm": libsvm.decode,
        "application/json": json.decode,
        "application/jsonlines": jsonlines.decode,
        "application/x-jsonlines": jsonlines.decode,
        "application/x-parquet": parquet.decode,
        "application/vnd.apache.parquet": parquet.decode,
        "parquet": parquet.decode,
        "application/x-recordio-protobuf": recordio.decode,
        "recordio-protobuf": recordio.decode,
    }
)
ENCODERS: Mapping[str, Encoder] = MappingProxyType(
    {
        "text/csv": csv.encode,
        "application/json": json.encode,
        "application/jsonlines": jsonlines.encode,
        "application/x-jsonlines": jsonlines.encode,
        "application/x-recordio-protobuf": recordio.encode,
    }
)


@functools.lru_cache(maxsize=256)
def decoder_for(content_type: str | None) -> tuple[Decoder, Mapping[str, str]]:
    """The decoder and media-type parameters for a Content-Type header, or 415."""
    media, params = parse_media_type(content_type or "")
    decoder = DECODERS.get(media)
    if decoder is None:
        shown = f"'{media}'" if media else "missing"
        raise UnsupportedMediaType(
            f"Content-Type {shown} is not supported; send one of: {', '.join(DECODERS)}."
        )
    return decoder, MappingProxyType(dict(params))


def decode(body: bytes, content_type: str | None, *, libsvm_one_based: bool) -> Matrix | Frame:
    """The request body as a matrix (or named columns), by Content-Type; 415 if unsupported."""
    decoder, params = decoder_for(content_type)
    decoded = decoder(body, params)
    if libsvm_one_based and decoder is libsvm.decode and isinstance(decoded, sp.csr_matrix):
        return libsvm.from_one_based(decoded)
    return decoded


def _q(params: tuple[tuple[str, str], ...]) -> float:
    for key, value in params:
        if key == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


@functools.lru_cache(maxsize=256)
def negotiate(accept: str | None, default: str) -> str:
    """The media type to answer in: the first supported entry of Accept by q-value, or 406."""
    if accept is None or not accept.strip():
        return default
    ranges = [parse_media_type(part) for part in accept.split(",") if part.strip()]
    ordered = sorted(ranges, key=lambda r: -_q(r[1]))
    for media, params in ordered:
        if _q(params) <= 0:
            continue
        if media == "*/*" or media == "*":
            return default
        if media in ENCODERS:
            return media
        if media == "text/*":
            return "text/csv"
        if media == "application/*":
            return default if default.startswith("application/") else "application/json"
    raise NotAcceptable(
        f"Accept '{accept}' names no supported type; accepted: {', '.join(ENCODERS)}."
    )
