"""regaudit's benchmarks: python benchmarks/run.py [--runs N] [--out FILE] [--skip ...]

Any Python ≥ 3.11 starts it: it runs itself in the project's venv (.venv, made as
`python build.py test` makes it, with Chromium) and builds dist/ if needed.

Prints one table and writes the figures as JSON (default benchmarks/results.json, git-ignored).
Everything runs on this machine: dist/ (built if needed) and Netron's web app (downloaded
with pip into build/bench-cache/) are served on 127.0.0.1 to a headless Chromium (Debian's
/usr/bin/chromium, else Playwright's own) that cannot resolve any other host.

Every browser figure is the median of N runs (default 5), interleaved (A B A B ..., never
A A A B B B), each run in a fresh browser context, so HTTP and compiled-code caches are cold
(a "warm" figure is a second visit in that context). Ratios compare medians from the same
invocation. Sections: nav (navigation → first table, benchmarks/navigation.py), files (file →
table on a ready, idle page), large (1 MiB and 1 GiB models), cli. See docs/performance.md.

--before REV adds the site as commit REV built it (benchmarks/baseline.py) to the navigation
figures, interleaved with the others: before/after from one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]


def _in_project_venv() -> None:
    """Run in the venv `python build.py test` makes (h5py, Playwright, regaudit): any other
    Python sets it up the same way (and Chromium), then runs this script again inside it."""
    import build  # the repo's build.py

    if Path(sys.prefix).resolve() == build.VENV.resolve():
        return
    py = build.ensure_venv()
    build.ensure_chromium()
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


if __name__ == "__main__":
    _in_project_venv()

import baseline  # noqa: E402
import cli_bench  # noqa: E402
import models  # noqa: E402
import navigation  # noqa: E402
import netron  # noqa: E402
import web  # noqa: E402

OURS_INPUT = "input[type=file]"
OURS_WATCH = (
    "#reports",
    True,
    ["data-report", "data-error"],
    "section.file[data-report]",
    "section.file[data-error]",
)
# Booted and idle: the worker's stages after "ready" (before 329381c it had some) are done too.
OURS_IDLE = (
    "(() => { const t = JSON.parse(document.documentElement.dataset.bootTimes || '{}');"
    " return 'warm' in t && 'hdf5' in t; })()"
)
SECTIONS = ("nav", "files", "large", "cli")
TARGETS = {
    "nav_cold_ratio": 2.0,  # navigation → first table against Netron's navigation → graph
    "nav_cold_stretch": 1.5,
    "nav_warm_ratio": 1.5,
    "nav_warm_stretch": 1.0,
    "floor_ratio": 1.0,  # page ready against a bare Pyodide boot: beat it
    "netron_ratio": 1.0,
    "large_ratio": 1.2,
    "large_peak_mb": 100,
    "stats_gbps": 1.0,
    "cli_ratio": 1.3,
}


def median(values: list[float]) -> float:
    return statistics.median(values)


def log(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


# --- the machine ------------------------------------------------------------------------------


def machine(browser_version: str | None) -> dict:
    mem = next(
        (int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal:")),
        None,
    )
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_mb": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "browser": browser_version,
    }


# --- the browser sections ---------------------------------------------------------------------


def pick_once(browser, viewer: str, url: str, path: Path) -> dict:
    """One fresh tab: load the viewer, wait until it is idle, pick the file; time and the
    renderer's peak resident set above its level just before the pick."""
    before = web.renderer_pids()
    if viewer == "netron":
        tab = web.Tab(browser, netron.cookies(url), netron.KEEP_EVAL)
    else:
        tab = web.Tab(browser)
    try:
        if viewer != "netron":  # ours, or the --before site
            tab.boot(url)
            tab.wait(OURS_IDLE)
            selector, watch = OURS_INPUT, OURS_WATCH
        else:
            tab.page.goto(url)
            tab.wait(netron.READY)
            selector, watch = netron.INPUT, netron.WATCH
        web.settle()
        pid = web.tab_renderer(before)
        base = web.status_kib(pid, "VmRSS")
        web.reset_peak(pid)
        t = tab.pick(path, selector, watch)
        peak = web.status_kib(pid, "VmHWM")
        if tab.external and viewer != "netron":
            raise RuntimeError(f"requests tried to leave 127.0.0.1: {tab.external}")
        # Netron's telemetry (Google Analytics) tries; the browser cannot resolve the host.
        return {
            "ms": t["painted"] - t["picked"],
            "peak_mb": (peak - base) / 1024,
            "base_mb": base / 1024,
        }
    finally:
        tab.close()


