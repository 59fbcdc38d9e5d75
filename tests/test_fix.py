"""The fix plan (regaudit.fix), its Java (regaudit.render.java) and `regaudit fix`, on the real
fixtures. That DL4J itself reproduces Keras's penalty with each fix is tests/test_conformance.py's
job (`python -m conformance --fix`); here, the plan's own promises: every row is fixed or listed
with a reason, coefficients are in DL4J's convention, no group gets a value that is not exact,
and the Java is safe to compile whatever the file's names are."""

from __future__ import annotations

import copy
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from regaudit.audit import audit_path
from regaudit.fix import LAYERS, plan, row_text
from regaudit.render.java import class_name_for, java_string, render_java, valid_class_name
from regaudit.rules import EXTRA_WEIGHTS

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "static" / "examples"
HAS_JAVA = bool(shutil.which("javac") and shutil.which("java"))


def report_of(path: Path | str) -> dict:
    path = FIXTURES / path if isinstance(path, str) else path
    return audit_path(str(path), display_name=path.name).to_dict()


def replanned(report: dict) -> dict:
    """The report with its fix block made again from the (edited) rest."""
    report = {k: v for k, v in report.items() if k != "fix"}
    report["fix"] = plan(report)
    return report


def finding(report: dict, top: str, target: str) -> dict:
    return next(f for f in report["findings"]
                if f["layer_path"][0] == top and f["target"] == target)


def fixture_reports() -> list[dict]:
    return [report_of(p) for p in sorted(FIXTURES.rglob("*")) if p.suffix in (".h5", ".keras")]


# --- the plan --------------------------------------------------------------------------------


def test_every_row_of_a_file_that_imports_is_fixed_or_listed_with_a_reason() -> None:
    importable = 0
    for report in fixture_reports():
        fix = report["fix"]
        if fix["status"] not in ("fix", "nothing_to_fix"):
            assert fix["changes"] == fix["fixed"] == fix["not_fixable"] == []
            continue
        importable += 1
        fixed = set(fix["fixed"])
        listed = {row["finding"] for row in fix["not_fixable"]}
        assert not fixed & listed, report["source"]["file"]
        assert fixed | listed == set(range(len(report["findings"]))), report["source"]["file"]
        for row in fix["not_fixable"]:
            assert row["code"] and row["reason"], row
        for change in fix["changes"]:
            # Never a value that is not exact: a group either reproduces Keras or is cleared.
            assert change["exact"] == (set(change["findings"]) <= fixed), change
            if not change["exact"]:
                assert change["regularization"] == []
    assert importable >= 20


def test_coefficients_are_dl4j_s_l1_as_it_is_and_l2_doubled() -> None:
    checked = 0
    for report in fixture_reports():
        for change in report["fix"]["changes"]:
            if not change["exact"]:
                continue
            reg = report["findings"][change["findings"][0]]["regularizer"]
            want = {"L1Regularization": reg.get("l1") or 0.0,
                    "L2Regularization": 2 * (reg.get("l2") or 0.0)}
            got = {r["class"]: r["coefficient"] for r in change["regularization"]}
            assert set(got) == {k for k, v in want.items() if v}, change
            for cls, value in got.items():
                # written as the shortest decimal of the same float32: within its rounding
                assert math.isclose(value, want[cls], rel_tol=1e-7), (change, reg)
                checked += 1
    assert checked >= 30


def test_regularizers_the_import_drops_are_put_back() -> None:
    # tf.keras 2.15 writes L2 and L1 classes (the import drops them) and a bias regularizer
    # (never imported): the fix sets both.
    report = report_of("keras-2.15.0/conv.h5")
    kernel, bias = finding(report, "conv2d_reg", "kernel"), finding(report, "conv2d_reg", "bias")
    assert kernel["outcome_lenient"] in ("warned", "dropped") and bias["outcome_lenient"] != "applied"
    changes = {(c["layer"], c["kind"]): c for c in report["fix"]["changes"]}
    assert changes[("conv2d_reg", "weights")]["regularization"] == [
        {"class": "L2Regularization", "coefficient": 0.04}]
    assert changes[("conv2d_reg", "biases")]["regularization"] == [
        {"class": "L1Regularization", "coefficient": 0.002}]
    assert report["fix"]["mode"] == "lenient"  # the strict import fails on this file


