// The module Web Worker: boots Pyodide, installs the regaudit wheel (fetched from this origin
// while Pyodide boots), imports app.py, posts `ready`, then loads h5wasm; audits files one at a
// time (the first waits for h5wasm if it is still loading).
//
// Messages in:  {type: "audit", id, file: File}
// Messages out: {type: "progress", text, step, steps, ms} | {type: "timing", stage, ms}
//               {type: "ready", ms} | {type: "boot-error", error}
//               {type: "started", id}
//               {type: "result", id, ok, name, html, json, csv, md, java} | {type: "result", id, ok: false, name, error}
//
// A picked File is mounted read-only (WORKERFS) at /input/<n>/<name> in Pyodide's file system
// and in h5wasm's, so Python and HDF5 read it lazily, in place: it is never copied whole.

const ROOT = new URL("../", import.meta.url);
const url = (path) => new URL(path, ROOT).href;
const STEPS = 4;
const started = performance.now();
let step = 0;

function progress(text) {
  step += 1;
  const ms = Math.round(performance.now() - started);
  postMessage({ type: "progress", text, step, steps: STEPS, ms });
}

async function fetchOk(path) {
  const response = await fetch(url(path));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

function timing(stage) {
  postMessage({ type: "timing", stage, ms: Math.round(performance.now() - started) });
}

async function bootPython(wheelPromise, appPromise) {
  const { loadPyodide } = await import(url("vendor/pyodide/pyodide.mjs"));
  const pyodide = await loadPyodide({
    indexURL: url("vendor/pyodide/"),
    stdout: (line) => console.log(line),
    stderr: (line) => console.warn(line),
  });
  timing("pyodide");
  progress("Python is running; installing regaudit…");
  // The wheel and app.py were fetched while Pyodide booted. A pure-Python wheel is a zip:
  // unpacked next to app.py, it is installed (micropip would add ~0.3 s of its own boot).
  const [wheel, appSource] = await Promise.all([wheelPromise, appPromise]);
  pyodide.FS.mkdirTree("/app");
  pyodide.unpackArchive(wheel, "wheel", { extractDir: "/app" });
  pyodide.FS.writeFile("/app/app.py", appSource);
  pyodide.runPython("import sys\nif '/app' not in sys.path: sys.path.insert(0, '/app')");
  timing("wheel");
  progress("Starting regaudit…");
  const app = pyodide.pyimport("app");
  timing("app");
  return { pyodide, app };
}

async function bootHdf5() {
  const [{ default: h5wasm }, h5] = await Promise.all([
    import(url("vendor/h5wasm/hdf5_hl.js")),
    import("./h5.js"),
  ]);
  const Module = await h5wasm.ready;
  timing("h5wasm");
  return { h5wasm, Module, h5 };
}

function boot() {
  progress("Loading Python (Pyodide)…");
  // Python's files, the wheel and app.py are requested at once; "ready" waits for them only.
  // h5wasm (4 MB of JS with its wasm inlined) starts loading when Python is up: loaded
  // alongside, it competed with Pyodide's own compile for the CPU and delayed "ready" by ~10%.
  // An audit waits for it (a file is rarely picked in the moment after "ready").
  const manifest = fetchOk("build.json").then((r) => r.json());
  const wheel = manifest.then((m) => fetchOk(m.wheels.regaudit)).then((r) => r.arrayBuffer());
  const appSource = fetchOk("app.py").then((r) => r.text());
  wheel.catch(() => {}); // awaited (and reported) in bootPython
  appSource.catch(() => {});
  const python = bootPython(wheel, appSource);
  const hdf5 = python.then(async ({ pyodide, app }) => {
    const { h5wasm, Module, h5 } = await bootHdf5();
    pyodide.registerJsModule("regaudit_h5", h5.makeH5Api(h5wasm, Module));
    app.use_h5wasm(pyodide.pyimport("regaudit_h5"));
    timing("hdf5");
    return { FS: Module.FS, mountFile: h5.mountFile, unmountFile: h5.unmountFile };
  });
  return { python, hdf5 };
}

const { python: ready, hdf5: hdf5Ready } = boot();
const bootFailed = (e) => {
  console.warn("regaudit: boot failed:", e);
  postMessage({ type: "boot-error", error: String((e && e.message) || e) });
};
ready.then(({ app }) => {
  postMessage({ type: "ready", ms: Math.round(performance.now() - started) });
  setTimeout(() => {
    app.warm(); // an audit that arrives meanwhile runs right after it
    timing("warm");
  }, 0);
}, bootFailed);
hdf5Ready.catch((e) => ready.then(() => bootFailed(e), () => {})); // one report per failure

let mounts = 0;

async function audit(id, file) {
  const { pyodide, app } = await ready;
  const { FS, mountFile, unmountFile } = await hdf5Ready;
  postMessage({ type: "started", id });
  const dir = `/input/${++mounts}`;
  let result;
  // The name in the file systems; the report keeps the real one.
  const plain = file.name && file.name !== "." && file.name !== ".." && !file.name.includes("/");
  const name = plain ? file.name : "file";
  try {
    const path = mountFile(pyodide.FS, dir, file, name);
    mountFile(FS, dir, file, name);
    const proxy = app.audit(path, file.name);
    try {
      result = proxy.toJs({ dict_converter: Object.fromEntries });
    } finally {
      proxy.destroy();
    }
  } catch (e) {
    console.warn("regaudit: audit failed:", e);
    result = { ok: false, name: file.name, error: "Internal error: regaudit could not audit this file." };
  } finally {
    unmountFile(FS, dir);
    unmountFile(pyodide.FS, dir);
  }
  postMessage({ type: "result", id, ...result });
}

// Files arrive at any time, also during boot; they are audited in order, one at a time.
let queue = Promise.resolve();
self.onmessage = (event) => {
  const msg = event.data;
  if (msg && msg.type === "audit") {
    queue = queue.then(() => audit(msg.id, msg.file)).catch(() => {});
  }
};
