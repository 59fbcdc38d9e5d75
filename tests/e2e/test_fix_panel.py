"""The "Fix for DL4J" panel: the Java the page copies and downloads is what `regaudit fix` writes,
the steps and the rows it cannot fix are shown beside it, and a file with nothing to fix says
why instead."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import EXAMPLES, FIXTURES, Site, cli
from playwright.sync_api import Browser, expect

from regaudit.fix import row_text

CONV = FIXTURES / "keras-2.15.0" / "conv.h5"  # imports leniently; 3 rows not fixable


def cli_fix(path: Path, tmp_path: Path) -> bytes:
    """What `regaudit fix FILE -o FILE.Fix.java` writes: the page's download name."""
    out = tmp_path / f"{path.name}.Fix.java"
    done = subprocess.run([sys.executable, "-m", "regaudit", "fix", str(path), "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.fixture(scope="module")
def clip(browser: Browser, site_url: str) -> Iterator[Site]:
    """A page allowed to use the clipboard (a person's click grants it; a test must)."""
    s = Site(browser, site_url, permissions=["clipboard-read", "clipboard-write"])
    s.open()
    yield s
    s.close()


def test_copy_and_download_give_the_java_regaudit_fix_writes(clip: Site, tmp_path: Path):
    clip.audit(CONV)
    panel = clip.section(CONV.name).locator("section.report-fix")
    expect(panel).to_have_attribute("data-fix-status", "fix")
    expected = cli_fix(CONV, tmp_path)
    assert clip.download(CONV.name, "java") == expected
    assert clip.section(CONV.name).locator('a[download$=".java"]').get_attribute(
        "download") == "conv.h5.Fix.java"

    copy = panel.locator("button.fix-copy")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert clip.page.evaluate("navigator.clipboard.readText()") == expected.decode()

    panel.locator("details.fix-java summary").click()
    expect(panel.locator("pre.fix-code")).to_be_visible()
    assert panel.locator("pre.fix-code").text_content() == expected.decode()
    assert clip.errors == []


def test_the_steps_and_the_rows_it_cannot_fix_are_beside_the_java(clip: Site):
    clip.audit(CONV)
    report = json.loads(cli(CONV))
    panel = clip.section(CONV.name).locator("section.report-fix")
    steps = panel.locator("ol.fix-steps li")
    expect(steps).to_have_count(1 + len(report["fix"]["changes"]))  # the import, then each setting
    expect(steps.first).to_contain_text("enforceTrainingConfig=false")
    rows = panel.locator(".fix-not-fixable li.fix-row")
    expect(rows).to_have_text([row_text(r) for r in report["fix"]["not_fixable"]])
    # Beside the Java on a desktop, under it on a phone; never wider than the page.
    beside = panel.locator(".fix-not-fixable")
    main, aside = panel.locator(".fix-main").bounding_box(), beside.bounding_box()
    assert main and aside and aside["x"] >= main["x"] + main["width"]
    page = clip.page
    try:
        page.set_viewport_size({"width": 390, "height": 800})
        panel.locator("details.fix-java").evaluate("(d) => { d.open = true; }")
        main, aside = panel.locator(".fix-main").bounding_box(), beside.bounding_box()
        assert main and aside and aside["y"] >= main["y"] + main["height"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


def test_without_a_clipboard_the_java_is_selected_for_ctrl_c(site: Site, tmp_path: Path):
    site.context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    site.open()
    site.audit(CONV)
    panel = site.section(CONV.name).locator("section.report-fix")
    copy = panel.locator("button.fix-copy")
    copy.click()
    expect(copy).to_have_text("Selected: press Ctrl+C")
    expect(panel.locator("pre.fix-code")).to_be_visible()
    selected = site.page.evaluate("getSelection().toString()")
    assert selected == cli_fix(CONV, tmp_path).decode().rstrip("\n")  # bar the final newline


def test_a_file_with_nothing_to_fix_says_why_and_offers_no_java(clip: Site):
    rnn = EXAMPLES / "rnn.h5"  # a GRU: DL4J imports it in neither mode
    weights = EXAMPLES / "l1_l2.weights.h5"
    clip.audit(rnn, weights)
    for path, status in ((rnn, "not_importable"), (weights, "no_configuration")):
        section = clip.section(path.name)
        panel = section.locator("section.report-fix")
        expect(panel).to_have_attribute("data-fix-status", status)
        expect(panel.locator(".report-empty")).to_have_text(
            f"No fix: {json.loads(cli(path))['fix']['message']}.")
        expect(section.locator("button.fix-copy")).to_have_count(0)
        expect(section.locator('a[download$=".java"]')).to_have_count(0)
