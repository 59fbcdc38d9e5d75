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
from typing import NamedTuple

from regaudit.coeffs import shortest
from regaudit.importers import Profile
from regaudit.keras import ModelTree, Regularizer, Site, TopLayer

IMPORTER_NOTE = (
    "Keras import of Deeplearning4j 1.0.0-M2.1 (same regularizer handling from 1.0.0-beta4 "
    "to master 2024-08)"
)

# ---- 1. Which code path reads a field --------------------------------------------------------
# Readers: "kernel" (getWeightRegularizerFromConfig + unknown-field check), "bias" (K1 check +
# unknown-field check, value never used), "depthwise" (L1L2-only read, no unknown-field check),
# "batchnorm" (gamma/beta check), "never" (not looked at).
BACKWARD = "Bidirectional (backward)"  # an explicit backward_layer: never read (§7)
DEPTHWISE_READERS = frozenset({"DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D"})


def reader_for(site: Site) -> str:
    target, cls = site.target, site.layer_class
    if site.wrapper == BACKWARD:
        return "backward"
    if target == "kernel":
        # Keras 1 Embedding keeps its embeddings under W_regularizer: read as the kernel.
        return "kernel"
    if target == "bias":
        return "bias"
    if target == "depthwise" and cls in DEPTHWISE_READERS:
        return "depthwise"
    if target in ("gamma", "beta") and cls == "BatchNormalization":
        return "batchnorm"
    return "never"


def display_target(site: Site) -> str:
    """Keras 1 Embedding's W_regularizer regularizes the embeddings (spec §5)."""
    if site.target == "kernel" and site.layer_class == "Embedding":
        return "embeddings"
    return site.target


# ---- 2. What happens in each mode ------------------------------------------------------------
# Effects: "read" (value imported), "lost" (silently 0), "warn_read" (warning logged, value still
# imported), "warn_lost" (warning logged, value lost), "error" (import fails).
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
    reader: str
    when: str  # a key of CONDITIONS
    strict: str  # effect with enforceTrainingConfig=true
    lenient: str  # effect with enforceTrainingConfig=false
    code: str
    message: str  # strict mode; {field}, {cls}, {key}, {target} are filled in
    lenient_message: str | None = None  # when the lenient import says something else
    error: str | None = None  # the importer's exception where an effect is "error"
    warning: str | None = None  # the WARN line the lenient import logs ({each}: per unknown key)


RULES: tuple[Rule, ...] = (
    # kernel_regularizer / W_regularizer (KerasRegularizerUtils.getWeightRegularizerFromConfig)
    Rule("kernel", "string", "error", "error", "STRING_CAST",
         "{field} is a bare function name; the importer casts it to a map and fails "
         "(ClassCastException)", error=CCE_MAP),
    Rule("kernel", "unknown_keys_readable", "error", "warn_read", "UNKNOWN_FIELD",
         "the import fails: 'Unknown regularization field {key}'",
         "warning 'Ignoring unknown regularization field {key}', then the L1L2 value is "
         "imported into the DL4J layer's l1/l2",
         error=UNKNOWN_FIELD_ERROR, warning=UNKNOWN_FIELD_WARNING),
    Rule("kernel", "unknown_keys", "error", "warn_lost", "UNKNOWN_FIELD",
         "the import fails: 'Unknown regularization field {key}'",
         "warning 'Ignoring unknown regularization field {key}', then class {cls} is read as "
         "0.0: the regularizer is lost",
         error=UNKNOWN_FIELD_ERROR, warning=UNKNOWN_FIELD_WARNING),
    Rule("kernel", "readable", "read", "read", "IMPORTED",
         "imported into the DL4J layer's l1/l2"),
    Rule("kernel", "any", "lost", "lost", "NOT_L1L2",
         "only L1L2 (or Keras 1 l1/l2 keys) is read; class {cls} becomes 0.0 with no log line"),
    # bias_regularizer / b_regularizer
    Rule("bias", "string", "error", "error", "STRING_CAST",
         "{field} is a bare function name; the importer casts it to a map and fails "
         "(ClassCastException)", error=CCE_MAP),
    Rule("bias", "k1_coefficients", "error", "error", "BIAS_K1",
         "'L1/L2 regularization for bias parameter not supported': a Keras 1 b_regularizer "
         "always fails the import",
         error=UNSUPPORTED + "{k1_key} regularization for bias parameter not supported"),
    Rule("bias", "unknown_keys", "error", "warn_lost", "UNKNOWN_FIELD",
         "the import fails: 'Unknown regularization field {key}'",
         "warning 'Ignoring unknown regularization field {key}'; bias regularizers are never "
         "imported, so it is lost",
         error=UNKNOWN_FIELD_ERROR, warning=UNKNOWN_FIELD_WARNING),
    Rule("bias", "any", "lost", "lost", "BIAS_NOT_IMPORTED",
         "bias regularizers are never imported: no DL4J layer gets l1Bias/l2Bias"),
    # depthwise_regularizer on DepthwiseConv2D / SeparableConv2D (no unknown-field check)
    Rule("depthwise", "string", "error", "error", "STRING_CAST",
         "{field} is a bare function name; the importer casts it to a map and fails "
         "(ClassCastException)", error=CCE_MAP),
    Rule("depthwise", "readable", "read", "read", "IMPORTED",
         "imported into the DL4J layer's l1/l2"),
    Rule("depthwise", "any", "lost", "lost", "NOT_L1L2",
         "only L1L2 is read; class {cls} becomes 0.0 with no log line"),
    # gamma/beta on BatchNormalization
    Rule("batchnorm", "any", "error", "warn_lost", "BATCHNORM_REGULARIZER",
         "the import fails: 'Regularization for BatchNormalization {target} parameter not "
         "supported'",
         "warning 'Regularization for BatchNormalization {target} parameter not supported'; "
         "the regularizer is lost",
         error=BATCHNORM_ERROR, warning=BATCHNORM_WARNING),
    # a Bidirectional's explicit backward_layer
    Rule("backward", "any", "lost", "lost", "BACKWARD_LAYER_IGNORED",
         "Bidirectional's backward_layer is never read: DL4J rebuilds both directions from "
         "`layer`, whose regularizers then apply to the backward direction instead"),
    # every other field
    Rule("never", "any", "lost", "lost", "NEVER_READ", "{field} is never read by the importer"),
)

