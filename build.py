"""Build, serve and test regaudit. `python build.py test` runs every test on a fresh machine."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    """A venv with the package (editable) and its test extras."""
    py = venv_python()
    if not py.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"], check=True, cwd=ROOT
    )
    return py


def cmd_test(args: argparse.Namespace) -> int:
    py = ensure_venv()
    subprocess.run([str(py), "-m", "ruff", "check", "."], check=True, cwd=ROOT)
    return subprocess.run([str(py), "-m", "pytest", *args.pytest_args], cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    test = sub.add_parser("test", help="set up what the tests need and run them all")
    test.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
    args = parser.parse_args(argv)
    if args.command == "test":
        return cmd_test(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
