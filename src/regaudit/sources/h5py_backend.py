"""The HDF5 backend for CPython: h5py, with weight sums computed by numpy in slices."""

from __future__ import annotations

import io
from typing import Any, BinaryIO

import h5py
import numpy as np

from regaudit.sources.model import TensorStats

SLICE_BYTES = 32 * 1024 * 1024  # bounded memory per read, whatever the tensor's size
MEMORY_BYTES = 16 * 1024 * 1024  # a zip member up to this size is read whole (see open)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
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
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self._ds.shape)

    @property
    def dtype(self) -> str:
        return str(self._ds.dtype)

    def stats(self) -> TensorStats:
        ds = self._ds
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

    def __init__(self, group: h5py.Group):
        self._g = group
        self._attrs = group.attrs  # h5py makes a new manager on every `.attrs`

    def attr_names(self) -> list[str]:
        return list(self._attrs.keys())

    def attr(self, name: str) -> Any:
        if name not in self._attrs:
            return None
        return _plain(self._attrs[name])

    def keys(self) -> list[str]:
        return list(self._g.keys())

    def get(self, name: str) -> _Group | _Dataset | None:
        node = self._g.get(name)
        if isinstance(node, h5py.Dataset):
            return _Dataset(node)
        if isinstance(node, h5py.Group):
            return _Group(node)
        return None


class _File(_Group):
    def __init__(self, f: h5py.File):
        super().__init__(f)
        self._f = f

    def close(self) -> None:
        self._f.close()


class H5pyBackend:
    def open(self, source: str | BinaryIO) -> _File:
        if not isinstance(source, str):
            source = _in_memory_if_small(source)
        return _File(h5py.File(source, "r"))


def _in_memory_if_small(f: BinaryIO) -> BinaryIO:
    """A small file object (a .keras archive's model.weights.h5) as bytes in memory: h5py
    reads a file object through Python calls, each a seek and read in the zip member."""
    data = f.read(MEMORY_BYTES + 1)
    if len(data) <= MEMORY_BYTES:
        return io.BytesIO(data)
    f.seek(0)
    return f
