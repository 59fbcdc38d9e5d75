"""Parse untrusted JSON with the package's own errors and documented limits."""

from __future__ import annotations

import json
from typing import Any

from regaudit.errors import InputTooLarge, UnreadableFile

MAX_CONFIG_BYTES = 64 * 1024 * 1024  # documented limit for a model config
MAX_NESTING = 200  # documented limit for nested models/wrappers (real configs stay under 10)


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
    try:
        # Keras writes NaN/Infinity for non-finite floats; json keeps them as floats.
        return json.loads(text)
    except RecursionError:
        raise InputTooLarge(f"{what} nests too deeply to parse (JSON nesting limit)") from None
    except ValueError as e:
        raise UnreadableFile(f"{what} is not valid JSON ({e})") from None
