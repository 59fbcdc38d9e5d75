"""The fix plan: what to set on the DL4J network the import built so that it penalises what Keras
penalised, and what no DL4J setting can express.

Pure data: the report's dict (schema regaudit/1) in, the JSON report's `fix` block out. It is
derived from the findings, their penalties and the verdict alone; render/java.py writes it as Java,
the Markdown and HTML renderers as a checklist. The layer table below is what the conformance
harness saw DL4J 1.0.0-M2.1 build (docs/fix.md); `python build.py conformance --fix` proves each
plan against the real importer.

DL4J holds one regularization list for all the weight parameters of a layer and one for its
biases (BaseLayer.regularization / regularizationBias), and a Bidirectional layer trains both
directions with its forward layer's lists. So the plan works per group: one DL4J layer and one
kind (weights or biases), with every Keras regularizer that group's parameters carry. A group
whose regularizers are all the same L1/L2 value gets that value; any other group is cleared, so
that DL4J penalises nothing there rather than something Keras did not, and its rows are listed
as not fixable with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from regaudit.codes import NOT_STORED_PENALTY
from regaudit.coeffs import shortest
from regaudit.keras import normalize_regularizer

CONF = "org.deeplearning4j.nn.conf.layers."


@dataclass(frozen=True)
class Dl4jLayer:
    """The DL4J layer the importer builds for a Keras class (its configuration class), and the
    Keras targets whose weights its one `regularization` list covers."""

    java_class: str
    weights: tuple[str, ...]


# Seen in the harness's records over tests/fixtures and ../shared/corpus (SimpleRNN: from
# KerasSimpleRnn, the same weight layout as LSTM). A class not listed is not fixed: regaudit has
# not checked which DL4J layer it becomes, nor which parameters one setting covers there.
LAYERS: dict[str, Dl4jLayer] = {
    "Dense": Dl4jLayer(CONF + "DenseLayer", ("kernel",)),
    "Conv1D": Dl4jLayer(CONF + "Convolution1DLayer", ("kernel",)),
    "Convolution1D": Dl4jLayer(CONF + "Convolution1DLayer", ("kernel",)),
    "Conv2D": Dl4jLayer(CONF + "ConvolutionLayer", ("kernel",)),
    "Convolution2D": Dl4jLayer(CONF + "ConvolutionLayer", ("kernel",)),
    "Conv2DTranspose": Dl4jLayer(CONF + "Deconvolution2D", ("kernel",)),
    "AtrousConvolution2D": Dl4jLayer(CONF + "ConvolutionLayer", ("kernel",)),
    "Deconvolution2D": Dl4jLayer(CONF + "Deconvolution2D", ("kernel",)),
    "Conv3D": Dl4jLayer(CONF + "Convolution3D", ("kernel",)),
    "Convolution3D": Dl4jLayer(CONF + "Convolution3D", ("kernel",)),
    "Conv3DTranspose": Dl4jLayer(CONF + "Deconvolution3D", ("kernel",)),
    "TimeDistributedDense": Dl4jLayer(CONF + "DenseLayer", ("kernel",)),
    "DepthwiseConv2D": Dl4jLayer(CONF + "DepthwiseConvolution2D", ("depthwise",)),
    "SeparableConv2D": Dl4jLayer(CONF + "SeparableConvolution2D", ("depthwise", "pointwise")),
    "SeparableConvolution2D": Dl4jLayer(CONF + "SeparableConvolution2D",
                                        ("depthwise", "pointwise")),
    "Embedding": Dl4jLayer(CONF + "EmbeddingSequenceLayer", ("embeddings",)),
    "LSTM": Dl4jLayer(CONF + "LSTM", ("kernel", "recurrent")),
    "SimpleRNN": Dl4jLayer(CONF + "recurrent.SimpleRnn", ("kernel", "recurrent")),
    # gamma and beta are neither weights nor biases to DL4J: no setting reaches them
    "BatchNormalization": Dl4jLayer(CONF + "BatchNormalization", ()),
}
BIAS_TARGETS = ("bias",)
BIDIRECTIONAL = CONF + "recurrent.Bidirectional"
SEQUENTIAL = "Sequential"  # the root class DL4J imports as a MultiLayerNetwork
DIRECTIONS = ("forward", "backward")
# Keras's L2 adds l2·Σw² to the loss, DL4J's L2Regularization(c) adds ½·c·Σw²: c = 2·l2.
L2_CONVENTION = "L2 doubled: Keras adds l2·Σw², DL4J's L2Regularization(c) adds ½·c·Σw²"

# Why a row is not fixable: code -> what it means (docs/fix.md lists them).
REASONS = {
    "ACTIVITY": "an activity regularizer penalises the layer's outputs; DL4J has no output "
    "penalty for a layer",
    "NO_DL4J_PARAMETER": "DL4J's {dl4j} regularizes no parameter that holds these weights",
    "NOT_L1_L2": "{cls} is not an L1/L2 penalty; DL4J has only L1, L2 and weight decay",
    "BAD_COEFFICIENT": "its coefficients are not finite non-negative numbers",
    "ONE_SETTING": "DL4J applies one {kind} setting to {covers} of {layer}, and Keras's "
    "regularizers there differ: {values}",
    "LAYER_NOT_VERIFIED": "regaudit has not checked which DL4J layer the importer builds for a "
    "Keras {cls}, nor which parameters one setting covers there",
    "WEIGHTS_NOT_STORED": "DL4J builds this layer with another shape than its stored weights (a "
    "shared layer built once over its inputs merged, a mis-sized Keras 1 layer): its weights are "
    "not the stored ones, so no setting reproduces Keras's penalty",
}


def keras_value(reg: dict[str, Any]) -> tuple[tuple[float, float] | None,
                                              tuple[str, str] | None]:
    """((l1, l2) as Keras applies them, None), or (None, (code, reason)) when DL4J has no form
    for it."""
    normalized = normalize_regularizer(reg.get("config"))
    if normalized.family not in ("l1", "l2", "l1l2"):
        return None, ("NOT_L1_L2", REASONS["NOT_L1_L2"].format(cls=reg.get("class")))
    value = (normalized.l1 or 0.0, normalized.l2 or 0.0)
    unusable = [c for c, _ in normalized.problems() if c != "HUGE_COEFFICIENT"]  # huge is valid
    if unusable or not all(math.isfinite(v) and v >= 0 for v in value):
        return None, ("BAD_COEFFICIENT", REASONS["BAD_COEFFICIENT"])
    return value, None


def regularization(value: tuple[float, float]) -> list[dict[str, Any]]:
    """DL4J's list for a Keras (l1, l2): L1 as it is, L2 doubled (L2_CONVENTION). Written as
    the shortest decimal that is the same float32 (Keras's coefficients are float32)."""
    l1, l2 = value
    out = []
    if l1:
        out.append({"class": "L1Regularization", "coefficient": float(shortest(l1))})
    if l2:
        out.append({"class": "L2Regularization", "coefficient": float(shortest(2 * l2))})
    return out


@dataclass
class _Group:
    """One DL4J layer and kind, with the Keras regularizer on each (direction, target) slot."""

    layer: str
    keras_class: str
    kind: str  # "weights" | "biases"
    targets: tuple[str, ...]
    bidirectional: bool
    rows: list[int]
    slots: dict[tuple[str | None, str], int]  # (direction, target) -> finding index


def _directions(wrapper: Any) -> tuple[str | None, ...]:
    """The Bidirectional directions a row's regularizer sits on (a plain `layer` is both)."""
    if wrapper == "Bidirectional":
        return DIRECTIONS
    for direction in DIRECTIONS:
        if wrapper == f"Bidirectional ({direction})":
            return (direction,)
    return (None,)


def _not_stored(findings: list[dict[str, Any]]) -> set[str]:
    """Top layers whose DL4J weights are not the stored ones (the WEIGHTS_NOT_STORED note)."""
    return {f["layer_path"][0] for f in findings if isinstance(f.get("penalty"), dict)
            and f["penalty"].get("note") == NOT_STORED_PENALTY}


def plan(report: dict[str, Any]) -> dict[str, Any]:
    """The `fix` block of the JSON report (docs/report-schema.md, docs/fix.md)."""
    verdict = report.get("verdict") or {}
    findings = report.get("findings") or []
    if report.get("training") is None:
        return _empty("no_configuration", "no configuration, nothing to fix: the file holds "
                      "weights only, and DL4J's importer needs the model's configuration")
    strict, lenient = verdict.get("importable_strict"), verdict.get("importable_lenient")
    if strict is not True and lenient is not True:
        return _not_importable(report) if lenient is False else _empty(
            "unknown", "regaudit cannot tell whether DL4J imports this file (see the notes: "
            + ", ".join(sorted({str(n.get("code")) for n in report.get("notes") or []}))
            + "), so it writes no fix")
    mode = "strict" if strict is True else "lenient"
    groups, not_fixable = _groups(findings)
    not_stored = _not_stored(findings)
    changes = [_change(g, findings, not_stored, not_fixable) for g in groups.values()]
    fixed = sorted(i for c in changes if c["exact"] for i in c["findings"])
    rows = [_row(i, findings[i], *not_fixable[i]) for i in sorted(not_fixable)]
    layers = len({c["layer"] for c in changes})
    return {
        "status": "fix" if findings else "nothing_to_fix",
        "message": (f"{_count(len(changes), 'setting')} on {_count(layers, 'DL4J layer')}; "
                    f"{_count(len(rows), 'row')} not fixable" if findings else
                    "nothing to set: the model has no regularizer, and DL4J penalises nothing"),
        "mode": mode,
        "network": ("MultiLayerNetwork" if (report.get("source") or {}).get("model_class")
                    == SEQUENTIAL else "ComputationGraph"),
        "changes": changes,
        "fixed": fixed,
        "not_fixable": rows,
        "penalty": {
            "fixed": _sum(findings, fixed),
            "not_fixable": _sum(findings, sorted(not_fixable), known_only=True),
            "not_fixable_unknown": sum(1 for i in not_fixable if _penalty(findings[i]) is None),
        },
        "training": _training(report.get("training") or {}, mode),
    }


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _empty(status: str, message: str) -> dict[str, Any]:
    return {"status": status, "message": message, "mode": None, "network": None, "changes": [],
            "fixed": [], "not_fixable": [],
            "penalty": {"fixed": None, "not_fixable": None, "not_fixable_unknown": 0},
            "training": None}


def _not_importable(report: dict[str, Any]) -> dict[str, Any]:
    """The verdict's first lenient reason: the one the importer meets first is among them."""
    blocking = [b for b in (report.get("verdict") or {}).get("blocking") or []
                if "lenient" in (b.get("modes") or [])]
    why = blocking[0] if blocking else {}
    where = f"{why['layer']}: " if why.get("layer") else ""
    return _empty("not_importable", "DL4J imports this file in neither mode, so there is no "
                  f"network to fix: {where}{why.get('message') or 'see the verdict'}")


def _groups(findings: list[dict[str, Any]]) -> tuple[dict[tuple[str, str], _Group],
                                                     dict[int, tuple[str, str]]]:
    """The findings by DL4J layer and kind; rows no DL4J setting can hold, with the reason."""
    groups: dict[tuple[str, str], _Group] = {}
    not_fixable: dict[int, tuple[str, str]] = {}
    for index, f in enumerate(findings):
        top, cls, target = f["layer_path"][0], f["layer_class"], f["target"]
        layer = LAYERS.get(cls)
        kind = None if layer is None else (
            "weights" if target in layer.weights else "biases" if target in BIAS_TARGETS else None)
        if target == "activity":
            not_fixable[index] = ("ACTIVITY", REASONS["ACTIVITY"])
        elif layer is None:
            not_fixable[index] = ("LAYER_NOT_VERIFIED",
                                  REASONS["LAYER_NOT_VERIFIED"].format(cls=cls))
        elif kind is None:
            not_fixable[index] = ("NO_DL4J_PARAMETER", REASONS["NO_DL4J_PARAMETER"].format(
                dl4j=layer.java_class.rsplit(".", 1)[-1], target=target))
        else:
            bidirectional = str(f.get("wrapper") or "").startswith("Bidirectional")
            group = groups.setdefault((top, kind), _Group(
                top, cls, kind, layer.weights if kind == "weights" else BIAS_TARGETS,
                bidirectional, [], {}))
            group.rows.append(index)
            for direction in _directions(f.get("wrapper")):
                group.slots[(direction, target)] = index
    return groups, not_fixable


def _change(group: _Group, findings: list[dict[str, Any]], not_stored: set[str],
            not_fixable: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """The setting for one group. When no single value is exact, the group is cleared and each
    of its rows goes to `not_fixable` with the reason."""
    values: dict[tuple[str | None, str], tuple[float, float] | None] = {}
    shown: dict[tuple[str | None, str], str] = {}  # each slot's regularizer as the report shows it
    own: dict[int, tuple[str, str]] = {}  # rows whose own regularizer has no DL4J form
    for direction in DIRECTIONS if group.bidirectional else (None,):
        for target in group.targets:
            index = group.slots.get((direction, target))
            if index is None:
                values[(direction, target)] = (0.0, 0.0)  # no regularizer: none in Keras
                shown[(direction, target)] = "none"
                continue
            values[(direction, target)], why = keras_value(findings[index]["regularizer"])
            shown[(direction, target)] = str(findings[index]["regularizer"].get("display"))
            if why:
                own[index] = why
    rows = sorted(set(group.rows))
    covers = _covers(group)
    if group.layer in not_stored:
        reasons = {i: ("WEIGHTS_NOT_STORED", REASONS["WEIGHTS_NOT_STORED"]) for i in rows}
    elif own or len(set(values.values())) > 1:
        one = REASONS["ONE_SETTING"].format(kind=group.kind, covers=covers, layer=group.layer,
                                            values=_values(shown))
        reasons = {i: own.get(i, ("ONE_SETTING", one)) for i in rows}
    else:
        reasons = {}
    not_fixable.update(reasons)
    regs: list[dict[str, Any]] = []
    if not reasons:
        (value,) = set(values.values())
        regs = regularization(value)  # type: ignore[arg-type]
    java_class = LAYERS[group.keras_class].java_class
    return {
        "layer": group.layer,
        "keras_class": group.keras_class,
        "dl4j_class": java_class.rsplit(".", 1)[-1],
        "java_class": java_class,
        "bidirectional": group.bidirectional,
        "kind": group.kind,
        "regularization": regs,
        "exact": not reasons,
        "findings": rows,
    }


def _covers(group: _Group) -> str:
    """`the kernel and recurrent weights (both directions)`, `the biases`."""
    what = ("the " + " and ".join(group.targets) + " weights" if group.kind == "weights"
            else "the biases")
    return what + (" (both directions)" if group.bidirectional else "")


def _values(shown: dict[tuple[str | None, str], str]) -> str:
    """`kernel L2(l2=0.021), recurrent L1(l1=0.022)`; directions named only when they differ."""
    same = all(shown.get(("forward", t)) == shown.get(("backward", t)) for _, t in shown)
    parts = {(None if same else d, t): v for (d, t), v in shown.items()}
    return ", ".join(f"{d + ' ' if d else ''}{t} {v}" for (d, t), v in parts.items())


def _row(index: int, f: dict[str, Any], code: str, reason: str) -> dict[str, Any]:
    return {"finding": index, "layer": f["layer"], "layer_path": list(f["layer_path"]),
            "target": f["target"], "regularizer": (f.get("regularizer") or {}).get("display"),
            "code": code, "reason": reason}


def _penalty(f: dict[str, Any]) -> float | None:
    penalty = f.get("penalty")
    value = penalty.get("keras") if isinstance(penalty, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def _sum(findings: list[dict[str, Any]], rows: list[int], known_only: bool = False
         ) -> float | None:
    """Σ Keras penalty at the stored weights over `rows`: None when one of them has none,
    unless `known_only` (then the rows with a penalty)."""
    total = 0.0
    for i in rows:
        value = _penalty(findings[i])
        if value is None and not known_only:
            return None
        total += value or 0.0
    return total


def _training(training: dict[str, Any], mode: str) -> str | None:
    """The optimizer's weight decay belongs to the updater, not to a layer: said, not set."""
    wd = training.get("weight_decay")
    if isinstance(wd, bool) or not isinstance(wd, (int, float)) or not wd > 0:
        return None
    how = ("the lenient import brings no optimizer: set it with the updater you train with"
           if mode == "lenient" else "the strict import maps the optimizer without it")
    return (f"not set by this fix: the optimizer's weight_decay={shortest(wd)} is decoupled "
            f"weight decay, an updater setting ({how}); in DL4J, add "
            f"new WeightDecay({shortest(wd)}, true) to every layer's weights and biases")


# ---- The plan in words: the Java comments, the Markdown checklist and the page share them ----
def strict_failure(report: dict[str, Any]) -> str:
    """Why the strict import fails: the first strict reason, `layer: message`."""
    reasons = [b for b in (report.get("verdict") or {}).get("blocking") or []
               if "strict" in (b.get("modes") or [])]
    if not reasons:
        return "see the verdict"
    layer = reasons[0].get("layer")
    return f"{layer + ': ' if layer else ''}{reasons[0].get('message')}"


def import_text(report: dict[str, Any]) -> str:
    """The recipe's first step."""
    fix = report.get("fix") or plan(report)
    if fix["mode"] == "strict":
        return ("Import with enforceTrainingConfig=true (the file imports with its training "
                "configuration)")
    return ("Import with enforceTrainingConfig=false (the strict import fails: "
            f"{strict_failure(report)})")


def change_text(change: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    """`td weights: L2Regularization(0.046) (Keras kernel L2(l2=0.023); L2 doubled)`."""
    where = f"{change['layer']}{' (both directions)' if change['bidirectional'] else ''}"
    keras = ", ".join(f"{findings[i]['target']} {findings[i]['regularizer'].get('display')}"
                      for i in change["findings"])
    if not change["exact"]:
        return (f"{where} {change['kind']}: no regularization (cleared: no single DL4J setting "
                f"reproduces Keras's {keras})")
    regs = ", ".join(f"{r['class']}({shortest(r['coefficient'])})"
                     for r in change["regularization"]) or "no regularization"
    doubled = any(r["class"] == "L2Regularization" for r in change["regularization"])
    return f"{where} {change['kind']}: {regs} (Keras {keras}{'; L2 doubled' if doubled else ''})"


def row_text(row: dict[str, Any]) -> str:
    """`conv1d_reg activity L1(l1=0.0007): an activity regularizer penalises ...`."""
    where = " / ".join(str(p) for p in row["layer_path"])
    return f"{where} {row['target']} {row['regularizer']}: {row['reason']}"
