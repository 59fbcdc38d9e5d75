"""The importer's rule tables as Markdown: `python -m regaudit.rulesdoc > docs/import-rules.md`."""

from __future__ import annotations

from regaudit import rules
from regaudit.codes import CODES
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


def markdown() -> str:
    lines = [
        f"# How {DEFAULT.name} treats each regularizer",
        "",
        "Generated from `src/regaudit/rules.py` by `python -m regaudit.rulesdoc`; the audit "
        "reads the same tables. They started as a reading of the importer's source "
        "(`shared/spec/dl4j-import-rules.md`) and are checked against the real importer by "
        "`python build.py conformance` (docs/conformance.md), which overrides that reading "
        "where they differ.",
        "",
        "Layer- and file-level errors come first: a regularizer on a layer class the importer "
        "does not know, inside a nested model, or in a Keras 3 / `.keras` file is `error` in "
        "both modes. Coefficients all zero turn any non-error outcome into `noop`.",
        "",
        "| reader | when the regularizer is | strict (enforceTrainingConfig=true) | lenient | "
        "code | message | the importer throws / logs |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rules.RULES:
        said = "; ".join(f"`{t}`" for t in (r.error, r.warning) if t) or "nothing"
        lines.append(
            f"| {r.reader} | {CONDITIONS[r.when]} | {EFFECTS[r.strict]} | {EFFECTS[r.lenient]} "
            f"| `{r.code}` | {r.message.replace('|', '/')} | {said} |"
        )
    lines += ["", "Readers: `kernel` (kernel_regularizer / W_regularizer), `bias`, `depthwise` "
              f"(on {', '.join(sorted(rules.DEPTHWISE_READERS))}), `batchnorm` (gamma/beta on "
              "BatchNormalization), `backward` (an explicit Bidirectional backward_layer), "
              "`never` (every other field).", "",
              "## Fields never read", ""]
    lines += [f"- `{t}`: {why}" for t, why in rules.NEVER_READ_WHY.items()]
    lines += ["", "## Imported onto more weights than in Keras", ""]
    lines += [f"- {t} on `{c}`: also the {w} weights" for (t, c), w in rules.EXTRA_WEIGHTS.items()]
    lines += ["", "## Layer classes the importer builds", ""]
    for major, names in sorted(DEFAULT.known_layers.items()):
        lines.append(f"- Keras {major}: {', '.join(f'`{n}`' for n in sorted(names))}")
    lines += _training_section() + _graph_section()
    lines += ["", "## Reason codes", "",
              "Every code a finding, blocker or training block can carry "
              "(`src/regaudit/codes.py`): where it appears, the outcomes it decides, and what to "
              "do. `--format sarif` names one rule per code and links here.", ""]
    for entry in CODES.values():
        see = SEE_ALSO.get(entry.code)
        lines += [f"### {entry.code}", "",
                  f"{entry.description}", "",
                  f"Appears in: {', '.join(entry.where)}; outcomes: "
                  f"{', '.join(sorted(entry.outcomes))}." + (f" See [{see}](#{anchor(see)})."
                                                             if see else ""), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _training_section() -> list[str]:
    lines = ["", "## The training configuration (strict mode only)", "",
             "With enforceTrainingConfig=true the importer reads `training_config`: "
             "`optimizer_config` (with `class_name` and `config`), then the loss. With false it "
             "reads none of it and every layer gets the default updater "
             f"(`{DEFAULT.default_updater}`).", "",
             "KerasOptimizerUtils.mapOptimizer switches on the exact class name: case matters, "
             "no prefix is stripped (`Custom>Adam` fails), and Adagrad is spelt `Adgrad`. Each "
             "value it reads is cast to `double`: a missing key or JSON null is a "
             "NullPointerException (every tf.keras 2.11+ optimizer lacks `decay`), an integer or "
             "any other type a ClassCastException. \"`a` else `b`\" reads `a` when the config "
             "has it, else `b`.", "",
             "| class_name | DL4J updater | keys read, in order | read when present |",
             "|---|---|---|---|"]
    for name, case in DEFAULT.optimizers.items():
        reads = ", ".join(" else ".join(f"`{k}`" for k in keys) for keys in case.reads)
        optional = ", ".join(f"`{k}`" for k in case.optional) or "-"
        lines.append(f"| `{name}` | `{case.updater}` | {reads} | {optional} |")
    lines += ["", "The loss (a string, a per-output map, or tf.keras's `{class_name, config: "
              "{name}}`) is lowercased and must be one of: "
              + ", ".join(f"`{n}`" for n in sorted(DEFAULT.losses)) + ". A loss saved as a "
              "list (or null) adds no loss layer: a functional model is then left with no "
              "outputs and fails; a Sequential model imports without a loss layer."]
    return lines


def _graph_section() -> list[str]:
    sized = ", ".join(f"`{n}`" for n in sorted(DEFAULT.sized_layers))
    return [
        "", "## Rules that depend on the layer graph", "",
        "- " + ", ".join(f"`{n}`" for n in sorted(DEFAULT.input_channel_walkers)) + " finds its "
        "input channels while it is built, by walking back through the first input of each "
        f"layer to one whose size is known then ({sized}). Reaching a layer with no input (the "
        "model's input) fails with IndexOutOfBoundsException, and in a Sequential model it always "
        "fails: the layers are linked only after they are built.",
        "- A layer a functional model calls on several inputs (a shared layer) is imported once, "
        "over all its inputs merged: its DL4J weights have another shape than the file's, the "
        "stored values are not the ones DL4J holds, and DL4J's score is not the file's "
        "(note `SHARED_LAYER_MERGED`).",
        "", "## Where the outcome depends on more than these tables", "",
        "- A functional model with channels_first layers: DL4J infers the graph's shapes with "
        "the channels axis misplaced and fails in its shape inference or builds layers of the "
        "wrong size, depending on the sizes. The verdict is left unknown (note "
        "`CHANNELS_FIRST_GRAPH`).",
        "- " + ", ".join(f"`{n}`" for n in sorted(DEFAULT.orthogonal_svd_layers)) + " with an "
        "orthogonal recurrent initializer: DL4J draws an orthogonal initial value (an SVD of "
        "a wide n × 4n matrix) before it loads the stored weights, which can run for minutes "
        "or never end (seen from 16 units). Note `ORTHOGONAL_INIT_MAY_HANG`.",
    ]


# A code whose details are one of the sections above.
SEE_ALSO = {
    "NEVER_READ": "Fields never read",
    "EXTRA_WEIGHTS": "Imported onto more weights than in Keras",
    "UNSUPPORTED_LAYER": "Layer classes the importer builds",
}


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, spaces to '-', other punctuation dropped."""
    return "".join(c for c in heading.lower().replace(" ", "-") if c.isalnum() or c in "-_")


if __name__ == "__main__":
    print(markdown(), end="")
