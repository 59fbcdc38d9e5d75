"""Which layer classes a DL4J importer version can build: data, one table per version.

Source: shared/spec/dl4j-known-layers.md (KerasLayerUtils.getKerasLayerFromConfig and the
Keras1/Keras2 LayerConfiguration classes). A later importer version is one more Profile.
"""

from __future__ import annotations

from dataclasses import dataclass

# Same string in Keras 1 and Keras 2 configurations, M2.1 (master adds `Attention`).
_COMMON_M21 = frozenset(
    """
    Activation LeakyReLU Masking ThresholdedReLU PReLU Dropout SpatialDropout1D SpatialDropout2D
    SpatialDropout3D AlphaDropout GaussianDropout GaussianNoise Dense TimeDistributedDense
    Bidirectional LSTM SimpleRNN Conv3DTranspose AtrousConvolution2D AtrousConvolution1D
    DepthwiseConv2D MaxPooling3D AveragePooling3D MaxPooling2D AveragePooling2D MaxPooling1D
    AveragePooling1D GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
    GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D BatchNormalization Embedding
    InputLayer RepeatVector Permute Merge Add Subtract subtract Average average Multiply multiply
    Maximum maximum Concatenate concatenate Flatten Reshape ZeroPadding1D ZeroPadding2D
    ZeroPadding3D UpSampling1D UpSampling2D UpSampling3D Cropping3D Cropping2D Cropping1D
    ReLU ELU Softmax LocallyConnected1D
    """.split()
)
_KERAS1_ONLY = frozenset(
    "Convolution1D Convolution2D Convolution3D Deconvolution2D SeparableConvolution2D".split()
)
_KERAS2_ONLY = frozenset("Conv1D Conv2D Conv3D Conv2DTranspose SeparableConv2D".split())


# The learning rate: `lr` if the config has it, else `learning_rate`.
_LR = ("lr", "learning_rate")


@dataclass(frozen=True)
class OptimizerCase:
    """One case of KerasOptimizerUtils.mapOptimizer's switch."""

    updater: str  # the DL4J IUpdater class it builds
    reads: tuple[tuple[str, ...], ...]  # keys cast to double, in order (first present of each)
    optional: tuple[str, ...] = ()  # read with a default when absent


# Exact names: case matters and no "Custom>" prefix is stripped; Adagrad is spelt "Adgrad".
_OPTIMIZERS_M21 = {
    "Adam": OptimizerCase("Adam", (_LR, ("beta_1",), ("beta_2",), ("epsilon",), ("decay",))),
    "Adadelta": OptimizerCase("AdaDelta", (("rho",), ("epsilon",))),
    "Adgrad": OptimizerCase("AdaGrad", (_LR, ("epsilon",), ("decay",))),
    "Adamax": OptimizerCase("AdaMax", (_LR, ("beta_1",), ("beta_2",), ("epsilon",))),
    "Nadam": OptimizerCase("Nadam", (_LR, ("beta_1",), ("beta_2",), ("epsilon",)),
                           optional=("schedule_decay",)),
    # SGD's momentum is read from `epsilon` when the config has one.
    "SGD": OptimizerCase("Nesterovs", (_LR, ("epsilon", "momentum"), ("decay",))),
    "RMSprop": OptimizerCase("RmsProp", (_LR, ("rho",), ("epsilon",), ("decay",))),
}

# KerasLossUtils.mapLossFunction, after lowercasing (categorical_hinge and logcosh are named in
# the configuration class but not mapped).
_LOSSES_M21 = frozenset(
    """
    mean_squared_error meansquarederror mse mean_absolute_error meanabsoluteerror mae
    mean_absolute_percentage_error meanabsolutepercentageerror mape
    mean_squared_logarithmic_error meansquaredlogarithmicerror msle squared_hinge squaredhinge
    hinge sparse_categorical_crossentropy sparsecategoricalcrossentropy binary_crossentropy
    binarycrossentropy categorical_crossentropy kullback_leibler_divergence kldivergence kld
    poisson cosine_proximity cosinesimilarity
    """.split()
)


@dataclass(frozen=True)
class Profile:
    name: str
    known_layers: dict[int, frozenset[str]]  # Keras major version -> class names it builds
    bidirectional_inner: frozenset[str]
    bidirectional_merge_modes: frozenset[str]
    model_classes: frozenset[str]  # a model used as a layer: never recursed into
    readable_majors: frozenset[int]
    optimizers: dict[str, OptimizerCase]  # class_name as written -> what the switch does
    losses: frozenset[str]  # lowercased Keras loss names the importer maps
    default_updater: str  # what every layer gets when no training config is imported
    sequential_roots: frozenset[str]  # root classes imported as a MultiLayerNetwork
    # Classes that find their input channels by walking back through the graph, and the
    # classes whose DL4J layer knows its output size when built (where the walk stops).
    input_channel_walkers: frozenset[str]
    sized_layers: frozenset[str]
    # Classes whose recurrent weights get an orthogonal initial value by an SVD that can run
    # for minutes or never end (nd4j's Svd on a wide n × 4n matrix).
    orthogonal_svd_layers: frozenset[str]


DL4J_M21 = Profile(
    name="dl4j-1.0.0-M2.1",
    known_layers={
        1: _COMMON_M21 | _KERAS1_ONLY,
        # TensorFlowOpLayer builds a KerasTFOpLayer in M2.1 (master throws instead).
        2: _COMMON_M21 | _KERAS2_ONLY | {"TensorFlowOpLayer"},
    },
    bidirectional_inner=frozenset({"LSTM", "SimpleRNN"}),
    bidirectional_merge_modes=frozenset({"sum", "concat", "mul", "ave"}),
    model_classes=frozenset({"Sequential", "Functional", "Model"}),
    readable_majors=frozenset({1, 2}),
    optimizers=_OPTIMIZERS_M21,
    losses=_LOSSES_M21,
    default_updater="Sgd",
    sequential_roots=frozenset({"Sequential"}),
    input_channel_walkers=frozenset({"DepthwiseConv2D"}),
    sized_layers=frozenset(
        """
        Dense TimeDistributedDense Conv1D Conv2D Conv3D Conv2DTranspose Conv3DTranspose
        SeparableConv2D DepthwiseConv2D Convolution1D Convolution2D Convolution3D
        Deconvolution2D SeparableConvolution2D AtrousConvolution1D AtrousConvolution2D Embedding
        """.split()
    ),
    orthogonal_svd_layers=frozenset({"LSTM"}),
)

DEFAULT = DL4J_M21
