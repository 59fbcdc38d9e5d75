"""Keras's HDF5 layouts, read through a small backend interface.

The layout logic lives here once; a backend only opens files and reads attributes and slices.
CPython uses h5py (`h5py_backend`), the browser plugs in h5wasm (`h5wasm_backend`) with
`set_backend`. No module outside `sources/` touches an HDF5 library.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol


class H5Dataset(Protocol):
    is_dataset: bool  # True
    shape: tuple[int, ...]
    dtype: str
    nbytes: int  # the declared size (shape x item size), whatever the file really stores
    # Why its data is not in this file (an OUTSIDE phrase), else None. Checked before any
    # read; stats() refuses such a dataset too.
    outside: str | None

    def stats(self) -> Any:  # -> TensorStats, computed in slices by the backend
        ...


class H5Group(Protocol):
    is_dataset: bool  # False
    outside: str | None  # None: a group reached through hard links only

    def attr_names(self) -> list[str]: ...

    def attr(self, name: str) -> Any:
        """The attribute as plain Python: str, list[str], int, float, list; None if absent."""

    def keys(self) -> list[str]: ...

    def get(self, name: str) -> H5Group | H5Dataset | None:
        """The child (a relative path is allowed), or None if absent. Only hard links are
        followed: where the path meets any other link, the answer is an `Outside` node."""


class H5File(H5Group, Protocol):
    def close(self) -> None: ...


class H5Backend(Protocol):
    def open(self, source: str | BinaryIO) -> H5File:
        """Open a path, or a seekable binary file object (a member of a .keras zip)."""


_backend: H5Backend | None = None


def set_backend(backend: H5Backend) -> None:
    global _backend
    _backend = backend


def backend() -> H5Backend:
    global _backend
    if _backend is None:
        from regaudit.sources.h5py_backend import H5pyBackend  # CPython default

        _backend = H5pyBackend()
    return _backend
