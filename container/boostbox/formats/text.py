"""Bytes -> text for every text format: the media type's charset, a UTF-8 BOM dropped."""

from __future__ import annotations

from collections.abc import Mapping

from boostbox.errors import ParseError, UnknownCharset

UTF8_NAMES = ("utf-8", "utf8")


def charset(params: Mapping[str, str]) -> str:
    """The media type's charset parameter, lower-cased; UTF-8 when absent or empty."""
    return params.get("charset", "utf-8").strip().lower() or "utf-8"


def is_utf8(params: Mapping[str, str]) -> bool:
    return charset(params) in UTF8_NAMES


def decode(data: bytes, params: Mapping[str, str], source: str) -> str:
    """`data` decoded with the charset in `params` (UTF-8 by default; a BOM is dropped)."""
    name = charset(params)
    try:
        return data.decode("utf-8-sig" if name in UTF8_NAMES else name)
    except LookupError as e:
        raise UnknownCharset(f"{source}: unknown charset '{name}'.") from e
    except UnicodeDecodeError as e:
        raise ParseError(f"{source} is not valid {name} text at byte {e.start}: {e.reason}.") from e


def check_utf8(data: bytes, params: Mapping[str, str], source: str) -> None:
    """Raise as `decode` would, without keeping a decoded copy (ASCII needs no check)."""
    if not (data.isascii() and is_utf8(params)):
        decode(data, params, source)


def show(value: str, limit: int = 40) -> str:
    """`value` cut to `limit` characters for an error message."""
    return value if len(value) <= limit else value[: limit - 3] + "..."
