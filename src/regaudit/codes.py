"""Every reason code a finding, blocker or training block can carry, with what it means.

`rules.py` and `audit.py` mint the codes; this table says, once, what each one stands for: where
it appears, which outcomes it decides, and a help text for people. The SARIF rules, the "Reason
codes" part of docs/import-rules.md and the tests read it; `tests/test_codes.py` fails when a
code minted in rules.py or audit.py is missing here, or an entry here is minted nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

FINDING, BLOCKER, TRAINING = "finding", "blocker", "training"


@dataclass(frozen=True)
class Code:
    code: str
    where: tuple[str, ...]  # finding / blocker / training
    outcomes: frozenset[str]  # the outcomes this code decides (see Report OUTCOMES)
    description: str  # what happens, and what to do about it


def _code(code: str, where: str, outcomes: str, description: str) -> Code:
    return Code(code, tuple(where.split()), frozenset(outcomes.split()), description)


_TABLE = (
    # ---- a regularizer's own rules (rules.RULES and rules.finish) ----
    _code("IMPORTED", "finding", "applied",
          "The coefficients are imported into the DL4J layer's l1/l2 with the same effect as "
          "in Keras."),
    _code("IMPORTED_AFTER_WARNING", "finding", "applied",
          "With enforceTrainingConfig=false the importer logs 'Ignoring unknown regularization "
          "field' and still imports the L1L2 value."),
    _code("L2_HALVED", "finding", "altered",
          "Imported, but DL4J's L2 gradient is l2·w where Keras's is 2·l2·w: the model trains "
          "with half the L2 penalty. Set .l2(2·l2) on the DL4J layer (see `recommended`)."),
    _code("EXTRA_WEIGHTS", "finding", "altered",
          "Imported, but DL4J applies the value to more weights than Keras did (the recurrent "
          "weights of LSTM/SimpleRNN, the pointwise weights of SeparableConv2D)."),
    _code("NOT_L1L2", "finding", "dropped",
          "Only class L1L2 (or Keras 1 l1/l2 keys) is read; L1, L2, OrthogonalRegularizer and "
          "custom classes become 0.0 with no log line, so the regularizer is lost. Re-save with "
          "keras.regularizers.L1L2(...) or set the DL4J value by hand (see `recommended`)."),
    _code("NEVER_READ", "finding", "dropped",
          "The importer never looks at this field (activity, recurrent, pointwise, Keras 2+ "
          "embeddings, alpha, ...): the regularizer is lost with no log line."),
    _code("BIAS_NOT_IMPORTED", "finding", "dropped",
          "Bias regularizers are never applied by any imported DL4J layer: lost with no log "
          "line. Set .l1Bias/.l2Bias by hand."),
    _code("BIAS_K1", "finding blocker", "error",
          "A Keras 1 b_regularizer always fails the import: 'L1/L2 regularization for bias "
          "parameter not supported'. Remove it before export."),
    _code("UNKNOWN_FIELD", "finding blocker", "error warned",
          "The regularizer has a key other than l1, l2, name, class_name, config (module, "
          "registered_name, shared_object_id, ...), as Keras 2.12+ and Keras 3 write it. "
          "With enforceTrainingConfig=true the import fails ('Unknown regularization field'); "
          "with false a warning is logged and the regularizer is lost unless it is an L1L2."),
    _code("STRING_CAST", "finding blocker", "error",
          "The regularizer is a bare function name where the importer expects a map: the import "
          "fails with a ClassCastException."),
    _code("BATCHNORM_REGULARIZER", "finding blocker", "error warned",
          "A gamma/beta regularizer on BatchNormalization: the import fails with "
          "enforceTrainingConfig=true; with false a warning is logged and it is lost."),
    _code("BACKWARD_LAYER_IGNORED", "finding", "dropped",
          "An explicit Bidirectional backward_layer (Keras 2 files) is never read: DL4J "
          "rebuilds both directions from `layer`, so the backward layer's regularizers are lost."),
    _code("ZERO_COEFFICIENTS", "finding", "noop",
          "All coefficients are 0: there is nothing to carry over."),
    # ---- layer-level errors (layers.layer_blocker): every regularizer of that layer is `error` --
    _code("UNSUPPORTED_LAYER", "finding blocker", "error",
          "The importer has no class for this layer ('Unsupported keras layer type'): the whole "
          "import fails, whatever the regularizers."),
    _code("NESTED_MODEL", "finding blocker", "error",
          "A model used as a layer is not imported (its layers are never looked at): the import "
          "fails. Flatten the nested model into the outer one before export."),
    _code("BIDIRECTIONAL_INNER", "finding blocker", "error",
          "Bidirectional wraps a layer other than LSTM or SimpleRNN: the import fails."),
    _code("BIDIRECTIONAL_MERGE_MODE", "finding blocker", "error",
          "Bidirectional with a merge_mode DL4J does not support: the import fails."),
    _code("BIDIRECTIONAL_IN_TIMEDISTRIBUTED", "finding blocker", "error",
          "TimeDistributed(Bidirectional(...)) cannot be imported: 'Field layer not found in "
          "configuration of Bidirectional layer'."),
    _code("INPUT_CHANNELS_UNKNOWN", "finding blocker", "error",
          "A DepthwiseConv2D whose input channels the importer cannot find: it walks back "
          "through first inputs to a layer of known size and reaches the model's input first, "
          "or the model is Sequential (layers are linked only after they are built). The import "
          "fails with IndexOutOfBoundsException. Put a Conv2D (or Dense) before it, or use a "
          "functional model."),
    _code("BATCHNORM_NO_INBOUND", "finding blocker", "error",
          "1.0.0-M1.1 only: a BatchNormalization without inbound_nodes (every layer of a "
          "Sequential model) fails with a NullPointerException. Use another release, or a "
          "functional model."),
    _code("UPSAMPLING_SIZES", "finding blocker", "error",
          "1.0.0-beta7 only: UpSampling2D with unequal sizes fails ('First and second size "
          "arguments have to be the same'). Use a later release."),
    _code("WEIGHTS_SHAPE", "finding blocker", "error",
          "1.0.0-M1 and M1.1: DL4J builds the layer with another shape than its stored weights "
          "(a layer a functional model calls on several inputs, built over all of them merged; "
          "a Keras 1 Deconvolution2D or Convolution3D; a Conv3D; a Dense after a Permute), and "
          "copying the weights into that shape fails ('Cannot assign arrays'). Use 1.0.0-M2 or "
          "later (imports; a shared or Keras 1 layer then holds values that are not the stored "
          "ones)."),
    _code("MISSING_CONFIG_KEY", "finding blocker", "error",
          "The layer's config lacks a key the importer reads under its Keras 2 name whatever the "
          "Keras version (`rate` for SpatialDropout/GaussianDropout/AlphaDropout, "
          "`alpha_initializer`, `depthwise_initializer`, `pointwise_initializer`): Keras 1 files "
          "fail. Re-save with Keras 2."),
    _code("MERGE_MODE", "finding blocker", "error",
          "A Keras 1 Merge in a mode DL4J does not build (cos, dot): the import fails."),
    _code("MERGE_OF_MODELS", "finding blocker", "error",
          "A Keras 1 Merge of models (branches as Sequential models inside the layer): the import "
          "fails with a NullPointerException. Rebuild it as a functional model."),
    _code("DIM_ORDER_UNKNOWN", "finding blocker", "error",
          "A Keras 1 Convolution1D or AtrousConvolution1D: its config has no dim_ordering and the "
          "importer reads no backend from a Keras 1 file, so it cannot convert the stored "
          "weights ('Unknown keras backend NONE')."),
    _code("LOCALLY_CONNECTED_BIAS", "finding blocker", "error",
          "LocallyConnected1D with a bias: Keras stores one bias per output step, DL4J holds one "
          "per filter, and copying it fails. Use use_bias=False."),
    _code("INPUT_RANK", "finding blocker", "error",
          "A model input with more than 4 dimensions per sample: 'Inputs with N dimensions not "
          "supported'."),
    _code("TIMEDISTRIBUTED_INPUT", "finding blocker", "error",
          "A TimeDistributed on an input of 4 dimensions per sample (time and an image): the "
          "importer types it as a 3D convolutional input, which the wrapped layer does not take."),
    _code("BATCHNORM_ON_SEQUENCE", "finding blocker", "error",
          "1.0.0-beta7 to M1.1: a BatchNormalization right after a layer that outputs a sequence "
          "(Embedding, Conv1D, ...) fails in shape inference or in the next layer's weight copy. "
          "Use 1.0.0-M2 or later."),
    _code("IMAGE_SIZE_UNKNOWN", "finding blocker", "error",
          "1.0.0-beta7: an image input declared without its height or width (None) reaches a "
          "convolution or pooling layer; this release infers the size as 0 and rejects the "
          "kernel as larger than the input. Declare the input's size, or use 1.0.0-M1 or later."),
    _code("DENSE_AFTER_PERMUTE", "finding blocker", "error",
          "1.0.0-beta7: a Dense right after a Permute gets a sequence it does not take. Use "
          "1.0.0-M1 or later."),
    # ---- file-level errors (audit.file_blockers) ----
    _code("KERAS_ARCHIVE", "finding blocker", "error",
          "A .keras archive: the importer reads HDF5 only. Re-save as .h5 with Keras 2."),
    _code("KERAS_MAJOR_VERSION", "finding blocker", "error",
          "The file was written by Keras 3: 'Keras major version has to be either 1 or 2'. "
          "Re-save with Keras 2 (tf.keras) as .h5."),
    _code("KERAS_VERSION_MISSING", "finding blocker", "error",
          "A legacy HDF5 file without the keras_version attribute at its root (Keras also "
          "writes one on model_weights, which the importer does not read): the import fails "
          "(H5Aopen failed)."),
    _code("BACKEND_MISSING", "finding blocker", "error",
          "A Keras 2 legacy HDF5 file without the backend attribute at its root, which the "
          "importer reads unconditionally: the import fails (H5Aopen failed)."),
    _code("KERAS_VERSION_NOT_NUMERIC", "finding blocker", "error",
          "keras_version does not start with a digit: 'Keras version was not readable'."),
    _code("ROOT_NOT_A_MODEL", "finding blocker", "error",
          "The configuration's root is not Sequential, Model or Functional: nothing to import."),
    _code("TOP_LEVEL_WEIGHTS", "finding blocker", "error",
          "1.0.0-beta7 to M1.1: a Keras 2.7+ HDF5 file holds a top_level_model_weights group, "
          "which these releases take for a layer and fail on (NullPointerException). Use "
          "1.0.0-M2 or later."),
    _code("MODEL_IO_FORMAT", "finding blocker", "error",
          "A functional model whose input_layers/output_layers is one flat [name, node, index] "
          "list (the Keras 3 form): the importer casts each entry to a list and fails with a "
          "ClassCastException before it reads any layer."),
    # ---- the training config, read only with enforceTrainingConfig=true (training.py) ----
    _code("OPTIMIZER_UNMAPPED", "training blocker", "error dropped noop",
          "'Optimizer with name ... can not be matched to a DL4J optimizer': the importer knows "
          "exactly Adam, Adadelta, Adgrad (sic), Adamax, Nadam, SGD and RMSprop, case and "
          "prefix included (Adagrad, Custom>Adam and AdamW fail). With "
          "enforceTrainingConfig=false the training config is skipped and its weight decay is "
          "lost."),
    _code("OPTIMIZER_CONFIG", "training blocker", "error dropped noop",
          "A mapped optimizer's config lacks a value the importer reads unconditionally "
          "(decay, in every tf.keras 2.11+ optimizer: NullPointerException) or holds one that "
          "is not a floating-point number (ClassCastException). Import with "
          "enforceTrainingConfig=false and set the updater by hand."),
    _code("LOSS_UNMAPPED", "training blocker", "error dropped noop",
          "'Unknown Keras loss function ...': the loss is not one DL4J maps. Import with "
          "enforceTrainingConfig=false and add the output layer's loss by hand."),
    _code("LOSS_MISSING", "training blocker", "error dropped noop",
          "The training config has no loss: the strict import fails."),
    _code("LOSS_NOT_READ", "training blocker", "error dropped noop",
          "The loss is saved as a list (or null), which the importer does not read: no loss "
          "layer is added and a functional model is left with no outputs ('network has no "
          "outputs')."),
    _code("WEIGHT_DECAY_NOT_READ", "training", "dropped",
          "The optimizer is mapped, but its weight_decay is never read: lost. Set "
          ".weightDecay(wd, true) and .weightDecayBias(wd, true) by hand."),
    _code("FILE_NOT_IMPORTABLE", "training", "error",
          "The file itself does not import, so neither does its optimizer."),
    _code("NO_WEIGHT_DECAY", "training", "noop", "The optimizer has no weight decay to carry."),
    _code("NO_OPTIMIZER", "training", "noop",
          "No optimizer is saved in the file (not compiled, or saved without it)."),
    _code("TRAINING_CONFIG_UNREADABLE", "training", "noop",
          "The training config is present but could not be read: the optimizer and its weight "
          "decay are unknown, and so is the strict verdict (enforceTrainingConfig=true reads "
          "it); the lenient import skips it."),
)

# File-level notes (Report.notes): remarks on the file, not outcomes; no SARIF rule.
NOTES: dict[str, str] = {
    "WEIGHTS_ONLY": "A weights-only file: no model config, so regularizers are unknown (not "
    "absent) and DL4J cannot import it as a model.",
    "NO_REGULARIZERS": "No regularizer in any layer of the config.",
    "KERAS_VERSION_ASSUMED": "A JSON config without keras_version: DL4J assumes Keras 1; layer "
    "classes are judged against both the Keras 1 and Keras 2 lists.",
    "KERAS_VERSION_UNREADABLE": "keras_version is present but unreadable: the verdict is "
    "unknown unless something else blocks the import.",
    "BACKEND_UNREADABLE": "backend is present but unreadable: shown as unknown; nothing depends "
    "on it.",
    "TRAINING_CONFIG_UNREADABLE": "The training config is present but unreadable: the strict "
    "verdict is unknown unless something else blocks the import.",
    "MODEL_WEIGHTS_MISSING": "The file has no model_weights group: no penalty is computed.",
    "WEIGHTS_UNREADABLE": "Some weights could not be read: no penalty is computed from them.",
    "WEIGHTS_OVER_BUDGET": "Some weights declare more data than the file's read budget: not "
    "read, no penalty from them.",
    "WEIGHTS_OUTSIDE_FILE": "Some weights are stored outside the file (external storage, "
    "links, virtual datasets): not followed, not read.",
    "WEIGHTS_NOT_STORED": "A layer DL4J builds with another shape than its stored weights (a "
    "shared layer built over all its inputs merged, a mis-sized Keras 1 layer): it imports "
    "without the stored values, and its DL4J score is unknown.",
    "INPUT_CHANNELS_MISREAD": "A layer reads its image input with the channels on the other "
    "axis than DL4J assumes for that input: its DL4J weights are not the stored ones, and the "
    "verdict is unknown.",
    "CHANNELS_FIRST_GRAPH": "channels_first layers in a functional model: DL4J's shape "
    "inference decides whether it imports; the verdict is unknown.",
    "ORTHOGONAL_INIT_MAY_HANG": "An LSTM with an orthogonal recurrent initializer: DL4J's "
    "orthogonal initialisation can run for minutes or never end.",
    "MISSING_COEFFICIENTS": "A built-in regularizer without a config of coefficients.",
    "NON_NUMERIC_COEFFICIENT": "A coefficient that is not a number.",
    "NON_FINITE_COEFFICIENT": "A coefficient that is NaN or infinite.",
    "NEGATIVE_COEFFICIENT": "A negative coefficient (DL4J's builders ignore values <= 0).",
    "HUGE_COEFFICIENT": "A coefficient far above any real setting (> 1000).",
}


def _index(table: tuple[Code, ...]) -> dict[str, Code]:
    out: dict[str, Code] = {}
    for entry in table:
        if entry.code in out:
            raise ValueError(f"reason code {entry.code} is registered twice")
        out[entry.code] = entry
    return out


CODES: dict[str, Code] = _index(_TABLE)


def deciding_code(codes: list[str], outcome: str) -> str:
    """Of a finding's codes for one mode, the one that decided `outcome` (`L2_HALVED` for an
    `altered` finding whose codes are `IMPORTED, L2_HALVED`); the first code when none is known."""
    for code in codes:
        entry = CODES.get(code)
        if entry is not None and outcome in entry.outcomes:
            return code
    return codes[0] if codes else "UNKNOWN"


# A finding's penalty note where the layer's DL4J weights are not the stored ones (the
# WEIGHTS_NOT_STORED note); the fix plan reads it too (regaudit.fix).
NOT_STORED_PENALTY = ("DL4J's score is unknown: this layer's DL4J weights are not the stored "
                      "ones (another shape, values not copied)")
