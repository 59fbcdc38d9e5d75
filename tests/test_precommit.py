"""The pre-commit hook (.pre-commit-hooks.yaml) as a user gets it: `pre-commit try-repo` clones
this project from a local path, installs regaudit into the hook's own virtualenv and runs it on
real model files in a temporary git repository. Offline: pip reads only the wheels `build.py
test` downloaded beforehand, and every proxy points at a closed local port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_cli import real_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import build  # noqa: E402

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, any download fails at once


def test_the_hook_definition_is_what_users_configure() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "regaudit" and hook["entry"] == "regaudit"
    assert hook["files"] == r"\.(h5|hdf5|keras)$"
    assert hook["language"] == "python"


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    wheelhouse = build.hook_wheelhouse()  # already there after `build.py test`
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        VIRTUALENV_NO_PERIODIC_UPDATE="1",
        HTTP_PROXY=NOWHERE, HTTPS_PROXY=NOWHERE, http_proxy=NOWHERE, https_proxy=NOWHERE,
        GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@localhost",
        GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@localhost",
    )
    return env


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, offline_env: dict[str, str]) -> Path:
    """This working tree as one commit (try-repo would leave out files not yet committed)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "regaudit"]):
        subprocess.run(["git", *cmd], cwd=repo, env=offline_env, check=True)
    return repo


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory: pytest.TempPathFactory, offline_env: dict[str, str]) -> Path:
    """A user's repository holding a model DL4J imports with its regularizers (altered, not
    lost), one whose GRU makes the import fail, and a file the hook must not look at."""
    repo = tmp_path_factory.mktemp("user-repo")
    (repo / "models").mkdir()
    shutil.copy(real_file("2.3.1", "l1_l2.h5"), repo / "models" / "good.h5")
    shutil.copy(real_file("2.3.1", "rnn.h5"), repo / "models" / "bad.h5")
    (repo / "notes.txt").write_text("not a model\n")
    for cmd in (["init", "-q"], ["add", "."]):
        subprocess.run(["git", *cmd], cwd=repo, env=offline_env, check=True)
    return repo


def try_repo(hook: Path, user: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook), "regaudit", "--files", *files],
        cwd=user, env=env, capture_output=True, text=True, timeout=600,
    )


def test_try_repo_passes_on_a_model_whose_regularizers_survive(
    hook_repo: Path, user_repo: Path, offline_env: dict[str, str]
) -> None:
    proc = try_repo(hook_repo, user_repo, offline_env, "models/good.h5", "notes.txt")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "regaudit" in proc.stdout and "Passed" in proc.stdout


def test_try_repo_fails_on_a_model_the_import_loses_or_rejects(
    hook_repo: Path, user_repo: Path, offline_env: dict[str, str]
) -> None:
    proc = try_repo(hook_repo, user_repo, offline_env, "models/bad.h5", "notes.txt")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Failed" in out and "exit code: 1" in out
    assert "Unsupported keras layer type GRU" in out  # regaudit's own report, from the hook env
    assert "--fail-on matched" in out and "notes.txt" not in out.split("Failed", 1)[1]
