"""Issue 14, point 6: a file whose configuration can be walked is always reported.

Damaged copies of a real Keras 2.3.1 file (tests/bad_inputs/make_bad_inputs.py): each part that
cannot be read gets a note saying what the verdict assumed for it; the verdict is null where
that part decides it, and stays false where something else blocks the import anyway.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "bad_inputs"))
import make_bad_inputs as bad  # noqa: E402

from regaudit.audit import audit_path  # noqa: E402
from regaudit.cli import main  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
# case -> (note code, importable_strict, importable_lenient): the original imports in both.
CASES = {
    "version_opaque.h5": ("KERAS_VERSION_UNREADABLE", None, None),
    "version_not_utf8.h5": ("KERAS_VERSION_UNREADABLE", None, None),
    "backend_opaque.h5": ("BACKEND_UNREADABLE", True, True),
    "backend_not_utf8.h5": ("BACKEND_UNREADABLE", True, True),
    "training_broken.h5": ("TRAINING_CONFIG_UNREADABLE", None, True),
    "training_list.h5": ("TRAINING_CONFIG_UNREADABLE", None, True),
    "no_model_weights.h5": ("MODEL_WEIGHTS_MISSING", True, True),
    "layer_weight_names_opaque.h5": ("WEIGHTS_UNREADABLE", True, True),
    "layer_chunk_corrupt.h5": ("WEIGHTS_UNREADABLE", True, True),
}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("damaged")
    bad.make_all(folder, set(CASES))
    return folder


def outcomes(report: dict[str, Any]) -> list[tuple]:
    return [(f["layer"], f["target"], f["outcome"], f["outcome_lenient"], f["codes"])
            for f in report["findings"]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_damaged_part_gets_a_note_and_the_rest_is_audited(damaged: Path, name: str) -> None:
    code, strict, lenient = CASES[name]
    original = audit_path(str(bad.GOOD_H5)).to_dict()
    assert original["verdict"]["importable_strict"] is True
    report = audit_path(str(damaged / name)).to_dict()
    assert outcomes(report) == outcomes(original)
    [note] = [n for n in report["notes"] if n["code"] == code]
    assert "verdict" in note["message"]  # what the verdict assumed for the part
    assert report["verdict"]["importable_strict"] is strict
    assert report["verdict"]["importable_lenient"] is lenient


def test_unreadable_version_and_training_config_show_as_unknown(damaged: Path) -> None:
    version = audit_path(str(damaged / "version_opaque.h5")).to_dict()
    assert version["source"]["keras_version"] is None
    assert not version["verdict"]["blocking"]  # not "missing": the attribute is there
    training = audit_path(str(damaged / "training_broken.h5")).to_dict()["training"]
    assert training["outcome"] is None and training["outcome_lenient"] == "noop"
    assert training["codes"] == ["TRAINING_CONFIG_UNREADABLE"]
    backend = audit_path(str(damaged / "backend_not_utf8.h5")).to_dict()
    assert backend["source"]["backend"] is None


def test_weights_that_cannot_be_read_cost_their_penalty_only(damaged: Path) -> None:
    report = audit_path(str(damaged / "layer_chunk_corrupt.h5")).to_dict()
    kernel, bias = (next(f for f in report["findings"] if f["target"] == t)
                    for t in ("kernel", "bias"))
    assert kernel["penalty"] is None and kernel["penalty_note"] == "weights unreadable: not read"
    assert bias["penalty"] is not None  # the same layer's bias is read
    missing = audit_path(str(damaged / "no_model_weights.h5")).to_dict()
    assert {f["penalty_note"] for f in missing["findings"] if f["target"] != "activity"} == {
        "the file has no model_weights group"}


def test_a_blocker_that_holds_anyway_keeps_the_verdict_false(tmp_path: Path) -> None:
    """rnn.h5 holds a GRU, which DL4J cannot import whatever the Keras version says."""
    path = tmp_path / "rnn_version_opaque.h5"
    shutil.copyfile(FIXTURES / "keras-2.15.0" / "rnn.h5", path)
    with h5py.File(path, "r+") as f:
        f.attrs["keras_version"] = np.void(b"\x02")
    report = audit_path(str(path)).to_dict()
    assert report["verdict"]["importable_strict"] is False
    assert report["verdict"]["importable_lenient"] is False
    assert any(b["code"] == "UNSUPPORTED_LAYER" for b in report["verdict"]["blocking"])


@pytest.mark.parametrize("fmt", ["text", "md", "csv", "html"])
def test_every_format_renders_the_unknowns(
    damaged: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(damaged / "training_broken.h5"), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "None" not in out and "broken.h5" in out  # (Markdown escapes the "_")


def test_exit_2_only_when_nothing_could_be_audited(
    damaged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [str(damaged / n) for n in sorted(CASES)]
    assert main([*names, "--format", "json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert len(reports) == len(CASES)
    config_broken = tmp_path / "config_broken.h5"
    shutil.copyfile(bad.GOOD_H5, config_broken)
    with h5py.File(config_broken, "r+") as f:
        f.attrs["model_config"] = "{not json"
    assert main([str(config_broken)]) == 2
