"""Find the stored weight tensors a regularizer acts on, by layer and target."""

from __future__ import annotations

import re

from regaudit.keras import Site
from regaudit.sources.model import KERAS_V3, ModelSource, Tensor

# Weight name per target in legacy HDF5 files (Keras 2/3 names; Keras 1 uses W/U/b suffixes).
LEGACY_NAMES = {
    "kernel": ("kernel",),
    "bias": ("bias",),
    "recurrent": ("recurrent_kernel",),
    "depthwise": ("depthwise_kernel",),
    "pointwise": ("pointwise_kernel",),
    "embeddings": ("embeddings",),
    "gamma": ("gamma",),
    "beta": ("beta",),
    "alpha": ("alpha",),
}
KERAS1_LETTERS = {"kernel": "W", "bias": "b", "recurrent": "U", "embeddings": "W"}

# Order of a layer's variables in a .keras file (`vars/0`, `vars/1`, ...).
RNN_VARS = ("kernel", "recurrent_kernel", "bias")
VAR_ORDER = {
    "LSTM": RNN_VARS,
    "GRU": RNN_VARS,
    "SimpleRNN": RNN_VARS,
    "DepthwiseConv1D": ("depthwise_kernel", "bias"),
    "DepthwiseConv2D": ("depthwise_kernel", "bias"),
    "SeparableConv1D": ("depthwise_kernel", "pointwise_kernel", "bias"),
    "SeparableConv2D": ("depthwise_kernel", "pointwise_kernel", "bias"),
    "Embedding": ("embeddings",),
    "PReLU": ("alpha",),
}
DEFAULT_VARS = ("kernel", "bias")


def _var_order(site: Site) -> tuple[str, ...]:
    cls, config = site.layer_class, site.layer_config
    if cls in ("BatchNormalization", "LayerNormalization"):
        order = (["gamma"] if config.get("scale", True) else []) + (
            ["beta"] if config.get("center", True) else []
        )
        return tuple(order)
    return VAR_ORDER.get(cls, DEFAULT_VARS)


def _var_name(target: str, site: Site) -> str:
    if target == "depthwise" and site.layer_class.startswith("Depthwise"):
        return "depthwise_kernel"
    return LEGACY_NAMES.get(target, (target,))[0]


def _leaf_matches(leaf: str, target: str, site: Site) -> bool:
    leaf = leaf.split(":")[0]
    names = LEGACY_NAMES.get(target, (target,))
    if leaf in names:
        return True
    # Keras 3 names a DepthwiseConv2D's depthwise kernel plain "kernel".
    if target == "depthwise" and site.layer_class.startswith("Depthwise") and leaf == "kernel":
        return True
    letter = KERAS1_LETTERS.get(target)
    return bool(letter and re.search(rf"_{letter}(_[a-z]+)?$", leaf))


def find_tensors(source: ModelSource, site: Site, target: str) -> list[Tensor]:
    """The tensors for `target` of the site's layer ([] when they cannot be found)."""
    if source.weight_layout == KERAS_V3:
        return _find_v3(source, site, target)
    return _find_legacy(source, site, target)


def _find_legacy(source: ModelSource, site: Site, target: str) -> list[Tensor]:
    top = site.layer_path[0]
    inner = site.layer_path[-1]
    under = getattr(source.weights, "under", None)  # keras_h5.LegacyWeights: read lazily
    if under is not None:
        owned = list(under(top).values())
    else:
        owned = [t for key, t in source.weights.items() if key.startswith(f"{top}/")]
    if len(site.layer_path) > 1:
        names = {inner, f"forward_{inner}", f"backward_{inner}"}
        exact = [t for t in owned if names & set(t.path.split("/")[1:-1])]
        # A wrapper's weights may carry only the wrapper's own name (TimeDistributed).
        owned = exact if exact or not site.wrapper else owned
    return [t for t in owned if _leaf_matches(t.path.rsplit("/", 1)[-1], target, site)]


def _find_v3(source: ModelSource, site: Site, target: str) -> list[Tensor]:
    if not site.v3_key:
        return []
    prefixes = [site.v3_key]
    if (site.wrapper == "Bidirectional" and site.direction is None
            and site.v3_key.endswith("/forward_layer")):
        # An older Bidirectional config has one `layer`: its regularizer covers both directions.
        prefixes.append(site.v3_key[: -len("forward_layer")] + "backward_layer")
    order = _var_order(site)
    wanted = _var_name(target, site)
    if wanted not in order:
        return []
    index = str(order.index(wanted))
    keys = [f"{p}/{index}" for p in prefixes] + [f"{p}/cell/{index}" for p in prefixes]
    return [source.weights[k] for k in keys if k in source.weights]
