"""Java: the fix plan (regaudit.fix) as a self-contained Java 17 source file for the DL4J release
the report was audited for (its `importer`; 1.0.0-M2.1 by default).

One class per model file: `apply(net)` takes the network DL4J's Keras import built and sets the
regularization of each layer, found by its name; `main` shows the whole recipe (import, apply,
print the regularization score). The class is package-private so that the file compiles under
any name (the page offers `<file>.Fix.java`).

Everything from the model file (layer names, regularizer classes) is written through
`java_text`: printable ASCII, quotes and backslashes escaped, nothing that ends a string literal
or a `//` comment. Comments say what each line does and list the rows left as they are.
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any

from regaudit.coeffs import shortest
from regaudit.fix import BIDIRECTIONAL, change_text, plan, row_text, strict_failure
from regaudit.importers import DEFAULT, PROFILES

WIDTH = 100
JAVA_KEYWORDS = frozenset(
    """abstract assert boolean break byte case catch char class const continue default do double
    else enum extends final finally float for goto if implements import instanceof int interface
    long native new package private protected public return short static strictfp super switch
    synchronized this throw throws transient try void volatile while true false null var record
    yield sealed permits _""".split()
)
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}


def java_text(value: Any) -> str:
    """The body of a Java string literal for `value`, in printable ASCII. Control characters
    become octal escapes: a \\u escape of a line break would end the literal (javac translates
    \\u escapes before anything else), and a doubled backslash keeps a `\\u` that the text
    itself holds from being translated, in code and in comments alike."""
    out = []
    for ch in str(value):
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\{code:03o}")
        else:
            units = ch.encode("utf-16-be", "surrogatepass")
            out += [f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)]
    return "".join(out)


def java_string(value: Any) -> str:
    return f'"{java_text(value)}"'


def valid_class_name(name: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(name)) and name not in JAVA_KEYWORDS


def class_name_for(file_name: str) -> str:
    """`conv.h5` -> `ConvFix`; `keras_3layer.h5` -> `Keras3layerFix`; `1.h5` -> `Model1Fix`."""
    stem = file_name.split(".", 1)[0]
    words = re.findall(r"[A-Za-z0-9]+", stem)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    return ("Model" + name if name[0].isdigit() else name) + "Fix"


# Signs regaudit's own texts use, in ASCII for a comment (java_text would escape them).
_PLAIN = str.maketrans({"×": "x", "·": "*", "Σ": "sum ", "²": "^2", "½": "1/2"})


def _comment(text: str, indent: str = "", first: str = "", rest: str = "") -> list[str]:
    """`text` as `//` lines of at most WIDTH columns, escaped like a string literal's body."""
    lines = textwrap.wrap(java_text(text.translate(_PLAIN)), WIDTH - len(indent) - 3 - len(first),
                          break_long_words=False, break_on_hyphens=False) or [""]
    return [f"{indent}// {first if i == 0 else rest}{line}".rstrip()
            for i, line in enumerate(lines)]


def _penalty(fix: dict[str, Any]) -> float | None:
    """Keras's penalty of the fixed rows, when every one of them has one (weights stored)."""
    value = fix["penalty"]["fixed"]
    return value if isinstance(value, float) and math.isfinite(value) else None


def _number(value: float) -> str:
    """A double literal: the shortest decimal that is the same float32 (Keras stores float32)."""
    text = shortest(value)
    return text if any(c in text for c in ".eE") else text + ".0"


def _regs(regs: list[dict[str, Any]]) -> str:
    return "regs(" + ", ".join(f"new {r['class']}({_number(r['coefficient'])})"
                               for r in regs) + ")"


