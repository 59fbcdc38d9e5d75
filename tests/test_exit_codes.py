"""The exit-code contract CI scripts branch on (the modelscan convention): 0 nothing matched
--fail-on, 1 something did, 2 an input could not be read, 3 no model files found under a given
path, 4 usage error; the first of 4, 2, 3, 1 that applies wins."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from test_cli import error_lines, real_file, run

from regaudit.cli import EXIT_CODES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def failing() -> Path:
    return real_file("2.3.1", "rnn.h5")  # GRU: error findings, not importable


def test_0_when_nothing_matches_fail_on(failing: Path) -> None:
    assert run(failing).returncode == 0
    assert run(failing, "--fail-on", "applied,warned").returncode == 0  # none of either


def test_1_when_something_matches_fail_on(failing: Path) -> None:
    proc = run(failing, "--fail-on", "error", "--format", "sarif")
    assert proc.returncode == 1
    levels = {r["level"] for r in json.loads(proc.stdout)["runs"][0]["results"]}
    assert "error" in levels


def test_2_when_an_input_cannot_be_read(tmp_path: Path, failing: Path) -> None:
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    assert run(tmp_path / "missing.h5").returncode == 2
    assert run(broken).returncode == 2
    assert run(broken, failing, "--fail-on", "error").returncode == 2  # 2 wins over 1


def test_3_when_a_path_holds_no_model_files(tmp_path: Path, failing: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no models here")
    proc = run(empty)
    assert proc.returncode == 3
    [line] = error_lines(proc)
    assert str(empty) in line and "no model files" in line
    assert run(str(tmp_path / "*.keras")).returncode == 3  # a pattern that matches nothing
    # A folder whose only JSON files are not Keras models: each skipped, nothing audited.
    only_json = tmp_path / "settings"
    only_json.mkdir()
    (only_json / "settings.json").write_text('{"epochs": 3}')
    assert run(only_json).returncode == 3
    # 3 wins over 1, and 2 over 3.
    assert run(empty, failing, "--fail-on", "error").returncode == 3
    assert run(empty, tmp_path / "missing.h5").returncode == 2


def test_3_still_writes_a_valid_empty_report(tmp_path: Path) -> None:
    proc = run(tmp_path, "--format", "sarif")  # tmp_path is empty
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["runs"][0]["results"] == []
    assert json.loads(run(tmp_path, "--format", "gitlab").stdout) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--no-such-option", "x.h5"],
        ["x.h5", "--format", "xml"],
        ["x.h5", "--fail-on", "lost"],
        ["x.h5", "--mode", "sloppy"],
        [],  # no path at all
    ],
    ids=["unknown-option", "unknown-format", "unknown-outcome", "unknown-mode", "no-path"],
)
def test_4_on_a_usage_error_before_anything_is_read(args: list[str], tmp_path: Path) -> None:
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 4
    assert proc.stderr.startswith("usage: regaudit") and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_help_and_readme_state_every_exit_code() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    help_text = " ".join(proc.stdout.split())
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert [code for code, _ in EXIT_CODES] == [0, 1, 2, 3, 4]
    for code, meaning in EXIT_CODES:
        assert f"{code} {meaning}" in help_text
        assert re.search(rf"\b{code} {re.escape(meaning)}", readme), meaning


def test_exit_codes_are_the_same_from_another_working_directory(tmp_path: Path, failing: Path) -> None:
    local = tmp_path / "model.h5"
    shutil.copy(failing, local)
    proc = run("model.h5", "--format", "github", "--fail-on", "error", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith("::") and "file=model.h5," in proc.stdout