def test_a_recurrent_regularizer_that_differs_from_the_kernel_s_is_not_expressible() -> None:
    report = report_of("keras-2.3.1/wrappers.h5")  # Bidirectional LSTM: kernel L2, recurrent L1
    (bidi,) = [c for c in report["fix"]["changes"] if c["layer"] == "bidi"]
    assert bidi["bidirectional"] and bidi["kind"] == "weights"
    assert not bidi["exact"] and bidi["regularization"] == []
    rows = [r for r in report["fix"]["not_fixable"] if r["layer_path"][0] == "bidi"]
    assert sorted(r["target"] for r in rows) == ["kernel", "recurrent"]
    assert {r["code"] for r in rows} == {"ONE_SETTING"}
    assert "kernel and recurrent weights (both directions)" in rows[0]["reason"]


def test_a_recurrent_regularizer_equal_to_the_kernel_s_is_fixed_on_both_directions() -> None:
    report = report_of("keras-2.3.1/wrappers.h5")
    kernel = finding(report, "bidi", "kernel")
    finding(report, "bidi", "recurrent")["regularizer"] = copy.deepcopy(kernel["regularizer"])
    (bidi,) = [c for c in replanned(report)["fix"]["changes"] if c["layer"] == "bidi"]
    assert bidi["exact"] and bidi["bidirectional"] and len(bidi["findings"]) == 2
    (l2,) = bidi["regularization"]
    assert l2["class"] == "L2Regularization"
    assert math.isclose(l2["coefficient"], 2 * kernel["regularizer"]["l2"], rel_tol=1e-7)


def test_a_kernel_regularizer_alone_on_an_lstm_is_not_exact_in_dl4j() -> None:
    # DL4J would apply it to the recurrent weights too, which Keras leaves alone.
    report = report_of("keras-2.3.1/wrappers.h5")
    report["findings"] = [f for f in report["findings"]
                          if not (f["layer_path"][0] == "bidi" and f["target"] == "recurrent")]
    fix = replanned(report)["fix"]
    (bidi,) = [c for c in fix["changes"] if c["layer"] == "bidi"]
    assert not bidi["exact"]
    (row,) = [r for r in fix["not_fixable"] if r["layer_path"][0] == "bidi"]
    assert row["code"] == "ONE_SETTING" and "recurrent none" in row["reason"]


@pytest.mark.parametrize(("path", "top", "target", "code"), [
    ("keras-2.15.0/conv.h5", "conv1d_reg", "activity", "ACTIVITY"),
    ("keras-2.15.0/conv.h5", "sep_reg", "pointwise", "ONE_SETTING"),  # differs from depthwise
    ("keras-2.15.0/custom_regularizer.h5", "dense_custom", "kernel", "NOT_L1_L2"),
    ("keras-2.15.0/embedding_bn.h5", "bn_reg", "gamma", "NO_DL4J_PARAMETER"),
    ("keras-2.3.1/shared.h5", "shared_dense", "kernel", "WEIGHTS_NOT_STORED"),
])
def test_what_cannot_be_expressed_says_why(path: str, top: str, target: str, code: str) -> None:
    report = report_of(path)
    index = report["findings"].index(finding(report, top, target))
    (row,) = [r for r in report["fix"]["not_fixable"] if r["finding"] == index]
    assert row["code"] == code
    assert index not in report["fix"]["fixed"]


def test_a_layer_class_regaudit_has_not_checked_is_not_claimed() -> None:
    report = report_of("keras-2.3.1/l1_l2.h5")
    report["findings"][0]["layer_class"] = "LocallyConnected2D"
    fix = replanned(report)["fix"]
    assert [r["code"] for r in fix["not_fixable"] if r["finding"] == 0] == ["LAYER_NOT_VERIFIED"]
    assert 0 not in fix["fixed"]


def test_a_negative_or_missing_coefficient_is_not_set() -> None:
    report = report_of("keras-2.3.1/l1_l2.h5")
    reg = report["findings"][0]["regularizer"]
    reg["config"]["config"]["l2"] = -0.5
    fix = replanned(report)["fix"]
    assert [r["code"] for r in fix["not_fixable"] if r["finding"] == 0] == ["BAD_COEFFICIENT"]


