"""Renderers: every format from the report's dict form, with hostile values from the file."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest

from regaudit.render import FORMATS, join, render
from regaudit.render.csv_render import COLUMNS, defuse
from regaudit.report import SCHEMA, Blocker, Finding, Note, Penalty, Report, Training

XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"


def render_many(reports: list[dict], fmt: str) -> str:
    """Several reports as the CLI writes them: each rendered, then joined."""
    return join([render(r, fmt) for r in reports], fmt)


def finding(**overrides: object) -> Finding:
    values: dict[str, object] = dict(
        layer="dense_reg",
        layer_path=["dense_reg"],
        layer_class="Dense",
        wrapper=None,
        target="kernel",
        field="kernel_regularizer",
        form="L1L2",
        regularizer={
            "class": "L1L2",
            "l1": 0.0,
            "l2": 0.009999999776482582,
            "factor": None,
            "display": "L1L2(l1=0, l2=0.01)",
            "config": {"l1": 0.0, "l2": 0.009999999776482582},
        },
        dl4j_equivalent=".l1(0).l2(0.01)",
        outcome="altered",
        outcome_lenient="altered",
        codes=["L2_HALVED"],
        codes_lenient=["L2_HALVED"],
        message="imported as .l2(0.01): DL4J's L2 gradient is half of Keras's",
        message_lenient="imported as .l2(0.01): DL4J's L2 gradient is half of Keras's",
        recommended=".l2(0.02)",
        penalty=Penalty(["dense_reg/kernel:0"], 40, 3.5, 1.25, 0.0125, 0.00625, 0.00625),
    )
    values.update(overrides)
    return Finding(**values)  # type: ignore[arg-type]


def report(findings: list[Finding] | None = None, **overrides: object) -> Report:
    values: dict[str, object] = dict(
        source={
            "file": "model.h5",
            "format": "legacy-h5",
            "keras_version": "2.3.1",
            "backend": "tensorflow",
            "size": 1234,
        },
        importer="dl4j-1.0.0-M2.1",
        findings=[finding()] if findings is None else findings,
        training=Training(
            "Adam", None, None, "noop", "noop", [], "Adam is mapped; no weight decay", "nothing"
        ),
    )
    values.update(overrides)
    return Report(**values)  # type: ignore[arg-type]


def hostile() -> dict:
    """A report whose every file-derived string tries to break out of its format."""
    bad = finding(
        layer=XSS,
        layer_path=["outer|pipe", XSS],
        layer_class=SCRIPT,
        wrapper='Bidirectional" onmouseover="alert(1)',
        target="kernel",
        field="kernel_regularizer",
        regularizer={
            "class": '=HYPERLINK("http://evil","x")',
            "l1": float("nan"),
            "l2": float("inf"),
            "factor": float("-inf"),
            "display": "L1L2(l1=`nan`, l2=inf) | x",
            "config": {"l1": float("nan"), "l2": float("inf"), "note": "-1+cmd"},
        },
        outcome="error",
        outcome_lenient="warned",
        codes=["UNKNOWN_FIELD", "@SUM(1)"],
        message="line one\nline two | with <b>tags</b> and \\ and `ticks`",
        recommended="+cmd|' /C calc'!A0",
        penalty=None,
        penalty_note="\tno weights",
    )
    r = report(
        [finding(), bad],
        blocking=[Blocker(XSS, "UNKNOWN_FIELD", f"bad field in {SCRIPT}", ["strict"])],
        notes=[Note("NOTE", f"a note about {XSS}")],
    )
    r.source["file"] = f"{XSS}.h5"
    return r.to_dict()


# --- dispatch ------------------------------------------------------------------------------


def test_every_format_renders_a_string_ending_in_newline() -> None:
    data = report().to_dict()
    assert set(FORMATS) == {"text", "json", "csv", "md", "html", "sarif", "github", "gitlab"}
    for fmt in FORMATS:
        out = render(data, fmt)
        # GitHub annotations: one line per issue, none at all for a report without any.
        assert isinstance(out, str) and (out.endswith("\n") or fmt == "github" and not out), fmt


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render(report().to_dict(), "xml")
    with pytest.raises(ValueError):
        render_many([], "pdf")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_renderers_survive_a_report_with_missing_and_wrong_typed_fields(fmt: str) -> None:
    # The renderers read a dict; a partial or odd one must not crash them.
    odd = {
        "schema": SCHEMA,
        "source": None,
        "findings": [{"layer_path": "not a list", "regularizer": None, "penalty": 3}, 7],
        "verdict": {"blocking": [None]},
        "summary": {"strict": {"error": "x"}},
    }
    assert isinstance(render(odd, fmt), str)
    assert isinstance(render({}, fmt), str)


def test_renderers_take_the_dict_form_and_match_after_a_json_round_trip() -> None:
    # The browser may hand over JSON-decoded data: same bytes as from to_dict().
    data = report().to_dict()
    again = json.loads(render(data, "json"))
    for fmt in FORMATS:
        assert render(again, fmt) == render(data, fmt), fmt


# --- json ----------------------------------------------------------------------------------


def _no_constants(name: str) -> object:
    raise AssertionError(f"JSON holds the non-standard constant {name}")


def test_json_is_the_to_dict_form_indented_and_unicode_kept() -> None:
    r = report([finding(layer="schicht_ä", layer_path=["schicht_ä"])])
    out = render(r.to_dict(), "json")
    assert out.endswith("}\n")
    assert "schicht_ä" in out  # ensure_ascii=False
    assert out.startswith('{\n  "schema": "regaudit/1"')
    assert json.loads(out) == r.to_dict()


def test_json_with_nan_and_infinite_coefficients_is_valid_json() -> None:
    out = render(hostile(), "json")
    data = json.loads(out, parse_constant=_no_constants)
    reg = data["findings"][1]["regularizer"]
    assert (reg["l1"], reg["l2"], reg["factor"]) == ("NaN", "Infinity", "-Infinity")
    assert reg["config"]["l1"] == "NaN"
    assert data["findings"][0]["regularizer"]["l2"] == 0.009999999776482582  # raw value kept


def test_json_many_shapes() -> None:
    a = report().to_dict()
    b = report(source={"file": "b.h5"}).to_dict()
    assert render_many([a], "json") == render(a, "json")
    both = json.loads(render_many([a, b], "json"))
    assert isinstance(both, list) and [d["source"]["file"] for d in both] == ["model.h5", "b.h5"]
    assert json.loads(render_many([], "json")) == []


# --- csv -----------------------------------------------------------------------------------


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_one_row_per_finding_with_the_documented_columns() -> None:
    out = render(report([finding(), finding(target="bias", codes=["A", "B"])]).to_dict(), "csv")
    reader = csv.reader(io.StringIO(out, newline=""))
    assert next(reader) == list(COLUMNS)
    rows = _csv_rows(out)
    assert len(rows) == 2
    assert rows[0]["file"] == "model.h5"
    assert rows[0]["l1"] == "0.0" and rows[0]["l2"] == "0.009999999776482582"  # raw values
    assert rows[0]["display"] == "L1L2(l1=0, l2=0.01)"
    assert rows[0]["penalty_keras"] == "0.0125"
    assert rows[1]["codes"] == "A;B"


def test_csv_layer_path_is_joined_and_missing_penalty_is_empty() -> None:
    f = finding(layer_path=["outer", "inner"], layer="inner", penalty=None, penalty_note="none")
    row = _csv_rows(render(report([f]).to_dict(), "csv"))[0]
    assert row["layer_path"] == "outer / inner"
    assert row["penalty_keras"] == row["penalty_dl4j_strict"] == ""


def test_csv_formula_injection_is_neutralised() -> None:
    rows = _csv_rows(render(hostile(), "csv"))
    assert len(rows) == 2  # the newline inside the message did not split the row
    bad = rows[1]
    assert bad["regularizer_class"] == '\'=HYPERLINK("http://evil","x")'
    assert bad["recommended"].startswith("'+cmd")
    assert bad["codes"] == "UNKNOWN_FIELD;@SUM(1)"  # starts with U: left alone
    assert bad["message"] == "line one\nline two | with <b>tags</b> and \\ and `ticks`"
    assert bad["l2"] == "Infinity" and bad["l1"] == "NaN"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("-0.5", "-0.5"),
        ("+1e-05", "+1e-05"),
        ("-3", "-3"),
        ("=1+1", "'=1+1"),
        ("-1+cmd", "'-1+cmd"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\r=x", "'\r=x"),
        ("-Infinity", "'-Infinity"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_defuse(cell: str, expected: str) -> None:
    assert defuse(cell) == expected


def test_csv_many_has_one_header_and_a_file_column() -> None:
    a = report().to_dict()
    b = report([finding(), finding()], source={"file": "b.h5"}).to_dict()
    out = render_many([a, b], "csv")
    assert out.count("file,layer,layer_path") == 1
    assert [r["file"] for r in _csv_rows(out)] == ["model.h5", "b.h5", "b.h5"]
    assert render_many([a], "csv") == render(a, "csv")


# --- markdown ------------------------------------------------------------------------------


def _md_cells(line: str) -> list[str]:
    """Split a GFM table row on pipes that are not backslash-escaped."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return re.split(r"(?<!\\)\|", line[1:-1])


