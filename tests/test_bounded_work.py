"""Issue 14, point 7: no file can hold the CLI hostage.

Weights cost what the file stores, not what it declares (a read budget per file); a file that
still takes too long is stopped by --timeout and the batch goes on; when the CLI is killed, its
audit child dies with it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import h5py
import pytest

sys.path.insert(0, str(Path(__file__).parent / "bad_inputs"))
import make_bad_inputs as bad  # noqa: E402

from regaudit import cli  # noqa: E402
from regaudit.audit import audit_path  # noqa: E402
from regaudit.sources.model import READ_FLOOR, READ_RATIO, ReadBudget  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD_S = 120  # a run that never ends fails here instead of holding the suite
OVER = "weights beyond the file's read budget: not read"


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, "-m", "regaudit", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD_S)


def kernel(report: dict[str, Any], target: str = "kernel") -> dict[str, Any]:
    return next(f for f in report["findings"] if f["target"] == target)


@pytest.mark.parametrize("name", ["sparse_1tib.h5", "zeros_gzip_4gib.h5"])
def test_declared_terabytes_are_noted_not_read(tmp_path: Path, name: str) -> None:
    bad.make_all(tmp_path, {name})
    proc = run_cli(tmp_path / name, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (kernel(report)["penalty"], kernel(report)["penalty_note"]) == (None, OVER)
    assert kernel(report, "bias")["penalty"] is not None
    [note] = [n for n in report["notes"] if n["code"] == "WEIGHTS_OVER_BUDGET"]
    declared = "1 TiB" if name == "sparse_1tib.h5" else "4 GiB"
    assert f"float32 ({declared}), more than the " in note["message"]
    original = json.loads(run_cli(bad.GOOD_H5, "--format", "json").stdout)
    assert report["verdict"] == original["verdict"]
    assert [f["outcome"] for f in report["findings"]] == [
        f["outcome"] for f in original["findings"]]


def sparse_copy(path: Path, kernel_shape: tuple[int, ...], bias_shape: tuple[int, ...] = (4,),
                fill: float = 0.0) -> Path:
    """GOOD_H5 with its kernel (and bias) as chunked datasets that store nothing."""
    shutil.copyfile(bad.GOOD_H5, path)
    with h5py.File(path, "r+") as f:
        for name, shape in ((bad.KERNEL, kernel_shape),
                            (bad.KERNEL.replace("kernel", "bias"), bias_shape)):
            del f[name]
            chunks = (*(1 for _ in shape[:-1]), shape[-1])
            f.create_dataset(name, shape=shape, dtype="float32", chunks=chunks, fillvalue=fill)
    return path


def test_within_the_budget_the_fill_values_are_summed(tmp_path: Path) -> None:
    rows = READ_FLOOR // (4 * 1024)  # exactly the budget's floor of float32
    report = audit_path(str(sparse_copy(tmp_path / "floor.h5", (rows, 1024), fill=0.5)))
    penalty = kernel(report.to_dict())["penalty"]
    assert penalty["count"] == rows * 1024
    assert penalty["sum_abs"] == 0.5 * rows * 1024


def test_the_budget_is_for_the_whole_file(tmp_path: Path) -> None:
    """The kernel takes 40 MiB of the 64; the bias then declares 40 MiB more: not read."""
    path = sparse_copy(tmp_path / "two.h5", (10 * 1024, 1024), (10 * 1024, 1024))
    report = audit_path(str(path)).to_dict()
    assert kernel(report)["penalty"]["count"] == 10 * 2**20
    assert kernel(report, "bias")["penalty_note"] == OVER
    [note] = [n for n in report["notes"] if n["code"] == "WEIGHTS_OVER_BUDGET"]
    assert note["message"].startswith("dense_reg/dense_reg/bias:0: declares 10240x1024 float32")
    assert "more than the 24 MiB left" in note["message"]


def test_the_budget_grows_with_the_file() -> None:
    assert ReadBudget(14_000).total == READ_FLOOR
    assert ReadBudget(100 * 2**20).total == READ_RATIO * 100 * 2**20
    assert ReadBudget(None).total == READ_FLOOR


# --- --timeout ------------------------------------------------------------------------------


def _hang_on_slow(path: str, fmt: str, context: object = None) -> tuple[dict, str]:
    if os.path.basename(path) == "slow.h5":
        while True:
            time.sleep(1)
    return cli._audit(path, fmt, context)


def test_a_file_past_its_time_is_reported_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slow, fast = tmp_path / "slow.h5", tmp_path / "fast.h5"
    for path in (slow, fast):
        shutil.copyfile(bad.GOOD_H5, path)
    monkeypatch.setattr(cli, "_audit", _hang_on_slow)
    # 5 s: the fast file's audit must fit in it even on a loaded machine.
    assert cli.main([str(slow), str(fast), "--format", "json", "--timeout", "5"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["source"]["file"] == "fast.h5", captured
    [line] = captured.err.splitlines()
    assert line.startswith(f"regaudit: {slow}: timed out: still being audited after 5 s")


def test_timeout_values() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["x"]).timeout == cli.DEFAULT_TIMEOUT_S
    assert parser.parse_args(["x", "--timeout", "0"]).timeout is None  # no limit
    assert parser.parse_args(["x", "--timeout", "2.5"]).timeout == 2.5
    for wrong in ("-1", "soon", "nan", "inf"):
        with pytest.raises(SystemExit):
            parser.parse_args(["x", "--timeout", wrong])


# --- the audit child dies with the CLI -----------------------------------------------------

# Runs the CLI on one file whose audit never ends; the child writes its pid first. Ties to the
# parent can be switched off one by one, to show that each one alone is enough.
KILLED_PARENT = """
import os, sys, time
import regaudit.cli as cli
import regaudit.isolate as isolate
if "pdeathsig" in sys.argv[2]:
    isolate._set_pdeathsig = lambda: None
if "watch" in sys.argv[2]:
    isolate._watch_parent = lambda parent: None

def hang(path, fmt, context=None):
    with open(sys.argv[1], "w") as f:
        f.write(str(os.getpid()))
    while True:
        pass  # busy, as a child reading a huge tensor is

cli._audit = hang
cli.main([sys.argv[3], "--timeout", "0"])
"""


def _alive(pid: int) -> bool:
    """Running or sleeping; a zombie (dead, not yet reaped by its new parent) is not alive."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _kill_the_cli(tmp_path: Path, switched_off: str) -> int:
    """Start the CLI, wait for its audit child, SIGKILL the CLI; the child's pid."""
    pid_file = tmp_path / "child.pid"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, str(pid_file), switched_off,
                               str(bad.GOOD_H5)], env=env)
    deadline = time.monotonic() + HANG_GUARD_S
    while not (pid_file.exists() and pid_file.read_text()):
        assert parent.poll() is None and time.monotonic() < deadline, "no audit child started"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    return child


def _wait_gone(pid: int, bound_s: float = 30) -> bool:
    deadline = time.monotonic() + bound_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("switched_off", ["nothing", "pdeathsig", "watch"])
def test_the_audit_child_dies_with_the_cli(tmp_path: Path, switched_off: str) -> None:
    child = _kill_the_cli(tmp_path, switched_off)
    assert _wait_gone(child), f"audit child {child} outlived the CLI"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_without_both_ties_the_child_would_live_on(tmp_path: Path) -> None:
    """The control: with neither tie the child keeps running, so the test above can fail."""
    child = _kill_the_cli(tmp_path, "pdeathsig+watch")
    try:
        time.sleep(2)
        assert _alive(child)
    finally:
        os.kill(child, signal.SIGKILL)
