"""The command line: audit Keras model files in batch, for people and for CI.

Exit status (EXIT_CODES): 0 nothing matched --fail-on, 1 something did, 2 an input could not be
read, 3 no model files found under a given path, 4 usage error; the first of 4, 2, 3, 1 that
applies wins. A bad file costs one line on stderr, never a traceback, and the batch goes on.
Each file is audited in a child process (regaudit.isolate): a file that crashes the HDF5
library, or is still being audited after --timeout seconds, costs that file only.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from regaudit.errors import NotAKerasModel, RegauditError
from regaudit.importers import DEFAULT, PROFILES, profile_named, short_name
from regaudit.isolate import Isolated
from regaudit.render import FORMATS, Context, join, render
from regaudit.render.ci import artifact_path
from regaudit.report import BLOCKED, MODES, OUTCOMES
from regaudit.sources.regular import file_kind

# What a directory is searched for (case-insensitive; .weights.h5 ends in .h5).
MODEL_SUFFIXES = (".h5", ".hdf5", ".keras", ".json")
EXIT_OK, EXIT_FAIL_ON, EXIT_BAD_INPUT, EXIT_NO_MODELS, EXIT_USAGE = 0, 1, 2, 3, 4
# The exit-code convention of model scanners (modelscan): CI scripts branch on it.
EXIT_CODES = (
    (EXIT_OK, "nothing matched --fail-on"),
    (EXIT_FAIL_ON, "something matched --fail-on"),
    (EXIT_BAD_INPUT, "an input could not be read"),
    (EXIT_NO_MODELS, "no model files found under a given path"),
    (EXIT_USAGE, "usage error"),
)
ALL_RELEASES = "all"  # --importer all
DEFAULT_TIMEOUT_S = 300  # per file; a 1 GiB model takes a few seconds

_GLOB_CHARS = re.compile(r"[*?\[]")
# One line per problem: no newline or terminal control sequence from a path or message.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass
class Input:
    path: str
    from_directory: bool = False  # found by searching a directory, not named by the user


@dataclass
class Run:
    audited: int = 0  # files that got a report
    bad_input: bool = False
    no_models: bool = False  # a directory or pattern held no model file, or nothing was audited
    failed: bool = False

    def exit_code(self) -> int:
        if self.bad_input:
            return EXIT_BAD_INPUT
        if self.no_models:
            return EXIT_NO_MODELS
        return EXIT_FAIL_ON if self.failed else EXIT_OK


def one_line(value: object) -> str:
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value)).strip()


def complain(path: str, message: str) -> None:
    print(f"regaudit: {one_line(path)}: {one_line(message)}", file=sys.stderr, flush=True)


def _walk(directory: str) -> list[str]:
    """Every model-like regular file under `directory`, sorted so a batch is deterministic. A
    FIFO, device or socket with a model's name is skipped with a line saying so: reading one
    could block the batch or never end."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            if name.lower().endswith(MODEL_SUFFIXES):
                path = os.path.join(root, name)
                if _regular(path):
                    found.append(path)
    return sorted(found)


