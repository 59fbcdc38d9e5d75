"""The browser HDF5 backend's pure-Python half, and its contract with h5py_backend (CPython)."""

from __future__ import annotations

import re

from e2e_support import ROOT

from regaudit.sources.h5py_backend import SLICE_BYTES
from regaudit.sources.h5wasm_backend import plain_attr


def test_attributes_come_out_as_h5py_gives_them():
    assert plain_attr(None) is None
    assert plain_attr({"kind": "str", "shape": [], "values": ["2.15.0"]}) == "2.15.0"
    assert plain_attr({"kind": "str", "shape": [2], "values": ["a", "b"]}) == ["a", "b"]
    assert plain_attr({"kind": "str", "shape": [1], "values": ["x"]}) == ["x"]
    value = plain_attr({"kind": "float", "shape": [], "values": [1]})
    assert value == 1.0 and isinstance(value, float)
    assert plain_attr({"kind": "int", "shape": [2, 3], "values": list(range(6))}) == [
        [0, 1, 2],
        [3, 4, 5],
    ]
    assert plain_attr({"kind": "bool", "shape": [], "values": [1]}) is True
    assert plain_attr({"kind": "bytes", "shape": [], "values": [[104, 105]]}) == b"hi"
    assert plain_attr({"kind": "none", "shape": [], "values": []}) is None


def test_weight_sums_use_the_same_blocks_as_h5py_backend():
    """static/h5.js reproduces numpy's sums bit for bit only with the same block size."""
    source = (ROOT / "static" / "h5.js").read_text()
    match = re.search(r"const BLOCK_BYTES = (\d+) \* (\d+) \* (\d+);", source)
    assert match, "BLOCK_BYTES not found in static/h5.js"
    a, b, c = map(int, match.groups())
    assert a * b * c == SLICE_BYTES