# Why a field is never read, shown after the rule's message.
NEVER_READ_WHY = {
    "activity": "activity regularizers are not supported (the docs say a warning is logged; "
    "the code logs nothing)",
    "recurrent": "DL4J has no separate recurrent regularization",
    "pointwise": "only the depthwise value is read (it then covers the pointwise weights too)",
    "embeddings": "Keras 2+ Embedding regularizers are not read",
    "alpha": "PReLU alpha regularizers are not read",
    "gamma": "only BatchNormalization checks gamma regularizers",
    "beta": "only BatchNormalization checks beta regularizers",
    "depthwise": "depthwise regularizers are read only on DepthwiseConv2D and SeparableConv2D",
}

# Imported, but DL4J regularizes more weights than Keras did (spec §4).
EXTRA_WEIGHTS = {
    ("kernel", "LSTM"): "recurrent",
    ("kernel", "SimpleRNN"): "recurrent",
    ("depthwise", "SeparableConv2D"): "pointwise",
    ("depthwise", "SeparableConvolution2D"): "pointwise",
}


def first_rule(reader: str, reg: Regularizer) -> Rule:
    for rule in RULES:
        if rule.reader == reader and CONDITIONS[rule.when](reg):
            return rule
    raise AssertionError(f"no rule for reader {reader}")  # the 'any' rows make this unreachable


# ---- 3. Effect -> outcome --------------------------------------------------------------------
@dataclass
class Decision:
    outcome: str
    codes: list[str]
    message: str
    importer_error: str | None = None  # when the outcome is error: the exception it causes
    warnings: list[str] = field(default_factory=list)  # WARN lines logged because of it


def finish(effect: str, rule_code: str, message: str, site: Site,
           error: str | None = None) -> Decision:
    reg = site.regularizer
    if effect == "error":
        return Decision("error", [rule_code], message, error)
    if reg.is_zero:
        return Decision("noop", [rule_code, "ZERO_COEFFICIENTS"],
                        f"all coefficients are 0: nothing to carry ({message})")
    if effect in ("read", "warn_read"):
        codes = [rule_code] if effect == "read" else [rule_code, "IMPORTED_AFTER_WARNING"]
        notes = []
        if (reg.l2 or 0) > 0:
            codes.append("L2_HALVED")
            notes.append("DL4J's L2 gradient is half of Keras's (score 0.5·l2·Σw²)")
        extra = EXTRA_WEIGHTS.get((site.target, site.layer_class))
        if extra:
            codes.append("EXTRA_WEIGHTS")
            notes.append(f"DL4J also applies it to the {extra} weights")
        if notes:
            return Decision("altered", codes, f"{message}, but altered: " + "; ".join(notes))
        return Decision("applied", codes, f"{message}, with the same effect as in Keras")
    if effect == "warn_lost":
        return Decision("warned", [rule_code], message)
    return Decision("dropped", [rule_code], message)


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