def render_java(report: dict[str, Any], class_name: str | None = None,
                java_file: str | None = None) -> str | None:
    """The Java source of the report's fix, or None when there is nothing to import (the plan's
    status says why: no configuration, not importable, verdict unknown). `java_file`: the name
    it will be saved under, for the comment that says how to run it."""
    fix = report.get("fix") or plan(report)
    if fix["status"] not in ("fix", "nothing_to_fix"):
        return None
    source = report.get("source") or {}
    file = str(source.get("file") or "model.h5")
    name = class_name or class_name_for(file)
    if not valid_class_name(name):
        raise ValueError(f"not a Java class name: {name!r}")
    findings = report.get("findings") or []
    network = fix["network"]
    config_only = source.get("format") == "json-config"
    out = _header(report, fix, name, file, java_file or f"{name}.java")
    out += _imports(fix, config_only)
    out += ["", f"final class {name} {{"]
    penalty = _penalty(fix)
    if penalty is not None:
        out += ["    /** Keras's penalty at the stored weights for the rows this fix covers, as "
                "regaudit computes it. */",
                f"    static final double KERAS_PENALTY_FIXED = {penalty!r};", ""]
    out += [f"    private {name}() {{}}", ""]
    out += _apply(fix, findings, network)
    out += _main(report, fix, file, network, config_only)
    out += _helpers()
    out.append("}")
    return "\n".join(out) + "\n"


def page_file_name(report: dict[str, Any]) -> str:
    """What the page names the download: `<model file>.Fix.java`."""
    return f"{(report.get('source') or {}).get('file') or 'model'}.Fix.java"


def page_java(report: dict[str, Any]) -> str | None:
    """The Java the page shows, copies and downloads (as page_file_name), or None."""
    try:
        return render_java(report, java_file=page_file_name(report))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None  # a hand-made or cut-down report dict: the page shows no Java


def release_of(report: dict[str, Any]) -> str:
    """The DL4J release the report was audited for (the default for an older report)."""
    profile = PROFILES.get(report.get("importer") or "", DEFAULT)
    return profile.release


def _header(report: dict[str, Any], fix: dict[str, Any], name: str, file: str,
            java_file: str) -> list[str]:
    source = report.get("source") or {}
    keras = source.get("keras_version")
    release = release_of(report)
    out = _comment(f"{name}: written by regaudit from {file}"
                   + (f" (Keras {keras})" if keras else "")
                   + f" for Deeplearning4j {release}.")
    out.append("//")
    out += _comment(
        f"{name}.apply(net) sets the L1/L2 regularization of each layer of the network DL4J's "
        "Keras import built from this file, so that DL4J penalises the weights Keras penalised, "
        "by the same amount: the rows listed under 'Not fixable' excepted. Each layer is found "
        "by its name and checked to be the DL4J class the import builds for it; a missing or "
        "different layer throws an IllegalStateException naming it, so a changed model never "
        "gets a silently wrong fix. DL4J reads a layer's regularization when it computes the "
        "score and the update, so setting it after the import works (checked by regaudit's "
        "conformance harness: docs/fix.md).")
    out.append("//")
    out += _comment("Keras's L2 adds l2 * sum(w^2) to the loss; DL4J's L2Regularization(c) adds "
                    "0.5 * c * sum(w^2), so c = 2 * l2. L1 is the same in both.")
    out.append("//")
    out += _comment(f"Run it with DL4J {release} (deeplearning4j-modelimport and nd4j-native, "
                    "with their dependencies) in lib/; Java 11 and later run a source file as it "
                    "is:")
    out += _comment(f"java -cp 'lib/*' {java_file} {file}", first="  ", rest="  ")
    out += _comment(f"or compile it with your code (javac -cp 'lib/*' ...) and call "
                    f"{name}.apply(net) after the import.")
    out.append("//")
    rows = fix["not_fixable"]
    if rows:
        out += _comment(f"Not fixable ({len(rows)} row{'s' if len(rows) != 1 else ''}): after "
                        "apply(), DL4J penalises none of these, rather than something Keras did "
                        "not:")
        for row in rows:
            out += _comment(row_text(row) + ".", first="  - ", rest="    ")
    else:
        out += _comment("Not fixable: none.")
    if fix.get("training"):
        out.append("//")
        out += _comment(f"Weight decay: {fix['training']}.")
    return out


