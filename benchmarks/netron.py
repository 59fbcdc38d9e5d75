"""Netron, the model viewer people use today, as the benchmark's reference.

Its PyPI wheel ships the web app's static files (`netron/index.html` and its scripts). They are
downloaded with pip into build/bench-cache/ (git-ignored) at benchmark time, never committed,
and served from 127.0.0.1 like regaudit's dist/.

"Graph shown" is Netron's own signal: `View.open()` resolves after the graph is laid out and
drawn into `#canvas`, then `Host._openContext` calls `view.show(null)`, which sets the body's
class to `default` (it is `welcome spinner` while the file is read and `alert` on an error).
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import zipfile
from pathlib import Path

VERSION = "9.3.3"
CACHE = Path(__file__).resolve().parents[1] / "build" / "bench-cache"

# The page is up and waiting for a file: `Host.start()` ends with view.show("welcome").
READY = "document.body && document.body.className === 'welcome'"
INPUT = "#open-file-dialog"
WATCH = ("body", False, ["class"], "body.default", "body.alert")


def ensure_netron() -> Path:
    """Netron's web app directory (the wheel's `netron/` folder), downloaded once."""
    target = CACHE / f"netron-{VERSION}"
    if not (target / "index.html").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        wheels = list(CACHE.glob(f"netron-{VERSION}-*.whl"))
        if not wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                 f"netron=={VERSION}", "-d", str(CACHE)],
                check=True,
            )
            wheels = list(CACHE.glob(f"netron-{VERSION}-*.whl"))
        with zipfile.ZipFile(wheels[0]) as z:
            for name in z.namelist():
                if name.startswith("netron/") and not name.endswith("/"):
                    out = target / name[len("netron/") :]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(z.read(name))
    _refresh_date(target / "index.html")
    return target


def _refresh_date(index: Path) -> None:
    """Netron stops with 'Please update to the newest version' when its build date (a <meta>)
    is more than 180 days old; the served copy carries today's date so that the pinned
    version keeps working when the benchmark is rerun later. Nothing else is changed."""
    today = datetime.date.today().isoformat()
    html = index.read_text(encoding="utf-8")
    fresh = re.sub(r'(<meta name="date" content=")[^"]*(")', rf"\g<1>{today} 00:00:00\g<2>", html)
    if fresh != html:
        index.write_text(fresh, encoding="utf-8")


# Netron replaces window.eval with a function that throws (a hardening step; it never calls
# eval itself), and Playwright's page.evaluate needs eval. Installed before Netron's scripts,
# this keeps the real eval and ignores the replacement; nothing else in the page changes.
KEEP_EVAL = """
(() => {
  const real = window.eval;
  Object.defineProperty(window, "eval", { get: () => real, set: () => {}, configurable: false });
})();
"""


def cookies(base_url: str) -> list[dict]:
    """Netron asks for cookie consent on a first visit (after trying ipinfo.io, which the
    benchmark's browser cannot reach); a stored answer skips the question."""
    return [{"name": "consent", "value": "1", "url": base_url}]
