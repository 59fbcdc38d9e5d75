"""Build, serve and test regaudit.

python build.py            build dist/, the deployable static site
python build.py serve      build if needed and serve dist/ on 127.0.0.1 (--port N)
python build.py test       set up what the tests need (venv, Chromium, dist/, the pre-commit
                           hook's wheels) and run them all
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
DIST = ROOT / "dist"
CACHE = ROOT / "build"  # downloaded and built wheels (git-ignored)
NODE_MODULES = ROOT / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
# Flags for a headless Chromium in a container (no sandbox, no GPU) that makes no request of
# its own: tests and benchmarks launch it with these.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# From the pinned npm packages: only what the page loads.
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
H5WASM_FILES = ("hdf5_hl.js", "hdf5_util.js")  # dist/esm: the browser build, wasm inlined
PAGE_FILES = ("index.html", "app.py")
SNAPSHOT = "regaudit.snapshot"  # Python's memory after boot and imports (see make_snapshot)
STATIC_FILES = ("start.js", "main.js", "worker.js", "h5.js", "h5-guard.js", "h5-decode.js",
                "h5-pairwise.js", "h5-files.js", "style.css", "favicon.svg")

# One policy, written here once: the build puts it in the page's <meta> (index.html holds
# {{CSP}}), and `serve` sends it as a header for every response, so the worker (which a <meta>
# does not reach) runs under it too.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
    "connect-src 'self'; img-src 'self'; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)
MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".py": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".h5": "application/octet-stream",
    ".keras": "application/octet-stream",
    ".svg": "image/svg+xml",
}


def log(message: str) -> None:
    print(f"build.py: {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)  # type: ignore[arg-type]


# --- environments ---------------------------------------------------------------------------


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    """A venv with the package (editable) and its test extras."""
    py = venv_python()
    if not py.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run([py, "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"])
    return py


def pip_python() -> Path:
    """A Python with pip, for downloading and building wheels: this one, else the venv's."""
    probe = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    return Path(sys.executable) if probe.returncode == 0 else ensure_venv()


def hook_wheelhouse() -> Path:
    """Wheels of what `pip install .` needs (the build backend and the runtime dependencies,
    as pyproject.toml names them), so that the pre-commit hook test installs regaudit into the
    hook's own environment offline (tests/test_precommit.py). Downloaded once per change."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [*project["build-system"]["requires"], *project["project"]["dependencies"]]
    target = CACHE / "wheelhouse"
    stamp = target / "REQUIREMENTS"
    if not stamp.exists() or stamp.read_text() != "\n".join(wanted):
        log("downloading the wheels the pre-commit hook test installs offline")
        shutil.rmtree(target, ignore_errors=True)
        run([venv_python(), "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", target,
             *wanted])
        stamp.write_text("\n".join(wanted))
    return target


def npm_versions_ok() -> bool:
    """node_modules holds exactly the versions package.json pins."""
    pkg = json.loads((ROOT / "package.json").read_text())
    wanted = {**pkg["dependencies"], **pkg.get("devDependencies", {})}  # axe-core: tests only
    for name, version in wanted.items():
        meta = NODE_MODULES / name / "package.json"
        if not meta.exists() or json.loads(meta.read_text()).get("version") != version:
            return False
    return True


def ensure_node_modules() -> None:
    if not npm_versions_ok():
        log("npm ci (pyodide, h5wasm; axe-core for the tests: as pinned in package-lock.json)")
        run(["npm", "ci", "--no-audit", "--no-fund"])


def chromium_launch_options(*extra_args: str) -> dict:
    """Playwright launch options: Debian's Chromium where present, else Playwright's own."""
    options: dict = {"args": [*CHROMIUM_ARGS, *extra_args]}
    if CHROMIUM.exists():
        options["executable_path"] = str(CHROMIUM)
    return options


def ensure_chromium() -> None:
    """Debian's Chromium where present; apt-get it when root; else Playwright's own."""
    if CHROMIUM.exists():
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing Chromium with apt-get")
        try:
            run(["apt-get", "update"])
            run(
                ["apt-get", "install", "-y", "chromium"],
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
            return
        except subprocess.CalledProcessError:
            log("apt-get could not install chromium; trying Playwright's own browser")
    run([venv_python(), "-m", "playwright", "install", "chromium"])


# --- build ----------------------------------------------------------------------------------


def micropip_wheel() -> Path:
    """The micropip version Pyodide's lock file names, from PyPI (cached in build/): the
    source of the MPL-2.0 text in the notices (see `notices`)."""
    lock = json.loads((NODE_MODULES / "pyodide" / "pyodide-lock.json").read_text())
    info = lock["packages"]["micropip"]
    target = CACHE / "wheels"
    path = target / info["file_name"]
    if not path.exists():
        log(f"downloading micropip {info['version']}")
        python_version = ".".join(lock["info"]["python"].split(".")[:2])
        run(
            [
                pip_python(),
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                python_version,
                "-d",
                target,
                f"micropip=={info['version']}",
            ]
        )
    return path


def project_wheel() -> Path:
    """regaudit's own wheel, built fresh from src/."""
    target = CACHE / "project-wheel"
    shutil.rmtree(target, ignore_errors=True)
    log("building the regaudit wheel")
    run([pip_python(), "-m", "pip", "wheel", "-q", "--no-deps", "-w", target, ROOT])
    (wheel,) = target.glob("regaudit-*.whl")
    return wheel


