"""JSON: the machine form of the report (schema regaudit/1), always valid JSON."""

from __future__ import annotations

import json
import math
from typing import Any

from regaudit.render.common import nonfinite_name


def sanitize(value: Any) -> Any:
    """A copy with NaN/±Infinity as strings: hostile files can hold them, and JSON cannot."""
    if isinstance(value, float):
        return value if math.isfinite(value) else nonfinite_name(value)
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    return value


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(sanitize(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def join_json(pieces: list[str]) -> str:
    """render_json outputs of several reports combined: one report is itself, several an
    array (JSON strings hold no raw newline, so indenting every line of each piece by two
    spaces is exactly json.dumps's nesting)."""
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return "[]\n"
    return "[\n  " + ",\n  ".join(p[:-1].replace("\n", "\n  ") for p in pieces) + "\n]\n"
