"""What each DL4J release's Keras importer decides, as data: one Profile per release.

A release is written as its differences from the one before it (`_release`), so adding a release
is adding one table. Code reads the profile; nothing compares release names. Sources: each
release's deeplearning4j-modelimport sources on Maven Central, checked by running that release
(`python build.py conformance --importer NAME`); master is read from GitHub and never run.
What is the same in every release (the regularizer readers and outcomes, the texts) lives in
rules.py; a profile points at it so that a later release can change it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from regaudit import rules

# ---- Layer classes the dispatcher (KerasLayerUtils.getKerasLayerFromConfig) builds ---------
# The same string in Keras 1 and Keras 2 configurations, 1.0.0-beta7.
_COMMON_BETA7 = frozenset(
    """
    Activation LeakyReLU Masking ThresholdedReLU PReLU Dropout SpatialDropout1D SpatialDropout2D
    SpatialDropout3D AlphaDropout GaussianDropout GaussianNoise Dense TimeDistributedDense
    Bidirectional LSTM SimpleRNN AtrousConvolution2D AtrousConvolution1D
    DepthwiseConv2D MaxPooling3D AveragePooling3D MaxPooling2D AveragePooling2D MaxPooling1D
    AveragePooling1D GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
    GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D BatchNormalization Embedding
    InputLayer RepeatVector Permute Merge Add Subtract subtract Average average Multiply multiply
    Concatenate concatenate Flatten Reshape ZeroPadding1D ZeroPadding2D
    ZeroPadding3D UpSampling1D UpSampling2D Cropping3D Cropping2D Cropping1D
    ReLU ELU Softmax LocallyConnected1D
    """.split()
)
_KERAS1_ONLY = frozenset(
    "Convolution1D Convolution2D Convolution3D Deconvolution2D SeparableConvolution2D".split()
)
# TensorFlowOpLayer is a Keras 2 configuration name only.
_KERAS2_ONLY = frozenset(
    "Conv1D Conv2D Conv3D Conv2DTranspose SeparableConv2D TensorFlowOpLayer".split()
)


def _layers(common: frozenset[str]) -> Mapping[int, frozenset[str]]:
    return MappingProxyType({1: common | _KERAS1_ONLY, 2: common | _KERAS2_ONLY})


def _add(layers: Mapping[int, frozenset[str]], *names: str) -> Mapping[int, frozenset[str]]:
    return MappingProxyType({major: known | set(names) for major, known in layers.items()})


def _remove(layers: Mapping[int, frozenset[str]], *names: str) -> Mapping[int, frozenset[str]]:
    return MappingProxyType({major: known - set(names) for major, known in layers.items()})


# ---- The optimizer switch (KerasOptimizerUtils.mapOptimizer) ------------------------------
_LR = ("lr", "learning_rate")  # `lr` if the config has it, else `learning_rate`


@dataclass(frozen=True)
class OptimizerCase:
    """One case of the switch."""

    updater: str  # the DL4J IUpdater class it builds
    reads: tuple[tuple[str, ...], ...]  # keys cast to double, in order (first present of each)
    optional: tuple[str, ...] = ()  # read with a default when absent


@dataclass(frozen=True)
class OptimizerNames:
    """How the switch compares a class_name with its case labels."""

    lowercase: bool = False  # switch (name.toLowerCase())
    strip_prefix: str = ""  # removed first (master: "Custom>")


def _optimizers(**cases: OptimizerCase) -> Mapping[str, OptimizerCase]:
    return MappingProxyType(cases)


# Exact names, case matters; Adagrad is spelt "Adgrad". SGD's momentum is read from `epsilon`
# when the config has one.
_OPTIMIZERS_BETA7 = _optimizers(
    Adam=OptimizerCase("Adam", (_LR, ("beta_1",), ("beta_2",), ("epsilon",), ("decay",))),
    Adadelta=OptimizerCase("AdaDelta", (("rho",), ("epsilon",))),
    Adgrad=OptimizerCase("AdaGrad", (_LR, ("epsilon",), ("decay",))),
    Adamax=OptimizerCase("AdaMax", (_LR, ("beta_1",), ("beta_2",), ("epsilon",))),
    Nadam=OptimizerCase("Nadam", (_LR, ("beta_1",), ("beta_2",), ("epsilon",),
                                  ("schedule_decay",))),
    SGD=OptimizerCase("Nesterovs", (_LR, ("epsilon", "momentum"), ("decay",))),
    RMSprop=OptimizerCase("RmsProp", (_LR, ("rho",), ("epsilon",), ("decay",))),
)

# ---- Losses (KerasLossUtils.mapLossFunction) ------------------------------------------------
_LOSSES_BETA7 = frozenset(
    """
    mean_squared_error mse mean_absolute_error mae mean_absolute_percentage_error mape
    mean_squared_logarithmic_error msle squared_hinge hinge sparse_categorical_crossentropy
    binary_crossentropy categorical_crossentropy kullback_leibler_divergence kld poisson
    cosine_proximity
    """.split()
)
# The tf.keras class names, lowercased, that 1.0.0-M2.1 also maps.
_TF_KERAS_LOSS_ALIASES = frozenset(
    """
    meansquarederror meanabsoluteerror meanabsolutepercentageerror meansquaredlogarithmicerror
    squaredhinge binarycrossentropy sparsecategoricalcrossentropy kldivergence cosinesimilarity
    """.split()
)


@dataclass(frozen=True)
class Profile:
    """Everything one release's importer decides. `rules` (the regularizer readers and the
    outcome table) is shared by every release so far."""

    name: str  # "dl4j-1.0.0-M2.1": what reports carry in `importer`
    release: str  # the Maven version ("master": not released)
    verified: bool  # run by the conformance harness; master is read from source only
    changes: tuple[str, ...]  # what differs from the release before, in words (docs)
    # Layers: classes the dispatcher builds per Keras major; classes it dispatches to a builder
    # that always throws (class -> the exception text).
    known_layers: Mapping[int, frozenset[str]]
    throwing_layers: Mapping[str, str]
    bidirectional_inner: frozenset[str]
    bidirectional_merge_modes: frozenset[str]
    model_classes: frozenset[str]  # a model used as a layer: never recursed into
    readable_majors: frozenset[int]
    # Roots: imported as a MultiLayerNetwork / ComputationGraph; what a wrong root is told.
    sequential_roots: frozenset[str]
    functional_roots: frozenset[str]
    root_error: str
    # The training config (strict mode only).
    optimizers: Mapping[str, OptimizerCase]  # case label -> what the case does
    optimizer_names: OptimizerNames
    losses: frozenset[str]  # names mapLossFunction maps (lowercased when loss_lowercase)
    loss_lowercase: bool
    loss_object_unwrapped: bool  # tf.keras {"class_name", "config": {"name"}} read as one loss
    default_updater: str  # what every layer gets when no training config is imported
    # The graph.
    inbound_nodes: str  # "first": only a layer's first call is read; "all": every call merged
    # Copying stored weights into a DL4J parameter of another shape (a shared layer built over
    # every call merged, a mis-sized layer): "fails" ("Cannot assign arrays") or "silent" (it
    # copies, and the layer does not hold the stored values).
    weight_copy: str
    input_channel_walkers: frozenset[str]  # classes that find their input channels by walking
    sized_layers: frozenset[str]  # ... back to one of these (size known when built)
    # Release-specific failures (a rule each; see audit.py and rules.py).
    top_level_weights_fail: bool  # Keras >= 2.7 HDF5 (a top_level_model_weights group): NPE
    sequential_batchnorm_fails: bool  # BatchNormalization without inbound_nodes: NPE
    upsampling2d_equal_sizes: bool  # UpSampling2D size must be (n, n)
    # Orthogonal initial values by an SVD that can run for minutes or never end.
    orthogonal_svd_layers: frozenset[str]
    # Classes an image input takes its channels axis from when listed right after it
    # (KerasModel.inferOutputTypes, ConvolutionUtils.layerHasConvolutionLayout); empty: the
    # input keeps its own. M2's check lost ConvolutionLayer and SubsamplingLayer (Conv2D, the
    # poolings) to an && / || precedence slip.
    input_axis_layers: frozenset[str]
    # Layers built with another shape than the stored kernel (Keras major -> classes): DL4J does
    # not hold the stored values, so its score is not the file's.
    misshaped_layers: Mapping[int, frozenset[str]]
    # A Dense right after a Permute: "type_error" (it is given the sequence as it is),
    # "misshaped" (its input size is the Permute's wrong one), or "" (imports).
    dense_after_permute: str
    # Shape inference this release lacks: a BatchNormalization right after a layer that outputs a
    # sequence (what the import then throws; "" when it imports); channels_first layers in a
    # Sequential model.
    batchnorm_on_sequence_error: str
    channels_first_sequential_unknown: bool
    # An image input without its height or width fails at the first convolution or pooling
    # (InputTypeUtil checks the kernel against a size of 0).
    unsized_image_fails: bool
    # Layers whose regularization DL4J applies but leaves out of calcRegularizationScore
    # (SameDiff layers: the score of an AbstractLayer is 0).
    unscored_layers: frozenset[str]
    # Shared by every release so far.
    rules: tuple[rules.Rule, ...] = rules.RULES
    l2_score_factor: float = 0.5  # DL4J's L2Regularization score: factor·l2·Σw²


BETA7 = Profile(
    name="dl4j-1.0.0-beta7",
    release="1.0.0-beta7",
    verified=True,
    changes=("the first release profiled",),
    known_layers=_layers(_COMMON_BETA7),
    throwing_layers=MappingProxyType({
        name: f"UnsupportedKerasConfigurationException: Unsupported Keras pooling layer {name}"
        for name in ("GlobalMaxPooling3D", "GlobalAveragePooling3D")
    }),
    bidirectional_inner=frozenset({"LSTM", "SimpleRNN"}),
    bidirectional_merge_modes=frozenset({"sum", "concat", "mul", "ave"}),
    model_classes=frozenset({"Sequential", "Functional", "Model"}),
    readable_majors=frozenset({1, 2}),
    sequential_roots=frozenset({"Sequential"}),
    functional_roots=frozenset({"Model"}),
    root_error="Expected model class name Model (found {root})",
    optimizers=_OPTIMIZERS_BETA7,
    optimizer_names=OptimizerNames(),
    losses=_LOSSES_BETA7,
    loss_lowercase=False,
    loss_object_unwrapped=False,
    default_updater="Sgd",
    inbound_nodes="first",
    weight_copy="fails",
    input_channel_walkers=frozenset({"DepthwiseConv2D"}),
    sized_layers=frozenset(
        """
        Dense TimeDistributedDense Conv1D Conv2D Conv3D Conv2DTranspose
        SeparableConv2D DepthwiseConv2D Convolution1D Convolution2D Convolution3D
        Deconvolution2D SeparableConvolution2D AtrousConvolution1D AtrousConvolution2D Embedding
        """.split()
    ),
    top_level_weights_fail=True,
    sequential_batchnorm_fails=False,
    upsampling2d_equal_sizes=True,
    orthogonal_svd_layers=frozenset(),
    input_axis_layers=frozenset(),
    misshaped_layers=MappingProxyType({}),
    dense_after_permute="type_error",
    batchnorm_on_sequence_error="IllegalStateException: Invalid input type: Batch norm layer "
    "expected input of type CNN, CNN Flat or FF",
    channels_first_sequential_unknown=True,
    unsized_image_fails=True,
    unscored_layers=frozenset({"LocallyConnected1D"}),
)


# Keras classes DL4J builds as layers with a 2D convolution layout but not as a ConvolutionLayer
# or SubsamplingLayer.
_CONVOLUTION_LAYOUT = frozenset(
    """
    UpSampling2D ZeroPadding2D Cropping2D SeparableConv2D SeparableConvolution2D DepthwiseConv2D
    Deconvolution2D Conv2DTranspose
    """.split()
)


def _release(previous: Profile, release: str, changes: tuple[str, ...], *,
             verified: bool = True, **different: object) -> Profile:
    """A release as its differences from the one before it."""
    return replace(previous, name=f"dl4j-{release}", release=release, verified=verified,
                   changes=changes, **different)  # type: ignore[arg-type]


M1 = _release(
    BETA7, "1.0.0-M1",
    ("builds Maximum, maximum and UpSampling3D", "accepts a Functional root",
     "lowercases loss names", "reads every call of a layer (a shared layer's stored weights "
     "then fail to copy)", "UpSampling2D takes unequal sizes", "reads data formats anew: "
     "a Dense after a Permute and channels_first Sequential models import; Keras 1 "
     "Deconvolution2D and Convolution3D get another shape", "an image input takes its channels "
     "axis from the convolution or pooling layer listed after it", "an image input of unknown "
     "height or width imports (the kernel check skips unpadded layers)"),
    known_layers=_add(BETA7.known_layers, "Maximum", "maximum", "UpSampling3D"),
    functional_roots=frozenset({"Model", "Functional"}),
    root_error="Expected model class name Model or Functional (found {root})",
    loss_lowercase=True,
    inbound_nodes="all",
    upsampling2d_equal_sizes=False,
    misshaped_layers=MappingProxyType({1: frozenset({"Deconvolution2D", "Convolution3D"}),
                                       2: frozenset({"Conv3D"})}),
    dense_after_permute="misshaped",
    channels_first_sequential_unknown=False,
    unsized_image_fails=False,
    input_axis_layers=_CONVOLUTION_LAYOUT | frozenset(
        """
        Conv2D Convolution2D AtrousConvolution2D Conv1D Convolution1D AtrousConvolution1D
        MaxPooling2D AveragePooling2D MaxPooling1D AveragePooling1D
        """.split()),
)
M1_1 = _release(
    M1, "1.0.0-M1.1",
    ("a BatchNormalization without inbound_nodes (any Sequential model) fails",
     "a Dense after a Permute gets its size right"),
    sequential_batchnorm_fails=True,
    dense_after_permute="",
    # BatchNormalization now takes the sequence, and the layer after it gets the wrong size.
    batchnorm_on_sequence_error="InvalidKerasConfigurationException: Length of both arrays must "
    "be equal",
)
M2 = _release(
    M1_1, "1.0.0-M2",
    ("builds Conv3DTranspose", "skips top_level_model_weights (Keras >= 2.7 files import)",
     "BatchNormalization in a Sequential model imports again, also after a sequence",
     "weights copied into another shape no longer fail (a shared layer imports, with values "
     "that are not the stored ones)", "3D layers get their sizes right",
     "the native SVD behind orthogonal initial values can hang", "an image input no longer takes "
     "its channels axis from a Conv2D or a pooling layer after it (an && / || slip)"),
    known_layers=_add(M1_1.known_layers, "Conv3DTranspose"),
    sized_layers=M1_1.sized_layers | {"Conv3DTranspose"},
    top_level_weights_fail=False,
    sequential_batchnorm_fails=False,
    weight_copy="silent",
    misshaped_layers=MappingProxyType({1: frozenset({"Deconvolution2D", "Convolution3D"})}),
    dense_after_permute="",
    orthogonal_svd_layers=frozenset({"LSTM"}),
    input_axis_layers=_CONVOLUTION_LAYOUT,
    batchnorm_on_sequence_error="",
)
M2_1 = _release(
    M2, "1.0.0-M2.1",
    ("Nadam's schedule_decay defaults to 0", "maps the tf.keras loss class names "
     "(meansquarederror, ...)", "reads a tf.keras loss object {class_name, config: {name}}"),
    optimizers=_optimizers(**{
        **M2.optimizers,
        "Nadam": OptimizerCase("Nadam", (_LR, ("beta_1",), ("beta_2",), ("epsilon",)),
                               optional=("schedule_decay",)),
    }),
    losses=M2.losses | _TF_KERAS_LOSS_ALIASES,
    loss_object_unwrapped=True,
)
MASTER = _release(
    M2_1, "master",
    ("builds Attention", "TensorFlowOpLayer throws", "the optimizer switch lowercases the "
     "name and strips Custom>, and spells adagrad right", "Adam's decay is optional"),
    verified=False,
    known_layers=_add(_remove(M2_1.known_layers, "TensorFlowOpLayer"), "Attention"),
    throwing_layers=MappingProxyType({
        **M2_1.throwing_layers,
        "TensorFlowOpLayer": "UnsupportedKerasConfigurationException: Tensorflow op layers "
        "are not supported yet",
    }),
    optimizers=_optimizers(
        adam=OptimizerCase("Adam", (_LR, ("beta_1",), ("beta_2",), ("epsilon",)),
                           optional=("decay",)),
        adadelta=M2_1.optimizers["Adadelta"],
        adagrad=M2_1.optimizers["Adgrad"],
        adamax=M2_1.optimizers["Adamax"],
        nadam=M2_1.optimizers["Nadam"],
        sgd=M2_1.optimizers["SGD"],
        rmsprop=M2_1.optimizers["RMSprop"],
    ),
    optimizer_names=OptimizerNames(lowercase=True, strip_prefix="Custom>"),
)

PROFILES: Mapping[str, Profile] = MappingProxyType(
    {p.name: p for p in (BETA7, M1, M1_1, M2, M2_1, MASTER)}
)
DEFAULT = M2_1


def profile_named(name: str) -> Profile:
    """A profile by its name, its release ("1.0.0-M2.1") or its short form ("M2.1")."""
    for profile in PROFILES.values():
        if name in (profile.name, profile.release, short_name(profile)):
            return profile
    known = ", ".join(short_name(p) for p in PROFILES.values())
    raise KeyError(f"no DL4J release {name!r}: choose from {known} (or all)")


def short_name(profile: Profile) -> str:
    return profile.release.removeprefix("1.0.0-")