def test_markdown_table_rows_keep_their_cell_count_with_pipes_and_newlines() -> None:
    out = render(hostile(), "md")
    table = [line for line in out.splitlines() if line.startswith("| ")]
    header, rule, *rows = table[:4]
    assert len(_md_cells(rule)) == len(_md_cells(header))
    assert len(rows) == 2
    for row in rows:
        assert len(_md_cells(row)) == len(_md_cells(header)), row


def _unescaped(out: str, char: str) -> list[int]:
    """Offsets of `char` not preceded by an odd run of backslashes (i.e. live markup)."""
    found = []
    for m in re.finditer(re.escape(char), out):
        run = len(out[: m.start()]) - len(out[: m.start()].rstrip("\\"))
        if run % 2 == 0:
            found.append(m.start())
    return found


def test_markdown_escapes_markup_from_the_file() -> None:
    out = render(hostile(), "md")
    for char in "<>`":
        assert not _unescaped(out, char), char
    assert "\\<img src=x onerror=alert(1)\\>" in out
    assert "outer\\|pipe" in out
    assert "\\`ticks\\`" in out
    assert "and \\\\ and" in out  # a backslash from the file stays a literal backslash
    assert "line one line two" in out  # a newline from the file does not end the row
    assert out.startswith("## \\<img")


