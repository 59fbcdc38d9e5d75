"""The benchmark's browser side: static servers on 127.0.0.1, a real Chromium, in-page timers
and the renderer's memory.

Timings are taken inside the page with `performance.now()` (no polling delay in them):
navigation start (the page's time origin) to `data-state="ready"` on the root, and the file
input's `change` event to the first frame painted after the "done" signal.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request

ROOT = Path(__file__).resolve().parents[1]
# Names other than 127.0.0.1 do not resolve: nothing can leave the machine, and no request
# pays for interception (a Playwright route would add a round trip to every request).
OFFLINE_ARG = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
TIMEOUT_MS = 300_000

# Installed before any page script: records when the root's data-state first becomes "ready".
READY_WATCH = """
(() => {
  const t = (window.__bench = { ready: null });
  new MutationObserver(() => {
    const root = document.documentElement;
    if (t.ready === null && root && root.dataset.state === "ready") t.ready = performance.now();
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-state"] });
})();
"""

# Installed on a ready page before a file is picked: the `change` event (capture phase, so
# before the page's own listener) starts the clock; the first frame after `done` matches stops
# it. Only the attributes `attrs` of `root` (and of its subtree if asked) are observed, so the
# page pays nothing for the rest of its DOM work.
PICK_WATCH = """
([rootSel, subtree, attrs, done, failed]) => {
  const t = (window.__pick = { picked: null, shown: null, painted: null, error: null });
  const pickedAt = () => {
    if (t.picked === null) t.picked = performance.now();
  };
  document.addEventListener("change", pickedAt, true);
  const root = document.querySelector(rootSel);
  const obs = new MutationObserver(() => {
    if (t.shown !== null) return;
    const bad = failed && document.querySelector(failed);
    if (bad) {
      t.error = bad.getAttribute("data-error") || bad.textContent || "error";
      obs.disconnect();
      return;
    }
    if (!document.querySelector(done)) return;
    t.shown = performance.now();
    obs.disconnect();
    requestAnimationFrame(() => setTimeout(() => { t.painted = performance.now(); }, 0));
  });
  obs.observe(root, { attributes: true, attributeFilter: attrs, subtree });
}
"""


def launch(p: Playwright) -> Browser:
    """Debian's Chromium where present, else Playwright's own."""
    import build  # the repo's build.py

    return p.chromium.launch(**build.chromium_launch_options(OFFLINE_ARG))


def chromium_version(browser: Browser) -> str:
    return f"{browser.browser_type.name} {browser.version}"


# --- servers --------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files under `roots` (URL prefix -> directory; longest prefix wins), with the
    product server's headers (build.RESPONSE_HEADERS) when `headers` is set."""

    roots: dict[str, Path] = {}
    # Not `headers`: BaseHTTPRequestHandler keeps the request's headers under that name.
    response_headers: dict[str, str] = {}

    def translate_path(self, path: str) -> str:
        clean = urlparse(path).path
        for prefix in sorted(self.roots, key=len, reverse=True):
            if clean.startswith(prefix):
                self.directory = str(self.roots[prefix])
                return super().translate_path("/" + clean[len(prefix) :])
        return super().translate_path(path)

    def end_headers(self) -> None:
        for name, value in self.response_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a tab closed mid-download: not news


@contextmanager
def serve(roots: dict[str, Path], headers: dict[str, str] | None = None) -> Iterator[str]:
    """Serve `roots` on 127.0.0.1 (any free port) in a thread; yields the base URL."""
    import build  # the repo's build.py: the product's MIME types and headers

    class Handler(_Handler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          **build.MIME_TYPES}

    Handler.roots = dict(roots)
    Handler.response_headers = dict(headers or {})
    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# --- pages ----------------------------------------------------------------------------------


class Tab:
    """A fresh browser context (cold HTTP and code caches) with one page. Requests that try
    to leave 127.0.0.1 (they fail: see OFFLINE_ARG) are recorded in `external`."""

    def __init__(
        self,
        browser: Browser,
        cookies: list[dict] | None = None,
        init_script: str | None = None,
        service_workers: str = "block",
        extra_scripts: tuple[str, ...] | list[str] = (),
    ):
        self.external: list[str] = []
        self.errors: list[str] = []
        self.context: BrowserContext = browser.new_context(service_workers=service_workers)
        if cookies:
            self.context.add_cookies(cookies)
        self.context.on("request", self._request)
        self.context.add_init_script(READY_WATCH)
        for script in (init_script, *extra_scripts):
            if script:
                self.context.add_init_script(script)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _request(self, request: Request) -> None:
        url = request.url
        if urlparse(url).hostname != "127.0.0.1" and not url.startswith(("blob:", "data:")):
            self.external.append(url)

    def wait(self, expression: str, timeout_ms: int = TIMEOUT_MS, every: float = 0.05) -> None:
        """Poll `expression` (a page CSP without 'unsafe-eval' rules out wait_for_function)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while not self.page.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout_ms} ms: {expression}")
            time.sleep(every)

    def boot(self, url: str) -> float:
        """Navigate; ms from navigation start to data-state="ready" (measured in the page)."""
        self.page.goto(url)
        self.wait("window.__bench && window.__bench.ready !== null")
        return float(self.page.evaluate("window.__bench.ready"))

    def pick(
        self,
        path: Path,
        input_selector: str,
        watch: tuple[str, bool, list[str], str, str | None],
        timeout_ms: int = TIMEOUT_MS,
    ) -> dict[str, float]:
        """Pick `path` through the file input. Returns the page's clock (ms since navigation
        start) at `picked` (the input's change event), `shown` (the done signal) and
        `painted` (the first frame after it). Raises RuntimeError with the page's message
        when the file is rejected."""
        self.page.evaluate(PICK_WATCH, list(watch))
        self.page.set_input_files(input_selector, str(path))
        self.wait("window.__pick.painted !== null || window.__pick.error !== null", timeout_ms)
        t = self.page.evaluate("window.__pick")
        if t["error"] is not None:
            raise RuntimeError(f"{path.name}: {t['error']}")
        return {k: float(t[k]) for k in ("picked", "shown", "painted")}

    def close(self) -> None:
        self.context.close()


# --- memory ---------------------------------------------------------------------------------
# A dedicated worker runs in its page's renderer process, so the renderer's resident set is
# the tab's memory: page, worker, Pyodide's and h5wasm's wasm heaps, and the File reads.


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        if children.exists():
            out += [int(c) for c in children.read_text().split()]
    return out


def renderer_pids() -> set[int]:
    """Chromium renderer processes started (indirectly) by this Python process."""
    found, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            kids = _children(pid)
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"--type=renderer" in cmdline:
            found.add(pid)
        todo += kids
    return found


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> None:
    """Reset VmHWM (peak resident set) to the current resident set (Linux ≥ 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def tab_renderer(before: set[int]) -> int:
    """The renderer that appeared since `before` with the largest resident set (our tab's:
    it holds the booted Python runtime)."""
    new = renderer_pids() - before
    if not new:
        raise RuntimeError("no new renderer process found for the tab")
    return max(new, key=lambda pid: status_kib(pid, "VmRSS"))


def settle(seconds: float = 0.3) -> None:
    time.sleep(seconds)
