"""One profile per DL4J release: the data, the CLI's --importer, and what each release decides
about real fixtures (each claim here was seen on that release by the conformance harness)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from regaudit import importers
from regaudit.audit import audit_path
from regaudit.importers import DEFAULT, PROFILES, profile_named

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
FUNCTIONAL_2_15 = FIXTURES / "keras-2.15.0" / "no_regularizers.h5"  # tf.keras 2.15, Functional


def verdicts(path: Path, profile: importers.Profile) -> tuple[bool | None, bool | None, list]:
    report = audit_path(str(path), profile=profile).to_dict()
    v = report["verdict"]
    return v["importable_strict"], v["importable_lenient"], sorted({b["code"] for b in v["blocking"]})


def test_every_release_is_the_one_before_it_plus_its_changes() -> None:
    names = list(PROFILES)
    assert names == ["dl4j-1.0.0-beta7", "dl4j-1.0.0-M1", "dl4j-1.0.0-M1.1", "dl4j-1.0.0-M2",
                     "dl4j-1.0.0-M2.1", "dl4j-master"]
    assert DEFAULT is PROFILES["dl4j-1.0.0-M2.1"]
    assert [p.verified for p in PROFILES.values()] == [True] * 5 + [False]
    profiles = list(PROFILES.values())
    for before, after in zip(profiles, profiles[1:], strict=False):
        assert after.changes and after != before
        # What a release adds to the layer list it keeps in later releases (master drops one).
        if after.verified:
            assert before.known_layers[2] <= after.known_layers[2]


def test_no_code_compares_release_names() -> None:
    """Code reads the profile: no `if release == ...` anywhere in the package."""
    for path in (ROOT / "src" / "regaudit").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"(\.release|\.name|profile)\s*[!=]=\s*['\"]", text), path


@pytest.mark.parametrize(("name", "expected"), [
    ("M2.1", "dl4j-1.0.0-M2.1"), ("1.0.0-beta7", "dl4j-1.0.0-beta7"), ("dl4j-master", "dl4j-master"),
])
def test_profiles_by_any_of_their_names(name: str, expected: str) -> None:
    assert profile_named(name).name == expected


def test_unknown_release_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="choose from beta7, M1, M1.1, M2, M2.1, master"):
        profile_named("M3")


def test_a_tf_keras_functional_model_imports_in_m2_1_not_in_beta7() -> None:
    beta7 = verdicts(FUNCTIONAL_2_15, PROFILES["dl4j-1.0.0-beta7"])
    assert beta7[:2] == (False, False)
    assert "ROOT_NOT_A_MODEL" in beta7[2]  # "Expected model class name Model (found Functional)"
    assert verdicts(FUNCTIONAL_2_15, DEFAULT) == (True, True, [])
    # M1 and M1.1 take Functional, but not the top_level_model_weights group of Keras 2.7+.
    assert verdicts(FUNCTIONAL_2_15, PROFILES["dl4j-1.0.0-M1"]) == (False, False, ["TOP_LEVEL_WEIGHTS"])


def test_the_optimizer_switch_per_release() -> None:
    """Adgrad matches up to M2.1 only; master lowercases and strips Custom>."""
    from regaudit.training import case_for

    assert case_for("Adgrad", DEFAULT)[1] is not None
    assert case_for("Adagrad", DEFAULT)[1] is None
    assert case_for("Custom>Adam", DEFAULT)[1] is None
    master = PROFILES["dl4j-master"]
    assert case_for("Custom>Adam", master)[0] == "Adam" and case_for("Custom>Adam", master)[1]
    assert case_for("Adagrad", master)[1] is not None and case_for("Adgrad", master)[1] is None


def test_shared_layers_per_release() -> None:
    shared = FIXTURES / "keras-2.3.1" / "shared.h5"
    assert verdicts(shared, PROFILES["dl4j-1.0.0-beta7"])[:2] == (True, True)  # first call only
    assert verdicts(shared, PROFILES["dl4j-1.0.0-M1"])[2] == ["WEIGHTS_SHAPE"]
    report = audit_path(str(shared), profile=DEFAULT).to_dict()
    assert report["verdict"]["importable_strict"] is True
    assert [n["code"] for n in report["notes"]] == ["WEIGHTS_NOT_STORED"]


def test_index_html_offers_every_profile_with_the_default_selected() -> None:
    html = (ROOT / "index.html").read_text()
    select = html[html.index('<select id="importer">'):]
    select = select[:select.index("</select>")]
    assert re.findall(r'<option value="([^"]+)"', select) == list(PROFILES)
    assert re.search(r'<option value="([^"]+)" selected>', select).group(1) == DEFAULT.name


def test_cli_importer_all_gives_every_release_a_verdict() -> None:
    done = subprocess.run([sys.executable, "-m", "regaudit", str(FUNCTIONAL_2_15), "--format",
                           "json", "--importer", "all"], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert report["importer"] == DEFAULT.name
    assert list(report["releases"]) == list(PROFILES)
    assert report["releases"]["dl4j-1.0.0-beta7"]["importable_strict"] is False
    assert report["releases"]["dl4j-1.0.0-M2.1"]["importable_strict"] is True
    text = subprocess.run([sys.executable, "-m", "regaudit", str(FUNCTIONAL_2_15), "--importer",
                           "all"], capture_output=True, text=True, check=True).stdout
    assert "Imports in: beta7 ✗ · M1 ✗ · M1.1 ✗ · M2 ✓ · M2.1 ✓ · master ✓ (unverified)" in text


def test_cli_importer_names_the_profile_in_the_report() -> None:
    done = subprocess.run([sys.executable, "-m", "regaudit", str(FUNCTIONAL_2_15), "--format",
                           "json", "--importer", "beta7"], capture_output=True, text=True)
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert report["importer"] == "dl4j-1.0.0-beta7" and "releases" not in report
    assert report["verdict"]["importable_strict"] is False


def test_an_image_input_takes_its_axis_from_a_conv2d_after_it_in_m1_only(tmp_path: Path) -> None:
    """M1 and M1.1 give an image input a following Conv2D's channels axis; beta7 never does,
    and M2's layerHasConvolutionLayout no longer counts a Conv2D, so there a channels_first
    Conv2D reads a Keras 2 TensorFlow input the other way (seen on M1 and M2 with
    version0003.h5 of the wild corpus)."""
    conv = {"class_name": "Conv2D", "name": "conv", "inbound_nodes": [[["image", 0, 0, {}]]],
            "config": {"name": "conv", "filters": 3, "kernel_size": [2, 2],
                       "data_format": "channels_first", "use_bias": True}}
    model = {"class_name": "Model", "keras_version": "2.1.2", "backend": "tensorflow",
             "config": {"name": "m", "layers": [
                 {"class_name": "InputLayer", "name": "image", "inbound_nodes": [],
                  "config": {"name": "image", "batch_input_shape": [None, 2, 5, 5]}}, conv],
                 "input_layers": [["image", 0, 0]], "output_layers": [["conv", 0, 0]]}}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))

    def misread(name: str) -> bool:
        notes = audit_path(str(path), profile=PROFILES[name]).to_dict()["notes"]
        return "INPUT_CHANNELS_MISREAD" in {n["code"] for n in notes}

    assert [misread(n) for n in ("dl4j-1.0.0-beta7", "dl4j-1.0.0-M1", "dl4j-1.0.0-M1.1",
                                 "dl4j-1.0.0-M2", "dl4j-1.0.0-M2.1")] == [
        True, False, False, True, True]


def test_an_image_of_unknown_size_fails_in_beta7_only(tmp_path: Path) -> None:
    """beta7 infers an unknown height or width as 0 and its CNN check finds the kernel larger
    than the input (seen with 12net.h5 of the wild corpus); M1 on keeps the size unknown. A
    ReLU in between passes the unknown size on; a sized input is fine in every release."""
    def model(shape: list) -> dict:
        relu = {"class_name": "Activation", "name": "relu", "inbound_nodes": [[["image", 0, 0, {}]]],
                "config": {"name": "relu", "activation": "relu"}}
        conv = {"class_name": "Conv2D", "name": "conv", "inbound_nodes": [[["relu", 0, 0, {}]]],
                "config": {"name": "conv", "filters": 3, "kernel_size": [3, 3],
                           "data_format": "channels_last", "use_bias": True}}
        return {"class_name": "Model", "keras_version": "2.2.4", "backend": "tensorflow",
                "config": {"name": "m", "layers": [
                    {"class_name": "InputLayer", "name": "image", "inbound_nodes": [],
                     "config": {"name": "image", "batch_input_shape": shape}}, relu, conv],
                    "input_layers": [["image", 0, 0]], "output_layers": [["conv", 0, 0]]}}

    def blocked(shape: list) -> list[bool]:
        path = tmp_path / "model.json"
        path.write_text(json.dumps(model(shape)))
        out = []
        for name in ("dl4j-1.0.0-beta7", "dl4j-1.0.0-M1", "dl4j-1.0.0-M2.1"):
            blocking = audit_path(str(path), profile=PROFILES[name]).to_dict()["verdict"]["blocking"]
            out.append("IMAGE_SIZE_UNKNOWN" in {b["code"] for b in blocking})
        return out

    assert blocked([None, None, None, 3]) == [True, False, False]
    assert blocked([None, 12, 12, 3]) == [False, False, False]
