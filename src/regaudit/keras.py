"""Walk a Keras model config: every layer, and every regularizer in any of its five forms.

Pure data in, pure data out: no knowledge of DL4J here (that is rules.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from regaudit.errors import InputTooLarge, NotAKerasModel
from regaudit.sources.jsonutil import MAX_NESTING


class Target(StrEnum):
    """Which weights a regularizer acts on (spec §2). Any other `*_regularizer` field of a
    custom layer is reported under its own name."""

    KERNEL = "kernel"
    BIAS = "bias"
    ACTIVITY = "activity"
    RECURRENT = "recurrent"
    DEPTHWISE = "depthwise"
    POINTWISE = "pointwise"
    EMBEDDINGS = "embeddings"
    GAMMA = "gamma"
    BETA = "beta"
    ALPHA = "alpha"


class Form(StrEnum):
    """How a saved config writes a regularizer (spec §1)."""

    K1 = "K1"  # Keras 1 flat dict
    L1L2 = "L1L2"  # {"class_name": "L1L2", "config": ...}
    L1_OR_L2 = "L1/L2"  # tf.keras 2.3-2.11 classes L1, L2
    NEW = "NEW"  # with module / registered_name (Keras 2.12+, 3)
    FN = "FN"  # a function
    CUSTOM = "CUSTOM"  # any other class
    LAYER = "LAYER"  # an ActivityRegularization layer


# Config field -> target. Keras 1 and Keras 2/3 names never collide.
FIELD_TARGETS = {
    "kernel_regularizer": Target.KERNEL,
    "W_regularizer": Target.KERNEL,
    "bias_regularizer": Target.BIAS,
    "b_regularizer": Target.BIAS,
    "activity_regularizer": Target.ACTIVITY,
    "recurrent_regularizer": Target.RECURRENT,
    "U_regularizer": Target.RECURRENT,
    "depthwise_regularizer": Target.DEPTHWISE,
    "pointwise_regularizer": Target.POINTWISE,
    "embeddings_regularizer": Target.EMBEDDINGS,
    "gamma_regularizer": Target.GAMMA,
    "beta_regularizer": Target.BETA,
    "alpha_regularizer": Target.ALPHA,
}
MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
# Keys a Keras 3 / keras 2.12+ object dict carries besides class_name and config.
NEW_FORM_KEYS = frozenset({"module", "registered_name", "shared_object_id"})
BUILTIN_CLASSES = {
    "L1L2": "l1l2",
    "L1": "l1",
    "L2": "l2",
    "l1_l2": "l1l2",
    "OrthogonalRegularizer": "orthogonal",
    # Keras 1 names
    "WeightRegularizer": "l1l2",
    "L1L2Regularizer": "l1l2",
    "ActivityRegularizer": "l1l2",
}
BUILTIN_FAMILIES = frozenset({"l1l2", "l1", "l2", "orthogonal"})


@dataclass
class Regularizer:
    """One regularizer as written, normalized from any of the forms in spec §1."""

    form: Form
    class_name: str  # as written: WeightRegularizer, L2, pkg>ScaledL2, the function's name
    family: str  # l1l2, l1, l2, orthogonal, custom, function
    l1: float | None
    l2: float | None
    factor: float | None
    raw: Any
    keys: tuple[str, ...]  # top-level keys of the dict ((), for a bare string)
    is_string: bool

    def problems(self) -> list[tuple[str, str]]:
        """Coefficients no real Keras release writes: kept, but worth a warning."""
        if not isinstance(self.raw, dict) or self.family not in BUILTIN_FAMILIES:
            return []
        config = self.raw.get("config") if "class_name" in self.raw else self.raw
        if not isinstance(config, dict):
            return [("MISSING_COEFFICIENTS", "the regularizer has no config with coefficients")]
        out = []
        for key in ("l1", "l2", "factor"):
            if key not in config:
                continue
            value = config[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                out.append(("NON_NUMERIC_COEFFICIENT", f"{key} is {value!r}, not a number"))
            elif not math.isfinite(value):
                out.append(("NON_FINITE_COEFFICIENT", f"{key} is {value}"))
            elif value < 0:
                out.append(("NEGATIVE_COEFFICIENT", f"{key} is negative ({value})"))
            elif value > 1e3:
                out.append(("HUGE_COEFFICIENT", f"{key} is {value:g}, far above any real setting"))
        return out

    @property
    def coefficients_known(self) -> bool:
        return self.family in ("l1l2", "l1", "l2", "orthogonal")

    @property
    def is_zero(self) -> bool:
        """Known coefficients, all zero: a no-op penalty."""
        if not self.coefficients_known:
            return False
        values = [self.factor] if self.family == "orthogonal" else [self.l1, self.l2]
        return all(v == 0 for v in values if isinstance(v, (int, float))) and any(
            isinstance(v, (int, float)) for v in values
        )


@dataclass
class Site:
    """A regularizer and where it sits."""

    layer: str
    layer_path: list[str]
    layer_class: str  # the class that holds the field (the inner class under a wrapper)
    wrapper: str | None
    target: str
    field: str
    regularizer: Regularizer
    top_index: int  # index of the top-level layer entry that contains it
    layer_config: dict[str, Any]
    v3_key: str | None  # group path of the layer's weights in a .keras file
    # Inside a Bidirectional that writes both directions (`backward_layer` beside `layer`):
    # "forward" or "backward"; None otherwise.
    direction: str | None = None

    @property
    def wrapper_label(self) -> str | None:
        """The wrapper as reports show it: "Bidirectional (backward)", ..."""
        return f"{self.wrapper} ({self.direction})" if self.direction else self.wrapper


@dataclass
class TopLayer:
    """An entry of the root model's layer list: what the importer dispatches, one by one."""

    name: str
    class_name: str
    config: dict[str, Any]
    inbound_nodes: int = 0  # how many times a functional model calls it (>1: a shared layer)
    inbound: tuple[str, ...] = ()  # the layers it is called on, node after node, in order


