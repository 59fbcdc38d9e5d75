"""`python -m conformance --fix`: each fix regaudit writes, compiled and applied by DL4J.

For each model file regaudit writes a fix for (regaudit.fix, regaudit.render.java):
1. the Java source is compiled with javac against DL4J's own jars alone (target/<release>/lib);
2. the harness imports the file in the mode the fix's `main` uses, calls the class's
   `apply(net)`, and records the regularization each layer holds and `calcRegularizationScore`;
3. per DL4J layer and in total, the score after the fix must be the Keras penalty of the rows
   the plan says it fixed (relative 1e-6, or the float32 bound of compare.close), every layer
   the plan sets must hold exactly the plan's values, and the full Keras penalty minus DL4J's
   score must be the penalty of the rows the plan lists as not fixable.
Then, once, FixCheck: one gradient step with and without a fix (docs/fix.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from conformance import compare, judge
from regaudit.audit import audit_path
from regaudit.importers import Profile
from regaudit.render.java import render_java

# A strictly importable model with a loss, for the gradient step (FixCheck).
GRADIENT_MODEL = judge.ROOT / "tests" / "fixtures" / "keras-2.3.1" / "adam_compiled.h5"
GRADIENT_CLASS = "RegauditFixGradientStep"


@dataclass
class FixResult:
    file: str
    path: str
    plan: dict
    report: dict
    class_name: str
    misses: list[str] = field(default_factory=list)
    hazard: bool = False  # the import hung where regaudit warns it may
    config_only: bool = False  # a JSON configuration: no weights, no score

    @property
    def rows_not_expressible(self) -> int:
        return len(self.plan["not_fixable"])


def work_dir(release: str) -> Path:
    return judge.ROOT / "build" / "conformance" / release / "fix"


def lib_classpath(release: str) -> str:
    return str(judge.target_dir(release) / "lib" / "*")


def compile_all(sources: dict[str, str], release: str) -> tuple[Path, dict[str, str]]:
    """javac over every source ({class name: Java}); (classes dir, {class: first error})."""
    work = work_dir(release)
    src, classes = work / "src", work / "classes"
    for d in (src, classes):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.rglob("*.*"):
            old.unlink()
    files = []
    for name, text in sources.items():
        (src / f"{name}.java").write_text(text, encoding="ascii")
        files.append(src / f"{name}.java")
    failed: dict[str, str] = {}
    if not _javac(files, classes, release):
        for path in files:  # which ones: each alone
            error = _javac([path], classes, release)
            if error is not True:
                failed[path.stem] = error or "javac failed"
    return classes, failed


def _javac(files: list[Path], classes: Path, release: str) -> bool | str:
    done = subprocess.run(
        ["javac", "--release", "17", "-encoding", "US-ASCII", "-nowarn", "-d", str(classes),
         "-cp", lib_classpath(release), *map(str, files)],
        capture_output=True, text=True,
    )
    if done.returncode == 0:
        return True
    lines = [line for line in done.stderr.splitlines() if "error:" in line]
    return lines[0] if lines else done.stderr.strip()[:300]


def check(result: FixResult, record: dict) -> None:
    """The misses of one file's fix, from the harness's record of its import and fix."""
    notes = {n["code"] for n in result.report["notes"]}
    if not record.get("ok"):
        if record.get("timed_out") and compare.ORTHOGONAL_HANG in notes:
            result.hazard = True
            return
        result.misses.append(f"DL4J did not import it: {compare.importer_error(record)}")
        return
    fixed = record.get("fixed")
    if fixed is None:
        result.config_only = True  # a configuration import: no network for the fix
        return
    if not fixed.get("ok"):
        exc = fixed.get("exception") or {}
        result.misses.append(f"the fix threw {exc.get('class')}: {exc.get('message')}")
        return
    layers = {e["name"]: e for e in fixed["layers"]}
    _settings(result, layers)
    _scores(result, layers, fixed["score"])


def _settings(result: FixResult, layers: dict[str, dict]) -> None:
    """Every layer and kind the plan sets holds exactly the plan's list (both directions)."""
    for change in result.plan["changes"]:
        entry = layers.get(change["layer"])
        if entry is None:
            result.misses.append(f"{change['layer']}: no DL4J layer of that name after the fix")
            continue
        want = [(r["class"], r["coefficient"]) for r in change["regularization"]]
        for holder in compare.param_layers(entry):
            got = holder.get(change["kind"]) or []
            if not compare.same_regularization(want, got):
                shown = compare.show([(r["class"], r.get("coefficient") or 0) for r in got])
                result.misses.append(f"{change['layer']} {change['kind']}: the plan sets "
                                     f"{compare.show(want)}; DL4J holds {shown}")