def files_section(browser, urls: dict[str, str], jobs: list, runs: int) -> dict:
    """file picked → table shown (ours, --before) and → graph shown (Netron), interleaved per
    run; `urls`: viewer → base URL (a viewer without one is skipped)."""
    samples: dict[str, dict[str, list[dict]]] = {}
    for i in range(runs):
        for model, viewer in jobs:
            url = urls.get(viewer)
            if url is None:
                continue
            try:
                result = pick_once(browser, viewer, url, model.path)
            except Exception as e:  # noqa: BLE001 - a viewer that fails a file is a result too
                result = {"error": str(e).splitlines()[0][:200]}
            samples.setdefault(model.label, {}).setdefault(viewer, []).append(result)
            shown = f"{result['ms']:.0f} ms" if "ms" in result else result["error"]
            log(f"run {i + 1}/{runs}: {model.label} in {viewer}: {shown}")
    out = {}
    for label, by_viewer in samples.items():
        out[label] = {}
        for viewer, results in by_viewer.items():
            ok = [r for r in results if "ms" in r]
            out[label][viewer] = {
                "ms": median([r["ms"] for r in ok]) if ok else None,
                "peak_mb": median([r["peak_mb"] for r in ok]) if ok else None,
                "base_mb": median([r["base_mb"] for r in ok]) if ok else None,
                "errors": [r["error"] for r in results if "error" in r],
                "samples_ms": [r.get("ms") for r in results],
            }
    return out


# --- the table --------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def ratio_row(figure: str, ours: float | None, ref: float | None, ref_name: str,
              target: float, stretch: float | None = None) -> tuple[str, str, str, str, str]:
    ratio = ours / ref if ours and ref else None
    goal = f"≤ {target:.2f}×" + (f" (stretch {stretch:.2f}×)" if stretch else "")
    met = verdict(None if ratio is None else ratio <= target)
    if stretch and ratio is not None and ratio <= stretch:
        met += ", stretch met"
    return (
        figure,
        f"{ours:.0f} ms" if ours else "failed",
        f"{ref_name} {ref:.0f} ms" if ref else f"{ref_name} failed",
        f"{ratio:.2f}×" if ratio else "",
        f"{goal}: {met}",
    )


def nav_rows(nav: dict | None) -> list[tuple[str, str, str, str, str]]:
    """Per model: cold and warm navigation → first table against Netron, file → table at
    ready against Netron's file → graph, ready against the bare Pyodide boot, and the file
    set at navigation; then the same for the --before site."""
    if not nav:
        return []
    rows = []
    floor = nav["floor_ready_ms"]
    for label, by in nav["models"].items():
        net = by.get("netron") or {}
        for site in [v for v in by if v != "netron" and "navigation" not in v]:
            ours = by[site]
            tag = f"{label} [{site}]"
            rows.append(ratio_row(f"cold navigation → first table: {tag}", ours.get("table_ms"),
                                  net.get("table_ms"), "Netron",
                                  TARGETS["nav_cold_ratio"], TARGETS["nav_cold_stretch"]))
            rows.append(ratio_row(f"warm navigation → first table: {tag}",
                                  ours.get("warm_table_ms"), net.get("warm_table_ms"), "Netron",
                                  TARGETS["nav_warm_ratio"], TARGETS["nav_warm_stretch"]))
            rows.append(ratio_row(f"file → table, set at ready: {tag}",
                                  ours.get("file_to_table_ms"), net.get("file_to_table_ms"),
                                  "Netron", TARGETS["netron_ratio"]))
            rows.append(ratio_row(f"navigation → ready: {tag}", ours.get("ready_ms"), floor,
                                  "bare Pyodide", TARGETS["floor_ratio"]))
            if ours.get("complete_ms"):
                rows.append((f"navigation → section complete (downloads, fix): {tag}",
                             f"{ours['complete_ms']:.0f} ms", "", "", ""))
            early = by.get(f"{site} (file at navigation)")
            if early:
                rows.append((f"file set at navigation → table: {tag}",
                             f"{early['table_ms']:.0f} ms" if early.get("table_ms") else "failed",
                             "", "", ""))
    return rows


