"""The reason-code table (regaudit.codes) against the code that mints the codes and the reports
real files get: nothing minted is missing from it, nothing in it is minted nowhere, and the
outcomes it lists are the ones the audit decides."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from regaudit import rules
from regaudit.audit import audit_path
from regaudit.codes import CODES, NOTES, deciding_code
from regaudit.errors import RegauditError
from regaudit.rulesdoc import anchor

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "regaudit"
FIXTURES = sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*") if p.suffix in (".h5", ".keras"))
CORPUS = ROOT.parent / "shared" / "corpus" / "generated"
CODE_LIKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|IMPORTED")


def minted_codes(path: Path) -> set[str]:
    """Code-like string literals in a module, except those handed to Note(...) (file notes are
    not outcomes and have no rule)."""
    tree = ast.parse(path.read_text())
    in_notes = {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Note"
        for arg in node.args
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CODE_LIKE.fullmatch(node.value)
        and id(node) not in in_notes
    }


def test_every_code_minted_by_rules_and_audit_is_registered_and_no_entry_is_stale() -> None:
    minted = set().union(*(minted_codes(SRC / m) for m in ("rules.py", "layers.py", "audit.py", "training.py")))
    assert {r.code for r in rules.RULES} <= minted
    assert minted - set(CODES) - set(NOTES) == set(), "add them to src/regaudit/codes.py"
    assert set(CODES) - minted == set(), "registered, but minted nowhere"


def test_a_code_registered_twice_is_refused() -> None:
    from regaudit.codes import _index

    entry = next(iter(CODES.values()))
    with pytest.raises(ValueError, match=f"{entry.code} is registered twice"):
        _index((entry, entry))


def test_every_code_has_a_help_text_and_a_section_in_the_rules_doc() -> None:
    doc = (ROOT / "docs" / "import-rules.md").read_text()
    headings = {anchor(h) for h in re.findall(r"^#+ (.+)$", doc, flags=re.MULTILINE)}
    for entry in CODES.values():
        assert entry.description.endswith(".") and len(entry.description) > 30, entry.code
        assert entry.where and entry.outcomes, entry.code
        assert anchor(entry.code) in headings, entry.code


def _reports() -> list[dict]:
    paths = list(FIXTURES)
    if CORPUS.is_dir():
        paths += sorted(p for p in CORPUS.rglob("*") if p.suffix in (".h5", ".keras", ".json"))
    reports = []
    for path in paths:
        try:
            reports.append(audit_path(str(path), display_name=path.name).to_dict())
        except RegauditError:
            continue  # non-model files in the corpus
    return reports


def test_every_emitted_code_is_registered_with_the_outcome_it_decides() -> None:
    seen: set[str] = set()
    for report in _reports():
        blocks = [(f["codes"], f["outcome"]) for f in report["findings"]]
        blocks += [(f["codes_lenient"], f["outcome_lenient"]) for f in report["findings"]]
        if report["training"]:
            t = report["training"]
            blocks += [(t["codes"], t["outcome"]), (t["codes"], t["outcome_lenient"])]
        for codes, outcome in blocks:
            seen.update(codes)
            decided = deciding_code(codes, outcome)
            assert outcome in CODES[decided].outcomes, (report["source"]["file"], codes, outcome)
        for blocker in report["verdict"]["blocking"]:
            seen.add(blocker["code"])
            assert "blocker" in CODES[blocker["code"]].where, blocker
    assert seen - set(CODES) == set()
    assert len(seen) >= 15  # the fixtures reach most codes; the rest are covered statically
