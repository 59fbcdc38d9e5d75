"""A regularized tensor of more than 128 MiB: its weight sums are read with the streams API
between two passes of the audit (static/h5.js, worker.js), and the report is still the CLI's,
byte for byte."""

from __future__ import annotations

import sys
from pathlib import Path

from e2e_support import ROOT, Site, cli

sys.path.insert(0, str(ROOT / "benchmarks"))
import models  # noqa: E402  (the benchmark's generated models: a real Keras file, scaled)


def test_a_big_regularized_tensor_is_streamed_and_summed_as_numpy_does(site: Site, tmp_path: Path):
    model = models.scaled_model(tmp_path / "big.h5", 130 * 2**20, regularized=True)
    debug: list[str] = []
    site.page.on("console", lambda m: debug.append(m.text) if m.type == "debug" else None)
    site.open()
    site.audit(model.path)
    assert site.download(model.path.name, "json") == cli(model.path)
    assert any("1 big tensor(s) of big.h5 read with the streams API" in m for m in debug), debug
    assert site.errors == []
