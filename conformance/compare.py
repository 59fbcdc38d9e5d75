"""regaudit's JSON report against what DL4J's importer did with the same file (judge.py).

Per mode (enforceTrainingConfig=true / false), a file agrees when:
- verdict: regaudit's `importable_<mode>` is whether the import succeeded; when it failed, the
  exception ("<SimpleClass>: <message>") starts with the `importer_error` of one of regaudit's
  blocking reasons for that mode; when it succeeded, every layer has the updater regaudit's
  training block predicts;
- findings: per DL4J layer and parameter kind (weights, biases), the regularization DL4J holds is
  exactly what the `applied`/`altered` findings put there (L1 l1, L2 l2; nothing for the rest);
  each `warned` finding's `importer_warnings` were logged, and every regularization WARN line the
  importer logged is one some finding predicts;
- scores: per DL4J layer and in total, DL4J's `calcRegularizationScore` at the stored weights is
  the sum of the findings' `penalty.dl4j_<mode>` (relative 1e-6).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

MODES = ("strict", "lenient")
HELD = ("applied", "altered")
# Where each target's coefficient lives in DL4J (targets not listed have no DL4J parameter).
PARAM_KIND = {"kernel": "weights", "embeddings": "weights", "depthwise": "weights",
              "bias": "biases"}
DEFAULT_UPDATER = "Sgd"  # what an imported layer gets when no training config is imported
ORTHOGONAL_HANG = "ORTHOGONAL_INIT_MAY_HANG"  # the note under which a timed-out import agrees
REL_TOL = 1e-6
# DL4J reduces float32 parameters in float32: its score of n values carries a relative rounding
# error up to n·u (u = 2^-24), far above 1e-6 for large layers. regaudit's sums are float64.
FLOAT32_UNIT = 2.0**-24


@dataclass
class Disagreement:
    file: str
    mode: str
    layer: str | None
    what: str
    regaudit: str
    dl4j: str

    def line(self) -> str:
        where = f" {self.layer}" if self.layer else ""
        return (f"{self.file} [{self.mode}]{where}: {self.what}: regaudit says {self.regaudit}; "
                f"DL4J {self.dl4j}")


@dataclass
class Tally:
    agree: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.agree += int(ok)


@dataclass
class FileResult:
    file: str
    kind: str  # "compared" | "weights-only"
    disagreements: list[Disagreement] = field(default_factory=list)
    findings: Tally = field(default_factory=Tally)
    verdicts: Tally = field(default_factory=Tally)
    scores: Tally = field(default_factory=Tally)
    unjudged: int = 0  # modes whose verdict regaudit leaves unknown
    hazards: int = 0  # imports that hung where regaudit warns they may

    @property
    def agrees(self) -> bool:
        return not self.disagreements


def importer_error(record: dict) -> str:
    exc = record.get("exception") or {}
    return f"{str(exc.get('class', '')).rsplit('.', 1)[-1]}: {exc.get('message')}"


def close(a: float, b: float, count: int = 0) -> bool:
    """Equal within 1e-6, or within the float32 rounding bound of a sum over `count` values."""
    return math.isclose(a, b, rel_tol=max(REL_TOL, count * FLOAT32_UNIT), abs_tol=1e-12)


def expected_regularization(findings: list[dict], mode: str) -> dict[tuple[str, str], list]:
    """{(top layer, kind): [(class, coefficient), ...]} that the held findings put in DL4J."""
    out: dict[tuple[str, str], list] = {}
    key = "outcome" if mode == "strict" else "outcome_lenient"
    for f in findings:
        kind = PARAM_KIND.get(f["target"])
        if kind is None or f[key] not in HELD:
            continue
        reg = f["regularizer"]
        slot = out.setdefault((f["layer_path"][0], kind), [])
        if (reg.get("l1") or 0) > 0:
            slot.append(("L1Regularization", reg["l1"]))
        if (reg.get("l2") or 0) > 0:
            slot.append(("L2Regularization", reg["l2"]))
    return out


def param_layers(entry: dict) -> list[dict]:
    """The entry itself if it holds parameters' settings, and every layer a wrapper holds."""
    out = [entry] if "weights" in entry else []
    for inner in entry.get("inner", []):
        out.extend(param_layers(inner))
    return out


def same_regularization(expected: list, actual: list[dict]) -> bool:
    got = sorted((r["class"], r.get("coefficient")) for r in actual)
    want = sorted(expected)
    return len(got) == len(want) and all(
        g[0] == w[0] and g[1] is not None and close(g[1], w[1])
        for g, w in zip(got, want, strict=True)
    )


