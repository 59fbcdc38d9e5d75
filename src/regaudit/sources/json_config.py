"""A bare JSON model config (`model.to_json()`, or a .keras archive's config.json)."""

from __future__ import annotations

from regaudit.errors import NotAKerasModel
from regaudit.sources.jsonutil import parse_json
from regaudit.sources.model import JSON_CONFIG, ModelSource


def read_json_config(data: bytes, file_name: str, size: int | None) -> ModelSource:
    config = parse_json(data, "the JSON file")
    if not isinstance(config, dict) or "class_name" not in config:
        raise NotAKerasModel(
            "a JSON file that is not a Keras model config: expected an object with "
            "'class_name' and 'config' (what model.to_json() writes)"
        )
    version = config.get("keras_version")
    backend = config.get("backend")
    compile_config = config.get("compile_config")
    return ModelSource(
        file_name=file_name,
        format=JSON_CONFIG,
        keras_version=version if isinstance(version, str) else None,
        backend=backend if isinstance(backend, str) else None,
        model_config=config,
        training_config=compile_config if isinstance(compile_config, dict) else None,
        size=size,
    )
