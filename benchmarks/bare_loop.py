"""The floor for the CLI: open each model file and parse its model config, nothing else.

HDF5 files: `h5py.File` + `json.loads(attrs["model_config"])` (when there is one); `.keras`
archives: `zipfile` + `json.loads(config.json)`; `.json` files: `json.loads`. Run as a script
(`python benchmarks/bare_loop.py DIR...`) it is the whole-process floor; `run(files)` is the
in-process one.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile

import h5py

SUFFIXES = (".h5", ".hdf5", ".keras", ".json")


def model_files(directory: str) -> list[str]:
    """What `regaudit DIR` audits: every *.h5/.hdf5/.keras/.json below it, sorted."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        found += [os.path.join(root, n) for n in files if n.lower().endswith(SUFFIXES)]
    return sorted(found)


def load(path: str) -> object:
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"\x89HDF":
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
            return json.loads(raw) if raw is not None else None
    if head == b"PK\x03\x04":
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("config.json"))
    with open(path, "rb") as f:
        return json.loads(f.read())


def run(files: list[str]) -> int:
    return sum(load(p) is not None for p in files)


if __name__ == "__main__":
    print(run([p for d in sys.argv[1:] for p in model_files(d)]))