def decide(site: Site, blocker: Blocked) -> tuple[Decision, Decision]:
    """(strict, lenient) decisions for one regularizer. `blocker` is a layer/file-level error."""
    if blocker:
        code, message, error = blocker
        return (Decision("error", [code], message, error),
                Decision("error", [code], message, error))
    reader = reader_for(site)
    rule = first_rule(reader, site.regularizer)
    message = _fill(rule.message, site)
    if rule.code == "NEVER_READ" and site.target in NEVER_READ_WHY:
        message += f": {NEVER_READ_WHY[site.target]}"
    lenient = _fill(rule.lenient_message, site) if rule.lenient_message else message
    error = _fill(rule.error, site) if rule.error else None
    strict_decision = finish(rule.strict, rule.code, message, site, error)
    lenient_decision = finish(rule.lenient, rule.code, lenient, site, error)
    if rule.warning and rule.lenient.startswith("warn"):
        each = unknown_keys(site.regularizer) if "{each}" in rule.warning else [""]
        lenient_decision.warnings = [_fill(rule.warning, site, key) for key in each]
    return strict_decision, lenient_decision


# ---- Layer-level: does the importer build this top-level entry? (spec §6, known-layers §3-4) --
class Block(NamedTuple):
    """A layer- or file-level reason the import fails."""

    code: str
    message: str
    importer_error: str  # how the importer's exception begins: "<SimpleClassName>: <message>"


Blocked = Block | None
INVALID = "InvalidKerasConfigurationException: "


def unsupported_layer(cls: str) -> str:
    return f"{UNSUPPORTED}Unsupported keras layer type {cls}"


def layer_blocker(layer: TopLayer, profile: Profile, majors: tuple[int, ...]) -> Blocked:
    """Why the importer fails on this top-level layer entry, or None."""
    cls, config = layer.class_name, layer.config
    if cls in profile.model_classes:
        return Block("NESTED_MODEL", f"Unsupported keras layer type {cls}: a model used as a "
                     "layer is not imported (its layers are never looked at)",
                     unsupported_layer(cls))
    if cls == "TimeDistributed":
        inner = config.get("layer")
        inner_cls = inner.get("class_name") if isinstance(inner, dict) else None
        if inner_cls == "TimeDistributed":
            return Block("UNSUPPORTED_LAYER", "Unsupported keras layer type TimeDistributed: "
                         "TimeDistributed is unwrapped only once", unsupported_layer(inner_cls))
        if inner_cls == "Bidirectional":
            # Unwrapping merges the inner config and then removes its `layer` key.
            return Block("BIDIRECTIONAL_IN_TIMEDISTRIBUTED", "Field 'layer' not found in "
                         "configuration of Bidirectional layer: TimeDistributed(Bidirectional) "
                         "cannot be imported",
                         INVALID + "Field 'layer' not found in configuration ofBidirectional layer")
        if not isinstance(inner_cls, str):
            return Block("UNSUPPORTED_LAYER", "TimeDistributed without a wrapped layer",
                         "NullPointerException")
        return _known_or_blocker(TopLayer(layer.name, inner_cls, _config(inner)),
                                 profile, majors)
    if cls == "Bidirectional":
        mode = config.get("merge_mode")
        if mode not in profile.bidirectional_merge_modes:
            modes = ", ".join(sorted(profile.bidirectional_merge_modes))
            return Block("BIDIRECTIONAL_MERGE_MODE", f"Merge mode {mode} not supported "
                         f"(only {modes})",
                         # merge_mode=None is a switch on null in the importer
                         "NullPointerException" if mode is None
                         else f"{UNSUPPORTED}Merge mode {mode} not supported")
        inner = config.get("layer")
        inner_cls = inner.get("class_name") if isinstance(inner, dict) else None
        if inner_cls not in profile.bidirectional_inner:
            return Block("BIDIRECTIONAL_INNER", "Currently only two types of recurrent Keras "
                         "layers are supported, 'LSTM' and 'SimpleRNN'. You tried to load a layer "
                         f"of class:{inner_cls}",
                         f"{UNSUPPORTED}Currently only two types of recurrent Keras layers are"
                         f"supported, 'LSTM' and 'SimpleRNN'. You tried to load a layer of class:"
                         f"{inner_cls}")
    return _known_or_blocker(layer, profile, majors)


def _known_or_blocker(layer: TopLayer, profile: Profile, majors: tuple[int, ...]) -> Blocked:
    cls = layer.class_name
    if any(cls in profile.known_layers.get(m, frozenset()) for m in majors):
        return None
    if cls == "Lambda":
        return Block("UNSUPPORTED_LAYER", f"No SameDiff Lambda layer found for Lambda layer "
                     f"{layer.name} (register one with KerasLayer.registerLambdaLayer)",
                     f"{UNSUPPORTED}No SameDiff Lambda layer found for Lambda layer {layer.name}")
    return Block("UNSUPPORTED_LAYER", f"Unsupported keras layer type {cls}",
                 unsupported_layer(cls))


