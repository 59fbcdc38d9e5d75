// The module Web Worker: boots Pyodide and h5wasm in parallel, installs the regaudit wheel with
// micropip (from this origin), imports app.py, then audits files one at a time.
//
// Messages in:  {type: "audit", id, file: File}
// Messages out: {type: "progress", text, step, steps, ms} | {type: "timing", stage, ms}
//               {type: "ready", ms} | {type: "boot-error", error}
//               {type: "started", id}
//               {type: "result", id, ok, name, html, json, csv, md} | {type: "result", id, ok: false, name, error}
//
// A picked File is mounted read-only (WORKERFS) at /input/<n>/<name> in Pyodide's file system
// and in h5wasm's, so Python and HDF5 read it lazily, in place: it is never copied whole.

import { makeH5Api, mountFile, unmountFile } from "./h5.js";

const ROOT = new URL("../", import.meta.url);
const url = (path) => new URL(path, ROOT).href;
const STEPS = 5;
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

async function bootPython(manifestPromise) {
  const { loadPyodide } = await import(url("vendor/pyodide/pyodide.mjs"));
  const pyodide = await loadPyodide({
    indexURL: url("vendor/pyodide/"),
    stdout: (line) => console.log(line),
    stderr: (line) => console.warn(line),
  });
  postMessage({ type: "timing", stage: "pyodide", ms: Math.round(performance.now() - started) });
  progress("Python is running; installing micropip…");
  const manifest = await manifestPromise;
  await pyodide.loadPackage(url(manifest.wheels.micropip), { messageCallback: () => {} });
  progress("Installing regaudit…");
  const micropip = pyodide.pyimport("micropip");
  await micropip.install(url(manifest.wheels.regaudit), { deps: false });
  micropip.destroy();
  return pyodide;
}

async function bootHdf5() {
  const mod = await import(url("vendor/h5wasm/hdf5_hl.js"));
  const h5wasm = mod.default;
  const Module = await h5wasm.ready;
  postMessage({ type: "timing", stage: "h5wasm", ms: Math.round(performance.now() - started) });
  return { h5wasm, Module };
}

async function boot() {
  progress("Loading Python (Pyodide) and the HDF5 reader (h5wasm)…");
  const manifest = fetchOk("build.json").then((r) => r.json());
  manifest.catch(() => {}); // awaited (and reported) in bootPython
  const [pyodide, hdf5, appSource] = await Promise.all([
    bootPython(manifest),
    bootHdf5(),
    fetchOk("app.py").then((r) => r.text()),
  ]);
  progress("Starting regaudit…");
  const api = makeH5Api(hdf5.h5wasm, hdf5.Module);
  pyodide.registerJsModule("regaudit_h5", api);
  pyodide.FS.mkdirTree("/app");
  pyodide.FS.writeFile("/app/app.py", appSource);
  pyodide.runPython("import sys\nif '/app' not in sys.path: sys.path.insert(0, '/app')");
  const app = pyodide.pyimport("app");
  app.use_h5wasm(pyodide.pyimport("regaudit_h5"));
  return { pyodide, FS: hdf5.Module.FS, app };
}

const ready = boot();
ready.then(
  () => postMessage({ type: "ready", ms: Math.round(performance.now() - started) }),
  (e) => {
    console.warn("regaudit: boot failed:", e);
    postMessage({ type: "boot-error", error: String((e && e.message) || e) });
  },
);

let mounts = 0;

async function audit(id, file) {
  const { pyodide, FS, app } = await ready;
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