def notices(micropip: Path) -> str:
    """Third-party licenses, from the packages' own files. The pyodide npm package carries no
    license file; the MPL-2.0 text is taken from the Pyodide project's micropip wheel (fetched
    for that alone: the page installs regaudit's wheel without micropip)."""
    pyodide_meta = json.loads((NODE_MODULES / "pyodide" / "package.json").read_text())
    h5wasm_meta = json.loads((NODE_MODULES / "h5wasm" / "package.json").read_text())
    with zipfile.ZipFile(micropip) as z:
        mpl = next(n for n in z.namelist() if n.endswith(".dist-info/licenses/LICENSE"))
        mpl_text = z.read(mpl).decode()
    parts = [
        "regaudit's web page bundles the third-party software below, unmodified.\n",
        f"== Pyodide {pyodide_meta['version']} ({pyodide_meta['license']}) ==\n"
        f"Files: vendor/pyodide/*. Source: {pyodide_meta['homepage']}\n"
        "Pyodide is distributed under the Mozilla Public License 2.0; its text, as the Pyodide\n"
        "project ships it (in its micropip wheel), follows.\n\n" + mpl_text,
        f"== h5wasm {h5wasm_meta['version']} (NIST; HDF5 library by The HDF Group) ==\n"
        "Files: vendor/h5wasm/*. Its LICENSE.txt, with NIST's notice and the HDF5 license:\n\n"
        + (NODE_MODULES / "h5wasm" / "LICENSE.txt").read_text(),
    ]
    psf = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    if psf.exists():
        parts.append(
            "== Python (CPython, compiled into Pyodide) (PSF License) ==\n"
            "The license text, as shipped with the CPython that built this site:\n\n"
            + psf.read_text()
        )
    return "\n\n".join(p.rstrip() + "\n" for p in parts)


# The snapshot as the page gets it: Python's heap without its zero pages (~45% of its 31 MB is
# free heap, all zeros). Layout: PACKED_MAGIC, the memory's size and the number of runs (u32
# LE each), each run's offset and length (u32 LE pairs), then the runs' bytes in order.
# worker.js (unpackSnapshot) puts the memory back together before Pyodide restores it.
PACKED_MAGIC = b"RGSNAP01"
PACKED_PAGE = 4096  # runs start and end on these boundaries (or at the memory's end)


