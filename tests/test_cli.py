"""The command line on real Keras files: exit codes, one-line errors, paths, globs, --output."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from regaudit.cli import _audit as cli_audit

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


def real_file(version: str, name: str) -> Path:
    """A generated Keras file: the project's fixture copy, else ../shared/corpus; skip if neither."""
    fixture = FIXTURES / f"keras-{version}" / name
    if fixture.is_file():
        return fixture
    for folder in sorted((CORPUS / "generated").glob(f"keras-{version}-*")):
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"no keras-{version}/{name} in tests/fixtures or {CORPUS}")


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    return subprocess.run(
        [sys.executable, "-m", "regaudit", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stderr.splitlines() if line]


# --- good files ----------------------------------------------------------------------------


def test_json_for_one_file_is_one_report_named_by_its_base_name() -> None:
    path = real_file("2.3.1", "dense_kernel_bias_activity.h5")
    proc = run(path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["schema"] == "regaudit/1"
    assert data["source"]["file"] == "dense_kernel_bias_activity.h5"
    assert data["source"]["keras_version"] == "2.3.1"
    assert {f["target"] for f in data["findings"]} == {"kernel", "bias", "activity"}
    assert proc.stderr == ""


def test_cli_json_is_byte_identical_to_rendering_the_audit_in_process() -> None:
    # The web page calls audit + render with the file's base name: same bytes as the CLI.
    from regaudit.audit import audit_path
    from regaudit.render import render

    path = real_file("2.15.0", "l1_l2.h5")
    proc = run(path, "--format", "json")
    expected = render(audit_path(str(path), display_name=path.name).to_dict(), "json")
    assert proc.stdout == expected


@pytest.mark.parametrize("fmt", ["text", "csv", "md", "html"])
def test_every_format_renders_a_real_file(fmt: str) -> None:
    path = real_file("2.3.1", "conv.h5")
    proc = run(path, "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    assert "conv.h5" in proc.stdout


def test_keras3_file_is_error_in_strict_mode_and_fail_on_error_exits_1() -> None:
    path = real_file("3.15.1", "dense_kernel_bias_activity.h5")
    proc = run(path, "--format", "json")
    assert proc.returncode == 0  # no --fail-on: a report is not a failure
    data = json.loads(proc.stdout)
    assert data["verdict"]["importable_strict"] is False
    assert data["findings"] and all(f["outcome"] == "error" for f in data["findings"])

    failed = run(path, "--fail-on", "error")
    assert failed.returncode == 1
    [line] = error_lines(failed)
    assert line.startswith(f"regaudit: {path}: ") and "error" in line
    assert run(path, "--fail-on", "blocked").returncode == 1


def test_fail_on_dropped_exits_1_on_a_file_with_a_dropped_regularizer() -> None:
    # Spec §3: activity_regularizer is never read, so it is dropped in both modes.
    path = real_file("2.3.1", "dense_kernel_bias_activity.h5")
    data = json.loads(run(path, "--format", "json").stdout)
    activity = [f for f in data["findings"] if f["target"] == "activity"]
    assert [f["outcome"] for f in activity] == ["dropped"]

    proc = run(path, "--fail-on", "dropped")
    assert proc.returncode == 1
    assert "dense_kernel_bias_activity.h5" in proc.stdout  # the report is still printed
    assert run(path, "--fail-on", "dropped", "--mode", "lenient").returncode == 1


def test_fail_on_compares_the_lenient_outcome_with_mode_lenient() -> None:
    # Spec §3: a module/registered_name key fails the unknown-field check only when enforcing.
    path = real_file("2.15.0", "dense_kernel_bias_activity.h5")
    data = json.loads(run(path, "--format", "json").stdout)
    strict = {f["outcome"] for f in data["findings"]}
    lenient = {f["outcome_lenient"] for f in data["findings"]}
    assert "error" in strict and "error" not in lenient
    assert run(path, "--fail-on", "error").returncode == 1
    assert run(path, "--fail-on", "error", "--mode", "lenient").returncode == 0


def test_weights_only_file_has_unknown_verdict_and_is_not_blocked() -> None:
    path = real_file("2.3.1", "dense_kernel_bias_activity.weights.h5")
    proc = run(path, "--format", "json", "--fail-on", "blocked,error,dropped")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["verdict"]["importable_strict"] is None
    assert data["verdict"]["importable_lenient"] is None
    assert data["findings"] == [] and data["notes"]


# --- bad input -----------------------------------------------------------------------------


def test_empty_file_and_png_named_h5_give_one_line_each_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    png = tmp_path / "picture.h5"
    png.write_bytes(PNG)
    proc = run(empty, png)
    assert proc.returncode == 2
    lines = error_lines(proc)
    assert len(lines) == 2
    assert lines[0].startswith(f"regaudit: {empty}: ")
    assert lines[1].startswith(f"regaudit: {png}: ") and "PNG" in lines[1]


def test_a_bad_file_does_not_stop_the_good_ones_and_2_wins_over_1(tmp_path: Path) -> None:
    good = real_file("2.3.1", "dense_kernel_bias_activity.h5")
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)  # HDF5 magic, nothing behind it
    proc = run(bad, good, "--format", "json", "--fail-on", "dropped")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["source"]["file"] == good.name
    lines = error_lines(proc)
    assert any(line.startswith(f"regaudit: {bad}: ") for line in lines)
    assert len([line for line in lines if str(bad) in line]) == 1


def test_missing_path_and_unmatched_glob_exit_2(tmp_path: Path) -> None:
    proc = run(tmp_path / "nope.h5", str(tmp_path / "*.keras"))
    assert proc.returncode == 2
    lines = error_lines(proc)
    assert len(lines) == 2
    assert "no such file" in lines[0] and "no files match" in lines[1]


def test_an_error_line_stays_one_line_whatever_the_file_name(tmp_path: Path) -> None:
    odd = tmp_path / "two\nlines\x1b[31m.h5"
    odd.write_bytes(b"")
    proc = run(odd)
    assert proc.returncode == 2
    [line] = error_lines(proc)
    assert "\x1b" not in line and "two\\x0alines" in line


def test_unknown_fail_on_name_is_a_usage_error() -> None:
    proc = run("x.h5", "--fail-on", "dropped,lost")
    assert proc.returncode == 4
    assert "lost" in proc.stderr and "Traceback" not in proc.stderr


def _boom(path: str, fmt: str, *context: object) -> tuple[dict, str]:
    raise ZeroDivisionError("division by zero")


def _segfault_on_a(path: str, fmt: str, *context: object) -> tuple[dict, str]:
    if os.path.basename(path) == "a.h5":
        os.kill(os.getpid(), signal.SIGSEGV)
    return cli_audit(path, fmt, *context)


def test_a_crash_while_reading_costs_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from regaudit import cli

    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    a.write_bytes(b"x")
    for good in (b, c):
        good.write_bytes((FIXTURES / "keras-2.3.1" / "rnn.h5").read_bytes())
    monkeypatch.setattr(cli, "_audit", _segfault_on_a)
    out = tmp_path / "out.json"
    assert cli.main([str(b), str(a), str(c), "--format", "json", "-o", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"regaudit: {a}: reading this file crashed")
    assert [r["source"]["file"] for r in json.loads(out.read_text())] == ["b.h5", "c.h5"]


def test_a_real_file_that_crashes_hdf5_does_not_stop_the_batch(tmp_path: Path) -> None:
    """adamw_compiled.h5 with byte 1897 inverted made h5py 3.x's HDF5 segfault reading an
    attribute (found by tests/test_mutated_files.py). Whatever HDF5 makes of it, the CLI must
    end normally with one line for it and a report for the next file."""
    data = bytearray((FIXTURES / "keras-2.15.0" / "adamw_compiled.h5").read_bytes())
    data[1897] ^= 0xFF
    bad, good = tmp_path / "flipped.h5", tmp_path / "good.h5"
    bad.write_bytes(bytes(data))
    good.write_bytes((FIXTURES / "keras-2.3.1" / "rnn.h5").read_bytes())
    result = run(bad, good, "--format", "json")
    assert result.returncode in (0, 2), result.stderr  # never a signal (negative)
    assert "Traceback" not in result.stderr
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert reports[-1]["source"]["file"] == "good.h5"


def test_unexpected_exception_becomes_one_internal_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from regaudit import cli

    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    a.write_bytes(b"x")
    b.write_bytes(b"x")

    monkeypatch.setattr(cli, "_audit", _boom)
    assert cli.main([str(a), str(b)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"regaudit: {a}: internal error: ZeroDivisionError: division by zero",
        f"regaudit: {b}: internal error: ZeroDivisionError: division by zero",
    ]


# --- paths, globs, output ------------------------------------------------------------------


def _tree(tmp_path: Path) -> Path:
    """A directory with models in sub-folders, a non-model file and a non-model JSON."""
    root = tmp_path / "models"
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    shutil.copy(real_file("2.3.1", "l1_l2.h5"), root / "b" / "z.h5")
    shutil.copy(real_file("2.3.1", "conv.h5"), root / "a" / "y.hdf5")
    shutil.copy(real_file("2.15.0", "l1_l2.keras"), root / "x.keras")
    (root / "README.txt").write_text("not a model")
    (root / "settings.json").write_text('{"epochs": 3}')
    return root


def test_directory_is_searched_recursively_in_sorted_order(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    proc = run(root, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    files = [r["source"]["file"] for r in json.loads(proc.stdout)]
    assert files == ["y.hdf5", "z.h5", "x.keras"]  # a/y, b/z, x: sorted paths
    # A JSON file found in a directory that is not a model is skipped with a note, not an error.
    [line] = error_lines(proc)
    assert "settings.json" in line and "skipped" in line


def test_named_non_model_json_is_an_error(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text('{"epochs": 3}')
    proc = run(settings)
    assert proc.returncode == 2
    [line] = error_lines(proc)
    assert line.startswith(f"regaudit: {settings}: ")


def test_quoted_glob_is_expanded_by_regaudit(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    proc = run(str(root / "**" / "*.h*"), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("file,layer,layer_path")
    assert sum(1 for line in lines if line.startswith("file,")) == 1
    names = {line.split(",")[0] for line in lines[1:]}
    assert names == {"y.hdf5", "z.h5"}


def test_same_file_twice_is_audited_once(tmp_path: Path) -> None:
    path = real_file("2.3.1", "l1_l2.h5")
    proc = run(path, path, "--format", "json")
    assert json.loads(proc.stdout)["source"]["file"] == "l1_l2.h5"  # one object, not an array


def test_output_writes_the_file_and_nothing_to_stdout(tmp_path: Path) -> None:
    path = real_file("2.3.1", "rnn.h5")
    target = tmp_path / "report.md"
    proc = run(path, "--format", "md", "--output", target)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert target.read_text(encoding="utf-8") == run(path, "--format", "md").stdout
    assert target.read_text(encoding="utf-8").startswith("## rnn.h5")


@pytest.mark.corpus
def test_whole_corpus_in_one_call_never_crashes() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    proc = run(CORPUS, "--format", "json")
    lines = error_lines(proc)
    assert not [line for line in lines if "internal error" in line], lines
    assert proc.returncode in (0, 2)
    reports = json.loads(proc.stdout)
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    assert len(reports) + len([x for x in lines if "skipped" not in x]) >= len(manifest["files"])
