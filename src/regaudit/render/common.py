"""Small helpers every renderer shares: number and verdict wording, safe reads of the report dict.

Renderers take the dict form of a report (schema regaudit/1), never the dataclasses, so the
browser and the CLI produce the same bytes. Values may come from hostile files, so nothing here
assumes a type: every reader falls back to a neutral value.
"""

from __future__ import annotations

import math
from typing import Any

from regaudit.fix import change_text, import_text, row_text
from regaudit.report import OUTCOMES

MODE_LABELS = {
    "strict": "strict (enforceTrainingConfig=true)",
    "lenient": "lenient (enforceTrainingConfig=false)",
}


def text(value: Any) -> str:
    """Any value as display text; None is empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return number(value)
    return str(value)


def number(value: Any, digits: int = 4) -> str:
    """A computed number (penalty, sum) for people: a few significant digits, non-finite by name."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return nonfinite_name(value)
    return f"{value:.{digits}g}"


def raw_number(value: Any) -> str:
    """A stored coefficient exactly as JSON writes it (repr: shortest round-trip double)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else nonfinite_name(value)
    return str(value)


def nonfinite_name(value: float) -> str:
    """The JavaScript/JSON5 spelling, so every output names NaN and infinities the same way."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def outcome_name(value: Any) -> str:
    """An outcome word safe to put into a class name; anything unexpected becomes 'unknown'."""
    return value if isinstance(value, str) and value in OUTCOMES else "unknown"


def verdict_word(value: Any) -> str:
    if value is True:
        return "importable"
    if value is False:
        return "not importable"
    return "unknown"


def release_line(report: dict[str, Any]) -> str | None:
    """`beta7 ✗ · M1 ✓ · ...` from the report's `releases` block (--importer all), or None:
    ✓ imports with enforceTrainingConfig=true, (✓) only with false, ✗ in neither, ? unknown."""
    releases = report.get("releases")
    if not isinstance(releases, dict):
        return None
    parts = []
    for verdict in releases.values():
        verdict = as_dict(verdict)
        strict, lenient = verdict.get("importable_strict"), verdict.get("importable_lenient")
        mark = ("✓" if strict else "(✓)" if lenient else
                "?" if strict is None or lenient is None else "✗")
        name = text(verdict.get("release")).removeprefix("1.0.0-")
        unverified = "" if verdict.get("verified", True) else " (unverified)"
        parts.append(f"{name} {mark}{unverified}")
    return " · ".join(parts)


RELEASE_LEGEND = "✓ imports; (✓) only with enforceTrainingConfig=false; ✗ does not; ? unknown"


def has_config(report: dict[str, Any]) -> bool:
    """The report comes from a model configuration (training is null only without one, as in
    a weights-only file, whose regularizers are unknown)."""
    return report.get("training") is not None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def layer_path(finding: dict[str, Any]) -> str:
    """'outer / inner' from layer_path; falls back to the layer name."""
    path = [text(p) for p in as_list(finding.get("layer_path"))]
    return " / ".join(path) if path else text(finding.get("layer"))


def layer_label(finding: dict[str, Any]) -> str:
    """The layer path plus its wrapper, e.g. 'bidi / lstm [Bidirectional (backward)]'."""
    label = layer_path(finding)
    wrapper = finding.get("wrapper")
    return f"{label} [{text(wrapper)}]" if wrapper else label


def regularizer_display(finding: dict[str, Any]) -> str:
    reg = as_dict(finding.get("regularizer"))
    return text(reg.get("display") or reg.get("class"))


def summary_counts(report: dict[str, Any], mode: str) -> list[tuple[str, int]]:
    """Non-zero (outcome, count) pairs in vocabulary order for one mode."""
    counts = as_dict(as_dict(report.get("summary")).get(mode))
    pairs = []
    for name in OUTCOMES:
        n = counts.get(name)
        if isinstance(n, int) and n:
            pairs.append((name, n))
    return pairs


def summary_line(report: dict[str, Any]) -> str:
    """'3 findings; strict: altered 1, dropped 2; lenient: ...' (zero counts left out)."""
    summary = as_dict(report.get("summary"))
    n = summary.get("findings", len(as_list(report.get("findings"))))
    parts = [f"{n} finding{'' if n == 1 else 's'}"]
    for mode in ("strict", "lenient"):
        pairs = summary_counts(report, mode)
        if pairs:
            parts.append(f"{mode}: " + ", ".join(f"{name} {count}" for name, count in pairs))
    return "; ".join(parts)


def penalty_text(finding: dict[str, Any]) -> str:
    """Keras penalty vs DL4J's as imported (both modes), or why there is none."""
    penalty = finding.get("penalty")
    if not isinstance(penalty, dict):
        note = finding.get("penalty_note")
        return text(note) if note else ""
    keras = number(penalty.get("keras"))
    strict = number(penalty.get("dl4j_strict"))
    lenient = number(penalty.get("dl4j_lenient"))
    dl4j = f"DL4J {strict}" if strict == lenient else f"DL4J {strict} strict / {lenient} lenient"
    out = f"Keras {keras} vs {dl4j}"
    if penalty.get("note"):
        out += f" ({text(penalty.get('note'))})"
    return out


def source_parts(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs describing where the report comes from; unknowns left out."""
    source = as_dict(report.get("source"))
    pairs = [
        ("format", text(source.get("format"))),
        ("Keras", text(source.get("keras_version"))),
        ("backend", text(source.get("backend"))),
        ("importer", text(report.get("importer"))),
    ]
    return [(label, value) for label, value in pairs if value]


def file_name(report: dict[str, Any]) -> str:
    return text(as_dict(report.get("source")).get("file")) or "(unnamed)"


def fix_parts(report: dict[str, Any]) -> tuple[str, list[str], list[str]] | None:
    """The report's fix block in words: (its message, the recipe's steps, the rows not fixable);
    no steps when there is nothing to apply (no regularizer, or no network); None when the
    report has no usable fix block."""
    fix = report.get("fix")
    if not isinstance(fix, dict):
        return None
    if fix.get("status") != "fix":
        return text(fix.get("message")), [], []
    try:
        findings = as_list(report.get("findings"))
        steps = [import_text(report)] + [change_text(c, findings) for c in fix["changes"]]
        return text(fix.get("message")), steps, [row_text(r) for r in fix["not_fixable"]]
    except (KeyError, TypeError, IndexError, AttributeError):
        return None  # a hand-made or cut-down dict: no section rather than a wrong one
