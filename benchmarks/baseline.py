"""The site as an earlier commit built it, for before/after figures from one run
(`run.py --before REV`).

The commit's tree is exported with `git archive` into build/bench-cache/site-<sha>/ (never
committed) and built there by its own build.py; node_modules is shared with this checkout when
the two package-lock.json files are the same (else that build runs `npm ci` itself).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "bench-cache"


def site_at(rev: str) -> Path:
    """dist/ of `rev`, built once and kept."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()
    tree = CACHE / f"site-{sha[:12]}"
    dist = tree / "dist"
    if (dist / "build.json").exists():
        return dist
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    lock = "package-lock.json"
    if (tree / lock).read_bytes() == (ROOT / lock).read_bytes():
        os.symlink(ROOT / "node_modules", tree / "node_modules")
    wheels = ROOT / "build" / "wheels"  # micropip, which every build.py downloads once
    if wheels.exists():
        shutil.copytree(wheels, tree / "build" / "wheels")
    subprocess.run([sys.executable, str(tree / "build.py"), "build"], cwd=tree, check=True)
    return dist
