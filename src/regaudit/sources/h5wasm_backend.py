"""The HDF5 backend inside Pyodide: h5wasm, reached through a small JS module.

The web worker (static/worker.js) registers `regaudit_h5` (static/h5.js) with
`pyodide.registerJsModule` and mounts each dropped `File` read-only (WORKERFS) at the same path
in Pyodide's file system and in h5wasm's, so a path string names the file in both. Weight sums
run in JS over typed-array slices of the file (bounded memory, same numbers as h5py_backend).
Nothing here imports a browser module at import time: `app.py` passes the JS module in.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO

from regaudit.sources.h5problems import OUTSIDE, Outside, StoredOutside
from regaudit.sources.model import TensorStats

COPY_CHUNK = 8 * 1024 * 1024  # a .keras member is copied into h5wasm's memory in these steps

_CONVERT = {"str": str, "float": float, "int": int, "bool": bool}


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call into JS; a JS error becomes an OSError with h5wasm's words, as h5py raises them."""
    try:
        return fn(*args)
    except Exception as e:
        if type(e).__name__ != "JsException":
            raise
        raise OSError(re.sub(r"^\w*Error: ", "", str(e))) from None


def _nest(values: list[Any], shape: list[int]) -> Any:
    """A flat C-order list as nested lists of `shape` (what numpy's tolist() gives)."""
    if not shape:
        return values[0] if values else None
    if len(shape) == 1:
        return list(values)
    step = len(values) // shape[0] if shape[0] else 0
    return [_nest(values[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _py(value: Any) -> Any:
    """A JS value (JsProxy) as plain Python; plain Python passes through."""
    to_py = getattr(value, "to_py", None)
    return to_py() if to_py is not None else value


def plain_attr(raw: Any) -> Any:
    """`{kind, shape, values}` from h5.js -> the Python value h5py_backend would give."""
    if raw is None:
        return None
    raw = _py(raw)
    kind, shape, values = raw["kind"], [int(n) for n in raw["shape"]], list(raw["values"])
    if kind == "none":
        return None
    if kind == "bytes":
        return bytes(values[0]) if values else b""
    convert = _CONVERT[kind]
    return _nest([convert(v) for v in values], shape)


class _Node:
    def __init__(self, js: Any, handle: int, path: str):
        self._js = js
        self._handle = handle
        self.path = path


class _Dataset(_Node):
    is_dataset = True
    _cached: dict[str, Any] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self._info()["shape"])

    @property
    def dtype(self) -> str:
        return str(self._info()["dtype"])

    @property
    def nbytes(self) -> int:
        count = 1
        for n in self.shape:
            count *= n
        return int(self._info()["itemsize"]) * count

    @property
    def outside(self) -> str | None:
        return OUTSIDE.get(self._info()["outside"])

    def _info(self) -> dict[str, Any]:
        if self._cached is None:
            self._cached = _py(_call(self._js.dataset_info, self._handle, self.path))
        return self._cached

    def stats(self) -> TensorStats:
        try:
            count, sum_abs, sum_sq = _py(_call(self._js.stats, self._handle, self.path))
        except OSError as e:
            kind = str(e).removeprefix("outside: ")
            if kind in OUTSIDE:
                raise StoredOutside(OUTSIDE[kind]) from None
            raise
        return TensorStats(int(count), float(sum_abs), float(sum_sq))


class _Group(_Node):
    is_dataset = False
    outside = None

    def attr_names(self) -> list[str]:
        return [str(n) for n in _py(_call(self._js.attr_names, self._handle, self.path))]

    def attr(self, name: str) -> Any:
        return plain_attr(_call(self._js.attr, self._handle, self.path, name))

    def keys(self) -> list[str]:
        return [str(n) for n in _py(_call(self._js.keys, self._handle, self.path))]

    def get(self, name: str) -> _Group | _Dataset | Outside | None:
        path = posixpath.normpath(posixpath.join(self.path, name))
        if path.startswith("//"):
            path = path[1:]
        kind = _call(self._js.kind, self._handle, path)
        if kind == "group":
            return _Group(self._js, self._handle, path)
        if kind == "dataset":
            return _Dataset(self._js, self._handle, path)
        if kind in OUTSIDE:
            return Outside(OUTSIDE[kind])
        return None


class _File(_Group):
    def close(self) -> None:
        if self._handle is not None:
            self._js.close(self._handle)
            self._handle = None


def stored_region(member: Any) -> tuple[str, int, int] | None:
    """(path, offset, size) of an uncompressed, unencrypted zip member opened by zipfile from
    a file on disk, or None. Reads zipfile's private fields, so anything unexpected is None."""
    try:
        if member._compress_type != zipfile.ZIP_STORED or member._decrypter is not None:
            return None
        path = member._fileobj._file.name
        start, size = member._orig_compress_start, member._orig_file_size
    except AttributeError:
        return None
    if isinstance(path, str) and isinstance(start, int) and isinstance(size, int):
        return path, start, size
    return None


class H5wasmBackend:
    """`hdf5.set_backend(H5wasmBackend(regaudit_h5))` in the browser."""

    def __init__(self, js: Any):
        self._js = js

    def open(self, source: str | BinaryIO) -> _File:
        js = self._js
        if isinstance(source, str):
            return _File(js, int(_call(js.open, source)), "/")
        region = stored_region(source)
        if region is not None:
            # An uncompressed member (Keras stores model.weights.h5 so): read it in place.
            try:
                return _File(js, int(_call(js.open_slice, *region)), "/")
            except OSError:
                pass  # not a mounted file, or not HDF5 where expected: copy it instead
        # Otherwise h5wasm, which has its own file system, gets a copy, made in steps, in
        # memory, deleted when the file is closed.
        path = js.mem_create()
        try:
            while chunk := source.read(COPY_CHUNK):
                js.mem_write(path, chunk)
        except BaseException:
            js.mem_delete(path)
            raise
        return _File(js, int(_call(js.open_mem, path)), "/")
