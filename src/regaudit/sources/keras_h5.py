"""Keras's HDF5 layouts: legacy full model, legacy weights-only, and Keras 3 `.weights.h5`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from regaudit.errors import NotAKerasModel, UnreadableFile
from regaudit.sources.hdf5 import H5File, H5Group, damaged
from regaudit.sources.jsonutil import parse_json
from regaudit.sources.model import (
    KERAS_V3,
    LEGACY_H5,
    WEIGHTS_ONLY_H5,
    ModelSource,
    Tensor,
)


def list_attr(group: H5Group, name: str) -> list[str] | None:
    """A list attribute, joining Keras's split form (`name0`, `name1`, ...) for long lists."""
    value = group.attr(name)
    if value is None:
        parts, i = [], 0
        while (part := group.attr(f"{name}{i}")) is not None:
            parts.extend(part if isinstance(part, list) else [part])
            i += 1
        chunks = [a for a in group.attr_names() if a.startswith(name) and a[len(name):].isdigit()]
        if len(chunks) > i:
            raise UnreadableFile(
                f"attribute '{name}' is split into chunks and chunk {name}{i} is missing "
                "(the file is damaged)"
            )
        return parts if i else None
    return value if isinstance(value, list) else [value]


def _text_attr(group: H5Group, name: str) -> str | None:
    value = group.attr(name)
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str):
        raise UnreadableFile(f"attribute '{name}' is not text ({type(value).__name__})")
    return value


class LegacyWeights(Mapping[str, Tensor]):
    """Keras 2 layout: `layer_names` -> each layer's `weight_names`, keyed
    '<layer>/<weight name>'.

    Read lazily: `layer_names` at once, a layer's weights the first time a finding asks for
    them (`under`), everything only when iterated. A model of a thousand layers with one
    regularized costs one layer's lookups, not a thousand.
    """

    def __init__(self, group: H5Group):
        self._group = group
        self._layers = list_attr(group, "layer_names") or []
        self._by_head: dict[str, list[str]] = {}  # first "/" segment -> layer names, in order
        for name in self._layers:
            self._by_head.setdefault(name.split("/", 1)[0], []).append(name)
        self._under: dict[str, dict[str, Tensor]] = {}
        self._all: dict[str, Tensor] | None = None
        self._any: bool | None = None

    def _read(self, layers: Iterable[str]) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for layer in layers:
            layer_group = self._group.get(layer)
            if layer_group is None or layer_group.is_dataset:
                continue
            for weight in list_attr(layer_group, "weight_names") or []:
                node = layer_group.get(weight)
                if node is not None and node.is_dataset:
                    out[f"{layer}/{weight}"] = Tensor(f"{layer}/{weight}", node)
        return out

    def everything(self) -> dict[str, Tensor]:
        if self._all is None:
            self._all = damaged(lambda: self._read(self._layers))
        return self._all

    def under(self, top: str) -> dict[str, Tensor]:
        """The weights keyed '<top>/...' (those of one top-level layer), in file order."""
        if top not in self._under:
            prefix = f"{top}/"
            if self._all is not None:
                found = self._all
            else:
                # Only a layer named `top`, below it, or above it can make such a key.
                near = [n for n in self._by_head.get(top.split("/", 1)[0], [])
                        if f"{n}/".startswith(prefix) or prefix.startswith(f"{n}/")]
                found = damaged(lambda: self._read(near))
            self._under[top] = {k: t for k, t in found.items() if k.startswith(prefix)}
        return self._under[top]

    def __bool__(self) -> bool:
        if self._any is None:
            found = self._all if self._all is not None else damaged(
                lambda: any(self._read([layer]) for layer in self._layers)
            )
            self._any = bool(found)
        return self._any

    def __getitem__(self, key: str) -> Tensor:
        return self.everything()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.everything())

    def __len__(self) -> int:
        return len(self.everything())


V3_MAX_DEPTH = 64  # groups below the file's root that are searched for `vars`


def v3_weights(group: H5Group) -> dict[str, Tensor]:
    """Keras 3 layout, keyed by group path with `vars/` left out: 'layers/dense/0'.

    The group names are Keras's own object keys (snake_case class name + `_N`), which the
    walker recomputes from the config; the optional `name` attributes are not always written.
    """
    return dict(_v3_items(group, "", 0))


