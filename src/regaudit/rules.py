"""What DL4J's Keras importer does with each regularizer, as data (spec: dl4j-import-rules.md).

Three steps, each a table:
1. READERS: which importer code path reads a (target, layer class) field, if any (§3, §7).
2. RULES: per reader, the first row whose condition holds gives the effect in each mode.
3. finish(): effect + coefficients -> outcome, with the precedence of §5
   (error > noop > applied/altered > warned > dropped).
Layer- and file-level errors (unknown layer class, nested model, Keras 3) come first: they are
`error` in both modes whatever the regularizer (§5, §6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from regaudit.coeffs import shortest
from regaudit.keras import Regularizer, Site, Target
from regaudit.report import Outcome


# ---- 1. Which code path reads a field --------------------------------------------------------
class Reader(StrEnum):
    """The importer's code path that reads a regularizer field."""

    KERNEL = "kernel"  # getWeightRegularizerFromConfig + the unknown-field check
    BIAS = "bias"  # the Keras 1 check + the unknown-field check; the value is never used
    DEPTHWISE = "depthwise"  # the L1L2-only read, no unknown-field check
    BATCHNORM = "batchnorm"  # the gamma/beta check
    BACKWARD = "backward"  # an explicit Bidirectional backward_layer: never read
    NEVER = "never"  # not looked at


BACKWARD, FORWARD = "backward", "forward"  # Site.direction: an explicit backward_layer is never
# read (§7); `layer` is then the forward direction
DEPTHWISE_READERS = frozenset({"DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D"})


def reader_for(site: Site) -> Reader:
    target, cls = site.target, site.layer_class
    if site.direction == BACKWARD:
        return Reader.BACKWARD
    if target == Target.KERNEL:
        # Keras 1 Embedding keeps its embeddings under W_regularizer: read as the kernel.
        return Reader.KERNEL
    if target == Target.BIAS:
        return Reader.BIAS
    if target == Target.DEPTHWISE and cls in DEPTHWISE_READERS:
        return Reader.DEPTHWISE
    if target in (Target.GAMMA, Target.BETA) and cls == "BatchNormalization":
        return Reader.BATCHNORM
    return Reader.NEVER


def display_target(site: Site) -> str:
    """Keras 1 Embedding's W_regularizer regularizes the embeddings (spec §5)."""
    if site.target == Target.KERNEL and site.layer_class == "Embedding":
        return Target.EMBEDDINGS
    return site.target


# ---- 2. What happens in each mode ------------------------------------------------------------
class Effect(StrEnum):
    """What a code path does with a regularizer's value, in one mode."""

    READ = "read"  # imported
    LOST = "lost"  # silently 0
    WARN_READ = "warn_read"  # a warning logged, the value still imported
    WARN_LOST = "warn_lost"  # a warning logged, the value lost
    ERROR = "error"  # the import fails


READ, LOST, WARN_READ, WARN_LOST, ERROR = tuple(Effect)
ALLOWED_KEYS = frozenset({"l1", "l2", "name", "class_name", "config"})


def unknown_keys(reg: Regularizer) -> list[str]:
    return [k for k in reg.keys if k not in ALLOWED_KEYS]


def readable(reg: Regularizer) -> bool:
    """The importer returns a value only for top-level l1/l2 keys (K1) or class L1L2."""
    if reg.is_string or not isinstance(reg.raw, dict):
        return False
    if "class_name" in reg.raw:
        return reg.raw.get("class_name") == "L1L2"
    return "l1" in reg.raw or "l2" in reg.raw


CONDITIONS: dict[str, Callable[[Regularizer], bool]] = {
    "string": lambda r: r.is_string,
    "k1_coefficients": lambda r: isinstance(r.raw, dict)
    and "class_name" not in r.raw
    and ("l1" in r.raw or "l2" in r.raw),
    "unknown_keys_readable": lambda r: bool(unknown_keys(r)) and readable(r),
    "unknown_keys": lambda r: bool(unknown_keys(r)),
    "readable": readable,
    "any": lambda r: True,
}