def test_layer_table_covers_the_weights_the_rules_say_dl4j_regularizes_together() -> None:
    for (target, cls), extra in EXTRA_WEIGHTS.items():
        assert LAYERS[cls].weights == (target, extra), cls


def test_files_without_a_network_get_no_fix_and_say_why() -> None:
    rnn = report_of("keras-2.15.0/rnn.h5")  # a GRU: DL4J builds it in neither mode
    assert rnn["fix"]["status"] == "not_importable"
    assert "GRU" in rnn["fix"]["message"] and render_java(rnn) is None
    weights = report_of("keras-2.3.1/dense_kernel_bias_activity.weights.h5")
    assert weights["fix"]["status"] == "no_configuration"
    assert weights["fix"]["message"].startswith("no configuration, nothing to fix")
    unknown = report_of("keras-2.3.1/l1_l2.h5")
    unknown["verdict"].update(importable_strict=None, importable_lenient=None)
    assert replanned(unknown)["fix"]["status"] == "unknown"


def test_the_penalty_of_the_fixed_rows_is_keras_s() -> None:
    report = report_of("keras-2.15.0/wrappers.h5")
    fix = report["fix"]
    keras = [f["penalty"]["keras"] for f in report["findings"]]
    assert math.isclose(fix["penalty"]["fixed"], sum(keras[i] for i in fix["fixed"]))
    listed = [r["finding"] for r in fix["not_fixable"]]
    assert math.isclose(fix["penalty"]["not_fixable"], sum(keras[i] for i in listed))
    assert math.isclose(fix["penalty"]["fixed"] + fix["penalty"]["not_fixable"], sum(keras))


def test_the_optimizer_s_weight_decay_is_said_not_set() -> None:
    report = report_of("keras-2.15.0/adamw_compiled.h5")
    assert "weight_decay=0.004" in report["fix"]["training"]
    java = render_java(report) or ""
    assert "WeightDecay(0.004, true)" in java and "new WeightDecay" not in java.split("final class")[1]


# --- the Java --------------------------------------------------------------------------------


def test_the_java_sets_each_change_and_names_each_row() -> None:
    report = report_of("keras-2.15.0/conv.h5")
    java = render_java(report) or ""
    assert java.isascii() and "final class ConvFix {" in java
    assert "KerasModelImport.importKerasModelAndWeights(file, false)" in java  # lenient, a graph
    assert java.count("layer.setRegularization(") + java.count(
        "layer.setRegularizationBias(") == len(report["fix"]["changes"])
    assert "new L2Regularization(0.04)" in java
    comments = " ".join(line.strip().lstrip("/").strip() for line in java.splitlines()
                        if line.strip().startswith("//"))
    for row in report["fix"]["not_fixable"]:
        assert " ".join(row_text(row).split()) in comments


def test_a_sequential_model_is_a_multilayernetwork_and_strict_where_it_can_be() -> None:
    java = render_java(report_of("keras-2.3.1/l1_l2.h5")) or ""
    assert "static void apply(MultiLayerNetwork net)" in java
    assert "importKerasSequentialModelAndWeights(file, true)" in java


def test_a_json_config_is_built_from_its_configuration() -> None:
    report = report_of(EXAMPLES / "l1_l2.json")
    java = render_java(report) or ""
    flag = "true" if report["fix"]["mode"] == "strict" else "false"
    assert f"importKerasSequentialConfiguration(file, {flag})" in java and "net.init();" in java
    assert report["fix"]["penalty"]["fixed"] is None and "KERAS_PENALTY_FIXED" not in java


def test_class_names() -> None:
    assert class_name_for("conv.h5") == "ConvFix"
    assert class_name_for("keras_3layer.weights.h5") == "Keras3layerFix"
    assert class_name_for("1 model.h5") == "Model1ModelFix"
    assert class_name_for("<>.h5") == "ModelFix"
    assert all(valid_class_name(n) for n in ("Fix", "A$b_1", "ConvFix"))
    assert not any(valid_class_name(n) for n in ("1a", "class", "a-b", "", "record", "é"))
    with pytest.raises(ValueError, match="not a Java class name"):
        render_java(report_of("keras-2.3.1/l1_l2.h5"), "int")


