"""GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per issue
(regaudit.render.ci), which the runner shows as an annotation on the model file."""

from __future__ import annotations

from typing import Any

from regaudit.render.ci import Context, issues, path_of
from regaudit.render.text import clean

COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}

# GitHub's escaping (actions/toolkit, command.ts): data escapes %, CR and LF; property values
# also escape ':' and ','. '%' goes first, so that an escape is never escaped again.
_DATA = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY = (*_DATA, (":", "%3A"), (",", "%2C"))


def _escape(value: str, table: tuple[tuple[str, str], ...]) -> str:
    for raw, escaped in table:
        value = value.replace(raw, escaped)
    return clean(value)  # any other control character from the file shown as \xNN


def render_github(report: dict[str, Any], context: Context | None = None) -> str:
    context = context or Context()
    file = _escape(path_of(report, context), _PROPERTY)
    lines = []
    for issue in issues(report, context):
        title = _escape(f"regaudit {issue.title}", _PROPERTY)
        message = _escape(issue.message, _DATA)
        lines.append(f"::{COMMANDS[issue.level]} file={file},title={title}::{message}\n")
    return "".join(lines)
