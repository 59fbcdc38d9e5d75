// The module worker: starts Python (Pyodide) with regaudit imported, and h5wasm beside it;
// then audits files one at a time.
//
// The page starts it as a SharedWorker with Chromium's `extendedLifetime` when it can (see
// main.js): then one booted Python serves every tab of the site, and it outlives a navigation,
// so a reload or a revisit joins the running Python instead of booting another (its "ready"
// says boot: "running"). Elsewhere it is a dedicated Worker, one per page. Each page is a
// client: boot messages go to every client, an audit's messages to the page that asked.
//
// Python starts from the memory snapshot build.py made (snapshot.mjs): a Pyodide that has
// already booted and imported regaudit, restored in one copy. When the snapshot cannot be used
// (missing, damaged: its size and SHA-256 are in build.json; or made by another Pyodide build,
// which Pyodide itself refuses), Python boots afresh instead: Pyodide, then the regaudit wheel
// unpacked and app imported. h5wasm loads at the same time; "ready" means both are up and a
// bundled example has been audited once (see boot), so the first file waits for nothing.
//
// Messages in:  {type: "audit", id, file: File, importer: profile name | null (the default)}
//               {type: "leave"} (the page unloads: its files still waiting are dropped)
// Messages out: {type: "progress", text, step, steps, ms} | {type: "timing", stage, ms}
//               {type: "ready", ms, boot: "snapshot" | "fresh" | "running"} | {type: "boot-error", error}
//               {type: "warning", text} (a shared worker's; see warn)
//               {type: "started", id}
//               {type: "result", id, ok: true, name, importer, html} (the table, shown at once)
//               then {type: "complete", id, releases, fix, java, json, csv, md} | {type: "complete", id, error}
//               | {type: "result", id, ok: false, name, error} (no "complete" follows)
//
// A picked File is mounted read-only (WORKERFS) at /input/<n>/<name> in Pyodide's file system
// and in h5wasm's, so Python and HDF5 read it lazily, in place: it is never copied whole.

import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";

const ROOT = new URL("../", import.meta.url);
const url = (path) => new URL(path, ROOT).href;
const SNAPSHOT = "regaudit.snapshot"; // written by build.py, described in build.json
const WARM_UP = "static/examples/conv.h5"; // audited once before "ready" (see boot)
const started = performance.now();
const shared = typeof SharedWorkerGlobalScope === "function" && self instanceof SharedWorkerGlobalScope;
const since = () => Math.round(performance.now() - started);

// The pages that have connected while Python boots; each is sent the boot's messages. Once
// the boot has ended, a page that connects is told at once (see serve).
const clients = new Set();
let bootEnd = null; // the "ready" or "boot-error" message, once the boot has ended
function broadcast(message) {
  for (const client of clients) client.postMessage(message);
}

// A warning on the console; a shared worker's console is not its pages' (DevTools shows it under
// chrome://inspect), so it is also sent to them (main.js logs it).
function warn(text) {
  console.warn(text);
  if (shared) broadcast({ type: "warning", text });
}

function timing(stage) {
  broadcast({ type: "timing", stage, ms: since() });
}

// Progress: the boot's parts run at the same time and finish in any order. Each "progress"
// message says how many are done (step - 1 of steps) and what is still running.
const running = new Map(); // part -> what it is doing, as shown
const later = new Set(); // names of parts that have yet to start
let done = 0;
function progress() {
  const doing = [...running.values()].join(", ") || "starting";
  const text = `${doing.charAt(0).toUpperCase()}${doing.slice(1)}…`;
  const steps = done + running.size + later.size;
  lastProgress = { type: "progress", text, step: done + 1, steps, ms: since() };
  broadcast(lastProgress);
}
let lastProgress = null; // for a page that connects during the boot

// One part of the boot: `work()` is a promise; its end is a step (and a named timing).
async function step(name, text, work) {
  const part = Symbol(name);
  later.delete(name);
  running.set(part, text);
  progress();
  try {
    const result = await work();
    done += 1;
    timing(name);
    return result;
  } finally {
    running.delete(part);
    progress();
  }
}