HOSTILE = [
    'quote" + System.exit(1) + "',
    "back\\slash\\",
    "line\nbreak\r\n",
    "\\u000a still text",
    "*/ /* // end",
    "tab\there\x00nul\x07bell\x7fdel",
    "é ü 中文 😀 \u2028\u0085",
    "\ud800 lone",
]


def javac(tmp_path: Path, source: str, name: str, classpath: str = "") -> None:
    (tmp_path / f"{name}.java").write_text(source, encoding="ascii")
    done = subprocess.run(["javac", "-encoding", "US-ASCII", "-d", str(tmp_path),
                           *(["-cp", classpath] if classpath else []), str(tmp_path / f"{name}.java")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not HAS_JAVA, reason="needs a JDK")
def test_names_from_the_file_come_out_of_javac_as_they_went_in(tmp_path: Path) -> None:
    prints = "\n".join(f"        print({java_string(s)}); // {java_string(s)}" for s in HOSTILE)
    source = f"""final class Names {{
    static void print(String s) {{
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) b.append(Integer.toHexString(s.charAt(i))).append(' ');
        System.out.println(b.toString().trim());
    }}
    public static void main(String[] args) {{
{prints}
    }}
}}
"""
    javac(tmp_path, source, "Names")
    done = subprocess.run(["java", "-cp", str(tmp_path), "Names"], capture_output=True, text=True,
                          check=True)
    want = [" ".join(f"{u:x}" for u in units(s)) for s in HOSTILE]
    assert done.stdout.splitlines() == want


def units(s: str) -> list[int]:
    """UTF-16 code units, as Java's String holds them."""
    raw = s.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


@pytest.fixture(scope="module")
def dl4j_lib() -> str:
    """DL4J 1.0.0-M2.1's jars, as the conformance harness fetches them (Maven)."""
    if not (HAS_JAVA and shutil.which("mvn")):
        pytest.skip("the harness needs Java 17 and Maven")
    from conformance import judge

    judge.ensure_harness()
    return str(judge.target_dir(judge.DEFAULT_RELEASE) / "lib" / "*")


def test_the_java_for_hostile_names_compiles_against_dl4j(tmp_path: Path, dl4j_lib: str) -> None:
    report = report_of("keras-2.3.1/wrappers.h5")  # a graph with a Bidirectional and a wrapper
    for i, f in enumerate(report["findings"]):
        f["layer_path"][0] = HOSTILE[i % len(HOSTILE)] + f["layer_path"][0]
        f["regularizer"]["display"] = HOSTILE[(i + 1) % len(HOSTILE)]
    report["source"]["file"] = HOSTILE[4] + ".h5"
    report = replanned(report)
    java = render_java(report, "Hostile") or ""
    assert java.isascii()
    javac(tmp_path, java, "Hostile", dl4j_lib)


# --- regaudit fix ------------------------------------------------------------------------------


def fix_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "regaudit", "fix", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})


def test_cli_writes_the_java_to_the_output_named_after_its_class(tmp_path: Path) -> None:
    path = FIXTURES / "keras-2.15.0" / "conv.h5"
    done = fix_cli(str(path), "-o", str(tmp_path / "Fix.java"))
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "Fix.java").read_text()
    assert written == render_java(report_of(path), "Fix", "Fix.java")
    assert "final class Fix {" in written
    assert done.stderr.strip().endswith(report_of(path)["fix"]["message"])


def test_cli_prints_to_stdout_and_takes_a_class_name() -> None:
    path = FIXTURES / "keras-2.3.1" / "l1_l2.h5"
    default = fix_cli(str(path))
    assert default.returncode == 0 and "final class L1L2Fix {" in default.stdout
    named = fix_cli(str(path), "--class-name", "MyFix")
    assert named.returncode == 0 and "final class MyFix {" in named.stdout
    assert fix_cli(str(path), "--class-name", "1x").returncode == 4


