"""Parse untrusted JSON with the package's own errors and documented limits."""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any

from regaudit.errors import InputTooLarge, UnreadableFile

MAX_CONFIG_BYTES = 64 * 1024 * 1024  # documented limit for a model config
MAX_NESTING = 200  # documented limit for nested models/wrappers (real configs stay under 10)
MAX_JSON_DEPTH = 256  # documented limit for JSON nesting (real configs stay under 60)

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string (unrolled: fast)
# Opening brackets -> +1, closing -> -1 (as signed bytes), everything else deleted.
_BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_OTHER = bytes(b for b in range(256) if b not in b"[{]}")


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Bracket depth above `limit`, found at C speed before any parser recursion can overflow
    (in the browser a stack overflow would kill the whole Python runtime)."""
    without_strings = _STRING.sub('""', text).encode("utf-8", errors="replace")
    steps = array("b", without_strings.translate(_BRACKETS, _OTHER))
    return bool(steps) and max(accumulate(steps)) > limit


def parse_json(text: str | bytes, what: str) -> Any:
    if isinstance(text, bytes):
        if len(text) > MAX_CONFIG_BYTES:
            raise InputTooLarge(
                f"{what} is {len(text):,} bytes; the limit is {MAX_CONFIG_BYTES:,} bytes"
            )
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UnreadableFile(f"{what} is not UTF-8 text (byte {e.start})") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise InputTooLarge(
            f"{what} is {len(text):,} characters; the limit is {MAX_CONFIG_BYTES:,}"
        )
    if json_too_deep(text):
        raise InputTooLarge(
            f"{what} nests deeper than {MAX_JSON_DEPTH} levels: not a real Keras config"
        )
    try:
        # Keras writes NaN/Infinity for non-finite floats; json keeps them as floats.
        return json.loads(text)
    except RecursionError:
        raise InputTooLarge(f"{what} nests too deeply to parse (JSON nesting limit)") from None
    except ValueError as e:
        raise UnreadableFile(f"{what} is not valid JSON ({e})") from None
