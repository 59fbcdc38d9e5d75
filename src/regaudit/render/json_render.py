"""JSON: the machine form of the report (schema regaudit/1), always valid JSON."""

from __future__ import annotations

import json
import math
from typing import Any

from regaudit.render.common import nonfinite_name

_string = json.encoder.encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses


def sanitize(value: Any) -> Any:
    """A copy with NaN/±Infinity as strings: hostile files can hold them, and JSON cannot."""
    if isinstance(value, float):
        return value if math.isfinite(value) else nonfinite_name(value)
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    return value


def _encode(value: Any, pad: str) -> str:
    """`json.dumps(sanitize(value), indent=2, ensure_ascii=False)` at the depth `pad` gives
    ("\\n" and two spaces per level), byte for byte, for the types a report holds (anything
    else raises TypeError). The standard library's indenting encoder is pure Python and was
    most of the CLI's time; this one builds each container with one join."""
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value) if math.isfinite(value) else _string(nonfinite_name(value))
    inner = pad + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"key {k!r} is not a string")
            items.append(f"{_string(k)}: {_encode(v, inner)}")
        return "{" + inner + ("," + inner).join(items) + pad + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join([_encode(v, inner) for v in value]) + pad + "]"
    raise TypeError(f"{type(value).__name__} is not JSON")


def _dump(value: Any) -> str:
    try:
        return _encode(value, "\n") + "\n"
    except (TypeError, RecursionError):  # what json.dumps makes of it (or its own error)
        return json.dumps(sanitize(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_json(report: dict[str, Any]) -> str:
    return _dump(report)


def join_json(pieces: list[str]) -> str:
    """render_json outputs of several reports -> render_json_many's output for them: one
    report is itself, several an array (JSON strings hold no raw newline, so indenting every
    line of each piece by two spaces is exactly json.dumps's nesting)."""
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return "[]\n"
    return "[\n  " + ",\n  ".join(p[:-1].replace("\n", "\n  ") for p in pieces) + "\n]\n"


def render_json_many(reports: list[dict[str, Any]]) -> str:
    """One report: the object itself (same bytes as render_json); otherwise an array."""
    return join_json([render_json(r) for r in reports])
