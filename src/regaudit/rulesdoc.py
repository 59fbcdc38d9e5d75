"""The importer's rule tables and the report's words as a document, in Markdown or HTML.

`python -m regaudit.rulesdoc > docs/import-rules.md`; `python -m regaudit.rulesdoc --html`
writes the same document as a page (build.py bundles it as `docs/import-rules.html`, where the
web page's legend links to its sections). Text may hold `code` spans, nothing else.
"""

from __future__ import annotations

import html as html_lib
import re
import sys
from dataclasses import fields

from regaudit import rules, vocabulary
from regaudit.codes import CODES, NOTES
from regaudit.importers import DEFAULT, PROFILES, Profile, short_name

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

# A document is a list of blocks: ("h1" | "h2" | "h3" | "p", text), ("ul", [text, ...]),
# ("table", [header, ...], [[cell, ...], ...]).
Block = tuple


def document() -> list[Block]:
    rows = [
        [r.reader, CONDITIONS[r.when], EFFECTS[r.strict], EFFECTS[r.lenient], f"`{r.code}`",
         r.message, "; ".join(f"`{t}`" for t in (r.error, r.warning) if t) or "nothing"]
        for r in rules.RULES
    ]
    return [
        ("h1", f"How {DEFAULT.name} treats each regularizer"),
        ("p", "Generated from `src/regaudit/rules.py` by `python -m regaudit.rulesdoc`; the audit "
              "reads the same tables. They started as a reading of the importer's source "
              "(`shared/spec/dl4j-import-rules.md`) and are checked against the real importer by "
              "`python build.py conformance` (`docs/conformance.md`), which overrides that "
              "reading where they differ."),
        ("p", "Layer- and file-level errors come first: a regularizer on a layer class the "
              "importer does not know, inside a nested model, or in a Keras 3 / `.keras` file is "
              "`error` in both modes. Coefficients all zero turn any non-error outcome into "
              "`noop`."),
        ("table", ["reader", "when the regularizer is", "strict (enforceTrainingConfig=true)",
                   "lenient", "code", "message", "the importer throws / logs"], rows),
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
        *_training_section(),
        *_graph_section(),
        *_releases_section(),
        *_codes_section(),
    ]


def _training_section() -> list[Block]:
    return [
        ("h2", "The training configuration (strict mode only)"),
        ("p", "With enforceTrainingConfig=true the importer reads `training_config`: "
              "`optimizer_config` (with `class_name` and `config`), then the loss. With false it "
              "reads none of it and every layer gets the default updater "
              f"(`{DEFAULT.default_updater}`)."),
        ("p", "KerasOptimizerUtils.mapOptimizer switches on the exact class name: case matters, "
              "no prefix is stripped (`Custom>Adam` fails), and Adagrad is spelt `Adgrad`. Each "
              "value it reads is cast to `double`: a missing key or JSON null is a "
              "NullPointerException (every tf.keras 2.11+ optimizer lacks `decay`), an integer or "
              "any other type a ClassCastException. \"`a` else `b`\" reads `a` when the config "
              "has it, else `b`."),
        ("table", ["class_name", "DL4J updater", "keys read, in order", "read when present"],
         [[f"`{name}`", f"`{case.updater}`",
           ", ".join(" else ".join(f"`{k}`" for k in keys) for keys in case.reads),
           ", ".join(f"`{k}`" for k in case.optional) or "-"]
          for name, case in DEFAULT.optimizers.items()]),
        ("p", "The loss (a string, a per-output map, or tf.keras's `{class_name, config: {name}}`) "
              "is lowercased and must be one of: "
              + ", ".join(f"`{n}`" for n in sorted(DEFAULT.losses)) + ". A loss saved as a list "
              "(or null) adds no loss layer: a functional model is then left with no outputs and "
              "fails; a Sequential model imports without a loss layer."),
    ]


