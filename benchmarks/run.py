"""regaudit's benchmarks: python benchmarks/run.py [--runs N] [--out FILE] [--skip ...]

Any Python ≥ 3.11 starts it: it runs itself in the project's venv (.venv, made as
`python build.py test` makes it, with Chromium) and builds dist/ if needed.

Prints one table and writes the figures as JSON (default benchmarks/results.json, git-ignored).
Everything runs on this machine: dist/ (built if needed) and Netron's web app (downloaded
with pip into build/bench-cache/) are served on 127.0.0.1 to a headless Chromium (Debian's
/usr/bin/chromium, else Playwright's own) that cannot resolve any other host.

Every browser figure is the median of N runs (default 5), interleaved (A B A B ..., never
A A A B B B), each run in a fresh browser context, so HTTP and compiled-code caches are cold.
Ratios compare medians from the same invocation. See docs/performance.md.
"""

from __future__ import annotations

import argparse
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

import cli_bench  # noqa: E402
import models  # noqa: E402
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
# Booted and idle: the stages the worker finishes after "ready" are done too.
OURS_IDLE = (
    "(() => { const t = JSON.parse(document.documentElement.dataset.bootTimes || '{}');"
    " return 'warm' in t && 'hdf5' in t; })()"
)
SECTIONS = ("boot", "files", "large", "cli")
TARGETS = {
    "boot_ratio": 1.10,
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


def boot_section(browser, site: str, runs: int) -> dict:
    """Cold navigation → ready, ours and the Pyodide floor, interleaved; and, in our runs,
    navigation → first table for the small fixture picked the moment the page is ready."""
    ours, floor, first, stages = [], [], [], []
    for i in range(runs):
        tab = web.Tab(browser)
        try:
            ours.append(tab.boot(site))
            stages.append(json.loads(tab.page.evaluate("document.documentElement.dataset.bootTimes")))
            first.append(tab.pick(models.SMALL, OURS_INPUT, OURS_WATCH)["painted"])
            external = tab.external
        finally:
            tab.close()
        tab = web.Tab(browser)
        try:
            floor.append(tab.boot(site + "bench/floor.html"))
            external += tab.external
        finally:
            tab.close()
        if external:
            raise RuntimeError(f"requests left 127.0.0.1: {external}")
        log(f"boot run {i + 1}/{runs}: ours {ours[-1]:.0f} ms, floor {floor[-1]:.0f} ms, "
            f"first table {first[-1]:.0f} ms")
    return {
        "ours_ms": median(ours),
        "floor_ms": median(floor),
        "ratio": median(ours) / median(floor),
        "first_table_ms": median(first),
        "worker_stages_ms": {k: median([s[k] for s in stages if k in s]) for k in stages[0]},
        "samples": {"ours": ours, "floor": floor, "first_table": first},
    }


def pick_once(browser, viewer: str, url: str, path: Path) -> dict:
    """One fresh tab: load the viewer, wait until it is idle, pick the file; time and the
    renderer's peak resident set above its level just before the pick."""
    before = web.renderer_pids()
    if viewer == "netron":
        tab = web.Tab(browser, netron.cookies(url), netron.KEEP_EVAL)
    else:
        tab = web.Tab(browser)
    try:
        if viewer == "ours":
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
        if tab.external and viewer == "ours":
            raise RuntimeError(f"requests tried to leave 127.0.0.1: {tab.external}")
        # Netron's telemetry (Google Analytics) tries; the browser cannot resolve the host.
        return {
            "ms": t["painted"] - t["picked"],
            "peak_mb": (peak - base) / 1024,
            "base_mb": base / 1024,
        }
    finally:
        tab.close()


def files_section(browser, site: str, netron_url: str | None, jobs: list, runs: int) -> dict:
    """file picked → table shown (ours) and → graph shown (Netron), interleaved per run."""
    samples: dict[str, dict[str, list[dict]]] = {}
    for i in range(runs):
        for model, viewer in jobs:
            if viewer == "netron" and netron_url is None:
                continue
            url = site if viewer == "ours" else netron_url
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


def table(results: dict) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    boot = results.get("boot")
    if boot:
        rows.append((
            "cold navigation → ready",
            f"{boot['ours_ms']:.0f} ms",
            f"Pyodide floor {boot['floor_ms']:.0f} ms",
            f"{boot['ratio']:.2f}×",
            f"≤ {TARGETS['boot_ratio']:.2f}×: {verdict(boot['ratio'] <= TARGETS['boot_ratio'])}",
        ))
        rows.append((
            "cold navigation → first table (small, picked at ready)",
            f"{boot['first_table_ms']:.0f} ms", "", "", "",
        ))
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
    large = results.get("large") or {}
    for kind, pair in large.get("pairs", {}).items():
        rows.append((
            f"{kind}: 1 MiB → 1 GiB audit",
            f"{pair['small_ms']:.0f} → {pair['large_ms']:.0f} ms",
            "",
            f"{pair['ratio']:.2f}×",
            f"≤ {TARGETS['large_ratio']}×: {verdict(pair['ratio'] <= TARGETS['large_ratio'])}",
        ))
        rows.append((
            f"{kind}: tab peak memory above idle (1 GiB)",
            f"+{pair['large_peak_mb']:.0f} MB",
            f"1 MiB: +{pair['small_peak_mb']:.0f} MB",
            "",
            f"≤ +{TARGETS['large_peak_mb']} MB: "
            f"{verdict(pair['large_peak_mb'] <= TARGETS['large_peak_mb'])}",
        ))
    if "stats_gbps" in large:
        rows.append((
            "weight statistics in the page (Σ|w|, Σw² over 1 GiB)",
            f"{large['stats_gbps']:.2f} GB/s",
            "", "",
            f"≥ {TARGETS['stats_gbps']} GB/s: "
            f"{verdict(large['stats_gbps'] >= TARGETS['stats_gbps'])}",
        ))
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
    args = parser.parse_args(argv)
    skip = set(args.skip)

    import build  # the repo's build.py

    build.ensure_built()
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "runs": args.runs}
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
        netron_dir = None if "netron" in skip or "files" in skip else netron.ensure_netron()
        roots = {"/": build.DIST, "/bench/": HERE / "floor"}
        with web.serve(roots, build.RESPONSE_HEADERS) as site, \
                web.serve({"/": netron_dir or HERE}) as netron_url, sync_playwright() as p:
            browser = web.launch(p)
            results["machine"] = machine(web.chromium_version(browser))
            if "boot" not in skip:
                log("cold navigation → ready")
                results["boot"] = boot_section(browser, site, args.runs)
            if "files" not in skip:
                log("file picked → table / graph")
                jobs = []
                for m in [*models.real_models(), generated[(True, 2**30)]]:
                    jobs += [(m, "ours"), (m, "netron")]
                results["files"] = files_section(
                    browser, site, netron_url if netron_dir else None, jobs, args.runs
                )
            if "large" not in skip:
                log("generated large models: audit time and peak memory")
                pairs = [generated[k] for k in sorted(generated, reverse=True)]
                raw = files_section(browser, site, None, [(m, "ours") for m in pairs], args.runs)
                results["large"] = large_summary(raw, generated)
            browser.close()
    if "machine" not in results:
        results["machine"] = machine(None)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    print(f"\n(medians of {args.runs} interleaved runs; figures in {args.out})")
    return 0


def large_summary(raw: dict, generated: dict) -> dict:
    out: dict = {"pairs": {}, "files": raw}
    for regularized in (True, False):
        small, large = generated[(regularized, 2**20)], generated[(regularized, 2**30)]
        s, g = raw[small.label]["ours"], raw[large.label]["ours"]
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
