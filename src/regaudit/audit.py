"""ModelSource -> Report: findings, penalties, training, verdict and notes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from regaudit import layers, rules
from regaudit.codes import NOT_STORED_PENALTY
from regaudit.coeffs import shortest
from regaudit.importers import DEFAULT, PROFILES, Profile
from regaudit.keras import ModelTree, Site, Target, walk_model
from regaudit.report import HELD, MODES, Blocker, Finding, Note, Outcome, Penalty, Report, Training
from regaudit.rules import Block
from regaudit.sources import ModelSource, read_model
from regaudit.sources.model import (
    JSON_CONFIG,
    KERAS_V3,
    LEGACY_H5,
    ReadBudget,
    TensorStats,
    WeightsNotRead,
)
from regaudit.training import Failure, import_training, java_class
from regaudit.weights import find_tensors

TOP_LEVEL_WEIGHTS = "top_level_model_weights"
CHANNELS_FIRST_NOTE = (
    "channels_first layers ({layers}): DL4J infers the model's shapes with the channels axis "
    "misplaced (in a functional model; 1.0.0-beta7 in any model), so the import fails in its "
    "shape inference or "
    "builds layers of the wrong size, depending on the sizes; regaudit does not emulate that "
    "inference and leaves the verdict unknown. Convert the model to channels_last before export"
)
ORTHOGONAL_NOTE = (
    "{layers}: DL4J draws an orthogonal initial value for the LSTM recurrent weights (n × 4n) "
    "before it loads the stored ones, with an SVD that can run for minutes or never end "
    "(seen from 16 units); if the import hangs, give the LSTM another recurrent_initializer "
    "before export (its stored weights are loaded anyway)"
)
MISREAD_NOTE = (
    "{name} reads its image input {input} with the channels on the other axis than DL4J assumes "
    "for that input (DL4J takes an input's channels axis from the layer listed after it, or "
    "from the backend): its DL4J weights are not the stored ones, and the import may fail in "
    "shape inference, so the verdict is unknown"
)
UNSCORED_PENALTY = ("DL4J applies it in training but leaves it out of calcRegularizationScore "
                    "({cls} is a SameDiff layer there): its DL4J score is 0")

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


def audit_path(path: str, display_name: str | None = None, profile: Profile = DEFAULT,
               releases: bool = False) -> Report:
    """Read and audit one model file (with `releases`, also the verdict of every DL4J release
    profiled). Raises regaudit.errors.RegauditError for bad input."""
    with read_model(path, display_name) as source:
        report = audit_source(source, profile)
        if releases:
            report.releases = release_verdicts(source)
        return report


def release_verdicts(source: ModelSource) -> dict[str, dict[str, Any]]:
    """Per profile: does the file import in each mode, and why not (codes)."""
    # The layer tree is the same for every release: walked once.
    tree = walk_model(source.model_config) if source.model_config is not None else None
    out = {}
    for profile in PROFILES.values():
        verdict = audit_source(source, profile, penalties=False, tree=tree).verdict()
        out[profile.name] = {
            "release": profile.release,
            "verified": profile.verified,
            "importable_strict": verdict["importable_strict"],
            "importable_lenient": verdict["importable_lenient"],
            "blocking": sorted({b["code"] for b in verdict["blocking"]}),
        }
    return out


def keras_major(version: str | None) -> int | None:
    """The importer takes the first character of keras_version as the major version."""
    if version and version[:1].isdigit():
        return int(version[:1])
    return None


def file_blockers(source: ModelSource, major: int | None, profile: Profile) -> list[Block]:
    """Reasons the whole file fails, in either mode, before any layer is looked at."""
    out = []
    if source.format == KERAS_V3:
        out.append(Block("KERAS_ARCHIVE", "a .keras archive cannot be read by DL4J's importer "
                         "(HDF5 only): re-save as .h5 with Keras 2",
                         "RuntimeException: H5Fopen failed"))
    if source.format == LEGACY_H5:
        # KerasModelBuilder reads the root's keras_version, and backend when the major is 2.
        for attribute, code in (("keras_version", "KERAS_VERSION_MISSING"),
                                ("backend", "BACKEND_MISSING")):
            if attribute == "backend" and major != 2:
                continue
            if attribute not in source.root_attributes:
                out.append(Block(code, f"the HDF5 file has no "
                                 f"{attribute} attribute at its root, which the importer reads "
                                 "unconditionally", "RuntimeException: H5Aopen failed"))
    if source.keras_version and not source.keras_version[:1].isdigit():
        out.append(Block("KERAS_VERSION_NOT_NUMERIC", f"keras_version {source.keras_version!r} "
                         "does not start with a digit",
                         f"{rules.INVALID}Keras version was not readable"))
    config = source.model_config or {}
    root = config.get("class_name")
    if root in profile.functional_roots:
        out += _io_list_blockers(config)
    elif root not in profile.sequential_roots:
        accepted = sorted(profile.sequential_roots | profile.functional_roots)
        out.append(Block("ROOT_NOT_A_MODEL", f"the root class is {root!r}; this importer "
                         f"takes {', '.join(accepted)}",
                         rules.INVALID + profile.root_error.format(root=root)))
    if (profile.top_level_weights_fail and source.format == LEGACY_H5
            and TOP_LEVEL_WEIGHTS in source.weight_groups):
        out.append(Block("TOP_LEVEL_WEIGHTS", f"the weights hold a {TOP_LEVEL_WEIGHTS} group "
                         "(Keras 2.7 and later write one), which this importer takes for a layer "
                         "and fails on", "NullPointerException", late=True))
    if major is not None and major not in profile.readable_majors:
        out.append(Block("KERAS_MAJOR_VERSION", f"Keras major version has to be either 1 "
                         f"or 2 ({major} provided)", f"{rules.UNSUPPORTED}Keras major version "
                         f"has to be either 1 or 2 ({major} provided)"))
    return out


def _io_list_blockers(config: dict[str, Any]) -> list[Block]:
    """A functional model's input_layers/output_layers entries are read as [name, node, index]
    lists; Keras 3 writes a single input or output as one flat list."""
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    for key in ("input_layers", "output_layers"):
        entries = inner.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, list):
                return [Block("MODEL_IO_FORMAT", f"{key} is written as one flat list "
                              f"({entries!r:.60}), the Keras 3 form; the importer reads a list "
                              "of [layer, node, tensor] lists",
                              f"ClassCastException: class {java_class(entry)} cannot be cast "
                              "to class java.util.List")]
    return []


def audit_source(source: ModelSource, profile: Profile = DEFAULT,
                 penalties: bool = True, tree: ModelTree | None = None) -> Report:
    """The report on one read file under `profile` (without `penalties`: no weight is read;
    `tree`: walk_model(source.model_config), when the caller already has it)."""
    report = Report(
        source={
            "file": source.file_name,
            "format": source.format,
            "keras_version": source.keras_version,
            "backend": source.backend,
            "size": source.size,
            # Sequential roots become a MultiLayerNetwork, others a ComputationGraph (fix.py);
            # a class_name that is not a string stops the audit in walk_model
            "model_class": (source.model_config or {}).get("class_name"),
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
    both = list(MODES)
    file_blocks = file_blockers(source, major, profile)
    report.blocking.extend(Blocker(None, b.code, b.message, both, b.importer_error)
                           for b in file_blocks)
    # The first block the importer meets before it reads any layer: it decides every finding.
    file_block = next((b for b in file_blocks if not b.late), None)

    tree = walk_model(source.model_config) if tree is None else tree
    layer_blocks: dict[int, Block] = {}
    graph_blocks = layers.graph_blockers(tree, profile)
    for index, layer in enumerate(tree.top_layers):
        block = (layers.layer_blocker(layer, profile, majors, source.format != JSON_CONFIG)
                 or graph_blocks.get(index))
        if block:
            layer_blocks[index] = block
            report.blocking.append(Blocker(layer.name, block.code, block.message, both,
                                           block.importer_error))
    _hazards(report, tree, profile)

    not_stored = _misshaped(tree, profile, majors, report, layer_blocks)
    if tree.root_class not in profile.sequential_roots:
        for index, source_name in layers.misread_image_inputs(
                tree, major, source.backend, profile).items():
            report.undecided |= set(MODES)
            not_stored.setdefault(index, ("INPUT_CHANNELS_MISREAD", MISREAD_NOTE.format(
                name=tree.top_layers[index].name, input=source_name)))
    report.notes.extend(Note(code, note) for _, (code, note) in sorted(not_stored.items()))
    weights = Weights(source)
    for site in tree.sites:
        layer_block = layer_blocks.get(site.top_index)
        # A block the importer meets after reading the layer's regularizers leaves their rules
        # in force (their own errors are blocking reasons too).
        block = file_block or (layer_block if layer_block and not layer_block.late else None)
        finding, decisions = _finding(site, block, weights if penalties else None,
                                      site.top_index in not_stored, profile)
        report.findings.append(finding)
        for code, problem in site.regularizer.problems():
            report.notes.append(Note(code, f"{'/'.join(site.layer_path)} {site.field}: {problem}"))
        if block is None:
            errors = {m: d for m, d in zip(MODES, decisions, strict=True)
                      if d.outcome == Outcome.ERROR}
            for error in {d.importer_error for d in errors.values()}:
                modes = [m for m, d in errors.items() if d.importer_error == error]
                report.blocking.append(Blocker(finding.layer, finding.codes[0],
                                               f"{finding.field}: {finding.message}", modes,
                                               error))

    report.notes.extend(Note(*problem.note()) for problem in weights.not_read.values())
    report.training, failure = _training(source, tree.root_class, profile,
                                         file_block is not None)
    if failure and not file_block:
        report.blocking.append(Blocker(None, failure.code, failure.message, ["strict"],
                                       failure.importer_error))
    if not tree.sites:
        report.notes.append(Note("NO_REGULARIZERS", "no regularizer in any layer of the config"))
    return report


def _misshaped(tree: ModelTree, profile: Profile, majors: tuple[int, ...],
               report: Report, layer_blocks: dict[int, Block]) -> dict[int, tuple[str, str]]:
    """Layers built with another shape than their stored weights: where the copy fails, a
    blocking reason; else {index: (note code, note)} for layers whose DL4J weights are not the
    stored ones (their DL4J score cannot be known from the file)."""
    out = {}
    for index, why in layers.misshaped(tree, profile, majors).items():
        if profile.weight_copy == "fails":
            if index not in layer_blocks:
                block = Block("WEIGHTS_SHAPE", f"{why}, and copying the stored weights into "
                              "that shape fails", f"{rules.INVALID}Cannot assign arrays",
                              late=True)
                layer_blocks[index] = block
                report.blocking.append(Blocker(tree.top_layers[index].name, block.code,
                                               block.message, list(MODES),
                                               block.importer_error))
        else:
            out[index] = ("WEIGHTS_NOT_STORED", f"{why}: its weights have another shape than "
                          "the file's and do not hold the stored values")
    return out


def _hazards(report: Report, tree: ModelTree, profile: Profile) -> None:
    """What the importer's outcome depends on beyond its tables: said in notes, and where it
    decides the verdict, the verdict is left unknown rather than guessed."""
    channels_first = layers.uses_channels_first(tree)
    sequential = tree.root_class in profile.sequential_roots
    if channels_first and (not sequential or profile.channels_first_sequential_unknown):
        report.undecided |= set(MODES)
        report.notes.append(Note("CHANNELS_FIRST_GRAPH", CHANNELS_FIRST_NOTE.format(
            layers=", ".join(channels_first[:5]) + (" ..." if len(channels_first) > 5 else ""))))
    slow = layers.orthogonal_recurrent(tree, profile)
    if slow:
        report.notes.append(Note("ORTHOGONAL_INIT_MAY_HANG", ORTHOGONAL_NOTE.format(
            layers=", ".join(slow[:5]) + (" ..." if len(slow) > 5 else ""))))


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


def _finding(
    site: Site, block: Block | None, weights: Weights | None, not_stored: bool, profile: Profile,
) -> tuple[Finding, tuple[rules.Decision, rules.Decision]]:
    strict, lenient = rules.decide(site, block, profile.rules)
    reg = site.regularizer
    target = rules.display_target(site)
    finding = Finding(
        layer=site.layer,
        layer_path=list(site.layer_path),
        layer_class=site.layer_class,
        wrapper=site.wrapper_label,
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
        importer_warnings=lenient.warnings,
    )
    if weights is not None:
        finding.penalty, finding.penalty_note = _penalty(site, finding, weights, not_stored,
                                                         profile)
    return finding, (strict, lenient)


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
    site: Site, finding: Finding, weights: Weights, not_stored: bool, profile: Profile,
) -> tuple[Penalty | None, str | None]:
    reg = site.regularizer
    source = weights.source
    if finding.target == Target.ACTIVITY:
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
        dl4j_tensors, covers = _dl4j_tensors(source, site, tensors)
        own = weights.sums(tensors)
        dl4j = weights.sums(dl4j_tensors)
    except WeightsNotRead as e:
        return None, weights.noted(e)
    l1, l2 = reg.l1 or 0.0, reg.l2 or 0.0
    imported = l1 * dl4j.sum_abs + profile.l2_score_factor * l2 * dl4j.sum_sq
    unscored = site.layer_class in profile.unscored_layers
    note = (NOT_STORED_PENALTY if not_stored else
            UNSCORED_PENALTY.format(cls=site.layer_class) if unscored else
            f"DL4J's value also covers the {covers}" if covers else None)

    def as_imported(outcome: str) -> float | None:
        if outcome not in HELD or unscored:
            return 0.0
        return None if not_stored else imported

    return Penalty(
        tensors=[t.path for t in tensors],
        count=own.count,
        sum_abs=own.sum_abs,
        sum_sq=own.sum_sq,
        keras=l1 * own.sum_abs + l2 * own.sum_sq,
        dl4j_strict=as_imported(finding.outcome),
        dl4j_lenient=as_imported(finding.outcome_lenient),
        note=note,
    ), None


def _dl4j_tensors(source: ModelSource, site: Site, tensors: list[Any]) -> tuple[list[Any], str]:
    """The stored tensors DL4J applies the regularizer to, and which extra ones ("" if none):
    the recurrent or pointwise weights (rules.EXTRA_WEIGHTS), and the backward direction of a
    Bidirectional whose explicit backward_layer DL4J does not read (it rebuilds both
    directions from `layer`)."""
    extra_target = rules.EXTRA_WEIGHTS.get((site.target, site.layer_class))
    targets = [site.target] + ([extra_target] if extra_target else [])
    if site.direction == rules.FORWARD:
        whole = replace(site, layer_path=site.layer_path[:1])  # both directions' tensors
        found = [t for target in targets for t in find_tensors(source, whole, target)]
        extras = [f"{extra_target} weights"] if extra_target else []
        return found, " and ".join([*extras, "backward direction's weights"])
    extra = find_tensors(source, site, extra_target) if extra_target else []
    return tensors + extra, f"{extra_target} weights" if extra else ""


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


def _training(source: ModelSource, root_class: str, profile: Profile,
              file_blocked: bool) -> tuple[Training, Failure | None]:
    """The weight decay's fate, and what the strict import makes of the training config."""
    if "training_config" in source.unreadable:
        return Training(
            optimizer=None,
            weight_decay=None,
            weight_decay_display=None,
            outcome=None,  # the strict import reads what could not be read here
            outcome_lenient=Outcome.NOOP,
            codes=["TRAINING_CONFIG_UNREADABLE"],
            message="the training config could not be read: the optimizer and its weight decay "
            "are unknown (enforceTrainingConfig=false skips the training config)",
            recommended="unknown: see the optimizer the model was compiled with",
        ), None
    name, wd = _optimizer(source.training_config)
    has_wd = bool(wd and wd > 0)
    recommended = (f".weightDecay({shortest(wd)}, true) + .weightDecayBias({shortest(wd)}, true)"
                   if has_wd else "nothing to set")
    wd_text = f"weight_decay={shortest(wd)}" if has_wd else "no weight decay"
    imported = import_training(source.training_config, root_class, profile)
    lenient = Outcome.DROPPED if has_wd else Outcome.NOOP
    if file_blocked and name is not None:
        outcome = lenient = Outcome.ERROR
        codes = ["FILE_NOT_IMPORTABLE"]
        message = f"{wd_text}; the file itself does not import"
    elif imported.failure:
        outcome = Outcome.ERROR
        codes = [imported.failure.code]
        lost = f"; {wd_text} is lost" if has_wd else ""
        message = (f"{imported.failure.message} (lenient: the training config is not read"
                   f"{lost})")
    elif name is None:
        outcome = lenient = Outcome.NOOP
        codes = ["NO_OPTIMIZER"]
        message = "no optimizer saved in the file (not compiled, or saved without it)"
    else:
        outcome = lenient
        codes = ["WEIGHT_DECAY_NOT_READ"] if has_wd else ["NO_WEIGHT_DECAY"]
        mapped = f"{name} is mapped to DL4J's {imported.updater}"
        message = (f"{mapped}, but weight_decay is never read: {wd_text} is lost"
                   if has_wd else f"{mapped}; it has no weight decay")
    training = Training(
        optimizer=name,
        weight_decay=wd,
        weight_decay_display=shortest(wd) if wd is not None else None,
        outcome=outcome,
        outcome_lenient=lenient,
        codes=codes,
        message=message,
        recommended=recommended,
        dl4j_updater=imported.updater,
    )
    return training, None if file_blocked else imported.failure