def _graph_section() -> list[Block]:
    sized = ", ".join(f"`{n}`" for n in sorted(DEFAULT.sized_layers))
    walkers = ", ".join(f"`{n}`" for n in sorted(DEFAULT.input_channel_walkers))
    slow = ", ".join(f"`{n}`" for n in sorted(DEFAULT.orthogonal_svd_layers))
    return [
        ("h2", "Rules that depend on the layer graph"),
        ("ul", [
            f"{walkers} finds its input channels while it is built, by walking back through the "
            f"first input of each layer to one whose size is known then ({sized}). Reaching a "
            "layer with no input (the model's input) fails with IndexOutOfBoundsException, and "
            "in a Sequential model it always fails: the layers are linked only after they are "
            "built.",
            "A layer a functional model calls on several inputs (a shared layer) is imported "
            "once, over all its inputs merged (from 1.0.0-M1): its DL4J weights have another "
            "shape than the file's. M1 and M1.1 then fail to copy the stored weights (blocker "
            "`WEIGHTS_SHAPE`); from M2 the copy goes through, the stored values are not the ones "
            "DL4J holds, and DL4J's score is not the file's (note `WEIGHTS_NOT_STORED`). The "
            "same holds for the classes a release builds with another shape (release table).",
        ]),
        ("h2", "Where the outcome depends on more than these tables"),
        ("ul", [
            "A functional model with channels_first layers: DL4J infers the graph's shapes with "
            "the channels axis misplaced and fails in its shape inference or builds layers of "
            "the wrong size, depending on the sizes. The verdict is left unknown (note "
            "`CHANNELS_FIRST_GRAPH`).",
            f"{slow} with an orthogonal recurrent initializer: DL4J draws an orthogonal initial "
            "value (an SVD of a wide n × 4n matrix) before it loads the stored weights, which "
            "can run for minutes or never end (seen from 16 units). Note "
            "`ORTHOGONAL_INIT_MAY_HANG`.",
        ]),
    ]


# Profile fields shown in the release table, and how each reads.
RELEASE_FIELDS = {
    "known_layers": "layer classes built",
    "throwing_layers": "classes that always throw",
    "functional_roots": "functional root classes",
    "root_error": "wrong root: the importer says",
    "optimizers": "optimizer switch cases",
    "optimizer_names": "optimizer name matching",
    "losses": "loss names mapped",
    "loss_lowercase": "loss names lowercased",
    "loss_object_unwrapped": "tf.keras loss object read",
    "inbound_nodes": "calls of a layer read",
    "weight_copy": "stored weights copied into another shape",
    "sized_layers": "classes a DepthwiseConv2D's walk stops at",
    "top_level_weights_fail": "Keras 2.7+ top_level_model_weights fails",
    "sequential_batchnorm_fails": "BatchNormalization in a Sequential model fails",
    "upsampling2d_equal_sizes": "UpSampling2D needs equal sizes",
    "orthogonal_svd_layers": "orthogonal initial values can hang",
    "misshaped_layers": "classes built with another shape",
    "input_axis_layers": "an image input takes its channels axis from a following",
    "batchnorm_on_sequence_error": "BatchNormalization after a sequence fails with",
    "dense_after_permute": "Dense after Permute",
    "channels_first_sequential_unknown": "channels_first Sequential: verdict unknown",
    "unsized_image_fails": "an image input of unknown size fails",
}


def _value(name: str, value: object, before: object) -> str:
    """A profile field's value, as the change from the release before when it is a set."""
    if name == "known_layers":  # Keras 2 names
        value = value.get(2, frozenset())
        before = before.get(2, frozenset()) if before is not None else None
    if name == "misshaped_layers":  # per Keras major
        def tagged(by_major):
            return frozenset(f"{c} (Keras {m})" for m, cs in by_major.items() for c in cs)
        value = tagged(value)
        before = tagged(before) if before is not None else None
    if name == "optimizers":
        cases = {k: (c.reads, c.optional) for k, c in value.items()}
        old = {k: (c.reads, c.optional) for k, c in before.items()} if before else None
        if old is None:
            return ", ".join(f"`{k}`" for k in cases)
        changed = [f"`{k}`" for k in cases if old.get(k) != cases[k]]
        return ("cases " + ", ".join(f"`{k}`" for k in cases) if set(cases) != set(old)
                else "changed: " + ", ".join(changed) if changed else "=")
    if isinstance(value, frozenset | set) or hasattr(value, "keys"):
        keys = set(value)
        if before is None:
            listed = ", ".join(f"`{k}`" for k in sorted(keys))
            return f"{len(keys)}" if len(keys) > 6 else listed or "-"
        old = set(before)
        diff = [f"+`{k}`" for k in sorted(keys - old)] + [f"−`{k}`" for k in sorted(old - keys)]
        return ", ".join(diff) or "="
    if hasattr(value, "lowercase"):
        parts = (["lowercased"] if value.lowercase else ["exact"]) + (
            [f"strips `{value.strip_prefix}`"] if value.strip_prefix else [])
        text = ", ".join(parts)
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value).replace("{root}", "X") or "no (it imports)"
    before_text = _value(name, before, None) if before is not None and not isinstance(
        before, frozenset | set) and not hasattr(before, "keys") else None
    return "=" if before is not None and text == before_text else text


