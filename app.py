"""The Python entry point inside Pyodide: one dropped file in, its rendered report out.

The build imports this module and calls `warm()` (the auditing and rendering modules' import)
before it takes the page's Python memory snapshot (snapshot.mjs); static/worker.js restores that
snapshot (or, when it cannot, installs the regaudit wheel and does the same), registers the JS
module `regaudit_h5` through `use_h5wasm`, and calls `audit(path, name, importer)` for each file
it has mounted at `path`, with the DL4J release chosen on the page. JSON, CSV and Markdown are
rendered exactly as `regaudit --importer RELEASE --format FMT FILE` writes them (same renderer,
same display name), so a download from the page is byte-identical to the CLI's output; the
page's own view adds every release's verdict (the "imports in" line).
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


def audit(path: str, name: str, importer: str | None = None) -> dict[str, Any]:
    """`{"ok": True, "name", "importer", "html", "json", "csv", "md", "java"}` or `{"ok": False,
    "name", "error"}`; `importer`: a DL4J release (profile name), None for the default. `java`:
    the fix the "Fix for DL4J" panel copies and downloads as `<name>.Fix.java` (what
    `regaudit fix FILE -o FILE.Fix.java` writes), or None."""
    from regaudit.audit import audit_path
    from regaudit.errors import RegauditError
    from regaudit.importers import DEFAULT, profile_named
    from regaudit.render import render
    from regaudit.render.html import render_html
    from regaudit.render.java import page_java

    try:
        profile = profile_named(importer) if importer else DEFAULT
        full = audit_path(path, display_name=name, profile=profile, releases=True).to_dict()
        # The downloads are the CLI's --importer RELEASE output: the same dict without releases.
        report = {key: value for key, value in full.items() if key != "releases"}
        java = page_java(report)  # once: the panel shows it and the page downloads it
        result: dict[str, Any] = {"ok": True, "name": name, "importer": profile.name,
                                  "html": render_html(full, java), "java": java}
        for fmt in DOWNLOADS:
            result[fmt] = render(report, fmt)  # what the CLI writes for one file
        return result
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
