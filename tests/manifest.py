"""Compare an audit with a corpus MANIFEST entry (shared by the corpus tests)."""

from __future__ import annotations

import json
from typing import Any

COEFFICIENT_KEYS = ("l1", "l2", "factor")


def expected_class(raw: Any, manifest_class: str) -> str:
    """The class as written (spec §7): registered 'pkg>Name', a function's own name."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        if raw.get("class_name") == "function":
            return raw.get("config")
        registered = raw.get("registered_name")
        if isinstance(registered, str) and ">" in registered:
            return registered
    return manifest_class


def manifest_rows(entry: dict) -> list[tuple]:
    rows = []
    for r in entry["regularizers"]:
        path = tuple(p for p in r["layer"].split("/")[1:] if not p.startswith("<"))
        coeffs = {k: v for k, v in r["coefficients"].items() if k in COEFFICIENT_KEYS}
        cls = expected_class(r["json"], r["regularizer_class"])
        rows.append((path, r["field"], cls, json.dumps(coeffs, sort_keys=True)))
    return sorted(rows)


def report_rows(report: dict) -> list[tuple]:
    rows = []
    for f in report["findings"]:
        reg = f["regularizer"]
        coeffs = {k: reg[k] for k in COEFFICIENT_KEYS if reg[k] is not None}
        rows.append((tuple(f["layer_path"]), f["field"], reg["class"], json.dumps(coeffs, sort_keys=True)))
    return sorted(rows)