def _releases_section() -> list[Block]:
    profiles: list[Profile] = list(PROFILES.values())
    rows = []
    for name, label in RELEASE_FIELDS.items():
        cells, before = [], None
        for profile in profiles:
            value = getattr(profile, name)
            cells.append(_value(name, value, before))
            before = value
        rows.append([label, *cells])
    assert set(RELEASE_FIELDS) <= {f.name for f in fields(Profile)}
    return [
        ("h2", "Releases"),
        ("p", "One profile per DL4J release (`src/regaudit/importers.py`), each written as its "
              "differences from the release before it; `regaudit --importer NAME` (or `all`) "
              "chooses, and `python build.py conformance --importer NAME` checks a profile "
              "against that release's real importer. master is not on Maven Central: its "
              "profile is read from source and unverified. Everything above describes the "
              f"default, {DEFAULT.name}; everything not in this table is the same in every "
              "release (the regularizer readers and outcomes among it)."),
        ("ul", [f"`{short_name(p)}`{'' if p.verified else ' (unverified)'}: "
                + "; ".join(p.changes) for p in profiles]),
        ("p", "Differences, release by release (\"=\": as the release before; a set shows "
              "what it gains (+) and loses (−); layer classes are the Keras 2 names):"),
        ("table", ["what the release does", *(short_name(p) for p in profiles)], rows),
    ]


def _codes_section() -> list[Block]:
    out: list[Block] = [
        ("h2", "Reason codes"),
        ("p", "Every code a finding, blocker or training block can carry "
              "(`src/regaudit/codes.py`): where it appears, the outcomes it decides, and what to "
              "do. `--format sarif` names one rule per code and links here."),
    ]
    for entry in CODES.values():
        see = SEE_ALSO.get(entry.code)
        out += [("h3", entry.code), ("p", entry.description),
                ("p", f"Appears in: {', '.join(entry.where)}; outcomes: "
                      f"{', '.join(sorted(entry.outcomes))}."
                      + (f" See the section \u201c{see}\u201d." if see else ""))]
    return out


# A code whose details are one of the sections above.
SEE_ALSO = {
    "NEVER_READ": "Fields never read",
    "EXTRA_WEIGHTS": "Imported onto more weights than in Keras",
    "UNSUPPORTED_LAYER": "Layer classes the importer builds",
}


def markdown() -> str:
    lines: list[str] = []
    for kind, *body in document():
        if kind in ("h1", "h2", "h3"):
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


def anchor(heading: str) -> str:
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
        if kind in ("h1", "h2", "h3"):
            out.append(f'<{kind} id="{anchor(body[0])}">{_inline(body[0])}</{kind}>')
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


CODES_START, CODES_END = "<!-- codes:start -->", "<!-- codes:end -->"


def schema_codes() -> str:
    """The reason-code and note-code table of docs/report-schema.md."""
    rows = [f"| `{c.code}` | {', '.join(c.where)} | {', '.join(sorted(c.outcomes))} | "
            f"{c.description.replace('|', '/')} |" for c in CODES.values()]
    rows += [f"| `{code}` | note | - | {text.replace('|', '/')} |" for code, text in NOTES.items()]
    return "\n".join(["| code | where | outcomes it decides | meaning |", "|---|---|---|---|",
                      *rows])


def with_schema_codes(document: str) -> str:
    """`document` with its generated code table brought up to date."""
    head, rest = document.split(CODES_START, 1)
    _, tail = rest.split(CODES_END, 1)
    return f"{head}{CODES_START}\n{schema_codes()}\n{CODES_END}{tail}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--schema"]:  # rewrite the report schema's code table in place
        from pathlib import Path

        target = Path(sys.argv[2])
        target.write_text(with_schema_codes(target.read_text()))
    else:
        print(html() if sys.argv[1:] == ["--html"] else markdown(), end="")
