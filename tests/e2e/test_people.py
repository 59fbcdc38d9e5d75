"""The page as people use it: axe-core finds nothing, the keyboard does everything, phones and
paper show every column and every reason, screen readers hear what matters once.

axe-core comes from node_modules (a pinned devDependency, installed by `build.py test`) and is
evaluated into the page by the test only: dist/ never ships it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import EXAMPLES, FIXTURES, ROOT, Site, cli
from playwright.sync_api import Browser, Page, expect

from regaudit.vocabulary import FORM_MEANINGS, OUTCOME_MEANINGS

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
SCHEMES = ("light", "dark")
# A4 portrait less the style sheet's 12 mm margins, in CSS pixels (96 per inch).
A4_PRINTABLE_PX = round((210 - 2 * 12) / 25.4 * 96)

REPORT_FILES = (
    EXAMPLES / "rnn.h5",  # does not import: a layer DL4J cannot build
    FIXTURES / "keras-2.15.0" / "conv.h5",  # strict error, lenient warned/dropped
    EXAMPLES / "wrappers.keras",  # wrapper badges, a .keras archive
    FIXTURES / "keras-2.3.1" / "l1_l2.h5",  # imports; altered and applied
    EXAMPLES / "l1_l2.weights.h5",  # verdict unknown
)

# Records every non-empty text the live region gets, from before the page's own scripts run.
RECORD_ANNOUNCEMENTS = """
window.__announced = [];
new MutationObserver((records) => {
  for (const r of records) {
    const el = r.target.nodeType === 3 ? r.target.parentNode : r.target;
    if (el && el.id === "announcer" && el.textContent) window.__announced.push(el.textContent);
  }
}).observe(document, { childList: true, subtree: true, characterData: true });
"""


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations (every rule it runs by default, any impact), one line each."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) =>
                `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        }"""
    )


def every_layout(page: Page) -> Iterator[str]:
    """Each width and colour scheme in turn, the legend open; yields a label for messages."""
    page.evaluate("() => { for (const d of document.querySelectorAll('details')) d.open = true; }")
    try:
        for width in WIDTHS:
            for scheme in SCHEMES:
                page.set_viewport_size({"width": width, "height": 900})
                page.emulate_media(color_scheme=scheme)
                yield f"{width} px, {scheme}"
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})
        page.emulate_media(color_scheme="light")
        page.evaluate("() => { for (const d of document.querySelectorAll('details')) d.open = false; }")


def assert_no_violations(page: Page) -> None:
    found = {label: axe_violations(page) for label in every_layout(page)}
    assert found == {label: [] for label in found}


@pytest.fixture(scope="module")
def calm(browser: Browser, site_url: str) -> Iterator[Site]:
    """One booted page with reduced motion (so colours are final when axe measures them)."""
    s = Site(browser, site_url, reduced_motion="reduce")
    s.open()
    yield s
    s.close()


def long_name_config(tmp_path: Path) -> Path:
    """A real JSON config whose layer name is one 300-character word."""
    config = json.loads((EXAMPLES / "l1_l2.json").read_text())
    config["config"]["layers"][1]["config"]["name"] = "x" * 300
    path = tmp_path / "long_name.json"
    path.write_text(json.dumps(config))
    return path


# --- axe-core ------------------------------------------------------------------------------


def test_axe_finds_nothing_on_the_empty_page(calm: Site):
    calm.clear()
    assert_no_violations(calm.page)


def test_axe_finds_nothing_on_a_page_of_reports(calm: Site):
    calm.audit(*REPORT_FILES)
    expect(calm.page.locator("section.file[data-report]")).to_have_count(len(REPORT_FILES))
    assert_no_violations(calm.page)


def test_axe_finds_nothing_on_an_error_report(calm: Site, tmp_path: Path):
    bad = tmp_path / "notes.txt"
    bad.write_text("just some text, not a model\n")
    calm.audit(bad)
    expect(calm.page.locator("section.file[data-error]")).to_have_count(1)
    assert_no_violations(calm.page)


def test_axe_is_not_shipped(calm: Site):
    """The tests bring axe-core themselves; the site neither holds nor loads it."""
    dist = ROOT / "dist"
    assert (dist / "index.html").exists()
    assert not [p for p in dist.rglob("*") if "axe" in p.name.lower()]
    assert not [url for url in calm.requests if "axe" in url.lower()]


def test_axe_finds_nothing_on_the_bundled_import_rules(calm: Site):
    page = calm.context.new_page()
    try:
        page.goto(calm.base_url + "docs/import-rules.html")
        assert_no_violations(page)
    finally:
        page.close()


# --- keyboard ------------------------------------------------------------------------------


