"""End-to-end fixtures: dist/ served on 127.0.0.1, a real Chromium driven by Playwright.

Every test in this folder is marked `browser`. The browser is Debian's /usr/bin/chromium where
present, else Playwright's own (`python build.py test` makes sure one of them is there).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from e2e_support import ROOT, Site
from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(ROOT))
import build  # noqa: E402  (the repo's build.py: builds and serves dist/)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything that drives the browser is marked `browser` (deselect: -m "not browser")."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def site_url() -> Iterator[str]:
    build.ensure_built()
    server = build.make_server(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(**build.chromium_launch_options())
        yield b
        b.close()


@pytest.fixture
def site(browser: Browser, site_url: str) -> Iterator[Site]:
    s = Site(browser, site_url)
    yield s
    s.close()
