"""How long hostile files take: .venv/bin/python benchmarks/hostile.py [--runs N]

The files of tests/bad_inputs that declare far more than they store (a kernel of 1 TiB that
stores nothing, 4 GiB of gzip-compressed zeros) or point outside themselves (external raw
storage on /dev/zero), beside the real Keras 2.3.1 file they are made from. For each: the CLI
in a fresh process (`python -m regaudit --format json FILE`, wall time, interpreter start
included), the same audit and JSON rendering in this process (the file's own cost), and the
page (file picked -> report painted, measured in the page, on one booted tab). Medians of N
runs (default 5), interleaved file by file. Needs the project venv and dist/ (`python build.py
test` makes both). Figures: docs/security.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE), str(ROOT / "tests" / "bad_inputs")]

import make_bad_inputs  # noqa: E402
import web  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

import build  # noqa: E402

CASES = ("sparse_1tib.h5", "zeros_gzip_4gib.h5", "outside_dev_zero.h5")
OURS_WATCH = ("#reports", True, ["data-report", "data-error"], "section.file[data-report]",
              "section.file[data-error]")
IDLE = ("(() => { const t = JSON.parse(document.documentElement.dataset.bootTimes || '{}');"
        " return 'warm' in t && 'hdf5' in t; })()")


def in_process_ms(path: Path) -> float:
    from regaudit.audit import audit_path
    from regaudit.render import render

    start = time.perf_counter()
    render(audit_path(str(path)).to_dict(), "json")
    return (time.perf_counter() - start) * 1000


def cli_ms(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "regaudit", "--format", "json", str(path)],
                   check=True, capture_output=True, cwd=ROOT)
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    build.ensure_built()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_bad_inputs.make_all(folder, set(CASES))
        files = [make_bad_inputs.GOOD_H5, *(folder / name for name in CASES)]
        cli: dict[str, list[float]] = {f.name: [] for f in files}
        inproc: dict[str, list[float]] = {f.name: [] for f in files}
        page: dict[str, list[float]] = {f.name: [] for f in files}
        with web.serve({"/": build.DIST}, build.RESPONSE_HEADERS) as site, sync_playwright() as p:
            browser = web.launch(p)
            tab = web.Tab(browser)
            tab.boot(site)
            tab.wait(IDLE)
            for run in range(args.runs):
                for f in files:
                    cli[f.name].append(cli_ms(f))
                    inproc[f.name].append(in_process_ms(f))
                    t = tab.pick(f, "input[type=file]", OURS_WATCH)
                    page[f.name].append(t["painted"] - t["picked"])
                    tab.page.click("#clear")
                print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
            tab.close()
            browser.close()
    print(f"{'file':<44} {'CLI process':>12} {'in-process':>11} {'page':>8}")
    for f in files:
        name = f.name if f.name in CASES else f"{f.name} (original)"
        print(f"{name:<44} {statistics.median(cli[f.name]):>9.0f} ms "
              f"{statistics.median(inproc[f.name]):>8.1f} ms "
              f"{statistics.median(page[f.name]):>5.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
