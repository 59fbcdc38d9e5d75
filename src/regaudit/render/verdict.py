"""The verdict for people: one line per mode that says what happens and what to do about it.

Read from the report's dict form (schema regaudit/1) and used by the HTML renderer only: the
JSON, CSV and Markdown reports keep their bytes. Outcomes rank as `vocabulary.OUTCOME_RANKS`
says: `dropped`, `warned` and `error` lose a regularizer, `altered` changes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from regaudit.render.common import as_dict, as_list, has_config, text
from regaudit.rules import RULES
from regaudit.vocabulary import CHANGED, LOST, OUTCOME_RANKS

LENIENT_FLAG = "enforceTrainingConfig=false"

# What to do about each blocking reason ({layer}: where it is). Codes outside this table get
# no advice rather than a guess.
ACTIONS = {
    "KERAS_ARCHIVE": "re-save the model as .h5 with Keras 2 (tf_keras, or TensorFlow 2.15 or "
    "older)",
    "KERAS_MAJOR_VERSION": "re-save the model as .h5 with Keras 2 (tf_keras, or TensorFlow 2.15 "
    "or older)",
    "KERAS_VERSION_MISSING": "re-save the model with Keras 2, which writes the keras_version "
    "attribute",
    "ROOT_NOT_A_MODEL": "save the whole model (Sequential or Functional), not one layer",
    "NESTED_MODEL": "use the layers of the nested model {layer} directly in the outer model, "
    "then re-save",
    "UNSUPPORTED_LAYER": "replace {layer} with a layer class DL4J builds{hint}, or remove it",
    "BIDIRECTIONAL_INNER": "wrap an LSTM or a SimpleRNN in {layer} instead",
    "BIDIRECTIONAL_MERGE_MODE": "give {layer} merge_mode sum, concat, mul or ave",
    "BIDIRECTIONAL_IN_TIMEDISTRIBUTED": "take the Bidirectional in {layer} out of its "
    "TimeDistributed",
    "STRING_CAST": "replace the function regularizer on {layer} with keras.regularizers.L1L2 "
    "(or remove it) and re-save",
    "BIAS_K1": "remove the b_regularizer of {layer}, re-save, and set .l1Bias/.l2Bias in DL4J",
    "UNKNOWN_FIELD": f"import with {LENIENT_FLAG} (lenient mode)",
    "BATCHNORM_REGULARIZER": f"import with {LENIENT_FLAG} (the regularizer is then lost), or "
    "remove it from {layer}",
    "OPTIMIZER_UNMAPPED": f"import with {LENIENT_FLAG} (the training config is skipped), or "
    "compile with an optimizer DL4J maps (Adam, SGD, RMSprop, ...)",
    "OPTIMIZER_CONFIG": f"import with {LENIENT_FLAG} (the training config is skipped), or "
    "compile with a Keras 2 legacy optimizer (one that saves `decay`)",
    "LOSS_UNMAPPED": f"import with {LENIENT_FLAG} (the training config is skipped), or compile "
    "with a built-in Keras loss",
    "LOSS_MISSING": f"import with {LENIENT_FLAG} (the training config is skipped)",
    "LOSS_NOT_READ": f"import with {LENIENT_FLAG} (the training config is skipped), or compile "
    "with the loss as a string rather than a list",
    "MODEL_IO_FORMAT": "re-save the model as .h5 with Keras 2 (tf_keras, or TensorFlow 2.15 or "
    "older)",
    "KERAS_VERSION_NOT_NUMERIC": "re-save the model with Keras 2, which writes a numeric "
    "keras_version",
    "BACKEND_MISSING": "re-save the model with Keras 2, which writes the backend attribute",
    "BATCHNORM_NO_INBOUND": "use DL4J 1.0.0-M2 or later, or a functional model",
    "UPSAMPLING_SIZES": "use DL4J 1.0.0-M1 or later, or equal sizes in {layer}",
    "WEIGHTS_SHAPE": "use DL4J 1.0.0-M2 or later",
    "TOP_LEVEL_WEIGHTS": "use DL4J 1.0.0-M2 or later",
    "MISSING_CONFIG_KEY": "re-save the model with Keras 2",
    "MERGE_MODE": "replace the Merge {layer} with a mode DL4J builds (sum, mul, concat, ave, max)",
    "MERGE_OF_MODELS": "rebuild the model as a functional model without the Merge of models",
    "DIM_ORDER_UNKNOWN": "re-save the model with Keras 2",
    "LOCALLY_CONNECTED_BIAS": "give {layer} use_bias=False",
    "INPUT_RANK": "reshape the input to at most 4 dimensions per sample",
    "TIMEDISTRIBUTED_INPUT": "replace {layer} with a layer that takes the 3D input (Conv3D, ...)",
    "BATCHNORM_ON_SEQUENCE": "use DL4J 1.0.0-M2 or later",
    "DENSE_AFTER_PERMUTE": "use DL4J 1.0.0-M1 or later",
    "IMAGE_SIZE_UNKNOWN": "declare the input's height and width, or use DL4J 1.0.0-M1 or later",
    "INPUT_CHANNELS_UNKNOWN": "put a Conv2D (or another layer of known size) before {layer} in "
    "a functional model",
}
# Layer classes with a better answer than "replace it" (spec: dl4j-known-layers.md).
CLASS_HINTS = {
    "GRU": " (an LSTM is the nearest)",
    "ActivityRegularization": " (DL4J has no activity regularization: nothing replaces it)",
    "Attention": " (DL4J master after 1.0.0-M2.1 builds Attention; no release does yet)",
    "add": " (Add: the importer never matches the lower-case spelling)",
}
UNSUPPORTED_CLASS = re.compile(r"Unsupported keras layer type (\S+)")
RULE_CODES = frozenset(rule.code for rule in RULES)


@dataclass(frozen=True)
class Verdict:
    state: str  # kept | changed | lost | blocked | unknown
    line: str  # what happens, in one line
    action: str  # what to do; "" when there is nothing to do


def action(blocker: dict[str, Any]) -> str:
    """What to do about one blocking reason, or ""."""
    code = text(blocker.get("code"))
    template = ACTIONS.get(code)
    if template is None:
        return ""
    found = UNSUPPORTED_CLASS.search(text(blocker.get("message")))
    hint = CLASS_HINTS.get(found.group(1), "") if found else ""
    return template.format(layer=text(blocker.get("layer")) or "the model", hint=hint)


def top_layer(finding: dict[str, Any]) -> str:
    """The name of the root model's layer entry that holds the finding."""
    path = as_list(finding.get("layer_path"))
    return text(path[0]) if path else text(finding.get("layer"))


