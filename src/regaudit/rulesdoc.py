"""The importer's rule tables and the report's words as a document, in Markdown or HTML.

`python -m regaudit.rulesdoc > docs/import-rules.md`; `python -m regaudit.rulesdoc --html`
writes the same document as a page (build.py bundles it as `docs/import-rules.html`, where the
web page's legend links to its sections). Text may hold `code` spans, nothing else.
"""

from __future__ import annotations

import html as html_lib
import re
import sys

from regaudit import rules, vocabulary
from regaudit.importers import DEFAULT

EFFECTS = {
    "read": "imported (applied, or altered when L2 > 0 or DL4J covers extra weights)",
    "lost": "dropped silently",
    "warn_read": "warning logged, value still imported",
    "warn_lost": "warning logged, regularizer lost (warned)",
    "error": "import fails (error)",
}
CONDITIONS = {
    "string": "a bare string (Keras 2 function)",
    "k1_coefficients": "Keras 1 flat dict with `l1`/`l2` keys",
    "unknown_keys_readable": "keys beyond l1, l2, name, class_name, config; class L1L2",
    "unknown_keys": "keys beyond l1, l2, name, class_name, config",
    "readable": "class `L1L2`, or Keras 1 `l1`/`l2` keys",
    "any": "anything else",
}

# A document is a list of blocks: ("h1" | "h2" | "p", text), ("ul", [text, ...]),
# ("table", [header, ...], [[cell, ...], ...]).
Block = tuple


def document() -> list[Block]:
    rows = [
        [r.reader, CONDITIONS[r.when], EFFECTS[r.strict], EFFECTS[r.lenient], f"`{r.code}`",
         r.message]
        for r in rules.RULES
    ]
    return [
        ("h1", f"How {DEFAULT.name} treats each regularizer"),
        ("p", "Generated from `src/regaudit/rules.py` by `python -m regaudit.rulesdoc`; the audit "
              "reads the same tables. Ground truth: `shared/spec/dl4j-import-rules.md`."),
        ("p", "Layer- and file-level errors come first: a regularizer on a layer class the "
              "importer does not know, inside a nested model, or in a Keras 3 / `.keras` file is "
              "`error` in both modes. Coefficients all zero turn any non-error outcome into "
              "`noop`."),
        ("table", ["reader", "when the regularizer is", "strict (enforceTrainingConfig=true)",
                   "lenient", "code", "message"], rows),
        ("p", "Readers: `kernel` (kernel_regularizer / W_regularizer), `bias`, `depthwise` "
              f"(on {', '.join(sorted(rules.DEPTHWISE_READERS))}), `batchnorm` (gamma/beta on "
              "BatchNormalization), `backward` (an explicit Bidirectional backward_layer), "
              "`never` (every other field)."),
        ("h2", "Outcomes"),
        ("p", "Each regularizer gets one outcome per mode. `dropped`, `warned` and `error` lose "
              "it; `altered` changes it; `applied` keeps it."),
        ("table", ["outcome", "counts as", "meaning"],
         [[f"`{o}`", rank, meaning]
          for o, (rank, meaning) in vocabulary.OUTCOME_MEANINGS.items()]),
        ("h2", "Modes"),
        ("p", "DL4J's `KerasModelImport` takes `enforceTrainingConfig`; regaudit reports every "
              "regularizer for both values."),
        ("ul", [f"{mode}: {meaning}" for mode, meaning in vocabulary.MODE_MEANINGS.items()]),
        ("h2", "Forms"),
        ("p", "The badge beside each regularizer says how the saved config writes it:"),
        ("table", ["form", "meaning"],
         [[f"`{form}`", meaning] for form, meaning in vocabulary.FORM_MEANINGS.items()]),
        ("p", f"{vocabulary.WRAPPER_MEANING}: the badge beside the layer name says which."),
        ("h2", "L2 convention"),
        ("p", vocabulary.L2_CONVENTION),
        ("h2", "Fields never read"),
        ("ul", [f"`{t}`: {why}" for t, why in rules.NEVER_READ_WHY.items()]),
        ("h2", "Imported onto more weights than in Keras"),
        ("ul", [f"{t} on `{c}`: also the {w} weights"
                for (t, c), w in rules.EXTRA_WEIGHTS.items()]),
        ("h2", "Layer classes the importer builds"),
        ("ul", [f"Keras {major}: {', '.join(f'`{n}`' for n in sorted(names))}"
                for major, names in sorted(DEFAULT.known_layers.items())]),
    ]


def markdown() -> str:
    lines: list[str] = []
    for kind, *body in document():
        if kind in ("h1", "h2"):
            lines += [f"{'#' * int(kind[1])} {body[0]}", ""]
        elif kind == "p":
            lines += [body[0], ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in body[0]] + [""]
        else:
            headers, rows = body
            lines.append(f"| {' | '.join(headers)} |")
            lines.append("|" + "---|" * len(headers))
            lines += [f"| {' | '.join(c.replace('|', '/') for c in row)} |" for row in rows]
            lines.append("")
    return "\n".join(lines[:-1]) + "\n"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading, so `#outcomes` works on the .md and on the page."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _inline(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html_lib.escape(text, quote=True))


def html() -> str:
    """The same document as a self-contained page (no script; the page's own style sheet)."""
    title = document()[0][1]
    out = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{html_lib.escape(title)}</title>",
        '<link rel="icon" href="../static/favicon.svg" type="image/svg+xml">',
        '<link rel="stylesheet" href="../static/style.css">',
        "</head>",
        "<body>",
        '<main class="doc">',
        '<p><a href="../">← back to regaudit</a></p>',
    ]
    for kind, *body in document():
        if kind in ("h1", "h2"):
            out.append(f'<{kind} id="{slug(body[0])}">{_inline(body[0])}</{kind}>')
        elif kind == "p":
            out.append(f"<p>{_inline(body[0])}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in body[0]) + "</ul>")
        else:
            headers, rows = body
            out.append('<table class="doc-table"><thead><tr>')
            out += [f'<th scope="col">{_inline(h)}</th>' for h in headers]
            out.append("</tr></thead><tbody>")
            for row in rows:
                out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>")
            out.append("</tbody></table>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(html() if sys.argv[1:] == ["--html"] else markdown(), end="")
