"""The HTML verdict on real files: one line per mode that ranks losses and says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from regaudit.audit import audit_path
from regaudit.render import render
from regaudit.render.verdict import ACTIONS, action, layer_blocked, verdict

FIXTURES = Path(__file__).parent / "fixtures"


def report(name: str) -> dict:
    return audit_path(str(FIXTURES / name)).to_dict()


def lines(name: str) -> dict[str, tuple[str, str, str]]:
    data = report(name)
    return {mode: tuple(vars(verdict(data, mode)).values()) for mode in ("strict", "lenient")}


def test_a_model_without_regularizers_imports_and_keeps_everything() -> None:
    assert lines("keras-2.15.0/no_regularizers.h5") == {
        "strict": ("kept", "imports; the model has no regularizers", ""),
        "lenient": ("kept", "imports; the model has no regularizers", ""),
    }


def test_altered_only_is_a_change_not_a_loss() -> None:
    got = lines("keras-2.3.1/l1_l2.h5")
    assert got["strict"] == (
        "changed",
        "imports, but 2 of 4 regularizers altered",
        "use the recommended DL4J settings to get Keras's behaviour",
    )


def test_dropped_regularizers_make_an_importable_file_a_loss() -> None:
    state, line, todo = lines("keras-2.3.1/conv.h5")["strict"]
    assert state == "lost"
    assert line == "imports, but 5 of 10 regularizers lost (5 dropped); 4 of 10 altered"
    assert "by hand" in todo


def test_warned_counts_as_lost_like_dropped() -> None:
    state, line, _ = lines("keras-2.15.0/conv.h5")["lenient"]
    assert (state, line) == ("lost", "imports, but 10 of 10 regularizers lost (4 dropped, 6 warned)")


def test_lost_weight_decay_is_part_of_the_verdict() -> None:
    state, line, _ = lines("keras-2.15.0/adamw_compiled.h5")["lenient"]
    assert state == "lost" and line.endswith("; the optimizer's weight decay lost")


def test_strict_blocked_where_lenient_imports_says_which_mode_to_use() -> None:
    got = lines("keras-2.15.0/conv.h5")["strict"]
    assert got[0] == "blocked"
    assert got[1].startswith("does not import: conv2d_reg: kernel_regularizer: the import fails")
    assert got[1].endswith("(and 5 more reasons)")
    assert got[2] == "import with enforceTrainingConfig=false: lenient mode imports it"


def test_a_layer_dl4j_cannot_build_says_what_to_replace() -> None:
    got = lines("keras-2.3.1/rnn.h5")
    assert got["strict"] == got["lenient"] == (
        "blocked",
        "does not import: gru_reg: Unsupported keras layer type GRU",
        "replace gru_reg with a layer class DL4J builds (an LSTM is the nearest), or remove it",
    )


def test_a_file_without_a_model_config_is_unknown() -> None:
    state, line, todo = lines("keras-2.3.1/dense_kernel_bias_activity.weights.h5")["strict"]
    assert state == "unknown" and "no model configuration" in line and "JSON config" in todo


def test_a_configuration_regaudit_cannot_decide_points_to_its_notes() -> None:
    """Not "no model configuration": the file has one, and the notes say what the import
    depends on (a Keras 1 Theano image input DL4J reads the other way)."""
    name = "conformance/keras-1.2.2/forms/kernel_l1.h5"
    notes = sorted({n["code"] for n in report(name)["notes"]})
    assert "INPUT_CHANNELS_MISREAD" in notes
    for state, line, todo in lines(name).values():
        assert state == "unknown" and "no model configuration" not in line
        assert line.endswith(f"(see the notes: {', '.join(notes)})") and "notes" in todo


def test_no_recommendation_for_a_layer_dl4j_cannot_build() -> None:
    data = report("keras-2.3.1/rnn.h5")
    blocked = [f["layer"] for f in data["findings"] if layer_blocked(data, f)]
    assert blocked == ["gru_reg"] * 3
    html = render(data, "html")
    assert html.count("none: DL4J cannot build gru_reg") == 3
    assert "<code>.l2(0.02)</code>" in html  # the LSTM's recommendation stays


def test_a_file_level_error_keeps_the_recommendations() -> None:
    """A Keras 3 file does not import, but once re-saved the settings are what reproduce Keras."""
    data = report("keras-3.15.1/l1_l2.h5")
    assert all(f["outcome"] == "error" for f in data["findings"])
    assert not any(layer_blocked(data, f) for f in data["findings"])
    assert "cannot build" not in render(data, "html")


@pytest.mark.parametrize("version", ["keras-2.3.1", "keras-2.15.0", "keras-3.15.1"])
def test_every_blocking_reason_in_the_fixtures_says_what_to_do(version: str) -> None:
    seen = set()
    for path in sorted((FIXTURES / version).iterdir()):
        if path.suffix not in (".h5", ".keras"):
            continue
        for blocker in audit_path(str(path)).to_dict()["verdict"]["blocking"]:
            seen.add(blocker["code"])
            assert action(blocker), f"{path.name}: {blocker['code']} has no advice"
    assert seen <= set(ACTIONS)
