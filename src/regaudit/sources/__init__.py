"""Read a model file into a ModelSource, choosing the reader by the file's first bytes."""

from __future__ import annotations

import os

from regaudit.errors import RegauditError, UnreadableFile
from regaudit.sources import hdf5, sniff
from regaudit.sources.h5problems import damaged, short_message
from regaudit.sources.json_config import read_json_config
from regaudit.sources.keras_h5 import read_h5
from regaudit.sources.keras_zip import read_keras_zip
from regaudit.sources.model import ModelSource, Tensor, TensorStats
from regaudit.sources.regular import NotRegularFile, open_regular

__all__ = ["ModelSource", "Tensor", "TensorStats", "read_model"]


def read_model(path: str, display_name: str | None = None) -> ModelSource:
    """Open `path` as whatever Keras format its bytes say; raise RegauditError if none."""
    name = display_name or os.path.basename(path)
    try:
        f = open_regular(path)  # a FIFO or device is refused, never waited on
        size = os.fstat(f.fileno()).st_size
    except NotRegularFile as e:
        raise UnreadableFile(f"{e}: nothing was read") from None
    except OSError as e:
        raise UnreadableFile(f"cannot open the file ({e.strerror or e})") from None
    try:
        kind = sniff.sniff(f)
        f.seek(0)
        if kind == sniff.EMPTY:
            raise UnreadableFile("the file is empty (0 bytes)")
        if kind == sniff.JSON:
            return read_json_config(f.read(), name, size)
        if kind == sniff.ZIP:
            source = read_keras_zip(f, name, size)
            source._closers.append(f.close)
            f = None
            return source
        if kind == sniff.HDF5:
            return _read_hdf5(path, name, size)
        head = f.read(16)
        raise UnreadableFile(
            f"not a Keras model: the file looks like {sniff.describe_unknown(head)}. "
            "Expected a Keras .h5/.hdf5, a .keras archive or a JSON model config"
        )
    finally:
        if f is not None:
            f.close()


def _read_hdf5(path: str, name: str, size: int) -> ModelSource:
    try:
        h5 = hdf5.backend().open(path)
    except RegauditError:
        raise
    except Exception as e:
        raise UnreadableFile(
            "an HDF5 file that cannot be opened; it may be truncated or damaged "
            f"({short_message(e)})"
        ) from None
    try:
        source = damaged(lambda: read_h5(h5, name, size))
    except RegauditError:
        h5.close()
        raise
    source._closers.append(h5.close)
    return source
