"""The CLI over a directory of files versus the bare loop (benchmarks/bare_loop.py), measured
two ways, interleaved (CLI, bare, CLI, bare, ...):

- process: `python -m regaudit --format json DIR > /dev/null` versus
  `python benchmarks/bare_loop.py DIR`, each a fresh interpreter (what a CI step pays);
- in-process: `regaudit.cli.main([... DIR])` versus `bare_loop.run(files)`, each timed on its
  second pass in a fresh interpreter (imports done, the files in the OS cache): the per-file
  work alone.
"""

from __future__ import annotations

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


# One warm pass, then one timed pass, in a fresh interpreter that imports only what it times:
# regaudit's CLI must start with one thread to fork its audit child (regaudit.isolate), and
# h5py/numpy imported beside it (as here, for the bare loop) start OpenBLAS threads.
WARM_CLI = """
import contextlib, io, sys, time
from regaudit.cli import main
def once():
    sink = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(io.StringIO()):
        main(["--format", "json", sys.argv[1]])
once()
start = time.perf_counter()
once()
print((time.perf_counter() - start) * 1000)
"""
WARM_BARE = """
import sys, time
sys.path.insert(0, sys.argv[2])
import bare_loop
files = bare_loop.model_files(sys.argv[1])
bare_loop.run(files)
start = time.perf_counter()
bare_loop.run(files)
print((time.perf_counter() - start) * 1000)
"""


def _warm(script: str, directory: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", script, str(directory), str(HERE)],
        capture_output=True, text=True, check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def in_process(directory: Path, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"cli": [], "bare": []}
    for _ in range(runs):
        out["cli"].append(_warm(WARM_CLI, directory))
        out["bare"].append(_warm(WARM_BARE, directory))
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
