"""Keras's HDF5 layouts: legacy full model, legacy weights-only, and Keras 3 `.weights.h5`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from regaudit.errors import NotAKerasModel, RegauditError, UnreadableFile
from regaudit.sources.h5problems import damaged, short_message
from regaudit.sources.hdf5 import H5File, H5Group
from regaudit.sources.jsonutil import parse_json
from regaudit.sources.model import (
    KERAS_V3,
    LEGACY_H5,
    MODEL_WEIGHTS_MISSING,
    WEIGHTS_ONLY_H5,
    WEIGHTS_OUTSIDE_FILE,
    WEIGHTS_UNREADABLE,
    ModelSource,
    Tensor,
    WeightsNotRead,
    not_followed,
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
        names = parts if i else None
    else:
        names = value if isinstance(value, list) else [value]
    if names is not None and not all(isinstance(n, str) for n in names):
        raise UnreadableFile(f"attribute '{name}' is not a list of names")
    return names


def _text_attr(group: H5Group, name: str) -> str | None:
    value = group.attr(name)
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str):
        raise UnreadableFile(f"attribute '{name}' is not text ({_kind(value)})")
    return value


def _optional_text(group: H5Group, name: str, unreadable: dict[str, str]) -> str | None:
    """A text attribute the audit can do without: what is wrong with it goes to `unreadable`."""
    try:
        value = _text_attr(group, name)
    except RegauditError as e:
        unreadable[name] = str(e)  # "attribute 'x' is not text (opaque bytes)"
        return None
    except Exception as e:  # the HDF5 library cannot read it
        unreadable[name] = f"attribute '{name}' could not be read ({short_message(e)})"
        return None
    if value is not None and "\ufffd" in value:  # both backends decode bad UTF-8 to U+FFFD
        unreadable[name] = f"attribute '{name}' is not valid UTF-8 text"
        return None
    return value


def _kind(value: object) -> str:
    return "opaque bytes" if isinstance(value, bytes) else type(value).__name__


def _reason(e: Exception) -> str:
    return str(e) if isinstance(e, RegauditError) else short_message(e)


class LegacyWeights(Mapping[str, Tensor]):
    """Keras 2 layout: `layer_names` -> each layer's `weight_names`, keyed
    '<layer>/<weight name>'.

    Read lazily: `layer_names` at once, a layer's weights the first time a finding asks for
    them (`under`), everything only when iterated. A model of a thousand layers with one
    regularized costs one layer's lookups, not a thousand. A layer whose weights cannot be
    read (damaged, or stored outside the file) costs that layer only: `under` raises
    WeightsNotRead for it.
    """

    def __init__(self, group: H5Group):
        self._group = group
        self._layers = list_attr(group, "layer_names") or []
        self._by_head: dict[str, list[str]] = {}  # first "/" segment -> layer names, in order
        for name in self._layers:
            self._by_head.setdefault(name.split("/", 1)[0], []).append(name)
        # top -> its tensors, or why there are none
        self._under: dict[str, dict[str, Tensor] | WeightsNotRead] = {}
        self._all: dict[str, Tensor] | None = None
        self._any: bool | None = None
        self._problems: dict[str, WeightsNotRead] = {}  # layer -> why its weights are not read
        self._done: dict[str, dict[str, Tensor]] = {}  # layer -> its tensors, once read

    def _read(self, layers: Iterable[str]) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for layer in layers:
            if layer not in self._done and layer not in self._problems:
                try:
                    self._done[layer] = self._read_layer(layer)
                except WeightsNotRead as e:
                    self._problems[layer] = e
                except Exception as e:  # noqa: BLE001 - a damaged layer costs that layer only
                    self._problems[layer] = WeightsNotRead(
                        WEIGHTS_UNREADABLE, layer, f"its weights could not be read ({_reason(e)})"
                    )
            out.update(self._done.get(layer, {}))
        return out

    def _read_layer(self, layer: str) -> dict[str, Tensor]:
        layer_group = self._group.get(layer)
        if layer_group is None:
            return {}
        if layer_group.outside:
            raise WeightsNotRead(WEIGHTS_OUTSIDE_FILE, layer, not_followed(layer_group.outside))
        if layer_group.is_dataset:
            return {}
        out: dict[str, Tensor] = {}
        for weight in list_attr(layer_group, "weight_names") or []:
            node = layer_group.get(weight)
            if node is not None and node.is_dataset:  # an h5problems.Outside too: noted when read
                out[f"{layer}/{weight}"] = Tensor(f"{layer}/{weight}", node)
        return out

    def everything(self) -> dict[str, Tensor]:
        if self._all is None:
            self._all = self._read(self._layers)
        return self._all

    def under(self, top: str) -> dict[str, Tensor]:
        """The weights keyed '<top>/...' (those of one top-level layer), in file order; raises
        WeightsNotRead when there are none because a layer that would hold them is unreadable."""
        if top not in self._under:
            prefix = f"{top}/"
            # Only a layer named `top`, below it, or above it can make such a key.
            near = [n for n in self._by_head.get(top.split("/", 1)[0], [])
                    if f"{n}/".startswith(prefix) or prefix.startswith(f"{n}/")]
            found = self._all if self._all is not None else self._read(near)
            mine = {k: t for k, t in found.items() if k.startswith(prefix)}
            problems = [self._problems[n] for n in near if n in self._problems]
            self._under[top] = problems[0] if problems and not mine else mine
        answer = self._under[top]
        if isinstance(answer, WeightsNotRead):
            raise answer
        return answer

    def __bool__(self) -> bool:
        if self._any is None:
            found = self._all if self._all is not None else (
                any(self._read([layer]) for layer in self._layers)
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
        self._found: dict[str, Tensor | WeightsNotRead | None] = {}
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
            try:
                self._found[key] = self._read(key)
            except Exception as e:  # noqa: BLE001 - a damaged group costs that tensor only
                self._found[key] = WeightsNotRead(WEIGHTS_UNREADABLE, key,
                                                  f"could not be looked up ({_reason(e)})")
        found = self._found[key]
        if isinstance(found, WeightsNotRead):
            raise found
        return found

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
    unreadable: dict[str, str] = {}
    keras_version = _optional_text(f, "keras_version", unreadable)
    backend = _optional_text(f, "backend", unreadable)
    if "model_config" in root_names:
        config = parse_json(_text_attr(f, "model_config") or "", "model_config")
        if not isinstance(config, dict):
            raise NotAKerasModel(
                f"model_config is JSON of the wrong shape ({type(config).__name__}, "
                "expected an object with class_name and config)"
            )
        training = _training_config(f, unreadable)
        weights: LegacyWeights | None = None
        problem: WeightsNotRead | None = None
        try:
            weights = _legacy_weights(f, root_names)
        except WeightsNotRead as e:
            problem = e
        if keras_version is None and "keras_version" not in unreadable and weights is not None:
            keras_version = _optional_text(weights._group, "keras_version", unreadable)
        return ModelSource(
            file_name=file_name,
            format=LEGACY_H5,
            keras_version=keras_version,
            backend=backend,
            model_config=config,
            training_config=training,
            size=size,
            weights=weights if weights is not None else {},
            weight_layout=LEGACY_H5,
            weights_problem=problem,
            unreadable=unreadable,
            root_attributes=frozenset(root_names),
            weight_groups=_group_names(weights),
        )
    if "layer_names" in root_names or "layer_names0" in root_names:
        return _weights_only(file_name, size, keras_version, backend, LegacyWeights(f), LEGACY_H5,
                             unreadable)
    keys = set(f.keys())
    if "layers" in keys or ("vars" in keys and "_layer_checkpoint_dependencies" not in keys):
        return _weights_only(file_name, size, keras_version, backend, V3Weights(f), KERAS_V3,
                             unreadable)
    raise NotAKerasModel(
        "this is an HDF5 file, but not a Keras model: it has no 'model_config' attribute and "
        "no Keras weights layout. Save the model with model.save('model.h5') or "
        "model.save('model.keras')"
    )


def _training_config(f: H5File, unreadable: dict[str, str]) -> dict | None:
    """The training_config object; None when absent, or when unreadable (said in `unreadable`)."""
    try:
        text = _text_attr(f, "training_config")
        training = parse_json(text, "training_config") if text else None
    except Exception as e:  # not text, not JSON, too large or deep: the config is still usable
        unreadable["training_config"] = _reason(e)
        return None
    if training is not None and not isinstance(training, dict):
        unreadable["training_config"] = (
            f"training_config is JSON of the wrong shape ({type(training).__name__}, "
            "expected an object)"
        )
        return None
    return training


def _group_names(weights: LegacyWeights | None) -> frozenset[str]:
    """The names under model_weights (what DL4J iterates as layers); empty when unreadable."""
    try:
        return frozenset(weights._group.keys()) if weights is not None else frozenset()
    except Exception:  # noqa: BLE001 - a damaged group: its weights are noted already
        return frozenset()


def _legacy_weights(f: H5File, root_names: set[str]) -> LegacyWeights:
    """The full model's weight table, or WeightsNotRead saying why there is none."""
    where = "model_weights"
    try:
        group = f.get(where)
        if group is None and ("layer_names" in root_names or "layer_names0" in root_names):
            group = f  # weights written at the root
        if group is None or (group.is_dataset and not group.outside):
            raise WeightsNotRead(MODEL_WEIGHTS_MISSING, where,
                                 "the file has no model_weights group")
        if group.outside:
            raise WeightsNotRead(WEIGHTS_OUTSIDE_FILE, where, not_followed(group.outside))
        return LegacyWeights(group)
    except WeightsNotRead:
        raise
    except Exception as e:  # noqa: BLE001 - the config is still audited
        raise WeightsNotRead(WEIGHTS_UNREADABLE, where,
                             f"could not be read ({_reason(e)})") from None


def _weights_only(
    file_name: str,
    size: int | None,
    keras_version: str | None,
    backend: str | None,
    weights: Mapping[str, Tensor],
    layout: str,
    unreadable: dict[str, str],
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
        unreadable=unreadable,
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