def _regular(path: str) -> bool:
    """False, after a `skipped:` line, for a FIFO, device or socket; True for anything else
    (a path that cannot be looked at is then audited, and fails with its own message)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return True
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        complain(path, f"skipped: {file_kind(mode)}, not a regular file")
        return False
    return True


def expand(paths: Sequence[str], run: Run) -> Iterator[Input]:
    """Files as given, directories searched recursively, globs expanded here (quoted globs work)."""
    seen: set[str] = set()

    def unique(candidates: list[Input]) -> Iterator[Input]:
        for item in candidates:
            key = os.path.normpath(item.path)
            if key not in seen:
                seen.add(key)
                yield item

    for arg in paths:
        if os.path.isfile(arg):
            yield from unique([Input(arg)])
        elif os.path.isdir(arg):
            files = _walk(arg)
            if not files:
                run.no_models = True
                complain(arg, "no model files (*.h5, *.hdf5, *.keras, *.json) in this directory")
            yield from unique([Input(p, from_directory=True) for p in files])
        elif _GLOB_CHARS.search(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            items: list[Input] = []
            for m in matches:
                if os.path.isdir(m):
                    items += [Input(p, from_directory=True) for p in _walk(m)]
                elif _regular(m):
                    items.append(Input(m))
            if not items:
                run.no_models = True
                complain(arg, "no files match this pattern")
            yield from unique(items)
        elif os.path.exists(arg):
            run.bad_input = True
            complain(arg, "not a regular file or directory")
        else:
            run.bad_input = True
            complain(arg, "no such file or directory")


def _audit(path: str, fmt: str, context: Context | None = None) -> tuple[dict[str, Any], str]:
    """The report's dict and its rendering (run in the child process: see regaudit.isolate)."""
    # Imported here so that `--help` works, and a broken install fails per file, not at start.
    from regaudit.audit import audit_path
    from regaudit.importers import DEFAULT, profile_named

    importer = context.importer if context else None
    profile = DEFAULT if importer in (None, ALL_RELEASES) else profile_named(importer)
    # The base name, as the web page knows it: CLI and page JSON are byte-identical.
    report = audit_path(path, display_name=os.path.basename(path), profile=profile,
                        releases=importer == ALL_RELEASES).to_dict()
    # Rendered here, once: a renderer failure is this file's problem, not the batch's.
    return report, render(report, fmt, context)


def audit_one(
    item: Input, fmt: str, run: Run, isolated: Isolated, context: Context | None = None,
    timeout: float | None = None,
) -> tuple[dict[str, Any], str] | None:
    """The report's dict and its rendering in `fmt`, or None after one line on stderr."""
    try:
        return isolated.run(_audit, item.path, fmt, context, timeout=timeout)
    except RegauditError as e:
        if (
            item.from_directory
            and item.path.lower().endswith(".json")
            and isinstance(e, NotAKerasModel)
        ):
            # A directory holds other JSON too (manifests, settings): skipping is not an error.
            complain(item.path, f"skipped: {e}")
            return None
        run.bad_input = True
        complain(item.path, str(e) or type(e).__name__)
    except OSError as e:
        run.bad_input = True
        complain(item.path, f"cannot read the file: {e.strerror or e}")
    except Exception as e:  # noqa: BLE001 - one bad file must not stop a batch of 150
        run.bad_input = True
        complain(item.path, f"internal error: {type(e).__name__}: {e}")
    return None


def parse_fail_on(value: str) -> frozenset[str]:
    names = frozenset(v.strip() for v in value.split(",") if v.strip())
    unknown = sorted(names - set(OUTCOMES) - {BLOCKED})
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown outcome(s) {', '.join(unknown)}; choose from {', '.join(OUTCOMES)}, {BLOCKED}"
        )
    return names


