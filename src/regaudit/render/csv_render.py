"""CSV: one row per finding, for spreadsheets; cells that a spreadsheet would run are defused."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from regaudit.render.common import as_dict, as_list, raw_number, text

COLUMNS = (
    "file",
    "layer",
    "layer_path",
    "layer_class",
    "wrapper",
    "target",
    "field",
    "form",
    "regularizer_class",
    "l1",
    "l2",
    "display",
    "dl4j_equivalent",
    "outcome",
    "outcome_lenient",
    "codes",
    "message",
    "recommended",
    "penalty_keras",
    "penalty_dl4j_strict",
    "penalty_dl4j_lenient",
)

# Spreadsheets treat a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def defuse(cell: str) -> str:
    """Prefix a quote to formula-like cells; plain numbers such as -0.5 stay numbers."""
    if cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _rows(report: dict[str, Any]) -> list[list[str]]:
    file = text(as_dict(report.get("source")).get("file"))
    rows = []
    for finding in as_list(report.get("findings")):
        f = as_dict(finding)
        reg = as_dict(f.get("regularizer"))
        penalty = as_dict(f.get("penalty"))
        row = [
            file,
            text(f.get("layer")),
            " / ".join(text(p) for p in as_list(f.get("layer_path"))),
            text(f.get("layer_class")),
            text(f.get("wrapper")),
            text(f.get("target")),
            text(f.get("field")),
            text(f.get("form")),
            text(reg.get("class")),
            raw_number(reg.get("l1")),
            raw_number(reg.get("l2")),
            text(reg.get("display")),
            text(f.get("dl4j_equivalent")),
            text(f.get("outcome")),
            text(f.get("outcome_lenient")),
            ";".join(text(c) for c in as_list(f.get("codes"))),
            text(f.get("message")),
            text(f.get("recommended")),
            raw_number(penalty.get("keras")),
            raw_number(penalty.get("dl4j_strict")),
            raw_number(penalty.get("dl4j_lenient")),
        ]
        rows.append([defuse(cell) for cell in row])
    return rows


def render_csv_many(reports: list[dict[str, Any]]) -> str:
    """One header, then the rows of every report in order (RFC 4180: CRLF line ends, quoting).

    CRLF also makes the csv module quote any cell holding a lone CR or LF, so such a cell
    read back is one cell, not a broken row.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for report in reports:
        writer.writerows(_rows(report))
    return out.getvalue()


def render_csv(report: dict[str, Any]) -> str:
    return render_csv_many([report])


HEADER = render_csv_many([])


def join_csv(pieces: list[str]) -> str:
    """render_csv outputs of several reports -> render_csv_many's output for them."""
    return HEADER + "".join(p[len(HEADER) :] for p in pieces)