def _v3_items(group: H5Group, prefix: str, depth: int) -> Iterator[tuple[str, Tensor]]:
    if depth > V3_MAX_DEPTH:
        return
    for key in group.keys():
        child = group.get(key)
        if child is None:
            continue
        if key == "vars" and not child.is_dataset:
            for index in child.keys():
                node = child.get(index)
                if node is not None and node.is_dataset:
                    path = f"{prefix}{index}"
                    yield path, Tensor(path, node)
        elif not child.is_dataset:
            yield from _v3_items(child, f"{prefix}{key}/", depth + 1)


class V3Weights(Mapping[str, Tensor]):
    """`v3_weights` of a group, looked up one key at a time ('layers/dense/0' is the
    dataset `layers/dense/vars/0`); the whole walk happens only when iterated."""

    def __init__(self, group: H5Group):
        self._group = group
        self._found: dict[str, Tensor | None] = {}
        self._all: dict[str, Tensor] | None = None
        self._any: bool | None = None

    def everything(self) -> dict[str, Tensor]:
        if self._all is None:
            self._all = damaged(lambda: v3_weights(self._group))
        return self._all

    def _lookup(self, key: str) -> Tensor | None:
        if self._all is not None:
            return self._all.get(key)
        if key not in self._found:
            self._found[key] = damaged(lambda: self._read(key))
        return self._found[key]

    def _read(self, key: str) -> Tensor | None:
        *groups, index = key.split("/")
        # v3_weights never descends into a group named `vars`, nor below V3_MAX_DEPTH.
        if len(groups) > V3_MAX_DEPTH + 1 or any(g in ("", ".", "..", "vars") for g in groups):
            return None
        found = self._group.get("/".join([*groups, "vars", index])) if index else None
        return Tensor(key, found) if found is not None and found.is_dataset else None

    def __bool__(self) -> bool:
        if self._any is None:
            found = self._all if self._all is not None else damaged(
                lambda: next(_v3_items(self._group, "", 0), None)
            )
            self._any = bool(found)
        return self._any

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def __getitem__(self, key: str) -> Tensor:
        found = self._lookup(key) if isinstance(key, str) else None
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.everything())

    def __len__(self) -> int:
        return len(self.everything())


def read_h5(f: H5File, file_name: str, size: int | None) -> ModelSource:
    root_names = set(f.attr_names())
    keras_version = _text_attr(f, "keras_version")
    backend = _text_attr(f, "backend")
    if "model_config" in root_names:
        config = parse_json(_text_attr(f, "model_config") or "", "model_config")
        if not isinstance(config, dict):
            raise NotAKerasModel(
                f"model_config is JSON of the wrong shape ({type(config).__name__}, "
                "expected an object with class_name and config)"
            )
        training_text = _text_attr(f, "training_config")
        training = parse_json(training_text, "training_config") if training_text else None
        weights_group = f.get("model_weights")
        if weights_group is None or weights_group.is_dataset:
            weights_group = f
        if keras_version is None:
            keras_version = _text_attr(weights_group, "keras_version")
        source = ModelSource(
            file_name=file_name,
            format=LEGACY_H5,
            keras_version=keras_version,
            backend=backend,
            model_config=config,
            training_config=training if isinstance(training, dict) else None,
            size=size,
            weights=LegacyWeights(weights_group),
            weight_layout=LEGACY_H5,
            root_attributes=frozenset(root_names),
        )
        return source
    if "layer_names" in root_names or "layer_names0" in root_names:
        return _weights_only(file_name, size, keras_version, backend, LegacyWeights(f), LEGACY_H5)
    keys = set(f.keys())
    if "layers" in keys or ("vars" in keys and "_layer_checkpoint_dependencies" not in keys):
        return _weights_only(file_name, size, keras_version, backend, V3Weights(f), KERAS_V3)
    raise NotAKerasModel(
        "this is an HDF5 file, but not a Keras model: it has no 'model_config' attribute and "
        "no Keras weights layout. Save the model with model.save('model.h5') or "
        "model.save('model.keras')"
    )


def _weights_only(
    file_name: str,
    size: int | None,
    keras_version: str | None,
    backend: str | None,
    weights: Mapping[str, Tensor],
    layout: str,
) -> ModelSource:
    source = ModelSource(
        file_name=file_name,
        format=WEIGHTS_ONLY_H5,
        keras_version=keras_version,
        backend=backend,
        model_config=None,
        training_config=None,
        size=size,
        weights=weights,
        weight_layout=layout,
    )
    source.notes.append(
        (
            "WEIGHTS_ONLY",
            f"weights-only file ({len(weights)} weight tensors, no model config): regularizers "
            "are not stored in it, so they are unknown, not absent, and DL4J cannot import it "
            "as a model. Audit the full model instead: model.save('model.h5') (Keras 2) or the "
            ".keras file.",
        )
    )
    return source
