"""How the page starts: from the Python memory snapshot build.py makes, or afresh when that
snapshot cannot be used (missing, damaged, made by another Pyodide build, a bad copy in the
service worker's cache). Either way the page ends up ready and audits files exactly as the CLI
does, and says nothing worse than a warning on the console."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pytest
from e2e_support import EXAMPLES, ROOT, Site, cli
from playwright.sync_api import Browser, expect

sys.path.insert(0, str(ROOT))
import build  # noqa: E402  (the repo's build.py: dist/ is what the tests serve)

SNAPSHOT = "regaudit.snapshot"
# Pyodide writes the id of the build that made a snapshot into bytes 16..47 of its header (of
# the memory: build.py stores it packed, see build.pack_snapshot).
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


# A copy of dist/ (links to its files) with the snapshot damaged, on a server of its own: the
# bytes never pass through this process (31 MB held here would stay in its resident set, and
# every process it starts afterwards inherits that peak: test_bad_inputs measures peaks).
@contextmanager
def damaged_site(tmp: Path, change: Callable[[BinaryIO], None] | None) -> Iterator[str]:
    """dist/ with SNAPSHOT changed by `change` (None: no snapshot at all); yields its URL."""
    root = tmp / "site"
    root.mkdir()
    for entry in build.DIST.iterdir():
        if entry.name != SNAPSHOT:
            (root / entry.name).symlink_to(entry)
    if change is not None:
        shutil.copyfile(build.DIST / SNAPSHOT, root / SNAPSHOT)
        with (root / SNAPSHOT).open("r+b") as f:
            change(f)
    server = build.make_server(0, root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def flip_middle_byte(f: BinaryIO) -> None:
    where = f.seek(0, 2) // 2
    f.seek(where)
    byte = f.read(1)[0]
    f.seek(where)
    f.write(bytes([byte ^ 0xFF]))


def starts_afresh(site: Site, why: str) -> None:
    warnings: list[str] = []
    site.page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page = site.open()
    expect(page.locator("html")).to_have_attribute("data-boot", "fresh")
    assert any(why in w for w in warnings), warnings
    audits_like_the_cli(site)
    assert site.errors == []


DAMAGE: dict[str, Callable[[BinaryIO], None] | None] = {
    "missing": None,
    "truncated": lambda f: f.truncate(f.seek(0, 2) // 2),
    "one byte changed": flip_middle_byte,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_snapshot_that_cannot_be_used_means_a_fresh_start(
    browser: Browser, tmp_path: Path, damage: str
):
    with damaged_site(tmp_path, DAMAGE[damage]) as url:
        site = Site(browser, url)
        try:
            starts_afresh(site, "snapshot cannot be used")
        finally:
            site.close()


def test_a_snapshot_from_another_pyodide_build_is_refused_by_pyodide(
    browser: Browser, tmp_path: Path
):
    """Size and SHA-256 match (build.json is changed with it): only Pyodide's own build-id
    check stands between this snapshot and the interpreter, as after an upgrade that left an
    old snapshot behind."""
    def flip_build_id(f: BinaryIO) -> None:
        # In a child process, so that the 31 MB memory never sits in this one (see damaged_site).
        f.close()
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import build; from pathlib import Path\n"
            "path = Path(sys.argv[2]); memory = bytearray(build.unpack_snapshot(path.read_bytes()))\n"
            f"memory[{BUILD_ID.start}] ^= 0xFF; path.write_bytes(build.pack_snapshot(bytes(memory)))"
        )
        subprocess.run([sys.executable, "-c", code, str(ROOT), f.name], check=True)

    with damaged_site(tmp_path, flip_build_id) as url:
        root = tmp_path / "site"
        with (root / SNAPSHOT).open("rb") as f:
            sha256 = hashlib.file_digest(f, "sha256").hexdigest()
        manifest = json.loads((root / "build.json").read_text())
        manifest["snapshot"] = {"bytes": (root / SNAPSHOT).stat().st_size, "sha256": sha256}
        (root / "build.json").unlink()  # a link into dist/
        (root / "build.json").write_text(json.dumps(manifest))
        site = Site(browser, url)
        try:
            starts_afresh(site, "build id mismatch")
        finally:
            site.close()


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


def test_the_page_and_every_response_carry_the_one_policy(browser: Browser, site_url: str):
    """build.CSP is written once: the build puts it in the page's <meta>, serve sends it as the
    header (the worker runs under the header only)."""
    assert "{{CSP}}" in (ROOT / "index.html").read_text()  # the source holds the slot only
    page = browser.new_page()
    try:
        response = page.goto(site_url)
        assert response is not None
        assert response.headers["content-security-policy"] == build.CSP
        meta = page.locator('meta[http-equiv="Content-Security-Policy"]')
        assert meta.get_attribute("content") == build.CSP
    finally:
        page.close()
