"""HTML: the fragment the web page shows. Self-contained, no script, no style attributes.

The page runs under a strict Content-Security-Policy (no 'unsafe-inline'), so the fragment
styles itself only through classes. Every value from the file goes through `e()` (layer names
such as `<img src=x onerror=alert(1)>` come out as text). Outcomes are always written as words
as well as classes, so colour is never the only signal.

Classes the page can style:
  section.report[data-verdict-strict|data-verdict-lenient = importable|blocked|unknown]
  .report-header .report-file .report-source .report-verdict
  .verdict .verdict-importable|.verdict-blocked|.verdict-unknown
  .outcome .outcome-<applied|altered|dropped|warned|error|noop|unknown>
  .report-notes .note .note-code  .report-empty (no findings / unknown)  table.report-summary
  table.findings tr.finding[data-outcome][data-outcome-lenient]
  .finding-layer .wrapper .finding-class .finding-target .finding-regularizer .form
  .finding-equivalent .finding-recommended .finding-penalty .penalty-note
  .report-training  .report-blocking .blocker .blocker-modes .blocker-layer .blocker-code
"""

from __future__ import annotations

import html
from typing import Any

from regaudit.render.common import (
    MODE_LABELS,
    as_dict,
    as_list,
    file_name,
    has_config,
    layer_path,
    number,
    outcome_name,
    penalty_text,
    regularizer_display,
    source_parts,
    summary_counts,
    summary_line,
    text,
    verdict_outcome,
    verdict_word,
)
from regaudit.report import OUTCOMES

HEADERS = (
    "Layer",
    "Class",
    "Target",
    "Keras regularizer",
    "Documented DL4J equivalent",
    "Strict (enforceTrainingConfig=true)",
    "Lenient (enforceTrainingConfig=false)",
    "Recommended DL4J setting",
    "Penalty at stored weights",
)


def e(value: Any) -> str:
    """Escape for text and for double-quoted attribute values."""
    return html.escape(text(value), quote=True)


def setting(value: Any) -> str:
    """A DL4J builder call (`.l2(0.02)`, `.weightDecay(...)`) as code, any prose as text."""
    words = text(value)
    if words.startswith("."):
        call, sep, rest = words.partition(" (")
        return f"<code>{e(call)}</code>" + (f" ({e(rest)}" if sep else "")
    return e(words)


def _verdict_state(value: Any) -> str:
    if value is True:
        return "importable"
    return "blocked" if value is False else "unknown"


def outcome_span(value: Any, message: Any = None) -> str:
    name = outcome_name(value)
    title = f' title="{e(message)}"' if message else ""
    return f'<span class="outcome outcome-{name}"{title}>{e(value or "unknown")}</span>'


def _verdict_span(value: Any) -> str:
    state = _verdict_state(value)
    return (
        f'<span class="verdict verdict-{state} outcome outcome-{verdict_outcome(value)}">'
        f"{e(verdict_word(value))}</span>"
    )


def _header(report: dict[str, Any], verdict: dict[str, Any]) -> list[str]:
    out = ['<header class="report-header">', f'<h2 class="report-file">{e(file_name(report))}</h2>']
    parts = source_parts(report)
    if parts:
        out.append('<dl class="report-source">')
        out += [
            f"<dt>{e(label[:1].upper() + label[1:])}</dt><dd>{e(value)}</dd>"
            for label, value in parts
        ]
        out.append("</dl>")
    out.append('<dl class="report-verdict">')
    for mode in ("strict", "lenient"):
        out.append(
            f"<dt>{e(MODE_LABELS[mode])}</dt>"
            f"<dd>{_verdict_span(verdict.get(f'importable_{mode}'))}</dd>"
        )
    out += ["</dl>", "</header>"]
    return out


def _notes(report: dict[str, Any]) -> list[str]:
    notes = [as_dict(n) for n in as_list(report.get("notes"))]
    if not notes:
        return []
    out = ['<ul class="report-notes">']
    for n in notes:
        out.append(
            f'<li class="note" data-code="{e(n.get("code"))}">'
            f'<code class="note-code">{e(n.get("code"))}</code> {e(n.get("message"))}</li>'
        )
    out.append("</ul>")
    return out


def _summary(report: dict[str, Any]) -> list[str]:
    out = [f'<p class="report-summary-line">{e(summary_line(report))}</p>']
    strict = dict(summary_counts(report, "strict"))
    lenient = dict(summary_counts(report, "lenient"))
    names = [n for n in OUTCOMES if n in strict or n in lenient]
    if not names:
        return out
    out.append('<table class="report-summary">')
    out.append(
        '<thead><tr><th scope="col">Outcome</th><th scope="col">Strict</th>'
        '<th scope="col">Lenient</th></tr></thead>'
    )
    out.append("<tbody>")
    for name in names:
        out.append(
            f'<tr><th scope="row">{outcome_span(name)}</th>'
            f"<td>{strict.get(name, 0)}</td><td>{lenient.get(name, 0)}</td></tr>"
        )
    out += ["</tbody>", "</table>"]
    return out


def _penalty_cell(f: dict[str, Any]) -> str:
    penalty = f.get("penalty")
    if not isinstance(penalty, dict):
        note = e(penalty_text(f))
        return f'<td class="finding-penalty"><span class="penalty-note">{note}</span></td>'
    tensors = ", ".join(text(t) for t in as_list(penalty.get("tensors")))
    detail = (
        f"tensors: {tensors}; elements {text(penalty.get('count'))}; "
        f"sum |w| {number(penalty.get('sum_abs'), 8)}; sum w^2 {number(penalty.get('sum_sq'), 8)}"
    )
    return f'<td class="finding-penalty" title="{e(detail)}">{e(penalty_text(f))}</td>'