# ---- Rules that need the layer graph ------------------------------------------------------------
def _config(entry: dict) -> dict:
    """A wrapped layer's config, {} when the file holds something else there."""
    config = entry.get("config")
    return config if isinstance(config, dict) else {}


def _effective(layer: TopLayer) -> TopLayer:
    """TimeDistributed is unwrapped before dispatch: judge the wrapped layer."""
    inner = layer.config.get("layer")
    if layer.class_name == "TimeDistributed" and isinstance(inner, dict):
        return TopLayer(layer.name, str(inner.get("class_name")), _config(inner),
                        layer.inbound_nodes, layer.inbound)
    return layer


def _input_channels_found(layer: TopLayer, built: dict[str, TopLayer], sequential: bool,
                          profile: Profile) -> bool:
    """KerasLayer.getNInFromConfig: from the layer's first input, walk back through first inputs
    to a layer whose DL4J size is known when built; reaching a layer with no input fails."""
    if sequential or not layer.inbound:  # a Sequential model links its layers only later
        return False
    name, seen = layer.inbound[0], set()
    while name in built and name not in seen:
        seen.add(name)
        previous = _effective(built[name])
        if previous.class_name in profile.sized_layers:
            return True
        if not previous.inbound:
            return False
        name = previous.inbound[0]
    return True  # not a chain the importer walks to its end: claim nothing


def graph_blockers(tree: ModelTree, profile: Profile) -> dict[int, Block]:
    """Top-level entries that fail for where they sit in the graph (index -> Block)."""
    sequential = tree.root_class in profile.sequential_roots
    built: dict[str, TopLayer] = {}
    out = {}
    for index, layer in enumerate(tree.top_layers):
        effective = _effective(layer)
        if effective.class_name in profile.input_channel_walkers and not _input_channels_found(
                effective, built, sequential, profile):
            where = ("a Sequential model links its layers only after building them" if sequential
                     else "the walk reaches the model's input first")
            out[index] = Block(
                "INPUT_CHANNELS_UNKNOWN",
                f"{effective.class_name} finds its input channels by walking back to a layer "
                f"whose size is known when built (Dense, Conv*, Embedding, ...); {where}, so the "
                "import fails (IndexOutOfBoundsException)",
                "IndexOutOfBoundsException: Index 0 out of bounds for length 0")
        built[layer.name] = layer
    return out


def uses_channels_first(tree: ModelTree) -> list[str]:
    """Layers configured channels_first (Keras 2 data_format, Keras 1 dim_ordering "th")."""
    return [layer.name for layer in tree.top_layers
            if _effective(layer).config.get("data_format") == "channels_first"
            or _effective(layer).config.get("dim_ordering") == "th"]


def orthogonal_recurrent(tree: ModelTree, profile: Profile) -> list[str]:
    """Layers whose DL4J recurrent weights (n × 4n for LSTM) get an orthogonal initial value."""
    out = []
    for layer in tree.top_layers:
        inner = _effective(layer)
        if inner.class_name == "Bidirectional" and isinstance(inner.config.get("layer"), dict):
            wrapped = inner.config["layer"]
            inner = TopLayer(layer.name, str(wrapped.get("class_name")),
                             _config(wrapped))
        if inner.class_name not in profile.orthogonal_svd_layers:
            continue
        init = inner.config.get("recurrent_initializer", inner.config.get("inner_init"))
        name = init.get("class_name") if isinstance(init, dict) else init
        if isinstance(name, str) and name.lower() == "orthogonal":
            out.append(layer.name)
    return out


# ---- What to tell the user ---------------------------------------------------------------------
def documented_equivalent(site: Site) -> str:
    """What DL4J's documentation page says the regularizer maps to."""
    reg = site.regularizer
    if site.target == "activity":
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
    "kernel": (".l1", ".l2"),
    "embeddings": (".l1", ".l2"),
    "alpha": (".l1", ".l2"),
    "depthwise": (".l1", ".l2"),
    "bias": (".l1Bias", ".l2Bias"),
}
RECOMMEND_NONE = {
    "activity": "no DL4J equivalent",
    "recurrent": "none separate (the kernel's .l1/.l2 covers them)",
    "pointwise": "none separate (the depthwise .l1/.l2 covers them)",
    "gamma": "no DL4J equivalent",
    "beta": "no DL4J equivalent",
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
