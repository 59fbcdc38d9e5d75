"""The web page end to end: real files through the real file input, in a real Chromium, and the
page's downloads compared byte for byte with the CLI's output for the same file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import h5py
import pytest
from e2e_support import CORPUS, EXAMPLES, FIXTURES, Site, cli, cli_error, cli_in_process
from playwright.sync_api import Browser, expect


def json_config(h5_path: Path, out: Path) -> Path:
    """A model.to_json()-style file, from a legacy .h5's model_config."""
    with h5py.File(h5_path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        for key in ("keras_version", "backend"):
            value = f.attrs.get(key)
            if value is not None:
                config[key] = value.decode() if isinstance(value, bytes) else str(value)
    out.write_text(json.dumps(config))
    return out


@pytest.fixture(scope="module")
def every_format(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Real Keras files of every format: legacy .h5 (Keras 2.3, 2.15, 3), weights-only .h5
    (legacy and Keras 3 layouts), .keras (tf_keras 2.15 and Keras 3), JSON configs."""
    tmp = tmp_path_factory.mktemp("configs")
    files = [
        FIXTURES / "keras-2.3.1" / "rnn.h5",
        FIXTURES / "keras-2.3.1" / "conv.h5",
        FIXTURES / "keras-2.15.0" / "nested.h5",
        FIXTURES / "keras-2.15.0" / "adamw_compiled.h5",
        FIXTURES / "keras-2.15.0" / "wrappers.keras",
        FIXTURES / "keras-3.15.1" / "l1_l2.h5",
        FIXTURES / "keras-3.15.1" / "shared_regularizer_instance.keras",
        FIXTURES / "keras-3.15.1" / "embedding_bn.keras",
        EXAMPLES / "l1_l2.weights.h5",
        EXAMPLES / "l1_l2.json",
        json_config(FIXTURES / "keras-2.3.1" / "l1_l2.h5", tmp / "l1_l2-keras2.3.json"),
    ]
    weights = CORPUS / "keras-3.15.1-torch" / "conv.weights.h5"
    if weights.exists():  # Keras 3's weights-only layout (no root attributes at all)
        files.append(weights)
    missing = [f for f in files if not f.exists()]
    assert not missing, f"missing test files: {missing}"
    return files


@pytest.fixture(scope="module")
def booted(browser: Browser, site_url: str) -> Iterator[Site]:
    """One booted page for the whole module (boot takes seconds)."""
    s = Site(browser, site_url)
    s.open()
    yield s
    s.close()


@pytest.fixture(scope="module")
def audited(booted: Site, every_format: list[Path]) -> Site:
    """All of them picked at once (input[type=file][multiple])."""
    booted.audit(*every_format)
    return booted


def test_several_files_each_get_a_finished_section(audited: Site, every_format: list[Path]):
    for path in every_format:
        section = audited.section(path.name)
        expect(section).to_have_count(1)
        expect(section).to_have_attribute("data-report", "")
        expect(section.locator('a[download$=".json"]')).to_have_count(1)
        expect(section.locator("section.report")).to_have_count(1)


@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_downloads_equal_the_cli_byte_for_byte(audited: Site, every_format: list[Path], fmt: str):
    for path in every_format:
        assert audited.download(path.name, fmt) == cli(path, fmt), f"{path.name} ({fmt})"


def test_penalties_come_from_the_weights(audited: Site):
    """Σ|w|, Σw² computed in JS over h5wasm slices: present, and equal to numpy's (the JSON
    parity above checks every digit)."""
    report = json.loads(audited.download("rnn.h5", "json"))
    penalties = [f["penalty"] for f in report["findings"] if f.get("penalty")]
    assert penalties and any(p["sum_sq"] > 0 for p in penalties)


def test_filter_by_outcome(audited: Site):
    page = audited.page
    rows = audited.section("conv.h5").locator("tr.finding")
    total = rows.count()
    dropped = audited.section("conv.h5").locator('tr.finding[data-outcome="dropped"]').count()
    assert 0 < dropped < total
    page.select_option("#filter-outcome", "dropped")
    expect(audited.section("conv.h5").locator("tr.finding:visible")).to_have_count(dropped)
    page.select_option("#filter-mode", "outcomeLenient")
    lenient = audited.section("conv.h5").locator('tr.finding[data-outcome-lenient="dropped"]')
    expect(audited.section("conv.h5").locator("tr.finding:visible")).to_have_count(lenient.count())
    page.select_option("#filter-outcome", "")
    page.select_option("#filter-mode", "outcome")
    expect(audited.section("conv.h5").locator("tr.finding:visible")).to_have_count(total)


def test_outcomes_are_words_not_only_colours(audited: Site):
    cells = audited.section("conv.h5").locator("tr.finding .outcome")
    for text in cells.all_inner_texts():
        assert text.strip() in {"applied", "altered", "dropped", "warned", "error", "noop"}


def test_drag_and_drop(booted: Site):
    booted.clear()
    path = EXAMPLES / "wrappers.keras"
    data = list(path.read_bytes())
    transfer = booted.page.evaluate_handle(
        """([name, bytes]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], name));
            return dt;
        }""",
        [path.name, data],
    )
    booted.page.locator("#drop").dispatch_event("dragover", {"dataTransfer": transfer})
    booted.page.locator("#drop").dispatch_event("drop", {"dataTransfer": transfer})
    booted.wait_done(1)
    assert booted.download(path.name, "json") == cli(path)


def test_keyboard_opens_the_file_picker(booted: Site):
    booted.clear()
    page = booted.page
    with page.expect_file_chooser() as chooser:
        page.focus("#file")  # the labelled input: Enter (or Space) opens the picker
        page.keyboard.press("Enter")
    chooser.value.set_files(str(EXAMPLES / "rnn.h5"))
    booted.wait_done(1)
    expect(booted.section("rnn.h5")).to_have_attribute("data-report", "")


BAD_FILES = {
    "notes.txt": b"just some text, not a model\n",
    "empty.h5": b"",
    "image.h5": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "config.json": b'{"not": "a keras model"}',
    "archive.keras": b"PK\x03\x04" + bytes(40),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_then_a_good_one(booted: Site, tmp_path: Path, name: str):
    bad = tmp_path / name
    bad.write_bytes(BAD_FILES[name])
    booted.audit(bad)
    section = booted.page.locator("section.file[data-error]")
    expect(section).to_have_count(1)
    message = section.get_attribute("data-error")
    assert message == cli_error(bad)
    expect(section.locator(".error-message")).to_contain_text(message)
    assert "Traceback" not in section.inner_text()
    good = EXAMPLES / "conv.h5"
    booted.audit(good)
    assert booted.download(good.name, "json") == cli(good)


def test_truncated_files_get_the_clis_message(booted: Site, tmp_path: Path):
    """HDF5's own error stack is caught (not printed to the console) and worded as h5py does,
    so the page and the CLI say the same thing."""
    for source in (EXAMPLES / "conv.h5", EXAMPLES / "wrappers.keras"):
        data = source.read_bytes()
        for cut in (100, 3000, len(data) // 2):
            bad = tmp_path / f"cut{cut}{source.suffix}"
            bad.write_bytes(data[:cut])
            booted.audit(bad)
            section = booted.page.locator("section.file")
            if source.suffix == ".h5" or section.get_attribute("data-error") is not None:
                expect(section).to_have_attribute("data-error", cli_error(bad))
            else:  # a .keras cut in its weights still has its config: a report, with a note
                assert booted.download(bad.name, "json") == cli(bad)
            assert "Traceback" not in section.inner_text()
    good = EXAMPLES / "conv.h5"
    booted.audit(good)
    assert booted.download(good.name, "json") == cli(good)
    assert booted.errors == []


def test_layer_names_from_the_file_are_text(booted: Site, tmp_path: Path):
    config = json.loads((EXAMPLES / "l1_l2.json").read_text())
    evil = '<img src=x onerror="document.body.dataset.pwned=1">"><script>x=1</script>'
    config["config"]["layers"][1]["config"]["name"] = evil
    path = tmp_path / "evil<b>name<i>.json"
    path.write_text(json.dumps(config))
    booted.audit(path)
    page = booted.page
    expect(page.locator("section.file[data-report]")).to_have_count(1)
    assert (
        page.locator(
            "section.file img, section.file script, section.file b, section.file i"
        ).count()
        == 0
    )
    assert page.evaluate("document.body.dataset.pwned") is None
    expect(page.locator("section.file").first).to_contain_text(evil)
    assert booted.download(path.name, "json") == cli(path)


def test_file_names_with_spaces_and_unicode(booted: Site, tmp_path: Path):
    path = tmp_path / "mödel «v1» #2 (copy).keras"
    path.write_bytes((EXAMPLES / "wrappers.keras").read_bytes())
    booted.audit(path)
    expect(booted.section(path.name)).to_have_attribute("data-report", "")
    assert booted.download(path.name, "json") == cli(path)


def test_phone_width_has_no_sideways_scroll(booted: Site):
    booted.audit(EXAMPLES / "conv.h5")
    page = booted.page
    page.set_viewport_size({"width": 390, "height": 800})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


def test_no_console_errors_and_nothing_left_the_machine(booted: Site):
    assert booted.errors == []
    assert booted.external == []


# --- fresh pages ---------------------------------------------------------------------------


def test_boot_makes_no_request_outside_127_0_0_1(site: Site):
    page = site.open()
    csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "'wasm-unsafe-eval'" in csp
    site.audit(EXAMPLES / "rnn.h5")
    assert site.external == []
    # The route saw the worker's traffic too (so "nothing external" means something).
    names = {url.rsplit("/", 1)[-1] for url in site.requests}
    assert {"pyodide.asm.wasm", "python_stdlib.zip", "hdf5_util.js", "regaudit.snapshot"} <= names
    assert site.errors == []


# Each section's attributes as they come, with what the section holds at that moment.
RECORD_SECTIONS = """
window.__marks = [];
document.addEventListener("DOMContentLoaded", () => new MutationObserver((records) => {
  for (const r of records) {
    const s = r.target;
    if (!s.hasAttribute(r.attributeName)) continue;
    window.__marks.push([r.attributeName, s.querySelectorAll("tr.finding").length,
      s.querySelectorAll("a[download]").length, s.querySelectorAll(".report-fix").length,
      s.querySelectorAll(".report-releases").length]);
  }
}).observe(document.getElementById("reports"),
  { attributes: true, subtree: true, attributeFilter: ["data-report", "data-complete"] }));
