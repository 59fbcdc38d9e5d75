"""How the page starts: from the Python memory snapshot build.py makes, or afresh when that
snapshot cannot be used (missing, damaged, made by another Pyodide build, a bad copy in the
service worker's cache). Either way the page ends up ready and audits files exactly as the CLI
does, and says nothing worse than a warning on the console."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from e2e_support import EXAMPLES, Site, cli
from playwright.sync_api import Browser, Route, expect

SNAPSHOT = "regaudit.snapshot"
# Pyodide writes the id of the build that made a snapshot into bytes 16..47 of its header.
BUILD_ID = slice(16, 48)

# Records the worker's messages (installed before the page's scripts).
RECORD_WORKER = """
window.__worker = [];
const Real = window.Worker;
window.Worker = class extends Real {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (e) => window.__worker.push(e.data));
  }
};
"""


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def requested(site: Site, name: str) -> bool:
    return any(url.rsplit("/", 1)[-1] == name for url in site.requests)


def audits_like_the_cli(site: Site) -> None:
    path = EXAMPLES / "conv.h5"
    site.audit(path)
    assert site.download(path.name, "json") == cli(path)


def test_the_page_starts_from_the_snapshot(site: Site):
    site.context.add_init_script(RECORD_WORKER)
    page = site.open()
    expect(page.locator("html")).to_have_attribute("data-boot", "snapshot")
    assert requested(site, SNAPSHOT)
    # Everything the audit needs was imported when the snapshot was taken: no wheel, no app.py.
    assert not any(url.endswith((".whl", "/app.py")) for url in site.requests)
    audits_like_the_cli(site)
    assert site.errors == []
    # The progress bar moves: one step per part of the boot, each in turn, all done at "ready".
    messages = page.evaluate("window.__worker")
    progress = [m for m in messages if m["type"] == "progress"]
    done = [m["step"] - 1 for m in progress]
    assert done == sorted(done) and done[0] == 0
    assert len(set(done)) >= 4, progress
    assert done[-1] == progress[-1]["steps"]
    assert all(m["text"] for m in progress)
    kinds = [m["type"] for m in messages]
    assert kinds.index("ready") > max(i for i, k in enumerate(kinds) if k == "progress")


def serve_modified(site: Site, name: str, change: Callable[[bytes], bytes | None]) -> None:
    """Serve `name` as `change(real bytes)` makes it (None: a 404)."""

    def handle(route: Route) -> None:
        body = change(route.fetch().body())
        if body is None:
            route.fulfill(status=404, body="not here")
        else:
            route.fulfill(status=200, body=body, content_type="application/octet-stream")

    site.context.route(f"**/{name}", handle)


DAMAGE: dict[str, Callable[[bytes], bytes | None]] = {
    "missing": lambda data: None,
    "truncated": lambda data: data[: len(data) // 2],
    "one byte changed": lambda data: flip(data, len(data) // 2),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_snapshot_that_cannot_be_used_means_a_fresh_start(site: Site, damage: str):
    serve_modified(site, SNAPSHOT, DAMAGE[damage])
    warnings: list[str] = []
    site.page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page = site.open()
    expect(page.locator("html")).to_have_attribute("data-boot", "fresh")
    assert any("snapshot cannot be used" in w for w in warnings), warnings
    audits_like_the_cli(site)
    assert site.errors == []


def test_a_snapshot_from_another_pyodide_build_is_refused_by_pyodide(site: Site):
    """Size and SHA-256 match (build.json is changed with it): only Pyodide's own build-id
    check stands between this snapshot and the interpreter, as after an upgrade that left an
    old snapshot behind."""
    other = flip(site.page.request.get(site.base_url + SNAPSHOT).body(), BUILD_ID.start)
    described = {"bytes": len(other), "sha256": hashlib.sha256(other).hexdigest()}
    serve_modified(site, SNAPSHOT, lambda data: other)
    serve_modified(
        site, "build.json", lambda data: json.dumps({**json.loads(data), "snapshot": described}).encode()
    )
    warnings: list[str] = []
    site.page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page = site.open()
    expect(page.locator("html")).to_have_attribute("data-boot", "fresh")
    assert any("build id mismatch" in w for w in warnings), warnings
    audits_like_the_cli(site)
    assert site.errors == []


def test_a_damaged_snapshot_in_the_offline_cache(browser: Browser, site_url: str):
    """The service worker's copy (Cache Storage) goes bad between two visits: the second visit
    starts afresh from the same cache, and works."""
    site = Site(browser, site_url, service_workers="allow")
    try:
        page = site.open()
        expect(page.locator("html")).to_have_attribute("data-boot", "snapshot")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        damaged = page.evaluate(
            """async (name) => {
                for (const key of await caches.keys()) {
                    const cache = await caches.open(key);
                    const hit = await cache.match(name);
                    if (!hit) continue;
                    const bytes = new Uint8Array(await hit.arrayBuffer());
                    bytes[bytes.length >> 1] ^= 0xff;
                    await cache.put(name, new Response(bytes));
                    return true;
                }
                return false;
            }""",
            SNAPSHOT,
        )
        assert damaged, "the service worker did not cache the snapshot"
        site.context.set_offline(True)  # so the second visit can only use the cache
        page.reload()
        site.wait_ready()
        expect(page.locator("html")).to_have_attribute("data-boot", "fresh")
        audits_like_the_cli(site)
        assert site.errors == []
    finally:
        site.close()