def _scores(result: FixResult, layers: dict[str, dict], total: float) -> None:
    """DL4J's score after the fix against Keras's penalty, per layer and in total."""
    findings = result.report["findings"]
    fixed = set(result.plan["fixed"])
    expected: dict[str, float] = {}
    for i in fixed:
        penalty = findings[i].get("penalty")
        if not isinstance(penalty, dict):
            result.misses.append(f"{findings[i]['layer']} {findings[i]['target']}: fixed, but "
                                 "regaudit computed no Keras penalty to compare with")
            return
        top = findings[i]["layer_path"][0]
        expected[top] = expected.get(top, 0.0) + penalty["keras"]
    count = 0
    for name, entry in layers.items():
        n = compare.regularized_count(entry)
        count += n
        want, got = expected.get(name, 0.0), entry.get("score", 0.0)
        if not compare.close(want, got, n):
            result.misses.append(f"{name}: score after the fix: Keras {want!r}; DL4J {got!r}")
    want_total = sum(expected.values())
    if not compare.close(want_total, total, count):
        result.misses.append(f"total score after the fix: Keras {want_total!r}; DL4J {total!r}")
    # The rows listed as not fixable are the whole difference from Keras's full penalty.
    known = [f["penalty"]["keras"] for f in findings if isinstance(f.get("penalty"), dict)]
    rest = result.plan["penalty"]["not_fixable"] or 0.0
    if not compare.close(sum(known), total + rest, count):
        result.misses.append(f"Keras's full penalty {sum(known)!r} is not DL4J's {total!r} "
                             f"plus the rows not fixable ({rest!r})")


def gradient_check(plan: dict, release: str, classes: Path) -> tuple[bool, str]:
    """FixCheck over GRADIENT_MODEL (its layer is the plan's first exact weights setting)."""
    change = next(c for c in plan["changes"] if c["exact"] and c["kind"] == "weights")
    out = work_dir(release) / "gradient.json"
    classpath = judge.ensure_harness(release) + os.pathsep + str(classes)
    why = ""
    for _ in range(judge.CRASH_ATTEMPTS):  # ND4J may crash a JVM (judge.py)
        out.unlink(missing_ok=True)
        try:
            done = subprocess.run(
                ["java", *judge.JVM_OPTIONS, "-cp", classpath, "regaudit.conformance.FixCheck",
                 str(GRADIENT_MODEL), GRADIENT_CLASS, change["layer"], str(out)],
                capture_output=True, text=True, timeout=300,
            )
        except subprocess.TimeoutExpired:
            why = "FixCheck took longer than 300 s"
            continue
        if done.returncode == 0 and out.exists():
            break
        why = f"FixCheck failed (exit status {done.returncode}): {done.stderr.strip()[-300:]}"
    else:
        return False, why
    r = json.loads(out.read_text())
    before = compare.show([(x["class"], x["coefficient"]) for x in r["before"]])
    after = compare.show([(x["class"], x["coefficient"]) for x in r["after"]])
    line = (f"one SGD step (lr {r['learning_rate']}, batch {r['batch']}) on "
            f"{GRADIENT_MODEL.name}, imported and its updater created before the fix: "
            f"{r['layer']} weights {before} -> {after}; the step differs by "
            f"-lr * (gradient difference) within {r['max_abs_error']:.2g} "
            f"(largest difference {r['max_abs_expected']:.2g}); every other parameter "
            + ("identical" if r["other_params_max_diff"] == 0
               else f"differs by up to {r['other_params_max_diff']:.2g}")
            + "; a clone " + ("keeps" if r["clone_keeps_it"] else "does NOT keep") + " the fix, "
            + "a saved and restored model " + ("keeps" if r["saved_keeps_it"] else "does NOT keep")
            + " it")
    return bool(r["ok"]), line


