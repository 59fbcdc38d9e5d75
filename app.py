"""The Python entry point inside Pyodide: one dropped file in, its rendered report out.

The build imports this module and calls `warm()` (the auditing and rendering modules' import)
before it takes the page's Python memory snapshot (snapshot.mjs); static/worker.js restores that
snapshot (or, when it cannot, installs the regaudit wheel and does the same), registers the JS
module `regaudit_h5` through `use_h5wasm`, and calls `audit(path, name, importer)` for each file
it has mounted at `path`, with the DL4J release chosen on the page: the table, shown at once;
then `finish()`: the rest (the "imports in" line, the fix, the downloads). JSON, CSV and
Markdown are rendered exactly as `regaudit --importer RELEASE --format FMT FILE` writes them
(same renderer, same display name), so a download from the page is byte-identical to the CLI's
output; the page's own view adds every release's verdict (the "imports in" line).
"""

from __future__ import annotations

from typing import Any

DOWNLOADS = ("json", "csv", "md")


def warm() -> None:
    """Import what `audit` needs (the import compiles them, ~0.1 s in the browser), so that a
    page restored from the snapshot has all of them imported already."""
    import regaudit.audit  # noqa: F401
    import regaudit.render  # noqa: F401
    import regaudit.sources.h5wasm_backend  # noqa: F401


def use_h5wasm(js_module: Any) -> None:
    """Read HDF5 through h5wasm (the JS module the worker registered)."""
    from regaudit.sources import hdf5
    from regaudit.sources.h5wasm_backend import H5wasmBackend

    hdf5.set_backend(H5wasmBackend(js_module))


_last: dict[str, Any] | None = None  # the report `finish` completes, with its file


def audit(path: str, name: str, importer: str | None = None) -> dict[str, Any]:
    """The table first: `{"ok": True, "name", "importer", "html"}` or `{"ok": False, "name",
    "error"}`; `importer`: a DL4J release (profile name), None for the default. The HTML has
    no "imports in" line and no fix section yet: `finish()` gives them and the downloads."""
    global _last
    from regaudit.audit import audit_path
    from regaudit.errors import RegauditError
    from regaudit.importers import DEFAULT, profile_named
    from regaudit.render.html import render_html

    _last = None
    try:
        profile = profile_named(importer) if importer else DEFAULT
        report = audit_path(path, display_name=name, profile=profile).to_dict()
        _last = {"path": path, "name": name, "report": report}
        return {"ok": True, "name": name, "importer": profile.name,
                "html": render_html(report, fix=False)}
    except RegauditError as e:
        return {"ok": False, "name": name, "error": str(e) or type(e).__name__}
    except MemoryError:
        return {"ok": False, "name": name, "error": "The file is too large for this browser tab."}
    except Exception as e:  # noqa: BLE001 - the page shows one sentence, never a traceback
        return {
            "ok": False,
            "name": name,
            "error": f"Internal error ({type(e).__name__}): regaudit could not audit this file.",
        }


def finish() -> dict[str, Any]:
    """The rest of the last successful `audit`, while its file is still mounted: `{"releases":
    the "imports in" line's HTML ("" if the verdicts cannot be had), "fix": the fix section's
    HTML, "java": the fix's Java or None (the panel copies it and the page downloads it as
    `<name>.Fix.java`, what `regaudit fix FILE -o FILE.Fix.java` writes), and "json", "csv",
    "md"}`: the downloads, what the CLI writes for this file and release (no release verdicts:
    they are the page's own view)."""
    global _last
    from regaudit.audit import release_verdicts
    from regaudit.render import render
    from regaudit.render.html import fix_html, release_html
    from regaudit.render.java import page_java
    from regaudit.sources import read_model

    last, _last = _last, None
    if last is None:
        raise RuntimeError("finish() without a successful audit()")
    report = last["report"]
    try:  # read again for the verdicts (no weight is read); the file has not changed
        with read_model(last["path"], last["name"]) as source:
            releases = release_html({**report, "releases": release_verdicts(source)})
    except Exception:  # noqa: BLE001 - the line is left out; the report stands
        releases = ""
    java = page_java(report)
    result: dict[str, Any] = {"releases": releases, "fix": fix_html(report, java), "java": java}
    for fmt in DOWNLOADS:
        result[fmt] = render(report, fmt)  # what the CLI writes for one file
    return result
