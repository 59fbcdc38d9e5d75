"""Markdown: a report to paste into an issue, a pull request or a wiki page (GitHub flavour)."""

from __future__ import annotations

import re
from typing import Any

from regaudit.fix import L2_CONVENTION
from regaudit.render.common import (
    MODE_LABELS,
    RELEASE_LEGEND,
    as_dict,
    as_list,
    file_name,
    fix_parts,
    has_config,
    layer_label,
    penalty_text,
    regularizer_display,
    release_line,
    source_parts,
    summary_counts,
    summary_line,
    text,
    verdict_word,
)
from regaudit.report import OUTCOMES

# Everything that can start markup in CommonMark/GFM: emphasis, code, links, raw HTML,
# entities (&), table pipes, headings, strikethrough, GitHub math ($). A backslash before
# any ASCII punctuation is always a literal, so escaping too much is harmless.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#&~!$])")
_NEWLINES = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def md(value: Any) -> str:
    """Text from the file as one inert Markdown cell: no markup, no line break, no pipe."""
    s = _NEWLINES.sub(" ", text(value))
    s = _CONTROL.sub("\ufffd", s)
    s = _SPECIAL.sub(r"\\\1", s)
    # A leading + or - would start a list item at the start of a line.
    return "\\" + s if s[:1] in ("+", "-") else s


COLUMNS = (
    ("Layer", lambda f: layer_label(f)),
    ("Class", lambda f: text(f.get("layer_class"))),
    ("Target", lambda f: text(f.get("target"))),
    ("Keras regularizer", regularizer_display),
    ("Documented DL4J equivalent", lambda f: text(f.get("dl4j_equivalent"))),
    ("Strict", lambda f: text(f.get("outcome"))),
    ("Lenient", lambda f: text(f.get("outcome_lenient"))),
    ("Recommended DL4J setting", lambda f: text(f.get("recommended"))),
    ("Why (strict)", lambda f: text(f.get("message"))),
    ("Penalty", penalty_text),
)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_markdown(report: dict[str, Any]) -> str:
    out: list[str] = [f"## {md(file_name(report))}", ""]
    parts = source_parts(report)
    if parts:
        out += ["Source: " + ", ".join(f"{label} {md(value)}" for label, value in parts), ""]

    findings = [as_dict(f) for f in as_list(report.get("findings"))]
    verdict = as_dict(report.get("verdict"))
    if findings:
        out.append(_row([name for name, _ in COLUMNS]))
        out.append(_row(["---"] * len(COLUMNS)))
        for f in findings:
            out.append(_row([md(get(f)) for _, get in COLUMNS]))
    elif not has_config(report):
        out.append("Regularizers unknown: the file holds no model configuration.")
    else:
        out.append("No regularizers found.")
    out.append("")

    training = report.get("training")
    out.append("### Training / weight decay")
    out.append("")
    if isinstance(training, dict):
        wd = training.get("weight_decay_display") or text(training.get("weight_decay")) or "none"
        out.append(f"- Optimizer: {md(training.get('optimizer') or 'none')}")
        out.append(f"- Weight decay: {md(wd)}")
        out.append(
            f"- Strict: {md(training.get('outcome') or 'unknown')}; lenient: "
            f"{md(training.get('outcome_lenient') or 'unknown')}"
        )
        if training.get("message"):
            out.append(f"- {md(training.get('message'))}")
        if training.get("recommended"):
            out.append(f"- Recommended: {md(training.get('recommended'))}")
    else:
        out.append("No training configuration in the file.")
    out.append("")

    out.append("### Verdict")
    out.append("")
    for mode in ("strict", "lenient"):
        word = verdict_word(verdict.get(f"importable_{mode}"))
        label = MODE_LABELS[mode]
        out.append(f"- {md(label[:1].upper() + label[1:])}: **{word}**")
    releases = release_line(report)
    if releases:
        out.append(f"- Imports in: {md(releases)} ({md(RELEASE_LEGEND)})")
    blocking = [as_dict(b) for b in as_list(verdict.get("blocking"))]
    if blocking:
        out += ["", "Blocking reasons:", ""]
        for b in blocking:
            modes = ", ".join(md(m) for m in as_list(b.get("modes")))
            where = md(b.get("layer")) if b.get("layer") else "(file)"
            out.append(f"- \\[{modes}\\] {where}: {md(b.get('code'))}: {md(b.get('message'))}")
    out.append("")

    notes = [as_dict(n) for n in as_list(report.get("notes"))]
    if notes:
        out += ["### Notes", ""]
        out += [f"- {md(n.get('code'))}: {md(n.get('message'))}" for n in notes]
        out.append("")

    out += _fix(report)
    out += ["### Summary", "", md(summary_line(report)), ""]
    if findings:
        out.append(_row(["Outcome", "Strict", "Lenient"]))
        out.append(_row(["---", "---:", "---:"]))
        strict = dict(summary_counts(report, "strict"))
        lenient = dict(summary_counts(report, "lenient"))
        for name in OUTCOMES:
            if name in strict or name in lenient:
                out.append(_row([name, str(strict.get(name, 0)), str(lenient.get(name, 0))]))
        out.append("")
    return "\n".join(out)


def _fix(report: dict[str, Any]) -> list[str]:
    """The fix as a checklist: import, then each setting; the rows it cannot fix after it."""
    parts = fix_parts(report)
    if parts is None:
        return []
    message, steps, rows = parts
    out = ["### Fix for DL4J", ""]
    if not steps:  # nothing to set, or no network to set it on
        return out + [f"No fix: {md(message)}.", ""]
    out += [f"{md(message[:1].upper() + message[1:])}. regaudit fix MODEL writes them as "
            "Java (docs/fix.md).", ""]
    out += [f"- [ ] {md(step)}" for step in steps]
    out += ["", md(L2_CONVENTION) + ".", ""]
    if rows:
        out += ["Not fixable:", ""] + [f"- {md(row)}" for row in rows] + [""]
    return out
