"""The File read ceiling: how fast this browser gives a picked file's bytes to a worker, with
nothing of regaudit's in the way (benchmarks/read/: a page, a worker, three ways of reading).
It bounds what the page's weight statistics can reach on a 1 GiB model (docs/performance.md).

    .venv/bin/python benchmarks/file_read.py [--gib 1] [--runs 5]

(the venv and Chromium `python build.py test` sets up).
Each figure is the median over `runs` rounds, the ways interleaved, each in a fresh browser
context; the file is written once into a temporary directory (random float32).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

MIB = 1 << 20
# (way, blocks in flight, block size): the page's own reader sums 32 MiB blocks from one stream.
WAYS = [
    ("slices", 1, 32 * MIB),
    ("slices", 4, 8 * MIB),
    ("slices", 4, 32 * MIB),
    ("slices+sums", 4, 8 * MIB),
    ("stream", 0, 0),
]


def write_floats(path: Path, nbytes: int) -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    with path.open("wb") as f:
        for start in range(0, nbytes, 64 * MIB):
            count = min(64 * MIB, nbytes - start) // 4
            f.write(rng.standard_normal(count, dtype=np.float32).tobytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=1.0, help="file size in GiB")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    import web
    from playwright.sync_api import sync_playwright

    samples: dict[tuple, list[float]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "floats.bin"
        write_floats(path, int(args.gib * 1024 * MIB))
        with sync_playwright() as p, web.serve({"/bench/read/": HERE / "read"}) as url:
            browser = web.launch(p)
            for run in range(args.runs):
                for way in WAYS:
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(url + "bench/read/read.html")
                    page.set_input_files("#file", str(path))
                    out = page.evaluate("(w) => window.readAll(...w)", list(way))
                    context.close()
                    gbs = out["bytes"] / out["ms"] / 1e6
                    samples[way].append(gbs)
                    print(f"  run {run + 1}/{args.runs}: {way}: {gbs:.2f} GB/s", flush=True)
            version = browser.version
            browser.close()
    print(f"\nReading a {args.gib:g} GiB File in a worker ({version}, {os.cpu_count()} cores), "
          f"median of {args.runs}:")
    for (name, in_flight, block), values in samples.items():
        how = f"{in_flight} × {block // MIB} MiB in flight" if in_flight else "File.stream()"
        print(f"  {name:12s} {how:24s} {statistics.median(values):5.2f} GB/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
