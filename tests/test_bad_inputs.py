"""The hostile/broken corpus through the CLI: one clear line and exit 2, or a usable report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "bad_inputs"))
import make_bad_inputs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = json.loads((ROOT / "tests" / "bad_inputs" / "MANIFEST.json").read_text())["cases"]


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bad_inputs")
    make_bad_inputs.make_all(out)
    return out


def test_manifest_is_current_and_large_enough() -> None:
    assert (ROOT / "tests" / "bad_inputs" / "MANIFEST.json").read_text() == make_bad_inputs.manifest()
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_cli_on_bad_input(bad_dir: Path, case: dict) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run(
        [sys.executable, "-m", "regaudit", "--format", "json", str(bad_dir / case["file"])],
        capture_output=True, text=True, env=env, timeout=120,
    )
    kind, text = case["expect"].split(": ", 1)
    assert "Traceback" not in result.stderr
    if kind == "error":
        assert result.returncode == 2, result.stdout[:500]
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and case["file"] in lines[0], lines
        assert text in lines[0]
        assert "internal error" not in lines[0]
    else:
        assert result.returncode == 0, result.stderr
        assert text in result.stdout
        json.loads(result.stdout)  # still valid JSON, NaN included


PEAK_RSS = """
import resource, sys
from regaudit.cli import main
code = main(sys.argv[1:])
# The file is read in the CLI's child process (regaudit.isolate), which has ended by now.
peaks = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(*peaks, file=sys.stderr)
"""


@pytest.mark.parametrize("name", ["keras_zip_bomb.keras", "sparse_2gb.h5", "deep_json.h5"])
def test_memory_stays_bounded_on_bombs(bad_dir: Path, name: str) -> None:
    """A 1 GiB zip member, a 2 GiB sparse file, 100,000 nested brackets: refused, not read."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run([sys.executable, "-c", PEAK_RSS, str(bad_dir / name)],
                            capture_output=True, text=True, env=env, timeout=120)
    self_kib, child_kib = map(int, result.stderr.strip().splitlines()[-1].split())
    assert child_kib > 0, "no child process was measured: the audit ran elsewhere"
    for peak_kib in (self_kib, child_kib):
        assert peak_kib < 200 * 1024, f"peak RSS {peak_kib} KiB"