@pytest.mark.parametrize(("path", "words"), [
    ("keras-2.15.0/rnn.h5", "imports this file in neither mode, so there is no network to fix: "
     "gru_reg: Unsupported keras layer type GRU"),
    ("keras-2.3.1/dense_kernel_bias_activity.weights.h5", "no configuration, nothing to fix"),
    ("keras-2.3.1/no_such_file.h5", "no such file or directory"),
])
def test_cli_exits_2_with_the_reason_when_there_is_nothing_to_fix(path: str, words: str) -> None:
    done = fix_cli(str(FIXTURES / path))
    assert done.returncode == 2 and done.stdout == ""
    assert words in done.stderr


def test_cli_reports_a_file_it_cannot_read_as_the_audit_does(tmp_path: Path) -> None:
    bad = tmp_path / "notes.h5"
    bad.write_text("not a model\n")
    done = fix_cli(str(bad))
    assert done.returncode == 2 and done.stderr.startswith(f"regaudit: {bad}: ")


def test_the_example_in_docs_fix_md_is_what_regaudit_fix_writes() -> None:
    doc = (ROOT / "docs" / "fix.md").read_text()
    shown = doc.split("```java\n", 1)[1].split("```", 1)[0]
    report = report_of("keras-2.15.0/wrappers.h5")
    assert shown == render_java(report, "WrappersFix", "WrappersFix.java"), (
        "regenerate: regaudit fix tests/fixtures/keras-2.15.0/wrappers.h5 -o WrappersFix.java")


def test_markdown_shows_the_plan_as_a_checklist_and_says_when_there_is_none() -> None:
    from regaudit.render import render

    report = report_of("keras-2.15.0/conv.h5")
    md = render(report, "md").split("### Fix for DL4J\n", 1)[1].split("\n### ", 1)[0]
    assert md.count("\n- [ ] ") == 1 + len(report["fix"]["changes"])  # the import, then each
    assert "- [ ] Import with enforceTrainingConfig=false" in md
    rows = md.split("Not fixable:\n", 1)[1]
    assert rows.count("\n- ") == len(report["fix"]["not_fixable"])
    for path, status in (("keras-2.3.1/no_regularizers.h5", "nothing_to_fix"),
                         ("keras-2.15.0/rnn.h5", "not_importable")):
        other = report_of(path)
        assert other["fix"]["status"] == status
        section = render(other, "md").split("### Fix for DL4J\n", 1)[1].split("\n### ", 1)[0]
        assert section.strip().startswith("No fix: ") and "- [ ]" not in section


def test_cli_writes_the_fix_for_the_release_named(tmp_path: Path) -> None:
    """--importer names the DL4J release the Java is for; 'all' is not one release."""
    path = FIXTURES / "keras-2.3.1" / "l1_l2.h5"
    done = fix_cli(str(path), "--importer", "beta7")
    assert done.returncode == 0, done.stderr
    assert "for Deeplearning4j 1.0.0-beta7." in done.stdout.splitlines()[0]
    assert "1.0.0-M2.1" not in done.stdout
    assert "Deeplearning4j 1.0.0-M2.1." in fix_cli(str(path)).stdout.splitlines()[0]
    refused = fix_cli(str(path), "--importer", "all")
    assert refused.returncode == 4 and "--importer all" in refused.stderr


def test_the_terminal_report_lists_the_fix_as_the_markdown_does() -> None:
    from regaudit.render import render
    from regaudit.render.common import fix_parts

    report = report_of("keras-2.15.0/conv.h5")
    lines = render(report, "text").splitlines()
    (head,) = [n for n, line in enumerate(lines) if line.startswith("Fix for DL4J: ")]
    steps = [line.split(". ", 1)[1] for line in lines[head + 1:] if line[:3].strip().isdigit()]
    message, want_steps, want_rows = fix_parts(report)  # what the Markdown's checklist shows
    assert lines[head].startswith(f"Fix for DL4J: {message} (as Java: regaudit fix conv.h5")
    assert steps == want_steps and len(steps) == 1 + len(report["fix"]["changes"])
    rows = [line.removeprefix("  not fixable: ") for line in lines
            if line.startswith("  not fixable: ")]
    assert rows == want_rows and len(rows) == len(report["fix"]["not_fixable"])
    none = render(report_of("keras-2.15.0/rnn.h5"), "text")
    assert "Fix for DL4J: none: DL4J imports this file in neither mode" in none
