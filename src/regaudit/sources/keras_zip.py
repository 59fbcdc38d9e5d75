"""Keras 3 `.keras` archives: config.json, metadata.json and model.weights.h5 in a zip."""

from __future__ import annotations

import zipfile
from typing import BinaryIO

from regaudit.errors import NotAKerasModel, UnreadableFile
from regaudit.sources.hdf5 import backend
from regaudit.sources.jsonutil import MAX_CONFIG_BYTES, parse_json
from regaudit.sources.keras_h5 import V3Weights
from regaudit.sources.model import (
    KERAS_V3,
    WEIGHTS_OVER_BUDGET,
    WEIGHTS_UNREADABLE,
    ModelSource,
    ReadBudget,
    WeightsNotRead,
    size_text,
)

WEIGHTS_MEMBER = "model.weights.h5"


def _member_text(z: zipfile.ZipFile, name: str) -> bytes:
    info = z.getinfo(name)
    if info.file_size > MAX_CONFIG_BYTES:
        raise UnreadableFile(
            f"{name} in the archive expands to {info.file_size:,} bytes; "
            f"the limit is {MAX_CONFIG_BYTES:,}"
        )
    with z.open(info) as member:
        data = member.read(MAX_CONFIG_BYTES + 1)  # never trust the declared size alone
    if len(data) > MAX_CONFIG_BYTES:
        raise UnreadableFile(f"{name} in the archive expands past {MAX_CONFIG_BYTES:,} bytes")
    return data


def read_keras_zip(f: BinaryIO, file_name: str, size: int | None) -> ModelSource:
    try:
        z = zipfile.ZipFile(f)
        names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise UnreadableFile(f"a zip file that cannot be read ({e}); is it truncated?") from None
    if "config.json" not in names:
        raise NotAKerasModel(
            "a zip archive without config.json: not a Keras .keras model "
            f"(members: {', '.join(sorted(names)[:5]) or 'none'})"
        )
    try:
        config = parse_json(_member_text(z, "config.json"), "config.json")
        metadata = (
            parse_json(_member_text(z, "metadata.json"), "metadata.json")
            if "metadata.json" in names
            else {}
        )
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise UnreadableFile(f"a damaged .keras archive ({e})") from None
    if not isinstance(config, dict):
        raise NotAKerasModel("config.json is not a JSON object: not a Keras model config")
    metadata = metadata if isinstance(metadata, dict) else {}
    compile_config = config.get("compile_config")
    source = ModelSource(
        file_name=file_name,
        format=KERAS_V3,
        keras_version=_str_or_none(metadata.get("keras_version")),
        backend=None,
        model_config=config,
        training_config=compile_config if isinstance(compile_config, dict) else None,
        size=size,
        weight_layout=KERAS_V3,
    )
    if WEIGHTS_MEMBER in names and _compressed_too_far(z.getinfo(WEIGHTS_MEMBER), size):
        info = z.getinfo(WEIGHTS_MEMBER)
        source.weights_problem = WeightsNotRead(
            WEIGHTS_OVER_BUDGET, WEIGHTS_MEMBER,
            f"compressed in the archive, it expands to {size_text(info.file_size)}, more than "
            f"the file's read budget of {size_text(ReadBudget(size).total)}: not read",
        )
    elif WEIGHTS_MEMBER in names:
        try:
            member = z.open(WEIGHTS_MEMBER)
            weights_file = backend().open(member)
        except Exception as e:  # a broken member must not hide the config's findings
            source.weights_problem = WeightsNotRead(WEIGHTS_UNREADABLE, WEIGHTS_MEMBER,
                                                    f"could not be read: {e}")
        else:
            source._closers.append(member.close)
            source._closers.append(weights_file.close)
            source.weights = V3Weights(weights_file)
    source._closers.append(z.close)
    return source


def _compressed_too_far(info: zipfile.ZipInfo, size: int | None) -> bool:
    """A compressed weights member is decompressed to be read (the page copies it whole):
    what it expands to must fit the file's read budget, as declared weights must."""
    return info.compress_type != zipfile.ZIP_STORED and info.file_size > ReadBudget(size).total


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