"""


def test_the_table_comes_first_then_the_rest(site: Site):
    """data-report: the findings are there, nothing else yet; data-complete: the "imports in"
    line, the fix and the downloads too (conv.h5 has a fix)."""
    site.context.add_init_script(RECORD_SECTIONS)
    site.open()
    site.audit(EXAMPLES / "conv.h5")
    marks = site.page.evaluate("window.__marks")
    assert [m[0] for m in marks] == ["data-report", "data-complete"], marks
    (_, rows, links, fix, releases), (_, rows_after, links_after, fix_after, releases_after) = marks
    assert rows > 0 and (links, fix, releases) == (0, 0, 0)
    assert rows_after == rows and links_after == 4 and fix_after == releases_after == 1
    assert site.download("conv.h5", "json") == cli(EXAMPLES / "conv.h5")
    assert site.errors == []


# A layer name that reads like the markup the page cuts a long table at (main.js splitFindings).
CUT_LOOKALIKE = '</table><tbody class="finding-group"><tr class="finding">'


def long_name(i: int) -> str:
    return CUT_LOOKALIKE if i == 3 else f"dense_{i:03d}"


def long_config(tmp_path: Path, layers: int) -> Path:
    """l1_l2.json (a real Keras config) with its regularized Dense layers repeated: `layers`
    findings, taking its Dense layers in turn (their lenient outcomes differ); one is named
    like the markup the page cuts at."""
    config = json.loads((EXAMPLES / "l1_l2.json").read_text())
    dense = [layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense"]
    copies = []
    for i in range(layers):
        layer = json.loads(json.dumps(dense[i % len(dense)]))
        layer["config"]["name"] = long_name(i)
        copies.append(layer)
    config["config"]["layers"] = config["config"]["layers"][:1] + copies
    path = tmp_path / "long.json"
    path.write_text(json.dumps(config))
    return path


def test_a_long_table_shows_its_top_first_then_the_rest(site: Site, tmp_path: Path):
    """The first frame has the first 25 findings (main.js FIRST_FINDINGS); the rest follow, in
    order, before data-complete, and the outcome filter covers them too."""
    path = long_config(tmp_path, 60)
    site.context.add_init_script(RECORD_SECTIONS)
    page = site.open()
    site.audit(EXAMPLES / "l1_l2.json")  # the filter shows once there is a report
    first_outcome = json.loads(cli(path))["findings"][0]["outcome_lenient"]
    page.select_option("#filter-mode", "outcomeLenient")
    page.select_option("#filter-outcome", first_outcome)
    site.audit(path)
    marks = page.evaluate("window.__marks")[2:]
    assert [(m[0], m[1]) for m in marks] == [("data-report", 25), ("data-complete", 60)], marks
    section = site.section(path.name)
    names = section.locator("tr.finding td.finding-layer").all_inner_texts()
    assert names == [long_name(i) for i in range(60)]
    report = json.loads(site.download(path.name, "json"))
    wanted = sum(f["outcome_lenient"] == first_outcome for f in report["findings"])
    assert 0 < wanted < 60
    expect(section.locator("tr.finding:visible")).to_have_count(wanted)
    assert report == json.loads(cli(path))
    assert site.errors == []


def test_a_file_picked_during_boot_waits_for_it(site: Site):
    page = site.open(wait=False)
    assert page.locator("html").get_attribute("data-state") == "booting"
    path = FIXTURES / "keras-2.15.0" / "rnn.keras"
    page.set_input_files("input[type=file]", str(path))
    expect(site.section(path.name)).to_have_count(1)
    site.wait_ready()
    site.wait_done(1)
    assert site.download(path.name, "json") == cli(path)
    assert site.errors == []


def test_example_from_the_query_string(site: Site):
    site.open("?example=wrappers", wait=False)
    site.wait_done(1)
    assert site.download("wrappers.keras", "json") == cli(EXAMPLES / "wrappers.keras")
    # Each bundled example is listed, and an unknown name is a clear error.
    names = json.loads((EXAMPLES / "examples.json").read_text())
    expect(site.page.locator("#examples a")).to_have_count(len(names))
    site.open("?example=nope", wait=False)
    error = site.page.locator('section.file[data-file="example \\"nope\\""][data-error]')
    expect(error).to_have_count(1)
    assert "nope" in (error.get_attribute("data-error") or "")
    site.wait_ready()
    assert site.errors == []


def test_works_in_an_iframe(site: Site):
    page = site.page
    page.goto(site.base_url + "THIRD_PARTY_NOTICES.txt")  # any same-origin page to host it
    page.evaluate(
        """(src) => {
            const f = document.createElement("iframe");
            f.src = src; f.width = 800; f.height = 600; f.id = "embed";
            document.body.append(f);
        }""",
        site.base_url + "?example=rnn",
    )
    frame = page.frame_locator("#embed")
    expect(frame.locator("html")).to_have_attribute("data-state", "ready", timeout=90_000)
    expect(frame.locator("section.file[data-report]")).to_have_count(1, timeout=60_000)
    assert site.errors == []


def test_offline_after_the_first_visit(browser: Browser, site_url: str):
    site = Site(browser, site_url, service_workers="allow")
    try:
        page = site.open()
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        expect(page.locator("html")).to_have_attribute("data-state", "ready")
        site.context.set_offline(True)
        page.reload()
        site.wait_ready()
        site.audit(EXAMPLES / "conv.h5")
        assert site.download("conv.h5", "json") == cli(EXAMPLES / "conv.h5")
        assert site.errors == []
    finally:
        site.close()


# --- the whole generated corpus (when ../shared is beside the repo) -------------------------


def corpus_files() -> list[Path]:
    if not CORPUS.exists():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".h5", ".keras"))


@pytest.mark.corpus
@pytest.mark.skipif(not corpus_files(), reason="../shared/corpus/generated is not here")
def test_every_generated_corpus_file_matches_the_cli(booted: Site):
    # The same base name exists in several Keras versions: audit in groups of unique names.
    groups: list[list[Path]] = []
    for path in corpus_files():
        group = next(
            (g for g in groups if len(g) < 25 and path.name not in {p.name for p in g}), None
        )
        if group is None:
            groups.append(group := [])
        group.append(path)
    for group in groups:
        booted.audit(*group)
        for path in group:
            assert booted.download(path.name, "json") == cli_in_process(path), str(path)