def show(regs: list) -> str:
    return "[" + ", ".join(f"{c.replace('Regularization', '')}({v:g})" for c, v in regs) + "]"


def compare(report: dict, records: dict[str, dict]) -> FileResult:
    """One file: regaudit's report (JSON dict) against the harness's {mode: record}."""
    name = report["source"]["file"]
    if report.get("training") is None:  # no model configuration: a weights-only file
        return FileResult(name, "weights-only")
    result = FileResult(name, "compared")
    bad_findings: set[int] = set()
    compared_findings: set[int] = set()
    for mode in MODES:
        record = records[mode]
        _verdict(report, record, mode, result)
        if record.get("ok"):
            compared_findings |= set(range(len(report["findings"])))
            bad_findings |= _findings(report, record, mode, result)
            if "score" in record:
                _scores(report, record, mode, result)
    for i in range(len(report["findings"])):
        if i in compared_findings:
            result.findings.add(i not in bad_findings)
    return result


def _disagree(result: FileResult, mode: str, layer: str | None, what: str, ours: str,
              theirs: str) -> None:
    result.disagreements.append(Disagreement(result.file, mode, layer, what, ours, theirs))


def _verdict(report: dict, record: dict, mode: str, result: FileResult) -> None:
    predicted = report["verdict"][f"importable_{mode}"]
    ok = bool(record.get("ok"))
    before = len(result.disagreements)
    blockers = [b for b in report["verdict"]["blocking"] if mode in b["modes"]]
    notes = {n["code"] for n in report["notes"]}
    if record.get("timed_out") and ORTHOGONAL_HANG in notes:
        result.hazards += 1  # the hang regaudit warns of: nothing more to compare
        return
    if predicted is None:
        result.unjudged += 1  # regaudit leaves this verdict unknown (see its notes)
        return
    if predicted != ok:
        ours = ("importable" if predicted else "not importable: "
                + "; ".join(b.get("importer_error") or b["message"] for b in blockers))
        theirs = "imported it" if ok else f"failed: {importer_error(record)}"
        _disagree(result, mode, None, "verdict", ours, theirs)
    elif not ok:
        error = importer_error(record)
        if not any(b.get("importer_error") and error.startswith(b["importer_error"])
                   for b in blockers):
            _disagree(result, mode, None, "reason the import fails",
                      "; ".join(str(b.get("importer_error")) for b in blockers), f"threw {error}")
    else:
        training = report.get("training") or {}
        want = (training.get("dl4j_updater") if mode == "strict" else None) or DEFAULT_UPDATER
        got = {p["updater"]["class"] for top in record.get("layers", [])
               for p in param_layers(top) if p.get("updater")}
        if got and got != {want}:
            _disagree(result, mode, None, "updater", want, f"set {', '.join(sorted(got))}")
    result.verdicts.add(len(result.disagreements) == before)


def _findings(report: dict, record: dict, mode: str, result: FileResult) -> set[int]:
    """Compare the regularization held per layer; returns the indexes of findings that disagree."""
    findings = report["findings"]
    expected = expected_regularization(findings, mode)
    outcome_key = "outcome" if mode == "strict" else "outcome_lenient"
    bad: set[int] = set()
    layers = {entry["name"]: entry for entry in record.get("layers", [])}
    for (top, kind), regs in expected.items():
        if top not in layers:
            _disagree(result, mode, top, f"{kind} regularization", show(regs),
                      "has no layer of that name")
            bad |= {i for i, f in enumerate(findings) if f["layer_path"][0] == top}
    for top, entry in layers.items():
        for kind in ("weights", "biases"):
            want = expected.get((top, kind), [])
            for holder in param_layers(entry):
                if same_regularization(want, holder.get(kind) or []):
                    continue
                got = show([(r["class"], r.get("coefficient") or 0) for r in holder.get(kind)])
                label = holder["name"] if holder is entry else f"{top} ({holder.get('role')})"
                _disagree(result, mode, label, f"{kind} regularization", show(want), f"holds {got}")
                bad |= {i for i, f in enumerate(findings)
                        if f["layer_path"][0] == top and PARAM_KIND.get(f["target"]) == kind}
    logged = Counter(w.strip() for w in record.get("warnings", []))
    for i, f in enumerate(findings):
        predicted = (f.get("importer_warnings") or []) if mode == "lenient" else []
        if f[outcome_key] == "warned" and not predicted:
            _disagree(result, mode, f["layer"], f"{f['field']} warned", "a warning", "(none named)")
            bad.add(i)
        for line in predicted:
            if logged[line] > 0:
                logged[line] -= 1
            else:
                _disagree(result, mode, f["layer"], f"{f['field']} warning",
                          f"logs {line!r}", "logged no such line")
                bad.add(i)
    for line, count in logged.items():
        if count > 0 and "egulariz" in line:
            _disagree(result, mode, None, "warning", "predicts no such line",
                      f"logged {line!r} ×{count}")
    return bad


