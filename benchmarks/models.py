"""The benchmark's input files: fixtures, real 2–5 MB models, and generated large models.

The large models are written at benchmark time (into a temporary directory) from a real
Keras 2.15 file, tests/fixtures/keras-2.15.0/embedding_bn.h5: Embedding (L2 on its table),
BatchNormalization (L1/L2 on beta/gamma), Flatten, Dense. Only the Embedding's vocabulary
(`input_dim` in the config, and the rows of its `embeddings` table) is scaled, so a pair of
files has the same layers and regularizers with ~1 MiB or ~1 GiB of float32 weights.

Two pairs: in `bulk-regularized` the big table carries the L2 regularizer, so the penalty
needs Σw² over all of it (this is where the weight statistics' throughput shows); in
`bulk-unregularized` the table has none (as in most models, where the bulk of the weights is
not what a finding needs) and only the small BatchNormalization tensors are read.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared" / "corpus"
TEMPLATE = FIXTURES / "keras-2.15.0" / "embedding_bn.h5"
EMBEDDINGS = "model_weights/emb_reg/emb_reg/embeddings:0"
WIDTH = 8  # the template's output_dim: a row is 32 bytes of float32

SMALL = FIXTURES / "keras-2.3.1" / "rnn.h5"  # the README's example
# Real models of 2–5 MB, read in place (never copied into the repo); skipped when absent.
MEDIUM = [
    SHARED / "generated" / "keras-2.15.0-tf-2.15.1" / "chunked_layer_names.h5",
    SHARED
    / "wild"
    / "lukas__face_classification"
    / "trained_models__fer2013_big_XCEPTION.54-0.66.hdf5",
]

# Navigation → first table (benchmarks/navigation.py): issue 13's four files, read in place.
NAVIGATION = {
    "conv.h5": SHARED / "generated" / "keras-2.15.0-tf-2.15.1" / "conv.h5",
    "rnn.h5": SHARED / "generated" / "keras-2.15.0-tf-2.15.1" / "rnn.h5",
    "large_config.h5": SHARED / "generated" / "keras-2.15.0-tf-2.15.1" / "large_config.h5",
    "Xception 2.5 MB": MEDIUM[1],
}


@dataclass
class Model:
    label: str
    path: Path
    weight_bytes: int | None = None


def real_models() -> list[Model]:
    out = [Model("small", SMALL)]
    for path in MEDIUM:
        if path.exists():
            out.append(Model(f"medium {path.stat().st_size / 2**20:.1f} MB", path))
    return out


def navigation_models() -> list[Model]:
    return [Model(label, path) for label, path in NAVIGATION.items() if path.exists()]


def scaled_model(out: Path, weight_bytes: int, regularized: bool, seed: int = 5) -> Model:
    """The template with an Embedding table of ~weight_bytes bytes (float32), written in
    slices of 64 MiB so that writing 1 GiB needs little memory."""
    rows = max(1, weight_bytes // (4 * WIDTH))
    shutil.copyfile(TEMPLATE, out)
    rng = np.random.default_rng(seed)
    with h5py.File(out, "r+") as f:
        raw = f.attrs["model_config"]
        config = json.loads(raw)
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Embedding":
                layer["config"]["input_dim"] = rows
                if not regularized:
                    layer["config"]["embeddings_regularizer"] = None
        text = json.dumps(config)
        f.attrs["model_config"] = text.encode() if isinstance(raw, bytes) else text
        del f[EMBEDDINGS]
        table = f.create_dataset(EMBEDDINGS, shape=(rows, WIDTH), dtype="float32")
        step = 2 * 1024 * 1024  # rows per slice: 64 MiB
        for start in range(0, rows, step):
            n = min(step, rows - start)
            table[start : start + n] = rng.standard_normal((n, WIDTH), dtype=np.float32) * 0.05
    kind = "bulk-regularized" if regularized else "bulk-unregularized"
    size = "1 GiB" if weight_bytes >= 2**30 else f"{weight_bytes / 2**20:.0f} MiB"
    return Model(f"{kind} {size}", out, rows * WIDTH * 4)