def _finding_row(f: dict[str, Any]) -> str:
    strict = outcome_name(f.get("outcome"))
    lenient = outcome_name(f.get("outcome_lenient"))
    wrapper = f.get("wrapper")
    wrapper_html = f' <span class="wrapper">{e(wrapper)}</span>' if wrapper else ""
    reg = as_dict(f.get("regularizer"))
    form = f' <span class="form">{e(f.get("form"))}</span>' if f.get("form") else ""
    codes = " ".join(text(c) for c in as_list(f.get("codes")))
    codes_lenient = " ".join(text(c) for c in as_list(f.get("codes_lenient")))
    cells = [
        f'<td class="finding-layer">{e(layer_path(f))}{wrapper_html}</td>',
        f'<td class="finding-class">{e(f.get("layer_class"))}</td>',
        f'<td class="finding-target" title="{e(f.get("field"))}">{e(f.get("target"))}</td>',
        f'<td class="finding-regularizer" title="{e(reg.get("class"))}">'
        f"<code>{e(regularizer_display(f))}</code>{form}</td>",
        f'<td class="finding-equivalent">{e(f.get("dl4j_equivalent"))}</td>',
        f'<td class="finding-outcome" data-codes="{e(codes)}">'
        f"{outcome_span(f.get('outcome'), f.get('message'))}</td>",
        f'<td class="finding-outcome" data-codes="{e(codes_lenient)}">'
        f"{outcome_span(f.get('outcome_lenient'), f.get('message_lenient'))}</td>",
        f'<td class="finding-recommended">{setting(f.get("recommended"))}</td>',
        _penalty_cell(f),
    ]
    return (
        f'<tr class="finding" data-outcome="{strict}" data-outcome-lenient="{lenient}">'
        + "".join(cells)
        + "</tr>"
    )


def _findings(report: dict[str, Any], verdict_known: bool) -> list[str]:
    findings = [as_dict(f) for f in as_list(report.get("findings"))]
    if not findings:
        if verdict_known:
            return ['<p class="report-empty">No regularizers found.</p>']
        return [
            '<p class="report-empty report-unknown">Regularizers unknown: '
            "the file holds no model configuration.</p>"
        ]
    out = ['<table class="findings">', "<thead><tr>"]
    out += [f'<th scope="col">{e(h)}</th>' for h in HEADERS]
    out += ["</tr></thead>", "<tbody>"]
    out += [_finding_row(f) for f in findings]
    out += ["</tbody>", "</table>"]
    return out


def _training(report: dict[str, Any]) -> list[str]:
    training = report.get("training")
    out = ['<section class="report-training">', "<h3>Training / weight decay</h3>"]
    if not isinstance(training, dict):
        out += ['<p class="report-empty">No training configuration in the file.</p>', "</section>"]
        return out
    wd = training.get("weight_decay_display") or text(training.get("weight_decay")) or "none"
    out.append("<dl>")
    out.append(f"<dt>Optimizer</dt><dd>{e(training.get('optimizer') or 'none')}</dd>")
    out.append(f"<dt>Weight decay</dt><dd>{e(wd)}</dd>")
    out.append(
        f"<dt>{e(MODE_LABELS['strict'])}</dt>"
        f"<dd>{outcome_span(training.get('outcome'), training.get('message'))}</dd>"
    )
    out.append(
        f"<dt>{e(MODE_LABELS['lenient'])}</dt>"
        f"<dd>{outcome_span(training.get('outcome_lenient'))}</dd>"
    )
    if training.get("message"):
        out.append(f"<dt>What the importer does</dt><dd>{e(training.get('message'))}</dd>")
    if training.get("recommended"):
        recommended = setting(training.get("recommended"))
        out.append(f"<dt>Recommended DL4J setting</dt><dd>{recommended}</dd>")
    out += ["</dl>", "</section>"]
    return out


def _blocking(verdict: dict[str, Any], verdict_known: bool) -> list[str]:
    if not verdict_known:
        return []
    out = ['<section class="report-blocking">', "<h3>Blocking reasons</h3>"]
    blockers = [as_dict(b) for b in as_list(verdict.get("blocking"))]
    if not blockers:
        both = all(verdict.get(f"importable_{m}") is True for m in ("strict", "lenient"))
        empty = ("None: the file imports in both modes." if both else
                 "No blocking reason found; where the verdict is unknown, the notes say why.")
        out += [f'<p class="report-empty">{empty}</p>', "</section>"]
        return out
    out.append("<ul>")
    for b in blockers:
        modes = [text(m) for m in as_list(b.get("modes"))]
        layer = b.get("layer")
        where = (
            f'<span class="blocker-layer">{e(layer)}</span>'
            if layer
            else '<span class="blocker-layer blocker-file">(file)</span>'
        )
        out.append(
            f'<li class="blocker" data-modes="{e(" ".join(modes))}">'
            f'<span class="blocker-modes">{e(", ".join(modes))}</span> {where} '
            f'<code class="blocker-code">{e(b.get("code"))}</code> {e(b.get("message"))}</li>'
        )
    out += ["</ul>", "</section>"]
    return out


def render_html(report: dict[str, Any]) -> str:
    verdict = as_dict(report.get("verdict"))
    strict, lenient = verdict.get("importable_strict"), verdict.get("importable_lenient")
    known = has_config(report)
    out = [
        f'<section class="report" data-verdict-strict="{_verdict_state(strict)}" '
        f'data-verdict-lenient="{_verdict_state(lenient)}">'
    ]
    out += _header(report, verdict)
    out += _notes(report)
    out += _summary(report)
    out += _findings(report, known)
    out += _training(report)
    out += _blocking(verdict, known)
    out.append("</section>")
    return "\n".join(out) + "\n"
