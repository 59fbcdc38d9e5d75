"""The conformance harness: the comparison's own logic (records made from a real report, then
changed the ways DL4J could differ), and the real importer over every fixture."""

from __future__ import annotations

import copy
import os
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
