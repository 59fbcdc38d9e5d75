"""Penalties at the stored weights, checked against sums computed here straight from h5py."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from regaudit.audit import audit_path
from regaudit.sources import h5py_backend, read_model

FIX = Path(__file__).parent / "fixtures"


def _array(path: Path, dataset: str) -> np.ndarray:
    with h5py.File(path) as f:
        return np.asarray(f[dataset], dtype=np.float64)


def test_conv_kernel_penalty_keras_vs_dl4j() -> None:
    path = FIX / "keras-2.3.1" / "conv.h5"
    report = audit_path(str(path)).to_dict()
    kernel = next(f for f in report["findings"] if f["layer"] == "conv2d_reg" and f["target"] == "kernel")
    w = _array(path, "model_weights/conv2d_reg/conv2d_reg/kernel:0")
    l2 = kernel["regularizer"]["l2"]
    p = kernel["penalty"]
    assert p["count"] == w.size
    assert p["sum_sq"] == pytest.approx(float((w**2).sum()), rel=1e-9)
    assert p["keras"] == pytest.approx(l2 * float((w**2).sum()), rel=1e-9)
    assert kernel["outcome"] == "altered"
    assert p["dl4j_strict"] == pytest.approx(p["keras"] / 2, rel=1e-9)  # DL4J's 0.5·l2·Σw²


def test_separable_depthwise_dl4j_covers_pointwise_too() -> None:
    path = FIX / "keras-2.3.1" / "conv.h5"
    report = audit_path(str(path)).to_dict()
    dw = next(f for f in report["findings"] if f["layer"] == "sep_reg" and f["target"] == "depthwise")
    a = _array(path, "model_weights/sep_reg/sep_reg/depthwise_kernel:0")
    b = _array(path, "model_weights/sep_reg/sep_reg/pointwise_kernel:0")
    l1 = dw["regularizer"]["l1"]
    assert dw["penalty"]["keras"] == pytest.approx(l1 * np.abs(a).sum(), rel=1e-9)
    assert dw["penalty"]["dl4j_strict"] == pytest.approx(l1 * (np.abs(a).sum() + np.abs(b).sum()),
                                                         rel=1e-9)


@pytest.mark.parametrize("name", ["keras-2.15.0/wrappers.keras", "keras-3.15.1/wrappers.keras",
                                  "keras-3.15.1/wrappers.h5", "keras-2.15.0/rnn.keras",
                                  "keras-2.3.1/nested.h5", "keras-2.15.0/nested.keras"])
def test_every_weight_regularizer_finds_its_tensors(name: str) -> None:
    report = audit_path(str(FIX / name)).to_dict()
    for f in report["findings"]:
        if f["target"] != "activity" and f["regularizer"]["class"] in ("L1", "L2", "L1L2"):
            assert f["penalty"] is not None, (f["layer_path"], f["target"], f["penalty_note"])
            assert f["penalty"]["count"] > 0


def test_stats_are_read_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slice budget far smaller than the tensor gives the same sums as one read."""
    path = FIX / "keras-2.15.0" / "conv.h5"
    with read_model(str(path)) as source:
        whole = {k: t.stats() for k, t in source.weights.items()}
    monkeypatch.setattr(h5py_backend, "SLICE_BYTES", 64)
    with read_model(str(path)) as source:
        for key, t in source.weights.items():
            sliced = t.stats()
            assert sliced.count == whole[key].count
            assert sliced.sum_sq == pytest.approx(whole[key].sum_sq, rel=1e-12)
