"""app.py, the page's Python, in CPython: the table first (`audit`), then the rest (`finish`).
Put together, the two are the whole report: the HTML the renderer makes of the report with
every release's verdict, and downloads byte-identical to the CLI's output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import app  # noqa: E402  (the page's entry point, at the repo's root)
from regaudit.audit import audit_path  # noqa: E402
from regaudit.importers import profile_named  # noqa: E402
from regaudit.render.html import render_html  # noqa: E402
from regaudit.render.java import page_java  # noqa: E402

EXAMPLES = ROOT / "static" / "examples"
# file, DL4J release
CASES = [("conv.h5", "dl4j-1.0.0-M2.1"), ("rnn.h5", "dl4j-1.0.0-beta7"),
         ("wrappers.keras", "dl4j-1.0.0-M2.1"), ("l1_l2.json", "dl4j-1.0.0-M1.1")]


@pytest.mark.parametrize(("name", "release"), CASES)
def test_the_table_and_the_rest_make_the_whole_report(name: str, release: str) -> None:
    path = str(EXAMPLES / name)
    first = app.audit(path, name, release)
    assert first["ok"] and first["importer"] == release
    assert 'class="report-releases"' not in first["html"]
    assert 'class="report-fix"' not in first["html"]
    rest = app.finish()
    assert rest["releases"].startswith('<p class="report-releases">Imports in: ')
    full = audit_path(path, display_name=name, profile=profile_named(release), releases=True)
    report = full.to_dict()
    java = page_java({k: v for k, v in report.items() if k != "releases"})
    assert rest["java"] == java
    # The page puts the line at the end of the header and the fix at the end of the report.
    head, tail = first["html"].split("</header>", 1)
    body, end = tail.rsplit("</section>", 1)
    whole = f"{head}{rest['releases']}\n</header>{body}{rest['fix']}\n</section>{end}"
    assert whole == render_html(report, java)
    for fmt in ("json", "csv", "md"):
        cli = subprocess.run(
            [sys.executable, "-m", "regaudit", "--importer", release, "--format", fmt, path],
            capture_output=True, cwd=ROOT,
        )
        assert rest[fmt].encode() == cli.stdout, fmt


def test_finish_needs_a_report() -> None:
    bad = app.audit(str(EXAMPLES / "nothing-here.h5"), "nothing-here.h5")
    assert bad["ok"] is False and bad["error"]
    with pytest.raises(RuntimeError, match="without a successful audit"):
        app.finish()


def test_finish_completes_one_audit_once() -> None:
    assert app.audit(str(EXAMPLES / "conv.h5"), "conv.h5")["ok"]
    app.finish()
    with pytest.raises(RuntimeError):
        app.finish()