def tab_to(page: Page, selector: str, key: str = "Tab", limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{key} x{limit} never reached {selector}")


def test_keyboard_only_pick_report_filter_download_remove(site: Site):
    page = site.open()
    path = FIXTURES / "keras-2.3.1" / "conv.h5"
    tab_to(page, "#file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(path))
    site.wait_done(1)
    section = site.section(path.name)
    expect(section.locator("h2").first).to_be_focused()  # the new report

    tab_to(page, "#filter-outcome", key="Shift+Tab")
    page.keyboard.press("d")  # the one option that starts with d: dropped
    expect(page.locator("#filter-outcome")).to_have_value("dropped")
    dropped = section.locator('tr.finding[data-outcome="dropped"]').count()
    assert dropped
    expect(section.locator("tr.finding:visible")).to_have_count(dropped)
    expect(section.locator("tr.finding-why:visible")).to_have_count(dropped)  # reasons follow

    tab_to(page, 'a[download$=".json"]')
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert Path(download.value.path()).read_bytes() == cli(path)

    tab_to(page, "button.remove")
    page.keyboard.press("Enter")
    expect(page.locator("section.file")).to_have_count(0)
    expect(page.locator("#file")).to_be_focused()  # the next thing to do: pick again
    assert site.errors == []


def test_focus_after_remove_and_clear(calm: Site):
    page = calm.page
    names = [EXAMPLES / "conv.h5", EXAMPLES / "rnn.h5", EXAMPLES / "l1_l2.json"]
    calm.audit(*names)
    calm.section("rnn.h5").locator("button.remove").click()
    expect(calm.section("l1_l2.json").locator("h2").first).to_be_focused()  # the next one
    calm.section("l1_l2.json").locator("button.remove").click()
    expect(calm.section("conv.h5").locator("h2").first).to_be_focused()  # then the one before
    page.locator("#clear").click()
    expect(page.locator("section.file")).to_have_count(0)
    expect(page.locator("#file")).to_be_focused()


def test_the_file_input_is_labelled_and_the_drop_zone_is_not_a_control(calm: Site):
    page = calm.page
    expect(page.locator("#file")).to_have_accessible_name("Choose files…")
    drop = page.locator("#drop")
    assert drop.get_attribute("role") is None and drop.get_attribute("tabindex") is None


# --- reasons, verdicts, legend ---------------------------------------------------------------


def test_reasons_are_visible_without_hover(calm: Site):
    path = FIXTURES / "keras-2.15.0" / "conv.h5"
    calm.audit(path)
    findings = json.loads(cli(path))["findings"]
    section = calm.section(path.name)
    for width in WIDTHS:
        calm.page.set_viewport_size({"width": width, "height": 900})
        whys = section.locator("tr.finding-why")
        expect(whys).to_have_count(len(findings))
        for i, finding in enumerate(findings):
            why = whys.nth(i)
            expect(why).to_be_visible()
            expect(why.locator(".why-strict .why-text")).to_have_text(finding["message"])
            expect(why.locator(".why-lenient .why-text")).to_have_text(finding["message_lenient"])
    calm.page.set_viewport_size({"width": 1280, "height": 720})
    assert section.locator(".outcome[title]").count() == 0


def test_verdicts_say_what_happens_and_what_to_do(calm: Site):
    calm.audit(FIXTURES / "keras-2.15.0" / "conv.h5")
    strict = calm.page.locator('.verdict[data-mode="strict"]')
    lenient = calm.page.locator('.verdict[data-mode="lenient"]')
    expect(strict).to_have_attribute("data-verdict", "blocked")
    expect(strict.locator(".verdict-action")).to_have_text(
        "What to do: import with enforceTrainingConfig=false: lenient mode imports it."
    )
    expect(lenient).to_have_attribute("data-verdict", "lost")
    expect(lenient.locator(".verdict-line")).to_have_text(
        "imports, but 10 of 10 regularizers lost (4 dropped, 6 warned)."
    )


def test_the_legend_explains_every_word_and_links_into_the_bundled_rules(calm: Site):
    page = calm.page
    legend = page.locator("#legend")
    assert legend.get_attribute("open") is None  # closed until asked for
    for outcome in OUTCOME_MEANINGS:
        expect(legend.locator(f"dt .outcome-{outcome}")).to_have_text(outcome)
    badges = legend.locator("dt .form").all_text_contents()
    assert badges == list(FORM_MEANINGS)
    links = legend.locator("a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    assert len(links) == 4
    for href in links:
        path, fragment = href.split("#")
        response = page.request.get(calm.base_url + path)
        assert response.ok, href
        assert f'id="{fragment}"' in response.text(), href


# --- phones and paper ----------------------------------------------------------------------


# Words (runs of non-space) of the matched elements that the layout split over two lines.
SPLIT_WORDS = """(elements) => {
    const split = [];
    for (const el of elements) {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const m of node.data.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                if (tops.size > 1) split.push(m[0]);
            }
        }
    }
    return split;
}"""


def test_headers_break_only_between_words(calm: Site):
    calm.audit(FIXTURES / "keras-2.15.0" / "conv.h5", EXAMPLES / "wrappers.keras")
    headers = calm.page.locator("table.findings th")
    assert headers.count() == 18
    assert headers.evaluate_all(SPLIT_WORDS) == []
    calm.page.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1100})
    calm.page.emulate_media(media="print")
    try:
        assert headers.evaluate_all(SPLIT_WORDS) == []
    finally:
        calm.page.emulate_media(media="screen")
        calm.page.set_viewport_size({"width": 1280, "height": 720})


def fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for table in page.locator("table.findings").all():
        box = table.evaluate("(t) => [t.scrollWidth, t.clientWidth, t.getBoundingClientRect().right]")
        assert box[0] <= box[1] and box[2] <= width, box


def test_the_desktop_table_fits(calm: Site, tmp_path: Path):
    calm.audit(*REPORT_FILES, long_name_config(tmp_path))
    fits(calm.page, 1280)
    assert calm.page.locator("table.findings thead th").first.is_visible()


@pytest.mark.parametrize("width", [360, 390])
def test_phones_get_cards_that_fit(calm: Site, tmp_path: Path, width: int):
    calm.audit(FIXTURES / "keras-2.15.0" / "conv.h5", long_name_config(tmp_path))
    page = calm.page
    try:
        page.set_viewport_size({"width": width, "height": 800})
        fits(page, width)
        cell = page.locator("tr.finding td.finding-class").first
        label = cell.evaluate("(td) => getComputedStyle(td, '::before').content")
        assert label == '"Class"'  # each value says which column it is
        header = page.locator("table.findings thead").first.bounding_box()
        assert header and header["width"] <= 1  # the header row is for screen readers only
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


def test_print_on_a4_shows_every_column_and_reason(calm: Site, tmp_path: Path):
    files = (FIXTURES / "keras-2.15.0" / "conv.h5", EXAMPLES / "rnn.h5", long_name_config(tmp_path))
    calm.audit(*files)
    page = calm.page
    try:
        page.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1100})
        page.emulate_media(media="print")
        shot = tmp_path / "print.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        fits(page, A4_PRINTABLE_PX)
        for th in page.locator("table.findings th").all():
            box = th.bounding_box()
            assert box and box["width"] > 10 and box["x"] + box["width"] <= A4_PRINTABLE_PX
        whys = page.locator("tr.finding-why")
        assert whys.count() > 10
        for why in whys.all():
            expect(why).to_be_visible()
        for hidden in ("#drop", "#filters", ".downloads"):
            expect(page.locator(hidden).first).to_be_hidden()
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1280, "height": 720})


