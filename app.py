"""The Python entry point inside Pyodide: one dropped file in, its rendered report out.

static/worker.js installs the regaudit wheel, imports this module, reports "ready", then calls
`warm()` (the auditing and rendering modules' import, off the boot's critical path), registers
the JS module `regaudit_h5` through `use_h5wasm`, and calls `audit(path, name)` for each file
it has mounted at `path`. JSON, CSV and Markdown are rendered exactly as
`regaudit --format FMT FILE` writes them (same renderer, same display name), so a download from
the page is byte-identical to the CLI's output.
"""

from __future__ import annotations

from typing import Any

DOWNLOADS = ("json", "csv", "md")


def warm() -> None:
    """Import what `audit` needs (the import compiles them, ~0.1 s in the browser)."""
    import regaudit.audit  # noqa: F401
    import regaudit.render  # noqa: F401


def use_h5wasm(js_module: Any) -> None:
    """Read HDF5 through h5wasm (the JS module the worker registered)."""
    from regaudit.sources import hdf5
    from regaudit.sources.h5wasm_backend import H5wasmBackend

    hdf5.set_backend(H5wasmBackend(js_module))


def audit(path: str, name: str) -> dict[str, Any]:
    """`{"ok": True, "name", "html", "json", "csv", "md", "java"}` or `{"ok": False, "name",
    "error"}`. `java`: the fix the "Fix for DL4J" panel copies and downloads as
    `<name>.Fix.java` (what `regaudit fix FILE -o FILE.Fix.java` writes), or None."""
    from regaudit.audit import audit_path
    from regaudit.errors import RegauditError
    from regaudit.render import render
    from regaudit.render.java import page_java

    try:
        report = audit_path(path, display_name=name).to_dict()
        result: dict[str, Any] = {"ok": True, "name": name, "html": render(report, "html")}
        for fmt in DOWNLOADS:
            result[fmt] = render(report, fmt)  # what the CLI writes for one file
        result["java"] = page_java(report)
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
