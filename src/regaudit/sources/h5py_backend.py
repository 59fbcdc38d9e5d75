"""The HDF5 backend for CPython: h5py, with weight sums computed by numpy in slices.

Every read stays inside the file (docs/security.md). HDF5's own switches: the file is opened
through h5py's file-object driver, bound to the one descriptor regaudit opened, so a virtual
dataset's or an external link's "other file" is never opened by name; and every lookup uses a
link-access list whose external-link file access opens an empty in-memory file. On top, the
checks: get() walks a path one hard link at a time (any other link gives an `Outside` node), and
a dataset with external raw storage (which HDF5 reads with a plain open() that no switch
governs) or a virtual layout is never read.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

import h5py
import numpy as np
from h5py import h5d, h5fd, h5g, h5l, h5o, h5p

from regaudit.sources.h5problems import OUTSIDE, Outside, StoredOutside
from regaudit.sources.model import TensorStats
from regaudit.sources.regular import open_regular

SLICE_BYTES = 32 * 1024 * 1024  # bounded memory per read, whatever the tensor's size
MEMORY_BYTES = 16 * 1024 * 1024  # a zip member up to this size is read whole (see open)


def _refusing_lapl() -> h5p.PropLAID:
    """Link access for every lookup: an external link's target file is "opened" through an
    empty in-memory file object, so it fails before any file is named; at most one soft or
    external hop (HDF5 allows no fewer)."""
    fapl = h5p.create(h5p.FILE_ACCESS)
    fapl.set_fileobj_driver(h5fd.fileobj_driver, _NOWHERE)
    lapl = h5p.create(h5p.LINK_ACCESS)
    lapl.set_elink_fapl(fapl)
    lapl.set_nlinks(1)
    return lapl


_NOWHERE = io.BytesIO(b"")  # the only "other file" HDF5 can reach from here
LAPL = _refusing_lapl()
_LINK_KINDS = {h5l.TYPE_SOFT: OUTSIDE["soft"], h5l.TYPE_EXTERNAL: OUTSIDE["external"]}


def storage_outside(dsid: h5d.DatasetID) -> str | None:
    """Why a dataset's numbers are not in its file, from its creation properties; else None."""
    dcpl = dsid.get_create_plist()
    if dcpl.get_layout() == h5d.VIRTUAL:
        return OUTSIDE["virtual"]
    if dcpl.get_external_count() > 0:
        return OUTSIDE["external-storage"]
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str) and not value.isascii():
        # h5py decodes variable-length strings with surrogateescape; h5wasm, like the bytes
        # above, replaces what is not UTF-8 with U+FFFD: one answer for both.
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Dataset:
    is_dataset = True

    def __init__(self, ds: h5py.Dataset):
        self._ds = ds

    @property
    def outside(self) -> str | None:
        return storage_outside(self._ds.id)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self._ds.shape)

    @property
    def dtype(self) -> str:
        return str(self._ds.dtype)

    @property
    def nbytes(self) -> int:
        return self._ds.dtype.itemsize * int(np.prod(self._ds.shape, dtype=object))

    def stats(self) -> TensorStats:
        ds = self._ds
        outside = storage_outside(ds.id)  # checked again here, right before the read
        if outside:
            raise StoredOutside(outside)
        dtype, shape = ds.dtype, ds.shape
        if dtype.kind not in "fiub":
            return TensorStats(0, 0.0, 0.0)
        if not shape:
            v = np.float64(ds[()])
            return TensorStats(1, float(abs(v)), float(v * v))
        row_bytes = max(1, dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64)))
        step = max(1, SLICE_BYTES // row_bytes)
        count, sum_abs, sum_sq = 0, 0.0, 0.0
        for start in range(0, shape[0], step):
            # One block (rows start..start+step), summed pairwise in float64 as a whole.
            rows = ds[()] if step >= shape[0] else ds[start : start + step]
            block = np.asarray(rows, dtype=np.float64)
            count += block.size
            sum_abs += float(np.abs(block).sum())
            sum_sq += float(np.square(block).sum())
        return TensorStats(count, sum_abs, sum_sq)


class _Group:
    is_dataset = False
    outside = None

    def __init__(self, group: h5py.Group):
        self._g = group
        gid = group.id  # a File's id is its FileID; paths are walked from its root group
        self._gid = gid if isinstance(gid, h5g.GroupID) else h5g.open(gid, b"/")
        self._attrs = group.attrs  # h5py makes a new manager on every `.attrs`

    def attr_names(self) -> list[str]:
        return list(self._attrs.keys())

    def attr(self, name: str) -> Any:
        if name not in self._attrs:
            return None
        return _plain(self._attrs[name])

    def keys(self) -> list[str]:
        return list(self._g.keys())

    def get(self, name: str) -> _Group | _Dataset | Outside | None:
        # One link at a time, each one checked before it is followed, through LAPL.
        loc: Any = self._gid
        for part in name.split("/"):
            if part in ("", "."):
                continue
            link = part.encode("utf-8", "surrogateescape")
            if not isinstance(loc, h5g.GroupID) or not loc.links.exists(link, lapl=LAPL):
                return None
            kind = loc.links.get_info(link, lapl=LAPL).type
            if kind != h5l.TYPE_HARD:
                return Outside(_LINK_KINDS.get(kind, OUTSIDE["other"]))
            loc = h5o.open(loc, link, lapl=LAPL)
        if isinstance(loc, h5d.DatasetID):
            return _Dataset(h5py.Dataset(loc))
        if isinstance(loc, h5g.GroupID):
            return _Group(h5py.Group(loc))
        return None


class _File(_Group):
    def __init__(self, f: h5py.File, raw: BinaryIO | None = None):
        super().__init__(f)
        self._f = f
        self._raw = raw

    def close(self) -> None:
        self._f.close()
        if self._raw is not None:
            self._raw.close()


class H5pyBackend:
    def open(self, source: str | BinaryIO) -> _File:
        if isinstance(source, str):
            # Through the file-object driver: HDF5 reads this descriptor and nothing else.
            raw = open_regular(source, buffering=0)
            try:
                return _File(h5py.File(ZeroPadded(raw), "r"), raw)
            except BaseException:
                raw.close()
                raise
        return _File(h5py.File(ZeroPadded(_in_memory_if_small(source)), "r"))


class ZeroPadded:
    """A file object for h5py's file-object driver that, like HDF5's own POSIX driver, fills
    what lies past the end of the file with zeros: the driver leaves that part of HDF5's
    buffer as it was, so a truncated file would be read as leftover memory."""

    def __init__(self, f: BinaryIO):
        self._f = f

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def read(self, size: int = -1) -> bytes:  # h5py's test for a file object; it uses readinto
        return self._f.read(size)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view):
            n = self._f.readinto(view[done:])
            if not n:
                view[done:] = bytes(len(view) - done)
                break
            done += n
        return len(view)


def _in_memory_if_small(f: BinaryIO) -> BinaryIO:
    """A small file object (a .keras archive's model.weights.h5) as bytes in memory: h5py
    reads a file object through Python calls, each a seek and read in the zip member."""
    data = f.read(MEMORY_BYTES + 1)
    if len(data) <= MEMORY_BYTES:
        return io.BytesIO(data)
    f.seek(0)
    return f
