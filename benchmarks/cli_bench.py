"""The CLI over a directory of files versus the bare loop (benchmarks/bare_loop.py), measured
two ways, interleaved (CLI, bare, CLI, bare, ...):

- process: `python -m regaudit --format json DIR > /dev/null` versus
  `python benchmarks/bare_loop.py DIR`, each a fresh interpreter (what a CI step pays);
- in-process: `regaudit.cli.main([... DIR])` versus `bare_loop.run(files)` in one warm
  interpreter (imports done, the files in the OS cache): the per-file work alone.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - start) * 1000


def process(directory: Path, runs: int) -> dict[str, list[float]]:
    cli = [sys.executable, "-m", "regaudit", "--format", "json", str(directory)]
    bare = [sys.executable, str(HERE / "bare_loop.py"), str(directory)]
    _timed(cli), _timed(bare)  # warm the OS file cache and the .pyc files
    out: dict[str, list[float]] = {"cli": [], "bare": []}
    for _ in range(runs):
        out["cli"].append(_timed(cli))
        out["bare"].append(_timed(bare))
    return out


def in_process(directory: Path, runs: int) -> dict[str, list[float]]:
    sys.path.insert(0, str(HERE))
    import bare_loop

    from regaudit.cli import main

    files = bare_loop.model_files(str(directory))

    def cli() -> None:
        sink = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(io.StringIO()):
            main(["--format", "json", str(directory)])

    def bare() -> None:
        bare_loop.run(files)

    cli(), bare()  # imports, caches
    out: dict[str, list[float]] = {"cli": [], "bare": []}
    for _ in range(runs):
        for name, fn in (("cli", cli), ("bare", bare)):
            start = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - start) * 1000)
    return out


def summary(samples: dict[str, list[float]]) -> dict[str, float]:
    cli, bare = statistics.median(samples["cli"]), statistics.median(samples["bare"])
    return {"cli_ms": cli, "bare_ms": bare, "ratio": cli / bare}


def count(directory: Path) -> int:
    return sum(
        1
        for root, _dirs, files in os.walk(directory)
        for n in files
        if n.lower().endswith((".h5", ".hdf5", ".keras", ".json"))
    )