def test_markdown_sections_and_many() -> None:
    data = report().to_dict()
    out = render(data, "md")
    for heading in ("## model.h5", "### Training / weight decay", "### Verdict", "### Summary"):
        assert heading in out
    assert "**importable**" in out
    many = render_many([data, report(source={"file": "b.h5"}).to_dict()], "md")
    assert many.count("\n## ") + many.startswith("## ") == 2


# --- html ----------------------------------------------------------------------------------


class Tree(HTMLParser):
    """Collects elements, attributes and text, the way a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.open: list[int] = []  # indices into elements, parallel to stack
        self.inner: list[list[str]] = []  # each element's text, descendants' included

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self.inner.append([])
        if tag not in VOID:  # no end tag to wait for
            self.stack.append(tag)
            self.open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for index in self.open:
            self.inner[index].append(data)

    def texts(self, name: str) -> list[str]:
        """The text of each element with class `name`, in document order."""
        return [
            "".join(self.inner[i])
            for i, (_, a) in enumerate(self.elements)
            if name in (a.get("class") or "").split()
        ]

    def tags(self) -> set[str]:
        return {tag for tag, _ in self.elements}

    def with_class(self, name: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.elements if name in (a.get("class") or "").split()]


VOID = {"br", "hr", "img", "input", "meta", "link", "wbr"}


def parse(html_text: str) -> Tree:
    tree = Tree()
    tree.feed(html_text)
    tree.close()
    assert not [t for t in tree.stack if t not in VOID], tree.stack
    return tree


def test_html_layer_names_from_the_file_come_out_inert() -> None:
    tree = parse(render(hostile(), "html"))
    assert not tree.tags() & {"img", "script", "iframe", "object", "b", "style", "html", "head"}
    for _, attrs in tree.elements:
        assert not [a for a in attrs if a.startswith("on")], attrs
        assert "style" not in attrs
    text = "".join(tree.text)
    assert XSS in text and SCRIPT in text  # shown as text, exactly
    wrappers = tree.with_class("wrapper")
    assert wrappers  # the quote in the wrapper name did not break out of anything


def test_html_is_a_fragment_with_one_report_section() -> None:
    out = render(report().to_dict(), "html")
    assert out.startswith('<section class="report"')
    tree = parse(out)
    assert [t for t, a in tree.elements if t == "section" and a.get("class") == "report"] == [
        "section"
    ]
    assert not tree.tags() & {"html", "head", "body", "script", "style", "link", "meta"}


def test_html_rows_carry_outcomes_as_words_classes_and_data_attributes() -> None:
    data = hostile()
    tree = parse(render(data, "html"))
    rows = tree.with_class("finding")
    assert [(r["data-outcome"], r["data-outcome-lenient"]) for r in rows] == [
        ("altered", "altered"),
        ("error", "warned"),
    ]
    assert not [a for a in tree.with_class("outcome") if a.get("title")]  # reasons are text
    html_text = render(data, "html")
    assert ">error</span>" in html_text and ">warned</span>" in html_text  # the word, not colour


def test_html_reasons_are_text_under_each_finding_as_in_the_markdown_why_column() -> None:
    data = hostile()
    data["findings"][1]["message_lenient"] = "lenient: <i>lost</i> with a warning"
    tree = parse(render(data, "html"))
    assert len(tree.with_class("finding-why")) == len(data["findings"])
    strict = tree.texts("why-strict")
    # The first finding has one reason for both modes; the second a reason for each.
    assert tree.texts("why-mode") == ["Why (both modes):", "Why (strict):", "Why (lenient):"]
    whys = [t.split(":", 1)[1].strip() for t in strict]
    assert whys == [f["message"] for f in data["findings"]]  # decoded: markup came out as text
    assert tree.texts("why-lenient")[-1].endswith("lenient: <i>lost</i> with a warning")
    # The Markdown download's "Why (strict)" column says the same, cell for cell.
    lines = render(data, "md").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Layer |"))
    column = lines[start].split(" | ").index("Why (strict)")
    md_rows = lines[start + 2 : start + 2 + len(data["findings"])]
    for row, why in zip(md_rows, whys, strict=True):
        cell = re.split(r"(?<!\\) \| ", row)[column]
        assert re.sub(r"\\(.)", r"\1", cell) == why.replace("\n", " ")


def test_html_header_and_columns() -> None:
    out = render(report().to_dict(), "html")
    tree = parse(out)
    headers = [
        d for d in "".join(tree.text).split("\n") if d.startswith(("Layer", "Documented", "Pen"))
    ]
    assert headers
    for expected in (
        "Keras regularizer",
        "Documented DL4J equivalent",
        "Recommended DL4J setting",
        "legacy-h5",
        "2.3.1",
        "tensorflow",
        "Keras 0.0125 vs DL4J 0.00625",
    ):
        assert expected in out, expected
    verdicts = tree.with_class("verdict")
    assert [(v["data-mode"], v["data-verdict"]) for v in verdicts] == [
        ("strict", "changed"),
        ("lenient", "changed"),
    ]
    assert tree.texts("verdict-line") == ["imports, but 1 of 1 regularizer altered."] * 2


def test_html_unknown_outcome_value_cannot_inject_a_class() -> None:
    data = report().to_dict()
    data["findings"][0]["outcome"] = 'x" onclick="alert(1)'
    tree = parse(render(data, "html"))
    row = tree.with_class("finding")[0]
    assert row["data-outcome"] == "unknown"
    assert tree.with_class("outcome-unknown")


def test_html_no_regularizers_state() -> None:
    tree = parse(render(report([]).to_dict(), "html"))
    assert "No regularizers found." in "".join(tree.text)
    assert not tree.with_class("findings")


def test_html_weights_only_state_says_unknown_and_shows_the_note() -> None:
    r = report(
        [],
        verdict_known=False,
        training=None,
        notes=[Note("WEIGHTS_ONLY", "weights-only file: regularizers are unknown")],
    )
    r.source.update(format="weights-only-h5", keras_version=None, backend=None)
    out = render(r.to_dict(), "html")
    tree = parse(out)
    text = "".join(tree.text)
    assert "weights-only file: regularizers are unknown" in text
    assert "No regularizers found" not in text
    verdicts = tree.with_class("verdict")
    assert [v["class"] for v in verdicts] == ["verdict verdict-unknown"] * 2
    assert tree.texts("verdict-action") == [
        "What to do: audit the file saved with its model (model.save) or its JSON config."
    ] * 2
    assert 'data-verdict-strict="unknown"' in out
    assert not tree.with_class("report-blocking")


def test_html_blocking_reasons_are_listed_with_their_layer() -> None:
    r = report(
        blocking=[
            Blocker(
                "gru_1",
                "UNSUPPORTED_LAYER",
                "Unsupported keras layer type GRU",
                ["strict", "lenient"],
            ),
            Blocker(None, "KERAS_MAJOR_VERSION", "Keras 3", ["strict", "lenient"]),
        ]
    )
    tree = parse(render(r.to_dict(), "html"))
    blockers = tree.with_class("blocker")
    assert [b["data-modes"] for b in blockers] == ["strict lenient", "strict lenient"]
    text = "".join(tree.text)
    assert "gru_1" in text and "UNSUPPORTED_LAYER" in text and "(file)" in text
    assert [v["class"] for v in tree.with_class("verdict")] == ["verdict verdict-blocked"] * 2
    assert tree.texts("verdict-line") == [
        "does not import: gru_1: Unsupported keras layer type GRU (and 1 more reason)."
    ] * 2
    assert tree.texts("blocker-action") == [
        "What to do: replace gru_1 with a layer class DL4J builds (an LSTM is the nearest), "
        "or remove it.",
        "What to do: re-save the model as .h5 with Keras 2 (tf_keras, or TensorFlow 2.15 or "
        "older).",
    ]


def test_html_many_is_sections_in_a_row() -> None:
    out = render_many([report().to_dict(), hostile()], "html")
    tree = parse(out)
    assert len([1 for t, a in tree.elements if t == "section" and a.get("class") == "report"]) == 2


# --- text ----------------------------------------------------------------------------------


def test_text_has_the_table_verdict_and_summary() -> None:
    out = render(report().to_dict(), "text")
    lines = out.splitlines()
    assert lines[0].startswith("model.h5  (format legacy-h5, Keras 2.3.1, backend tensorflow")
    header = next(line for line in lines if "LAYER" in line)
    for col in ("CLASS", "TARGET", "KERAS REGULARIZER", "STRICT", "LENIENT", "RECOMMENDED"):
        assert col in header
    row = lines[lines.index(header) + 2]
    assert row.split() == [
        "dense_reg",
        "Dense",
        "kernel",
        "L1L2(l1=0,",
        "l2=0.01)",
        "altered",
        "altered",
        ".l2(0.02)",
    ]
    assert "Verdict: strict (enforceTrainingConfig=true): importable" in out
    assert "Summary: 1 finding; strict: altered 1; lenient: altered 1" in out


def test_text_cannot_steer_the_terminal() -> None:
    f = finding(layer="evil\x1b[2J\x1b]0;title\x07", layer_path=["evil\x1b[2J", "x\u202ey"])
    out = render(report([f]).to_dict(), "text")
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "evil\\x1b[2J / x\\u202ey" in out


def test_text_states_and_many() -> None:
    empty = render(report([]).to_dict(), "text")
    assert "No regularizers found." in empty
    weights = report([], verdict_known=False, training=None, notes=[Note("WEIGHTS_ONLY", "n")])
    out = render(weights.to_dict(), "text")
    assert "Regularizers unknown" in out and "importable" not in out.replace("unknown", "")
    assert "WEIGHTS_ONLY: n" in out
    many = render_many([report().to_dict(), weights.to_dict()], "text")
    assert many == render(report().to_dict(), "text") + "\n" + out


def test_text_cuts_absurd_names_from_the_middle() -> None:
    names = [f"{'x' * 200}_{i}" for i in range(2)]
    out = render(report([finding(layer=n, layer_path=[n]) for n in names]).to_dict(), "text")
    rows = [line for line in out.splitlines() if "..." in line]
    assert (
        len(rows) == 2 and rows[0].split()[0].endswith("_0") and rows[1].split()[0].endswith("_1")
    )


@pytest.mark.parametrize(
    ("outcomes", "state", "line"),
    [
        (["applied", "noop"], "kept", "imports, and every regularizer is kept as in Keras."),
        (["noop"], "kept", "imports; every regularizer is zero: nothing to carry."),
        (["applied", "warned"], "lost", "imports, but 1 of 2 regularizers lost (1 warned)."),
    ],
)
def test_html_verdict_line_ranks_the_outcomes(outcomes: list[str], state: str, line: str) -> None:
    findings = [finding(outcome=o, outcome_lenient=o) for o in outcomes]
    tree = parse(render(report(findings).to_dict(), "html"))
    assert [v["data-verdict"] for v in tree.with_class("verdict")] == [state, state]
    assert tree.texts("verdict-line") == [line, line]
    assert bool(tree.texts("verdict-action")) == (state != "kept")
