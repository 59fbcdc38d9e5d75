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
from regaudit.importers import DEFAULT, PROFILES, Profile, profile_named, short_name

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
    parser.add_argument("--importer", default=DEFAULT.name,
                        help=f"the DL4J release to run, or all (default {DEFAULT.name}; one of "
                        + ", ".join(short_name(p) for p in PROFILES.values()) + ")")
    parser.add_argument("--records", type=Path,
                        help="also write the harness's records here (JSON; with --importer all, "
                        "one file per release beside it)")
    parser.add_argument("--fix", action="store_true",
                        help="check regaudit's fixes instead: compile each, apply it to the "
                        "imported network, compare DL4J's score with Keras's penalty (docs/fix.md)")
    args = parser.parse_args(argv)
    try:
        profiles = list(PROFILES.values()) if args.importer == "all" else [
            profile_named(args.importer)]
    except KeyError as error:
        parser.error(str(error.args[0]))
    paths = args.paths or [p for p in DEFAULT_PATHS if p.exists()]
    files = model_files(paths)
    agree = True
    for profile in profiles:
        if not profile.verified:
            print(f"conformance: {profile.name}: not run: {profile.release} is not on Maven "
                  "Central, so its profile is read from source only (unverified)")
            continue
        records_path = args.records
        if records_path and len(profiles) > 1:
            records_path = records_path.with_name(f"{records_path.stem}-{profile.release}"
                                                  f"{records_path.suffix}")
        agree &= check(files, profile, records_path, args.fix)
    return 0 if agree else 1


def check(files: list[Path], profile: Profile, records_path: Path | None, fixes: bool) -> bool:
    """regaudit's reports under `profile` against that release's importer (with `fixes`: its
    fixes, applied by that release); prints the result."""
    started = time.monotonic()
    reports: dict[Path, dict] = {}
    refused: dict[Path, str] = {}
    skipped = 0
    for path in files:
        try:
            reports[path] = audit_path(str(path), shown(path), profile).to_dict()
        except NotAKerasModel:
            skipped += 1  # a JSON file that is no model config (a manifest, say)
        except RegauditError as error:
            refused[path] = str(error)
    if fixes:
        return fix.run(reports, {p: shown(p) for p in reports}, profile, started) == 0
    asked = [*reports, *refused]
    judge.log(f"asking DL4J {profile.release} about {len(asked)} files, both modes")
    records = judge.run([str(p) for p in asked], profile.release)

    def compare_all() -> list[compare.FileResult]:
        results = [compare.compare(report, records[str(path.resolve())])
                   for path, report in reports.items()]
        for path, why in refused.items():
            results.append(compare.refused(shown(path), why, records[str(path.resolve())]))
        return results

    results = compare_all()
    again = [str(p.resolve()) for p, r in zip(asked, results, strict=True) if not r.agrees]
    if again:
        judge.log(f"asking again, each in a JVM of its own: {len(again)} files that disagree")
        records.update(judge.run_isolated(again, profile.release))
        results = compare_all()
    if records_path:
        records_path.write_text(json.dumps(records, indent=1) + "\n")
    for result in results:
        for d in result.disagreements:
            print(d.line())
    print(compare.summary(results, skipped)
          + f"; {time.monotonic() - started:.0f} s, {profile.name}")
    return all(r.agrees for r in results)


if __name__ == "__main__":
    sys.exit(main())
