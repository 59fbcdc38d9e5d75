"""ModelSource -> Report: findings, penalties, training, verdict and notes."""

from __future__ import annotations

from typing import Any

from regaudit import rules
from regaudit.coeffs import shortest
from regaudit.importers import DEFAULT, Profile
from regaudit.keras import MODEL_CLASSES, Site, walk_model
from regaudit.report import Blocker, Finding, Note, Penalty, Report, Training
from regaudit.sources import ModelSource, read_model
from regaudit.sources.model import (
    JSON_CONFIG,
    KERAS_V3,
    LEGACY_H5,
    ReadBudget,
    TensorStats,
    WeightsNotRead,
)
from regaudit.weights import find_tensors

# The optimizers KerasOptimizerUtils.mapOptimizer knows (matched lower-case, no "Custom>" strip).
MAPPED_OPTIMIZERS = frozenset({"adam", "adadelta", "adagrad", "adamax", "nadam", "sgd", "rmsprop"})

# A part of the file that is present but could not be read (ModelSource.unreadable): its note
# code, the modes whose verdict it decides (left unknown unless a blocker holds anyway), and
# what the report assumed for it.
UNREADABLE_PARTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "keras_version": (
        "KERAS_VERSION_UNREADABLE", ("strict", "lenient"),
        "the importer reads it to choose its Keras 1 or 2 rules, and what it makes of this "
        "value is unknown, so the verdict is unknown unless something else blocks the import; "
        "layer classes were judged against both the Keras 1 and Keras 2 lists",
    ),
    "backend": (
        "BACKEND_UNREADABLE", (),
        "shown as unknown; no outcome or verdict depends on it",
    ),
    "training_config": (
        "TRAINING_CONFIG_UNREADABLE", ("strict",),
        "the optimizer and its weight decay are unknown. enforceTrainingConfig=true reads the "
        "training config, so the strict verdict is unknown unless something else blocks the "
        "import; false does not read it",
    ),
}


def audit_path(path: str, display_name: str | None = None, profile: Profile = DEFAULT) -> Report:
    """Read and audit one model file. Raises regaudit.errors.RegauditError for bad input."""
    with read_model(path, display_name) as source:
        return audit_source(source, profile)


def keras_major(version: str | None) -> int | None:
    """The importer takes the first character of keras_version as the major version."""
    if version and version[:1].isdigit():
        return int(version[:1])
    return None


def file_blockers(source: ModelSource, major: int | None, profile: Profile) -> list[Blocker]:
    out = []
    if source.format == KERAS_V3:
        out.append(Blocker(None, "KERAS_ARCHIVE", "a .keras archive cannot be read by DL4J's "
                           "importer (HDF5 only): re-save as .h5 with Keras 2",
                           list(rules_modes())))
    if major is not None and major not in profile.readable_majors:
        out.append(Blocker(None, "KERAS_MAJOR_VERSION", f"Keras major version has to be either 1 "
                           f"or 2 ({major} provided)", list(rules_modes())))
    if (source.format == LEGACY_H5 and source.keras_version is None
            and "keras_version" not in source.unreadable):
        out.append(Blocker(None, "KERAS_VERSION_MISSING", "the HDF5 file has no keras_version "
                           "attribute, which the importer reads unconditionally",
                           list(rules_modes())))
    root = (source.model_config or {}).get("class_name")
    if root not in MODEL_CLASSES:
        out.append(Blocker(None, "ROOT_NOT_A_MODEL", f"the root class is {root!r}, not "
                           "Sequential, Model or Functional", list(rules_modes())))
    return out


def rules_modes() -> tuple[str, str]:
    return ("strict", "lenient")


