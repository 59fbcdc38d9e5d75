"""Which top-level layer entries DL4J's importer fails on, as data read from the profile: the
class dispatch, wrappers, what each class's constructor reads unconditionally, and the rules
that need the layer graph (input channels, image inputs, shared layers, input ranks).

The regularizer's own rules are in rules.py; a Block made here says whether the importer meets
it before or after it reads the layer's regularizers (`late`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regaudit.keras import ModelTree, TopLayer
from regaudit.rules import INVALID, UNSUPPORTED, Block

if TYPE_CHECKING:
    from regaudit.importers import Profile

def unsupported_layer(cls: str) -> str:
    return f"{UNSUPPORTED}Unsupported keras layer type {cls}"


def layer_blocker(layer: TopLayer, profile: Profile, majors: tuple[int, ...],
                  with_weights: bool = True) -> Block | None:
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
        return _known_or_blocker(TopLayer(layer.name, inner_cls, _config(inner),
                                          layer.inbound_nodes, layer.inbound), profile, majors,
                                 with_weights)
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
    return _known_or_blocker(layer, profile, majors, with_weights)


def _known_or_blocker(layer: TopLayer, profile: Profile, majors: tuple[int, ...],
                      with_weights: bool) -> Block | None:
    cls = layer.class_name
    if cls in profile.throwing_layers:
        # Thrown by the class's own builder, after its regularizers were read.
        return Block("UNSUPPORTED_LAYER", f"{cls}: {profile.throwing_layers[cls].split(': ')[-1]}",
                     profile.throwing_layers[cls], late=True)
    if any(cls in profile.known_layers.get(m, frozenset()) for m in majors):
        return _class_rule(layer, profile, majors, with_weights)
    if cls == "Lambda":
        return Block("UNSUPPORTED_LAYER", f"No SameDiff Lambda layer found for Lambda layer "
                     f"{layer.name} (register one with KerasLayer.registerLambdaLayer)",
                     f"{UNSUPPORTED}No SameDiff Lambda layer found for Lambda layer {layer.name}")
    return Block("UNSUPPORTED_LAYER", f"Unsupported keras layer type {cls}",
                 unsupported_layer(cls))


# Config keys an importer class reads unconditionally, in order, and what it throws without
# them. The dropout layers read `rate` and these initializers by their Keras 2 names whatever
# the Keras major, so Keras 1 files (which say `p`, `init`) fail.
def _missing(key: str, why: str) -> tuple[str, str]:
    return key, f"{INVALID}Keras configuration does not contain parameter{key}needed for {why}"


def _initializer(key: str) -> tuple[str, str]:
    return key, f"{INVALID}Keras layer is missing {key} field"


_SEPARABLE_KEYS = (_initializer("depthwise_initializer"), _initializer("pointwise_initializer"))
REQUIRED_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "SpatialDropout1D": (_missing("rate", "spatial dropout"),),
    "SpatialDropout2D": (_missing("rate", "spatial dropout"),),
    "SpatialDropout3D": (_missing("rate", "spatial dropout"),),
    "GaussianDropout": (_missing("rate", "GaussianDropout"),),
    "AlphaDropout": (_missing("rate", "AlphaDropout"),),
    "PReLU": (_initializer("alpha_initializer"),),
    "DepthwiseConv2D": (_initializer("depthwise_initializer"),),
    "SeparableConv2D": _SEPARABLE_KEYS,
    "SeparableConvolution2D": _SEPARABLE_KEYS,
}
# Keras 1 layers whose weights the importer converts by the backend's dimension order, which a
# Keras 1 file gives only through the layer's own dim_ordering (these have none).
DIM_ORDER_LAYERS = frozenset({"Convolution1D", "AtrousConvolution1D"})
MERGE_MODES = frozenset({"sum", "mul", "concat", "ave", "max"})  # a Keras 1 Merge's `mode`


def _class_rule(layer: TopLayer, profile: Profile, majors: tuple[int, ...],
                with_weights: bool) -> Block | None:
    """A known class that still fails, for its config."""
    cls, config = layer.class_name, layer.config
    for key, error in REQUIRED_KEYS.get(cls, ()):
        if key not in config:
            return Block("MISSING_CONFIG_KEY", f"{cls} has no `{key}`, which the importer reads "
                         "under that name whatever the Keras version", error, late=True)
    if cls == "BatchNormalization" and profile.sequential_batchnorm_fails and not layer.inbound:
        return Block("BATCHNORM_NO_INBOUND", "BatchNormalization without inbound_nodes (every "
                     "layer of a Sequential model): this release reads them unconditionally",
                     "NullPointerException", late=True)
    size = config.get("size")
    if (cls == "UpSampling2D" and profile.upsampling2d_equal_sizes and isinstance(size, list)
            and len(size) == 2 and size[0] != size[1]):
        return Block("UPSAMPLING_SIZES", f"UpSampling2D size {size}: this release takes equal "
                     "sizes only", f"{UNSUPPORTED}First and second size arguments have to be "
                     "the same", late=True)
    if cls == "Merge":
        mode = config.get("mode")
        if isinstance(config.get("layers"), list):
            return Block("MERGE_OF_MODELS", "a Keras 1 Merge of models (branches as "
                         "Sequential models inside the layer): the importer fails on it",
                         "NullPointerException", late=True)
        if mode is None:
            return Block("MERGE_MODE", "Merge without a mode",
                         f"{INVALID}Keras Merge layer config missing mode field", late=True)
        if mode not in MERGE_MODES:
            return Block("MERGE_MODE", f"Merge mode {mode!r} is not supported (only "
                         f"{', '.join(sorted(MERGE_MODES))})",
                         f"{UNSUPPORTED}Keras Merge layer mode {mode} not supported", late=True)
    if not with_weights:
        return None  # the rest fail while the stored weights are copied
    if cls in DIM_ORDER_LAYERS and majors == (1,) and "dim_ordering" not in config:
        return Block("DIM_ORDER_UNKNOWN", f"a Keras 1 {cls} has no dim_ordering, and the "
                     "importer reads a Keras 1 file's backend from no other place: it cannot "
                     "convert the stored weights", f"{INVALID}Unknown keras backend NONE",
                     late=True)
    if cls == "LocallyConnected1D" and config.get("use_bias", config.get("bias", True)):
        return Block("LOCALLY_CONNECTED_BIAS", "LocallyConnected1D with a bias: Keras stores "
                     "one bias per output step, DL4J holds one per filter, and the copy fails",
                     f'{INVALID}Cannot set parameter "b"', late=True)
    return None


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


def _sample_rank(layer: TopLayer) -> int | None:
    """Dimensions per sample of the input a layer declares (batch_input_shape), if any."""
    shape = layer.config.get("batch_input_shape")
    return len(shape) - 1 if isinstance(shape, list) and shape else None


def _input_blocker(layer: TopLayer, index: int, built: dict[str, TopLayer],
                   sequential: bool) -> Block | None:
    """KerasInput takes up to 4 dimensions per sample; a TimeDistributed on 4 of them (time and
    an image) meets a 3D convolutional input type its wrapped layer does not take."""
    rank = _sample_rank(layer) if layer.class_name == "InputLayer" or index == 0 else None
    if rank is not None and rank > 4:
        return Block("INPUT_RANK", f"a model input with {rank} dimensions per sample (the "
                     "importer takes up to 4)",
                     f"{UNSUPPORTED}Inputs with {rank} dimensions not supported", late=True)
    if layer.class_name != "TimeDistributed":
        return None
    source = layer if sequential else built.get(layer.inbound[0]) if layer.inbound else None
    if source is not None and (source is layer or source.class_name == "InputLayer") \
            and _sample_rank(source) == 4:
        return Block("TIMEDISTRIBUTED_INPUT", "TimeDistributed on an input of 4 dimensions per "
                     "sample (time and an image): the importer types it as a 3D convolutional "
                     "input, which the wrapped layer does not take",
                     "RuntimeException: Unknown input type: InputTypeConvolutional3D", late=True)
    return None


def _channels_blocker(layer: TopLayer, built: dict[str, TopLayer], sequential: bool,
                      profile: Profile) -> Block | None:
    effective = _effective(layer)
    if effective.class_name not in profile.input_channel_walkers or _input_channels_found(
            effective, built, sequential, profile):
        return None
    where = ("a Sequential model links its layers only after building them" if sequential
             else "the walk reaches the model's input first")
    return Block("INPUT_CHANNELS_UNKNOWN",
                 f"{effective.class_name} finds its input channels by walking back to a layer "
                 f"whose size is known when built (Dense, Conv*, Embedding, ...); {where}, so the "
                 "import fails (IndexOutOfBoundsException)",
                 "IndexOutOfBoundsException: Index 0 out of bounds for length 0", late=True)


# Layers whose output is a sequence (time steps × features) whatever their config; recurrent
# layers too when they return sequences.
SEQUENCE_LAYERS = frozenset(
    """
    Embedding Conv1D Convolution1D AtrousConvolution1D SeparableConv1D LocallyConnected1D
    MaxPooling1D AveragePooling1D ZeroPadding1D Cropping1D UpSampling1D RepeatVector
    """.split()
)
RECURRENT_LAYERS = frozenset({"LSTM", "SimpleRNN", "GRU"})


def _outputs_sequence(layer: TopLayer) -> bool:
    effective = _effective(layer)
    return effective.class_name in SEQUENCE_LAYERS or (
        effective.class_name in RECURRENT_LAYERS and bool(effective.config.get("return_sequences")))


def _sequence_blocker(layer: TopLayer, previous: TopLayer | None, profile: Profile) -> Block | None:
    """Shape inference a release lacks, for the layer right before this one."""
    if previous is None:
        return None
    cls = _effective(layer).class_name
    if (cls == "BatchNormalization" and profile.batchnorm_on_sequence_error
            and _outputs_sequence(previous)):
        return Block("BATCHNORM_ON_SEQUENCE", f"a BatchNormalization right after "
                     f"{previous.class_name}, which outputs a sequence: this release's shape "
                     "inference does not take it", profile.batchnorm_on_sequence_error, late=True)
    if (cls == "Dense" and profile.dense_after_permute == "type_error"
            and _effective(previous).class_name == "Permute"):
        return Block("DENSE_AFTER_PERMUTE", "a Dense right after a Permute: this release gives "
                     "it the Permute's sequence without the step that flattens it",
                     f'IllegalStateException: Invalid input type (layer name="{layer.name}")',
                     late=True)
    return None


# 2D layers whose output type InputTypeUtil.getOutputTypeCnnLayers computes, checking the
# kernel against the input's height and width; and layers an unknown image size passes through.
CNN_CHECKED = frozenset(
    """
    Conv2D Convolution2D AtrousConvolution2D SeparableConv2D SeparableConvolution2D
    DepthwiseConv2D MaxPooling2D AveragePooling2D MaxPool2D AvgPool2D
    """.split()
)
SIZE_PASSING = frozenset(
    """
    Activation LeakyReLU ReLU ELU ThresholdedReLU Softmax BatchNormalization Dropout
    SpatialDropout2D GaussianNoise GaussianDropout AlphaDropout ZeroPadding2D Cropping2D
    UpSampling2D
    """.split()
)


def _unsized_image(layer: TopLayer) -> bool:
    """An image input (3 dimensions per sample) declared without its height or width."""
    shape = layer.config.get("batch_input_shape")
    return isinstance(shape, list) and len(shape) == 4 and None in shape[1:]


def _size_blocker(layer: TopLayer, source: TopLayer | None, unsized: set[str],
                  profile: Profile) -> Block | None:
    """1.0.0-beta7 infers shapes with an unknown height or width as 0, and its CNN output-type
    check then finds every kernel larger than the input. `unsized` collects the layers whose
    output has that unknown size (filled here, in layer order)."""
    if not profile.unsized_image_fails:
        return None
    cls = _effective(layer).class_name
    fed_unsized = (source.name in unsized) if source is not None else _unsized_image(layer)
    if layer.class_name == "InputLayer" and _unsized_image(layer):
        unsized.add(layer.name)
    elif fed_unsized and cls in CNN_CHECKED:
        return Block("IMAGE_SIZE_UNKNOWN", f"{layer.name} gets an image input of unknown height "
                     "or width: this release infers its size as 0 and finds the kernel larger "
                     "than the input", "DL4JInvalidConfigException: Invalid configuration for "
                     f"layer (idx=-1, name={layer.name}", late=True)
    elif fed_unsized and cls in SIZE_PASSING:
        unsized.add(layer.name)
    return None


def graph_blockers(tree: ModelTree, profile: Profile) -> dict[int, Block]:
    """Top-level entries that fail for where they sit in the graph (index -> Block)."""
    sequential = tree.root_class in profile.sequential_roots
    built: dict[str, TopLayer] = {}
    unsized: set[str] = set()
    out = {}
    for index, layer in enumerate(tree.top_layers):
        previous = (tree.top_layers[index - 1] if index else None) if sequential else (
            built.get(layer.inbound[0]) if layer.inbound else None)
        block = (_input_blocker(layer, index, built, sequential)
                 or _size_blocker(layer, previous, unsized, profile)
                 or _channels_blocker(layer, built, sequential, profile)
                 or _sequence_blocker(layer, previous, profile))
        if block:
            out[index] = block
        built[layer.name] = layer
    return out


def misshaped(tree: ModelTree, profile: Profile, majors: tuple[int, ...]) -> dict[int, str]:
    """Top-level layers DL4J builds with another shape than their stored weights -> why: a
    shared layer built over every call merged, a class this release sizes wrongly, a Dense
    after a Permute. What the copy then does is the profile's `weight_copy`."""
    sequential = tree.root_class in profile.sequential_roots
    classes = frozenset().union(*(profile.misshaped_layers.get(m, frozenset()) for m in majors))
    out = {}
    for index, layer in enumerate(tree.top_layers):
        previous = tree.top_layers[index - 1] if sequential and index else None
        if layer.inbound_nodes > 1 and profile.inbound_nodes == "all":
            out[index] = (f"{layer.name} is called on {layer.inbound_nodes} inputs (a shared "
                          "layer): DL4J builds it once, over all of them merged")
        elif _effective(layer).class_name in classes:
            out[index] = (f"{layer.name}: DL4J builds this {_effective(layer).class_name} with "
                          "another shape than the stored kernel")
        elif (profile.dense_after_permute == "misshaped" and previous is not None
              and _effective(layer).class_name == "Dense"
              and _effective(previous).class_name == "Permute"):
            out[index] = f"{layer.name}: DL4J sizes a Dense after a Permute from the wrong axis"
    return out