async function fetchOk(path) {
  const response = await fetch(url(path));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

const pyodideOptions = {
  indexURL: url("vendor/pyodide/"),
  stdout: (line) => console.log(line),
  stderr: (line) => console.warn(line),
};

// The snapshot's bytes, checked against build.json; rejects when there is none to use.
async function snapshotBytes(manifest) {
  const [info, response] = await Promise.all([manifest, fetch(url(SNAPSHOT))]);
  if (!info.snapshot) throw new Error("this build has none");
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== info.snapshot.bytes) {
    throw new Error(`${bytes.length} bytes, not ${info.snapshot.bytes}`);
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== info.snapshot.sha256) throw new Error("its SHA-256 is not the one in build.json");
  return unpackSnapshot(bytes);
}

// build.py stores the snapshot without its zero pages (pack_snapshot there has the layout):
// "RGSNAP01", the memory's size, the number of runs, each run's offset and length (u32 LE),
// then the runs' bytes. The memory is rebuilt here: a new buffer is zeros, the runs are copied in.
function unpackSnapshot(packed) {
  const magic = new TextDecoder().decode(packed.subarray(0, 8));
  if (magic !== "RGSNAP01") throw new Error("it is not a packed snapshot");
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const size = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  const memory = new Uint8Array(size);
  let at = 16 + 8 * count;
  for (let i = 0; i < count; i++) {
    const start = view.getUint32(16 + 8 * i, true);
    const length = view.getUint32(20 + 8 * i, true);
    if (start + length > size || at + length > packed.length) throw new Error("a run is out of bounds");
    memory.set(packed.subarray(at, at + length), start);
    at += length;
  }
  if (at !== packed.length) throw new Error("bytes are left over after its runs");
  return memory;
}

async function bootFromSnapshot(manifest) {
  const bytes = step("snapshot", "downloading Python with regaudit", () => snapshotBytes(manifest));
  bytes.catch(() => {}); // loadPyodide awaits it (and fails with it)
  const pyodide = await step("python", "starting Python", () =>
    loadPyodide({ ...pyodideOptions, _loadSnapshot: bytes }),
  );
  return { pyodide, app: pyodide.pyimport("app"), boot: "snapshot" }; // imported in the snapshot
}

async function bootFresh(manifest) {
  // The wheel and app.py are fetched while Pyodide boots. A pure-Python wheel is a zip:
  // unpacked next to app.py, it is installed (micropip would add ~0.3 s of its own boot).
  const files = step("wheel", "downloading regaudit", () =>
    Promise.all([
      manifest.then((m) => fetchOk(m.wheels.regaudit)).then((r) => r.arrayBuffer()),
      fetchOk("app.py").then((r) => r.text()),
    ]),
  );
  files.catch(() => {}); // awaited below
  later.add("app");
  const pyodide = await step("python", "starting Python", () =>
    loadPyodide(pyodideOptions),
  );
  const app = await step("app", "installing regaudit", async () => {
    const [wheel, appSource] = await files;
    pyodide.FS.mkdirTree("/app");
    pyodide.unpackArchive(wheel, "wheel", { extractDir: "/app" });
    pyodide.FS.writeFile("/app/app.py", appSource);
    pyodide.runPython("import sys\nif '/app' not in sys.path: sys.path.insert(0, '/app')");
    const module = pyodide.pyimport("app");
    module.warm();
    return module;
  });
  return { pyodide, app, boot: "fresh" };
}

async function bootPython(manifest) {
  try {
    return await bootFromSnapshot(manifest);
  } catch (e) {
    const why = e.message || e;
    warn(`regaudit: the Python snapshot cannot be used (${why}); starting Python afresh`);
    return await bootFresh(manifest);
  }
}

async function bootHdf5() {
  const [{ default: h5wasm }, h5] = await Promise.all([
    import(url("vendor/h5wasm/hdf5_hl.js")),
    import("./h5.js"),
  ]);
  return { h5wasm, Module: await h5wasm.ready, h5 };
}

async function boot() {
  const manifest = fetchOk("build.json").then((r) => r.json());
  manifest.catch(() => {}); // awaited (and reported) on the boot paths
  const hdf5 = step("hdf5", "loading the HDF5 reader", bootHdf5);
  hdf5.catch(() => {}); // awaited below, after Python
  later.add("warm"); // see below
  const example = fetchOk(WARM_UP).then((r) => r.blob());
  example.catch(() => {}); // a warm-up that cannot happen is skipped
  const { pyodide, app, boot: how } = await bootPython(manifest);
  const { h5wasm, Module, h5 } = await hdf5;
  const { api, jobs } = h5.makeH5Api(h5wasm, Module);
  pyodide.registerJsModule("regaudit_h5", api);
  app.use_h5wasm(pyodide.pyimport("regaudit_h5"));
  const { mountFile, unmountFile } = h5;
  const runtime = { pyodide, app, boot: how, FS: Module.FS, jobs, mountFile, unmountFile };
  // The first audit in a page is up to 5x slower than the next (wasm and JS compiled on first
  // use): one of a bundled example, before "ready", spares the visitor's first table that. Only
  // the table's part: the rest (app.finish) would add ~0.1 s to every boot, and comes after the
  // table anyway.
  await step("warm", "preparing the audit", async () => {
    await run(runtime, new File([await example], WARM_UP.split("/").pop()), null, () => {}, false);
  }).catch(() => {});
  return runtime;
}

