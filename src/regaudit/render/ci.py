"""What the CI formats (SARIF, GitHub annotations, GitLab Code Quality) report: one list of
issues per report, which each of those renderers only spells in its own syntax.

An issue is a finding that loses or alters a regularizer (in either mode) or whose outcome
--fail-on names, a blocking reason, or the optimizer's weight decay when it is lost. Its level
follows --fail-on, so that the CLI exits 1 exactly when some issue is an `error`: `error` when
--fail-on matches it in the --mode compared, `warning` when it loses something in that mode,
`note` when only the other mode loses it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from typing import Any

from regaudit.codes import deciding_code
from regaudit.render.common import (
    as_dict,
    as_list,
    file_name,
    layer_label,
    regularizer_display,
    text,
)
from regaudit.report import BLOCKED

# Outcomes that lose or alter a regularizer (applied and noop carry it over as Keras meant).
LOSSY = frozenset({"altered", "dropped", "warned", "error"})
FINDING, BLOCKER, TRAINING = "finding", "blocker", "training"


@dataclass(frozen=True)
class Context:
    """Where the file is and what the run compares; the CLI passes it, tests may leave it out."""

    path: str | None = None  # the model file as CI names it (repo-relative); default: file name
    fail_on: frozenset[str] = frozenset()
    mode: str = "strict"
    importer: str | None = None  # the DL4J release profile audited (None: the default), or "all"


@dataclass(frozen=True)
class Issue:
    kind: str  # finding, blocker or training
    code: str  # the rule: a reason code (regaudit.codes)
    level: str  # error, warning or note
    title: str  # one short line
    message: str  # one line: what happens and what to set instead
    layer_path: tuple[str, ...]  # () for file-level issues
    identity: str  # names the issue inside its file, the same in every run (see fingerprint)
    properties: dict[str, Any] = field(default_factory=dict, compare=False)


def artifact_path(path: str, cwd: str) -> str:
    """A path as CI tools want it: relative to the working directory (the repository root in a
    CI job) when it lies below it, with forward slashes and no `./`; absolute otherwise."""
    normal = os.path.normpath(path)
    if os.path.isabs(normal):
        relative = os.path.relpath(normal, cwd)
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            normal = relative
    return normal.replace(os.sep, "/")


def path_of(report: dict[str, Any], context: Context) -> str:
    return context.path or file_name(report)


def fingerprint(*parts: str) -> str:
    """A stable digest of the parts (joined with a separator no name can confuse)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _level(outcome: str, context: Context) -> str:
    if outcome in context.fail_on:
        return "error"
    return "warning" if outcome in LOSSY else "note"


def _sentence(value: str) -> str:
    return value[:1].upper() + value[1:]


@dataclass(frozen=True)
class _Judged:
    """A finding's or the optimizer's outcomes, as the issue reports them."""

    strict: str
    lenient: str
    outcome: str  # in the mode compared
    code: str  # the code that decided it

    def explained(self, item: dict[str, Any], message: Any) -> str:
        both = (f"{self.strict} in both modes" if self.strict == self.lenient
                else f"strict {self.strict}, lenient {self.lenient}")
        return (f"{both}. {_sentence(text(message))}. "
                f"Recommended DL4J setting: {text(item.get('recommended'))}")


def _judge(item: dict[str, Any], codes: Any, context: Context) -> _Judged | None:
    """None when the item loses nothing in either mode and --fail-on does not name it."""
    strict, lenient = text(item.get("outcome")), text(item.get("outcome_lenient"))
    outcome = lenient if context.mode == "lenient" else strict
    if not ({strict, lenient} & LOSSY or outcome in context.fail_on):
        return None
    return _Judged(strict, lenient, outcome, deciding_code([text(c) for c in as_list(codes)],
                                                           outcome))


def _finding(finding: dict[str, Any], context: Context) -> Issue | None:
    lenient_mode = context.mode == "lenient"
    judged = _judge(finding, finding.get("codes_lenient" if lenient_mode else "codes"), context)
    if judged is None:
        return None
    label = layer_label(finding)
    field_name = text(finding.get("field"))
    message = finding.get("message_lenient" if lenient_mode else "message")
    path = tuple(text(p) for p in as_list(finding.get("layer_path"))) or (
        text(finding.get("layer")),
    )
    return Issue(
        kind=FINDING,
        code=judged.code,
        level=_level(judged.outcome, context),
        title=f"{judged.code}: {label} {field_name} {judged.outcome} ({context.mode})",
        message=f"{label} {field_name} = {regularizer_display(finding)}: "
        + judged.explained(finding, message),
        layer_path=path,
        identity=fingerprint(FINDING, *path, text(finding.get("wrapper")), field_name),
        properties={
            "field": field_name,
            "target": text(finding.get("target")),
            "wrapper": finding.get("wrapper") if isinstance(finding.get("wrapper"), str) else None,
            "outcome": judged.strict,
            "outcomeLenient": judged.lenient,
        },
    )


def _blocker(blocker: dict[str, Any], context: Context) -> Issue:
    code = text(blocker.get("code"))
    modes = [text(m) for m in as_list(blocker.get("modes"))]
    layer = blocker.get("layer")
    where = text(layer) if layer is not None else "the file"
    message = text(blocker.get("message"))
    blocks = context.mode in modes
    level = "error" if blocks and BLOCKED in context.fail_on else "warning" if blocks else "note"
    return Issue(
        kind=BLOCKER,
        code=code,
        level=level,
        title=f"{code}: not importable ({', '.join(modes)})",
        message=f"{where}: {message} (blocks the import in {' and '.join(modes)} mode)",
        layer_path=(text(layer),) if layer is not None else (),
        identity=fingerprint(BLOCKER, text(layer), code, message),
        properties={"modes": modes},
    )


def _training(training: dict[str, Any], context: Context) -> Issue | None:
    judged = _judge(training, training.get("codes"), context)  # one code list for both modes
    if judged is None:
        return None
    optimizer = text(training.get("optimizer")) or "(none)"
    return Issue(
        kind=TRAINING,
        code=judged.code,
        level=_level(judged.outcome, context),
        title=f"{judged.code}: optimizer weight decay {judged.outcome} ({context.mode})",
        message=f"optimizer {optimizer}: " + judged.explained(training, training.get("message")),
        layer_path=(),
        identity=fingerprint(TRAINING, judged.code),
        properties={"outcome": judged.strict, "outcomeLenient": judged.lenient},
    )


def issues(report: dict[str, Any], context: Context) -> list[Issue]:
    """The report's issues in report order: findings, blocking reasons, then the optimizer.
    Two issues that would share an identity (a hostile file repeating a layer name) get
    `#2`, `#3` ... so each keeps a fingerprint of its own."""
    found: list[Issue | None] = [_finding(as_dict(f), context)
                                 for f in as_list(report.get("findings"))]
    found += [_blocker(as_dict(b), context)
              for b in as_list(as_dict(report.get("verdict")).get("blocking"))]
    training = report.get("training")
    if isinstance(training, dict):
        found.append(_training(training, context))
    seen: dict[str, int] = {}
    out = []
    for issue in found:
        if issue is None:
            continue
        n = seen[issue.identity] = seen.get(issue.identity, 0) + 1
        if n > 1:
            issue = replace(issue, identity=fingerprint(issue.identity, str(n)))
        out.append(issue)
    return out
