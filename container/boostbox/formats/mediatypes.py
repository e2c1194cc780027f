"""Media types with parameters ('text/csv; charset=utf-8; label_size=1'), for train and serve.

Training reads a channel's ContentType and serving reads Content-Type and Accept with the
same parser (`email.message.Message`, not the deprecated `cgi`), so parameters mean the same
thing on both sides.
"""

from __future__ import annotations

import functools
from email.message import Message


@functools.lru_cache(maxsize=256)
def parse_media_type(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """'Text/CSV; charset=utf-8' -> ('text/csv', (('charset', 'utf-8'),)); cached per header."""
    message = Message()
    message["content-type"] = value
    media = value.split(";", 1)[0].strip().lower()
    params = tuple(
        (str(k).lower(), str(v)) for k, v in (message.get_params() or [])[1:] if isinstance(v, str)
    )
    return media, params


ENCODABLE = (
    "text/csv",
    "application/json",
    "application/jsonlines",
    "application/x-jsonlines",
    "application/x-recordio-protobuf",
)
"""Response types serving can encode (serving.codecs.ENCODERS has one encoder for each)."""