# --- the small things ----------------------------------------------------------------------


def test_order_status_counts_and_announcements(browser: Browser, site_url: str, tmp_path: Path):
    bad = tmp_path / "notes.txt"
    bad.write_text("just some text, not a model\n")
    files = [EXAMPLES / "rnn.h5", bad, EXAMPLES / "conv.h5"]
    site = Site(browser, site_url)
    try:
        site.context.add_init_script(RECORD_ANNOUNCEMENTS)
        page = site.open(wait=False)
        page.set_input_files("input[type=file]", [str(p) for p in files])
        state, status = page.evaluate(
            "[document.documentElement.dataset.state, document.getElementById('status').textContent]"
        )
        assert state == "booting"
        assert status.endswith("3 files waiting.")  # not "Ready"
        site.wait_ready()
        site.wait_done(3)
        names = page.locator("section.file").evaluate_all("(s) => s.map((x) => x.dataset.file)")
        assert names == [p.name for p in files]  # oldest first, as picked
        expect(page.locator("#status")).to_have_text("Ready. 2 reports; 1 file could not be audited.")
        expected = ["3 audits done: 2 reports; could not audit notes.txt."]
        expect(page.locator("#announcer")).to_have_text(expected[0])
        # Boot progress is not announced, nor each file: one line for the batch.
        assert page.evaluate("window.__announced") == expected

        site.audit(bad)  # only an unreadable file: nothing was audited
        expect(page.locator("#status")).to_have_text("Ready. 0 reports; 1 file could not be audited.")
        expect(page.locator("#announcer")).to_contain_text("Audit failed: notes.txt.")
        assert site.errors == []
    finally:
        site.close()


def test_ready_is_announced_once(browser: Browser, site_url: str):
    site = Site(browser, site_url)
    try:
        site.context.add_init_script(RECORD_ANNOUNCEMENTS)
        page = site.open()
        expect(page.locator("#announcer")).to_have_text("regaudit is ready.")
        assert page.evaluate("window.__announced") == ["regaudit is ready."]
        assert re.fullmatch(r"Ready \(started in [\d.]+ s\)\. Drop files, or choose some\.",
                            page.locator("#status").inner_text())
    finally:
        site.close()
