"""What every reader produces: one ModelSource, whatever the file format."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from regaudit.sources.hdf5 import damaged


@dataclass(frozen=True)
class TensorStats:
    """Sums over one weight tensor, read in slices so memory stays flat."""

    count: int
    sum_abs: float
    sum_sq: float


@dataclass
class Tensor:
    """A stored weight tensor: its numbers are read only when stats() is called."""

    path: str  # segments joined by "/": owning layer names, then the weight's own name or index
    node: Any  # the HDF5 backend's dataset

    def stats(self) -> TensorStats:
        return damaged(self.node.stats)


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
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    # The HDF5 root's attribute names: DL4J reads keras_version (and backend) there only.
    root_attributes: frozenset[str] = frozenset()
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> ModelSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