def pack_snapshot(memory: bytes) -> bytes:
    runs: list[list[int]] = []
    for start in range(0, len(memory), PACKED_PAGE):
        end = min(start + PACKED_PAGE, len(memory))
        if not memory[start:end].strip(b"\0"):
            continue
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    header = [PACKED_MAGIC, len(memory).to_bytes(4, "little"), len(runs).to_bytes(4, "little")]
    for start, end in runs:
        header += [start.to_bytes(4, "little"), (end - start).to_bytes(4, "little")]
    return b"".join(header + [memory[start:end] for start, end in runs])


def unpack_snapshot(packed: bytes) -> bytes:
    """pack_snapshot's inverse (the tests use it; the page has its own in worker.js)."""
    if packed[:8] != PACKED_MAGIC:
        raise ValueError("not a packed snapshot")
    size, count = (int.from_bytes(packed[i : i + 4], "little") for i in (8, 12))
    memory = bytearray(size)
    at = 16 + 8 * count
    for i in range(count):
        entry = 16 + 8 * i
        start, length = (int.from_bytes(packed[j : j + 4], "little") for j in (entry, entry + 4))
        memory[start : start + length] = packed[at : at + length]
        at += length
    return bytes(memory)


def make_snapshot(wheel: Path, out: Path) -> dict:
    """The page's Python memory snapshot (snapshot.mjs, in Node, with the pinned Pyodide):
    Python booted with regaudit imported, packed (pack_snapshot). build.json carries the packed
    file's size and SHA-256, which the worker checks before it uses it."""
    log("making the Python memory snapshot (node snapshot.mjs)")
    run(["node", ROOT / "snapshot.mjs", NODE_MODULES / "pyodide", wheel, ROOT / "app.py", out])
    data = pack_snapshot(out.read_bytes())
    out.write_bytes(data)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def build() -> Path:
    """Assemble dist/: page, worker, vendor runtimes, wheels, examples, notices, service worker."""
    ensure_node_modules()
    micropip = micropip_wheel()
    wheel = project_wheel()
    staging = CACHE / "dist-staging"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for name in PAGE_FILES:
            copy(ROOT / name, staging / name)
        for name in STATIC_FILES:
            copy(ROOT / "static" / name, staging / "static" / name)
        for src in sorted((ROOT / "static" / "examples").iterdir()):
            if src.is_file():
                copy(src, staging / "static" / "examples" / src.name)
        for name in PYODIDE_FILES:
            copy(NODE_MODULES / "pyodide" / name, staging / "vendor" / "pyodide" / name)
        for name in H5WASM_FILES:
            copy(
                NODE_MODULES / "h5wasm" / "dist" / "esm" / name,
                staging / "vendor" / "h5wasm" / name,
            )
        copy(wheel, staging / "wheels" / wheel.name)
        (staging / "docs").mkdir()
        (staging / "docs" / "import-rules.html").write_text(rules_page())
        snapshot = make_snapshot(wheel, staging / SNAPSHOT)
        (staging / "THIRD_PARTY_NOTICES.txt").write_text(notices(micropip))
        pkg = json.loads((ROOT / "package.json").read_text())["dependencies"]
        manifest = {
            "pyodide": pkg["pyodide"],
            "h5wasm": pkg["h5wasm"],
            "wheels": {"regaudit": f"wheels/{wheel.name}"},
            "snapshot": snapshot,
        }
        (staging / "build.json").write_text(json.dumps(manifest, indent=2) + "\n")
        page = staging / "index.html"
        build = build_id(staging)
        text = page.read_text(encoding="utf-8").replace("{{CSP}}", CSP)
        page.write_text(text.replace("{{BUILD}}", build), encoding="utf-8")
        write_service_worker(staging, build)
        shutil.rmtree(DIST, ignore_errors=True)
        staging.rename(DIST)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    size = sum(p.stat().st_size for p in DIST.rglob("*") if p.is_file())
    log(f"built {DIST} ({size / 2**20:.1f} MiB)")
    return DIST


