// Makes the page's Python memory snapshot at build time (build.py runs it with Node):
//
//   node snapshot.mjs PYODIDE_DIR WHEEL APP_PY OUT
//
// It boots the pinned Pyodide (the npm package the page ships), installs the regaudit wheel and
// app.py as static/worker.js does, imports everything an audit needs (app.warm()) and writes
// Pyodide's memory snapshot: the wasm heap of a Python that has done all that. The page
// restores it instead of starting Python and importing regaudit, which is most of its boot.
// A snapshot only fits the exact Pyodide build that made it (Pyodide checks a build id), so
// build.py makes it with the same files it copies into dist/.

import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [pyodideDir, wheel, appPy, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node snapshot.mjs PYODIDE_DIR WHEEL APP_PY OUT");
  process.exit(2);
}
const { loadPyodide } = await import(pathToFileURL(`${pyodideDir}/pyodide.mjs`).href);
const pyodide = await loadPyodide({ indexURL: `${pyodideDir}/`, _makeSnapshot: true });
pyodide.FS.mkdirTree("/app");
pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: "/app" });
pyodide.FS.writeFile("/app/app.py", readFileSync(appPy));
// Only plain Python runs here: a JS object Python held would have to be serialized into the
// snapshot. The page registers h5wasm with Python after the restore.
pyodide.runPython(`
import sys
if "/app" not in sys.path:
    sys.path.insert(0, "/app")
import app
app.warm()
`);
writeFileSync(out, pyodide.makeMemorySnapshot());