def layer_blocked(report: dict[str, Any], finding: dict[str, Any]) -> bool:
    """True when the finding's error is its layer's (DL4J cannot build the layer at all), so no
    DL4J setting can apply to it. File-level errors do not count: after re-saving the file,
    the recommended setting is what reproduces Keras."""
    codes = as_list(finding.get("codes"))
    code = text(codes[0]) if codes else ""
    if code in RULE_CODES or finding.get("outcome") != "error":
        return False
    blockers = [as_dict(b) for b in as_list(as_dict(report.get("verdict")).get("blocking"))]
    return any(b.get("code") == code and b.get("layer") == top_layer(finding) for b in blockers)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def verdict(report: dict[str, Any], mode: str) -> Verdict:
    """The verdict for one mode ("strict" or "lenient")."""
    judged = as_dict(report.get("verdict"))
    importable = judged.get(f"importable_{mode}")
    if importable is None and not has_config(report):
        return Verdict(
            "unknown",
            "unknown: the file holds no model configuration, so there is nothing to judge",
            "audit the file saved with its model (model.save) or its JSON config",
        )
    if importable is None:  # a configuration whose outcome hangs on what regaudit does not model
        codes = sorted({text(as_dict(n).get("code")) for n in as_list(report.get("notes"))})
        return Verdict(
            "unknown",
            "unknown: regaudit cannot tell whether DL4J imports this file in this mode (see the "
            f"notes: {', '.join(codes)})",
            "read the notes: they say what the import depends on and what to change",
        )
    if importable is False:
        return _blocked(judged, mode)
    return _importable(report, mode)


def _blocked(judged: dict[str, Any], mode: str) -> Verdict:
    blockers = [as_dict(b) for b in as_list(judged.get("blocking"))]
    mine = [b for b in blockers if mode in as_list(b.get("modes"))] or blockers or [{}]
    first = mine[0]
    where = text(first.get("layer")) or "the file"
    line = f"does not import: {where}: {text(first.get('message'))}"
    if len(mine) > 1:
        line += f" (and {_plural(len(mine) - 1, 'more reason')})"
    todo = action(first)
    if mode == "strict" and judged.get("importable_lenient") is True:
        todo = f"import with {LENIENT_FLAG}: lenient mode imports it"
    return Verdict("blocked", line, todo)


def _importable(report: dict[str, Any], mode: str) -> Verdict:
    key = "outcome" if mode == "strict" else "outcome_lenient"
    outcomes = [text(as_dict(f).get(key)) for f in as_list(report.get("findings"))]
    lost = [o for o in outcomes if OUTCOME_RANKS.get(o) == LOST]
    changed = sum(OUTCOME_RANKS.get(o) == CHANGED for o in outcomes)
    training = as_dict(report.get("training"))
    decay_lost = OUTCOME_RANKS.get(text(training.get(key))) == LOST
    n = len(outcomes)
    if not lost and not changed and not decay_lost:
        if not n:
            return Verdict("kept", "imports; the model has no regularizers", "")
        if all(OUTCOME_RANKS.get(o) != "kept" for o in outcomes):
            return Verdict("kept", "imports; every regularizer is zero: nothing to carry", "")
        return Verdict("kept", "imports, and every regularizer is kept as in Keras", "")
    parts = []
    if lost:
        kinds = ", ".join(f"{lost.count(o)} {o}" for o in OUTCOME_RANKS if o in lost)
        parts.append(f"{len(lost)} of {_plural(n, 'regularizer')} lost ({kinds})")
    if changed:
        parts.append(f"{changed} of {n} altered" if lost else
                     f"{changed} of {_plural(n, 'regularizer')} altered")
    if decay_lost:
        parts.append("the optimizer's weight decay lost")
    line = "imports, but " + "; ".join(parts)
    if lost or decay_lost:
        return Verdict(LOST, line, "set the lost ones by hand after import: see the recommended "
                       "DL4J settings")
    return Verdict(CHANGED, line, "use the recommended DL4J settings to get Keras's behaviour")
