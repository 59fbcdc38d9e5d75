"""HTML: the fragment the web page shows. Self-contained, no script, no style attributes.

The page runs under a strict Content-Security-Policy (no 'unsafe-inline'), so the fragment
styles itself only through classes. Every value from the file goes through `e()` (layer names
such as `<img src=x onerror=alert(1)>` come out as text). Outcomes are always written as words
as well as classes, so colour is never the only signal.

Every reason is in the text (never only in a tooltip): each finding's row is followed by a
row with the reasons for both modes, the same text as the Markdown report's "Why" column, and
each mode's verdict says in one line what happens and what to do (render/verdict.py).

Classes the page can style:
  section.report[data-verdict-strict|data-verdict-lenient = importable|blocked|unknown]
  .report-header .report-file .report-source .report-verdict
  .verdict[data-mode][data-verdict] .verdict-<kept|changed|lost|blocked|unknown>
  .verdict-mode .verdict-line .verdict-action
  .outcome .outcome-<applied|altered|dropped|warned|error|noop|unknown>
  .report-notes .note .note-code  .report-empty (no findings / unknown)  table.report-summary
  table.findings tbody.finding-group: tr.finding[data-outcome][data-outcome-lenient], then
    tr.finding-why: .why .why-strict .why-lenient .why-mode .why-text
  td[data-label] (the column's header, for a stacked layout on phones)
  .finding-layer .wrapper .finding-class .finding-target .finding-regularizer .form
  .finding-equivalent .finding-recommended .recommended-moot .finding-penalty .penalty-note
  .report-training  .report-blocking .blocker .blocker-modes .blocker-layer .blocker-code
  .blocker-action
  section.report-fix[data-fix-status]: .fix-summary .fix-actions (the page adds the copy button
    and the download there) .fix-body: .fix-main (ol.fix-steps .fix-convention details.fix-java
    pre.fix-code) .fix-not-fixable (.fix-row)
"""

from __future__ import annotations

import html
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
    layer_path,
    number,
    outcome_name,
    penalty_text,
    regularizer_display,
    release_line,
    source_parts,
    summary_counts,
    summary_line,
    text,
)
from regaudit.render.java import page_java, release_of
from regaudit.render.verdict import action, layer_blocked, top_layer, verdict
from regaudit.report import OUTCOMES