def large_rows(site: str, large: dict) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for kind, pair in large.get("pairs", {}).items():
        rows.append((
            f"{kind}: 1 MiB → 1 GiB audit [{site}]",
            f"{pair['small_ms']:.0f} → {pair['large_ms']:.0f} ms",
            "",
            f"{pair['ratio']:.2f}×",
            f"≤ {TARGETS['large_ratio']}×: {verdict(pair['ratio'] <= TARGETS['large_ratio'])}",
        ))
        rows.append((
            f"{kind}: tab peak memory above idle (1 GiB) [{site}]",
            f"+{pair['large_peak_mb']:.0f} MB",
            f"1 MiB: +{pair['small_peak_mb']:.0f} MB",
            "",
            f"≤ +{TARGETS['large_peak_mb']} MB: "
            f"{verdict(pair['large_peak_mb'] <= TARGETS['large_peak_mb'])}",
        ))
    if "stats_gbps" in large:
        rows.append((
            f"weight statistics in the page (Σ|w|, Σw² over 1 GiB) [{site}]",
            f"{large['stats_gbps']:.2f} GB/s",
            "", "",
            f"≥ {TARGETS['stats_gbps']} GB/s: "
            f"{verdict(large['stats_gbps'] >= TARGETS['stats_gbps'])}",
        ))
    return rows


