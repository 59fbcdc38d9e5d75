"""What DL4J's importer does with a file's training configuration (enforceTrainingConfig=true).

KerasModel.importTrainingConfiguration at 1.0.0-M2.1, verified by the conformance harness:
1. `optimizer_config` must be there, with `class_name` and `config`;
2. KerasOptimizerUtils.mapOptimizer switches on the exact class name (case matters, no prefix is
   stripped, Adagrad is spelt `Adgrad`) and casts each value it reads to `double`: a missing key
   or JSON null is a NullPointerException, an integer or any other JSON type a
   ClassCastException (Profile.optimizers says which keys each case reads, in order);
3. the `loss` (a string, a per-output map, or tf.keras's `{"class_name", "config": {"name"}}`)
   is lowercased and looked up in KerasLossUtils (Profile.losses); anything else adds no loss
   layer, so a functional model is left with no outputs.
With enforceTrainingConfig=false none of this is read: every layer gets the default updater.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regaudit.importers import OptimizerCase, Profile

CCE = "ClassCastException: class {got} cannot be cast to class {want}"
NPE = "NullPointerException"
UNSUPPORTED = "UnsupportedKerasConfigurationException: "
INVALID = "InvalidKerasConfigurationException: "


@dataclass(frozen=True)
class Failure:
    code: str
    importer_error: str  # how the exception the importer throws begins: "<Class>: <message>"
    message: str  # one line for people


@dataclass(frozen=True)
class TrainingImport:
    """The strict import of a training config: the updater DL4J sets, or why it fails."""

    updater: str | None
    failure: Failure | None = None


def java_class(value: Any) -> str:
    """The class Jackson gives a parsed JSON value (what a failed cast names)."""
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if -(2**31) <= value < 2**31 else "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, dict):
        return "java.util.LinkedHashMap"
    return "java.util.ArrayList"


def _as_double(name: str, key: str, config: dict[str, Any]) -> Failure | None:
    """The importer's `(double) config.get(key)`."""
    value = config.get(key)
    if value is None:
        return Failure("OPTIMIZER_CONFIG", NPE,
                       f"{name}: '{key}' is missing, and the importer reads it unconditionally "
                       "(NullPointerException)")
    if not isinstance(value, float):
        cast = CCE.format(got=java_class(value), want="java.lang.Double")
        return Failure("OPTIMIZER_CONFIG", cast,
                       f"{name}: '{key}' is {value!r}, and the importer casts it to a double "
                       "(ClassCastException)")
    return None


def case_for(name: Any, profile: Profile) -> tuple[str, OptimizerCase | None]:
    """The name as the importer shows it, and the switch case it matches (None: no case)."""
    if not isinstance(name, str):
        return str(name), None
    prefix = profile.optimizer_names.strip_prefix
    if prefix and name.startswith(prefix):
        name = name.replace(prefix, "")
    key = name.lower() if profile.optimizer_names.lowercase else name
    return name, profile.optimizers.get(key)


def map_optimizer(optimizer: Any, profile: Profile) -> TrainingImport:
    if not isinstance(optimizer, dict):
        return TrainingImport(None, Failure(
            "OPTIMIZER_CONFIG", CCE.format(got=java_class(optimizer), want="java.util.Map"),
            "optimizer_config is not an object"))
    if "class_name" not in optimizer:
        return TrainingImport(None, Failure(
            "OPTIMIZER_CONFIG", INVALID + "Optimizer config does not contain a name field",
            "optimizer_config has no class_name"))
    name = optimizer["class_name"]
    if "config" not in optimizer:
        return TrainingImport(None, Failure(
            "OPTIMIZER_CONFIG", INVALID + "Field config missing from layer config",
            "optimizer_config has no config"))
    label, case = case_for(name, profile)
    if case is None:
        known = ", ".join(sorted(profile.optimizers))
        return TrainingImport(None, Failure(
            "OPTIMIZER_UNMAPPED",
            # The importer's own message lacks two spaces: "...Xcan not bematched...".
            f"{UNSUPPORTED}Optimizer with name {label}can not bematched to a DL4J optimizer",
            f"'Optimizer with name {label} can not be matched to a DL4J optimizer': the importer "
            f"knows {known}" + ("" if profile.optimizer_names.lowercase else " (case matters)")))
    config = optimizer["config"]
    if not isinstance(config, dict):
        return TrainingImport(None, Failure(
            "OPTIMIZER_CONFIG", CCE.format(got=java_class(config), want="java.util.Map"),
            "the optimizer's config is not an object"))
    for alternatives in case.reads:
        key = next((k for k in alternatives if k in config), alternatives[-1])
        failure = _as_double(label, key, config)
        if failure:
            return TrainingImport(None, failure)
    for key in case.optional:
        if key in config:
            failure = _as_double(label, key, config)
            if failure:
                return TrainingImport(None, failure)
    return TrainingImport(case.updater)


def loss_names(loss: Any, profile: Profile) -> list[Any] | None:
    """The loss names the importer looks up, in order, or None when it adds no loss layer."""
    if isinstance(loss, str):
        return [loss]
    if isinstance(loss, dict):
        if "config" in loss and profile.loss_object_unwrapped:
            config = loss["config"]  # tf.keras: {"class_name": ..., "config": {"name": ...}}
            return [config.get("name") if isinstance(config, dict) else config]
        return list(loss.values())  # {output layer: loss name}
    return None


def map_loss(training: dict[str, Any], root_class: str, profile: Profile) -> Failure | None:
    if "loss" not in training:
        return Failure("LOSS_MISSING", INVALID + "Could not determine training loss function",
                       "the training config has no loss")
    names = loss_names(training["loss"], profile)
    if names is None:
        error = (f"{INVALID}MultiLayerNetwork expects only 1 output (found 0)"
                 if root_class in profile.sequential_roots else
                 "IllegalStateException: Invalid configuration: network has no outputs")
        return Failure("LOSS_NOT_READ", error,
                       f"the loss is a {type(training['loss']).__name__}, which the importer "
                       "does not read: no loss layer is added and the model is left with no "
                       "output")
    for name in names:
        if not isinstance(name, str):
            return Failure("LOSS_UNMAPPED", f"{INVALID}Unknown Keras loss",
                           f"the loss {name!r} is not a name")
        looked_up = name.lower() if profile.loss_lowercase else name
        if looked_up not in profile.losses:
            return Failure("LOSS_UNMAPPED",
                           f"{UNSUPPORTED}Unknown Keras loss function {looked_up}",
                           f"'Unknown Keras loss function {looked_up}': DL4J maps only "
                           "built-in Keras losses")
    return None


def import_training(training: Any, root_class: str, profile: Profile) -> TrainingImport:
    """What enforceTrainingConfig=true makes of the file's training_config (None: not saved)."""
    if training is None:
        return TrainingImport(profile.default_updater)
    if not isinstance(training, dict):
        return TrainingImport(None, Failure(
            "OPTIMIZER_CONFIG", CCE.format(got=java_class(training), want="java.util.Map"),
            "the training config is not an object"))
    if "optimizer_config" not in training:
        return TrainingImport(None, Failure(
            "OPTIMIZER_CONFIG", INVALID + "Field optimizer_config missing from layer config",
            "the training config has no optimizer_config"))
    mapped = map_optimizer(training["optimizer_config"], profile)
    if mapped.failure:
        return mapped
    failure = map_loss(training, root_class, profile)
    return TrainingImport(None, failure) if failure else mapped