@dataclass
class ModelTree:
    root_class: str
    top_layers: list[TopLayer] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def normalize_regularizer(raw: Any) -> Regularizer:
    """Any saved form -> one Regularizer (spec §1)."""
    if isinstance(raw, str):
        return Regularizer(Form.FN, raw, "function", None, None, None, raw, (), True)
    if not isinstance(raw, dict):
        return Regularizer(Form.CUSTOM, type(raw).__name__, "custom", None, None, None, raw, (),
                           False)
    keys = tuple(str(k) for k in raw)
    if "class_name" not in raw:  # Keras 1: flat dict
        name = raw.get("name")
        name = name if isinstance(name, str) else "(unnamed)"
        family = BUILTIN_CLASSES.get(name, "custom")
        if family == "custom" and ("l1" in raw or "l2" in raw) and name == "(unnamed)":
            family = "l1l2"
        return Regularizer(
            Form.K1, name, family, _num(raw.get("l1")), _num(raw.get("l2")), None, raw, keys, False
        )
    class_name = raw.get("class_name")
    class_name = class_name if isinstance(class_name, str) else repr(class_name)
    config = raw.get("config")
    registered = raw.get("registered_name")
    new_form = any(k in NEW_FORM_KEYS for k in raw)
    if class_name == "function":
        name = config if isinstance(config, str) else "function"
        return Regularizer(Form.FN, name, "function", None, None, None, raw, keys, False)
    shown = registered if isinstance(registered, str) and ">" in registered else class_name
    family = BUILTIN_CLASSES.get(class_name, "custom")
    if family != "custom" and isinstance(registered, str) and ">" in registered:
        family = "custom"  # a user class registered under a built-in's name
    cfg = config if isinstance(config, dict) else {}
    l1, l2 = _num(cfg.get("l1")), _num(cfg.get("l2"))
    factor = _num(cfg.get("factor"))
    if family == "l1":
        l2 = None
    elif family == "l2":
        l1 = None
    if new_form:
        form = Form.NEW
    elif family == "l1l2":
        form = Form.L1L2
    elif family in ("l1", "l2"):
        form = Form.L1_OR_L2
    else:
        form = Form.CUSTOM
    return Regularizer(form, shown, family, l1, l2, factor, raw, keys, False)