def _imports(fix: dict[str, Any], config_only: bool) -> list[str]:
    classes = {c["java_class"] for c in fix["changes"]}
    if any(c["bidirectional"] for c in fix["changes"]):
        classes.add(BIDIRECTIONAL)
    regs = {r["class"] for c in fix["changes"] for r in c["regularization"]}
    network = {"MultiLayerNetwork": "org.deeplearning4j.nn.multilayer.MultiLayerNetwork",
               "ComputationGraph": "org.deeplearning4j.nn.graph.ComputationGraph"}
    names = {
        "java.util.ArrayList", "java.util.Arrays", "java.util.List",
        "org.deeplearning4j.nn.conf.layers.BaseLayer", "org.deeplearning4j.nn.conf.layers.Layer",
        "org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional",
        "org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer",
        "org.deeplearning4j.nn.modelimport.keras.KerasModelImport",
        "org.nd4j.linalg.learning.regularization.Regularization",
        network[fix["network"]], *classes,
        *(f"org.nd4j.linalg.learning.regularization.{r}" for r in regs),
    }
    if config_only:
        names.add(network[fix["network"]].replace("multilayer.MultiLayerNetwork",
                                                  "conf.MultiLayerConfiguration")
                  .replace("graph.ComputationGraph", "conf.ComputationGraphConfiguration"))
    return [""] + [f"import {n};" for n in sorted(names)]


def _apply(fix: dict[str, Any], findings: list[dict[str, Any]], network: str) -> list[str]:
    out = ["    /** Sets the regularization Keras had on the network DL4J imported from the model "
           "file. */",
           f"    static void apply({network} net) {{"]
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for change in fix["changes"]:
        by_layer.setdefault(change["layer"], []).append(change)
    if not by_layer:
        out += _comment(fix["message"], indent="        ")
    else:
        out.append("        org.deeplearning4j.nn.api.Layer[] layers = net.getLayers();")
    for layer, changes in by_layer.items():
        first = changes[0]
        dl4j, keras = first["dl4j_class"], first["keras_class"]
        out += _comment(f"{layer}: Keras Bidirectional({keras}), DL4J Bidirectional: the {dl4j} "
                        "of each direction" if first["bidirectional"] else
                        f"{layer}: Keras {keras}, DL4J {dl4j}", indent="        ")
        found = (f"find(layers, {java_string(layer)}, {dl4j}.class, "
                 f"{'true' if first['bidirectional'] else 'false'})) {{")
        loop = f"        for ({dl4j} layer : {found}"
        out += ([loop] if len(loop) <= WIDTH
                else [f"        for ({dl4j} layer", f"                : {found}"])
        for change in changes:
            setter = "setRegularization" if change["kind"] == "weights" else "setRegularizationBias"
            out += _comment(change_text(change, findings), indent="            ")
            out.append(f"            layer.{setter}({_regs(change['regularization'])});")
        out.append("        }")
    out += ["    }", ""]
    return out