def rules_page() -> str:
    """docs/import-rules.md as a page, from the same tables (the page's legend links to it)."""
    done = subprocess.run(
        [sys.executable, "-m", "regaudit.rulesdoc", "--html"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def build_id(site: Path) -> str:
    """A digest of everything the worker runs (all but the page): the page names its shared
    worker by it, so a page of a new build never joins a worker of an old one."""
    digest = hashlib.sha256()
    skip = {"index.html", "sw.js"}  # the page itself, and the list of files written after it
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p.name not in skip):
        digest.update(path.relative_to(site).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def write_service_worker(site: Path, build: str) -> None:
    """sw.js at the site's root (its scope), with the file list and a version: the build id
    (everything but the page, see build_id) with the page's own bytes."""
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    version = hashlib.sha256(build.encode() + b"\0" + (site / "index.html").read_bytes())
    precache = {"version": version.hexdigest()[:16], "files": ["./", *files]}
    source = (ROOT / "static" / "sw.js").read_text()
    marker = 'const PRECACHE = { version: "dev", files: [] }; // replaced by build.py'
    if marker not in source:
        raise SystemExit("build.py: static/sw.js lost its PRECACHE line")
    (site / "sw.js").write_text(source.replace(marker, f"const PRECACHE = {json.dumps(precache)};"))


def build_inputs() -> list[Path]:
    paths = [ROOT / n for n in (*PAGE_FILES, "build.py", "snapshot.mjs", "pyproject.toml",
                                "package-lock.json")]
    paths += [p for p in (ROOT / "static").rglob("*") if p.is_file()]
    paths += [p for p in (ROOT / "src").rglob("*.py")]
    return paths


def dist_is_current() -> bool:
    stamp = DIST / "build.json"
    if not stamp.exists() or not npm_versions_ok():
        return False
    built = stamp.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in build_inputs() if p.exists())


def ensure_built() -> Path:
    return DIST if dist_is_current() else build()


# --- serve ----------------------------------------------------------------------------------


# Sent with every file (the benchmarks serve dist/ with them too).
RESPONSE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the right MIME types, the page's CSP as a header, and no caching
    (the service worker does the caching)."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    quiet = True

    def end_headers(self) -> None:
        for name, value in RESPONSE_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(port: int = 8000, directory: Path = DIST) -> http.server.ThreadingHTTPServer:
    """A server for `directory` on 127.0.0.1 (port 0: any free port); not yet serving."""

    class Handler(SiteHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def cmd_serve(args: argparse.Namespace) -> int:
    if not args.no_build:
        ensure_built()
    server = make_server(args.port)
    SiteHandler.quiet = not args.verbose
    print(
        f"Serving {DIST} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()
    return 0


# --- test -----------------------------------------------------------------------------------


def cmd_test(pytest_args: list[str]) -> int:
    py = ensure_venv()
    run([py, "-m", "ruff", "check", "."])
    ensure_built()
    ensure_chromium()
    hook_wheelhouse()
    return subprocess.run([str(py), "-m", "pytest", *pytest_args], cwd=ROOT).returncode


def cmd_conformance(args: list[str]) -> int:
    py = ensure_venv()
    return subprocess.run([str(py), "-m", "conformance", *args], cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("build", help="build dist/ (the default)")
    serve = sub.add_parser("serve", help="build if needed and serve dist/ on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="port (0: any free one)")
    serve.add_argument("--no-build", action="store_true", help="serve dist/ as it is")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    test = sub.add_parser("test", help="set up what the tests need and run them all")
    test.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
    sub.add_parser("conformance",
                   help="run DL4J's real importer over model files and compare (see -h after it)")
    argv = sys.argv[1:] if argv is None else argv
    # Everything after these commands is passed on as it is (to pytest, to the conformance CLI).
    passthrough = {"test": cmd_test, "conformance": cmd_conformance}
    if argv[:1] == ["conformance"] or (argv[:1] == ["test"] and argv[1:2] != ["--help"]):
        return passthrough[argv[0]](argv[1:])
    args = parser.parse_args(argv)
    if args.command == "serve":
        return cmd_serve(args)
    build()
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