def snake_case(name: str) -> str:
    """Keras's object key for a layer class (how .keras weight groups are named)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _layer_list(model_config: dict[str, Any]) -> list[Any]:
    config = model_config.get("config")
    if isinstance(config, list):  # Sequential before Keras 2.2.3
        return config
    if isinstance(config, dict):
        layers = config.get("layers", [])
        if not isinstance(layers, list):
            raise NotAKerasModel("the model config's 'layers' is not a list")
        return layers
    raise NotAKerasModel("the model config has no 'config' object")


def _v3_keys(layers: list[Any], prefix: str) -> list[str]:
    """The `layers/<key>` group of each entry, numbered per class as Keras names them."""
    seen: dict[str, int] = {}
    snake: dict[str, str] = {}  # a model repeats its few class names (three regexes each)
    keys = []
    for entry in layers:
        cls = entry.get("class_name") if isinstance(entry, dict) else None
        if isinstance(cls, str) and cls not in snake:
            snake[cls] = snake_case(cls)
        base = snake[cls] if isinstance(cls, str) else "layer"
        n = seen.get(base, 0)
        seen[base] = n + 1
        keys.append(f"{prefix}layers/{base}" + (f"_{n}" if n else ""))
    return keys


def walk_model(model_config: dict[str, Any]) -> ModelTree:
    """Every top-level layer entry and every non-null regularizer below the root model."""
    root_class = model_config.get("class_name")
    if not isinstance(root_class, str):
        raise NotAKerasModel("the model config has no 'class_name'")
    tree = ModelTree(root_class=root_class)
    if root_class not in MODEL_CLASSES:
        # A single layer saved on its own: walk it as a one-layer model.
        layers: list[Any] = [model_config]
    else:
        layers = _layer_list(model_config)
    for index, (entry, key) in enumerate(zip(layers, _v3_keys(layers, ""), strict=True)):
        if not isinstance(entry, dict):
            raise NotAKerasModel(f"layer entry {index} is not an object")
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = _name(entry, index)
        nodes = entry.get("inbound_nodes")
        nodes = nodes if isinstance(nodes, list) else []
        tree.top_layers.append(TopLayer(name, _class(entry), config, len(nodes), _inbound(nodes)))
        _walk_layer(entry, [], None, index, key, tree, 0)
    return tree


def _inbound(nodes: list[Any]) -> tuple[str, ...]:
    """Layer names a Keras 1/2 `inbound_nodes` list calls (a node: [[name, node, tensor, ...]])."""
    return tuple(
        str(call[0])
        for node in nodes if isinstance(node, list)
        for call in node if isinstance(call, list) and call
    )


def _name(entry: dict[str, Any], index: int) -> str:
    config = entry.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    if not isinstance(name, str):
        name = entry.get("name")
    return name if isinstance(name, str) else f"(layer {index})"


def _class(entry: dict[str, Any]) -> str:
    cls = entry.get("class_name")
    return cls if isinstance(cls, str) else "(no class_name)"


def _walk_layer(
    entry: dict[str, Any],
    parent_path: list[str],
    wrapper: str | None,
    top_index: int,
    v3_key: str | None,
    tree: ModelTree,
    depth: int,
    direction: str | None = None,
) -> None:
    if depth > MAX_NESTING:
        raise InputTooLarge(f"layers nest deeper than {MAX_NESTING} levels")
    cls = _class(entry)
    config = entry.get("config")
    config = config if isinstance(config, dict) else {}
    name = _name(entry, top_index)
    path = parent_path + [name]

    def add(target: str, field_name: str, raw: Any, holder_class: str = cls) -> None:
        tree.sites.append(
            Site(
                layer=name,
                layer_path=path,
                layer_class=holder_class,
                wrapper=wrapper,
                target=target,
                field=field_name,
                regularizer=normalize_regularizer(raw),
                top_index=top_index,
                layer_config=config,
                v3_key=v3_key,
                direction=direction,
            )
        )

    if cls == "ActivityRegularization":  # a layer that is itself a regularizer: one finding
        _add_activity_layer(tree, name, path, wrapper, top_index, config, v3_key)
    for key, value in config.items():
        if value is None or not isinstance(key, str):
            continue
        if key in FIELD_TARGETS:
            add(FIELD_TARGETS[key], key, value)
        elif key.endswith("_regularizer"):
            add(key[: -len("_regularizer")], key, value)

    if cls == "Merge" and isinstance(config.get("layers"), list):  # Keras 1: a Merge of models
        for child in config["layers"]:
            if isinstance(child, dict):
                _walk_layer(child, path, wrapper, top_index, None, tree, depth + 1)
    if cls in MODEL_CLASSES:
        inner = _layer_list(entry)
        keys = _v3_keys(inner, f"{v3_key}/") if v3_key else [None] * len(inner)
        for child, child_key in zip(inner, keys, strict=True):
            if isinstance(child, dict):
                _walk_layer(child, path, wrapper, top_index, child_key, tree, depth + 1)
        return
    # Wrappers: Keras 3 Bidirectional writes both directions; older files only `layer`.
    wrapped = [("layer", "forward_layer" if cls == "Bidirectional" else "layer")]
    if cls == "Bidirectional" and isinstance(config.get("backward_layer"), dict):
        wrapped.append(("backward_layer", "backward_layer"))
    for conf_key, group in wrapped:
        child = config.get(conf_key)
        if isinstance(child, dict) and "class_name" in child:
            side = None
            if cls == "Bidirectional" and len(wrapped) == 2:
                side = "backward" if conf_key == "backward_layer" else "forward"
            child_key = f"{v3_key}/{group}" if v3_key else None
            _walk_layer(child, path, cls, top_index, child_key, tree, depth + 1, side)
    # Generic RNN layers keep their regularizers in the cell config(s).
    cells = config.get("cell")
    if isinstance(cells, dict) and isinstance(cells.get("config"), dict):
        is_stack = cells.get("class_name") == "StackedRNNCells"
        stacked = cells["config"].get("cells") if is_stack else None
        for i, cell in enumerate(stacked if isinstance(stacked, list) else [cells]):
            if isinstance(cell, dict):
                cell_key = f"{v3_key}/cell" if v3_key and i == 0 else None
                _walk_layer(cell, path, cls, top_index, cell_key, tree, depth + 1)


def _add_activity_layer(
    tree: ModelTree,
    name: str,
    path: list[str],
    wrapper: str | None,
    top_index: int,
    config: dict[str, Any],
    v3_key: str | None,
) -> None:
    raw = {k: config[k] for k in ("l1", "l2") if k in config}
    reg = Regularizer(
        Form.LAYER, "ActivityRegularization", "l1l2", _num(raw.get("l1")), _num(raw.get("l2")),
        None, raw, tuple(raw), False,
    )
    tree.sites.append(
        Site(name, path, "ActivityRegularization", wrapper, Target.ACTIVITY, "(layer)", reg,
             top_index, config, v3_key)
    )
