"""python -m conformance [--fix] [PATH...]: regaudit against DL4J's real Keras importer.

Audits every model file under PATH (default: tests/fixtures, and ../shared/corpus when it is
beside the project), asks the real importer about the same files (judge.py), prints one line
per disagreement and the agreement line; exit status 0 only when every file agrees. With --fix,
checks regaudit's fixes instead (fix.py): each compiled, applied to the imported network and
scored by DL4J, ending with `fix: N/M files reproduce the Keras penalty (K rows not expressible)`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from conformance import compare, fix, judge
from regaudit.audit import audit_path
from regaudit.cli import MODEL_SUFFIXES
from regaudit.errors import NotAKerasModel, RegauditError

ROOT = judge.ROOT
DEFAULT_PATHS = (ROOT / "tests" / "fixtures", ROOT.parent / "shared" / "corpus")


def model_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*")
                            if p.is_file() and p.name.lower().endswith(MODEL_SUFFIXES))
        elif path.is_file():
            found.append(path)
    return found


def shown(path: Path) -> str:
    try:
        return os.path.relpath(path, Path.cwd())
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python build.py conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="model files or folders")
    parser.add_argument("--release", default=judge.DEFAULT_RELEASE,
                        help=f"DL4J release to run (default {judge.DEFAULT_RELEASE})")
    parser.add_argument("--records", type=Path,
                        help="also write the harness's records here (JSON)")
    parser.add_argument("--fix", action="store_true",
                        help="check regaudit's fixes instead: compile each, apply it to the "
                        "imported network, compare DL4J's score with Keras's penalty (docs/fix.md)")
    args = parser.parse_args(argv)
    paths = args.paths or [p for p in DEFAULT_PATHS if p.exists()]
    started = time.monotonic()

    reports: dict[Path, dict] = {}
    refused: dict[Path, str] = {}
    skipped = 0
    for path in model_files(paths):
        try:
            reports[path] = audit_path(str(path), shown(path)).to_dict()
        except NotAKerasModel:
            skipped += 1  # a JSON file that is no model config (a manifest, say)
        except RegauditError as error:
            refused[path] = str(error)
    if args.fix:
        return fix.run(reports, {p: shown(p) for p in reports}, args.release, started)
    asked = [*reports, *refused]
    judge.log(f"asking DL4J {args.release} about {len(asked)} files, both modes")
    records = judge.run([str(p) for p in asked], args.release)

    def compare_all() -> list[compare.FileResult]:
        results = [compare.compare(report, records[str(path.resolve())])
                   for path, report in reports.items()]
        for path, why in refused.items():
            results.append(compare.refused(shown(path), why, records[str(path.resolve())]))
        return results

    results = compare_all()
    again = [str(p.resolve()) for p, r in zip([*reports, *refused], results, strict=True)
             if not r.agrees]
    if again:
        judge.log(f"asking again, each in a JVM of its own: {len(again)} files that disagree")
        records.update(judge.run_isolated(again, args.release))
        results = compare_all()
    if args.records:
        args.records.write_text(json.dumps(records, indent=1) + "\n")

    for result in results:
        for d in result.disagreements:
            print(d.line())
    print(compare.summary(results, skipped)
          + f"; {time.monotonic() - started:.0f} s, DL4J {args.release}")
    return 0 if all(r.agrees for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
