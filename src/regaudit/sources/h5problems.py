"""What can be wrong with an HDF5 node, for both backends (h5py on CPython, h5wasm in the
browser): its data is stored outside the file (never followed), or the file is damaged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from regaudit.errors import RegauditError, UnreadableFile

T = TypeVar("T")

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