def _main(report: dict[str, Any], fix: dict[str, Any], file: str, network: str,
          config_only: bool) -> list[str]:
    strict = fix["mode"] == "strict"
    sequential = network == "MultiLayerNetwork"
    out = ["    public static void main(String[] args) throws Exception {",
           f"        String file = args.length > 0 ? args[0] : {java_string(file)};"]
    if strict:
        out += _comment("enforceTrainingConfig=true: the file imports with its training "
                        "configuration (optimizer, loss)", indent="        ")
    else:
        out += _comment("enforceTrainingConfig=false: the strict import fails on this file "
                        f"({strict_failure(report)})", indent="        ")
    for note in report.get("notes") or []:
        if note.get("code") == "ORTHOGONAL_INIT_MAY_HANG":
            out += _comment(f"The import may hang: {note.get('message')}", indent="        ")
    flag = "true" if strict else "false"
    if config_only:
        conf = "MultiLayerConfiguration" if sequential else "ComputationGraphConfiguration"
        call = ("importKerasSequentialConfiguration" if sequential
                else "importKerasModelConfiguration")
        out += [f"        {conf} conf = KerasModelImport.{call}(file, {flag});",
                f"        {network} net = new {network}(conf);",
                "        net.init(); // a configuration holds no weights: scores below are at "
                "random initial weights"]
    else:
        call = ("importKerasSequentialModelAndWeights" if sequential
                else "importKerasModelAndWeights")
        out.append(f"        {network} net = KerasModelImport.{call}(file, {flag});")
    out += ['        System.out.println("DL4J regularization score as imported:   "',
            "                + net.calcRegularizationScore(true));",
            "        apply(net);",
            '        System.out.println("DL4J regularization score after the fix: "',
            "                + net.calcRegularizationScore(true));"]
    if _penalty(fix) is not None and not config_only:
        out += ['        System.out.println("Keras penalty of the rows the fix covers: "',
                "                + KERAS_PENALTY_FIXED + \" (regaudit, at the stored weights)\");"]
        rest = fix["penalty"]["not_fixable"]
        if fix["not_fixable"] and isinstance(rest, float) and math.isfinite(rest) and rest:
            unknown = " + ?" if fix["penalty"]["not_fixable_unknown"] else ""
            out += ['        System.out.println("Keras penalty of the rows not fixable:  "',
                    f'                + "{rest!r}{unknown} (not in DL4J\'s score)");']
    out += ["    }", ""]
    return out


def _helpers() -> list[str]:
    return """\
    /**
     * The configuration of the layer DL4J named {@code name} (for a Bidirectional layer, its two
     * directions), inside a LastTimeStep or TimeDistributed wrapper if there is one, checked to
     * be a {@code type}: it is the object DL4J reads the regularization from.
     */
    private static <T extends BaseLayer> List<T> find(org.deeplearning4j.nn.api.Layer[] layers,
            String name, Class<T> type, boolean bidirectional) {
        for (org.deeplearning4j.nn.api.Layer layer : layers) {
            Layer conf = layer.conf().getLayer();
            if (!name.equals(conf.getLayerName())) {
                continue;
            }
            if (bidirectional != conf instanceof Bidirectional) {
                throw new IllegalStateException("regaudit fix: layer \\"" + name + "\\" is a "
                        + conf.getClass().getSimpleName() + ", not the "
                        + (bidirectional ? "Bidirectional " : "") + type.getSimpleName()
                        + " this fix was written for");
            }
            List<T> out = new ArrayList<>();
            if (conf instanceof Bidirectional) {
                out.add(expect(((Bidirectional) conf).getFwd(), name, type));
                out.add(expect(((Bidirectional) conf).getBwd(), name, type));
            } else {
                out.add(expect(conf, name, type));
            }
            return out;
        }
        throw new IllegalStateException("regaudit fix: the network has no layer named \\"" + name
                + "\\": it is not the model this fix was written for");
    }

    private static <T extends BaseLayer> T expect(Layer conf, String name, Class<T> type) {
        Layer inner = conf;
        while (!type.isInstance(inner) && inner instanceof BaseWrapperLayer) {
            inner = ((BaseWrapperLayer) inner).getUnderlying(); // LastTimeStep, TimeDistributed
        }
        if (!type.isInstance(inner)) {
            throw new IllegalStateException("regaudit fix: layer \\"" + name + "\\" is a "
                    + conf.getClass().getSimpleName() + ", not the " + type.getSimpleName()
                    + " this fix was written for");
        }
        return type.cast(inner);
    }

    /** A mutable list, as DL4J's own builders make. */
    private static List<Regularization> regs(Regularization... regularizations) {
        return new ArrayList<>(Arrays.asList(regularizations));
    }""".splitlines()
