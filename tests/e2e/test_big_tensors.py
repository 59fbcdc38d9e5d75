"""A regularized tensor of more than 128 MiB: its weight sums are read with the streams API
between two passes of the audit (static/h5.js, worker.js), and the report is still the CLI's,
byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from e2e_support import ROOT, Site, cli

# The benchmark's generated model (a real Keras file, its Embedding scaled), written by another
# process: the 130 MiB would otherwise stay in this one's resident set, and every process it
# starts afterwards inherits that peak (test_bad_inputs measures peaks).
MAKE = """
import sys
sys.path.insert(0, sys.argv[1])
import models
models.scaled_model(__import__("pathlib").Path(sys.argv[2]), 130 * 2**20, regularized=True)
"""


def test_a_big_regularized_tensor_is_streamed_and_summed_as_numpy_does(site: Site, tmp_path: Path):
    path = tmp_path / "big.h5"
    subprocess.run([sys.executable, "-c", MAKE, str(ROOT / "benchmarks"), str(path)], check=True)
    debug: list[str] = []
    site.page.on("console", lambda m: debug.append(m.text) if m.type == "debug" else None)
    site.open()
    site.audit(path)
    assert site.download(path.name, "json") == cli(path)
    assert any("1 big tensor(s) of big.h5 read with the streams API" in m for m in debug), debug
    assert site.errors == []
