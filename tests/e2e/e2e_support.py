"""Helpers for the end-to-end tests: the Site driver and the CLI reference output."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT_MS = 90_000
AUDIT_TIMEOUT_MS = 60_000
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "static" / "examples"
CORPUS = ROOT.parent / "shared" / "corpus" / "generated"


# Playwright neither routes a SharedWorker's requests nor reports its console, so the page is
# given a browser without SharedWorker (it then runs Python in a dedicated Worker, as it does in
# browsers that lack one) unless a test asks for the shared worker: test_shared_worker.py.
NO_SHARED_WORKER = "delete window.SharedWorker;"


class Site:
    """One browser context on the site: records console errors and every request that would
    leave 127.0.0.1 (those are aborted)."""

    def __init__(
        self, browser: Browser, base_url: str, shared_worker: bool = False, **context_options: object
    ):
        self.base_url = base_url
        self.errors: list[str] = []
        self.external: list[str] = []
        self.requests: list[str] = []
        options = {"accept_downloads": True, "service_workers": "block", **context_options}
        self.context: BrowserContext = browser.new_context(**options)
        if not shared_worker:
            self.context.add_init_script(NO_SHARED_WORKER)
        self.context.route("**/*", self._route)
        self.page: Page = self.new_page()

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlparse(url).hostname == "127.0.0.1" or url.startswith(("blob:", "data:")):
            self.requests.append(url)
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        # File choosers are intercepted from the start: the subscription that
        # expect_file_chooser makes on its own can lose the race with the key press.
        page.on("filechooser", lambda chooser: None)
        return page

    def open(self, query: str = "", wait: bool = True) -> Page:
        self.page.goto(self.base_url + query)
        if wait:
            self.wait_ready()
        return self.page

    def wait_ready(self) -> None:
        expect(self.page.locator("html")).to_have_attribute(
            "data-state", "ready", timeout=BOOT_TIMEOUT_MS
        )

    def clear(self) -> None:
        clear = self.page.locator("#clear")
        if clear.is_visible():
            clear.click()
        expect(self.page.locator("section.file")).to_have_count(0)

    def audit(self, *paths: Path) -> None:
        """Pick files through the real file input; wait until each has its section done."""
        self.clear()
        self.page.set_input_files("input[type=file]", [str(p) for p in paths])
        self.wait_done(len(paths))

    def wait_done(self, n: int) -> None:
        done = self.page.locator("section.file:is([data-complete], [data-error])")
        expect(done).to_have_count(n, timeout=AUDIT_TIMEOUT_MS)
        expect(self.page.locator("html")).to_have_attribute("data-state", "ready")

    def section(self, name: str) -> Locator:
        return self.page.locator(f'section.file[data-file="{name}"]')

    def download(self, name: str, fmt: str) -> bytes:
        """Click the section's download link; the file's bytes."""
        link = self.section(name).locator(f'a[download$=".{fmt}"]')
        for attempt in range(3):
            try:
                with self.page.expect_download(timeout=3_000) as info:
                    link.click()
                return Path(info.value.path()).read_bytes()
            except PlaywrightTimeoutError:
                # Chromium now and then drops one of many quick downloads; click again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.context.close()


def cli(path: Path, fmt: str = "json") -> bytes:
    """What `regaudit --format FMT FILE` writes to stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "regaudit", "--format", fmt, str(path)],
        capture_output=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr.decode()
    return done.stdout


def cli_in_process(path: Path, fmt: str = "json") -> bytes:
    """The same bytes as cli(), from regaudit.cli.main run in this process (fast for many)."""
    from regaudit.cli import main

    out = io.BytesIO()
    stdout, wrapper = sys.stdout, io.TextIOWrapper(out, encoding="utf-8")
    sys.stdout = wrapper
    try:
        code = main(["--format", fmt, str(path)])
    finally:
        sys.stdout = stdout
        wrapper.flush()
        wrapper.detach()  # keep `out` open
    assert code in (0, 1), f"{path}: exit {code}"
    return out.getvalue()


def cli_error(path: Path) -> str:
    """The CLI's one-line message for a file it cannot audit (without 'regaudit: PATH: ')."""
    done = subprocess.run(
        [sys.executable, "-m", "regaudit", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stdout
    line = done.stderr.strip().splitlines()[-1]
    return line.split(f"{path}: ", 1)[1]
