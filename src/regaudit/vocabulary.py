"""The words a report uses, for people: outcomes, modes, forms. Data only.

`docs/import-rules.md` (and its HTML copy in the web page's bundle) is generated from these
tables, the page's legend links to those sections, and the HTML verdict ranks outcomes by
`OUTCOME_RANKS`. Meanings follow the spec (`dl4j-import-rules.md` §1, §3, §4, §5).
"""

from __future__ import annotations

# How an outcome counts for the person moving the model: kept, changed, lost, or nothing to
# carry. `warned` is a loss exactly like `dropped` (the log line does not bring it back).
KEPT, CHANGED, LOST, NOTHING = "kept", "changed", "lost", "nothing to carry"

OUTCOME_MEANINGS: dict[str, tuple[str, str]] = {
    "applied": (KEPT, "imported with the same effect as in Keras (L1 on the same weights)"),
    "altered": (CHANGED, "imported, but the effect differs: L2 halved, or applied to more "
                "weights (recurrent, pointwise) than in Keras"),
    "dropped": (LOST, "the import succeeds and the regularizer is lost, with no log line"),
    "warned": (LOST, "the import succeeds, logs a warning, and the regularizer is lost"),
    "error": (LOST, "the import fails because of this regularizer, or of the layer or file "
              "that holds it"),
    "noop": (NOTHING, "all coefficients are 0: there is nothing to carry"),
}
OUTCOME_RANKS = {outcome: rank for outcome, (rank, _) in OUTCOME_MEANINGS.items()}

MODE_MEANINGS: dict[str, str] = {
    "strict": "`enforceTrainingConfig=true`, the default of `importKerasModelAndWeights` and "
    "`importKerasSequentialModelAndWeights` on an HDF5 file: a training setting the importer "
    "cannot honour (an unknown regularizer field, a BatchNormalization regularizer, an "
    "optimizer it cannot map) fails the import",
    "lenient": "`enforceTrainingConfig=false`, the default of the JSON-config imports: the "
    "importer logs a warning instead, skips that setting and goes on; what it skipped is lost",
}

# The badge beside each regularizer: how it is written in the saved config (spec §1).
FORM_MEANINGS: dict[str, str] = {
    "K1": "Keras 1 flat dict: `{\"l2\": 0.01, \"name\": \"WeightRegularizer\", \"l1\": 0.0}`",
    "L1L2": "class `L1L2` with a `config` (Keras 2.0 to 2.3, tf.keras up to 2.2; `l2()` "
    "builds one): the only class the importer reads",
    "L1/L2": "class `L1` or `L2` (tf.keras 2.3 to 2.11): not read, so lost",
    "NEW": "written with `module` and `registered_name` (Keras 2.12+, tf_keras, Keras 3): "
    "keys that the unknown-field check on kernel and bias refuses in strict mode",
    "FN": "a plain Python function: a bare name in Keras 2, a `function` dict in Keras 3",
    "CUSTOM": "any other class: a custom regularizer, or `OrthogonalRegularizer`",
}
WRAPPER_MEANING = (
    "The layer sits inside a `TimeDistributed` or `Bidirectional` wrapper (forward or backward "
    "direction)"
)

L2_CONVENTION = (
    "Keras's L2 penalty is `l2·Σw²`; DL4J's `.l2(x)` scores `0.5·x·Σw²`, so its gradient is half "
    "of Keras's. The importer copies the coefficient 1:1, so an imported `l2=λ` trains with half "
    "the Keras gradient: the outcome is `altered`, and the recommended setting is `.l2(2λ)`. "
    "L1 is the same in both (`l1·Σ|w|`). Keras's decoupled weight decay matches "
    "`.weightDecay(wd, true)` plus `.weightDecayBias(wd, true)`."
)
