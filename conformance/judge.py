"""Run DL4J's real Keras importer (the Maven project beside this file) over model files.

One JVM takes the whole list; each import's record is one JSON line, flushed as it ends. The
native side of ND4J 1.0.0-M2.1 sometimes brings the JVM down (SIGSEGV/SIGBUS in
`ComputationGraph.init` or the deallocator thread, after earlier imports in the same JVM: see
docs/conformance.md), so a JVM that dies is replaced by a fresh one that goes on from the import
it died in; an import that kills CRASH_ATTEMPTS fresh JVMs is recorded as a crash. The same
damage can also surface as a wrong answer (an HDF5 "H5Gopen2 failed" on a file that imports
alone), so a file whose answer disagrees with regaudit is asked again in a JVM of its own
(`run_isolated`) before the disagreement is reported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_RELEASE = "1.0.0-M2.1"  # the release judge.py builds when none is named
MODES = ("strict", "lenient")  # enforceTrainingConfig = true / false
# Fresh JVMs an import may kill before it is recorded as a crash. ND4J's natives kill one now
# and then (docs/conformance.md); tests/fixtures/keras-2.3.1/embedding_bn.h5's fix check killed
# three in a row, alone, in one of the clean-clone CI runs of 2026-12-03, none in the others.
CRASH_ATTEMPTS = 5
IMPORT_TIMEOUT = 60.0  # seconds one import may take before its JVM is killed (a dying JVM
# sometimes spins instead of exiting)
TIMED_OUT = "the import took longer than"
JVM_OPTIONS = (
    "-Xmx6g",
    "-XX:+UseSerialGC",
    "-XX:-UsePerfData",
    "-XX:ErrorFile=/dev/null",  # a crash is recorded by the caller, not as hs_err files
)


def log(message: str) -> None:
    print(f"conformance: {message}", flush=True)


def target_dir(release: str) -> Path:
    return HERE / "target" / release


def harness_sources() -> list[Path]:
    return [HERE / "pom.xml", *(p for p in (HERE / "src").rglob("*") if p.is_file())]


def ensure_harness(release: str = DEFAULT_RELEASE) -> str:
    """Build the harness for `release` if it is missing or stale; return its class path."""
    target = target_dir(release)
    jar = target / "harness.jar"
    fresh = jar.exists() and all(
        p.stat().st_mtime <= jar.stat().st_mtime for p in harness_sources()
    )
    if not fresh:
        if shutil.which("mvn") is None:
            raise SystemExit("conformance: Maven (mvn) is not installed; the harness needs it")
        log(f"building the harness against DL4J {release} (Maven; the first time downloads "
            "~160 MB of jars into ~/.m2)")
        started = time.monotonic()
        subprocess.run(
            ["mvn", "-q", "-B", "-Dstyle.color=never", "package", f"-Ddl4j.version={release}",
             "-Djavacpp.platform=linux-x86_64"],
            cwd=HERE, check=True,
        )
        log(f"harness built in {time.monotonic() - started:.0f} s")
    return f"{jar}{os.pathsep}{target / 'lib' / '*'}"


@dataclass(frozen=True)
class Job:
    mode: str  # "strict" | "lenient"
    path: str  # absolute
    fix_class: str | None = None  # a class `regaudit fix` wrote, applied after the import

    def line(self) -> str:
        return "\t".join([self.mode, self.path] + ([self.fix_class] if self.fix_class else []))


def _crash_record(job: Job, why: str) -> dict:
    return {
        "file": job.path,
        "enforce_training_config": job.mode == "strict",
        "ok": False,
        "crashed": True,
        "timed_out": why.startswith(TIMED_OUT),
        "exception": {"class": "JVM", "message": why, "causes": [], "at": []},
        "warnings": [],
    }


def _run_jvm(classpath: str, jobs: list[Job], work: Path) -> tuple[list[dict], str | None]:
    """One JVM over `jobs` until it ends or dies; (records written, why it died or None)."""
    listing = work / "jobs.txt"
    out = work / "records.jsonl"
    listing.write_text("".join(f"{j.line()}\n" for j in jobs), encoding="utf-8")
    out.write_text("")
    with open(work / "harness.log", "ab") as err:
        proc = subprocess.Popen(
            ["java", *JVM_OPTIONS, "-cp", classpath, "regaudit.conformance.Harness",
             str(out), str(listing)],
            stdout=err, stderr=err, cwd=work,
        )
        done, last_change, why = 0, time.monotonic(), None
        while proc.poll() is None:
            time.sleep(0.2)
            lines = out.read_text(encoding="utf-8").count("\n")
            if lines != done:
                done, last_change = lines, time.monotonic()
            elif time.monotonic() - last_change > IMPORT_TIMEOUT:
                proc.kill()
                proc.wait()
                why = f"{TIMED_OUT} {IMPORT_TIMEOUT:.0f} s"
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        if why is None and proc.returncode != 0:
            why = f"the JVM died (exit status {proc.returncode})"
    return records, why


def run_isolated(paths: Iterable[str], release: str = DEFAULT_RELEASE,
                 work: Path | None = None) -> dict[str, dict[str, dict]]:
    """Each file in a JVM of its own: the answer of an importer that has seen nothing else
    (earlier imports in the same JVM can leave native memory damaged, see the module doc)."""
    out: dict[str, dict[str, dict]] = {}
    for path in paths:
        out.update(run([path], release, work))
    return out


def run(paths: Iterable[str], release: str = DEFAULT_RELEASE,
        work: Path | None = None) -> dict[str, dict[str, dict]]:
    """{path: {"strict": record, "lenient": record}} from the real importer."""
    return run_jobs([Job(mode, str(Path(p).resolve())) for p in paths for mode in MODES],
                    release, work)


def run_jobs(jobs: list[Job], release: str = DEFAULT_RELEASE, work: Path | None = None,
             extra_classpath: str | None = None) -> dict[str, dict[str, dict]]:
    """{path: {mode: record}} for each job, in as many JVMs as crashes make it take.
    `extra_classpath`: where the classes of the jobs' fixes are."""
    classpath = ensure_harness(release)
    if extra_classpath:
        classpath += os.pathsep + extra_classpath
    work = work or ROOT / "build" / "conformance" / release
    work.mkdir(parents=True, exist_ok=True)
    (work / "harness.log").write_bytes(b"")
    pending = list(jobs)
    results: dict[str, dict[str, dict]] = {}
    attempts: dict[Job, int] = {}
    jvms = 0
    while pending:
        records, why = _run_jvm(classpath, pending, work)
        jvms += 1
        for job, record in zip(pending, records, strict=False):
            results.setdefault(job.path, {})[job.mode] = record
        pending = pending[len(records):]
        if pending:
            why = why or "the JVM stopped before the end of its list"
            job = pending[0]
            attempts[job] = attempts.get(job, 0) + 1
            # A hang is an answer (waiting again costs minutes); a crash is retried.
            if attempts[job] >= CRASH_ATTEMPTS or why.startswith(TIMED_OUT):
                results.setdefault(job.path, {})[job.mode] = _crash_record(job, why)
                pending = pending[1:]
    if jvms > 1:
        log(f"{jvms} JVMs were needed ({sum(attempts.values())} restarts after a crash)")
    return results
