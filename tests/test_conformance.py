"""The conformance harness: the comparison's own logic (records made from a real report, then
changed the ways DL4J could differ), and the real importer over every fixture."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import compare
from regaudit.audit import audit_path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def report_of(name: str) -> dict:
    return audit_path(str(FIXTURES / name)).to_dict()


def agreeing_records(report: dict) -> dict[str, dict]:
    """What DL4J would answer if regaudit were right: built from the report, per mode."""
    records = {}
    for mode in compare.MODES:
        if report["verdict"][f"importable_{mode}"] is False:
            blocker = next(b for b in report["verdict"]["blocking"] if mode in b["modes"])
            cls, message = blocker["importer_error"].split(": ", 1)
            records[mode] = {"ok": False, "warnings": [],
                             "exception": {"class": f"org.x.{cls}", "message": message}}
            continue
        expected = compare.expected_regularization(report["findings"], mode)
        layers, key = {}, f"dl4j_{mode}"
        for f in report["findings"]:
            top = f["layer_path"][0]
            entry = layers.setdefault(top, {"name": top, "class": "DenseLayer", "weights": [],
                                            "biases": [], "updater": {"class": "Sgd"},
                                            "params": {}, "score": 0.0})
            entry["score"] += (f.get("penalty") or {}).get(key) or 0.0
        for (top, kind), regs in expected.items():
            layers[top][kind] = [{"class": c, "coefficient": v} for c, v in regs]
            layers[top]["params"][kind] = {"count": 10, "regularization": layers[top][kind]}
        warnings = [w for f in report["findings"] for w in f["importer_warnings"]]
        records[mode] = {"ok": True, "layers": list(layers.values()),
                         "score": sum(e["score"] for e in layers.values()),
                         "warnings": warnings if mode == "lenient" else []}
    return records


def test_a_record_built_from_the_report_agrees() -> None:
    report = report_of("keras-2.3.1/l1_l2.h5")
    result = compare.compare(report, agreeing_records(report))
    assert result.agrees, [d.line() for d in result.disagreements]
    assert result.findings.total == len(report["findings"]) > 0


def test_a_coefficient_dl4j_holds_differently_is_a_disagreement() -> None:
    report = report_of("keras-2.3.1/l1_l2.h5")
    records = agreeing_records(report)
    layer = next(e for e in records["strict"]["layers"] if e["weights"])
    layer["weights"][0]["coefficient"] *= 2
    result = compare.compare(report, records)
    assert [d.what for d in result.disagreements] == ["weights regularization"]
    assert result.findings.agree < result.findings.total


def test_a_regularization_no_finding_predicts_is_a_disagreement() -> None:
    report = report_of("keras-2.3.1/l1_l2.h5")
    records = agreeing_records(report)
    records["lenient"]["layers"][0]["biases"] = [{"class": "L2Regularization",
                                                  "coefficient": 0.5}]
    assert [d.what for d in compare.compare(report, records).disagreements] == [
        "biases regularization"]


def test_the_verdict_and_the_reason_are_compared() -> None:
    report = report_of("keras-2.3.1/rnn.h5")  # GRU: not importable in either mode
    records = {m: {"ok": False, "warnings": [], "exception": {
        "class": "org.x.UnsupportedKerasConfigurationException",
        "message": "Unsupported keras layer type GRU. Please file an issue"}} for m in compare.MODES}
    assert compare.compare(report, records).agrees
    records["strict"]["exception"]["message"] = "something else"
    assert [d.what for d in compare.compare(report, records).disagreements] == [
        "reason the import fails"]
    records["strict"] = {"ok": True, "layers": [], "score": 0.0, "warnings": []}
    assert "verdict" in [d.what for d in compare.compare(report, records).disagreements]


def test_warnings_are_matched_both_ways() -> None:
    report = report_of("keras-2.15.0/dense_kernel_bias_activity.h5")
    records = agreeing_records(report)
    assert records["lenient"]["warnings"], "the fixture's NEW-form regularizers warn"
    assert compare.compare(report, records).agrees
    missing = copy.deepcopy(records)
    missing["lenient"]["warnings"].pop()
    assert any(d.what.endswith("warning") for d in compare.compare(report, missing).disagreements)
    extra = copy.deepcopy(records)
    extra["lenient"]["warnings"].append("Ignoring unknown regularization field shared_object_id")
    assert [d.what for d in compare.compare(report, extra).disagreements] == ["warning"]


def test_scores_agree_within_float32_rounding_and_not_beyond() -> None:
    report = report_of("keras-2.3.1/l1_l2.h5")
    records = agreeing_records(report)
    layer = next(e for e in records["strict"]["layers"] if e["score"] > 0)
    layer["score"] *= 1 + 5e-7
    records["strict"]["score"] = sum(e["score"] for e in records["strict"]["layers"])
    assert compare.compare(report, records).agrees
    layer["score"] *= 1.01
    assert "score" in [d.what for d in compare.compare(report, records).disagreements]


def test_a_hang_agrees_only_where_regaudit_warns_of_it() -> None:
    report = report_of("keras-2.3.1/wrappers.h5")  # a Bidirectional LSTM, orthogonal init
    assert any(n["code"] == compare.ORTHOGONAL_HANG for n in report["notes"])
    hung = {"ok": False, "timed_out": True, "warnings": [],
            "exception": {"class": "JVM", "message": "the import took longer than 60 s"}}
    records = agreeing_records(report)
    records["lenient"] = hung
    assert compare.compare(report, records).agrees
    plain = report_of("keras-2.3.1/l1_l2.h5")
    records = agreeing_records(plain)
    records["lenient"] = hung
    assert not compare.compare(plain, records).agrees


@pytest.mark.skipif(not (shutil.which("mvn") and shutil.which("java")),
                    reason="the harness needs Java 17 and Maven")
def test_the_real_importer_agrees_on_every_fixture(tmp_path: Path) -> None:
    """DL4J 1.0.0-M2.1 itself, over tests/fixtures (the first run downloads ~160 MB of jars)."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", str(FIXTURES), "--records",
         str(tmp_path / "records.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    files = int(summary.split(" files agree")[0].rsplit(" ", 1)[-1].split("/")[1])
    assert f"{files}/{files} files agree" in summary and files > 60
    assert (tmp_path / "records.json").stat().st_size > 0


# --- --fix: the fixes regaudit writes, applied by the real importer ---------------------------


def fixed_record(report: dict) -> dict:
    """What the harness would record if the fix did what its plan says: each layer it sets
    holds the plan's values, and scores Keras's penalty of the rows it fixed."""
    layers: dict[str, dict] = {}
    for change in report["fix"]["changes"]:
        entry = layers.setdefault(change["layer"], {"name": change["layer"], "weights": [],
                                                    "biases": [], "params": {}, "score": 0.0})
        entry[change["kind"]] = [{"class": r["class"], "coefficient": r["coefficient"]}
                                 for r in change["regularization"]]
        entry["params"][change["kind"]] = {"count": 10, "regularization": entry[change["kind"]]}
    for i in report["fix"]["fixed"]:
        layers[report["findings"][i]["layer_path"][0]]["score"] += \
            report["findings"][i]["penalty"]["keras"]
    fixed = {"ok": True, "layers": list(layers.values()),
             "score": sum(e["score"] for e in layers.values())}
    return {"ok": True, "layers": [], "score": 0.0, "warnings": [], "fixed": fixed}


def fix_result(name: str) -> tuple:
    from conformance.fix import FixResult

    report = report_of(name)
    return FixResult(name, name, report["fix"], report, "F"), fixed_record(report)


def test_a_fix_that_does_what_its_plan_says_has_no_miss() -> None:
    from conformance.fix import check

    result, record = fix_result("keras-2.15.0/conv.h5")
    check(result, record)
    assert result.misses == [] and result.rows_not_expressible == 3


def test_a_fix_dl4j_holds_otherwise_or_scores_otherwise_is_a_miss() -> None:
    from conformance.fix import check

    result, record = fix_result("keras-2.15.0/conv.h5")
    layer = next(e for e in record["fixed"]["layers"] if e["weights"])
    layer["weights"][0]["coefficient"] /= 2  # the import's halved L2, left in place
    check(result, record)
    assert [m for m in result.misses if "the plan sets" in m]

    result, record = fix_result("keras-2.15.0/conv.h5")
    layer = next(e for e in record["fixed"]["layers"] if e["score"])
    layer["score"] *= 1.01
    record["fixed"]["score"] *= 1.01
    check(result, record)
    assert {m.split(":")[0] for m in result.misses} >= {layer["name"], "total score after the fix"}


def test_a_fix_that_throws_or_an_import_that_fails_is_a_miss_and_a_warned_hang_is_not() -> None:
    from conformance.fix import check

    result, record = fix_result("keras-2.15.0/conv.h5")
    record["fixed"] = {"ok": False, "exception": {
        "class": "java.lang.IllegalStateException",
        "message": 'regaudit fix: the network has no layer named "conv2d_reg"'}}
    check(result, record)
    assert result.misses == ["the fix threw java.lang.IllegalStateException: regaudit fix: the "
                             'network has no layer named "conv2d_reg"']
    result, _ = fix_result("keras-2.3.1/wrappers.h5")  # LSTM with an orthogonal initializer
    check(result, {"ok": False, "timed_out": True, "exception": {"class": "JVM"}})
    assert result.hazard and result.misses == []
    result, _ = fix_result("keras-2.15.0/conv.h5")
    check(result, {"ok": False, "timed_out": True, "exception": {"class": "JVM", "message": "x"}})
    assert not result.hazard and result.misses


@pytest.mark.skipif(not (shutil.which("mvn") and shutil.which("java") and shutil.which("javac")),
                    reason="the harness needs Java 17 and Maven")
def test_every_fixture_s_fix_reproduces_the_keras_penalty_in_dl4j() -> None:
    """`python -m conformance --fix tests/fixtures`: each fix compiled, applied by DL4J
    1.0.0-M2.1 to the network it imported, and scored; and the one gradient step."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "--fix", str(FIXTURES)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-2].startswith("fix: settings made after the import are honoured in training")
    m = re.match(r"fix: (\d+)/(\d+) files reproduce the Keras penalty \((\d+) rows not "
                 r"expressible\)", lines[-1])
    assert m and m[1] == m[2] and int(m[2]) >= 15 and int(m[3]) > 0, lines[-1]