# Short headers that wrap only between words; the legend and the verdict spell out the modes.
HEADERS = (
    "Layer",
    "Class",
    "Target",
    "Keras regularizer",
    "Documented DL4J equivalent",
    "Strict",
    "Lenient",
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


def breakable(value: Any) -> str:
    """Escaped, with line-break chances before `(` and between calls: `L2Regularization` /
    `(0.01)`, `.l1(0.001)` / `.l2(0.004)`, never inside a number."""
    return re.sub(r"(?=\()|(?<=\))(?=\.)", "<wbr>", e(value))


def _verdict_state(value: Any) -> str:
    if value is True:
        return "importable"
    return "blocked" if value is False else "unknown"


def outcome_span(value: Any) -> str:
    name = outcome_name(value)
    return f'<span class="outcome outcome-{name}">{e(value or "unknown")}</span>'


def _verdict(report: dict[str, Any], mode: str) -> str:
    """One mode's verdict: the mode, one line on what happens, and what to do."""
    v = verdict(report, mode)
    todo = what_to_do("verdict-action", v.action)
    return (
        f'<div class="verdict verdict-{v.state}" data-mode="{mode}" data-verdict="{v.state}">'
        f'<dt class="verdict-mode">{e(MODE_LABELS[mode])}</dt>'
        f'<dd><span class="verdict-line">{sentence(v.line)}</span>{todo}</dd></div>'
    )


def what_to_do(css_class: str, advice: str) -> str:
    return f' <span class="{css_class}">What to do: {sentence(advice)}</span>' if advice else ""


def sentence(value: Any) -> str:
    """Escaped text ending in one full stop."""
    words = text(value).rstrip()
    return e(words if words.endswith(".") else words + ".")


def _header(report: dict[str, Any]) -> list[str]:
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
    out += [_verdict(report, mode) for mode in ("strict", "lenient")]
    out.append("</dl>")
    releases = release_html(report)
    if releases:
        out.append(releases)
    out.append("</header>")
    return out


def release_html(report: dict[str, Any]) -> str:
    """The "Imports in" line of the report's header ("" without release verdicts)."""
    releases = release_line(report)
    if not releases:
        return ""
    return (f'<p class="report-releases">Imports in: {e(releases)} '
            f'<span class="releases-legend">({e(RELEASE_LEGEND)})</span></p>')


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


def _recommended_cell(report: dict[str, Any], f: dict[str, Any]) -> str:
    if layer_blocked(report, f):  # no setting applies to a layer DL4J does not build
        moot = e(f"none: DL4J cannot build {top_layer(f)}")
        return f'<td class="finding-recommended"><span class="recommended-moot">{moot}</span></td>'
    return f'<td class="finding-recommended">{setting(f.get("recommended"))}</td>'


def _why_row(f: dict[str, Any]) -> str:
    """The reasons, readable without hovering: strict's is the Markdown "Why (strict)" text."""
    strict, lenient = text(f.get("message")), text(f.get("message_lenient"))
    if lenient in ("", strict):
        parts = [("why-strict why-lenient", "Why (both modes):", strict)]
    else:
        parts = [
            ("why-strict", "Why (strict):", strict),
            ("why-lenient", "Why (lenient):", lenient),
        ]
    spans = " ".join(
        f'<span class="why {cls}"><span class="why-mode">{label}</span> '
        f'<span class="why-text">{e(message)}</span></span>'
        for cls, label, message in parts
    )
    return f'<tr class="finding-why"><td colspan="{len(HEADERS)}">{spans}</td></tr>'


def _finding_rows(report: dict[str, Any], f: dict[str, Any]) -> str:
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
        f'<td class="finding-equivalent">{breakable(f.get("dl4j_equivalent"))}</td>',
        f'<td class="finding-outcome" data-codes="{e(codes)}">'
        f"{outcome_span(f.get('outcome'))}</td>",
        f'<td class="finding-outcome" data-codes="{e(codes_lenient)}">'
        f"{outcome_span(f.get('outcome_lenient'))}</td>",
        _recommended_cell(report, f),
        _penalty_cell(f),
    ]
    labelled = [
        cell.replace("<td ", f'<td data-label="{e(header)}" ', 1)
        for header, cell in zip(HEADERS, cells, strict=True)
    ]
    return (
        '<tbody class="finding-group">'
        f'<tr class="finding" data-outcome="{strict}" data-outcome-lenient="{lenient}">'
        + "".join(labelled)
        + "</tr>"
        + _why_row(f)
        + "</tbody>"
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
    out += ["</tr></thead>"]
    out += [_finding_rows(report, f) for f in findings]
    out += ["</table>"]
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
        f"<dd>{outcome_span(training.get('outcome'))}</dd>"
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
        todo_html = what_to_do("blocker-action", action(b))
        out.append(
            f'<li class="blocker" data-modes="{e(" ".join(modes))}">'
            f'<span class="blocker-modes">{e(", ".join(modes))}</span> {where} '
            f'<code class="blocker-code">{e(b.get("code"))}</code> {e(b.get("message"))}'
            f"{todo_html}</li>"
        )
    out += ["</ul>", "</section>"]
    return out


def _fix(report: dict[str, Any], java: str | None) -> list[str]:
    """"Fix for DL4J": the recipe as steps, the Java (the page adds Copy and a download), and
    beside it the rows no DL4J setting can express."""
    parts = fix_parts(report)
    if parts is None:
        return []
    message, steps, rows = parts
    status = as_dict(report.get("fix")).get("status")
    out = [f'<section class="report-fix" data-fix-status="{e(status)}">', "<h3>Fix for DL4J</h3>"]
    java = (java or page_java(report)) if steps else None
    if java is None:
        out += [f'<p class="report-empty">No fix: {sentence(message)}</p>', "</section>"]
        return out
    lines = java.count("\n")
    out += [f'<p class="fix-summary">{sentence(message[:1].upper() + message[1:])} Run the Java '
            f"below after the import of DL4J {e(release_of(report))}: it sets each layer's "
            "regularization by name.</p>",
            '<div class="fix-actions"></div>', '<div class="fix-body">', '<div class="fix-main">',
            '<ol class="fix-steps">']
    out += [f'<li class="fix-step">{e(step)}</li>' for step in steps]
    out += ["</ol>", f'<p class="fix-convention">{sentence(L2_CONVENTION)}</p>',
            f'<details class="fix-java"><summary>The Java ({lines} lines)</summary>'
            f'<pre class="fix-code"><code>{e(java)}</code></pre></details>', "</div>",
            '<div class="fix-not-fixable">', "<h4>Not fixable</h4>"]
    if rows:
        out += ["<ul>"] + [f'<li class="fix-row">{e(row)}</li>' for row in rows] + ["</ul>"]
    else:
        out.append('<p class="report-empty">None: DL4J can hold every regularizer of this '
                   "model.</p>")
    out += ["</div>", "</div>", "</section>"]
    return out


def fix_html(report: dict[str, Any], java: str | None = None) -> str:
    """The "Fix for DL4J" section alone ("" when the report has no fix block)."""
    return "\n".join(_fix(report, java))


def render_html(report: dict[str, Any], java: str | None = None, fix: bool = True) -> str:
    """One report as an HTML section; `java`: the fix's Java when the caller has it already
    (render.java.page_java), else it is rendered here; without `fix`, no fix section (the page
    shows the table first and adds it with fix_html)."""
    judged = as_dict(report.get("verdict"))
    strict, lenient = judged.get("importable_strict"), judged.get("importable_lenient")
    known = has_config(report)
    out = [
        f'<section class="report" data-verdict-strict="{_verdict_state(strict)}" '
        f'data-verdict-lenient="{_verdict_state(lenient)}">'
    ]
    out += _header(report)
    out += _notes(report)
    out += _summary(report)
    out += _findings(report, known)
    out += _training(report)
    out += _blocking(judged, known)
    if fix:
        out += _fix(report, java)
    out.append("</section>")
    return "\n".join(out) + "\n"