# How the importer's exceptions and warnings read (verified by the conformance harness).
CCE_MAP = "ClassCastException: class java.lang.String cannot be cast to class java.util.Map"
UNSUPPORTED = "UnsupportedKerasConfigurationException: "
UNKNOWN_FIELD_ERROR = UNSUPPORTED + "Unknown regularization field {key}"
UNKNOWN_FIELD_WARNING = "Ignoring unknown regularization field {each}"  # one per unknown key
BATCHNORM = "Regularization for BatchNormalization {target} parameter not supported"
BATCHNORM_ERROR = UNSUPPORTED + BATCHNORM
BATCHNORM_WARNING = BATCHNORM + "...ignoring."


@dataclass(frozen=True)
class Rule:
    reader: Reader
    when: str  # a key of CONDITIONS
    strict: Effect  # with enforceTrainingConfig=true
    lenient: Effect  # with enforceTrainingConfig=false
    code: str
    message: str  # strict mode; {field}, {cls}, {key}, {target} are filled in
    lenient_message: str | None = None  # when the lenient import says something else
    error: str | None = None  # the importer's exception where an effect is "error"
    warning: str | None = None  # the WARN line the lenient import logs ({each}: per unknown key)


RULES: tuple[Rule, ...] = (
    # kernel_regularizer / W_regularizer (KerasRegularizerUtils.getWeightRegularizerFromConfig)
    Rule(Reader.KERNEL, "string", ERROR, ERROR, "STRING_CAST",
         "{field} is a bare function name; the importer casts it to a map and fails "
         "(ClassCastException)", error=CCE_MAP),
    Rule(Reader.KERNEL, "unknown_keys_readable", ERROR, WARN_READ, "UNKNOWN_FIELD",
         "the import fails: 'Unknown regularization field {key}'",
         "warning 'Ignoring unknown regularization field {key}', then the L1L2 value is "
         "imported into the DL4J layer's l1/l2",
         error=UNKNOWN_FIELD_ERROR, warning=UNKNOWN_FIELD_WARNING),
    Rule(Reader.KERNEL, "unknown_keys", ERROR, WARN_LOST, "UNKNOWN_FIELD",
         "the import fails: 'Unknown regularization field {key}'",
         "warning 'Ignoring unknown regularization field {key}', then class {cls} is read as "
         "0.0: the regularizer is lost",
         error=UNKNOWN_FIELD_ERROR, warning=UNKNOWN_FIELD_WARNING),
    Rule(Reader.KERNEL, "readable", READ, READ, "IMPORTED",
         "imported into the DL4J layer's l1/l2"),
    Rule(Reader.KERNEL, "any", LOST, LOST, "NOT_L1L2",
         "only L1L2 (or Keras 1 l1/l2 keys) is read; class {cls} becomes 0.0 with no log line"),
    # bias_regularizer / b_regularizer
    Rule(Reader.BIAS, "string", ERROR, ERROR, "STRING_CAST",
         "{field} is a bare function name; the importer casts it to a map and fails "
         "(ClassCastException)", error=CCE_MAP),
    Rule(Reader.BIAS, "k1_coefficients", ERROR, ERROR, "BIAS_K1",
         "'L1/L2 regularization for bias parameter not supported': a Keras 1 b_regularizer "
         "always fails the import",
         error=UNSUPPORTED + "{k1_key} regularization for bias parameter not supported"),
    Rule(Reader.BIAS, "unknown_keys", ERROR, WARN_LOST, "UNKNOWN_FIELD",
         "the import fails: 'Unknown regularization field {key}'",
         "warning 'Ignoring unknown regularization field {key}'; bias regularizers are never "
         "imported, so it is lost",
         error=UNKNOWN_FIELD_ERROR, warning=UNKNOWN_FIELD_WARNING),
    Rule(Reader.BIAS, "any", LOST, LOST, "BIAS_NOT_IMPORTED",
         "bias regularizers are never imported: no DL4J layer gets l1Bias/l2Bias"),
    # depthwise_regularizer on DepthwiseConv2D / SeparableConv2D (no unknown-field check)
    Rule(Reader.DEPTHWISE, "string", ERROR, ERROR, "STRING_CAST",
         "{field} is a bare function name; the importer casts it to a map and fails "
         "(ClassCastException)", error=CCE_MAP),
    Rule(Reader.DEPTHWISE, "readable", READ, READ, "IMPORTED",
         "imported into the DL4J layer's l1/l2"),
    Rule(Reader.DEPTHWISE, "any", LOST, LOST, "NOT_L1L2",
         "only L1L2 is read; class {cls} becomes 0.0 with no log line"),
    # gamma/beta on BatchNormalization
    Rule(Reader.BATCHNORM, "any", ERROR, WARN_LOST, "BATCHNORM_REGULARIZER",
         "the import fails: 'Regularization for BatchNormalization {target} parameter not "
         "supported'",
         "warning 'Regularization for BatchNormalization {target} parameter not supported'; "
         "the regularizer is lost",
         error=BATCHNORM_ERROR, warning=BATCHNORM_WARNING),
    # a Bidirectional's explicit backward_layer
    Rule(Reader.BACKWARD, "any", LOST, LOST, "BACKWARD_LAYER_IGNORED",
         "Bidirectional's backward_layer is never read: DL4J rebuilds both directions from "
         "`layer`, whose regularizers then apply to the backward direction instead"),
    # every other field
    Rule(Reader.NEVER, "any", LOST, LOST, "NEVER_READ", "{field} is never read by the importer"),
)

