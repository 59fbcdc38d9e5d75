"""Navigation → first table, as a visitor with a file in hand meets the page.

One visit is a fresh browser context (cold HTTP cache, code cache, Cache Storage and service
worker), a navigation, and the file given to the page's file input by a script installed
before the page's own: either the moment the page says it is ready (`at="ready"`: our
`data-state="ready"`, Netron's `body.welcome`) or as soon as the input exists (`at="nav"`:
DOMContentLoaded, a file dropped while the page boots). The clock is the page's own
(`performance.now()`, 0 = navigation start); "shown" is the first frame painted after the
report section's `data-report` (ours) or the body's class `default` (Netron: graph drawn).

A warm visit is a second navigation in the same context once the first has shown its table
and the service worker (ours; Netron has none) is active: what a person who comes back meets.
Our page's Python runs in a SharedWorker that outlives the navigation (Chromium's
`extendedLifetime`), so its warm visit joins the running Python; the variant "ours, no
SharedWorker" times the same page with Python in a dedicated Worker, booted again on each visit.

The file's bytes are fetched from the same server at navigation start (`/bench-files/N/`),
a few ms on 127.0.0.1, and set on the input with a DataTransfer; the page cannot tell this from
a person's pick.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import web
from playwright.sync_api import Browser

FILES_PREFIX = "/bench-files/"

# Installed before any page script of every navigation in the context. `cfg` is filled in.
NAV_WATCH = """
(() => {
  const cfg = __CFG__;
  const t = (window.__nav = {
    ready: null, picked: null, shown: null, painted: null, complete: null, error: null,
    waitComplete: Boolean(cfg.complete),
  });
  const bytes = cfg.file ? fetch(cfg.file).then((r) => r.blob()) : null;
  let picking = false;
  const pick = async () => {
    if (picking || !bytes) return;
    picking = true;
    const file = new File([await bytes], cfg.name);
    const input = document.querySelector(cfg.input);
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    t.picked = performance.now();
    input.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const ready = () =>
    cfg.viewer === "netron"
      ? document.body && document.body.className === "welcome"
      : document.documentElement.dataset.state === "ready";
  const check = () => {
    if (t.ready === null && ready()) {
      t.ready = performance.now();
      if (cfg.at === "ready") pick();
    }
    const complete = cfg.complete && document.querySelector(cfg.complete);
    if (t.shown !== null && t.complete === null && complete) t.complete = performance.now();
    if (t.picked === null || t.shown !== null) return;
    const bad = document.querySelector(cfg.failed);
    if (bad) {
      t.error = bad.getAttribute("data-error") || bad.textContent || "error";
      t.shown = performance.now();
      return;
    }
    if (!document.querySelector(cfg.done)) return;
    t.shown = performance.now();
    requestAnimationFrame(() => setTimeout(() => { t.painted = performance.now(); }, 0));
  };
  document.addEventListener("DOMContentLoaded", () => {
    // Only the attributes that signal a state are observed, on the few elements that carry
    // them, so the page pays next to nothing for the watching.
    const watch = (node, attributeFilter, subtree) => node &&
      new MutationObserver(check).observe(node, { attributes: true, attributeFilter, subtree });
    watch(document.documentElement, ["data-state"], false);
    watch(document.body, ["class"], false);
    const marks = ["data-report", "data-complete", "data-error"];
    watch(document.querySelector(cfg.sections), marks, true);
    if (cfg.at === "nav") pick();
    check();
  });
})();
"""

# Our page without SharedWorker runs Python in a dedicated Worker (as in browsers without one):
# its warm visit boots Python again, which is what a revisit meets once the shared worker has
# ended (main.js).
DEDICATED = "ours, no SharedWorker"
NO_SHARED_WORKER = "delete window.SharedWorker;"

# The page registers its service worker when it pleases (ours: once idle for a moment).
SERVICE_WORKER_ACTIVE = """Promise.race([
  navigator.serviceWorker.ready.then(() => true),
  new Promise((resolve) => setTimeout(() => resolve(false), 30000)),
])"""

VIEWERS = {
    # input, where report sections live, done (the table), failed, complete (downloads too)
    "ours": (
        "input[type=file]", "#reports", "section.file[data-report]", "section.file[data-error]",
        "section.file[data-complete]",
    ),
    "netron": ("#open-file-dialog", "body", "body.default", "body.alert", None),
}


@dataclass
class Visit:
    ready_ms: float | None  # navigation → the page says it is ready
    picked_ms: float | None  # navigation → file set
    shown_ms: float | None  # navigation → first frame with the table (graph)
    complete_ms: float | None = None  # navigation → the section complete (ours: downloads, fix)
    error: str | None = None

    @property
    def file_to_table_ms(self) -> float | None:
        if self.shown_ms is None or self.picked_ms is None:
            return None
        return self.shown_ms - self.picked_ms


def _script(viewer: str, file_url: str | None, name: str | None, at: str) -> str:
    which = "netron" if viewer == "netron" else "ours"
    input_sel, sections, done, failed, complete = VIEWERS[which]
    cfg = {
        "viewer": viewer,
        "file": file_url,
        "name": name,
        "at": at,
        "input": input_sel,
        "sections": sections,
        "done": done,
        "failed": failed,
        "complete": complete if viewer == "ours" else None,  # a --before site has no such mark
    }
    return NAV_WATCH.replace("__CFG__", json.dumps(cfg))


def _visit(tab: web.Tab, url: str, with_file: bool, timeout_s: float = 120) -> Visit:
    tab.page.goto(url, wait_until="commit")
    done = (
        "window.__nav && (window.__nav.error !== null || (window.__nav.painted !== null"
        " && (window.__nav.complete !== null || !window.__nav.waitComplete)))"
    )
    ready = "window.__nav && window.__nav.ready !== null"
    tab.wait(done if with_file else ready, int(timeout_s * 1000), every=0.02)
    t = tab.page.evaluate("window.__nav")
    return Visit(t["ready"], t["picked"], t["painted"], t["complete"], t["error"])


def file_roots(models: list) -> dict[str, Path]:
    """URL prefix → folder, for every server: model i is served at file_url(models, i)."""
    return {f"{FILES_PREFIX}{i}/": m.path.parent for i, m in enumerate(models)}


def visit(
    browser: Browser,
    viewer: str,
    url: str,
    file: tuple[str, str] | None,
    at: str = "ready",
    warm: bool = False,
    cookies: list[dict] | None = None,
    init_script: str | None = None,
) -> tuple[Visit, Visit | None, list[str]]:
    """A cold visit (and, if `warm`, a second one in the same context), with `file` (the URL
    path its server serves it at, its name) or none. Returns the visits and any request that
    tried to leave 127.0.0.1."""
    script = _script(viewer, file[0] if file else None, file[1] if file else None, at)
    tab = web.Tab(browser, cookies, init_script, service_workers="allow", extra_scripts=[script])
    try:
        cold = _visit(tab, url, file is not None)
        second = None
        if warm:
            if viewer != "netron":
                # The service worker has the whole site in Cache Storage once it is active.
                tab.page.evaluate(SERVICE_WORKER_ACTIVE)
            time.sleep(0.2)
            second = _visit(tab, url, file is not None)
        return cold, second, list(tab.external)
    finally:
        tab.close()


def _median(values: list[float | None]) -> float | None:
    ok = [v for v in values if v is not None]
    return statistics.median(ok) if ok else None


def section(
    browser: Browser,
    sites: dict[str, str],
    netron_url: str | None,
    models: list,
    runs: int,
    log,
) -> dict:
    """Every model through every site (`sites`: name → base URL, "ours" first) and Netron,
    interleaved round by round, plus a bare Pyodide boot (the floor, ours' /bench/floor.html)
    each round. Medians per model and viewer; samples kept."""
    import netron  # the benchmark's Netron helpers

    samples: dict[str, dict[str, dict[str, list]]] = {}
    floor: list[float | None] = []
    external: list[str] = []

    def add(model: str, viewer: str, key: str, value: float | None) -> None:
        samples.setdefault(model, {}).setdefault(viewer, {}).setdefault(key, []).append(value)

    for i in range(runs):
        for index, model in enumerate(models):
            file = (f"{FILES_PREFIX}{index}/{model.path.name}", model.path.name)
            # (viewer, site, url, when the file is set, script before the page's)
            visits = [(name, name, url, "ready", None) for name, url in sites.items()]
            visits.append((DEDICATED, "ours", sites["ours"], "ready", NO_SHARED_WORKER))
            visits.append(("ours (file at navigation)", "ours", sites["ours"], "nav", None))
            if netron_url:
                visits.append(("netron", "netron", netron_url, "ready", None))
            for viewer, name, url, at, script in visits:
                extra = {"init_script": script} if script else {}
                if name == "netron":
                    extra = {"cookies": netron.cookies(url), "init_script": netron.KEEP_EVAL}
                cold, warm, ext = visit(
                    browser, name, url, file, at=at, warm=(at == "ready"), **extra
                )
                if name != "netron":  # Netron's telemetry tries; the browser cannot resolve it
                    external += ext
                add(model.label, viewer, "ready_ms", cold.ready_ms)
                add(model.label, viewer, "table_ms", cold.shown_ms)
                add(model.label, viewer, "file_to_table_ms", cold.file_to_table_ms)
                add(model.label, viewer, "complete_ms", cold.complete_ms)
                if warm is not None:
                    add(model.label, viewer, "warm_table_ms", warm.shown_ms)
                for v in (cold, warm):
                    if v is not None and v.error:
                        add(model.label, viewer, "errors", v.error)
                shown = f"{cold.shown_ms:.0f}" if cold.shown_ms else cold.error
                again = f", warm {warm.shown_ms:.0f}" if warm and warm.shown_ms else ""
                log(f"run {i + 1}/{runs}: {model.label} in {viewer}: table at {shown}{again} ms")
        bare, _, ext = visit(browser, "ours", sites["ours"] + "bench/floor.html", None)
        external += ext
        floor.append(bare.ready_ms)
        log(f"run {i + 1}/{runs}: bare Pyodide boot: {bare.ready_ms:.0f} ms")
    if external:
        raise RuntimeError(f"requests tried to leave 127.0.0.1: {external}")
    out: dict = {"floor_ready_ms": _median(floor), "floor_samples": floor, "models": {}}
    for label, by_viewer in samples.items():
        out["models"][label] = {
            viewer: {
                **{k: _median(v) for k, v in figures.items() if k != "errors"},
                "errors": figures.get("errors", []),
                "samples": {k: v for k, v in figures.items() if k != "errors"},
            }
            for viewer, figures in by_viewer.items()
        }
    return out