const ready = boot();
ready.then(
  ({ boot: how }) => endBoot({ type: "ready", ms: since(), boot: how }),
  (e) => {
    warn(`regaudit: boot failed: ${(e && e.stack) || e}`);
    endBoot({ type: "boot-error", error: String((e && e.message) || e) });
    // A shared worker that cannot start must not outlive its pages: the next visit starts anew.
    if (shared) setTimeout(() => self.close(), 1000);
  },
);

function endBoot(message) {
  broadcast(message);
  clients.clear();
  bootEnd = message;
}

let mounts = 0;

const gone = new WeakSet(); // pages that have left (see serve): their waiting files are skipped

async function audit(client, id, file, importer) {
  const runtime = await ready;
  // A task boundary, so that a "leave" sent while the previous file was audited is seen first.
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (gone.has(client)) return;
  client.postMessage({ type: "started", id });
  const rest = await run(runtime, file, importer, (first) => client.postMessage({ type: "result", id, ...first }));
  if (rest) client.postMessage({ type: "complete", id, ...rest });
}

// One file through app.audit, then app.finish. `shown(result)` gets the table (or the error)
// the moment app.audit has it; the return is the rest (the "complete" message's fields), or
// null after an error. Python asks for weight sums synchronously, and a synchronous read of a
// File (FileReaderSync) is slow and leaves garbage behind; so a first pass notes the big tensors
// whose sums it needs (h5.js: jobs), they are read with the streams API, and a second pass makes
// the report with them. Files without such tensors (most) are audited once.
async function run({ pyodide, app, FS, jobs, mountFile, unmountFile }, file, importer, shown,
  finish = true) {
  const dir = `/input/${++mounts}`;
  const js = (proxy) => {
    try {
      return proxy.toJs({ dict_converter: Object.fromEntries });
    } finally {
      proxy.destroy();
    }
  };
  let first = null;
  let rest = null;
  // The name in the file systems; the report keeps the real one.
  const plain = file.name && file.name !== "." && file.name !== ".." && !file.name.includes("/");
  const name = plain ? file.name : "file";
  try {
    const path = mountFile(pyodide.FS, dir, file, name);
    mountFile(FS, dir, file, name);
    jobs.begin();
    let proxy = app.audit(path, file.name, importer);
    if (jobs.deferredAny()) {
      proxy.destroy();
      const read = await jobs.readDeferred();
      console.debug(`regaudit: ${read} big tensor(s) of ${file.name} read with the streams API`);
      proxy = app.audit(path, file.name, importer);
    }
    first = js(proxy);
    shown(first);
    if (first.ok && finish) rest = js(app.finish());
  } catch (e) {
    console.warn("regaudit: audit failed:", e); // the page says "Internal error"
    const error = "Internal error: regaudit could not audit this file.";
    if (!first) shown({ ok: false, name: file.name, error });
    else if (first.ok) rest = { error }; // the table stands; the rest is missing
  } finally {
    jobs.end();
    unmountFile(FS, dir);
    unmountFile(pyodide.FS, dir);
  }
  return rest;
}

// Files arrive at any time, also during boot, from any page; they are audited in order, one at
// a time, and each page hears only of its own.
let queue = Promise.resolve();
function serve(client) {
  client.onmessage = (event) => {
    const msg = event.data;
    if (msg && msg.type === "audit") {
      queue = queue.then(() => audit(client, msg.id, msg.file, msg.importer)).catch(() => {});
    } else if (msg && msg.type === "leave") {
      gone.add(client);
    }
  };
  if (bootEnd) {
    client.postMessage(bootEnd.type === "ready" ? { ...bootEnd, ms: 0, boot: "running" } : bootEnd);
  } else {
    clients.add(client);
    if (lastProgress) client.postMessage(lastProgress);
  }
}

if (shared) self.onconnect = (event) => serve(event.ports[0]);
else serve(self);
