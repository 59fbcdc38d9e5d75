"""GitLab Code Quality JSON (the Code Climate subset GitLab reads): one object per issue
(regaudit.render.ci)."""

from __future__ import annotations

import json
from typing import Any

from regaudit.render.ci import Context, fingerprint, issues, path_of

SEVERITIES = {"error": "critical", "warning": "major", "note": "info"}


def _entries(report: dict[str, Any], context: Context) -> list[dict[str, Any]]:
    path = path_of(report, context)
    return [
        {
            "description": issue.message,
            "check_name": issue.code,
            # Unique in the whole report (GitLab drops repeats), so the path is part of it.
            "fingerprint": fingerprint(path, issue.identity),
            "severity": SEVERITIES[issue.level],
            "location": {"path": path, "lines": {"begin": 1}},
        }
        for issue in issues(report, context)
    ]


def _dump(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"


def render_gitlab(report: dict[str, Any], context: Context | None = None) -> str:
    return _dump(_entries(report, context or Context()))


def join_gitlab(pieces: list[str]) -> str:
    """render_gitlab outputs of several reports as one array."""
    return _dump([entry for piece in pieces for entry in json.loads(piece)])