def audit_source(source: ModelSource, profile: Profile = DEFAULT) -> Report:
    report = Report(
        source={
            "file": source.file_name,
            "format": source.format,
            "keras_version": source.keras_version,
            "backend": source.backend,
            "size": source.size,
        },
        importer=profile.name,
    )
    report.notes.extend(Note(code, message) for code, message in source.notes)
    for part, reason in source.unreadable.items():
        code, modes, assumed = UNREADABLE_PARTS[part]
        report.notes.append(Note(code, f"{reason}: {assumed}"))
        report.undecided.update(modes)
    if source.weights_problem is not None:
        report.notes.append(Note(*source.weights_problem.note()))
    if source.model_config is None:
        report.verdict_known = False
        return report

    major = keras_major(source.keras_version)
    majors: tuple[int, ...] = (major,) if major in profile.readable_majors else (1, 2)
    if major is None and source.format == JSON_CONFIG:
        report.notes.append(Note("KERAS_VERSION_ASSUMED", "the JSON config has no keras_version: "
                                 "DL4J then assumes Keras 1; layer classes were judged against "
                                 "both the Keras 1 and Keras 2 lists"))
    report.blocking.extend(file_blockers(source, major, profile))
    file_blocker = (
        (report.blocking[0].code, report.blocking[0].message) if report.blocking else None
    )

    tree = walk_model(source.model_config)
    layer_blockers: dict[int, tuple[str, str]] = {}
    for index, layer in enumerate(tree.top_layers):
        blocked = rules.layer_blocker(layer, profile, majors)
        if blocked:
            layer_blockers[index] = blocked
            report.blocking.append(Blocker(layer.name, blocked[0], blocked[1],
                                           list(rules_modes())))

    weights = Weights(source)
    for site in tree.sites:
        blocker = file_blocker or layer_blockers.get(site.top_index)
        finding = _finding(site, blocker, weights)
        report.findings.append(finding)
        for code, problem in site.regularizer.problems():
            report.notes.append(Note(code, f"{'/'.join(site.layer_path)} {site.field}: {problem}"))
        if blocker is None:
            modes = [m for m, o in zip(rules_modes(), (finding.outcome, finding.outcome_lenient),
                                       strict=True) if o == "error"]
            if modes:
                report.blocking.append(Blocker(finding.layer, finding.codes[0],
                                               f"{finding.field}: {finding.message}", modes))

    report.notes.extend(Note(*problem.note()) for problem in weights.not_read.values())
    report.training = _training(source, major, file_blocker is not None)
    if report.training.outcome == "error" or report.training.outcome_lenient == "error":
        modes = [m for m, o in zip(rules_modes(), (report.training.outcome,
                                                   report.training.outcome_lenient), strict=True)
                 if o == "error"]
        if not file_blocker:
            report.blocking.append(Blocker(None, report.training.codes[0],
                                           report.training.message, modes))
    if not tree.sites:
        report.notes.append(Note("NO_REGULARIZERS", "no regularizer in any layer of the config"))
    return report


class Weights:
    """The stored weights as the audit reads them: each tensor once, within the file's read
    budget; what is not read is kept once per tensor or group, for the notes."""

    def __init__(self, source: ModelSource):
        self.source = source
        self.budget = ReadBudget(source.size)
        self.cache: dict[str, TensorStats | WeightsNotRead] = {}
        self.not_read: dict[tuple[str, str], WeightsNotRead] = {}  # in the order first met

    def sums(self, tensors: list[Any]) -> TensorStats:
        count, sa, sq = 0, 0.0, 0.0
        for t in tensors:
            if t.path not in self.cache:
                try:
                    self.cache[t.path] = t.stats(self.budget)
                except WeightsNotRead as e:
                    self.cache[t.path] = e
            s = self.cache[t.path]
            if isinstance(s, WeightsNotRead):
                raise s
            count, sa, sq = count + s.count, sa + s.sum_abs, sq + s.sum_sq
        return TensorStats(count, sa, sq)

    def noted(self, problem: WeightsNotRead) -> str:
        """Keep `problem` for the notes; the finding's penalty_note."""
        self.not_read.setdefault((problem.code, problem.where), problem)
        return problem.penalty_note


def _finding(site: Site, blocker: tuple[str, str] | None, weights: Weights) -> Finding:
    strict, lenient = rules.decide(site, blocker)
    reg = site.regularizer
    target = rules.display_target(site)
    finding = Finding(
        layer=site.layer,
        layer_path=list(site.layer_path),
        layer_class=site.layer_class,
        wrapper=site.wrapper,
        target=target,
        field=site.field,
        form=reg.form,
        regularizer={
            "class": reg.class_name,
            "l1": reg.l1,
            "l2": reg.l2,
            "factor": reg.factor,
            "display": display(reg),
            "config": reg.raw,
        },
        dl4j_equivalent=rules.documented_equivalent(site),
        outcome=strict.outcome,
        outcome_lenient=lenient.outcome,
        codes=strict.codes,
        codes_lenient=lenient.codes,
        message=strict.message,
        message_lenient=lenient.message,
        recommended=rules.recommended(site),
    )
    finding.penalty, finding.penalty_note = _penalty(site, finding, weights)
    return finding


def display(reg: Any) -> str:
    """`L2(l2=0.01)`: the class as written with float32-shortest coefficients."""
    if reg.family == "function":
        return f"function {reg.class_name}"
    parts = []
    for key in ("l1", "l2", "factor"):
        value = getattr(reg, key)
        if value is not None:
            parts.append(f"{key}={shortest(value)}")
    if reg.family == "custom" and isinstance(reg.raw, dict):
        config = reg.raw.get("config") if "class_name" in reg.raw else reg.raw
        if isinstance(config, dict):
            parts = [f"{k}={shortest(v) if isinstance(v, float) else v}"
                     for k, v in config.items() if k != "name"][:4]
    return f"{reg.class_name}({', '.join(parts)})"


