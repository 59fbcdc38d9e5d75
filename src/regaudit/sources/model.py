"""What every reader produces: one ModelSource, whatever the file format."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from regaudit.errors import RegauditError
from regaudit.sources.h5problems import StoredOutside, short_message


@dataclass(frozen=True)
class TensorStats:
    """Sums over one weight tensor, read in slices so memory stays flat."""

    count: int
    sum_abs: float
    sum_sq: float


# Weights that are not read, as note codes (docs/report-schema.md), each with the short reason
# a finding's penalty_note gives. The verdict never depends on weight values, so none of these
# changes it; the note says so.
WEIGHTS_OUTSIDE_FILE = "WEIGHTS_OUTSIDE_FILE"
WEIGHTS_OVER_BUDGET = "WEIGHTS_OVER_BUDGET"
WEIGHTS_UNREADABLE = "WEIGHTS_UNREADABLE"
MODEL_WEIGHTS_MISSING = "MODEL_WEIGHTS_MISSING"
NOT_READ = {
    WEIGHTS_OUTSIDE_FILE: "weights stored outside the file: not read",
    WEIGHTS_OVER_BUDGET: "weights beyond the file's read budget: not read",
    WEIGHTS_UNREADABLE: "weights unreadable: not read",
    MODEL_WEIGHTS_MISSING: "the file has no model_weights group",
}
VERDICT_IGNORES_WEIGHTS = "No penalty is computed from it; the verdict does not depend on weights."


class WeightsNotRead(RegauditError):
    """Weights (one tensor, a layer's group, or all of them) that the audit does not read."""

    def __init__(self, code: str, where: str, why: str):
        super().__init__(f"{where}: {why}")
        self.code, self.where, self.why = code, where, why

    @property
    def penalty_note(self) -> str:
        return NOT_READ[self.code]

    def note(self) -> tuple[str, str]:
        return self.code, f"{self.where}: {self.why}. {VERDICT_IGNORES_WEIGHTS}"


def not_followed(outside: str) -> str:
    """The note's reason for a node whose data is elsewhere (an h5problems.OUTSIDE phrase)."""
    return f"{outside}: not followed, nothing outside the file is read"


# How much of its declared weights one file may have read: READ_RATIO times its size, and at
# least READ_FLOOR. A file's own bytes bound the work: weights written uncompressed never come
# near it, while HDF5 serves chunks that were never written as fill values, and compressed
# constant data expands about 1000:1, so a 20 KB file can declare a terabyte.
READ_RATIO = 16
READ_FLOOR = 64 * 2**20


def size_text(n: int) -> str:
    """Bytes for people: '20.5 KiB', '1 TiB'."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


class ReadBudget:
    """The declared bytes the weights of one file may still cost (see READ_RATIO)."""

    def __init__(self, file_size: int | None):
        self.file_size = file_size or 0
        self.total = max(READ_FLOOR, READ_RATIO * self.file_size)
        self.left = self.total

    def take(self, path: str, node: Any) -> None:
        """Spend `node`'s declared size, or raise WeightsNotRead (nothing spent)."""
        nbytes = int(node.nbytes)
        if nbytes > self.left:
            shape = "x".join(str(n) for n in node.shape) or "scalar"
            raise WeightsNotRead(
                WEIGHTS_OVER_BUDGET, path,
                f"declares {shape} {node.dtype} ({size_text(nbytes)}), more than the "
                f"{size_text(self.left)} left of the file's read budget ({READ_RATIO} times "
                f"the file's {size_text(self.file_size)}, at least {size_text(READ_FLOOR)}): "
                "not read",
            )
        self.left -= nbytes


@dataclass
class Tensor:
    """A stored weight tensor: its numbers are read only when stats() is called."""

    path: str  # segments joined by "/": owning layer names, then the weight's own name or index
    node: Any  # the HDF5 backend's dataset (or an h5problems.Outside)

    def stats(self, budget: ReadBudget | None = None) -> TensorStats:
        """Σ|w|, Σw² read from the file; WeightsNotRead when the numbers are outside the file,
        beyond the budget, or unreadable (the rest of the file is still audited)."""
        node = self.node
        try:
            outside = node.outside  # (the page's backend reads the dataset's metadata here)
            if outside:
                raise WeightsNotRead(WEIGHTS_OUTSIDE_FILE, self.path, not_followed(outside))
            if budget is not None:
                budget.take(self.path, node)
            return node.stats()
        except StoredOutside as e:
            raise WeightsNotRead(WEIGHTS_OUTSIDE_FILE, self.path, not_followed(str(e))) from None
        except RegauditError:
            raise
        except Exception as e:  # the HDF5 library's own failure on this tensor's data
            raise WeightsNotRead(WEIGHTS_UNREADABLE, self.path,
                                 f"its numbers could not be read ({short_message(e)})") from None


# Formats, as reported in the JSON report's source.format.
LEGACY_H5 = "legacy-h5"
KERAS_V3 = "keras-v3"
WEIGHTS_ONLY_H5 = "weights-only-h5"
JSON_CONFIG = "json-config"


@dataclass
class ModelSource:
    """A model file read into plain Python values; `close()` releases the file."""

    file_name: str
    format: str
    keras_version: str | None
    backend: str | None
    model_config: dict[str, Any] | None
    training_config: dict[str, Any] | None
    size: int | None = None
    # "/"-joined weight path -> Tensor. Legacy HDF5: "<top layer>/<weight name>";
    # .keras: "<vars name of each ancestor>/<var index>". HDF5 readers look tensors up
    # lazily (keras_h5.LegacyWeights, V3Weights): only those a finding needs are opened.
    weights: Mapping[str, Tensor] = field(default_factory=dict)
    weight_layout: str | None = None  # "legacy-h5" (named weights), "keras-v3" (indexed vars)
    # Why no weight at all can be read (no model_weights group, ...); None when they can be.
    weights_problem: WeightsNotRead | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    # Parts that are present but could not be read (keras_version, backend, training_config),
    # with why; the audit says what the verdict assumes for each.
    unreadable: dict[str, str] = field(default_factory=dict)
    # The HDF5 root's attribute names: DL4J reads keras_version (and backend) there only.
    root_attributes: frozenset[str] = frozenset()
    # The groups under model_weights: DL4J takes each for a layer's weights.
    weight_groups: frozenset[str] = frozenset()
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> ModelSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