def regularized_count(entry: dict) -> int:
    """How many values DL4J's score for this layer sums over."""
    return sum(p["count"] for p in entry.get("params", {}).values() if p["regularization"])


def _scores(report: dict, record: dict, mode: str, result: FileResult) -> None:
    """Per DL4J layer and in total. Where regaudit says DL4J does not hold the stored weights
    (a shared layer), the score cannot be known from the file: check instead that DL4J's
    regularized parameters indeed have another size than the stored tensors."""
    key = f"dl4j_{mode}"
    outcome_key = "outcome" if mode == "strict" else "outcome_lenient"
    per_layer: dict[str, float] = {}
    stored_size: dict[str, int] = {}  # layers whose DL4J weights are not the stored ones
    missing: set[str] = set()  # held by DL4J, but regaudit computed no penalty
    for f in report["findings"]:
        top = f["layer_path"][0]
        penalty = f.get("penalty")
        per_layer.setdefault(top, 0.0)
        if penalty is None:
            if f[outcome_key] in HELD:
                missing.add(top)
        elif penalty[key] is None:
            stored_size[top] = stored_size.get(top, 0) + penalty["count"]
        else:
            per_layer[top] += penalty[key]
    before = len(result.disagreements)
    for entry in record.get("layers", []):
        top, got = entry["name"], entry.get("score", 0.0)
        if top in stored_size:
            size = regularized_count(entry)
            if size == stored_size[top]:
                _disagree(result, mode, top, "score", "DL4J does not hold the stored weights",
                          f"holds {size} regularized values, as many as the file stores")
        elif top in missing:
            _disagree(result, mode, top, "score", "no penalty computed", f"scores {got!r}")
        elif not close(per_layer.get(top, 0.0), got, regularized_count(entry)):
            _disagree(result, mode, top, "score", repr(per_layer.get(top, 0.0)), f"scores {got!r}")
    if not stored_size and not missing:
        total = sum(per_layer.values())
        count = sum(regularized_count(e) for e in record.get("layers", []))
        if not close(total, record["score"], count):
            _disagree(result, mode, None, "total score", repr(total), f"scores {record['score']!r}")
    result.scores.add(len(result.disagreements) == before)


def refused(name: str, why: str, records: dict[str, dict]) -> FileResult:
    """A file regaudit refuses to read: it agrees when DL4J cannot import it either."""
    result = FileResult(name, "compared")
    for mode in MODES:
        ok = bool(records[mode].get("ok"))
        result.verdicts.add(not ok)
        if ok:
            _disagree(result, mode, None, "verdict", f"refuses the file ({why})", "imported it")
    return result


def summary(results: list[FileResult], skipped: int = 0) -> str:
    compared = [r for r in results if r.kind == "compared"]
    weights_only = len(results) - len(compared)
    tallies = {name: Tally() for name in ("findings", "verdicts", "scores")}
    for r in compared:
        for name, tally in tallies.items():
            part = getattr(r, name)
            tally.agree += part.agree
            tally.total += part.total
    line = (f"conformance: {sum(r.agrees for r in compared)}/{len(compared)} files agree "
            + "(" + ", ".join(f"{n} {t.agree}/{t.total}" for n, t in tallies.items()) + ")")
    apart = []
    unjudged = sum(r.unjudged for r in compared)
    if unjudged:
        apart.append(f"{unjudged} verdicts regaudit leaves unknown (see the files' notes)")
    hazards = sum(r.hazards for r in compared)
    if hazards:
        apart.append(f"{hazards} imports hung where regaudit warns they may")
    if weights_only:
        apart.append(f"{weights_only} weights-only files counted apart (no configuration: "
                     "the importer cannot be asked)")
    if skipped:
        apart.append(f"{skipped} files are not Keras models (skipped)")
    return line + ("; " + "; ".join(apart) if apart else "")
