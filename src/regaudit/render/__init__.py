"""Renderers: one report (its dict form, schema regaudit/1) in, text out.

They take `Report.to_dict()`, never the dataclasses, so the web page (Pyodide) and the CLI
produce the same bytes for the same file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from regaudit.render.ci import Context
from regaudit.render.csv_render import join_csv, render_csv
from regaudit.render.github import render_github
from regaudit.render.gitlab import join_gitlab, render_gitlab
from regaudit.render.html import render_html
from regaudit.render.json_render import join_json, render_json
from regaudit.render.markdown import render_markdown
from regaudit.render.sarif import join_sarif, render_sarif
from regaudit.render.text import render_text

Renderer = Callable[[dict[str, Any]], str]

FORMATS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
    "md": render_markdown,
    "html": render_html,
    "sarif": render_sarif,
    "github": render_github,
    "gitlab": render_gitlab,
}

# Formats for CI tools: their renderers also take a Context (the file's path as CI names it,
# --fail-on and --mode, which set each issue's level).
CI_FORMATS = frozenset({"sarif", "github", "gitlab"})

# How the renderings of several reports combine: json an array (the object itself for one),
# csv one header, the rest sections in a row. The CLI renders each file as it goes and joins
# the pieces at the end.
JOIN: dict[str, Callable[[list[str]], str]] = {
    "text": "\n".join,
    "json": join_json,
    "csv": join_csv,
    "md": "\n".join,
    "html": "".join,
    "sarif": join_sarif,
    "github": "".join,
    "gitlab": join_gitlab,
}

__all__ = ["CI_FORMATS", "FORMATS", "JOIN", "Context", "join", "render"]


def _lookup(table: dict[str, Any], fmt: str) -> Any:
    try:
        return table[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}") from None


def render(report: dict[str, Any], fmt: str, context: Context | None = None) -> str:
    """One report in `fmt` (text, json, csv, md, html, sarif, github, gitlab). `context` is read
    by the CI formats only; without it they name the file by its base name and fail on nothing."""
    renderer = _lookup(FORMATS, fmt)
    return renderer(report, context) if fmt in CI_FORMATS else renderer(report)


def join(pieces: list[str], fmt: str) -> str:
    """Renderings in `fmt` of several reports, combined: json an array (the object itself for
    one), csv one header and a `file` column, text/md/html one section per file."""
    return _lookup(JOIN, fmt)(list(pieces))