def table(results: dict) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    rows += nav_rows(results.get("nav"))
    files = results.get("files") or {}
    for label, by in files.items():
        ours, ref = by.get("ours") or {}, by.get("netron")
        if not ref:
            continue
        ours_ms, ref_ms = ours.get("ms"), ref.get("ms")
        ratio = ours_ms / ref_ms if ours_ms and ref_ms else None
        rows.append((
            f"file → table: {label}",
            f"{ours_ms:.0f} ms" if ours_ms else "failed",
            f"Netron {ref_ms:.0f} ms" if ref_ms else f"Netron failed: {ref['errors'][:1]}",
            f"{ratio:.2f}×" if ratio else "",
            f"≤ 1.0× (aim 0.5×): {verdict(None if ratio is None else ratio <= 1.0)}",
        ))
    for site, large in (results.get("large") or {}).items():
        rows += large_rows(site, large)
    cli = results.get("cli")
    if cli:
        for how in ("process", "in_process"):
            c = cli[how]
            rows.append((
                f"CLI over tests/fixtures ({cli['files']} files), {how.replace('_', '-')}",
                f"{c['cli_ms']:.0f} ms",
                f"bare loop {c['bare_ms']:.1f} ms",
                f"{c['ratio']:.2f}×",
                f"≤ {TARGETS['cli_ratio']}×: {verdict(c['ratio'] <= TARGETS['cli_ratio'])}",
            ))
    head = ("figure", "regaudit", "reference", "ratio", "target")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *map(line, rows)])


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median; ≥ 5)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--skip", nargs="*", default=[], choices=SECTIONS + ("netron",))
    parser.add_argument("--before", metavar="REV", help="also time the site as REV built it")
    args = parser.parse_args(argv)
    skip = set(args.skip)

    import build  # the repo's build.py

    build.ensure_built()
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "runs": args.runs}
    results["load_before"] = os.getloadavg()
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    results["commit"] = git.stdout.strip() or None

    if "cli" not in skip:  # first, with no browser running beside it
        log("CLI vs bare loop")
        fixtures = ROOT / "tests" / "fixtures"
        results["cli"] = {
            "files": cli_bench.count(fixtures),
            "process": cli_bench.summary(cli_bench.process(fixtures, max(args.runs, 11))),
            "in_process": cli_bench.summary(cli_bench.in_process(fixtures, max(args.runs, 11))),
        }

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="regaudit-bench-") as tmp:
        generated = {}
        if "large" not in skip or "files" not in skip:
            log("writing the generated models (1 MiB and 1 GiB of weights)")
            for regularized in (True, False):
                for size in (2**20, 2**30):
                    path = Path(tmp) / f"{regularized}-{size}.h5"
                    generated[(regularized, size)] = models.scaled_model(path, size, regularized)
        wants_netron = "netron" not in skip and ("files" not in skip or "nav" not in skip)
        netron_dir = netron.ensure_netron() if wants_netron else None
        before = baseline.site_at(args.before) if args.before and "nav" not in skip else None
        nav_models = models.navigation_models()
        files = navigation.file_roots(nav_models)  # served by every server
        roots = {"/": build.DIST, "/bench/": HERE / "floor", **files}
        with contextlib.ExitStack() as stack:
            site = stack.enter_context(web.serve(roots, build.RESPONSE_HEADERS))
            netron_url = stack.enter_context(web.serve({"/": netron_dir or HERE, **files}))
            sites = {"ours": site}
            if before:
                sites["before"] = stack.enter_context(
                    web.serve({"/": before, **files}, build.RESPONSE_HEADERS)
                )
            p = stack.enter_context(sync_playwright())
            browser = web.launch(p)
            results["machine"] = machine(web.chromium_version(browser))
            if "nav" not in skip:
                log("navigation → first table (cold and warm), against Netron and bare Pyodide")
                results["nav"] = navigation.section(
                    browser, sites, netron_url if netron_dir else None, nav_models, args.runs, log
                )
                if before:
                    results["nav"]["before"] = args.before
            urls = {**sites, "netron": netron_url if netron_dir else None}
            if "files" not in skip:
                log("file picked → table / graph, on a page that is ready and idle")
                jobs = []
                for m in [*models.real_models(), generated[(True, 2**30)]]:
                    jobs += [(m, "ours"), (m, "netron")]
                results["files"] = files_section(browser, urls, jobs, args.runs)
            if "large" not in skip:
                log("generated large models: audit time and peak memory")
                pairs = [generated[k] for k in sorted(generated, reverse=True)]
                jobs = [(m, viewer) for m in pairs for viewer in sites]
                raw = files_section(browser, urls, jobs, args.runs)
                results["large"] = {v: large_summary(raw, generated, v) for v in sites}
            browser.close()
            results["load_after"] = os.getloadavg()
    if "machine" not in results:
        results["machine"] = machine(None)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    load = results.get("load_before"), results.get("load_after")
    print(f"\n(medians of {args.runs} interleaved runs; figures in {args.out}; load average "
          f"(1, 5, 15 min) {load[0]} at the start, {load[1]} at the end)")
    return 0


def large_summary(raw: dict, generated: dict, viewer: str) -> dict:
    out: dict = {"pairs": {}, "files": raw}
    for regularized in (True, False):
        small, large = generated[(regularized, 2**20)], generated[(regularized, 2**30)]
        s, g = raw[small.label][viewer], raw[large.label][viewer]
        if s["ms"] is None or g["ms"] is None:
            continue
        kind = "bulk-regularized" if regularized else "bulk-unregularized"
        out["pairs"][kind] = {
            "small_ms": s["ms"],
            "large_ms": g["ms"],
            "ratio": g["ms"] / s["ms"],
            "small_peak_mb": s["peak_mb"],
            "large_peak_mb": g["peak_mb"],
            "idle_mb": g["base_mb"],
        }
        if regularized:
            # The two files differ only in the table the penalty sums: the extra time is the
            # weight statistics over the extra bytes (read from the File, summed in JS).
            extra = large.weight_bytes - small.weight_bytes
            out["stats_gbps"] = extra / ((g["ms"] - s["ms"]) / 1000) / 1e9
    return out


if __name__ == "__main__":
    sys.exit(main())
