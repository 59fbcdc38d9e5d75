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


def _dump(value: Any) -> str:
    return json.dumps(sanitize(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_json(report: dict[str, Any]) -> str:
    return _dump(report)


def render_json_many(reports: list[dict[str, Any]]) -> str:
    """One report: the object itself (same bytes as render_json); otherwise an array."""
    if len(reports) == 1:
        return _dump(reports[0])
    return _dump(list(reports))
