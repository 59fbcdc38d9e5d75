"""Issue 4 in the browser: the whole hostile corpus, one file after another, in one page.

Each broken file gets the CLI's own message in an error section; each still-usable file gets a
report whose JSON download is the CLI's byte for byte; nothing from a file ever runs; the page
then audits a good file correctly.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import EXAMPLES, ROOT, Site, cli, cli_error
from playwright.sync_api import Browser, expect

sys.path.insert(0, str(ROOT / "tests" / "bad_inputs"))
import make_bad_inputs  # noqa: E402

CASES = json.loads((ROOT / "tests" / "bad_inputs" / "MANIFEST.json").read_text())["cases"]

# Watches the document for any element added outside #reports, and for script execution
# through alert (the XSS payloads call alert(1)). Installed before the page's own scripts.
WATCH = """
window.__outside = [];
window.alert = () => { document.documentElement.dataset.pwned = "1"; };
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) {
    if (n.nodeType === 1 && !(n.closest && n.closest("#reports"))) window.__outside.push(n.outerHTML.slice(0, 200));
  }
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bad_inputs")
    make_bad_inputs.make_all(out)
    return out


@pytest.fixture(scope="module")
def page_site(browser: Browser, site_url: str) -> Iterator[Site]:
    s = Site(browser, site_url)
    s.context.add_init_script(WATCH)
    s.dialogs = []
    s.page.on("dialog", lambda d: (s.dialogs.append(d.message), d.dismiss()))
    s.open()
    s.page.evaluate("window.__outside = []")  # the page's own start-up nodes are not a finding
    yield s
    s.close()


def test_whole_bad_corpus_one_after_another(page_site: Site, bad_dir: Path) -> None:
    for case in CASES:
        path = bad_dir / case["file"]
        page_site.audit(path)
        section = page_site.section(path.name)
        kind, text = case["expect"].split(": ", 1)
        if kind == "error":
            expect(section).to_have_attribute("data-error", cli_error(path))
            assert text in section.get_attribute("data-error")
            expect(section).not_to_have_attribute("data-report", "")
        else:
            expect(section).to_have_attribute("data-report", "")
            assert page_site.download(path.name, "json") == cli(path), case["file"]
    # ...and the page still works for a real model.
    good = EXAMPLES / "rnn.h5"
    page_site.audit(good)
    assert page_site.download(good.name, "json") == cli(good)
    assert page_site.errors == []
    assert page_site.external == []


def test_nothing_from_a_file_ran_or_escaped_the_report(page_site: Site, bad_dir: Path) -> None:
    names = [c["file"] for c in CASES if c["file"].startswith("name_")]
    page_site.audit(*(bad_dir / n for n in names))
    page = page_site.page
    expect(page.locator("section.file[data-report]")).to_have_count(len(names))
    assert page.evaluate("document.documentElement.dataset.pwned") is None
    assert page_site.dialogs == []
    assert page.locator("#reports img, #reports script, #reports iframe").count() == 0
    assert page.evaluate("window.__outside") == []
    # The names are shown as text, exactly as written in the file.
    expect(page_site.section("name_img.h5")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page_site.section("name_script.h5")).to_contain_text('"><script>alert(1)</script>')


def test_served_csp_allows_only_wasm_eval(page_site: Site) -> None:
    response = page_site.page.request.get(page_site.base_url)
    csp = response.headers.get("content-security-policy", "")
    assert "'wasm-unsafe-eval'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    for directive in ("default-src 'self'", "connect-src 'self'"):
        assert directive in csp


def test_a_file_that_crashes_hdf5_natively_leaves_the_page_working(
    page_site: Site, tmp_path: Path
) -> None:
    """adamw_compiled.h5 with byte 1897 inverted segfaults the HDF5 in h5py (the CLI contains
    that in a child process: tests/test_cli.py). In the page HDF5 runs as wasm: the file gets a
    report or a one-line error section, never a stack trace, and the next file is audited."""
    data = bytearray((ROOT / "tests" / "fixtures" / "keras-2.15.0" / "adamw_compiled.h5").read_bytes())
    data[1897] ^= 0xFF
    flipped = tmp_path / "flipped.h5"
    flipped.write_bytes(bytes(data))
    good = EXAMPLES / "rnn.h5"
    page_site.audit(flipped, good)
    section = page_site.section(flipped.name)
    error = section.get_attribute("data-error")
    if error is not None:
        assert error.strip() and "\n" not in error and "Traceback" not in error
    assert page_site.download(good.name, "json") == cli(good)
    assert page_site.errors == []
