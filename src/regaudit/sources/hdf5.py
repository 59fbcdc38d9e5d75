"""Keras's HDF5 layouts, read through a small backend interface.

The layout logic lives here once; a backend only opens files and reads attributes and slices.
CPython uses h5py (`h5py_backend`), the browser plugs in h5wasm (`h5wasm_backend`) with
`set_backend`. No module outside `sources/` touches an HDF5 library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO, Protocol, TypeVar

from regaudit.errors import RegauditError, UnreadableFile

T = TypeVar("T")


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


# Every way HDF5 offers to put a node's data outside the file, keyed by static/h5.js's words,
# in the report's (both backends use these, so the CLI and the page write the same notes).
OUTSIDE = {
    "soft": "a soft link (regaudit follows hard links only)",
    "external": "an external link to another file",
    "other": "a user-defined link (regaudit follows hard links only)",
    "external-storage": "external raw storage (its numbers are in another file)",
    "virtual": "a virtual dataset (its numbers are mapped from other datasets)",
}


class StoredOutside(RegauditError):
    """A node whose data is not in the file: it is never followed or read."""


class Outside:
    """What a backend's get() gives for a link that is not a hard link inside the file. It
    stands where a tensor or group would be; nothing behind it is opened."""

    is_dataset = True
    shape: tuple[int, ...] = ()
    dtype = "none"
    nbytes = 0

    def __init__(self, outside: str):
        self.outside = outside

    def stats(self) -> Any:
        raise StoredOutside(self.outside)


_backend: H5Backend | None = None


def short_message(e: Exception) -> str:
    """An HDF5 library's error as one short line."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:200]


def damaged(read: Callable[[], T]) -> T:
    """read(), with any failure of the HDF5 library (h5py's OSError, h5wasm's Error, ...)
    turned into UnreadableFile: what a damaged file gets, however late it is read."""
    try:
        return read()
    except RegauditError:
        raise
    except Exception as e:
        raise UnreadableFile(f"a damaged HDF5 file: {short_message(e)}") from None


def set_backend(backend: H5Backend) -> None:
    global _backend
    _backend = backend


def backend() -> H5Backend:
    global _backend
    if _backend is None:
        from regaudit.sources.h5py_backend import H5pyBackend  # CPython default

        _backend = H5pyBackend()
    return _backend