def uses_channels_first(tree: ModelTree) -> list[str]:
    """Layers configured channels_first (Keras 2 data_format, Keras 1 dim_ordering "th")."""
    return [layer.name for layer in tree.top_layers
            if _effective(layer).config.get("data_format") == "channels_first"
            or _effective(layer).config.get("dim_ordering") == "th"]


# Keras classes whose DL4J layer passes ConvolutionUtils.layerHasConvolutionLayout (its operator
# precedence leaves plain convolutions and pooling out): the only layers an input takes its
# channels axis from when it is listed right before them.
def _channels(config: dict) -> str | None:
    """A layer's channels axis as configured: "first", "last" or None."""
    order = config.get("data_format") or config.get("dim_ordering")
    return {"channels_first": "first", "th": "first", "channels_last": "last",
            "tf": "last"}.get(order) if isinstance(order, str) else None


def misread_image_inputs(tree: ModelTree, major: int | None, backend: str | None,
                         profile: Profile) -> dict[int, str]:
    """Layers fed an image input whose channels axis DL4J takes wrongly -> the input's name.

    KerasModel.inferOutputTypes gives an image input the channels axis of the layer listed right
    after it when that one has a convolution layout (profile.input_axis_layers; the axis then
    holds for later inputs too); otherwise the input's own: channels_last for a Keras 2
    TensorFlow file, channels_first (Theano) for a Keras 1 file, whose layers get no backend.
    A layer that reads its input the other way gets the wrong number of channels: its weights
    are not the stored ones, and shape inference may fail further on.
    """
    guessed: dict[str, str] = {}
    model_axis = None
    layers = tree.top_layers
    for i, layer in enumerate(layers):
        if layer.class_name != "InputLayer" or _sample_rank(layer) != 3:
            continue
        following = _effective(layers[i + 1]) if i + 1 < len(layers) else None
        if following is not None and following.class_name in profile.input_axis_layers:
            model_axis = _channels(following.config) or model_axis
        own = "last" if major == 2 and backend in ("tensorflow", "cntk") else "first"
        guessed[layer.name] = model_axis or own
    out = {}
    for index, layer in enumerate(layers):
        effective = _effective(layer)
        axis = _channels(effective.config)
        source = layer.inbound[0] if layer.inbound else None
        if source in guessed and axis is not None and axis != guessed[source]:
            out[index] = source
    return out


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
