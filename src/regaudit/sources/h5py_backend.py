"""The HDF5 backend for CPython: h5py, with weight sums computed by numpy in slices."""

from __future__ import annotations

from typing import Any, BinaryIO

import h5py
import numpy as np

from regaudit.sources.model import TensorStats

SLICE_BYTES = 32 * 1024 * 1024  # bounded memory per read, whatever the tensor's size


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
        self.shape = tuple(int(n) for n in ds.shape)
        self.dtype = str(ds.dtype)

    def stats(self) -> TensorStats:
        ds = self._ds
        if ds.dtype.kind not in "fiub":
            return TensorStats(0, 0.0, 0.0)
        if ds.ndim == 0:
            v = np.float64(ds[()])
            return TensorStats(1, float(abs(v)), float(v * v))
        row_bytes = max(1, ds.dtype.itemsize * int(np.prod(ds.shape[1:], dtype=np.int64)))
        step = max(1, SLICE_BYTES // row_bytes)
        count, sum_abs, sum_sq = 0, 0.0, 0.0
        for start in range(0, ds.shape[0], step):
            block = np.asarray(ds[start : start + step], dtype=np.float64)
            count += block.size
            sum_abs += float(np.abs(block).sum())
            sum_sq += float(np.square(block).sum())
        return TensorStats(count, sum_abs, sum_sq)


class _Group:
    is_dataset = False

    def __init__(self, group: h5py.Group):
        self._g = group

    def attr_names(self) -> list[str]:
        return list(self._g.attrs.keys())

    def attr(self, name: str) -> Any:
        if name not in self._g.attrs:
            return None
        return _plain(self._g.attrs[name])

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
        return _File(h5py.File(source, "r"))