def run(reports: dict[Path, dict], shown: dict[Path, str], profile: Profile,
        started: float) -> int:
    """The whole --fix run over files audited under `profile` ({path: report dict}); the exit
    status."""
    release = profile.release
    results: list[FixResult] = []
    no_fix: dict[str, int] = {}
    sources: dict[str, str] = {}  # class name -> Java
    for index, (path, report) in enumerate(reports.items()):
        name = f"RegauditFix{index:03d}"
        java = render_java(report, name)
        if java is None:
            status = report["fix"]["status"]
            no_fix[status] = no_fix.get(status, 0) + 1
            continue
        sources[name] = java
        results.append(FixResult(shown[path], str(path.resolve()), report["fix"], report, name))
    gradient_report = audit_path(str(GRADIENT_MODEL), profile=profile).to_dict()
    sources[GRADIENT_CLASS] = render_java(gradient_report, GRADIENT_CLASS) or ""
    judge.ensure_harness(release)
    judge.log(f"compiling {len(sources)} generated fixes against DL4J {release}'s jars")
    classes, failed = compile_all(sources, release)
    for r in results:
        if r.class_name in failed:
            r.misses.append(f"does not compile: {failed[r.class_name]}")
    jobs = [judge.Job(r.plan["mode"], r.path, r.class_name) for r in results
            if r.class_name not in failed]
    judge.log(f"importing {len(jobs)} files and applying their fixes")
    work = work_dir(release)
    records = judge.run_jobs(jobs, release, work, str(classes))
    for r in results:
        if r.class_name not in failed:
            check(r, records[r.path][r.plan["mode"]])
    again = [r for r in results if r.misses and r.class_name not in failed]
    if again:
        names = ", ".join(r.file for r in again[:5]) + (" ..." if len(again) > 5 else "")
        judge.log(f"asking again, each in a JVM of its own: {len(again)} files with a miss "
                  f"({names})")
        for r in again:
            job = judge.Job(r.plan["mode"], r.path, r.class_name)
            record = judge.run_jobs([job], release, work, str(classes))[r.path][r.plan["mode"]]
            r.misses, r.hazard, r.config_only = [], False, False
            check(r, record)
    ok, line = gradient_check(gradient_report["fix"], release, classes)
    for r in results:
        for miss in r.misses:
            print(f"{r.file}: fix: {miss}")
        if r.hazard:
            judge.log(f"{r.file}: the import hung (regaudit warns it may: "
                      f"{compare.ORTHOGONAL_HANG}); its fix is not checked")
    print(f"fix: settings made after the import {'are' if ok else 'are NOT'} honoured in "
          f"training: {line}")
    print(summary(results, no_fix) + f"; {time.monotonic() - started:.0f} s, DL4J {release}")
    return 0 if ok and all(not r.misses for r in results) else 1


def summary(results: list[FixResult], no_fix: dict[str, int]) -> str:
    counted = [r for r in results if not r.hazard and not r.config_only]
    good = [r for r in counted if not r.misses]
    rows = sum(r.rows_not_expressible for r in counted)
    line = (f"fix: {len(good)}/{len(counted)} files reproduce the Keras penalty "
            f"({rows} rows not expressible)")
    apart = [(sum(r.hazard for r in results), "imports hung where regaudit warns they may"),
             (sum(r.config_only for r in results),
              "configuration-only files (no network, no score: not checked)")]
    tail = [f"{n} {what}" for n, what in apart if n]
    if no_fix:
        tail.append("no fix written for " + ", ".join(
            f"{n} {status.replace('_', ' ')}" for status, n in sorted(no_fix.items())))
    return "; ".join([line, *tail])
