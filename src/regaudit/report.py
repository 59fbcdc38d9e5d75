"""The report: plain data that every renderer reads. Its dict form is schema `regaudit/1`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from regaudit.fix import plan

SCHEMA = "regaudit/1"
class Outcome(StrEnum):
    """What the import does with one regularizer, in one mode (spec §5)."""

    APPLIED = "applied"
    ALTERED = "altered"
    DROPPED = "dropped"
    WARNED = "warned"
    ERROR = "error"
    NOOP = "noop"


class Mode(StrEnum):
    """enforceTrainingConfig = true / false."""

    STRICT = "strict"
    LENIENT = "lenient"


OUTCOMES = tuple(Outcome)
MODES = tuple(Mode)
HELD = frozenset({Outcome.APPLIED, Outcome.ALTERED})  # DL4J holds the coefficient
BLOCKED = "blocked"  # --fail-on's word for "the file does not import in the mode compared"


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields in declaration order: what dataclasses.asdict gives for these
    flat classes, without its deep copy of every config (~40 ms over the 71 fixtures)."""
    return dict(vars(obj))


@dataclass
class Penalty:
    """The regularizer's penalty at the stored weights (sums over the matched tensors)."""

    tensors: list[str]
    count: int
    sum_abs: float
    sum_sq: float
    keras: float  # l1·Σ|w| + l2·Σw²
    # DL4J's score as imported with enforceTrainingConfig=true / false (0 when lost; None when
    # DL4J does not hold the stored weights, so its score cannot be known from the file)
    dl4j_strict: float | None
    dl4j_lenient: float | None
    note: str | None = None


@dataclass
class Finding:
    layer: str
    layer_path: list[str]
    layer_class: str
    wrapper: str | None  # "TimeDistributed" / "Bidirectional" (forward|backward) / None
    target: str  # kernel, bias, activity, recurrent, depthwise, pointwise, embeddings, ...
    field: str  # the config key as written: kernel_regularizer, W_regularizer, ...
    form: str  # K1, L1L2, L1/L2, NEW, FN, CUSTOM
    regularizer: dict[str, Any]  # class, l1, l2, factor, display, config (raw JSON)
    dl4j_equivalent: str  # what DL4J's documentation says it maps to
    outcome: str  # enforceTrainingConfig=true
    outcome_lenient: str  # enforceTrainingConfig=false
    codes: list[str]
    codes_lenient: list[str]
    message: str
    message_lenient: str
    recommended: str  # the DL4J setting that reproduces Keras, or "no DL4J equivalent"
    penalty: Penalty | None = None
    penalty_note: str | None = None  # why no penalty (no weights in file, tensor not found...)
    # Lenient mode: the WARN lines the importer logs because of this regularizer, verbatim.
    importer_warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = _fields(self)
        if self.penalty is not None:
            out["penalty"] = _fields(self.penalty)
        return out


@dataclass
class Training:
    optimizer: str | None
    weight_decay: float | None
    weight_decay_display: str | None
    outcome: str | None  # None: the training config could not be read (see the notes)
    outcome_lenient: str
    codes: list[str]
    message: str
    recommended: str
    dl4j_updater: str | None = None  # the updater the strict import sets (None: it fails)


@dataclass
class Blocker:
    layer: str | None  # None for file-level reasons
    code: str
    message: str
    modes: list[str]  # which modes it blocks: ["strict", "lenient"] or one of them
    # How the exception the importer throws begins: "<SimpleClassName>: <message>".
    importer_error: str | None = None


@dataclass
class Note:
    code: str
    message: str


@dataclass
class Report:
    source: dict[str, Any]  # file, format, keras_version, backend, size
    importer: str
    findings: list[Finding] = field(default_factory=list)
    training: Training | None = None
    blocking: list[Blocker] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    verdict_known: bool = True  # False for weights-only files: nothing to judge
    # Modes whose verdict something regaudit cannot read or does not emulate decides (see the
    # notes): such a mode is importable_* null unless a blocker holds whatever that part says.
    undecided: set[str] = field(default_factory=set)
    # With --importer all: each DL4J release's verdict (audit.release_verdicts); else None.
    releases: dict[str, dict[str, Any]] | None = None

    def verdict(self) -> dict[str, Any]:
        if not self.verdict_known:
            return {"importable_strict": None, "importable_lenient": None, "blocking": []}
        return {
            "importable_strict": self._importable("strict"),
            "importable_lenient": self._importable("lenient"),
            "blocking": [_fields(b) for b in self.blocking],
        }

    def _importable(self, mode: str) -> bool | None:
        if any(mode in b.modes for b in self.blocking):
            return False
        return None if mode in self.undecided else True

    def summary(self) -> dict[str, Any]:
        strict = {o: 0 for o in OUTCOMES}
        lenient = {o: 0 for o in OUTCOMES}
        for f in self.findings:
            strict[f.outcome] += 1
            lenient[f.outcome_lenient] += 1
        return {"findings": len(self.findings), "strict": strict, "lenient": lenient}

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (schema regaudit/1): a stable public interface."""
        out = {
            "schema": SCHEMA,
            "importer": self.importer,
            "source": dict(self.source),
            "findings": [f.to_dict() for f in self.findings],
            "training": _fields(self.training) if self.training else None,
            "verdict": self.verdict(),
            "notes": [_fields(n) for n in self.notes],
            "summary": self.summary(),
        }
        out["fix"] = plan(out)  # derived from the rest: what to set on the imported network
        if self.releases is not None:
            out["releases"] = self.releases
        return out
