"""Every real file: the audit finds exactly the regularizers the corpus MANIFEST lists.

The fixtures (tests/fixtures, copied from shared/corpus/generated) always run; the whole
shared corpus, `wild/` included, runs when ../shared/corpus is beside the project.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from manifest import manifest_rows, report_rows

from regaudit.audit import audit_path
from regaudit.report import OUTCOMES

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _entries(root: Path) -> list[tuple[Path, dict]]:
    manifest = root / "MANIFEST.json"
    if not manifest.exists():
        return []
    return [(root / e["path"], e) for e in json.loads(manifest.read_text())["files"]]


def _check(path: Path, entry: dict) -> None:
    report = audit_path(str(path)).to_dict()
    assert report["schema"] == "regaudit/1"
    assert report["source"]["format"] == entry["format"]
    assert report["source"]["keras_version"] == entry["keras_version"]
    if entry["regularizers"] is None:  # weights-only: unknown, not none
        assert report["findings"] == []
        assert report["verdict"]["importable_strict"] is None
        assert any(n["code"] == "WEIGHTS_ONLY" for n in report["notes"])
        return
    assert report_rows(report) == manifest_rows(entry)
    for f in report["findings"]:
        assert f["outcome"] in OUTCOMES and f["outcome_lenient"] in OUTCOMES
    optimizer = entry.get("optimizer") or {}
    if optimizer.get("weight_decay"):
        assert report["training"]["weight_decay"] == pytest.approx(optimizer["weight_decay"])


FIXTURE_ENTRIES = _entries(FIXTURES)


@pytest.mark.parametrize(("path", "entry"), FIXTURE_ENTRIES, ids=[e["path"] for _, e in FIXTURE_ENTRIES])
def test_fixture_matches_manifest(path: Path, entry: dict) -> None:
    _check(path, entry)


def test_fixtures_present() -> None:
    assert len(FIXTURE_ENTRIES) >= 60


@pytest.mark.corpus
def test_shared_corpus_matches_manifest() -> None:
    entries = _entries(SHARED_CORPUS)
    if not entries:
        pytest.skip("../shared/corpus is not beside the project")
    failures = []
    for path, entry in entries:
        if not path.exists():
            continue  # wild/ may be absent on some machines
        try:
            _check(path, entry)
        except AssertionError as e:
            failures.append(f"{entry['path']}: {str(e)[:300]}")
    assert not failures, "\n".join(failures)
