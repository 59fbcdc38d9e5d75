"""Text: the terminal view. Plain ASCII framing; text from the file cannot steer the terminal."""

from __future__ import annotations

import re
import shlex
import unicodedata
from typing import Any

from regaudit.render.common import (
    MODE_LABELS,
    RELEASE_LEGEND,
    as_dict,
    as_list,
    file_name,
    fix_parts,
    has_config,
    layer_label,
    regularizer_display,
    release_line,
    source_parts,
    summary_line,
    text,
    verdict_word,
)

# Control characters (escape sequences could rewrite the terminal) and bidi overrides
# ("Trojan Source") are shown as \\xNN / \\uNNNN instead of being emitted.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# A cell wider than this is cut with "..." so one absurd layer name cannot push the table
# off every screen; the JSON output keeps the full value.
MAX_CELL = 56

COLUMNS = (
    ("LAYER", lambda f: layer_label(f)),
    ("CLASS", lambda f: text(f.get("layer_class"))),
    ("TARGET", lambda f: text(f.get("target"))),
    ("KERAS REGULARIZER", regularizer_display),
    ("STRICT", lambda f: text(f.get("outcome"))),
    ("LENIENT", lambda f: text(f.get("outcome_lenient"))),
    ("RECOMMENDED", lambda f: text(f.get("recommended"))),
)


def clean(value: Any) -> str:
    """One line of terminal-safe text."""

    def escape(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(escape, text(value))


def width(s: str) -> int:
    """Columns the string takes in a terminal (East Asian wide characters take two)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in s
    )


def _cut(s: str, limit: int = MAX_CELL) -> str:
    """Shorten from the middle: long names usually differ at the end (dense_1, dense_2)."""
    if width(s) <= limit:
        return s
    keep = limit - 3
    head, tail = _take(s, keep - keep // 2), _take(s[::-1], keep // 2)[::-1]
    return head + "..." + tail


def _take(s: str, budget: int) -> str:
    out, used = [], 0
    for ch in s:
        used += width(ch)
        if used > budget:
            break
        out.append(ch)
    return "".join(out)


def _pad(s: str, n: int) -> str:
    return s + " " * (n - width(s))


def table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Columns sized to their content (each capped at MAX_CELL), two spaces apart."""
    cells = [[_cut(clean(c)) for c in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(header)]
    lines = [indent + "  ".join(_pad(h, widths[i]) for i, h in enumerate(header)).rstrip()]
    lines.append(indent + "  ".join("-" * w for w in widths))
    for row in cells:
        lines.append(indent + "  ".join(_pad(c, widths[i]) for i, c in enumerate(row)).rstrip())
    return lines


def render_text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    source = ", ".join(f"{label} {clean(value)}" for label, value in source_parts(report))
    lines.append(f"{clean(file_name(report))}" + (f"  ({source})" if source else ""))

    findings = [as_dict(f) for f in as_list(report.get("findings"))]
    verdict = as_dict(report.get("verdict"))
    known = has_config(report)
    if findings:
        lines.append("")
        lines.append(f"Regularizers ({len(findings)}):")
        lines += table(
            [name for name, _ in COLUMNS], [[get(f) for _, get in COLUMNS] for f in findings]
        )
    elif known:
        lines.append("No regularizers found.")
    else:
        lines.append("Regularizers unknown: the file holds no model configuration.")

    lines += _training(as_dict(report.get("training")) if report.get("training") else None)
    lines.append("")
    lines.append(
        "Verdict: "
        + "; ".join(
            f"{MODE_LABELS[mode]}: {verdict_word(verdict.get(f'importable_{mode}'))}"
            for mode in ("strict", "lenient")
        )
    )
    releases = release_line(report)
    if releases:
        lines.append(f"Imports in: {releases}   ({RELEASE_LEGEND})")
    blocking = [as_dict(b) for b in as_list(verdict.get("blocking"))]
    if blocking:
        lines.append("Blocking reasons:")
        for b in blocking:
            modes = ", ".join(clean(m) for m in as_list(b.get("modes")))
            where = clean(b.get("layer")) if b.get("layer") else "(file)"
            lines.append(
                f"  - [{modes}] {where}: {clean(b.get('code'))}: {clean(b.get('message'))}"
            )

    notes = [as_dict(n) for n in as_list(report.get("notes"))]
    if notes:
        lines.append("Notes:")
        for n in notes:
            lines.append(f"  - {clean(n.get('code'))}: {clean(n.get('message'))}")
    lines += _fix(report)
    lines.append("Summary: " + clean(summary_line(report)))
    return "\n".join(lines) + "\n"


def _fix(report: dict[str, Any]) -> list[str]:
    """The fix in a few lines: what to set after the import (regaudit fix writes the Java)."""
    parts = fix_parts(report)
    if parts is None:
        return []
    message, steps, rows = parts
    if not steps:
        return [f"Fix for DL4J: none: {clean(message)}"]
    name = shlex.quote(clean(file_name(report)))  # a command to paste: quoted when it must be
    out = [f"Fix for DL4J: {clean(message)} (as Java: regaudit fix {name} -o Fix.java)"]
    out += [f"  {i}. {clean(step)}" for i, step in enumerate(steps, 1)]
    out += [f"  not fixable: {clean(row)}" for row in rows]
    return out


def _training(training: dict[str, Any] | None) -> list[str]:
    if training is None:
        return ["", "Training: no training configuration in the file."]
    wd = training.get("weight_decay_display") or text(training.get("weight_decay")) or "none"
    lines = [
        "",
        f"Training: optimizer {clean(training.get('optimizer') or 'none')}, "
        f"weight decay {clean(wd)}",
        f"  strict: {clean(training.get('outcome') or 'unknown')}"
        f"   lenient: {clean(training.get('outcome_lenient') or 'unknown')}",
    ]
    if training.get("message"):
        lines.append(f"  {clean(training.get('message'))}")
    if training.get("recommended"):
        lines.append(f"  recommended: {clean(training.get('recommended'))}")
    return lines