def _penalty(
    site: Site, finding: Finding, weights: Weights
) -> tuple[Penalty | None, str | None]:
    reg = site.regularizer
    source = weights.source
    if finding.target == "activity":
        return None, "an activity penalty depends on the layer's outputs, not on stored weights"
    if reg.family not in ("l1", "l2", "l1l2"):
        return None, f"not computed: {reg.class_name} is not an L1/L2 penalty"
    if source.weights_problem is not None:
        return None, source.weights_problem.penalty_note  # its note is the file's
    try:
        tensors = find_tensors(source, site, site.target)
        if not tensors:
            if not source.weights:  # asked only now: a lazy weight table answers it by reading
                return None, "the file holds no weights"
            return None, "no stored weight tensor found for this layer and target"
        extra_target = rules.EXTRA_WEIGHTS.get((site.target, site.layer_class))
        extra = find_tensors(source, site, extra_target) if extra_target else []
        own = weights.sums(tensors)
        dl4j = weights.sums(tensors + extra)
    except WeightsNotRead as e:
        return None, weights.noted(e)
    l1, l2 = reg.l1 or 0.0, reg.l2 or 0.0
    imported = l1 * dl4j.sum_abs + 0.5 * l2 * dl4j.sum_sq

    def as_imported(outcome: str) -> float:
        return imported if outcome in ("applied", "altered") else 0.0

    return Penalty(
        tensors=[t.path for t in tensors],
        count=own.count,
        sum_abs=own.sum_abs,
        sum_sq=own.sum_sq,
        keras=l1 * own.sum_abs + l2 * own.sum_sq,
        dl4j_strict=as_imported(finding.outcome),
        dl4j_lenient=as_imported(finding.outcome_lenient),
        note=f"DL4J's value also covers the {extra_target} weights" if extra else None,
    ), None


def _optimizer(training: dict[str, Any] | None) -> tuple[str | None, float | None]:
    if not training:
        return None, None
    opt = training.get("optimizer_config") or training.get("optimizer")
    if isinstance(opt, str):
        return opt, None
    if not isinstance(opt, dict):
        return None, None
    name = opt.get("class_name")
    config = opt.get("config") if isinstance(opt.get("config"), dict) else {}
    wd = config.get("weight_decay")
    wd = float(wd) if isinstance(wd, (int, float)) and not isinstance(wd, bool) else None
    return (name if isinstance(name, str) else None), wd


def _training(source: ModelSource, major: int | None, file_blocked: bool) -> Training:
    if "training_config" in source.unreadable:
        return Training(
            optimizer=None,
            weight_decay=None,
            weight_decay_display=None,
            outcome=None,  # the strict import reads what could not be read here
            outcome_lenient="noop",
            codes=["TRAINING_CONFIG_UNREADABLE"],
            message="the training config could not be read: the optimizer and its weight decay "
            "are unknown (enforceTrainingConfig=false skips the training config)",
            recommended="unknown: see the optimizer the model was compiled with",
        )
    name, wd = _optimizer(source.training_config)
    has_wd = bool(wd and wd > 0)
    recommended = (f".weightDecay({shortest(wd)}, true) + .weightDecayBias({shortest(wd)}, true)"
                   if has_wd else "nothing to set")
    wd_text = f"weight_decay={shortest(wd)}" if has_wd else "no weight decay"
    if file_blocked and name is not None:
        outcome = lenient = "error"
        codes = ["FILE_NOT_IMPORTABLE"]
        message = f"{wd_text}; the file itself does not import"
    elif name is None:
        outcome = lenient = "noop"
        codes = ["NO_OPTIMIZER"]
        message = "no optimizer saved in the file (not compiled, or saved without it)"
    else:
        mapped = name.lower() in MAPPED_OPTIMIZERS
        lenient = "dropped" if has_wd else "noop"
        if not mapped:
            outcome = "error"
            codes = ["OPTIMIZER_UNMAPPED"]
            message = (f"'Optimizer with name {name} can not be matched to a DL4J optimizer' "
                       f"(lenient: the training config is skipped; {wd_text} "
                       f"{'is lost' if has_wd else ''})").replace(" )", ")")
        else:
            outcome = lenient
            codes = ["WEIGHT_DECAY_NOT_READ"] if has_wd else ["NO_WEIGHT_DECAY"]
            message = (f"{name} is mapped, but weight_decay is never read: {wd_text} is lost"
                       if has_wd else f"{name} is mapped; it has no weight decay")
    return Training(
        optimizer=name,
        weight_decay=wd,
        weight_decay_display=shortest(wd) if wd is not None else None,
        outcome=outcome,
        outcome_lenient=lenient,
        codes=codes,
        message=message,
        recommended=recommended,
    )