# Why a field is never read, shown after the rule's message.
NEVER_READ_WHY = {
    Target.ACTIVITY: "activity regularizers are not supported (the docs say a warning is logged; "
    "the code logs nothing)",
    Target.RECURRENT: "DL4J has no separate recurrent regularization",
    Target.POINTWISE: "only the depthwise value is read (it then covers the pointwise weights too)",
    Target.EMBEDDINGS: "Keras 2+ Embedding regularizers are not read",
    Target.ALPHA: "PReLU alpha regularizers are not read",
    Target.GAMMA: "only BatchNormalization checks gamma regularizers",
    Target.BETA: "only BatchNormalization checks beta regularizers",
    Target.DEPTHWISE: "depthwise regularizers are read only on DepthwiseConv2D and SeparableConv2D",
}

# Imported, but DL4J regularizes more weights than Keras did (spec §4).
EXTRA_WEIGHTS = {
    (Target.KERNEL, "LSTM"): Target.RECURRENT,
    (Target.KERNEL, "SimpleRNN"): Target.RECURRENT,
    (Target.DEPTHWISE, "SeparableConv2D"): Target.POINTWISE,
    (Target.DEPTHWISE, "SeparableConvolution2D"): Target.POINTWISE,
}


def first_rule(table: tuple[Rule, ...], reader: Reader, reg: Regularizer) -> Rule:
    for rule in table:
        if rule.reader == reader and CONDITIONS[rule.when](reg):
            return rule
    raise AssertionError(f"no rule for reader {reader}")  # the 'any' rows make this unreachable


# ---- 3. Effect -> outcome --------------------------------------------------------------------
@dataclass
class Decision:
    outcome: Outcome
    codes: list[str]
    message: str
    importer_error: str | None = None  # when the outcome is error: the exception it causes
    warnings: list[str] = field(default_factory=list)  # WARN lines logged because of it


def finish(effect: str, rule_code: str, message: str, site: Site,
           error: str | None = None) -> Decision:
    reg = site.regularizer
    if effect == ERROR:
        return Decision(Outcome.ERROR, [rule_code], message, error)
    if reg.is_zero:
        return Decision(Outcome.NOOP, [rule_code, "ZERO_COEFFICIENTS"],
                        f"all coefficients are 0: nothing to carry ({message})")
    if effect in (READ, WARN_READ):
        codes = [rule_code] if effect == READ else [rule_code, "IMPORTED_AFTER_WARNING"]
        notes = []
        if (reg.l2 or 0) > 0:
            codes.append("L2_HALVED")
            notes.append("DL4J's L2 gradient is half of Keras's (score 0.5·l2·Σw²)")
        extra = EXTRA_WEIGHTS.get((site.target, site.layer_class))
        if extra:
            codes.append("EXTRA_WEIGHTS")
            notes.append(f"DL4J also applies it to the {extra} weights")
        if notes:
            return Decision(Outcome.ALTERED, codes, f"{message}, but altered: " + "; ".join(notes))
        return Decision(Outcome.APPLIED, codes, f"{message}, with the same effect as in Keras")
    if effect == WARN_LOST:
        return Decision(Outcome.WARNED, [rule_code], message)
    return Decision(Outcome.DROPPED, [rule_code], message)


def _fill(template: str, site: Site, each: str = "") -> str:
    keys = unknown_keys(site.regularizer)
    raw = site.regularizer.raw
    return template.format(
        field=site.field,
        cls=site.regularizer.class_name,
        key=keys[0] if keys else "",
        target=site.target,
        k1_key="L1" if isinstance(raw, dict) and "l1" in raw else "L2",
        each=each,
    )


