"""SARIF 2.1.0, as GitHub code scanning, GitLab and Azure DevOps read it: one run, one rule per
reason code (regaudit.codes), one result per issue (regaudit.render.ci)."""

from __future__ import annotations

import json
import pathlib
from functools import cache
from importlib.metadata import PackageNotFoundError, metadata
from typing import Any
from urllib.parse import quote

from regaudit import __version__
from regaudit.codes import CODES
from regaudit.render.ci import LOSSY, Context, Issue, issues, path_of
from regaudit.rulesdoc import anchor

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
DOCS_PAGE = "docs/import-rules.md"  # one section per reason code, anchored by the code
FINGERPRINT = "regaudit/v1"
UNDESCRIBED = "A reason code this regaudit does not describe (see docs/report-schema.md)."


@cache
def docs_url() -> str | None:
    """Where docs/ is published, when the installed package says ([project.urls] Documentation):
    then each rule also gets a `helpUri`, which SARIF wants absolute."""
    try:
        urls = metadata("regaudit").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip():
            return url.strip().rstrip("/") + "/"
    return None


def _rule(code: str) -> dict[str, Any]:
    entry = CODES.get(code)
    description = entry.description if entry else UNDESCRIBED
    section = f"{DOCS_PAGE}#{anchor(code)}"
    base = docs_url()
    link = f"{base}{section.removeprefix('docs/')}" if base else section
    rule: dict[str, Any] = {
        "id": code,
        "shortDescription": {"text": description.split(". ")[0].rstrip(".") + "."},
        "fullDescription": {"text": description},
        "help": {
            "text": f"{description}\n\nregaudit's documentation: {section}",
            "markdown": f"{description}\n\nregaudit's documentation: [{section}]({link})",
        },
        "defaultConfiguration": {
            "level": "warning" if entry is None or entry.outcomes & LOSSY else "note"
        },
        "properties": {
            "tags": ["keras", "dl4j", "regularizer", *(entry.where if entry else ())],
            "outcomes": sorted(entry.outcomes) if entry else [],
        },
    }
    if base:
        rule["helpUri"] = link
    return rule


def _artifact(path: str) -> dict[str, str]:
    if pathlib.PurePath(path).is_absolute():
        return {"uri": pathlib.Path(path).as_uri()}
    return {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"}


def _result(issue: Issue, path: str) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": _artifact(path), "region": {"startLine": 1}}
    }
    if issue.layer_path:
        location["logicalLocations"] = [{
            "name": issue.layer_path[-1],
            "fullyQualifiedName": "/".join(issue.layer_path),
            "kind": "object",
        }]
    return {
        "ruleId": issue.code,
        "level": issue.level,
        "message": {"text": issue.message},
        "locations": [location],
        # A model file has no lines: the issue's own identity stands in for the line hash that
        # GitHub would otherwise compute from line 1 (the same for every issue in the file).
        "partialFingerprints": {
            FINGERPRINT: issue.identity,
            "primaryLocationLineHash": f"{issue.identity[:16]}:1",
        },
        "properties": {"kind": issue.kind, **issue.properties},
    }


def _log(results: list[dict[str, Any]], properties: dict[str, Any] | None) -> str:
    """The whole log; rules are every registered code plus any other code a result names, and
    each result gets the index of its rule."""
    rule_ids = list(CODES)
    for result in results:
        if result["ruleId"] not in rule_ids:
            rule_ids.append(result["ruleId"])
        result["ruleIndex"] = rule_ids.index(result["ruleId"])
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "regaudit",
                "version": __version__,
                "rules": [_rule(code) for code in rule_ids],
            }
        },
        "results": results,
    }
    if properties:
        run["properties"] = properties
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def render_sarif(report: dict[str, Any], context: Context | None = None) -> str:
    context = context or Context()
    path = path_of(report, context)
    results = [_result(issue, path) for issue in issues(report, context)]
    properties = {"mode": context.mode, "failOn": sorted(context.fail_on)}
    return _log(results, properties)


def join_sarif(pieces: list[str]) -> str:
    """render_sarif outputs of several reports as one log with one run."""
    runs = [json.loads(piece)["runs"][0] for piece in pieces]
    results = [result for run in runs for result in run["results"]]
    return _log(results, runs[0].get("properties") if runs else None)
