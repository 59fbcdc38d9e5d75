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
        "reads the same tables. Ground truth: `shared/spec/dl4j-import-rules.md`.",
        "",
        "Layer- and file-level errors come first: a regularizer on a layer class the importer "
        "does not know, inside a nested model, or in a Keras 3 / `.keras` file is `error` in "
        "both modes. Coefficients all zero turn any non-error outcome into `noop`.",
        "",
        "| reader | when the regularizer is | strict (enforceTrainingConfig=true) | lenient | "
        "code | message |",
        "|---|---|---|---|---|---|",
    ]
    for r in rules.RULES:
        lines.append(
            f"| {r.reader} | {CONDITIONS[r.when]} | {EFFECTS[r.strict]} | {EFFECTS[r.lenient]} "
            f"| `{r.code}` | {r.message.replace('|', '/')} |"
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