def decide(site: Site, blocker: Block | None,
           table: tuple[Rule, ...] = RULES) -> tuple[Decision, Decision]:
    """(strict, lenient) decisions for one regularizer, by the first row of `table` (a
    profile's rules) that holds. `blocker` is a layer/file-level error met before it."""
    if blocker:
        code, message, error = blocker.code, blocker.message, blocker.importer_error
        return (Decision(Outcome.ERROR, [code], message, error),
                Decision(Outcome.ERROR, [code], message, error))
    reader = reader_for(site)
    rule = first_rule(table, reader, site.regularizer)
    message = _fill(rule.message, site)
    if rule.code == "NEVER_READ" and site.target in NEVER_READ_WHY:
        message += f": {NEVER_READ_WHY[site.target]}"
    lenient = _fill(rule.lenient_message, site) if rule.lenient_message else message
    error = _fill(rule.error, site) if rule.error else None
    strict_decision = finish(rule.strict, rule.code, message, site, error)
    lenient_decision = finish(rule.lenient, rule.code, lenient, site, error)
    if rule.warning and rule.lenient in (WARN_READ, WARN_LOST):
        each = unknown_keys(site.regularizer) if "{each}" in rule.warning else [""]
        lenient_decision.warnings = [_fill(rule.warning, site, key) for key in each]
    return strict_decision, lenient_decision


# ---- A reason the whole import fails (layers.py and audit.py make them) ------------------
class Block(NamedTuple):
    """A layer- or file-level reason the import fails."""

    code: str
    message: str
    importer_error: str  # how the importer's exception begins: "<SimpleClassName>: <message>"
    # Thrown after the layer's regularizers were read (by the layer's own constructor, shape
    # inference or the weight copy): their own rules still apply. False: thrown before.
    late: bool = False

INVALID = "InvalidKerasConfigurationException: "



# ---- What to tell the user ---------------------------------------------------------------------
def documented_equivalent(site: Site) -> str:
    """What DL4J's documentation page says the regularizer maps to."""
    reg = site.regularizer
    if site.target == Target.ACTIVITY:
        return "not supported (docs: a warning is logged)"
    if reg.family == "l1":
        return f"L1Regularization({shortest(reg.l1)})"
    if reg.family == "l2":
        return f"L2Regularization({shortest(reg.l2)})"
    if reg.family == "l1l2":
        l1, l2 = reg.l1 or 0, reg.l2 or 0
        if l1 and not l2:
            return f"L1Regularization({shortest(l1)})"
        if l2 and not l1:
            return f"L2Regularization({shortest(l2)})"
        return f".l1({shortest(l1)}).l2({shortest(l2)})"
    return "none documented"


# DL4J setter per target (Keras L2 = DL4J l2 × 2, spec §4), or why there is none.
RECOMMEND_SETTER = {
    Target.KERNEL: (".l1", ".l2"),
    Target.EMBEDDINGS: (".l1", ".l2"),
    Target.ALPHA: (".l1", ".l2"),
    Target.DEPTHWISE: (".l1", ".l2"),
    Target.BIAS: (".l1Bias", ".l2Bias"),
}
RECOMMEND_NONE = {
    Target.ACTIVITY: "no DL4J equivalent",
    Target.RECURRENT: "none separate (the kernel's .l1/.l2 covers them)",
    Target.POINTWISE: "none separate (the depthwise .l1/.l2 covers them)",
    Target.GAMMA: "no DL4J equivalent",
    Target.BETA: "no DL4J equivalent",
}


def recommended(site: Site) -> str:
    reg = site.regularizer
    target = display_target(site)
    if reg.family in ("custom", "function", "orthogonal"):
        return "no DL4J equivalent"
    if reg.is_zero:
        return "nothing to set (all coefficients are 0)"
    if target in RECOMMEND_NONE:
        return RECOMMEND_NONE[target]
    l1_setter, l2_setter = RECOMMEND_SETTER.get(target, (".l1", ".l2"))
    parts = []
    if reg.l1:
        parts.append(f"{l1_setter}({shortest(reg.l1)})")
    if reg.l2:
        parts.append(f"{l2_setter}({shortest(2 * reg.l2)})")
    return "".join(parts) or "nothing to set"