def matches_fail_on(report: dict[str, Any], fail_on: frozenset[str], mode: str) -> list[str]:
    """What in this report matches --fail-on, as short phrases; empty when nothing does."""
    key = "outcome" if mode == "strict" else "outcome_lenient"
    counts: dict[str, int] = {}
    for finding in report.get("findings") or []:
        outcome = finding.get(key)
        if outcome in fail_on:
            counts[outcome] = counts.get(outcome, 0) + 1
    hits = [f"{n} {name} finding{'' if n == 1 else 's'}" for name, n in counts.items()]
    training = report.get("training")
    # Optimizer weight decay is judged with the same vocabulary (spec §5), so it counts too.
    if isinstance(training, dict) and training.get(key) in fail_on:
        hits.append(f"optimizer weight decay {training.get(key)}")
    verdict = report.get("verdict") or {}
    if BLOCKED in fail_on and verdict.get(f"importable_{mode}") is False:
        hits.append(f"not importable ({mode})")
    return hits


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's usage message, with the usage exit code instead of argparse's 2."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="regaudit",
        description="Audit the regularizers of Keras model files against what "
        "Deeplearning4j's Keras import really does with them.",
        epilog="Exit status: "
        + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES)
        + ". When several apply, the first of 4, 2, 3, 1 wins. CI formats: sarif (SARIF "
        "2.1.0 for code scanning), github (workflow annotations), gitlab (Code Quality); "
        "their levels follow --fail-on. See docs/ci.md. `regaudit fix MODEL` writes the Java "
        "that gives the imported network Keras's regularization: see regaudit fix -h.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="model files, directories (searched for *.h5 *.hdf5 *.keras *.json) or globs",
    )
    parser.add_argument(
        "--format", choices=tuple(FORMATS), default="text", help="output format (default text)"
    )
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="write the report here, not to stdout"
    )
    parser.add_argument(
        "--fail-on",
        type=parse_fail_on,
        default=frozenset(),
        metavar="OUTCOMES",
        help=f"comma list of outcomes ({', '.join(OUTCOMES)}) or '{BLOCKED}' (the file does "
        "not import): exit 1 when any finding or the optimizer's weight decay has one",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop auditing a file after this long (default {DEFAULT_TIMEOUT_S}; 0: no "
        "limit): it gets one line on stderr, as a file that cannot be read, and the batch goes on",
    )
    parser.add_argument(
        "--importer",
        type=_importer,
        default=None,
        metavar="RELEASE",
        help="the DL4J release whose importer to describe: "
        + ", ".join(short_name(p) for p in PROFILES.values())
        + f" (default {short_name(DEFAULT)}; master is read from source, unverified), or "
        f"'{ALL_RELEASES}': the default's report plus every release's verdict",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="strict",
        help="which outcome --fail-on compares: strict (enforceTrainingConfig=true, the "
        "default) or lenient (false)",
    )
    return parser


def _importer(value: str) -> str:
    if value == ALL_RELEASES:
        return value
    try:
        return profile_named(value).name
    except KeyError as e:
        raise argparse.ArgumentTypeError(str(e.args[0])) from None


def _seconds(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}")
    return seconds or None


def write_output(data: str, output: str | None) -> None:
    """UTF-8 bytes as rendered, no newline translation, so every platform gets the same file."""
    raw = data.encode("utf-8")
    if output is None:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # stdout replaced by a text-only stream (embedding, some tests)
            sys.stdout.write(data)
            sys.stdout.flush()
            return
        buffer.write(raw)
        buffer.flush()
        return
    with open(output, "wb") as f:
        f.write(raw)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("regaudit: interrupted", file=sys.stderr)
        return 130


def _preload() -> None:
    """Import the auditing modules here, once, so that each forked audit child has them. numpy's
    OpenBLAS would start a thread per core, and a process with threads does not fork
    (regaudit.isolate); nothing here uses BLAS, so one thread is asked for (unless set)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import regaudit.audit  # noqa: F401
    except Exception:  # noqa: BLE001, S110 - a broken install is reported per file (see _audit)
        pass


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    run = Run()
    pieces: list[str] = []
    _preload()
    cwd = os.getcwd()
    with Isolated() as isolated:
        for item in expand(args.paths, run):
            context = Context(artifact_path(item.path, cwd), args.fail_on, args.mode,
                              args.importer)
            done = audit_one(item, args.format, run, isolated, context, args.timeout)
            if done is None:
                continue
            report, rendered = done
            run.audited += 1
            pieces.append(rendered)
            hits = matches_fail_on(report, args.fail_on, args.mode)
            if hits:
                run.failed = True
                complain(item.path, "--fail-on matched: " + ", ".join(hits))
    if not run.audited and not run.bad_input:
        run.no_models = True  # every file found was skipped, or none was found

    try:
        write_output(join(pieces, args.format), args.output)
    except BrokenPipeError:
        # The reader went away (`regaudit ... | head`): not an error of ours; stay quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return run.exit_code()
    except OSError as e:
        complain(args.output or "<stdout>", f"cannot write the output: {e.strerror or e}")
        return EXIT_BAD_INPUT
    return run.exit_code()
