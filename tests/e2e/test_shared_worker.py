"""The page's Python in a SharedWorker with `extendedLifetime` (Chromium): a reload, a revisit or
a second tab joins the Python that is already running instead of booting another, and audits
exactly as the CLI does. Playwright neither routes a shared worker's requests nor reports its
console, so these tests read the server's own log, and the page's console (where the worker
sends its warnings). Every other e2e test runs the page without SharedWorker (e2e_support)."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from e2e_support import AUDIT_TIMEOUT_MS, BOOT_TIMEOUT_MS, EXAMPLES, ROOT, Site, cli
from playwright.sync_api import Browser, Page, expect
from test_boot import damaged_site, flip_middle_byte
from test_boundary import cancel_while_auditing, slow_file

sys.path.insert(0, str(ROOT))
import build  # noqa: E402  (the repo's build.py)

SNAPSHOT = "regaudit.snapshot"


@contextmanager
def logged_site(root: Path = build.DIST) -> Iterator[tuple[str, list[str]]]:
    """`root` served on a port of its own; yields its URL and the paths it was asked for."""
    server = build.make_server(0, root)
    paths: list[str] = []

    class Logged(server.RequestHandlerClass):  # type: ignore[misc, name-defined]
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            paths.append(self.path.split("?")[0].rsplit("/", 1)[-1])
            super().log_request(code, size)

    server.RequestHandlerClass = Logged
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", paths
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def shared() -> Iterator[tuple[str, list[str]]]:
    build.ensure_built()
    with logged_site() as served:
        yield served


def audits_like_the_cli(site: Site, page: Page, path: Path) -> None:
    site.page = page
    site.audit(path)
    assert site.download(path.name, "json") == cli(path)


@contextmanager
def booted(browser: Browser, url: str) -> Iterator[Site]:
    """A context whose first page started the shared worker, from the snapshot."""
    site = Site(browser, url, shared_worker=True)
    try:
        expect(site.open().locator("html")).to_have_attribute("data-boot", "snapshot")
        yield site
        assert site.errors == [] and site.external == []
    finally:
        site.close()


def test_a_reload_joins_the_running_python(browser: Browser, shared: tuple[str, list[str]]):
    url, paths = shared
    with booted(browser, url) as site:
        page = site.page
        assert SNAPSHOT in paths and "pyodide.asm.wasm" in paths
        audits_like_the_cli(site, page, EXAMPLES / "conv.h5")
        paths.clear()
        page.reload()
        site.wait_ready()
        html = page.locator("html")
        expect(html).to_have_attribute("data-boot", "running")
        expect(page.locator("#status")).to_contain_text("Python was already running")
        audits_like_the_cli(site, page, EXAMPLES / "rnn.h5")
        # The reload fetched the page, not Python again.
        assert "index.html" in paths or "" in paths
        assert not {SNAPSHOT, "pyodide.asm.wasm", "pyodide.asm.js"} & set(paths), paths


def test_two_tabs_share_one_python(browser: Browser, shared: tuple[str, list[str]]):
    url, paths = shared
    with booted(browser, url) as site:
        first = site.page
        second = site.new_page()
        second.goto(url)
        expect(second.locator("html")).to_have_attribute("data-boot", "running",
                                                         timeout=BOOT_TIMEOUT_MS)
        assert paths.count(SNAPSHOT) == 1
        # Both pick at once: the one Python audits them in turn, each page gets its own.
        first.set_input_files("input[type=file]", [str(EXAMPLES / "conv.h5")])
        second.set_input_files("input[type=file]", [str(EXAMPLES / "rnn.h5")])
        for page, name in ((first, "conv.h5"), (second, "rnn.h5")):
            section = page.locator(f'section.file[data-file="{name}"]')
            expect(section).to_have_attribute("data-report", "", timeout=AUDIT_TIMEOUT_MS)
            expect(page.locator("section.file")).to_have_count(1)
            site.page = page
            assert site.download(name, "json") == cli(EXAMPLES / name)


def test_cancel_leaves_the_shared_python_for_a_worker_of_its_own(
    browser: Browser, shared: tuple[str, list[str]], tmp_path: Path
):
    url, _ = shared
    site = Site(browser, url, shared_worker=True)
    try:
        page = site.open()
        slow = slow_file(tmp_path)
        page.set_input_files("input[type=file]", [str(slow)])
        cancel_while_auditing(site, slow.name)
        # The page's own worker boots (afresh from the snapshot) and takes the next file.
        site.wait_ready()
        expect(page.locator("html")).to_have_attribute("data-boot", "snapshot")
        audits_like_the_cli(site, page, EXAMPLES / "conv.h5")
        assert site.errors == [] and site.external == []
    finally:
        site.close()


def test_the_shared_worker_warns_the_page(browser: Browser, tmp_path: Path):
    """A damaged snapshot: the shared worker starts afresh and says why on the page's console."""
    build.ensure_built()
    with damaged_site(tmp_path, flip_middle_byte) as url:
        site = Site(browser, url, shared_worker=True)
        warnings: list[str] = []
        site.page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
        try:
            page = site.open()
            expect(page.locator("html")).to_have_attribute("data-boot", "fresh")
            assert any("SHA-256" in w and "starting Python afresh" in w for w in warnings), warnings
            audits_like_the_cli(site, page, EXAMPLES / "conv.h5")
            assert site.errors == []
        finally:
            site.close()


def test_a_new_build_does_not_join_the_old_worker():
    """The page names its shared worker after a digest of what the worker runs."""
    page = (build.DIST / "index.html").read_text()
    assert '<meta name="regaudit-build" content="{{BUILD}}">' in (ROOT / "index.html").read_text()
    assert f'<meta name="regaudit-build" content="{build.build_id(build.DIST)}">' in page


def test_a_page_that_leaves_drops_its_waiting_files(
    browser: Browser, shared: tuple[str, list[str]], tmp_path: Path
):
    """Files still waiting when their page unloads are not audited for nobody: the reloaded
    page's file comes after the one being audited, not after every file queued before."""
    url, _ = shared
    slow = slow_file(tmp_path)
    queued = [slow]
    for i in range(7):  # hard links: eight slow files, one file's space
        link = tmp_path / f"slow-{i}.h5"
        os.link(slow, link)
        queued.append(link)
    with booted(browser, url) as site:
        page = site.page
        start = time.monotonic()
        site.audit(slow)
        one = time.monotonic() - start  # one slow file, alone
        site.clear()
        page.set_input_files("input[type=file]", [str(p) for p in queued])
        expect(site.section(slow.name).locator("button.cancel")).to_be_visible(
            timeout=AUDIT_TIMEOUT_MS)
        page.reload()
        site.wait_ready()
        start = time.monotonic()
        site.audit(EXAMPLES / "conv.h5")
        waited = time.monotonic() - start
        # Without the leave, conv.h5 would wait for the seven slow files queued behind the first
        # (measured: 1.9 s for one, 9.5 s for conv.h5 then; with it, 1.4 s).
        assert waited < 1.5 * one + 2, (waited, one)
