"""Keras's HDF5 layouts: legacy full model, legacy weights-only, and Keras 3 `.weights.h5`."""

from __future__ import annotations

from typing import Any

from regaudit.errors import NotAKerasModel, UnreadableFile
from regaudit.sources.hdf5 import H5File, H5Group
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


def _tensor(path: str, node: Any) -> Tensor:
    return Tensor(path=path, shape=tuple(node.shape), dtype=node.dtype, read_stats=node.stats)


def legacy_weights(group: H5Group) -> dict[str, Tensor]:
    """`layer_names` -> each layer's `weight_names`, keyed '<layer>/<weight name>'."""
    out: dict[str, Tensor] = {}
    for layer in list_attr(group, "layer_names") or []:
        layer_group = group.get(layer)
        if layer_group is None or layer_group.is_dataset:
            continue
        for weight in list_attr(layer_group, "weight_names") or []:
            node = layer_group.get(weight)
            if node is not None and node.is_dataset:
                out[f"{layer}/{weight}"] = _tensor(f"{layer}/{weight}", node)
    return out


def v3_weights(group: H5Group, prefix: str = "", depth: int = 0) -> dict[str, Tensor]:
    """Keras 3 layout, keyed by group path with `vars/` left out: 'layers/dense/0'.

    The group names are Keras's own object keys (snake_case class name + `_N`), which the
    walker recomputes from the config; the optional `name` attributes are not always written.
    """
    out: dict[str, Tensor] = {}
    if depth > 64:
        return out
    for key in group.keys():
        child = group.get(key)
        if child is None:
            continue
        if key == "vars" and not child.is_dataset:
            for index in child.keys():
                node = child.get(index)
                if node is not None and node.is_dataset:
                    path = f"{prefix}{index}"
                    out[path] = _tensor(path, node)
        elif not child.is_dataset:
            out.update(v3_weights(child, f"{prefix}{key}/", depth + 1))
    return out


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
            weights=legacy_weights(weights_group),
            weight_layout=LEGACY_H5,
        )
        return source
    if "layer_names" in root_names or "layer_names0" in root_names:
        return _weights_only(file_name, size, keras_version, backend, legacy_weights(f), LEGACY_H5)
    keys = set(f.keys())
    if "layers" in keys or ("vars" in keys and "_layer_checkpoint_dependencies" not in keys):
        return _weights_only(file_name, size, keras_version, backend, v3_weights(f), KERAS_V3)
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
    weights: dict[str, Tensor],
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
